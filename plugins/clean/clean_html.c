/* clean_html.c - HTML page -> text blocks, with libxml2's HTML parser
 * (error-tolerant, decodes entities, no network).
 *
 * 1. one bottom-up pass stores, for every element, its text and link-text
 *    lengths (in node->_private, pointing into an array we own);
 * 2. chrome elements are skipped: script, style, nav, aside, footer, form,
 *    iframe, ... and elements whose class/id says share/related/comments/
 *    cookie/newsletter/breadcrumb/sidebar/...;
 * 3. the main block is the element that collects the most non-link text of
 *    its paragraph children (a readability-style score: a paragraph gives its
 *    text to its parent and half to its grandparent);
 * 4. its text is written with block elements as paragraph breaks; link-dense
 *    lists inside it (menus, "related" lists) are dropped.
 * Title/date/site come from <meta og:*>, <title>, <h1>, <time datetime>.
 * The text then goes through the same text-level cleaning as plain input.
 */
#include "clean.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <libxml/parser.h>

#define MAX_DEPTH 400

typedef struct {
    size_t text, link;
    double score;
} elem_info;

typedef struct {
    elem_info *info;
    size_t n, cap;
    clean_html_result *res;
    xmlNodePtr best;
    double best_score;
} walk;

void clean_html_global_init(void) { xmlInitParser(); }

int clean_html_sniff(const char *s, size_t n)
{
    size_t i = 0;
    if (n >= 3 && (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB && (unsigned char)s[2] == 0xBF) i = 3;
    while (i < n && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) i++;
    if (i >= n || s[i] != '<') return 0;
    size_t lim = n - i < 2048 ? n - i : 2048;
    static const char *const marks[] = {"<!doctype html", "<html", "<head", "<body", "<div", "<p>", "<p ", "<article", "<meta", "<title"};
    for (size_t k = 0; k < sizeof marks / sizeof *marks; k++) {
        size_t ml = strlen(marks[k]);
        for (size_t j = i; j + ml <= i + lim; j++)
            if (strncasecmp(s + j, marks[k], ml) == 0) return 1;
    }
    return 0;
}

static int name_is(xmlNodePtr n, const char *name) { return n->name && strcasecmp((const char *)n->name, name) == 0; }

static int is_chrome_tag(xmlNodePtr n)
{
    static const char *const tags[] = {"script", "style", "noscript", "nav", "aside", "footer", "form",
                                       "iframe", "svg", "button", "select", "template", "input",
                                       "textarea", "object", "embed", "canvas", "head", "menu", "dialog"};
    for (size_t k = 0; k < sizeof tags / sizeof *tags; k++)
        if (name_is(n, tags[k])) return 1;
    return 0;
}

static int attr_chrome(xmlNodePtr n)
{
    static const char *const words[] = {"share", "social", "related", "comment", "cookie", "newsletter",
                                        "breadcrumb", "sidebar", "advert", "banner", "promo", "subscribe",
                                        "footer", "navbar", "menu", "popup", "modal", "widget", "tags",
                                        "sharing", "consent", "gdpr", "read-more", "readmore", "most-read"};
    static const char *const attrs[] = {"class", "id", "role"};
    for (size_t a = 0; a < 3; a++) {
        xmlChar *v = xmlGetProp(n, (const xmlChar *)attrs[a]);
        if (!v) continue;
        int hit = 0;
        if (a == 2) hit = strcasecmp((const char *)v, "navigation") == 0 || strcasecmp((const char *)v, "complementary") == 0 ||
                          strcasecmp((const char *)v, "contentinfo") == 0 || strcasecmp((const char *)v, "banner") == 0;
        for (size_t k = 0; !hit && a < 2 && k < sizeof words / sizeof *words; k++)
            if (strcasestr((const char *)v, words[k])) hit = 1;
        xmlFree(v);
        if (hit) return 1;
    }
    return 0;
}

static int is_block(xmlNodePtr n)
{
    static const char *const tags[] = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol",
                                       "table", "tr", "blockquote", "section", "article", "header",
                                       "main", "pre", "dl", "dt", "dd", "figure", "figcaption", "hr",
                                       "address", "center", "body"};
    for (size_t k = 0; k < sizeof tags / sizeof *tags; k++)
        if (name_is(n, tags[k])) return 1;
    return 0;
}

static int skip_elem(xmlNodePtr n) { return is_chrome_tag(n) || attr_chrome(n); }

static elem_info *info_of(xmlNodePtr n) { return (elem_info *)n->_private; }

/* Pass 1: text and link lengths; returns the text length of n. */
static size_t measure(walk *w, xmlNodePtr n, int depth, int in_link, size_t *link_out)
{
    size_t text = 0, link = 0;
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            size_t l = c->content ? strlen((const char *)c->content) : 0;
            text += l;
            if (in_link) link += l;
        } else if (c->type == XML_ELEMENT_NODE) {
            if (depth > MAX_DEPTH || skip_elem(c)) {
                c->_private = NULL;
                continue;
            }
            if (w->n == w->cap) break; /* counted elements only */
            elem_info *ei = &w->info[w->n++];
            memset(ei, 0, sizeof *ei);
            c->_private = ei;
            size_t cl = 0;
            ei->text = measure(w, c, depth + 1, in_link || name_is(c, "a"), &cl);
            ei->link = cl;
            text += ei->text;
            link += cl;
        }
    }
    *link_out = link;
    return text;
}

static size_t count_elems(xmlNodePtr n, int depth)
{
    size_t k = 0;
    for (xmlNodePtr c = n->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE) k += 1 + (depth < MAX_DEPTH ? count_elems(c, depth + 1) : 0);
    return k;
}

/* Pass 2: paragraph scores go to parent and grandparent. */
static void score(walk *w, xmlNodePtr n, int depth)
{
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || !info_of(c) || depth > MAX_DEPTH) continue;
        elem_info *ei = info_of(c);
        if ((name_is(c, "p") || name_is(c, "pre") || name_is(c, "blockquote") || name_is(c, "li") ||
             name_is(c, "h2") || name_is(c, "h3") || name_is(c, "div") || name_is(c, "td")) &&
            ei->text >= 40) {
            double own = (double)(ei->text - ei->link);
            if (name_is(c, "div") || name_is(c, "td")) {
                /* a div counts only its direct text (children p score on their own) */
                size_t direct = 0;
                for (xmlNodePtr t = c->children; t; t = t->next)
                    if (t->type == XML_TEXT_NODE && t->content) direct += strlen((const char *)t->content);
                own = (double)direct;
            }
            xmlNodePtr p = c->parent;
            if (p && p->type == XML_ELEMENT_NODE && info_of(p)) {
                info_of(p)->score += own;
                xmlNodePtr g = p->parent;
                if (g && g->type == XML_ELEMENT_NODE && info_of(g)) info_of(g)->score += own / 2;
            }
        }
        score(w, c, depth + 1);
    }
}

static void pick(walk *w, xmlNodePtr n, int depth)
{
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || !info_of(c) || depth > MAX_DEPTH) continue;
        elem_info *ei = info_of(c);
        double s = ei->score * (1.0 - (ei->text ? (double)ei->link / (double)ei->text : 0));
        if (s > w->best_score) {
            w->best_score = s;
            w->best = c;
        }
        pick(w, c, depth + 1);
    }
}

static void put_text(nahr_buf *b, const char *s)
{
    /* newlines inside HTML text are spaces */
    for (const char *p = s; *p; p++) nahr_buf_putc(b, (*p == '\n' || *p == '\r' || *p == '\t') ? ' ' : *p);
}

static void emit(walk *w, xmlNodePtr n, int depth)
{
    nahr_buf *b = &w->res->text;
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            if (c->content) put_text(b, (const char *)c->content);
            continue;
        }
        if (c->type != XML_ELEMENT_NODE) continue;
        elem_info *ei = info_of(c);
        if (!ei || depth > MAX_DEPTH) {
            w->res->removed_blocks++;
            continue;
        }
        if (name_is(c, "br")) {
            nahr_buf_putc(b, '\n');
            continue;
        }
        int block = is_block(c);
        /* link-dense lists and blocks inside the content: menus, related links */
        if ((name_is(c, "ul") || name_is(c, "ol") || name_is(c, "div") || name_is(c, "table") ||
             name_is(c, "section")) &&
            ei->text > 0 && (double)ei->link / (double)ei->text > 0.6) {
            w->res->removed_blocks++;
            continue;
        }
        if (name_is(c, "h1") && !w->res->h1[0]) {
            xmlChar *t = xmlNodeGetContent(c);
            if (t) {
                snprintf(w->res->h1, sizeof w->res->h1, "%s", (const char *)t);
                xmlFree(t);
            }
        }
        if (block) nahr_buf_puts(b, "\n\n");
        if (name_is(c, "td") || name_is(c, "th")) nahr_buf_putc(b, ' ');
        emit(w, c, depth + 1);
        if (block) nahr_buf_puts(b, "\n\n");
    }
}

static void copy_trunc(char *dst, size_t cap, const char *src)
{
    size_t l = strlen(src);
    if (l >= cap) {
        l = cap - 1;
        while (l && ((unsigned char)src[l] & 0xC0) == 0x80) l--;
    }
    memcpy(dst, src, l);
    dst[l] = '\0';
    for (char *p = dst; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t') *p = ' ';
}

static void find_meta(xmlNodePtr n, clean_html_result *r, int depth)
{
    for (xmlNodePtr c = n; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || depth > MAX_DEPTH) continue;
        if (name_is(c, "meta")) {
            xmlChar *prop = xmlGetProp(c, (const xmlChar *)"property");
            if (!prop) prop = xmlGetProp(c, (const xmlChar *)"name");
            xmlChar *content = xmlGetProp(c, (const xmlChar *)"content");
            if (prop && content) {
                const char *p = (const char *)prop, *v = (const char *)content;
                if (!strcasecmp(p, "og:title") || !strcasecmp(p, "twitter:title")) {
                    if (!r->title[0]) copy_trunc(r->title, sizeof r->title, v);
                } else if (!strcasecmp(p, "article:published_time") || !strcasecmp(p, "date") ||
                           !strcasecmp(p, "pubdate") || !strcasecmp(p, "publishdate") ||
                           !strcasecmp(p, "dc.date.issued") || !strcasecmp(p, "dc.date") ||
                           !strcasecmp(p, "og:published_time")) {
                    if (!r->date[0]) copy_trunc(r->date, sizeof r->date, v);
                } else if (!strcasecmp(p, "og:site_name")) {
                    if (!r->site[0]) copy_trunc(r->site, sizeof r->site, v);
                }
            }
            xmlFree(prop);
            xmlFree(content);
        } else if (name_is(c, "title")) {
            xmlChar *t = xmlNodeGetContent(c);
            /* og:title wins; <title> is only a fallback (it often carries " | Site") */
            if (t && !r->title[0] && !r->h1[0]) copy_trunc(r->h1, sizeof r->h1, (const char *)t);
            xmlFree(t);
        } else if (name_is(c, "time") && !r->date[0]) {
            xmlChar *t = xmlGetProp(c, (const xmlChar *)"datetime");
            if (t) copy_trunc(r->date, sizeof r->date, (const char *)t);
            xmlFree(t);
        }
        if (c->children) find_meta(c->children, r, depth + 1);
    }
}

int clean_html_extract(const char *s, size_t n, clean_html_result *res)
{
    nahr_buf_reset(&res->text);
    res->title[0] = res->h1[0] = res->date[0] = res->site[0] = '\0';
    res->removed_blocks = 0;
    if (n > INT_MAX) n = INT_MAX;
    htmlDocPtr d = htmlReadMemory(s, (int)n, NULL, "UTF-8",
                                  HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                      HTML_PARSE_NONET | HTML_PARSE_COMPACT);
    if (!d) return NAHR_EFORMAT;
    xmlNodePtr root = xmlDocGetRootElement(d);
    if (!root) {
        xmlFreeDoc(d);
        return NAHR_EFORMAT;
    }
    /* <title> goes to h1 as a fallback first; a real <h1> replaces it below */
    find_meta(root, res, 0);
    char title_tag[512];
    copy_trunc(title_tag, sizeof title_tag, res->h1);
    res->h1[0] = '\0';
    walk w = {.res = res};
    w.cap = count_elems(root, 0) + 1;
    w.info = calloc(w.cap, sizeof *w.info);
    if (!w.info) {
        xmlFreeDoc(d);
        return NAHR_ENOMEM;
    }
    elem_info *rootinfo = &w.info[w.n++];
    root->_private = rootinfo;
    size_t rl = 0;
    rootinfo->text = measure(&w, root, 0, 0, &rl);
    rootinfo->link = rl;
    score(&w, root, 0);
    pick(&w, root, 0);
    xmlNodePtr main = w.best && w.best_score >= 80 ? w.best : root;
    emit(&w, main, 0);
    if (!res->h1[0] && main != root) {
        /* the headline usually sits outside the main block: find the first h1 */
        walk w2 = w;
        nahr_buf tmp = {0};
        clean_html_result r2 = {0};
        r2.text = tmp;
        w2.res = &r2;
        emit(&w2, root, 0);
        copy_trunc(res->h1, sizeof res->h1, r2.h1);
        nahr_buf_free(&r2.text);
    }
    if (!res->title[0] && !res->h1[0]) {
        /* <title> often ends with the site name: "Headline | Site", "Headline - Site" */
        static const char *const seps[] = {" | ", " - ", " \xE2\x80\x93 ", " \xE2\x80\x94 ", " :: "};
        char *cut = NULL;
        for (size_t k = 0; k < sizeof seps / sizeof *seps; k++) {
            char *p = title_tag, *q;
            while ((q = strstr(p, seps[k])) != NULL) {
                if (!cut || q > cut) cut = q;
                p = q + 1;
            }
        }
        if (cut) {
            size_t words = 1;
            for (const char *p = cut + 3; *p; p++) words += *p == ' ';
            if (words <= 4 && cut > title_tag) *cut = '\0';
        }
    }
    if (!res->title[0]) copy_trunc(res->title, sizeof res->title, res->h1[0] ? res->h1 : title_tag);
    free(w.info);
    xmlFreeDoc(d);
    if (!res->text.data && nahr_buf_reserve(&res->text, 1)) return NAHR_ENOMEM;
    return NAHR_OK;
}
