/* analyze.c - one pass of lexicon and model scoring over a text.
 *
 * The text is tokenised in chunks of at most CHUNK bytes (cut at a space),
 * so the token array stays bounded whatever the article size. Each word is
 * normalised into a stack buffer and looked up:
 *   1. the word as is, then with proclitics stripped (longest strip first,
 *      nahr_ar_proclitic_splits, as the entities plugin does), each
 *      candidate extended to the longest lexicon phrase starting there;
 *   2. failing that, the word and its longest strip with a plural suffix
 *      removed (ات ون ين, >= 4 letters left) or the tanween alef (ا, >= 3).
 * Negators flip (and damp by NEG_DAMP) the first polar word in the next
 * negation_window words, until punctuation. Modifiers multiply the polar
 * word just before them (within 2 words) or else the next one.
 *
 * Scores (documented in docs/sentiment.md):
 *   lexicon  = (P - N) / (P + N + 1 + beta * words)     in (-1, 1)
 *   model    = p(positive) - p(negative) per sentence; a text: word-weighted mean
 *   combined = (1 - w) * lexicon + w * model              (w = model_weight)
 *   label    = positive if combined >= band, negative if <= -band, else neutral
 */
#include "senti.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK (256u * 1024u)
#define WORD_MAX 255
#define NEG_DAMP 0.8
#define MOD_REACH 2

void senti_worker_free(senti_worker *w)
{
    if (!w)
        return;
    free(w->toks);
    free(w->sents);
    w->toks = NULL;
    w->sents = NULL;
    w->tok_cap = w->sent_cap = 0;
}

int senti_label_of(const senti_config *cfg, double score)
{
    if (score >= cfg->neutral_band && score > 0)
        return SENTI_POS;
    if (score <= -cfg->neutral_band && score < 0)
        return SENTI_NEG;
    return SENTI_NEU;
}

double senti_combine(const senti_config *cfg, double pos, double neg, uint32_t nwords,
                     int has_model, double mscore, double *lex_score)
{
    double lex = (pos - neg) / (pos + neg + 1.0 + cfg->length_damping * nwords);
    double score = lex;
    if (cfg->model && has_model)
        score = (1.0 - cfg->model_weight) * lex + cfg->model_weight * mscore;
    if (score > 1)
        score = 1;
    if (score < -1)
        score = -1;
    if (lex_score)
        *lex_score = lex;
    return score;
}

/* ---- lexicon matching ---- */

/* Plural/feminine suffixes tried when nothing else matched. Only these:
 * pronoun suffixes and ه/ي collide with too many unrelated stems
 * (نسبة -> نسب, الذي -> الذ, مهرجان -> مهرج). */
static const char *const suffixes[] = {
    "\xd8\xa7\xd8\xaa", /* ات */
    "\xd9\x88\xd9\x86", /* ون */
    "\xd9\x8a\xd9\x86", /* ين */
    "\xd8\xa7",         /* ا (tanween al-fath: نجاحا, جيدا) */
};
static const unsigned char suffix_len[] = {4, 4, 4, 2};
static const unsigned char suffix_min_stem[] = {8, 8, 8, 6}; /* bytes left: 4, 4, 4, 3 letters */

typedef struct scan {
    const char *text; /* chunk */
    const nahr_token *toks;
    size_t ntok;
    int chunk_cut; /* 1 when more text follows this chunk */
} scan;

/* nahr_ar_normalize() with an inline fast path for the common case: ASCII
 * and the two-byte Arabic block U+0600..U+067F, mapped exactly as text.h
 * documents (أ إ آ -> ا, ى ئ -> ي, ة -> ه, ؤ -> و, tashkeel and tatweel
 * dropped, Arabic-Indic digits -> ASCII, A-Z lowered). Anything else
 * (other scripts, Persian letters, invalid bytes) goes through the shared
 * normaliser for the whole word, so the result is always identical. */
size_t senti_normalize(const char *s, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char b = (unsigned char)s[i];
        if (b < 0x80) {
            out[o++] = (char)(b >= 'A' && b <= 'Z' ? b + 32 : b);
            continue;
        }
        if ((b != 0xD8 && b != 0xD9) || i + 1 >= len || ((unsigned char)s[i + 1] & 0xC0) != 0x80)
            return nahr_ar_normalize(s, len, out, NULL);
        unsigned char c = (unsigned char)s[i + 1];
        uint32_t cp = (b == 0xD8 ? 0x600u : 0x640u) + (uint32_t)(c - 0x80);
        i++;
        switch (cp) {
        case 0x622: case 0x623: case 0x625: cp = 0x627; break;
        case 0x649: case 0x626: cp = 0x64A; break;
        case 0x629: cp = 0x647; break;
        case 0x624: cp = 0x648; break;
        case 0x640: continue;
        case 0x671: return nahr_ar_normalize(s, len, out, NULL);
        default:
            if ((cp >= 0x64B && cp <= 0x65F) || cp == 0x670)
                continue;
            if (cp >= 0x660 && cp <= 0x669) {
                out[o++] = (char)('0' + (cp - 0x660));
                continue;
            }
            break;
        }
        out[o++] = (char)(0xC0 | (cp >> 6));
        out[o++] = (char)(0x80 | (cp & 0x3F));
    }
    out[o] = '\0';
    return o;
}

static size_t norm_token(const char *text, const nahr_token *t, char *out)
{
    size_t len = t->end - t->start;
    if (len > WORD_MAX)
        len = WORD_MAX;
    return senti_normalize(text + t->start, len, out);
}

static int is_wordish(const nahr_token *t)
{
    return t->kind == NAHR_TOK_WORD || t->kind == NAHR_TOK_LATIN;
}

/* Longest phrase starting with key (a candidate stem of token i). Returns the
 * entry (kind != 0) and sets *consumed, or NULL. */
static const senti_entry *match_from(const senti_lexicon *lx, const scan *sc, size_t i,
                                     const char *stem, size_t slen, size_t *consumed)
{
    const senti_entry *e = senti_lexicon_get(lx, stem, slen);
    if (!e)
        return NULL;
    const senti_entry *best = e->kind ? e : NULL;
    *consumed = 1;
    if (!e->prefix)
        return best;
    char key[4 * (WORD_MAX + 1)];
    size_t klen = slen;
    memcpy(key, stem, slen);
    for (size_t j = i + 1, words = 1; j < sc->ntok && (int)words < lx->max_words; j++, words++) {
        if (!is_wordish(&sc->toks[j]) || (sc->toks[j - 1].flags & NAHR_TOK_SENT_END))
            break;
        if (klen + 1 + WORD_MAX + 1 > sizeof key)
            break;
        key[klen++] = ' ';
        klen += norm_token(sc->text, &sc->toks[j], key + klen);
        const senti_entry *p = senti_lexicon_get(lx, key, klen);
        if (!p)
            break;
        if (p->kind) {
            best = p;
            *consumed = j - i + 1;
        }
        if (!p->prefix)
            break;
    }
    return best;
}

static const senti_entry *lookup_word(const senti_lexicon *lx, const scan *sc, size_t i,
                                      const char *w, size_t n, size_t *consumed, size_t *strip)
{
    size_t splits[8];
    size_t ns = nahr_ar_proclitic_splits(w, n, splits, 8);
    if (ns == 0) {
        splits[0] = 0;
        ns = 1;
    }
    /* order: as is, then longest strip first */
    size_t order[8], no = 0;
    order[no++] = 0;
    for (size_t k = ns; k-- > 0;)
        if (splits[k] != 0)
            order[no++] = splits[k];
    for (size_t k = 0; k < no; k++) {
        const senti_entry *e = match_from(lx, sc, i, w + order[k], n - order[k], consumed);
        if (e) {
            *strip = order[k];
            return e;
        }
    }
    /* suffix fallback on the word and its longest strip */
    for (size_t k = 0; k < no && k < 2; k++) {
        const char *s = w + order[k];
        size_t sl = n - order[k];
        for (size_t x = 0; x < sizeof suffixes / sizeof suffixes[0]; x++) {
            size_t xl = suffix_len[x];
            if (sl < xl + suffix_min_stem[x] || s[sl - 1] != suffixes[x][xl - 1] ||
                memcmp(s + sl - xl, suffixes[x], xl) != 0)
                continue;
            const senti_entry *e = senti_lexicon_get(lx, s, sl - xl);
            if (e && e->kind) {
                *consumed = 1;
                *strip = order[k];
                return e;
            }
        }
    }
    return NULL;
}

/* ---- the pass ---- */

typedef struct pass {
    const senti_config *cfg;
    senti_worker *w;
    size_t nsent;
    int need_new;
    /* scopes, in words counted over the whole text */
    uint64_t word_idx;
    int neg_left;
    double last_val;
    uint64_t last_word;
    int last_valid, last_modified;
    double pending_mult;
    uint64_t pending_word;
    uint64_t prev_uni;
    size_t skip_until; /* token index (in chunk) up to which lexicon lookups are skipped */
    size_t nhits;
} pass;

static int grow_sents(senti_worker *w)
{
    size_t ncap = w->sent_cap ? w->sent_cap * 2 : 64;
    if (ncap > SENTI_MAX_SENTENCES)
        ncap = SENTI_MAX_SENTENCES;
    senti_sentence *ns = realloc(w->sents, ncap * sizeof *ns);
    if (!ns)
        return NAHR_ENOMEM;
    w->sents = ns;
    w->sent_cap = ncap;
    return NAHR_OK;
}

static void add_polar(pass *p, senti_sentence *s, double v)
{
    if (p->pending_mult > 0 && p->word_idx - p->pending_word <= MOD_REACH) {
        v *= p->pending_mult;
        p->pending_mult = 0;
        p->last_modified = 1;
    } else {
        p->last_modified = 0;
    }
    if (p->neg_left > 0) {
        v = -v * NEG_DAMP;
        p->neg_left = 0;
    }
    if (v > 0)
        s->pos += v;
    else
        s->neg -= v;
    p->last_val = v;
    p->last_word = p->word_idx;
    p->last_valid = 1;
    p->nhits++;
}

static void add_modifier(pass *p, senti_sentence *s, double m)
{
    if (p->last_valid && !p->last_modified && p->word_idx - p->last_word <= MOD_REACH) {
        double delta = p->last_val * (m - 1.0);
        if (p->last_val > 0)
            s->pos += delta;
        else
            s->neg -= delta;
        p->last_val += delta;
        p->last_modified = 1;
        return;
    }
    p->pending_mult = m;
    p->pending_word = p->word_idx;
}

/* Words after which a negator is not a negation: لا/ما زال (still), ما دام
 * (as long as), لا سيما (especially), لا بد (must), غير أن (however). */
static const char *const neg_stops[] = {
    "\xd8\xb2\xd8\xa7\xd9\x84",                 /* زال */
    "\xd9\x8a\xd8\xb2\xd8\xa7\xd9\x84",         /* يزال */
    "\xd8\xaa\xd8\xb2\xd8\xa7\xd9\x84",         /* تزال */
    "\xd8\xb2\xd8\xa7\xd9\x84\xd8\xaa",         /* زالت */
    "\xd8\xb2\xd8\xa7\xd9\x84\xd9\x88\xd8\xa7", /* زالوا */
    "\xd9\x8a\xd8\xb2\xd8\xa7\xd9\x84\xd9\x88\xd9\x86", /* يزالون */
    "\xd8\xaf\xd8\xa7\xd9\x85",                 /* دام */
    "\xd8\xb3\xd9\x8a\xd9\x85\xd8\xa7",         /* سيما */
    "\xd8\xa8\xd8\xaf",                         /* بد */
    "\xd8\xa7\xd9\x86",                         /* ان (أن, إن) */
};

static int followed_by_stop(const scan *sc, size_t i)
{
    if (i + 1 >= sc->ntok || !is_wordish(&sc->toks[i + 1]))
        return 0;
    char nx[WORD_MAX + 1];
    size_t nl = norm_token(sc->text, &sc->toks[i + 1], nx);
    for (size_t k = 0; k < sizeof neg_stops / sizeof neg_stops[0]; k++)
        if (strlen(neg_stops[k]) == nl && memcmp(neg_stops[k], nx, nl) == 0)
            return 1;
    return 0;
}

/* "ما" negates only at the start of a sentence or clause, or after the
 * conjunction و/ف (وما), never in كما/بما/لما/مما (as, with what, when). */
static int ma_is_negator(const scan *sc, size_t i, const char *w, size_t strip, uint32_t word_in_sent)
{
    if (strip > 0)
        return strip == 2 && (memcmp(w, "\xd9\x88", 2) == 0 || memcmp(w, "\xd9\x81", 2) == 0);
    return word_in_sent == 0 || (i > 0 && sc->toks[i - 1].kind == NAHR_TOK_PUNCT);
}

static void do_token(pass *p, const scan *sc, size_t i, const char *chunk_base, size_t chunk_off)
{
    const nahr_token *t = &sc->toks[i];
    senti_worker *w = p->w;
    const senti_config *cfg = p->cfg;
    (void)chunk_base;
    if (p->need_new || p->nsent == 0) {
        if (p->nsent < w->sent_cap || (p->nsent < SENTI_MAX_SENTENCES && grow_sents(w) == NAHR_OK)) {
            senti_sentence *ns = &w->sents[p->nsent++];
            memset(ns, 0, sizeof *ns);
            ns->start = chunk_off + t->start;
        }
        p->need_new = 0;
        p->neg_left = 0;
        p->pending_mult = 0;
        p->last_valid = 0;
        p->prev_uni = 0;
    }
    if (p->nsent == 0)
        return; /* out of memory for the first sentence: nothing to score */
    senti_sentence *s = &w->sents[p->nsent - 1];
    s->end = chunk_off + t->end;
    /* the tokeniser marks the last token of a chunk as a sentence end; a
     * chunk cut (at a space) is not one unless the token is punctuation */
    if ((t->flags & NAHR_TOK_SENT_END) && !(sc->chunk_cut && i + 1 == sc->ntok && t->kind != NAHR_TOK_PUNCT))
        p->need_new = 1;

    char norm[WORD_MAX + 1];
    size_t nl;
    if (t->kind == NAHR_TOK_NUMBER) {
        norm[0] = '0';
        norm[1] = '\0';
        nl = 1;
    } else {
        nl = norm_token(sc->text, t, norm);
    }

    /* model features */
    const senti_featcfg *fc = cfg->model ? &cfg->model->fc : cfg->sink_fc;
    if (fc && nl) {
        uint32_t feats[SENTI_MAX_TOKEN_FEATURES];
        uint64_t uni = 0;
        size_t k = senti_token_features(fc, norm, nl, p->prev_uni, &uni, feats,
                                        SENTI_MAX_TOKEN_FEATURES);
        p->prev_uni = uni;
        if (cfg->model) {
            const float *wt = cfg->model->w;
            float a = 0, b = 0, c = 0;
            for (size_t f = 0; f < k; f++) {
                const float *r = wt + (size_t)feats[f] * 3;
                a += r[0];
                b += r[1];
                c += r[2];
            }
            s->sums[0] += a;
            s->sums[1] += b;
            s->sums[2] += c;
        } else if (cfg->feature_sink) {
            cfg->feature_sink(cfg->sink_arg, feats, k);
        }
        s->nfeat += (uint32_t)k;
    }

    if (t->kind == NAHR_TOK_PUNCT) {
        p->neg_left = 0;
        p->pending_mult = 0;
        return;
    }
    uint32_t word_in_sent = s->nwords;
    s->nwords++;
    p->word_idx++;
    if (t->kind == NAHR_TOK_NUMBER || i < p->skip_until || !nl) {
        if (p->neg_left > 0)
            p->neg_left--;
        return;
    }
    size_t consumed = 1, strip = 0;
    const senti_entry *e = lookup_word(cfg->lex, sc, i, norm, nl, &consumed, &strip);
    if (e && cfg->hit_counts)
        cfg->hit_counts[e - cfg->lex->slots]++;
    if (e && e->kind == SENTI_NEGATOR) {
        const char *key = cfg->lex->pool + e->key_off;
        int neg = !followed_by_stop(sc, i);
        if (neg && e->key_len == 4 && memcmp(key, "\xd9\x85\xd8\xa7", 4) == 0) /* ما */
            neg = ma_is_negator(sc, i, norm, strip, word_in_sent);
        if (neg && cfg->negation_window > 0) {
            p->neg_left = cfg->negation_window;
            return;
        }
    } else if (e && e->kind == SENTI_MODIFIER) {
        add_modifier(p, s, e->value);
    } else if (e && e->kind == SENTI_POLAR) {
        add_polar(p, s, e->value);
        if (consumed > 1)
            p->skip_until = i + consumed;
    }
    if (p->neg_left > 0)
        p->neg_left--;
}

int senti_analyze(const senti_config *cfg, senti_worker *w, const char *text, size_t n,
                  senti_result *out)
{
    memset(out, 0, sizeof *out);
    pass p;
    memset(&p, 0, sizeof p);
    p.cfg = cfg;
    p.w = w;
    size_t off = 0;
    while (off < n) {
        size_t end = n - off > CHUNK ? off + CHUNK : n;
        if (end < n) {
            /* cut after a space or newline in the second half of the chunk,
             * else at a UTF-8 boundary */
            size_t cut = end;
            while (cut > off + CHUNK / 2 && text[cut - 1] != ' ' && text[cut - 1] != '\n')
                cut--;
            if (cut == off + CHUNK / 2) {
                cut = end;
                while (cut > off + 1 && ((unsigned char)text[cut] & 0xC0) == 0x80)
                    cut--;
            }
            end = cut;
        }
        size_t ntok = nahr_tokenize(text + off, end - off, w->toks, w->tok_cap);
        if (ntok > w->tok_cap) {
            size_t ncap = ntok + ntok / 4 + 16;
            nahr_token *nt = realloc(w->toks, ncap * sizeof *nt);
            if (!nt)
                return NAHR_ENOMEM;
            w->toks = nt;
            w->tok_cap = ncap;
            ntok = nahr_tokenize(text + off, end - off, w->toks, w->tok_cap);
        }
        scan sc = {text + off, w->toks, ntok, end < n};
        p.skip_until = 0;
        for (size_t i = 0; i < ntok; i++)
            do_token(&p, &sc, i, text, off);
        if (p.nsent == 0 && ntok > 0)
            return NAHR_ENOMEM;
        off = end;
    }

    /* sentence and document scores. The model was trained on short texts
     * (tweets, sentences), so it scores each sentence; a longer text's model
     * score is the word-weighted mean of its sentences' scores. */
    double mw = 0, wsum = 0;
    for (size_t k = 0; k < p.nsent; k++) {
        senti_sentence *s = &w->sents[k];
        s->mscore = 0;
        if (cfg->model && s->nfeat) {
            double pr[SENTI_MAX_CLASSES];
            senti_model_probs(cfg->model, s->sums, s->nfeat, pr);
            s->mscore = pr[SENTI_POS] - pr[SENTI_NEG];
            double wt = s->nwords ? s->nwords : 1;
            mw += wt * s->mscore;
            wsum += wt;
        }
        s->score = senti_combine(cfg, s->pos, s->neg, s->nwords, s->nfeat > 0, s->mscore, NULL);
        s->label = senti_label_of(cfg, s->score);
        out->pos += s->pos;
        out->neg += s->neg;
        out->nwords += s->nwords;
    }
    out->model_score = wsum > 0 ? mw / wsum : 0;
    out->model_wsum = wsum;
    out->score = senti_combine(cfg, out->pos, out->neg, (uint32_t)out->nwords, wsum > 0,
                               out->model_score, &out->lex_score);
    out->label = senti_label_of(cfg, out->score);
    out->nhits = p.nhits;
    out->sents = w->sents;
    out->nsent = p.nsent;
    return NAHR_OK;
}
