/* expr.c - filters as Milvus boolean expressions (see expr.h). */
#include "milvus/expr.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void put(mv_buf *b, const char *s, size_t n) { ds_buf_put(b, s, n); }

static void puts_(mv_buf *b, const char *s) { put(b, s, strlen(s)); }

static void printf_(mv_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void printf_(mv_buf *b, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* The length of the UTF-8 sequence at p (1..4), or 0 when it is not a
 * valid one (overlong forms, surrogates and code points past U+10FFFF are
 * refused). */
static int utf8_len(const unsigned char *p)
{
    if (p[0] < 0x80)
        return 1;
    int n = (p[0] & 0xe0) == 0xc0 ? 2 : (p[0] & 0xf0) == 0xe0 ? 3 : (p[0] & 0xf8) == 0xf0 ? 4 : 0;
    if (n == 0 || (n == 2 && p[0] < 0xc2))
        return 0;
    for (int i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if (n == 3 && ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0)))
        return 0;
    if (n == 4 && ((p[0] == 0xf0 && p[1] < 0x90) || p[0] > 0xf4 || (p[0] == 0xf4 && p[1] >= 0x90)))
        return 0;
    return n;
}

int mv_quote(mv_buf *b, const char *s, ds_err *err)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t start = b->len;
    puts_(b, "\"");
    while (*p) {
        int n = utf8_len(p);
        if (n == 0 || *p < 0x20 || *p == 0x7f) {
            b->len = start;
            if (b->data)
                b->data[start] = '\0';
            return ds_fail(err, DS_EINVAL, "filter value \"%.40s\": %s", s,
                           n == 0 ? "not valid UTF-8" : "holds a control character");
        }
        if (*p == '"' || *p == '\\')
            puts_(b, "\\");
        put(b, (const char *)p, (size_t)n);
        p += n;
    }
    puts_(b, "\"");
    return 0;
}

static int set(const char *s) { return s && *s; }

/* "12" or "12-08": two digits, optionally '-' and two more. */
static int is_locarno(const char *s)
{
    size_t n = strlen(s);
    return (n == 2 || (n == 5 && s[2] == '-' && isdigit((unsigned char)s[3]) &&
                       isdigit((unsigned char)s[4]))) &&
           isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]);
}

/* "yyyy-mm-dd" -> yyyymmdd, or -1. */
static long yyyymmdd(const char *s)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    long v = 0;
    for (int i = 0; i < 10; i++) {
        if (i == 4 || i == 7)
            continue;
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    int m = (int)(v / 100 % 100), d = (int)(v % 100);
    return m >= 1 && m <= 12 && d >= 1 && d <= 31 ? v : -1;
}

/* A Milvus field name: a letter or '_', then letters, digits and '_', at
 * most 255 bytes. */
static int is_field_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 255 || (s[0] >= '0' && s[0] <= '9'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

#define COUNTRY_MAX 16       /* longer than any country code or name the seed holds */
#define CASES_MAX_LETTERS 6  /* 2^6 spellings at most in one "in [...]" */

static int letters(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += isalpha((unsigned char)*s) != 0;
    return n;
}

/* "field in [...]" with every upper/lower-case spelling of value (ASCII
 * letters): Milvus 2.3 compares strings exactly, the catalog compares
 * lower(field) = lower(value), and the stored case varies ("DE" from the
 * USPTO's XML, "de" from a CSV). */
static int any_case(mv_buf *b, const char *field, const char *value, ds_err *err)
{
    char spelt[COUNTRY_MAX];
    size_t n = strlen(value);
    int pos[CASES_MAX_LETTERS], k = 0;
    for (size_t i = 0; i < n; i++)
        if (isalpha((unsigned char)value[i]))
            pos[k++] = (int)i;
    printf_(b, "%s in [", field);
    for (unsigned mask = 0; mask < (1u << k); mask++) {
        memcpy(spelt, value, n + 1);
        for (int j = 0; j < k; j++)
            spelt[pos[j]] = (char)((mask >> j & 1) ? toupper((unsigned char)spelt[pos[j]])
                                                   : tolower((unsigned char)spelt[pos[j]]));
        if (mask)
            puts_(b, ",");
        if (mv_quote(b, spelt, err) != 0)
            return -1;
    }
    puts_(b, "]");
    return 0;
}

static void and_(mv_buf *b)
{
    if (b->len)
        puts_(b, " and ");
}

int mv_expr_compile(const cat_filter *f, const char *pk, const int64_t *ids, size_t n_ids,
                    char **out, int *residual, ds_err *err)
{
    mv_buf b = {0};
    *out = NULL;
    *residual = 0;
    int rc = 0;
    if (f && set(f->loc_class)) {
        if (!is_locarno(f->loc_class)) {
            rc = ds_fail(err, DS_EINVAL, "filter loc_class \"%.20s\" is not a Locarno class "
                         "(\"12\" or \"12-08\")", f->loc_class);
            goto out;
        }
        /* Validated digits: safe inside the literal as they are. */
        if (strlen(f->loc_class) == 5)
            printf_(&b, "loc_class == \"%s\"", f->loc_class);
        else
            printf_(&b, "(loc_class == \"%s\" or loc_class like \"%s-%%\")", f->loc_class,
                    f->loc_class);
    }
    if (f) {
        const char *dates[4] = {f->pub_date_from, f->pub_date_to, f->filing_date_from,
                                f->filing_date_to};
        /* An image without a date holds 0 (Milvus 2.3 has no NULL): it is
         * before no date, as the catalog's NULL is not. */
        static const char *const expr[4] = {"pub_date >= ", "pub_date > 0 and pub_date <= ",
                                            "filing_date >= ",
                                            "filing_date > 0 and filing_date <= "};
        static const char *const names[4] = {"pub_date_from", "pub_date_to", "filing_date_from",
                                             "filing_date_to"};
        for (int i = 0; i < 4; i++) {
            if (!set(dates[i]))
                continue;
            long v = yyyymmdd(dates[i]);
            if (v < 0) {
                rc = ds_fail(err, DS_EINVAL, "filter %s \"%.20s\" is not a date yyyy-mm-dd",
                             names[i], dates[i]);
                goto out;
            }
            and_(&b);
            printf_(&b, "%s%ld", expr[i], v);
        }
        if (set(f->applicant_country)) {
            if (strlen(f->applicant_country) >= COUNTRY_MAX) {
                rc = ds_fail(err, DS_EINVAL, "filter applicant_country is too long");
                goto out;
            }
            if (letters(f->applicant_country) > CASES_MAX_LETTERS) {
                *residual = 1; /* too many spellings to list: checked on the rows */
            } else {
                and_(&b);
                if ((rc = any_case(&b, "applicant_country", f->applicant_country, err)) != 0)
                    goto out;
            }
        }
        if (f->n_patent_ids > 0) {
            and_(&b);
            puts_(&b, "patent_id in [");
            for (size_t i = 0; i < f->n_patent_ids; i++) {
                if (i)
                    puts_(&b, ",");
                if ((rc = mv_quote(&b, f->patent_ids[i] ? f->patent_ids[i] : "", err)) != 0)
                    goto out;
            }
            puts_(&b, "]");
        }
        /* Substrings, case-insensitive: not expressible (see expr.h); each
         * value is still checked so that a bad one fails the same way. */
        const char *texts[3] = {f->applicant, f->assignee, f->inventor};
        for (int i = 0; i < 3; i++) {
            if (!set(texts[i]))
                continue;
            mv_buf scratch = {0};
            rc = mv_quote(&scratch, texts[i], err);
            free(scratch.data);
            if (rc != 0)
                goto out;
            *residual = 1;
        }
    }
    if (ids) {
        /* The primary key's name comes from the collection's schema (Milvus's
         * describe): written as a name only when it is one, and whole
         * (printf_ would cut a long one). */
        const char *name = pk && *pk ? pk : "id";
        if (!is_field_name(name)) {
            rc = ds_fail(err, DS_EINVAL, "primary key \"%.40s\" is not a Milvus field name", name);
            goto out;
        }
        and_(&b);
        puts_(&b, name);
        puts_(&b, " in [");
        for (size_t i = 0; i < n_ids; i++)
            printf_(&b, "%s%lld", i ? "," : "", (long long)ids[i]);
        puts_(&b, "]");
    }
    puts_(&b, "");
out:
    if (rc == 0 && b.nomem)
        rc = ds_fail(err, DS_ENOMEM, "out of memory");
    if (rc != 0) {
        free(b.data);
        return -1;
    }
    *out = b.data;
    return 0;
}

/* Case-insensitive (ASCII) substring test, as the catalog's instr(lower()). */
static int contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; hay && *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return 1;
    return n == 0;
}

int mv_residual_allows(const cat_filter *f, json_t *row)
{
    if (!f)
        return 1;
    const char *texts[3] = {f->applicant, f->assignee, f->inventor};
    static const char *const fields[3] = {"applicant_name", "assignee_name", "inventor_names"};
    for (int i = 0; i < 3; i++)
        if (set(texts[i]) && !contains_ci(json_string_value(json_object_get(row, fields[i])),
                                           texts[i]))
            return 0;
    /* A country with too many letters to list its spellings (any_case). */
    if (set(f->applicant_country) && letters(f->applicant_country) > CASES_MAX_LETTERS) {
        const char *v = json_string_value(json_object_get(row, "applicant_country"));
        return v && strcasecmp(v, f->applicant_country) == 0;
    }
    return 1;
}
