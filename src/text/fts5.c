/* fts5.c - a parsed query (query.h) as an FTS5 MATCH expression.
 *
 * Nothing the user typed reaches FTS5 as syntax: every word and phrase is
 * written as an FTS5 string ("..." with each '"' doubled), which FTS5 only
 * tokenizes; the operators, parentheses, column names, '^' and '*' around
 * them are this file's own. */
#include "base/str.h"
#include "text/query.h"

#include <stdlib.h>
#include <string.h>

typedef ds_buf buf;

static void put(buf *b, const char *s, size_t n) { ds_buf_put(b, s, n); }

static void puts_(buf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* [column : ] [^] "text" [*]. A Locarno class is matched from the start
 * of its field, so that loc:06 is class 06 and not subclass 06 of another. */
static void put_term(buf *b, const tq_node *n)
{
    const char *column = tq_field_column(n->field);
    if (column) {
        puts_(b, column);
        puts_(b, " : ");
    }
    if (n->field == TQ_FIELD_LOC)
        puts_(b, "^ ");
    put(b, "\"", 1);
    for (const char *s = n->text; *s; s++)
        put(b, *s == '"' ? "\"\"" : s, *s == '"' ? 2 : 1); /* '"' doubled */
    put(b, "\"", 1);
    if (n->prefix)
        puts_(b, " *");
}

static void put_node(buf *b, const tq_node *n);

/* AND: the children that must match joined by AND, then NOT each excluded
 * one (FTS5's NOT is binary: "a NOT b"). */
static void put_and(buf *b, const tq_node *n)
{
    put(b, "(", 1);
    int first = 1;
    for (size_t i = 0; i < n->n_kids; i++) {
        if (n->kids[i]->negated)
            continue;
        if (!first)
            puts_(b, " AND ");
        put_node(b, n->kids[i]);
        first = 0;
    }
    for (size_t i = 0; i < n->n_kids; i++)
        if (n->kids[i]->negated) {
            puts_(b, " NOT ");
            put_node(b, n->kids[i]);
        }
    put(b, ")", 1);
}

/* One node, parenthesised (its own negation is written by its parent). */
static void put_node(buf *b, const tq_node *n)
{
    switch (n->kind) {
    case TQ_TERM:
        put(b, "(", 1);
        put_term(b, n);
        put(b, ")", 1);
        return;
    case TQ_AND:
        put_and(b, n);
        return;
    case TQ_OR:
        put(b, "(", 1);
        for (size_t i = 0; i < n->n_kids; i++) {
            if (i)
                puts_(b, " OR ");
            put_node(b, n->kids[i]);
        }
        put(b, ")", 1);
        return;
    }
}

int tq_to_fts5(const tq_query *q, char **out, ds_err *err)
{
    *out = NULL;
    if (!q || !q->root)
        return ds_fail(err, DS_EINVAL, "query: nothing to compile");
    buf b = {0};
    put_node(&b, q->root);
    if (b.nomem) {
        free(b.data);
        return ds_fail(err, DS_ENOMEM, "query: out of memory");
    }
    *out = b.data;
    return 0;
}

/* Walk as put_node writes: an AND's positive children, then its negated
 * ones; an OR's in order. */
static void walk(const tq_node *n, int negated, const tq_node **out, int *positive, size_t max,
                 size_t *count)
{
    negated ^= n->negated;
    if (n->kind == TQ_TERM) {
        if (*count < max) {
            out[*count] = n;
            positive[*count] = !negated;
        }
        (*count)++;
        return;
    }
    for (int pass = 0; pass < (n->kind == TQ_AND ? 2 : 1); pass++)
        for (size_t i = 0; i < n->n_kids; i++)
            if (n->kind == TQ_OR || n->kids[i]->negated == pass)
                walk(n->kids[i], negated, out, positive, max, count);
}

size_t tq_fts5_phrases(const tq_query *q, const tq_node **out, int *positive, size_t max)
{
    size_t count = 0;
    if (q && q->root)
        walk(q->root, 0, out, positive, max, &count);
    return count;
}
