/* query.c - the parser of the query language (query.h): a lexer over the
 * bytes of the query and a recursive-descent parser,
 *
 *   or    := and ( "OR" and )*
 *   and   := item ( ["AND"] item )*
 *   item  := [ "-" | "NOT" ] [ field ":" ] ( word | phrase | "(" or ")" )
 *
 * followed by the checks and simplifications query.h promises. */
#include "text/query.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text/text.h"

static const struct {
    const char *name, *column;
} fields[TQ_FIELD_COUNT] = {
    [TQ_FIELD_ANY] = {"", NULL},
    [TQ_FIELD_TITLE] = {"title", "title"},
    [TQ_FIELD_CLAIM] = {"claim", "claim_text"},
    [TQ_FIELD_APPLICANT] = {"applicant", "applicant_name"},
    [TQ_FIELD_ASSIGNEE] = {"assignee", "assignee_name"},
    [TQ_FIELD_INVENTOR] = {"inventor", "inventor_names"},
    [TQ_FIELD_PATENT] = {"patent", "patent_id"},
    [TQ_FIELD_LOC] = {"loc", "loc_class"},
};

const char *tq_field_column(tq_field f)
{
    return f > TQ_FIELD_ANY && f < TQ_FIELD_COUNT ? fields[f].column : NULL;
}

const char *tq_field_name(tq_field f)
{
    return f > TQ_FIELD_ANY && f < TQ_FIELD_COUNT ? fields[f].name : "";
}

/* The parser's state: the query, where it is, and the first error. */
typedef struct parser {
    const char *q;
    size_t len, at;
    size_t n_terms;
    int failed;
    size_t err_pos; /* byte offset of the problem */
    ds_err *err;
} parser;

static int fail_at(parser *p, size_t pos, ds_code code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The character position of byte offset pos (UTF-8 continuation bytes do
 * not count). */
static size_t char_pos(const char *q, size_t pos)
{
    size_t n = 0;
    for (size_t i = 0; i < pos; i++)
        n += ((unsigned char)q[i] & 0xc0) != 0x80;
    return n;
}

static int fail_at(parser *p, size_t pos, ds_code code, const char *fmt, ...)
{
    if (p->failed)
        return -1;
    p->failed = 1;
    p->err_pos = pos;
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ds_fail(p->err, code, "query: %s (at character %zu)", msg,
                   char_pos(p->q, pos) + 1);
}

static void node_free(tq_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n_kids; i++)
        node_free(n->kids[i]);
    free(n->kids);
    free(n->text);
    free(n);
}

void tq_free(tq_query *q)
{
    if (!q)
        return;
    node_free(q->root);
    free(q);
}

/* ---- the lexer ------------------------------------------------------- */

/* Whitespace: ASCII spaces and control characters, no-break space (U+00A0)
 * and ideographic space (U+3000). Returns its length in bytes, 0 if none. */
static size_t space_at(const parser *p, size_t i)
{
    const unsigned char *s = (const unsigned char *)p->q;
    if (i >= p->len)
        return 0;
    if (s[i] <= 0x20 || s[i] == 0x7f)
        return s[i] ? 1 : 0;
    if (s[i] == 0xc2 && i + 1 < p->len && s[i + 1] == 0xa0)
        return 2;
    if (s[i] == 0xe3 && i + 2 < p->len && s[i + 1] == 0x80 && s[i + 2] == 0x80)
        return 3;
    return 0;
}

static void skip_space(parser *p)
{
    size_t n;
    while ((n = space_at(p, p->at)) > 0)
        p->at += n;
}

/* The end of the bare word starting at i: whitespace, '(', ')', '"' or the
 * end of the query. */
static size_t word_end(const parser *p, size_t i)
{
    while (i < p->len && !space_at(p, i) && p->q[i] != '(' && p->q[i] != ')' && p->q[i] != '"')
        i++;
    return i;
}

/* Is the bare word at p->at exactly kw (and not the start of a longer one)? */
static int keyword_at(const parser *p, const char *kw)
{
    size_t k = strlen(kw);
    return p->at + k <= p->len && memcmp(p->q + p->at, kw, k) == 0 &&
           word_end(p, p->at) == p->at + k;
}

static int at_end_of_and(const parser *p)
{
    return p->at >= p->len || p->q[p->at] == ')' || keyword_at(p, "OR");
}

/* ---- building nodes ---------------------------------------------------- */

static tq_node *new_node(parser *p, tq_kind kind, size_t pos)
{
    tq_node *n = calloc(1, sizeof *n);
    if (!n)
        fail_at(p, pos, DS_ENOMEM, "out of memory");
    else {
        n->kind = kind;
        n->pos = pos;
    }
    return n;
}

static int add_kid(parser *p, tq_node *parent, tq_node *kid)
{
    tq_node **grown = realloc(parent->kids, (parent->n_kids + 1) * sizeof *grown);
    if (!grown) {
        node_free(kid);
        return fail_at(p, parent->pos, DS_ENOMEM, "out of memory");
    }
    parent->kids = grown;
    parent->kids[parent->n_kids++] = kid;
    return 0;
}

/* A term from q[from..to), or NULL: dropped (no letter or digit) or failed
 * (p->failed). */
static tq_node *make_term(parser *p, size_t from, size_t to, size_t pos, tq_field field,
                          int phrase, int prefix)
{
    if (tx_count_tokens(p->q + from, to - from, 1) == 0)
        return NULL; /* says nothing: left out (query.h) */
    if (++p->n_terms > TQ_MAX_TERMS) {
        fail_at(p, pos, DS_ETOOBIG, "more than %d words or phrases", TQ_MAX_TERMS);
        return NULL;
    }
    tq_node *n = new_node(p, TQ_TERM, pos);
    if (!n)
        return NULL;
    n->field = field;
    n->phrase = phrase;
    n->prefix = prefix;
    n->text = strndup(p->q + from, to - from);
    if (!n->text) {
        node_free(n);
        fail_at(p, pos, DS_ENOMEM, "out of memory");
        return NULL;
    }
    return n;
}

/* Where the subtree starts in the query: its first term's byte offset. */
static size_t first_pos(const tq_node *n)
{
    return n->kind == TQ_TERM || n->n_kids == 0 ? n->pos : first_pos(n->kids[0]);
}

/* ---- the parser --------------------------------------------------------- */

static tq_node *parse_or(parser *p, tq_field field, int depth);

/* A quoted phrase at p->at (on the opening '"'). */
static tq_node *parse_phrase(parser *p, tq_field field)
{
    size_t open = p->at;
    const char *close = memchr(p->q + open + 1, '"', p->len - open - 1);
    if (!close) {
        fail_at(p, open, DS_EINVAL, "unclosed quote: a phrase needs its closing \"");
        return NULL;
    }
    size_t end = (size_t)(close - p->q);
    p->at = end + 1;
    int prefix = 0;
    if (p->at < p->len && p->q[p->at] == '*') {
        prefix = 1;
        p->at++;
    }
    if (p->at < p->len && !space_at(p, p->at) && p->q[p->at] != ')' && p->q[p->at] != '(') {
        fail_at(p, p->at, DS_EINVAL,
                "a phrase must be followed by a space, ')' or the end of the query");
        return NULL;
    }
    return make_term(p, open + 1, end, open, field, 1, prefix);
}

/* A bare word at p->at: the field prefix has been read already. */
static tq_node *parse_word(parser *p, tq_field field)
{
    size_t start = p->at, end = word_end(p, start);
    p->at = end;
    if (p->q[start] == '{') {
        fail_at(p, start, DS_EINVAL,
                "'{' is not part of the query language; to search a field write "
                "title:word, claim:word, ...");
        return NULL;
    }
    const char *star = memchr(p->q + start, '*', end - start);
    int prefix = 0;
    if (star) {
        size_t s = (size_t)(star - p->q);
        if (s != end - 1) {
            fail_at(p, s, DS_EINVAL, "'*' may only end a word, as in lamp*");
            return NULL;
        }
        if (tx_count_tokens(p->q + start, s - start, 1) == 0) {
            fail_at(p, s, DS_EINVAL, "'*' must follow a word, as in lamp*");
            return NULL;
        }
        prefix = 1;
        end = s;
    }
    return make_term(p, start, end, start, field, 0, prefix);
}

/* A field name and its colon at p->at, if there is one: TQ_FIELD_ANY when
 * the word is not "name:..." with name all ASCII letters; -1 (failed) for
 * an unknown name. */
static int parse_field(parser *p)
{
    size_t i = p->at;
    while (i < p->len && ((p->q[i] >= 'a' && p->q[i] <= 'z') || (p->q[i] >= 'A' && p->q[i] <= 'Z')))
        i++;
    if (i == p->at || i >= p->len || p->q[i] != ':')
        return TQ_FIELD_ANY;
    size_t n = i - p->at;
    const char *name = p->q + p->at;
    int found = -1;
    for (int f = TQ_FIELD_TITLE; f < TQ_FIELD_COUNT; f++)
        if (strlen(fields[f].name) == n && strncasecmp(fields[f].name, name, n) == 0)
            found = f;
    if (n == 2 && strncasecmp(name, "id", 2) == 0)
        found = TQ_FIELD_PATENT;
    if (found < 0)
        return fail_at(p, p->at, DS_EINVAL,
                       "unknown field \"%.*s:\"; the fields are title:, claim:, applicant:, "
                       "assignee:, inventor:, patent: (or id:) and loc:",
                       (int)(n > 40 ? 40 : n), name);
    p->at = i + 1;
    return found;
}

/* One item: [-|NOT] [field:] (word | phrase | group). NULL when dropped
 * or failed. */
static tq_node *parse_item(parser *p, tq_field field, int depth)
{
    size_t start = p->at;
    int negated = 0;
    if (p->q[p->at] == '-' && p->at + 1 < p->len && !space_at(p, p->at + 1) &&
        p->q[p->at + 1] != ')') {
        if (p->q[p->at + 1] == '-') {
            fail_at(p, p->at, DS_EINVAL,
                    "'-' must be followed by a word, phrase or group, not another '-'");
            return NULL;
        }
        negated = 1;
        p->at++;
    } else if (keyword_at(p, "NOT")) {
        p->at += 3;
        skip_space(p);
        if (at_end_of_and(p) || keyword_at(p, "AND") || keyword_at(p, "NOT") ||
            p->q[p->at] == '-') {
            fail_at(p, start, DS_EINVAL, "NOT must be followed by a word, phrase or group");
            return NULL;
        }
        negated = 1;
    }
    int f = parse_field(p);
    if (f < 0)
        return NULL;
    if (f != TQ_FIELD_ANY) {
        if (field != TQ_FIELD_ANY && (tq_field)f != field) {
            fail_at(p, start, DS_EINVAL, "field %s: inside a group of field %s:",
                    tq_field_name((tq_field)f), tq_field_name(field));
            return NULL;
        }
        field = (tq_field)f;
        skip_space(p);
        if (p->at < p->len && p->q[p->at] == '-') {
            fail_at(p, p->at, DS_EINVAL, "to exclude in a field, put '-' before it: -%s:word",
                    tq_field_name(field));
            return NULL;
        }
        if (p->at >= p->len || p->q[p->at] == ')') {
            fail_at(p, start, DS_EINVAL, "%s: must be followed by a word, phrase or group",
                    tq_field_name(field));
            return NULL;
        }
    }
    tq_node *n;
    if (p->q[p->at] == '"') {
        n = parse_phrase(p, field);
    } else if (p->q[p->at] == '(') {
        size_t open = p->at++;
        if (depth >= TQ_MAX_DEPTH) {
            fail_at(p, open, DS_ETOOBIG, "parentheses nested more than %d deep", TQ_MAX_DEPTH);
            return NULL;
        }
        n = parse_or(p, field, depth + 1);
        if (p->failed) {
            node_free(n);
            return NULL;
        }
        if (p->at >= p->len || p->q[p->at] != ')') {
            node_free(n);
            fail_at(p, open, DS_EINVAL, "unclosed '(': a group needs its ')'");
            return NULL;
        }
        p->at++;
    } else {
        n = parse_word(p, field);
    }
    if (n && negated)
        n->negated = 1;
    return n;
}

/* and := item ( [AND] item )*; the items are checked and simplified. */
static tq_node *parse_and(parser *p, tq_field field, int depth)
{
    size_t start = p->at;
    tq_node *and = new_node(p, TQ_AND, start);
    if (!and)
        return NULL;
    int any_item = 0;
    for (;;) {
        skip_space(p);
        if (at_end_of_and(p))
            break;
        if (keyword_at(p, "AND")) {
            size_t kw = p->at;
            p->at += 3;
            skip_space(p);
            if (!any_item || at_end_of_and(p) || keyword_at(p, "AND")) {
                fail_at(p, kw, DS_EINVAL, "AND needs a word, phrase or group on each side");
                goto fail;
            }
        }
        any_item = 1;
        tq_node *item = parse_item(p, field, depth);
        if (p->failed)
            goto fail;
        if (item && add_kid(p, and, item) < 0)
            goto fail;
    }
    if (and->n_kids == 0) {
        node_free(and);
        return NULL;
    }
    size_t positive = 0;
    for (size_t i = 0; i < and->n_kids; i++)
        positive += !and->kids[i]->negated;
    if (positive == 0) {
        fail_at(p, first_pos(and->kids[0]), DS_EINVAL,
                "a query needs at least one word or phrase that must match; '-' and NOT "
                "only exclude from what the others find");
        goto fail;
    }
    if (and->n_kids == 1) {
        tq_node *only = and->kids[0];
        and->n_kids = 0;
        node_free(and);
        return only;
    }
    and->pos = first_pos(and->kids[0]);
    return and;
fail:
    node_free(and);
    return NULL;
}

static tq_node *parse_or(parser *p, tq_field field, int depth)
{
    skip_space(p);
    size_t start = p->at;
    if (p->at < p->len && p->q[p->at] == ')' && depth > 0) {
        fail_at(p, start, DS_EINVAL, "empty group: '(' must hold a word, phrase or group");
        return NULL;
    }
    tq_node *or = new_node(p, TQ_OR, start);
    if (!or)
        return NULL;
    for (;;) {
        skip_space(p);
        size_t branch = p->at;
        if (keyword_at(p, "OR")) {
            fail_at(p, branch, DS_EINVAL, "OR needs a word, phrase or group on each side");
            goto fail;
        }
        tq_node *and = parse_and(p, field, depth);
        if (p->failed)
            goto fail;
        if (and && and->negated) {
            fail_at(p, and->pos, DS_EINVAL,
                    "each side of OR needs a word or phrase that must match; '-' and NOT "
                    "only exclude");
            node_free(and);
            goto fail;
        }
        if (and && add_kid(p, or, and) < 0)
            goto fail;
        skip_space(p);
        if (!keyword_at(p, "OR"))
            break;
        size_t kw = p->at;
        p->at += 2;
        skip_space(p);
        if (at_end_of_and(p)) {
            fail_at(p, kw, DS_EINVAL, "OR needs a word, phrase or group on each side");
            goto fail;
        }
    }
    if (p->at < p->len && p->q[p->at] == ')' && depth == 0) {
        fail_at(p, p->at, DS_EINVAL, "')' without a '(' before it");
        goto fail;
    }
    if (or->n_kids == 0) {
        node_free(or);
        return NULL;
    }
    if (or->n_kids == 1) {
        tq_node *only = or->kids[0];
        or->n_kids = 0;
        node_free(or);
        return only;
    }
    or->pos = first_pos(or->kids[0]);
    return or;
fail:
    node_free(or);
    return NULL;
}

/* The bytes must be UTF-8 with no NUL: the message names the first bad
 * one. */
static int check_bytes(parser *p)
{
    const unsigned char *s = (const unsigned char *)p->q;
    for (size_t i = 0; i < p->len;) {
        unsigned char c = s[i];
        if (c == 0)
            return fail_at(p, i, DS_EINVAL, "a NUL byte is not allowed in a query");
        if (c < 0x80) {
            i++;
            continue;
        }
        int n = (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : -1;
        int ok = n > 0 && p->len - i > (size_t)n;
        unsigned cp = ok ? c & (0x3fu >> n) : 0;
        for (int k = 1; ok && k <= n; k++) {
            ok = (s[i + (size_t)k] & 0xc0) == 0x80;
            cp = cp << 6 | (s[i + (size_t)k] & 0x3fu);
        }
        static const unsigned least[4] = {0, 0x80, 0x800, 0x10000};
        if (!ok || cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return fail_at(p, i, DS_EINVAL, "the query is not valid UTF-8");
        i += (size_t)n + 1;
    }
    return 0;
}

int tq_parse(const char *q, size_t len, tq_query **out, size_t *err_at, ds_err *err)
{
    parser p = {.q = q ? q : "", .len = q ? len : 0, .err = err};
    *out = NULL;
    if (err_at)
        *err_at = 0;
    tq_node *root = NULL;
    if (p.len > TQ_MAX_BYTES) {
        fail_at(&p, 0, DS_ETOOBIG, "the query is %zu bytes long; at most %d are allowed",
                p.len, TQ_MAX_BYTES);
        goto fail;
    }
    if (check_bytes(&p) < 0)
        goto fail;
    root = parse_or(&p, TQ_FIELD_ANY, 0);
    if (p.failed)
        goto fail;
    if (!root) {
        fail_at(&p, 0, DS_EINVAL,
                "the query has no word to search for (letters or digits)");
        goto fail;
    }
    tq_query *query = calloc(1, sizeof *query);
    if (!query) {
        fail_at(&p, 0, DS_ENOMEM, "out of memory");
        goto fail;
    }
    query->root = root;
    query->n_terms = p.n_terms;
    *out = query;
    return 0;
fail:
    node_free(root);
    if (err_at)
        *err_at = char_pos(p.q, p.err_pos);
    return -1;
}
