/* ner_actx.c - article context for the NER tagger (NER_F_ACTX): before an
 * article is tagged, one label-free pass over all its tokens collects, per
 * normalised word and per clitic-stripped stem, facts about every mention
 * (NER_ACTX_* bits and a mention count), and the facts become features of
 * every mention of the word.
 *
 * Why: the names the tagger misses are mostly missed at every mention (a
 * club, a company, a coach's bare surname). The prediction history
 * (ner_hist.c) passes on only what an earlier sentence found; a title before
 * one mention ("المدرب X") says something about the bare mentions too,
 * before, after, and whether or not the tagger found the first one. No
 * labels are read, so training computes the facts as run time does (over
 * the pseudo-article of the sentence, ner_train.c) and no jackknife is
 * needed.
 *
 * NER_F_TOPIC: the same pass counts the tokens of a small sports vocabulary;
 * from NER_TOPIC_MIN on, the article is about sport and every token gets
 * the topic bit (features conjoined with it: ner_model.c, topic_features),
 * so a city's name in a match report can be the club's.
 *
 * The table is bounded (NER_ACTX_CAP slots in the caller's scratch; once 3/4
 * full, new keys are not added: their mentions get no facts). */
#include <string.h>

#include "ner_internal.h"

#define STEM_SALT 0xac75u
#define BIGRAM_SALT 0xb16au

/* Trigger words, in ordinary spelling (normalised when hashed). A word of
 * the article is looked up as itself and as its clitic-stripped stem
 * (والرئيس -> رئيس), so the lists hold both the forms with and without
 * the article where they differ. */
static const char *const per_titles[] = {
    "الرئيس", "رئيس", "الرئيسة", "الوزير", "وزير", "الوزيرة", "الملك", "الملكة", "العاهل", "الأمير",
    "الأميرة", "الشيخ", "السلطان", "الإمام", "البابا", "الأمين", "المتحدث", "الناطق", "السفير", "النائب",
    "اللواء", "العميد", "العقيد", "المقدم", "الرائد", "النقيب", "الجنرال", "المشير", "الدكتور", "الدكتورة",
    "د", "السيد", "السيدة", "الأستاذ", "المهندس", "المحامي", "القاضي", "المستشار", "المدير", "مدير",
    "المدرب", "مدرب", "اللاعب", "لاعب", "النجم", "الفنان", "الفنانة", "المطرب", "المطربة", "الممثل",
    "الممثلة", "المخرج", "الكاتب", "الكاتبة", "الشاعر", "الصحفي", "الصحافي", "المراسل", "المرشح", "الزعيم",
    "زعيم", "القائد", "المبعوث", "الحاكم", "المفوض", "الباحث", "الخبير", "البروفيسور", "الحاخام",
    "المطران", "البطريرك", "الكاردينال", "العضو", "المحافظ", "عمدة", "المنسق", "الجندي", "المدعي",
    "الناشط", "الإعلامي", "المذيع", "المغني", "الحارس", "المهاجم", "المدافع", "الكابتن", "القس",
    "المفتي", "نجل", "شقيق", "زوجة", "الملياردير", "المواطن", "الشهيد", "الراحل", "الطبيب", "المفكر",
    "الروائي", "المؤرخ", "جلالة", "فخامة", "معالي", "سمو", "الحاج", "المستر", "مستر", "الأخ", NULL};
static const char *const loc_triggers[] = {
    "مدينة", "المدينة", "بلدة", "قرية", "محافظة", "ولاية", "إقليم", "منطقة", "مخيم", "العاصمة", "عاصمة",
    "جزيرة", "مطار", "ميناء", "حي", "ضاحية", "نهر", "بحر", "جبل", "سهل", "وادي", "صحراء", "خليج", "مضيق",
    "قضاء", "معبر", "مقاطعة", "إمارة", "شارع", "ساحة", "بحيرة", "ريف", "دولة", "مملكة", "جمهورية",
    "إمارة", "سلطنة", "شمال", "جنوب", "شرق", "غرب", "وسط", "أنحاء", "عموم", NULL};
static const char *const org_heads[] = {
    "وزارة", "منظمة", "هيئة", "حزب", "حركة", "وكالة", "صندوق", "مجلس", "جامعة", "نادي", "النادي",
    "فريق", "الفريق", "منتخب", "قوات", "شركة", "الشركة", "بنك", "مصرف", "اتحاد", "جمعية", "مؤسسة",
    "لجنة", "مفوضية", "محكمة", "جبهة", "تنظيم", "جماعة", "مركز", "معهد", "رابطة", "نقابة", "مجموعة",
    "تحالف", "ائتلاف", "مديرية", "غرفة", "بورصة", "صحيفة", "جريدة", "مجلة", "قناة", "إذاعة",
    "تلفزيون", "مستشفى", "متحف", "أكاديمية", "كلية", "بلدية", "مجمع", "شبكة", "مرصد", "محطة",
    "منتدى", "مصنع", "مجموعة", "مكتب", NULL};
/* NER_F_TOPIC: words that are frequent in reports of matches and rare
 * elsewhere. Words with a common sense outside sport (الحكم، الدفاع، الهجوم،
 * القدم، جولة) are left out: the count must stay low in a political
 * article. */
static const char *const sport_words[] = {
    "مباراة", "مباريات", "المباراة", "دوري", "الدوري", "هدف", "أهداف", "هدفين", "هداف", "الهداف",
    "فريق", "فريقين", "لاعب", "لاعبين", "لاعبا", "منتخب", "المنتخب", "منتخبات", "بطولة", "بطولات",
    "كأس", "الكأس", "ملعب", "ملاعب", "مدرب", "المدرب", "نادي", "النادي", "أندية", "فوز", "الفوز",
    "تعادل", "التعادل", "شوط", "الشوط", "مرمى", "حارس", "مهاجم", "ركلة", "ركلات",
    "تسديدة", "ركنية", "تسلل", "مونديال", "المونديال", "موسم", "الموسم", "تصفيات", "التصفيات",
    "تأهل", "التأهل", "كرة", "الكرة", "الكروي", "رياضي", "الرياضي", "رياضة",
    "الرياضة", "مسابقة", "أولمبياد", "الأولمبية", "ميدالية", "الفيفا", "محترف", "الاحتراف", NULL};
static const char *const place_preps[] = {"في", "من", "إلى", "الى", NULL};
static const char *const bin_words[] = {"بن", "ابن", "بنت", NULL};

static size_t trig_slot(const ner_model *m, uint32_t key) { return ner_probe(m->trig_key, NER_TRIG_CAP, key); }

static void trig_list(ner_model *m, const char *const *w, uint8_t bit)
{
    for (; *w; w++) {
        uint32_t key = ner_word_hash(*w, strlen(*w), NULL, NULL);
        if (!key)
            key = 1;
        size_t j = trig_slot(m, key);
        m->trig_key[j] = key;
        m->trig_val[j] |= bit;
    }
}

void ner_actx_triggers(ner_model *m)
{
    memset(m->trig_key, 0, sizeof m->trig_key);
    memset(m->trig_val, 0, sizeof m->trig_val);
    trig_list(m, per_titles, NER_TRIG_PER);
    trig_list(m, loc_triggers, NER_TRIG_LOC);
    trig_list(m, org_heads, NER_TRIG_ORG);
    trig_list(m, place_preps, NER_TRIG_PREP);
    trig_list(m, bin_words, NER_TRIG_BIN);
    trig_list(m, sport_words, NER_TRIG_SPORT);
}

static uint8_t trig_get(const ner_model *m, uint32_t key)
{
    if (!key)
        key = 1;
    size_t j = trig_slot(m, key);
    return m->trig_key[j] ? m->trig_val[j] : 0;
}

void ner_actx_reset(ner_actx *a)
{
    memset(a->key, 0, sizeof a->key);
    a->n = 0;
    a->sport = 0;
    ner_actx_sentence(a);
}

void ner_actx_sentence(ner_actx *a)
{
    a->prev_w = a->prev_s = NER_ACTX_NONE;
    a->prev_word = 0;
    a->prev_trig = 0;
    a->has_prev = 0;
}

static size_t actx_slot(const ner_actx *a, uint32_t key) { return ner_probe(a->key, NER_ACTX_CAP, key); }

/* The slot of key, added when new (NER_ACTX_NONE: the table is full). */
static unsigned actx_get_add(ner_actx *a, uint32_t key, uint32_t form)
{
    if (!key)
        key = 1;
    size_t j = actx_slot(a, key);
    if (!a->key[j]) {
        if ((a->n + 1) * 4 > NER_ACTX_CAP * 3)
            return NER_ACTX_NONE;
        a->key[j] = key;
        a->form[j] = form;
        a->bits[j] = 0;
        a->count[j] = 0;
        a->n++;
    }
    return (unsigned)j;
}

static void actx_or(ner_actx *a, unsigned j, uint8_t bits)
{
    if (j != NER_ACTX_NONE)
        a->bits[j] |= bits;
}

uint8_t ner_actx_trig(const ner_model *m, uint32_t word, uint32_t stem)
{
    const uint8_t tw = trig_get(m, word);
    return (uint8_t)(tw | trig_get(m, stem) | ((tw & NER_TRIG_BIN) ? NER_TRIG_WBIN : 0));
}

uint32_t ner_actx_stem_key(uint32_t stem) { return ner_mix(stem, STEM_SALT); }

void ner_actx_add_key(ner_actx *a, uint32_t word, uint32_t skey, uint8_t trig, int punct,
                      uint16_t *slot)
{
    if (punct) { /* punctuation cuts the context */
        ner_actx_sentence(a);
        if (slot)
            slot[0] = slot[1] = NER_ACTX_NONE;
        return;
    }
    a->sport += (trig & NER_TRIG_SPORT) != 0;
    unsigned jw = actx_get_add(a, word, 0);
    unsigned js = actx_get_add(a, skey, word);
    uint8_t bits = 0;
    if (a->has_prev) {
        if (a->prev_trig & NER_TRIG_PER)
            bits |= NER_ACTX_PER;
        if (a->prev_trig & NER_TRIG_LOC)
            bits |= NER_ACTX_LOC;
        if (a->prev_trig & NER_TRIG_ORG)
            bits |= NER_ACTX_ORG;
        if (a->prev_trig & NER_TRIG_PREP)
            bits |= NER_ACTX_PREP;
        if (trig & NER_TRIG_WBIN) {
            actx_or(a, a->prev_w, NER_ACTX_BIN);
            actx_or(a, a->prev_s, NER_ACTX_BIN);
        }
        /* a two-word sequence: facts of both words when it comes again */
        unsigned jb = actx_get_add(a, ner_mix(ner_mix(a->prev_word, word), BIGRAM_SALT), 0);
        if (jb != NER_ACTX_NONE && a->count[jb] < 255 && ++a->count[jb] == 2) {
            actx_or(a, a->prev_w, NER_ACTX_BIG1);
            actx_or(a, a->prev_s, NER_ACTX_BIG1);
            bits |= NER_ACTX_BIG2;
        }
    }
    if (jw != NER_ACTX_NONE) {
        a->bits[jw] |= bits;
        a->count[jw] += a->count[jw] < 255;
    }
    if (js != NER_ACTX_NONE) {
        a->bits[js] |= bits | (a->form[js] != word ? NER_ACTX_FORMS : 0);
        a->count[js] += a->count[js] < 255;
    }
    a->prev_w = jw;
    a->prev_s = js;
    a->prev_word = word;
    a->prev_trig = trig;
    a->has_prev = 1;
    if (slot) {
        slot[0] = (uint16_t)jw;
        slot[1] = (uint16_t)js;
    }
}

void ner_actx_add(ner_actx *a, const ner_model *m, uint32_t word, uint32_t stem, int punct)
{
    if (punct)
        ner_actx_add_key(a, word, 0, 0, 1, NULL);
    else
        ner_actx_add_key(a, word, ner_actx_stem_key(stem), ner_actx_trig(m, word, stem), 0, NULL);
}

void ner_actx_add_sentence(ner_actx *a, const ner_model *m, const ner_tokdesc *d, size_t n)
{
    ner_actx_sentence(a);
    for (size_t i = 0; i < n; i++)
        ner_actx_add(a, m, d[i].word, d[i].stem, d[i].punct);
}

static inline unsigned count_bucket(unsigned c)
{
    return c >= 4 ? 3 : (0x2210u >> (4 * c)) & 3u; /* 0 none, 1 once, 2 2-3, 3 >= 4 */
}

void ner_actx_mark(const ner_actx *a, size_t n, ner_tokdesc *d)
{
    const uint8_t sport = a->sport >= NER_TOPIC_MIN;
    for (size_t i = 0; i < n; i++) {
        d[i].actx = d[i].actx_stem = 0;
        d[i].actx_cnt = d[i].actx_scnt = 0;
        d[i].topic = sport;
        if (d[i].punct)
            continue;
        uint32_t kw = d[i].word ? d[i].word : 1, ks = ner_mix(d[i].stem, STEM_SALT);
        ks = ks ? ks : 1;
        size_t j = actx_slot(a, kw);
        if (a->key[j]) {
            d[i].actx = a->bits[j] & (uint8_t)~NER_ACTX_FORMS;
            d[i].actx_cnt = count_bucket(a->count[j]) & 3u;
        }
        j = actx_slot(a, ks);
        if (a->key[j]) {
            d[i].actx_stem = a->bits[j];
            d[i].actx_scnt = count_bucket(a->count[j]) & 3u;
        }
    }
}

void ner_actx_mark_slots(const ner_actx *a, size_t n, const uint16_t *slot, ner_tokdesc *d)
{
    const uint8_t sport = a->sport >= NER_TOPIC_MIN;
    for (size_t i = 0; i < n; i++) {
        /* a slot never moves: the one the key was found or added at */
        const unsigned jw = slot[2 * i], js = slot[2 * i + 1];
        uint8_t bw = 0, bs = 0;
        unsigned cw = 0, cs = 0;
        if (jw != NER_ACTX_NONE) {
            bw = a->bits[jw] & (uint8_t)~NER_ACTX_FORMS;
            cw = count_bucket(a->count[jw]);
        }
        if (js != NER_ACTX_NONE) {
            bs = a->bits[js];
            cs = count_bucket(a->count[js]);
        }
        ner_tokdesc *t = &d[i];
        t->actx = bw;
        t->actx_stem = bs;
        t->actx_cnt = cw & 3u;
        t->actx_scnt = cs & 3u;
        t->topic = sport;
    }
}
