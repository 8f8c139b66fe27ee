/* token.c - the shared Arabic-aware tokeniser and proclitic splitter.
 *
 * One pass over the text, no allocation. The caller's array receives at most
 * `max` tokens; the count of all tokens is returned so the caller can retry
 * with a bigger array. A token's SENT_END flag is set one step late, in the
 * array, because it depends on what follows it (a blank line, or another
 * sentence-final mark in a run like "؟!" or "...").
 */
#include "nahr/token.h"
#include "nahr/text.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

typedef enum {
    CC_SPACE,   /* produces no token */
    CC_NEWLINE, /* whitespace that counts towards a blank line */
    CC_IGNORE,  /* bidi controls: no token, do not split a word either */
    CC_ARABIC,  /* Arabic letter or mark */
    CC_LATIN,   /* Latin letter */
    CC_LETTER,  /* letter of another script */
    CC_DIGIT,
    CC_PUNCT
} char_class;

static int is_digit_cp(int32_t c)
{
    return (c >= '0' && c <= '9') || (c >= 0x0660 && c <= 0x0669) || (c >= 0x06F0 && c <= 0x06F9);
}

static int is_punct_cp(int32_t c)
{
    if (c < 0x80)
        return !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
    if (c <= 0xBF)
        return c != 0xAA && c != 0xB5 && c != 0xBA; /* ª µ º are letters */
    if (c == 0xD7 || c == 0xF7)
        return 1;
    /* Arabic punctuation and signs */
    if ((c >= 0x0600 && c <= 0x060F) || c == 0x061B || (c >= 0x061D && c <= 0x061F) ||
        (c >= 0x066A && c <= 0x066D) || c == 0x06D4 || c == 0x06DD || c == 0x06DE || c == 0x06E9 ||
        c == 0xFD3E || c == 0xFD3F)
        return 1;
    if (c >= 0x2010 && c <= 0x2BFF) /* general punctuation, currency, symbols, arrows */
        return 1;
    if ((c >= 0x3000 && c <= 0x303F) || (c >= 0xFE10 && c <= 0xFE1F) || (c >= 0xFE30 && c <= 0xFE6F) ||
        (c >= 0xFF01 && c <= 0xFF0F) || (c >= 0xFF1A && c <= 0xFF20) || (c >= 0xFF3B && c <= 0xFF40) ||
        (c >= 0xFF5B && c <= 0xFF65))
        return 1;
    if (c >= 0x1F000 && c <= 0x1FAFF) /* emoji, pictographs */
        return 1;
    if (c >= 0xE000 && c <= 0xF8FF) /* private use */
        return 1;
    if (c == 0xFFFD || c == 0xFEFF)
        return 1;
    return 0;
}

static char_class classify_slow(int32_t c)
{
    if (c < 0)
        return CC_PUNCT;
    if (c == '\n' || c == 0x2029 || c == 0x2028 || c == 0x85)
        return CC_NEWLINE;
    if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' || c == 0xA0 || c == 0x1680 ||
        (c >= 0x2000 && c <= 0x200A) || c == 0x202F || c == 0x205F || c == 0x3000)
        return CC_SPACE;
    if (c == 0x200B || c == 0x200C || c == 0x200D || c == 0x200E || c == 0x200F ||
        (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) || c == 0x061C || c == 0xFEFF)
        return CC_IGNORE;
    if (is_digit_cp(c))
        return CC_DIGIT;
    if (c >= 0x0600 && c <= 0x06FF)
        return (nahr_ar_is_letter(c) || nahr_ar_is_mark(c) || c == 0x0620) ? CC_ARABIC : CC_PUNCT;
    if ((c >= 0x0750 && c <= 0x077F) || (c >= 0x08A0 && c <= 0x08FF) || (c >= 0xFB50 && c <= 0xFDFF) ||
        (c >= 0xFE70 && c <= 0xFEFC))
        return is_punct_cp(c) ? CC_PUNCT : CC_ARABIC;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7) ||
        (c >= 0x1E00 && c <= 0x1EFF))
        return CC_LATIN;
    if (c >= 0x0300 && c <= 0x036F) /* combining marks: part of the word */
        return CC_LATIN;
    if (is_punct_cp(c))
        return CC_PUNCT;
    return CC_LETTER;
}

/* Classes of every code point below U+0800 (ASCII, Latin, the Arabic block),
 * filled once from classify_slow(): the tokeniser's hot path is one load. */
static uint8_t class_lo[0x800];
/* For the word loop, indexed by two bytes b0 | b1 << 8: 3 when they are the
 * UTF-8 of an Arabic letter in U+0600..U+067F (led by 0xD8 or 0xD9), 1 of an
 * Arabic mark or tatweel there, 0 for anything else (other code points, and
 * byte pairs that are not one whole two-byte character). */
static uint8_t ar_pair[65536];
static pthread_once_t class_once = PTHREAD_ONCE_INIT;

static void class_init(void)
{
    for (int32_t c = 0; c < 0x800; c++)
        class_lo[c] = (uint8_t)classify_slow(c);
    for (int32_t c = 0x600; c < 0x680; c++) {
        unsigned b0 = 0xC0u | (unsigned)(c >> 6), b1 = 0x80u | (unsigned)(c & 0x3F);
        ar_pair[b0 | b1 << 8] = (uint8_t)(class_lo[c] != CC_ARABIC ? 0 : nahr_ar_is_mark(c) ? 1 : 3);
    }
}

static inline char_class classify(int32_t c)
{
    if ((uint32_t)c < 0x800)
        return (char_class)class_lo[c];
    return classify_slow(c);
}

/* nahr_ar_is_mark(), inlined. */
static inline int is_mark(int32_t c)
{
    return (c >= 0x064B && c <= 0x065F) || c == 0x0670 || c == 0x0640;
}

static int is_sentence_final(int32_t c)
{
    return c == '.' || c == '!' || c == '?' || c == 0x061F || c == 0x2026 || c == 0x06D4 || c == 0x203C ||
           c == 0x2047 || c == 0x2048 || c == 0x2049;
}

/* Characters allowed inside a number between two digits. */
static int is_number_inner(int32_t c)
{
    return c == '.' || c == ',' || c == 0x066B || c == 0x066C;
}

/* nahr_utf8_next() with ASCII and two-byte sequences decoded inline. */
static inline int32_t peek(const char *str, size_t n, size_t i, size_t *next)
{
    const unsigned char *s = (const unsigned char *)str;
    unsigned c = s[i];
    if (c < 0x80) {
        *next = i + 1;
        return (int32_t)c;
    }
    if (c >= 0xC2 && c <= 0xDF && i + 1 < n && (s[i + 1] & 0xC0) == 0x80) {
        *next = i + 2;
        return (int32_t)(((c & 0x1Fu) << 6) | (s[i + 1] & 0x3Fu));
    }
    size_t j = i;
    int32_t cp = nahr_utf8_next(str, n, &j);
    *next = j;
    return cp;
}

#if defined(__SSE2__)
/* The first of the sixteen bytes u[i..i+16) that does not belong to a
 * two-byte character with ar_pair[] != 0 from i on, or 16. Those characters
 * are U+0620..U+065F (led by 0xD8 and a byte A0..BF, or 0xD9 and 80..9F) and
 * U+0670..U+067F (0xD9 and B0..BF); seen as eight little-endian 16-bit
 * lanes, lead | second << 8, each test is a mask and a compare. */
static inline unsigned ar_block_len(const unsigned char *p)
{
    const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    const __m128i d8 = _mm_cmpeq_epi16(_mm_and_si128(v, _mm_set1_epi16((short)0xE0FF)), _mm_set1_epi16((short)0xA0D8));
    const __m128i d9 = _mm_cmpeq_epi16(_mm_and_si128(v, _mm_set1_epi16((short)0xC0FF)), _mm_set1_epi16((short)0x80D9));
    const __m128i d9a = _mm_cmpeq_epi16(_mm_and_si128(v, _mm_set1_epi16((short)0xF0FF)), _mm_set1_epi16((short)0xA0D9));
    unsigned ok = (unsigned)_mm_movemask_epi8(_mm_or_si128(d8, _mm_andnot_si128(d9a, d9)));
    return (unsigned)__builtin_ctz(~ok); /* <= 16, even: a lane sets two bits */
}
#endif

/* Skips a run of two-byte Arabic letters and marks (U+0600..U+067F, CC_ARABIC)
 * from i and returns where it stops; *letters gets ar_pair[] of each character
 * or-ed in (> 1 when the run holds a letter). */
static inline size_t ar_run(const unsigned char *u, size_t n, size_t i, unsigned *letters)
{
    unsigned acc = *letters; /* 3: a letter is known already, no need to look */
#if defined(__SSE2__)
    /* sixteen bytes a step; the letter test afterwards stops at the first
     * letter, which most words start with */
    if (i + 16 <= n) {
        size_t from = i;
        unsigned k;
        do {
            k = ar_block_len(u + i);
            i += k;
        } while (k == 16 && i + 16 <= n);
        for (size_t j = from; j < i && acc < 3; j += 2)
            acc |= ar_pair[u[j] | (unsigned)u[j + 1] << 8];
        if (k < 16) {
            *letters |= acc;
            return i;
        }
    }
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* two characters a step while both are Arabic letters or marks */
    while (i + 4 <= n) {
        uint32_t v;
        memcpy(&v, u + i, 4);
        unsigned f1 = ar_pair[v & 0xFFFFu], f2 = ar_pair[v >> 16];
        if (!(f1 & f2)) { /* the flags are 0, 1 or 3: the and is 0 when one is 0 */
            /* the run ends here or after the first of the two */
            *letters |= acc | f1;
            return f1 ? i + 2 : i;
        }
        acc |= f1 | f2;
        i += 4;
    }
#endif
    while (i + 1 < n) {
        unsigned f = ar_pair[u[i] | (unsigned)u[i + 1] << 8];
        if (!f)
            break;
        acc |= f;
        i += 2;
    }
    *letters |= acc;
    return i;
}

/* After a run of ar_pair[] characters that started a word (CC_ARABIC) and
 * stops at e: 1 when the word ends there for sure, as scan_word() would
 * find: at the end of the text, at an ASCII byte, or at a whole two-byte
 * character whose class is not CC_ARABIC (an Arabic comma: the two-byte
 * CC_IGNORE character, U+061C, does not join a word either); 0 when
 * scan_word() must decide. */
static inline int ar_word_ends_at(const unsigned char *u, size_t n, size_t e)
{
    if (e >= n || u[e] < 0x80)
        return 1;
    unsigned c = u[e];
    return c >= 0xC2 && c <= 0xDF && e + 1 < n && (u[e + 1] & 0xC0) == 0x80 &&
           class_lo[((c & 0x1Fu) << 6) | (u[e + 1] & 0x3Fu)] != CC_ARABIC;
}

#if defined(__SSE2__)
/* The words of tokenize_scan()'s loop that follow, one space apart, a word
 * of ar_pair[] characters: each stored as the loop would, with no flags;
 * returns where the last one ends. Stops at the first that is not such a
 * word or that does not end for sure (the general path takes it from the
 * space), or 17 bytes before the end (the loop after this does the rest).
 * Apart from the loop so that its values stay in registers. */
static size_t more_ar_words(const unsigned char *u, size_t n, size_t next, nahr_token *toks, size_t max,
                            size_t *count)
{
    size_t c = *count;
    while (next + 17 <= n && u[next] == ' ') {
        size_t from = next + 1, end;
        unsigned letters = ar_pair[u[from] | (unsigned)u[from + 1] << 8];
        if (!letters)
            break;
        unsigned k = ar_block_len(u + from);
        end = from + k;
        if (k == 16)
            end = ar_run(u, n, end, &letters);
        if (!ar_word_ends_at(u, n, end))
            break;
        for (size_t j = from; j < end && letters < 3; j += 2) /* a run that starts with a mark */
            letters |= ar_pair[u[j] | (unsigned)u[j + 1] << 8];
        if (c < max) {
            nahr_token *t = &toks[c];
            memset(t, 0, sizeof *t); /* the padding too */
            t->start = from;
            t->end = end;
            t->kind = letters > 1 ? NAHR_TOK_WORD : NAHR_TOK_PUNCT;
        }
        c++;
        next = end;
    }
    *count = c;
    return next;
}
#endif

/* The rest of a word of class word_cc (CC_ARABIC or CC_LETTER) from i;
 * returns its end. *has_letter is set when an Arabic letter is seen. */
static size_t scan_word(const char *text, size_t n, size_t start, size_t i, char_class word_cc, int *has_letter)
{
    const unsigned char *u = (const unsigned char *)text;
    int joiner = 0; /* a ZWNJ/ZWJ was taken in */
    while (i < n) {
        /* the common case inline: a two-byte Arabic letter or mark */
        if (word_cc == CC_ARABIC) {
            unsigned letters = 0;
            i = ar_run(u, n, i, &letters);
            *has_letter |= letters > 1;
            if (i >= n)
                break;
        }
        if (u[i] < 0x80) /* ASCII is never CC_ARABIC, CC_LETTER, CC_IGNORE nor a combining mark */
            break;
        size_t next;
        int32_t d = peek(text, n, i, &next);
        char_class dc = classify(d);
        if (dc == word_cc || (dc == CC_IGNORE && (d == 0x200C || d == 0x200D))) {
            if (dc == CC_ARABIC && !is_mark(d))
                *has_letter = 1;
            joiner |= dc == CC_IGNORE;
            i = next;
            continue;
        }
        /* combining marks continue a word of any script */
        if (word_cc == CC_LETTER && d >= 0x0300 && d <= 0x036F) {
            i = next;
            continue;
        }
        break;
    }
    /* a ZWNJ/ZWJ may not end the word */
    while (joiner && i > start) {
        size_t back = i - 3;
        if (i - start >= 3 && (unsigned char)text[back] == 0xE2 && (unsigned char)text[back + 1] == 0x80 &&
            ((unsigned char)text[back + 2] == 0x8C || (unsigned char)text[back + 2] == 0x8D))
            i = back;
        else
            break;
    }
    return i;
}

/* The tokens found so far and what the next one's flags depend on. */
typedef struct {
    nahr_token *toks;
    size_t max;
    size_t count;   /* all tokens, also those past max */
    int prev_final; /* the previous token is a sentence-final mark */
    int newlines;   /* newlines seen since the previous token */
} tok_out;

/* Appends the token [start, end); a token's SENT_END flag is set one step
 * late: the previous token ends a sentence before a blank line, or when it
 * is a sentence-final mark not followed at once by another one (final: this
 * token is one). */
static inline void put_token(tok_out *o, size_t start, size_t end, unsigned kind, int final)
{
    nahr_token t;
    memset(&t, 0, sizeof t); /* the padding too: callers may compare tokens bytewise */
    t.start = start;
    t.end = end;
    t.kind = (uint16_t)kind;
    if ((o->newlines >= 2 || (o->prev_final && !(final && o->newlines == 0))) && o->count > 0 && o->count <= o->max)
        o->toks[o->count - 1].flags |= NAHR_TOK_SENT_END;
    if (o->count == 0 || o->newlines >= 2)
        t.flags |= NAHR_TOK_PARA_START;
    if (o->count < o->max)
        o->toks[o->count] = t;
    o->count++;
    o->prev_final = final;
    o->newlines = 0;
}

static size_t tokenize_scan(const char *text, size_t n, nahr_token *toks, size_t max)
{
    const unsigned char *u = (const unsigned char *)text;
    tok_out o = {toks, max, 0, 0, 0};
    size_t i = 0;

    while (i < n) {
        size_t start = i, next;
        int32_t c = 0;
        char_class cc;
        int has_letter;
        unsigned kind;
        int cur_final = 0; /* the token is a sentence-final mark */

        if (u[i] == ' ') {
            i++;
            continue;
        }
        if (i + 1 < n && ar_pair[u[i] | (unsigned)u[i + 1] << 8]) {
            /* the common case: a word of two-byte Arabic letters and marks
             * that ends before an ASCII byte or at the end; else the word
             * loop takes the rest in */
            unsigned letters = ar_pair[u[i] | (unsigned)u[i + 1] << 8];
            next = ar_run(u, n, i, &letters);
            if (ar_word_ends_at(u, n, next)) {
                put_token(&o, start, next, letters > 1 ? NAHR_TOK_WORD : NAHR_TOK_PUNCT, 0);
                /* more such words, one space apart: no flags for them (no
                 * newline, no sentence-final mark before them); a word
                 * that ends at a character of its own (an Arabic comma)
                 * ends the loop there, the general path takes that on */
#if defined(__SSE2__)
                next = more_ar_words(u, n, next, toks, max, &o.count);
#endif
                while (next + 2 < n && u[next] == ' ' && ar_pair[u[next + 1] | (unsigned)u[next + 2] << 8]) {
                    size_t from = next + 1, end;
                    letters = ar_pair[u[from] | (unsigned)u[from + 1] << 8];
                    end = ar_run(u, n, from, &letters);
                    if (!ar_word_ends_at(u, n, end))
                        break; /* the word goes on: the general path below takes it from the space */
                    if (o.count < max) {
                        nahr_token *t = &toks[o.count];
                        memset(t, 0, sizeof *t);
                        t->start = from;
                        t->end = end;
                        t->kind = letters > 1 ? NAHR_TOK_WORD : NAHR_TOK_PUNCT;
                    }
                    o.count++;
                    next = end;
                }
                i = next;
                continue;
            }
            cc = CC_ARABIC;
            has_letter = letters > 1;
        } else {
            c = peek(text, n, i, &next);
            cc = classify(c);
            if (cc == CC_SPACE || cc == CC_IGNORE) {
                i = next;
                continue;
            }
            if (cc == CC_NEWLINE) {
                o.newlines++;
                i = next;
                continue;
            }
            has_letter = !(cc == CC_ARABIC && is_mark(c));
        }

        if (cc == CC_ARABIC || cc == CC_LETTER) {
            i = scan_word(text, n, start, next, cc, &has_letter);
            /* a run of marks or tatweel alone is a symbol, not a word */
            kind = has_letter ? NAHR_TOK_WORD : NAHR_TOK_PUNCT;
        } else if (cc == CC_LATIN) {
            /* letters, then letters/digits; an inner apostrophe or hyphen-less
             * apostrophe between letters (O'Brien) stays inside */
            i = next;
            while (i < n) {
                int32_t d = peek(text, n, i, &next);
                char_class dc = classify(d);
                if (dc == CC_LATIN || (dc == CC_DIGIT && d < 0x80)) {
                    i = next;
                    continue;
                }
                if ((d == '\'' || d == 0x2019) && next < n) {
                    size_t after;
                    int32_t e = peek(text, n, next, &after);
                    if (classify(e) == CC_LATIN) {
                        i = after;
                        continue;
                    }
                }
                break;
            }
            kind = NAHR_TOK_LATIN;
        } else if (cc == CC_DIGIT) {
            i = next;
            while (i < n) {
                int32_t d = peek(text, n, i, &next);
                if (is_digit_cp(d)) {
                    i = next;
                    continue;
                }
                if (is_number_inner(d) && next < n) {
                    size_t after;
                    int32_t e = peek(text, n, next, &after);
                    if (is_digit_cp(e)) {
                        i = after;
                        continue;
                    }
                }
                break;
            }
            kind = NAHR_TOK_NUMBER;
        } else {
            i = next; /* one punctuation character (or one invalid byte) */
            kind = NAHR_TOK_PUNCT;
            cur_final = is_sentence_final(c);
        }
        put_token(&o, start, i, kind, cur_final);
    }
    if (o.count > 0 && o.count <= max)
        toks[o.count - 1].flags |= NAHR_TOK_SENT_END;
    return o.count;
}

size_t nahr_tokenize(const char *text, size_t n, nahr_token *toks, size_t max)
{
    if (!text)
        return 0;
    pthread_once(&class_once, class_init);
    return tokenize_scan(text, n, toks, max);
}

/* ---- proclitics ---- */

/* UTF-8 of the letters involved (all two bytes, 0xD8/0xD9 lead). */
#define AR_WAW "\xD9\x88"
#define AR_FA "\xD9\x81"
#define AR_BA "\xD8\xA8"
#define AR_LAM "\xD9\x84"
#define AR_KAF "\xD9\x83"
#define AR_ALEF "\xD8\xA7"

static inline int letter_at(const char *w, size_t n, size_t i, const char *letter)
{
    return i + 2 <= n && w[i] == letter[0] && w[i + 1] == letter[1];
}

/* 1 when bytes c, d are an Arabic mark or tatweel (is_mark(): U+064B..U+065F,
 * U+0670, U+0640, all two bytes led by 0xD9). */
static inline int mark_bytes(unsigned c, unsigned d)
{
    return c == 0xD9 && ((d >= 0x8B && d <= 0x9F) || d == 0xB0 || d == 0x80);
}

/* Number of letters in w[i..n), counting at most 2 (all callers need is
 * "at least two letters remain"); marks do not count, other code points do
 * so Latin-script words are handled sanely. peek() and is_mark() with the
 * one- and two-byte cases inline. */
static inline size_t letters_from(const char *w, size_t n, size_t i)
{
    const unsigned char *u = (const unsigned char *)w;
    size_t k = 0;
    while (i < n && k < 2) {
        unsigned c = u[i];
        if (c < 0x80) {
            i++;
            k++;
        } else if (c >= 0xC2 && c <= 0xDF && i + 1 < n && (u[i + 1] & 0xC0) == 0x80) {
            k += !mark_bytes(c, u[i + 1]);
            i += 2;
        } else {
            nahr_utf8_next(w, n, &i); /* longer or invalid: never a mark */
            k++;
        }
    }
    return k;
}

/* skips Arabic marks (tashkeel, tatweel) starting at i */
static inline size_t skip_marks(const char *w, size_t n, size_t i)
{
    const unsigned char *u = (const unsigned char *)w;
    while (i + 1 < n && mark_bytes(u[i], u[i + 1]))
        i += 2;
    return i;
}

/* Adds off to the ascending, distinct splits[0..*k): when the array is
 * full, the largest offset falls out (only the shortest strips are kept). */
static inline void add_split(size_t *splits, size_t max, size_t *k, size_t off)
{
    size_t j;
    for (j = 0; j < *k; j++)
        if (splits[j] == off)
            return;
    if (*k < max)
        (*k)++;
    else if (splits[max - 1] < off)
        return;
    for (j = *k - 1; j > 0 && splits[j - 1] > off; j--)
        splits[j] = splits[j - 1];
    splits[j] = off;
}

/* The article ال at byte at of w, then at least two letters: adds the split
 * after it. */
static inline void article_split(const char *w, size_t n, size_t at, size_t *splits, size_t max, size_t *k)
{
    if (!letter_at(w, n, at, AR_ALEF))
        return;
    size_t a = skip_marks(w, n, at + 2);
    if (letter_at(w, n, a, AR_LAM)) {
        size_t r = skip_marks(w, n, a + 2);
        if (letters_from(w, n, r) >= 2)
            add_split(splits, max, k, r);
    }
}

size_t nahr_ar_proclitic_splits(const char *w, size_t n, size_t *splits, size_t max)
{
    size_t k = 0;
    size_t conj_ends[2];
    size_t nconj = 0, c;

    if (!splits || max == 0)
        return 0;
    splits[k++] = 0;
    if (!w || n < 4) {
        splits[0] = 0;
        return 1;
    }

    /* most words start with none of the letters below: no split but 0 */
    if (!letter_at(w, n, 0, AR_WAW) && !letter_at(w, n, 0, AR_FA) && !letter_at(w, n, 0, AR_BA) &&
        !letter_at(w, n, 0, AR_KAF) && !letter_at(w, n, 0, AR_LAM) && !letter_at(w, n, 0, AR_ALEF)) {
        splits[0] = 0;
        return 1;
    }

    /* a word that starts with alef (a third of those that get here): no
     * conjunction or preposition, only the article ال can go; what the loop
     * below finds for it, without its other tests */
    if (letter_at(w, n, 0, AR_ALEF)) {
        article_split(w, n, 0, splits, max, &k);
        return k;
    }

    /* conjunction: none, or و / ف */
    conj_ends[nconj++] = 0;
    if (letter_at(w, n, 0, AR_WAW) || letter_at(w, n, 0, AR_FA))
        conj_ends[nconj++] = skip_marks(w, n, 2);

    /* Collect every split, shortest strip first (offsets ascending). */
    for (c = 0; c < nconj; c++) {
        size_t p = conj_ends[c];
        size_t q;
        if (p > 0 && letters_from(w, n, p) >= 2)
            add_split(splits, max, &k, p);
        /* لل = ل + ال (the alef of the article drops) */
        if (letter_at(w, n, p, AR_LAM)) {
            size_t p2 = skip_marks(w, n, p + 2);
            if (letter_at(w, n, p2, AR_LAM)) {
                size_t p3 = skip_marks(w, n, p2 + 2);
                if (letters_from(w, n, p3) >= 2)
                    add_split(splits, max, &k, p3);
            }
        }
        /* preposition ب ك ل, then optionally ال */
        q = p;
        if (letter_at(w, n, p, AR_BA) || letter_at(w, n, p, AR_KAF) || letter_at(w, n, p, AR_LAM)) {
            q = skip_marks(w, n, p + 2);
            if (letters_from(w, n, q) >= 2)
                add_split(splits, max, &k, q);
        }
        /* article ال after the conjunction and/or preposition (not alone:
         * the word with its article is the form dictionaries list) */
        if (q > 0)
            article_split(w, n, q, splits, max, &k);
    }
    return k;
}
