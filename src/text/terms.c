/* terms.c - a patent's terms and a query's legs for Milvus (terms.h). */
#include "text/terms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "milvus/expr.h"
#include "text/text.h"

void tx_termset_clear(tx_termset *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->terms[i]);
    free(s->terms);
    s->terms = NULL;
    s->n = 0;
}

static void leg_clear(tx_leg *l)
{
    tx_termset_clear(&l->must);
    for (size_t i = 0; i < l->n_must_not; i++)
        tx_termset_clear(&l->must_not[i]);
    free(l->must_not);
    memset(l, 0, sizeof *l);
}

void tx_legs_clear(tx_legs *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        leg_clear(&l->legs[i]);
    free(l->legs);
    l->legs = NULL;
    l->n = 0;
}

/* Add a copy of prefix + term[0..n) to s unless there already (linear:
 * sets here are small); 1 if added, 0 if there, -1 out of memory. */
static int set_add(tx_termset *s, const char *prefix, const char *term, size_t n)
{
    if (!prefix)
        prefix = ""; /* memcmp and memcpy must not be given NULL, even for 0 bytes */
    size_t p = strlen(prefix);
    for (size_t i = 0; i < s->n; i++)
        if (strlen(s->terms[i]) == p + n && memcmp(s->terms[i], prefix, p) == 0 &&
            memcmp(s->terms[i] + p, term, n) == 0)
            return 0;
    char *copy = malloc(p + n + 1);
    char **grown = copy ? realloc(s->terms, (s->n + 1) * sizeof *grown) : NULL;
    if (!grown) {
        free(copy);
        return -1;
    }
    memcpy(copy, prefix, p);
    memcpy(copy + p, term, n);
    copy[p + n] = '\0';
    s->terms = grown;
    s->terms[s->n++] = copy;
    return 1;
}

static int set_copy(tx_termset *to, const tx_termset *from)
{
    for (size_t i = 0; i < from->n; i++)
        if (set_add(to, NULL, from->terms[i], strlen(from->terms[i])) < 0)
            return -1;
    return 0;
}

static int by_bytes(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- a patent's terms ---------------------------------------------------- */

typedef struct row_ctx {
    tx_termset *set;
    const char *prefix; /* "title:" */
    int truncated, nomem;
} row_ctx;

static int add_row_term(row_ctx *c, const char *prefix, const char *term, size_t n)
{
    if ((prefix ? strlen(prefix) : 0) + n > TX_TERM_BYTES_MAX)
        return 0;
    int known = 0;
    for (size_t i = 0; i < c->set->n && !known; i++)
        known = strlen(c->set->terms[i]) == (prefix ? strlen(prefix) : 0) + n &&
                memcmp(c->set->terms[i], prefix ? prefix : "", prefix ? strlen(prefix) : 0) == 0 &&
                memcmp(c->set->terms[i] + (prefix ? strlen(prefix) : 0), term, n) == 0;
    if (known)
        return 0;
    if (c->set->n >= TX_ROW_TERMS_MAX) {
        c->truncated = 1;
        return 1;
    }
    if (set_add(c->set, prefix, term, n) < 0) {
        c->nomem = 1;
        return 1;
    }
    return 0;
}

static int row_term(const char *term, size_t n, size_t start, size_t end, void *ctx)
{
    (void)start, (void)end;
    row_ctx *c = ctx;
    if (add_row_term(c, NULL, term, n) || (c->prefix && add_row_term(c, c->prefix, term, n)))
        return 1;
    return 0;
}

/* "loc:" + the class folded to lower case, whole and up to its '-'. */
static void loc_terms(row_ctx *c, const char *loc)
{
    char folded[TX_TERM_BYTES_MAX + 1];
    size_t n = 0;
    while (*loc == ' ')
        loc++;
    for (; loc[n] && n < TX_TERM_BYTES_MAX; n++)
        folded[n] = (char)(loc[n] >= 'A' && loc[n] <= 'Z' ? loc[n] + 32 : loc[n]);
    while (n > 0 && folded[n - 1] == ' ')
        n--;
    if (n == 0)
        return;
    add_row_term(c, "loc:", folded, n);
    const char *dash = memchr(folded, '-', n);
    if (dash && dash > folded)
        add_row_term(c, "loc:", folded, (size_t)(dash - folded));
}

int tx_patent_terms(const char *const text[TQ_FIELD_COUNT], tx_termset *out, int *truncated,
                    ds_err *err)
{
    memset(out, 0, sizeof *out);
    if (truncated)
        *truncated = 0;
    row_ctx c = {.set = out};
    char prefix[32];
    for (int f = TQ_FIELD_TITLE; f < TQ_FIELD_COUNT && !c.nomem && !c.truncated; f++) {
        if (!text[f])
            continue;
        snprintf(prefix, sizeof prefix, "%s:", tq_field_name((tq_field)f));
        /* loc: is matched whole (loc_terms), not by its tokens */
        c.prefix = f == TQ_FIELD_LOC ? NULL : prefix;
        tx_tokenize(text[f], strlen(text[f]), 1, row_term, &c);
        if (f == TQ_FIELD_LOC)
            loc_terms(&c, text[f]);
    }
    if (c.nomem) {
        tx_termset_clear(out);
        return ds_fail(err, DS_ENOMEM, "text: out of memory");
    }
    if (truncated)
        *truncated = c.truncated;
    if (out->n > 1) /* qsort must not be given NULL, even for 0 elements */
        qsort(out->terms, out->n, sizeof *out->terms, by_bytes);
    return 0;
}

/* ---- a query's legs ------------------------------------------------------ */

typedef struct leg_list {
    tx_leg *legs;
    size_t n;
} leg_list;

static void list_clear(leg_list *l)
{
    tx_legs_clear((tx_legs *)l);
}

/* The terms of one query term: its tokens, stemmed, field-prefixed. */
typedef struct term_ctx {
    tx_termset *set;
    const char *prefix;
    int nomem;
} term_ctx;

static int query_token(const char *term, size_t n, size_t start, size_t end, void *ctx)
{
    (void)start, (void)end;
    term_ctx *c = ctx;
    if (set_add(c->set, c->prefix, term, n) < 0) {
        c->nomem = 1;
        return 1;
    }
    return 0;
}

static int term_set(const tq_node *t, tx_termset *set)
{
    char prefix[32] = "";
    if (t->field == TQ_FIELD_LOC) {
        char folded[TX_TERM_BYTES_MAX + 1];
        size_t n = 0;
        for (const char *s = t->text; *s && n < TX_TERM_BYTES_MAX; s++)
            if ((unsigned char)*s > ' ')
                folded[n++] = (char)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s);
        return set_add(set, "loc:", folded, n) < 0 ? -1 : 0;
    }
    if (t->field != TQ_FIELD_ANY)
        snprintf(prefix, sizeof prefix, "%s:", tq_field_name(t->field));
    term_ctx c = {.set = set, .prefix = prefix[0] ? prefix : NULL};
    tx_tokenize(t->text, strlen(t->text), 1, query_token, &c);
    return c.nomem ? -1 : 0;
}

static int leg_add_must_not(tx_leg *leg, tx_termset *set)
{
    tx_termset *grown = realloc(leg->must_not, (leg->n_must_not + 1) * sizeof *grown);
    if (!grown)
        return -1;
    leg->must_not = grown;
    leg->must_not[leg->n_must_not++] = *set;
    memset(set, 0, sizeof *set);
    return 0;
}

static int leg_copy(tx_leg *to, const tx_leg *from)
{
    memset(to, 0, sizeof *to);
    to->residual = from->residual;
    to->has_prefix = from->has_prefix;
    if (set_copy(&to->must, &from->must) < 0)
        return -1;
    for (size_t i = 0; i < from->n_must_not; i++) {
        tx_termset s = {0};
        if (set_copy(&s, &from->must_not[i]) < 0 || leg_add_must_not(to, &s) < 0) {
            tx_termset_clear(&s);
            return -1;
        }
    }
    return 0;
}

/* Merge leg b into a (AND). */
static int leg_and(tx_leg *a, const tx_leg *b)
{
    a->residual |= b->residual;
    a->has_prefix |= b->has_prefix;
    if (set_copy(&a->must, &b->must) < 0)
        return -1;
    for (size_t i = 0; i < b->n_must_not; i++) {
        tx_termset s = {0};
        if (set_copy(&s, &b->must_not[i]) < 0 || leg_add_must_not(a, &s) < 0) {
            tx_termset_clear(&s);
            return -1;
        }
    }
    return 0;
}

static int legs_of(const tq_node *n, leg_list *out, ds_err *err);

/* Exclude what n matches from every leg of `into`: a word (or a group of
 * words that must all be there) is one must_not set; an OR excludes each
 * branch; anything else (a phrase, a prefix, a nested exclusion) only
 * makes the legs residual. */
static int exclude(const tq_node *n, leg_list *into)
{
    if (n->kind == TQ_OR) {
        for (size_t i = 0; i < n->n_kids; i++)
            if (exclude(n->kids[i], into) < 0)
                return -1;
        return 0;
    }
    int exact = 1;
    tx_termset set = {0};
    const tq_node *const *kids = n->kind == TQ_TERM ? &n : (const tq_node *const *)n->kids;
    size_t n_kids = n->kind == TQ_TERM ? 1 : n->n_kids;
    for (size_t i = 0; i < n_kids && exact; i++) {
        const tq_node *k = kids[i];
        if (k->kind != TQ_TERM || k->prefix || (k != n && k->negated)) {
            exact = 0;
            break;
        }
        size_t before = set.n;
        if (term_set(k, &set) < 0) {
            tx_termset_clear(&set);
            return -1;
        }
        if (set.n - before > 1)
            exact = 0; /* a phrase: rows with its words apart must stay */
    }
    for (size_t l = 0; l < into->n; l++) {
        if (!exact || set.n == 0) {
            into->legs[l].residual = 1;
            continue;
        }
        tx_termset copy = {0};
        if (set_copy(&copy, &set) < 0 || leg_add_must_not(&into->legs[l], &copy) < 0) {
            tx_termset_clear(&copy);
            tx_termset_clear(&set);
            return -1;
        }
    }
    tx_termset_clear(&set);
    return 0;
}

static int legs_of_term(const tq_node *t, leg_list *out)
{
    out->legs = calloc(1, sizeof *out->legs);
    if (!out->legs)
        return -1;
    out->n = 1;
    tx_leg *leg = &out->legs[0];
    if (t->prefix) {
        /* No array operation matches a prefix: the leg only says so. The
         * tokens before the last one of a prefix phrase still must be
         * there. */
        tx_termset all = {0};
        if (term_set(t, &all) < 0)
            return -1;
        for (size_t i = 0; i + 1 < all.n; i++)
            if (set_add(&leg->must, NULL, all.terms[i], strlen(all.terms[i])) < 0) {
                tx_termset_clear(&all);
                return -1;
            }
        tx_termset_clear(&all);
        leg->residual = 1;
        leg->has_prefix = 1;
        return 0;
    }
    if (term_set(t, &leg->must) < 0)
        return -1;
    leg->residual = leg->must.n > 1; /* a phrase: adjacency unchecked */
    return 0;
}

static int legs_of_and(const tq_node *n, leg_list *out, ds_err *err)
{
    /* Start from one empty leg; AND each positive child in (the product
     * of the legs), then exclude the negated ones. */
    out->legs = calloc(1, sizeof *out->legs);
    if (!out->legs)
        return ds_fail(err, DS_ENOMEM, "text: out of memory");
    out->n = 1;
    for (size_t i = 0; i < n->n_kids; i++) {
        if (n->kids[i]->negated)
            continue;
        leg_list kid = {0}, product = {0};
        if (legs_of(n->kids[i], &kid, err) < 0)
            return -1;
        if (out->n * kid.n > TX_LEGS_MAX) {
            list_clear(&kid);
            return ds_fail(err, DS_ETOOBIG,
                           "query: too many combinations of OR inside AND for this backend "
                           "(more than %d); write fewer ORs in groups",
                           TX_LEGS_MAX);
        }
        product.legs = calloc(out->n * kid.n, sizeof *product.legs);
        if (!product.legs) {
            list_clear(&kid);
            return ds_fail(err, DS_ENOMEM, "text: out of memory");
        }
        for (size_t a = 0; a < out->n; a++)
            for (size_t b = 0; b < kid.n; b++) {
                tx_leg *leg = &product.legs[product.n++];
                if (leg_copy(leg, &out->legs[a]) < 0 || leg_and(leg, &kid.legs[b]) < 0) {
                    list_clear(&kid);
                    list_clear(&product);
                    return ds_fail(err, DS_ENOMEM, "text: out of memory");
                }
            }
        list_clear(&kid);
        list_clear(out);
        *out = product;
    }
    for (size_t i = 0; i < n->n_kids; i++)
        if (n->kids[i]->negated && exclude(n->kids[i], out) < 0)
            return ds_fail(err, DS_ENOMEM, "text: out of memory");
    return 0;
}

static int legs_of(const tq_node *n, leg_list *out, ds_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = 0;
    switch (n->kind) {
    case TQ_TERM:
        rc = legs_of_term(n, out) < 0 ? ds_fail(err, DS_ENOMEM, "text: out of memory") : 0;
        break;
    case TQ_AND:
        rc = legs_of_and(n, out, err);
        break;
    case TQ_OR:
        for (size_t i = 0; i < n->n_kids && rc == 0; i++) {
            leg_list kid = {0};
            if (legs_of(n->kids[i], &kid, err) < 0) {
                rc = -1;
                break;
            }
            if (out->n + kid.n > TX_LEGS_MAX) {
                list_clear(&kid);
                rc = ds_fail(err, DS_ETOOBIG,
                             "query: more than %d OR branches for this backend", TX_LEGS_MAX);
                break;
            }
            tx_leg *grown = realloc(out->legs, (out->n + kid.n) * sizeof *grown);
            if (!grown) {
                list_clear(&kid);
                rc = ds_fail(err, DS_ENOMEM, "text: out of memory");
                break;
            }
            out->legs = grown;
            memcpy(out->legs + out->n, kid.legs, kid.n * sizeof *kid.legs);
            out->n += kid.n;
            free(kid.legs);
        }
        break;
    }
    if (rc < 0)
        list_clear(out);
    return rc;
}

int tx_query_legs(const tq_query *q, tx_legs *out, ds_err *err)
{
    memset(out, 0, sizeof *out);
    if (!q || !q->root)
        return ds_fail(err, DS_EINVAL, "query: nothing to compile");
    leg_list l = {0};
    if (legs_of(q->root, &l, err) < 0)
        return -1;
    for (size_t i = 0; i < l.n; i++)
        if (l.legs[i].must.n > 1)
            qsort(l.legs[i].must.terms, l.legs[i].must.n, sizeof(char *), by_bytes);
    out->legs = l.legs;
    out->n = l.n;
    return 0;
}

/* ---- as a Milvus expression ---------------------------------------------- */

static void put(mv_buf *b, const char *s) { ds_buf_puts(b, s); }

static int put_set(mv_buf *b, const char *field, const tx_termset *s, ds_err *err)
{
    put(b, "array_contains_all(");
    put(b, field);
    put(b, ", [");
    for (size_t i = 0; i < s->n; i++) {
        if (i)
            put(b, ", ");
        if (mv_quote(b, s->terms[i], err) < 0)
            return -1;
    }
    put(b, "])");
    return 0;
}

int tx_legs_milvus_expr(const tx_legs *legs, const char *field, char **out, ds_err *err)
{
    *out = NULL;
    if (!field || !*field || strspn(field, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                           "0123456789_") != strlen(field))
        return ds_fail(err, DS_EINVAL, "text: bad Milvus field name");
    mv_buf b = {0};
    for (size_t i = 0; i < legs->n; i++)
        if (legs->legs[i].must.n == 0 && legs->legs[i].n_must_not == 0) {
            *out = strdup(""); /* a leg any row passes: no filter at all */
            return *out ? 0 : ds_fail(err, DS_ENOMEM, "text: out of memory");
        }
    for (size_t i = 0; i < legs->n; i++) {
        const tx_leg *leg = &legs->legs[i];
        put(&b, i ? " or (" : "(");
        int any = 0;
        if (leg->must.n > 0) {
            if (put_set(&b, field, &leg->must, err) < 0)
                goto fail;
            any = 1;
        }
        for (size_t k = 0; k < leg->n_must_not; k++) {
            put(&b, any ? " and not " : "not ");
            if (put_set(&b, field, &leg->must_not[k], err) < 0)
                goto fail;
            any = 1;
        }
        put(&b, ")");
    }
    if (b.nomem) {
        free(b.data);
        return ds_fail(err, DS_ENOMEM, "text: out of memory");
    }
    *out = b.data ? b.data : strdup("");
    return *out ? 0 : ds_fail(err, DS_ENOMEM, "text: out of memory");
fail:
    free(b.data);
    return -1;
}
