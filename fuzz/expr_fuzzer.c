/* expr_fuzzer.c - fuzz target for the compiler of search filters into Milvus
 * boolean expressions (src/milvus/expr.h). A filter is built from the
 * input, compiled, and the expression scanned: what reaches Milvus must be
 * the compiler's own words around string constants that are exactly the
 * values given, quoted and escaped.
 *
 * Input: byte 0 flags (bit 0: no filter at all; bit 1: an id list; bit 2:
 * the primary key's name from the input, else bits 3-4 pick "id", "",
 * NULL or a long name), byte 1 the number of ids (each read as 8 bytes of
 * the input, cyclically); the rest, split at NUL bytes, gives in order
 * loc_class, pub_date_from, pub_date_to, filing_date_from, filing_date_to,
 * applicant, assignee, inventor, applicant_country, [the primary key's
 * name], and the patent ids (every piece after those). Each piece is also
 * quoted on its own with mv_quote.
 *
 * Asserted (a broken one aborts):
 *   - outside string constants the expression holds only names, numbers,
 *     spaces and ( ) [ ] , = < > -, with brackets balanced;
 *   - inside one: no control character, a backslash only before '"' or
 *     '\\', the constant closed; decoded it is valid UTF-8;
 *   - the constants, in order, are exactly the filter's values (the
 *     Locarno class and its "-%" prefix pattern, the applicant country in
 *     every case spelling of its letters (none past 6 letters), each
 *     patent id);
 *   - the residual flag is set exactly when a substring filter is, or a
 *     country of more than 6 letters;
 *   - a refusal says why and leaves no expression; a refused mv_quote
 *     leaves the buffer as it was.
 * Replay with `make build/fuzz/expr_fuzzer_replay &&
 * build/fuzz/expr_fuzzer_replay fuzz/corpus/expr_fuzzer`. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "milvus/expr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_PIECES = 64, MAX_LITS = 200, CASE_LETTERS = 6 };

static void require(int cond)
{
    if (!cond)
        abort();
}

static int set(const char *s) { return s && *s; }

/* Scan expr; the decoded string constants go to lits[] (malloc'ed, at
 * most MAX_LITS, the count in *n). */
static void scan(const char *e, char **lits, size_t *n)
{
    int depth_paren = 0, depth_bracket = 0;
    *n = 0;
    for (const char *p = e; *p;) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            size_t cap = strlen(p) + 1, len = 0;
            char *lit = malloc(cap);
            require(lit != NULL);
            for (p++;; p++) {
                unsigned char d = (unsigned char)*p;
                require(d != '\0');               /* closed */
                require(d >= 0x20 && d != 0x7f);  /* no control character */
                if (d == '"')
                    break;
                if (d == '\\') {
                    p++;
                    require(*p == '"' || *p == '\\'); /* only these are escaped */
                }
                lit[len++] = *p;
            }
            p++; /* the closing quote */
            lit[len] = '\0';
            json_t *j = json_stringn(lit, len); /* refuses invalid UTF-8 */
            require(j != NULL);
            json_decref(j);
            require(*n < MAX_LITS);
            lits[(*n)++] = lit;
            continue;
        }
        require(isalnum(c) || strchr("_ ()[],=<>-", c));
        depth_paren += c == '(' ? 1 : c == ')' ? -1 : 0;
        depth_bracket += c == '[' ? 1 : c == ']' ? -1 : 0;
        require(depth_paren >= 0 && depth_bracket >= 0);
        p++;
    }
    require(depth_paren == 0 && depth_bracket == 0);
}

/* mv_quote on its own, after another constant: either both are there, the
 * second the value itself, or only the first is. */
static void check_quote(const char *s)
{
    mv_buf b = {0};
    ds_err err = {0};
    require(mv_quote(&b, "first", &err) == 0 && b.len == 7 && !b.nomem);
    int rc = mv_quote(&b, s, &err);
    if (rc != 0) {
        require(err.code == DS_EINVAL && err.msg[0]);
        require(b.len == 7 && strcmp(b.data, "\"first\"") == 0);
    } else {
        char *lits[MAX_LITS];
        size_t n;
        scan(b.data, lits, &n);
        require(n == 2 && strcmp(lits[0], "first") == 0 && strcmp(lits[1], s) == 0);
        free(lits[0]);
        free(lits[1]);
    }
    free(b.data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 4096)
        return 0;
    uint8_t flags = data[0];
    size_t n_ids = data[1];

    /* The pieces: a NUL-terminated copy of the rest, split at its NULs. */
    char *text = malloc(size - 2 + 1);
    require(text != NULL);
    memcpy(text, data + 2, size - 2);
    text[size - 2] = '\0';
    char *pieces[MAX_PIECES];
    size_t n_pieces = 0;
    for (char *p = text; n_pieces < MAX_PIECES && p <= text + (size - 2);
         p += strlen(p) + 1)
        pieces[n_pieces++] = p;
    for (size_t i = 0; i < n_pieces; i++)
        check_quote(pieces[i]);

    size_t k = 0;
    cat_filter f;
    memset(&f, 0, sizeof f);
    const char **slots[9] = {&f.loc_class, &f.pub_date_from, &f.pub_date_to,
                             &f.filing_date_from, &f.filing_date_to, &f.applicant,
                             &f.assignee, &f.inventor, &f.applicant_country};
    for (size_t i = 0; i < 9 && k < n_pieces; i++)
        *slots[i] = pieces[k++];
    static const char *const pks[4] = {"id", "", NULL, "the_primary_key_of_a_collection_made_"
                                                       "elsewhere_with_a_long_name_0123456789"};
    const char *pk = pks[(flags >> 3) & 3];
    if ((flags & 4) && k < n_pieces)
        pk = pieces[k++];
    f.patent_ids = (const char *const *)(pieces + k);
    f.n_patent_ids = n_pieces - k;

    int64_t ids[256];
    for (size_t i = 0; i < n_ids; i++) {
        uint64_t v = 0;
        for (size_t j = 0; j < 8; j++)
            v = v << 8 | data[(2 + 8 * i + j) % size];
        ids[i] = (int64_t)v;
    }

    char *expr = (char *)1;
    int residual = -1;
    ds_err err = {0};
    const cat_filter *fp = (flags & 1) ? NULL : &f;
    if (mv_expr_compile(fp, pk, (flags & 2) ? ids : NULL, n_ids, &expr, &residual, &err) != 0) {
        require(expr == NULL && (err.code == DS_EINVAL || err.code == DS_ENOMEM) && err.msg[0]);
        free(text);
        return 0;
    }
    require(expr != NULL);
    char *lits[MAX_LITS];
    size_t n_lits;
    scan(expr, lits, &n_lits);

    /* The constants expected, in the order the compiler writes them. */
    const char *want[MAX_LITS];
    char prefix[8];
    size_t n_want = 0;
    if (fp && set(f.loc_class)) {
        want[n_want++] = f.loc_class;
        if (strlen(f.loc_class) == 2) {
            memcpy(prefix, f.loc_class, 2);
            memcpy(prefix + 2, "-%", 3);
            want[n_want++] = prefix;
        }
    }
    /* Every spelling: letter j (in order) upper case when bit j is set. */
    char spelt[1 << CASE_LETTERS][32];
    int letters = 0;
    if (fp && set(f.applicant_country)) {
        size_t n = strlen(f.applicant_country);
        require(n < sizeof spelt[0]);
        for (size_t i = 0; i < n; i++)
            letters += isalpha((unsigned char)f.applicant_country[i]) != 0;
        for (unsigned mask = 0; letters <= CASE_LETTERS && mask < (1u << letters); mask++) {
            int j = 0;
            for (size_t i = 0; i <= n; i++) {
                unsigned char c = (unsigned char)f.applicant_country[i];
                spelt[mask][i] = (char)(isalpha(c) ? ((mask >> j++ & 1) ? toupper(c) : tolower(c))
                                                   : c);
            }
            want[n_want++] = spelt[mask];
        }
    }
    for (size_t i = 0; fp && i < f.n_patent_ids; i++)
        want[n_want++] = f.patent_ids[i];
    require(n_lits == n_want);
    for (size_t i = 0; i < n_lits; i++) {
        require(strcmp(lits[i], want[i]) == 0);
        free(lits[i]);
    }
    require(residual == (fp && (set(f.applicant) || set(f.assignee) || set(f.inventor) ||
                                letters > CASE_LETTERS)));
    if (!fp && !(flags & 2))
        require(expr[0] == '\0');
    free(expr);
    free(text);
    return 0;
}
