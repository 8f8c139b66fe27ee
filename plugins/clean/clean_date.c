/* clean_date.c - finds a publication date in a line and writes it as
 * ISO 8601 (YYYY-MM-DD). Works on the matching form of the line, so hamza,
 * ta marbuta and Arabic-Indic digits need no special cases here. Both sets
 * of Arabic month names are known (يناير… and كانون الثاني…), and English. */
#include "clean.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A word list entry with its length, so a lookup compares lengths before
 * bytes instead of calling strlen() on every entry for every word (a
 * dateline test of 11 words took ~1,200 strlen() calls). */
typedef struct {
    const char *s;
    size_t n;
} lit;
#define LIT(x) {x, sizeof(x) - 1}

typedef struct {
    lit name;
    int month;
} month_name;

/* Matching forms (see clean_match_norm): أ/إ/آ -> ا, ة -> ه, ى -> ي. */
static const month_name two_word_months[] = {
    {LIT("كانون الثاني"), 1}, {LIT("تشرين الاول"), 10}, {LIT("تشرين الثاني"), 11}, {LIT("كانون الاول"), 12},
};
static const month_name months[] = {
    {LIT("يناير"), 1}, {LIT("فبراير"), 2}, {LIT("مارس"), 3}, {LIT("ابريل"), 4}, {LIT("افريل"), 4}, {LIT("مايو"), 5}, {LIT("ماي"), 5},
    {LIT("يونيو"), 6}, {LIT("يونيه"), 6}, {LIT("جوان"), 6}, {LIT("يوليو"), 7}, {LIT("يوليه"), 7}, {LIT("جويليه"), 7},
    {LIT("اغسطس"), 8}, {LIT("اوت"), 8}, {LIT("سبتمبر"), 9}, {LIT("اكتوبر"), 10}, {LIT("نوفمبر"), 11}, {LIT("ديسمبر"), 12},
    {LIT("شباط"), 2}, {LIT("اذار"), 3}, {LIT("نيسان"), 4}, {LIT("ايار"), 5}, {LIT("حزيران"), 6}, {LIT("تموز"), 7}, {LIT("اب"), 8},
    {LIT("ايلول"), 9},
    {LIT("january"), 1}, {LIT("february"), 2}, {LIT("march"), 3}, {LIT("april"), 4}, {LIT("may"), 5}, {LIT("june"), 6},
    {LIT("july"), 7}, {LIT("august"), 8}, {LIT("september"), 9}, {LIT("october"), 10}, {LIT("november"), 11},
    {LIT("december"), 12}, {LIT("jan"), 1}, {LIT("feb"), 2}, {LIT("mar"), 3}, {LIT("apr"), 4}, {LIT("jun"), 6}, {LIT("jul"), 7},
    {LIT("aug"), 8}, {LIT("sep"), 9}, {LIT("sept"), 9}, {LIT("oct"), 10}, {LIT("nov"), 11}, {LIT("dec"), 12},
};
static const lit weekdays[] = {
    LIT("الاحد"), LIT("الاثنين"), LIT("الثلاثاء"), LIT("الاربعاء"), LIT("الخميس"), LIT("الجمعه"), LIT("السبت"), LIT("sunday"), LIT("monday"),
    LIT("tuesday"), LIT("wednesday"), LIT("thursday"), LIT("friday"), LIT("saturday"), LIT("sun"), LIT("mon"), LIT("tue"), LIT("wed"), LIT("thu"),
    LIT("fri"), LIT("sat"), LIT("يوم"),
};
/* Words that often surround a date on a dateline. */
static const lit fillers[] = {
    LIT("نشر"), LIT("نشرت"), LIT("في"), LIT("بتاريخ"), LIT("تاريخ"), LIT("اخر"), LIT("تحديث"), LIT("التحديث"), LIT("تم"), LIT("النشر"), LIT("منذ"),
    LIT("الساعه"), LIT("ص"), LIT("م"), LIT("صباحا"), LIT("مساء"), LIT("published"), LIT("updated"), LIT("on"), LIT("at"), LIT("am"), LIT("pm"), LIT("gmt"),
    LIT("utc"), LIT("posted"), LIT("last"), LIT("by"), LIT("هـ"), LIT("ميلادي"), LIT("الموافق"), LIT("date"),
};

static int word_eq(const char *w, size_t n, const lit *l) { return l->n == n && memcmp(w, l->s, n) == 0; }

static int in_list(const char *w, size_t n, const lit *list, size_t cnt)
{
    for (size_t i = 0; i < cnt; i++)
        if (word_eq(w, n, &list[i])) return 1;
    return 0;
}

static int parse_num(const char *w, size_t n, int *v)
{
    if (n == 0 || n > 4) return 0;
    int x = 0;
    for (size_t i = 0; i < n; i++) {
        if (w[i] < '0' || w[i] > '9') return 0;
        x = x * 10 + (w[i] - '0');
    }
    *v = x;
    return 1;
}

enum { W_OTHER, W_NUM, W_MONTH, W_WEEKDAY, W_FILLER };

typedef struct {
    const char *s;
    size_t n;
    int kind, val, len4, used, two;
} word;

static int valid_ymd(int y, int m, int d) { return y >= 1900 && y <= 2100 && m >= 1 && m <= 12 && d >= 1 && d <= 31; }

/* The digits of s[0..n) as clean_match_norm() writes them: ASCII digits,
 * Arabic-Indic (D9 A0..A9) and Persian (DB B0..B9) ones. D9 and DB are lead
 * bytes, never continuation bytes, so a pair counted here is one digit of
 * the matching form (an invalid lead before it is dropped on its own). */
static size_t digits_of(const unsigned char *s, size_t n)
{
    size_t d = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned c = s[i];
        if (c - '0' < 10u) d++;
        else if (i + 1 < n && ((c == 0xD9 && s[i + 1] - 0xA0u < 10u) || (c == 0xDB && s[i + 1] - 0xB0u < 10u))) d++;
    }
    return d;
}

/* clean_date_parse(); quick: first reject a line with fewer than five
 * digits (any date found needs a day and a four-digit year). The test
 * compares both ways. */
static int date_parse(const char *s, size_t n, char iso[11], int *coverage, int quick)
{
    if (coverage) *coverage = 0;
    if (n == 0 || n > 400) return 0; /* a dateline is short */
    /* most lines tested hold no date: no matching form, no word lists */
    if (quick && digits_of((const unsigned char *)s, n) < 5) return 0;
    char norm[401];
    size_t m = clean_match_norm(s, n, norm);
    word w[40];
    size_t nw = 0;
    size_t i = 0;
    while (i < m && nw < 40) {
        size_t j = i;
        while (j < m && norm[j] != ' ') j++;
        w[nw].s = norm + i;
        w[nw].n = j - i;
        w[nw].kind = W_OTHER;
        w[nw].used = 0;
        w[nw].len4 = 0;
        w[nw].two = 0;
        nw++;
        i = j + 1;
    }
    if (i < m || nw == 0) return 0; /* more than 40 words: not a dateline */
    for (size_t k = 0; k < nw; k++) {
        int v;
        if (parse_num(w[k].s, w[k].n, &v)) {
            w[k].kind = W_NUM;
            w[k].val = v;
            w[k].len4 = w[k].n == 4;
            continue;
        }
        if (k + 1 < nw) {
            for (size_t t = 0; t < sizeof two_word_months / sizeof *two_word_months; t++) {
                size_t l = two_word_months[t].name.n;
                if ((size_t)(w[k + 1].s + w[k + 1].n - w[k].s) == l &&
                    memcmp(w[k].s, two_word_months[t].name.s, l) == 0) {
                    w[k].kind = W_MONTH;
                    w[k].val = two_word_months[t].month;
                    w[k].two = 1;
                    w[k + 1].kind = W_FILLER; /* second word of the name */
                    break;
                }
            }
            if (w[k].kind == W_MONTH) {
                k++;
                continue;
            }
        }
        for (size_t t = 0; t < sizeof months / sizeof *months; t++)
            if (word_eq(w[k].s, w[k].n, &months[t].name)) {
                w[k].kind = W_MONTH;
                w[k].val = months[t].month;
                break;
            }
        if (w[k].kind != W_OTHER) continue;
        if (in_list(w[k].s, w[k].n, weekdays, sizeof weekdays / sizeof *weekdays)) w[k].kind = W_WEEKDAY;
        else if (in_list(w[k].s, w[k].n, fillers, sizeof fillers / sizeof *fillers)) w[k].kind = W_FILLER;
    }
    int y = 0, mo = 0, d = 0, found = 0;
    /* month name with a day next to it and a year within 3 words */
    for (size_t k = 0; k < nw && !found; k++) {
        if (w[k].kind != W_MONTH) continue;
        size_t ks = k + (size_t)w[k].two; /* last word of the month name */
        int di = -1, yi = -1;
        if (k > 0 && w[k - 1].kind == W_NUM && !w[k - 1].len4 && w[k - 1].val >= 1 && w[k - 1].val <= 31) di = (int)k - 1;
        else if (ks + 1 < nw && w[ks + 1].kind == W_NUM && !w[ks + 1].len4 && w[ks + 1].val >= 1 && w[ks + 1].val <= 31) di = (int)ks + 1;
        for (size_t t = ks + 1; t < nw && t <= ks + 3; t++)
            if (w[t].kind == W_NUM && w[t].len4) {
                yi = (int)t;
                break;
            }
        if (di >= 0 && yi >= 0 && valid_ymd(w[yi].val, w[k].val, w[di].val)) {
            y = w[yi].val;
            mo = w[k].val;
            d = w[di].val;
            w[k].used = w[di].used = w[yi].used = 1;
            if (ks != k) w[ks].used = 1;
            found = 1;
        }
    }
    /* numeric: Y M D or D M Y */
    for (size_t k = 0; k + 2 < nw && !found; k++) {
        if (w[k].kind != W_NUM || w[k + 1].kind != W_NUM || w[k + 2].kind != W_NUM) continue;
        if (w[k].len4 && valid_ymd(w[k].val, w[k + 1].val, w[k + 2].val)) {
            y = w[k].val; mo = w[k + 1].val; d = w[k + 2].val;
        } else if (w[k + 2].len4 && valid_ymd(w[k + 2].val, w[k + 1].val, w[k].val)) {
            y = w[k + 2].val; mo = w[k + 1].val; d = w[k].val;
        } else {
            continue;
        }
        w[k].used = w[k + 1].used = w[k + 2].used = 1;
        found = 1;
    }
    if (!found) return 0;
    size_t cov = 0;
    for (size_t k = 0; k < nw; k++)
        if (w[k].used || w[k].kind == W_WEEKDAY || w[k].kind == W_FILLER ||
            (w[k].kind == W_NUM && w[k].val <= 59))
            cov++;
    if (coverage) *coverage = (int)(cov * 100 / nw);
    snprintf(iso, 11, "%04d-%02d-%02d", y, mo, d);
    return 1;
}

int clean_date_parse(const char *s, size_t n, char iso[11], int *coverage) { return date_parse(s, n, iso, coverage, 1); }
