/* clean_date.c - finds a publication date in a line and writes it as
 * ISO 8601 (YYYY-MM-DD). Works on the matching form of the line, so hamza,
 * ta marbuta and Arabic-Indic digits need no special cases here. Both sets
 * of Arabic month names are known (يناير… and كانون الثاني…), and English. */
#include "clean.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    int month;
} month_name;

/* Matching forms (see clean_match_norm): أ/إ/آ -> ا, ة -> ه, ى -> ي. */
static const month_name two_word_months[] = {
    {"كانون الثاني", 1}, {"تشرين الاول", 10}, {"تشرين الثاني", 11}, {"كانون الاول", 12},
};
static const month_name months[] = {
    {"يناير", 1}, {"فبراير", 2}, {"مارس", 3}, {"ابريل", 4}, {"افريل", 4}, {"مايو", 5}, {"ماي", 5},
    {"يونيو", 6}, {"يونيه", 6}, {"جوان", 6}, {"يوليو", 7}, {"يوليه", 7}, {"جويليه", 7},
    {"اغسطس", 8}, {"اوت", 8}, {"سبتمبر", 9}, {"اكتوبر", 10}, {"نوفمبر", 11}, {"ديسمبر", 12},
    {"شباط", 2}, {"اذار", 3}, {"نيسان", 4}, {"ايار", 5}, {"حزيران", 6}, {"تموز", 7}, {"اب", 8},
    {"ايلول", 9},
    {"january", 1}, {"february", 2}, {"march", 3}, {"april", 4}, {"may", 5}, {"june", 6},
    {"july", 7}, {"august", 8}, {"september", 9}, {"october", 10}, {"november", 11},
    {"december", 12}, {"jan", 1}, {"feb", 2}, {"mar", 3}, {"apr", 4}, {"jun", 6}, {"jul", 7},
    {"aug", 8}, {"sep", 9}, {"sept", 9}, {"oct", 10}, {"nov", 11}, {"dec", 12},
};
static const char *const weekdays[] = {
    "الاحد", "الاثنين", "الثلاثاء", "الاربعاء", "الخميس", "الجمعه", "السبت", "sunday", "monday",
    "tuesday", "wednesday", "thursday", "friday", "saturday", "sun", "mon", "tue", "wed", "thu",
    "fri", "sat", "يوم",
};
/* Words that often surround a date on a dateline. */
static const char *const fillers[] = {
    "نشر", "نشرت", "في", "بتاريخ", "تاريخ", "اخر", "تحديث", "التحديث", "تم", "النشر", "منذ",
    "الساعه", "ص", "م", "صباحا", "مساء", "published", "updated", "on", "at", "am", "pm", "gmt",
    "utc", "posted", "last", "by", "هـ", "ميلادي", "الموافق", "date",
};

static int word_eq(const char *w, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    return l == n && memcmp(w, lit, n) == 0;
}

static int in_list(const char *w, size_t n, const char *const *list, size_t cnt)
{
    for (size_t i = 0; i < cnt; i++)
        if (word_eq(w, n, list[i])) return 1;
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

int clean_date_parse(const char *s, size_t n, char iso[11], int *coverage)
{
    if (coverage) *coverage = 0;
    if (n == 0 || n > 400) return 0; /* a dateline is short */
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
                size_t l = strlen(two_word_months[t].name);
                if ((size_t)(w[k + 1].s + w[k + 1].n - w[k].s) == l &&
                    memcmp(w[k].s, two_word_months[t].name, l) == 0) {
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
            if (word_eq(w[k].s, w[k].n, months[t].name)) {
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
