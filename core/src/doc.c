/* doc.c - the document model: arena, values, metadata, fields, spans. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena ---- */
struct arena_chunk {
    arena_chunk *next;
    size_t size, used;
    _Alignas(16) char data[];
};

#define ARENA_FIRST (64 * 1024)

void *nahr__arena_alloc(nahr_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    arena_chunk *c = a->head;
    if (c && c->size - c->used >= n) {
        void *p = c->data + c->used;
        c->used += n;
        return p;
    }
    size_t size = a->head ? c->size * 2 : ARENA_FIRST;
    if (size > 4 * 1024 * 1024)
        size = 4 * 1024 * 1024;
    if (size < n)
        size = n;
    arena_chunk *nc = malloc(sizeof *nc + size);
    if (!nc)
        return NULL;
    nc->size = size;
    nc->used = n;
    nc->next = a->head;
    a->head = nc;
    if (!nc->next)
        a->first_size = size;
    return nc->data;
}

/* Keeps the largest chunk of at most ARENA_KEEP bytes and frees the others,
 * so a document slot that holds articles bigger than the first chunk stops
 * allocating and freeing on every article, while a huge article does not pin
 * its memory to the slot for the rest of the run (the pool is small). */
#define ARENA_KEEP (1024 * 1024)

void nahr__arena_reset(nahr_arena *a)
{
    arena_chunk *keep = NULL;
    for (arena_chunk *c = a->head; c; c = c->next)
        if (c->size <= ARENA_KEEP && (!keep || c->size > keep->size))
            keep = c;
    arena_chunk *c = a->head;
    while (c) {
        arena_chunk *next = c->next;
        if (c != keep)
            free(c);
        c = next;
    }
    a->head = keep;
    if (keep) {
        keep->used = 0;
        keep->next = NULL;
        a->first_size = keep->size;
    }
}

void nahr__arena_free(nahr_arena *a)
{
    arena_chunk *c = a->head;
    while (c) {
        arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
}

void *nahr_doc_alloc(nahr_doc *d, size_t n) { return nahr__arena_alloc(&d->arena, n ? n : 1); }

char *nahr_doc_strndup(nahr_doc *d, const char *s, size_t n)
{
    char *p = nahr__arena_alloc(&d->arena, n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* 1 when s[0..n) is valid UTF-8 but for NUL bytes */
static inline bool valid_with_nul(const char *s, size_t n)
{
    size_t i = 0;
    while ((i += nahr_utf8_check(s + i, n - i)) < n && s[i] == '\0')
        i++;
    return i >= n;
}

/* strndup_valid() of a string that is not valid UTF-8 */
static char *strndup_repaired(nahr_doc *d, const char *s, size_t n, size_t *out_n)
{
    nahr_buf b = {0};
    char *p = NULL;
    for (size_t a = 0; a <= n;) {
        const char *z = memchr(s + a, '\0', n - a);
        size_t e = z ? (size_t)(z - s) : n;
        if (nahr_utf8_repair(s + a, e - a, &b, NULL) < 0 || (z && nahr_buf_putc(&b, '\0') < 0))
            goto done;
        a = e + 1;
    }
    p = nahr_doc_strndup(d, b.data ? b.data : "", b.len);
    if (out_n)
        *out_n = b.len;
done:
    nahr_buf_free(&b);
    return p;
}

/* s[0..n) copied into the arena as valid UTF-8, the promise every string of
 * the document model keeps for the exporters (an invalid byte in a value,
 * key, span type or canonical form would make the output line invalid
 * JSON): each invalid sequence becomes U+FFFD. NUL bytes stay (a JSON string
 * can carry them: \u0000). *out_n (if not NULL) gets the copy's length. */
static char *strndup_valid(nahr_doc *d, const char *s, size_t n, size_t *out_n)
{
    if (valid_with_nul(s, n)) {
        if (out_n)
            *out_n = n;
        return nahr_doc_strndup(d, s, n);
    }
    return strndup_repaired(d, s, n, out_n);
}

/* strndup_valid() that returns the copy of s it made before when it can
 * (the strings of the document model are never written to once made: span
 * types, canonical forms, keys and labels recur in an article): d->recent
 * keeps the last copy of each length and pair of end bytes, up to 64 bytes. */
static char *strndup_recent(nahr_doc *d, const char *s, size_t n, size_t *out_n)
{
    if (n == 0 || n > 64)
        return strndup_valid(d, s, n, out_n);
    unsigned h = ((unsigned)n * 7u + (unsigned char)s[0] * 3u + (unsigned char)s[n - 1]) % 32u;
    if (out_n)
        *out_n = n;
    if (d->recent[h].len == n && memcmp(d->recent[h].s, s, n) == 0)
        return (char *)d->recent[h].s;
    if (!valid_with_nul(s, n))
        return strndup_repaired(d, s, n, out_n); /* not s: not kept */
    char *c = nahr_doc_strndup(d, s, n);
    if (c) {
        d->recent[h].s = c;
        d->recent[h].len = n;
    }
    return c;
}

static const char *strdup_recent(nahr_doc *d, const char *s) { return strndup_recent(d, s, strlen(s), NULL); }

static char *strdup_valid(nahr_doc *d, const char *s) { return strndup_valid(d, s, strlen(s), NULL); }

/* ---- values (struct nahr_value: internal.h) ---- */
static nahr_value *value_new(nahr_doc *d, nahr_value_type t)
{
    nahr_value *v = nahr__arena_alloc(&d->arena, sizeof *v);
    if (v) {
        memset(v, 0, sizeof *v);
        v->type = t;
    }
    return v;
}

nahr_value *nahr_value_null(nahr_doc *d) { return value_new(d, NAHR_V_NULL); }

nahr_value *nahr_value_bool(nahr_doc *d, int b)
{
    nahr_value *v = value_new(d, NAHR_V_BOOL);
    if (v)
        v->u.b = b != 0;
    return v;
}

nahr_value *nahr_value_int(nahr_doc *d, int64_t i)
{
    nahr_value *v = value_new(d, NAHR_V_INT);
    if (v)
        v->u.i = i;
    return v;
}

nahr_value *nahr_value_double(nahr_doc *d, double x)
{
    nahr_value *v = value_new(d, NAHR_V_DOUBLE);
    if (v)
        v->u.d.x = x;
    return v;
}

nahr_value *nahr__value_number(nahr_doc *d, double x, const char *text, size_t n)
{
    nahr_value *v = value_new(d, NAHR_V_DOUBLE);
    if (v) {
        v->u.d.x = x;
        if (!(v->u.d.text = nahr_doc_strndup(d, text, n)))
            return NULL;
    }
    return v;
}

const char *nahr__value_number_text(const nahr_value *v)
{
    return v && v->type == NAHR_V_DOUBLE ? v->u.d.text : NULL;
}

nahr_value *nahr_value_string(nahr_doc *d, const char *s, size_t n)
{
    nahr_value *v = value_new(d, NAHR_V_STRING);
    if (!v || !(v->u.s.s = strndup_recent(d, s ? s : "", s ? n : 0, &v->u.s.n)))
        return NULL;
    return v;
}

nahr_value *nahr_value_cstr(nahr_doc *d, const char *s) { return nahr_value_string(d, s, s ? strlen(s) : 0); }
nahr_value *nahr_value_array(nahr_doc *d) { return value_new(d, NAHR_V_ARRAY); }
nahr_value *nahr_value_object(nahr_doc *d) { return value_new(d, NAHR_V_OBJECT); }

static int container_grow(nahr_doc *d, nahr_value *c)
{
    if (c->u.c.len < c->u.c.cap)
        return NAHR_OK;
    size_t cap = c->u.c.cap ? c->u.c.cap * 2 : 4;
    nahr_value **items = nahr__arena_alloc(&d->arena, cap * sizeof *items);
    if (!items)
        return NAHR_ENOMEM;
    if (c->u.c.len)
        memcpy(items, c->u.c.items, c->u.c.len * sizeof *items);
    c->u.c.items = items;
    if (c->type == NAHR_V_OBJECT) {
        const char **keys = nahr__arena_alloc(&d->arena, cap * sizeof *keys);
        if (!keys)
            return NAHR_ENOMEM;
        if (c->u.c.len)
            memcpy(keys, c->u.c.keys, c->u.c.len * sizeof *keys);
        c->u.c.keys = keys;
    }
    c->u.c.cap = cap;
    return NAHR_OK;
}

int nahr_value_push(nahr_doc *d, nahr_value *arr, nahr_value *item)
{
    if (!arr || !item || arr->type != NAHR_V_ARRAY)
        return NAHR_EINVAL;
    if (container_grow(d, arr) < 0)
        return NAHR_ENOMEM;
    arr->u.c.items[arr->u.c.len++] = item;
    return NAHR_OK;
}

/* Sets key in an object, replacing an existing key; a new key is stored as
 * copy(d, key) (a string of the arena), NULL meaning out of memory. */
static int object_put(nahr_doc *d, nahr_value *obj, const char *key, nahr_value *v,
                      const char *(*copy)(nahr_doc *, const char *))
{
    for (size_t i = 0; i < obj->u.c.len; i++)
        if (strcmp(obj->u.c.keys[i], key) == 0) {
            obj->u.c.items[i] = v;
            return NAHR_OK;
        }
    if (container_grow(d, obj) < 0)
        return NAHR_ENOMEM;
    const char *k = copy(d, key);
    if (!k)
        return NAHR_ENOMEM;
    obj->u.c.keys[obj->u.c.len] = k;
    obj->u.c.items[obj->u.c.len++] = v;
    return NAHR_OK;
}

static const char *key_copy(nahr_doc *d, const char *key) { return strdup_recent(d, key); }

int nahr_value_put(nahr_doc *d, nahr_value *obj, const char *key, nahr_value *v)
{
    if (!obj || !key || !v || obj->type != NAHR_V_OBJECT)
        return NAHR_EINVAL;
    return object_put(d, obj, key, v, key_copy);
}

nahr_value_type nahr_value_kind(const nahr_value *v) { return v ? v->type : NAHR_V_NULL; }
int nahr_value_as_bool(const nahr_value *v) { return v && v->type == NAHR_V_BOOL ? v->u.b : 0; }

int64_t nahr_value_as_int(const nahr_value *v)
{
    if (!v)
        return 0;
    if (v->type == NAHR_V_INT)
        return v->u.i;
    if (v->type == NAHR_V_DOUBLE) { /* saturating: 1e400 or NaN from the input must not be UB */
        double x = v->u.d.x;
        if (!(x == x))
            return 0;
        if (x >= 9223372036854775807.0)
            return INT64_MAX;
        if (x <= -9223372036854775808.0)
            return INT64_MIN;
        return (int64_t)x;
    }
    return 0;
}

double nahr_value_as_double(const nahr_value *v)
{
    if (!v)
        return 0;
    if (v->type == NAHR_V_DOUBLE)
        return v->u.d.x;
    if (v->type == NAHR_V_INT)
        return (double)v->u.i;
    return 0;
}

const char *nahr_value_as_string(const nahr_value *v, size_t *len)
{
    if (!v || v->type != NAHR_V_STRING)
        return NULL;
    if (len)
        *len = v->u.s.n;
    return v->u.s.s;
}

size_t nahr_value_len(const nahr_value *v)
{
    return v && (v->type == NAHR_V_ARRAY || v->type == NAHR_V_OBJECT) ? v->u.c.len : 0;
}

nahr_value *nahr_value_at(const nahr_value *v, size_t i) { return i < nahr_value_len(v) ? v->u.c.items[i] : NULL; }

const char *nahr_value_key_at(const nahr_value *v, size_t i)
{
    return v && v->type == NAHR_V_OBJECT && i < v->u.c.len ? v->u.c.keys[i] : NULL;
}

nahr_value *nahr_value_get(const nahr_value *obj, const char *key)
{
    if (!obj || obj->type != NAHR_V_OBJECT || !key)
        return NULL;
    for (size_t i = 0; i < obj->u.c.len; i++)
        if (strcmp(obj->u.c.keys[i], key) == 0)
            return obj->u.c.items[i];
    return NULL;
}

/* ---- documents ---- */
nahr_doc *nahr_doc_new(void)
{
    nahr_doc *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    nahr_doc_reset(d);
    return d;
}

void nahr_doc_reset(nahr_doc *d)
{
    nahr__arena_reset(&d->arena);
    d->text = (char *)"";
    d->text_len = 0;
    d->norm = NULL;
    d->norm_map = NULL;
    d->toks = NULL;
    d->ntoks = 0;
    memset(d->meta, 0, sizeof d->meta);
    d->nfields = 0;
    d->nspans = 0;
    memset(d->attr_keys, 0, sizeof d->attr_keys);
    d->attr_keys_next = 0;
    memset(d->recent, 0, sizeof d->recent);
    d->origin = "";
    d->seq = 0;
    nahr_buf_reset(&d->raw);
    d->kind = RAW_NONE;
    d->raw_total = 0;
    d->raw_truncated = false;
    d->prepared = false;
    d->status = DOC_PENDING;
    d->fail_stage = NULL;
    d->fail_reason = NULL;
    d->id_hint[0] = '\0';
    d->origin_buf[0] = '\0';
    d->ack_token = NULL;
    d->settle = NULL;
    d->prep_ok = 0;
    for (size_t k = 0; k < NAHR__MAX_PREPARED; k++)
        if (d->prep[k].cap > ((size_t)1 << 20))
            nahr_buf_free(&d->prep[k]); /* a huge article's record: do not keep it in the pool */
        else
            nahr_buf_reset(&d->prep[k]);
}

void nahr_doc_free(nahr_doc *d)
{
    if (!d)
        return;
    nahr__arena_free(&d->arena);
    free(d->fields);
    free(d->spans);
    nahr_buf_free(&d->raw);
    for (size_t k = 0; k < NAHR__MAX_PREPARED; k++)
        nahr_buf_free(&d->prep[k]);
    free(d);
}

const char *nahr_doc_text(const nahr_doc *d, size_t *len)
{
    if (len)
        *len = d->text_len;
    return d->text;
}

int nahr_doc_set_text(nahr_doc *d, const char *text, size_t len)
{
    if (d->nspans)
        return NAHR_EBUSY;
    if (!text && len)
        return NAHR_EINVAL;
    /* checked and copied in one pass (the copy is dropped with the arena
     * when the text is refused) */
    const char *src = text ? text : "";
    char *t = nahr__arena_alloc(&d->arena, len + 1);
    if (!t)
        return nahr_utf8_check(src, len) != len ? NAHR_EFORMAT : NAHR_ENOMEM;
    if (nahr__utf8_check_copy(src, len, t) != len)
        return NAHR_EFORMAT;
    t[len] = '\0';
    d->text = t;
    d->text_len = len;
    d->norm = NULL;
    d->norm_map = NULL;
    d->toks = NULL;
    d->ntoks = 0;
    return NAHR_OK;
}

const char *nahr_doc_normalized(nahr_doc *d, size_t *len, const size_t **map)
{
    if (!d->norm || (map && !d->norm_map)) {
        char *out = nahr__arena_alloc(&d->arena, d->text_len + 1);
        size_t *m = map ? nahr__arena_alloc(&d->arena, (d->text_len + 1) * sizeof *m) : NULL;
        if (!out || (map && !m))
            return NULL;
        d->norm_len = nahr_ar_normalize(d->text, d->text_len, out, m);
        d->norm = out;
        if (m)
            d->norm_map = m;
    }
    if (len)
        *len = d->norm_len;
    if (map)
        *map = d->norm_map;
    return d->norm;
}

const nahr_token *nahr_doc_tokens(nahr_doc *d, size_t max, size_t *n)
{
    if (!d->toks) {
        /* one pass for typical text (a word and its space take >= 4 bytes),
         * a second one only for text denser in tokens */
        size_t guess = d->text_len / 4 + 16;
        if (max && guess > max)
            guess = max;
        nahr_token *t = nahr__arena_alloc(&d->arena, guess * sizeof *t);
        if (!t) {
            *n = 0;
            return NULL;
        }
        size_t k = nahr_tokenize(d->text, d->text_len, t, guess);
        if (max && k > max) {
            *n = k;
            return NULL;
        }
        if (k > guess) {
            t = nahr__arena_alloc(&d->arena, k * sizeof *t);
            if (!t) {
                *n = 0;
                return NULL;
            }
            k = nahr_tokenize(d->text, d->text_len, t, k);
        }
        d->toks = t;
        d->ntoks = k;
    } else if (max && d->ntoks > max) {
        *n = d->ntoks;
        return NULL;
    }
    *n = d->ntoks;
    return d->toks;
}

static const char *const meta_names[META_COUNT] = {"id", "title", "url", "date", "source"};

static int meta_index(const char *key)
{
    for (int i = 0; i < META_COUNT; i++)
        if (strcmp(key, meta_names[i]) == 0)
            return i;
    return -1;
}

const char *nahr_doc_get(const nahr_doc *d, const char *key)
{
    if (!key)
        return NULL;
    int i = meta_index(key);
    if (i >= 0)
        return d->meta[i];
    return nahr_value_as_string(nahr_doc_field(d, key), NULL);
}

static int field_set(nahr_doc *d, const char *key, nahr_value *v);

int nahr_doc_set(nahr_doc *d, const char *key, const char *value)
{
    if (!key)
        return NAHR_EINVAL;
    int i = meta_index(key);
    if (i >= 0) {
        if (!value) {
            d->meta[i] = NULL;
            return NAHR_OK;
        }
        if (nahr_utf8_check(value, strlen(value)) != strlen(value))
            return NAHR_EFORMAT;
        const char *c = nahr_doc_strndup(d, value, strlen(value));
        if (!c)
            return NAHR_ENOMEM;
        d->meta[i] = c;
        return NAHR_OK;
    }
    return field_set(d, key, value ? nahr_value_cstr(d, value) : NULL);
}

const char *nahr_doc_origin(const nahr_doc *d) { return d->origin; }
uint64_t nahr_doc_seq(const nahr_doc *d) { return d->seq; }

/* ---- fields ---- */
static bool is_layer_name(const nahr_doc *d, const char *key)
{
    if (strcmp(key, "entities") == 0)
        return true;
    for (size_t i = 0; i < d->nspans; i++)
        if (strcmp(d->spans[i].layer, key) == 0)
            return true;
    return false;
}

static int field_set(nahr_doc *d, const char *key, nahr_value *v)
{
    for (size_t i = 0; i < d->nfields; i++)
        if (strcmp(d->fields[i].key, key) == 0) {
            if (v) {
                d->fields[i].value = v;
            } else {
                memmove(d->fields + i, d->fields + i + 1, (d->nfields - i - 1) * sizeof *d->fields);
                d->nfields--;
            }
            return NAHR_OK;
        }
    if (!v)
        return NAHR_OK;
    if (d->nfields == d->capfields) {
        size_t cap = d->capfields ? d->capfields * 2 : 8;
        doc_field *f = realloc(d->fields, cap * sizeof *f);
        if (!f)
            return NAHR_ENOMEM;
        d->fields = f;
        d->capfields = cap;
    }
    const char *k = strdup_valid(d, key);
    if (!k)
        return NAHR_ENOMEM;
    d->fields[d->nfields].key = k;
    d->fields[d->nfields].value = v;
    d->nfields++;
    return NAHR_OK;
}

int nahr_doc_set_field(nahr_doc *d, const char *key, nahr_value *v)
{
    if (!key || !*key || meta_index(key) >= 0 || strcmp(key, "text") == 0 || is_layer_name(d, key))
        return NAHR_EINVAL;
    return field_set(d, key, v);
}

nahr_value *nahr_doc_field(const nahr_doc *d, const char *key)
{
    for (size_t i = 0; i < d->nfields; i++)
        if (strcmp(d->fields[i].key, key) == 0)
            return d->fields[i].value;
    return NULL;
}

size_t nahr_doc_field_count(const nahr_doc *d) { return d->nfields; }

nahr_value *nahr_doc_field_at(const nahr_doc *d, size_t i, const char **key)
{
    if (i >= d->nfields)
        return NULL;
    if (key)
        *key = d->fields[i].key;
    return d->fields[i].value;
}

/* ---- spans ---- */
static bool on_boundary(const nahr_doc *d, size_t off)
{
    if (off == 0 || off == d->text_len)
        return true;
    return ((unsigned char)d->text[off] & 0xC0) != 0x80;
}

int nahr_doc_add_span_in(nahr_doc *d, const char *layer, const char *type, size_t start, size_t end)
{
    if (!layer || !*layer || !type || start > end || end > d->text_len || !on_boundary(d, start) ||
        !on_boundary(d, end))
        return NAHR_EINVAL;
    /* a layer may not take the name of a metadata key or "text" (id title
     * url date source text): their first bytes rule most layers out at once */
    bool reserved = false;
    switch (layer[0]) {
    case 'i': case 't': case 'u': case 'd': case 's':
        reserved = meta_index(layer) >= 0 || strcmp(layer, "text") == 0;
        break;
    default: break;
    }
    if (reserved || nahr_doc_field(d, layer))
        return NAHR_EINVAL;
    if (d->nspans >= (size_t)INT32_MAX)
        return NAHR_ELIMIT;
    if (d->nspans == d->capspans) {
        size_t cap = d->capspans ? d->capspans * 2 : 32;
        nahr_span *s = realloc(d->spans, cap * sizeof *s);
        if (!s)
            return NAHR_ENOMEM;
        d->spans = s;
        d->capspans = cap;
    }
    /* reuse an identical layer string to keep exporters' grouping cheap */
    const char *l = NULL;
    for (size_t i = d->nspans; i-- > 0 && !l;)
        if (strcmp(d->spans[i].layer, layer) == 0)
            l = d->spans[i].layer;
    if (!l)
        l = strcmp(layer, "entities") == 0 ? "entities" : strdup_valid(d, layer);
    const char *t = strdup_recent(d, type);
    if (!l || !t)
        return NAHR_ENOMEM;
    nahr_span *s = &d->spans[d->nspans];
    s->layer = l;
    s->type = t;
    s->start = start;
    s->end = end;
    s->canonical = NULL;
    s->score = -1;
    s->attrs = NULL;
    return (int)d->nspans++;
}

int nahr_doc_add_span(nahr_doc *d, const char *type, size_t start, size_t end)
{
    return nahr_doc_add_span_in(d, "entities", type, start, end);
}

size_t nahr_doc_span_count(const nahr_doc *d) { return d->nspans; }
nahr_span *nahr_doc_span(nahr_doc *d, size_t i) { return i < d->nspans ? &d->spans[i] : NULL; }

int nahr_span_set_canonical(nahr_doc *d, size_t i, const char *canonical)
{
    if (i >= d->nspans)
        return NAHR_EINVAL;
    if (!canonical) {
        d->spans[i].canonical = NULL;
        return NAHR_OK;
    }
    const char *c = strdup_recent(d, canonical);
    if (!c)
        return NAHR_ENOMEM;
    d->spans[i].canonical = c;
    return NAHR_OK;
}

/* 1 for the keys a span writes itself (type, text, start, end, canonical) */
static int span_key_reserved(const char *key)
{
    switch (key[0]) {
    case 't': return strcmp(key, "type") == 0 || strcmp(key, "text") == 0;
    case 's': return strcmp(key, "start") == 0;
    case 'e': return strcmp(key, "end") == 0;
    case 'c': return strcmp(key, "canonical") == 0;
    default: return 0;
    }
}

/* key as a string of the arena: one of the last keys copied, or a new copy */
static const char *span_key_copy(nahr_doc *d, const char *key)
{
    for (size_t k = 0; k < sizeof d->attr_keys / sizeof *d->attr_keys; k++)
        if (d->attr_keys[k] && strcmp(d->attr_keys[k], key) == 0)
            return d->attr_keys[k];
    const char *c = strdup_valid(d, key);
    if (c)
        d->attr_keys[d->attr_keys_next++ % (sizeof d->attr_keys / sizeof *d->attr_keys)] = c;
    return c;
}

int nahr_span_set_attr(nahr_doc *d, size_t i, const char *key, nahr_value *v)
{
    if (i >= d->nspans || !key || !v)
        return NAHR_EINVAL;
    if (span_key_reserved(key))
        return NAHR_EINVAL;
    nahr_value *a = d->spans[i].attrs;
    if (!a && !(a = d->spans[i].attrs = nahr_value_object(d)))
        return NAHR_ENOMEM;
    return object_put(d, a, key, v, span_key_copy);
}

int nahr_doc_remove_span(nahr_doc *d, size_t i)
{
    if (i >= d->nspans)
        return NAHR_EINVAL;
    memmove(d->spans + i, d->spans + i + 1, (d->nspans - i - 1) * sizeof *d->spans);
    d->nspans--;
    return NAHR_OK;
}

void nahr__doc_set_failed(nahr_doc *d, const char *stage, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    d->status = DOC_FAILED;
    d->fail_stage = stage;
    d->fail_reason = strdup_valid(d, msg);
    if (!d->fail_reason)
        d->fail_reason = (char *)"out of memory";
}
