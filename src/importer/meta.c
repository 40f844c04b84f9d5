/* meta.c - what a plain image is: its id from its file name, its patent's
 * fields from an optional metadata file.
 *
 * The metadata file is CSV (RFC 4180: a header row, commas, "quoted"
 * fields with "" for a quote, LF or CRLF) or JSON (an array of objects, or
 * one object per line). Columns / keys are the seed's field names plus
 * file_name and image_index. A row with a file_name says which patent an
 * image belongs to; a row's patent fields describe its patent_id. Unknown
 * columns are refused (a misspelt column would otherwise be dropped
 * silently), dates must be real ones written yyyy-mm-dd or yyyymmdd, and
 * the text must be UTF-8 (the catalog and the API hold UTF-8: other bytes
 * would make the fields vanish from JSON answers).
 */
#include "importer/importer_internal.h"
#include "base/str.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define META_MAX_BYTES (256u << 20)

typedef struct meta_image {
    char *file_name;
    char *patent_id;
    int image_index;             /* -1: not given */
    int line;                    /* where the row is, for messages */
    int used;                    /* an image of that name was read (set by the
                                    reader thread alone) */
} meta_image;

struct imp_meta {
    char *path;                  /* the file, for messages */
    meta_image *images;          /* sorted by file_name, then line */
    size_t n_images, cap_images;
    imp_patent **patents;        /* sorted by patent_id */
    size_t n_patents, cap_patents;
};

/* The columns we know, and where each goes in a cat_patent. */
enum { F_FILE_NAME = -3, F_IMAGE_INDEX = -2, F_PATENT_ID = -1 };
static const struct {
    const char *name;
    int field;
} columns[] = {
    {"file_name", F_FILE_NAME},
    {"image_index", F_IMAGE_INDEX},
    {"patent_id", F_PATENT_ID},
    {"kind", 0},
    {"title", 1},
    {"loc_class", 2},
    {"loc_edition", 3},
    {"pub_date", 4},
    {"filing_date", 5},
    {"grant_term", 6},
    {"applicant_name", 7},
    {"applicant_country", 8},
    {"inventor_names", 9},
    {"assignee_name", 10},
    {"claim_text", 11},
    {"image_count", 12},
};
#define N_COLUMNS (sizeof columns / sizeof columns[0])

static char **text_field(cat_patent *p, int f)
{
    switch (f) {
    case 0: return &p->kind;
    case 1: return &p->title;
    case 2: return &p->loc_class;
    case 3: return &p->loc_edition;
    case 4: return &p->pub_date;
    case 5: return &p->filing_date;
    case 7: return &p->applicant_name;
    case 8: return &p->applicant_country;
    case 9: return &p->inventor_names;
    case 10: return &p->assignee_name;
    case 11: return &p->claim_text;
    }
    return NULL;
}

static int column_of(const char *name)
{
    for (size_t i = 0; i < N_COLUMNS; i++)
        if (strcmp(columns[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* "yyyymmdd" or "yyyy-mm-dd" to "yyyy-mm-dd" in out[11]; 0 or -1. */
static int iso_date(const char *s, char *out)
{
    size_t n = strlen(s);
    int y, m, d;
    if (n == 8 && strspn(s, "0123456789") == 8)
        y = atoi((char[5]){s[0], s[1], s[2], s[3], 0}), m = (s[4] - '0') * 10 + s[5] - '0',
        d = (s[6] - '0') * 10 + s[7] - '0';
    else if (n == 10 && s[4] == '-' && s[7] == '-' && sscanf(s, "%4d-%2d-%2d", &y, &m, &d) == 3 &&
             strspn(s, "0123456789-") == 10)
        ;
    else
        return -1;
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1790 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31 ||
        d > days[m - 1] + (m == 2 && leap))
        return -1; /* 2021-02-30 too: the XML path refuses it as well */
    snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
    return 0;
}

/* ---- building the table ------------------------------------------------ */

static imp_patent *patent_for(imp_meta *m, const char *id)
{
    for (size_t i = 0; i < m->n_patents; i++) /* sorted only after loading */
        if (strcmp(m->patents[i]->p.patent_id, id) == 0)
            return m->patents[i];
    if (m->n_patents == m->cap_patents) {
        size_t cap = m->cap_patents ? 2 * m->cap_patents : 64;
        imp_patent **p = realloc(m->patents, cap * sizeof *p);
        if (!p)
            return NULL;
        m->patents = p;
        m->cap_patents = cap;
    }
    imp_patent *p = calloc(1, sizeof *p);
    if (!p || !(p->p.patent_id = strdup(id))) {
        free(p);
        return NULL;
    }
    p->p.image_count = -1;
    atomic_init(&p->refs, 1);
    m->patents[m->n_patents++] = p;
    return p;
}

/* One row: values[i] belongs to column cols[i] (NULL: empty). */
static int add_row(imp_meta *m, const int *cols, char **values, int n, int line, ds_err *err)
{
    const char *file_name = NULL, *patent_id = NULL;
    int image_index = -1, has_fields = 0;
    for (int i = 0; i < n; i++) {
        if (!values[i] || !*values[i])
            continue;
        int f = columns[cols[i]].field;
        if (f == F_FILE_NAME)
            file_name = values[i];
        else if (f == F_PATENT_ID)
            patent_id = values[i];
        else if (f == F_IMAGE_INDEX) {
            char *end;
            long v = strtol(values[i], &end, 10);
            if (*end || v < 0 || v > 32767)
                return ds_fail(err, DS_EFORMAT, "line %d: image_index \"%s\" is not 0..32767",
                               line, values[i]);
            image_index = (int)v;
        } else
            has_fields = 1;
    }
    if (!file_name && !patent_id)
        return ds_fail(err, DS_EFORMAT, "line %d: a row needs a file_name or a patent_id", line);
    if (has_fields && !patent_id)
        return ds_fail(err, DS_EFORMAT, "line %d: patent fields without a patent_id", line);
    if (patent_id && has_fields) {
        imp_patent *p = patent_for(m, patent_id);
        if (!p)
            return ds_fail(err, DS_ENOMEM, "out of memory");
        for (int i = 0; i < n; i++) {
            int f = columns[cols[i]].field;
            const char *v = values[i];
            if (!v || !*v || f < 0)
                continue;
            char date[11];
            if ((f == 4 || f == 5) && iso_date(v, date) != 0)
                return ds_fail(err, DS_EFORMAT, "line %d: %s \"%s\" is not a date (yyyy-mm-dd)",
                               line, columns[cols[i]].name, v);
            if (f == 6 || f == 12) {
                char *end;
                long t = strtol(v, &end, 10);
                if (*end || t < 0 || t > 32767)
                    return ds_fail(err, DS_EFORMAT, "line %d: %s \"%s\" is not a number", line,
                                   columns[cols[i]].name, v);
                if (f == 6)
                    p->p.grant_term = (int)t;
                else
                    p->p.image_count = (int)t;
                continue;
            }
            char **slot = text_field(&p->p, f);
            free(*slot);
            if (!(*slot = strdup(f == 4 || f == 5 ? date : v)))
                return ds_fail(err, DS_ENOMEM, "out of memory");
        }
    }
    if (file_name) {
        if (m->n_images == m->cap_images) {
            size_t cap = m->cap_images ? 2 * m->cap_images : 64;
            meta_image *im = realloc(m->images, cap * sizeof *im);
            if (!im)
                return ds_fail(err, DS_ENOMEM, "out of memory");
            m->images = im;
            m->cap_images = cap;
        }
        meta_image *im = &m->images[m->n_images];
        im->file_name = strdup(file_name);
        im->patent_id = patent_id ? strdup(patent_id) : NULL;
        im->image_index = image_index;
        im->line = line;
        im->used = 0;
        if (!im->file_name || (patent_id && !im->patent_id)) {
            free(im->file_name);
            free(im->patent_id);
            return ds_fail(err, DS_ENOMEM, "out of memory");
        }
        m->n_images++;
    }
    return 0;
}

/* ---- CSV ----------------------------------------------------------------- */

/* The next field of the record at *p (unquoting in place). *eol is set when
 * it ended the record. NULL at the end of input. */
static char *csv_field(char **p, int *eol, int *line, ds_err *err)
{
    char *s = *p, *out = s, *start = s;
    *eol = 0;
    if (*s == '"') {
        s++;
        for (;;) {
            if (!*s) {
                ds_fail(err, DS_EFORMAT, "line %d: a quoted field is not closed", *line);
                return NULL;
            }
            if (*s == '"' && s[1] == '"') {
                *out++ = '"';
                s += 2;
            } else if (*s == '"') {
                s++;
                break;
            } else {
                if (*s == '\n')
                    (*line)++;
                *out++ = *s++;
            }
        }
        if (*s && *s != ',' && *s != '\n' && *s != '\r') {
            ds_fail(err, DS_EFORMAT, "line %d: text after a closing quote", *line);
            return NULL;
        }
    } else {
        while (*s && *s != ',' && *s != '\n' && *s != '\r')
            *out++ = *s++;
    }
    if (*s == '\r')
        s++;
    if (*s == '\n' || !*s) {
        *eol = 1;
        if (*s)
            s++;
    } else if (*s == ',') {
        s++;
    }
    *out = 0;
    *p = s;
    return start;
}

static int load_csv(imp_meta *m, char *text, ds_err *err)
{
    int cols[N_COLUMNS], n_cols = 0, line = 1, eol = 0;
    char *p = text;
    /* Header. */
    do {
        char *name = csv_field(&p, &eol, &line, err);
        if (!name)
            return -1;
        int c = column_of(name);
        if (c < 0)
            return ds_fail(err, DS_EFORMAT, "line 1: unknown column \"%s\"", name);
        for (int i = 0; i < n_cols; i++)
            if (cols[i] == c)
                return ds_fail(err, DS_EFORMAT, "line 1: column \"%s\" twice", name);
        if (n_cols == (int)N_COLUMNS)
            return ds_fail(err, DS_EFORMAT, "line 1: too many columns");
        cols[n_cols++] = c;
    } while (!eol);
    char *values[N_COLUMNS];
    while (*p) {
        line++;
        if (*p == '\n' || (*p == '\r' && p[1] == '\n')) { /* a blank line */
            p += *p == '\r' ? 2 : 1;
            continue;
        }
        int n = 0, row_line = line;
        do {
            char *v = csv_field(&p, &eol, &line, err);
            if (!v)
                return -1;
            if (n == n_cols)
                return ds_fail(err, DS_EFORMAT, "line %d: more fields than the header's %d",
                               row_line, n_cols);
            values[n++] = v;
        } while (!eol);
        for (int i = n; i < n_cols; i++)
            values[i] = NULL;
        if (add_row(m, cols, values, n_cols, row_line, err) != 0)
            return -1;
    }
    return 0;
}

/* ---- JSON ---------------------------------------------------------------- */

static int json_row(imp_meta *m, json_t *o, int line, ds_err *err)
{
    int cols[N_COLUMNS], n = 0;
    char *values[N_COLUMNS], num[N_COLUMNS][32];
    const char *key;
    json_t *v;
    if (!json_is_object(o))
        return ds_fail(err, DS_EFORMAT, "record %d: not a JSON object", line);
    json_object_foreach(o, key, v)
    {
        int c = column_of(key);
        if (c < 0)
            return ds_fail(err, DS_EFORMAT, "record %d: unknown key \"%s\"", line, key);
        if (json_is_string(v))
            values[n] = (char *)json_string_value(v);
        else if (json_is_integer(v)) {
            snprintf(num[n], sizeof num[n], "%lld", (long long)json_integer_value(v));
            values[n] = num[n];
        } else if (json_is_null(v))
            values[n] = NULL;
        else
            return ds_fail(err, DS_EFORMAT, "record %d: \"%s\" must be a string or a number",
                           line, key);
        cols[n++] = c;
    }
    return add_row(m, cols, values, n, line, err);
}

static int load_json(imp_meta *m, const char *text, size_t len, ds_err *err)
{
    json_error_t je;
    json_t *all = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (all) {
        int rc = 0;
        if (json_is_object(all)) /* JSON lines of one record */
            rc = json_row(m, all, 1, err);
        else if (!json_is_array(all))
            rc = ds_fail(err, DS_EFORMAT, "metadata JSON: expected an array of objects");
        for (size_t i = 0; rc == 0 && i < json_array_size(all); i++)
            rc = json_row(m, json_array_get(all, i), (int)i + 1, err);
        json_decref(all);
        return rc;
    }
    /* JSON lines: one object per line. */
    const char *p = text, *end = text + len;
    for (int line = 1; p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (n > 0 && strspn(p, " \t\r") < n) {
            json_t *o = json_loadb(p, n, JSON_REJECT_DUPLICATES, &je);
            if (!o)
                return ds_fail(err, DS_EFORMAT, "line %d: %s", line, je.text);
            int rc = json_row(m, o, line, err);
            json_decref(o);
            if (rc != 0)
                return -1;
        }
        p += n + 1;
    }
    return 0;
}

/* ---- loading and looking up ---------------------------------------------- */

/* The length of the well-formed UTF-8 sequence at s (n bytes left), or 0:
 * no overlong forms, no surrogates, nothing past U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80)
        return 1;
    size_t k = s[0] >= 0xC2 && s[0] <= 0xDF ? 2 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3
             : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : 0;
    if (!k || k > n)
        return 0;
    for (size_t i = 1; i < k; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F) ||
        (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F))
        return 0;
    return k;
}

/* The line (from 1) of the first byte that is not UTF-8, or 0 when all is. */
static int line_not_utf8(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    int line = 1;
    for (size_t i = 0; i < len;) {
        size_t k = utf8_seq(s + i, len - i);
        if (!k)
            return line;
        line += s[i] == '\n';
        i += k;
    }
    return 0;
}

static int by_image_name(const void *a, const void *b)
{
    return strcmp(((const meta_image *)a)->file_name, ((const meta_image *)b)->file_name);
}

/* By name, then by line: rows of one name stay in file order, so which of
 * them a message names does not depend on qsort. */
static int by_image_name_line(const void *a, const void *b)
{
    int c = by_image_name(a, b);
    return c ? c : ((const meta_image *)a)->line - ((const meta_image *)b)->line;
}

static int same_text(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Two rows placing one file name elsewhere (another patent or index) are
 * refused: bsearch would pick either, and the other row's patent would be
 * dropped without a word. Rows that agree are harmless repeats. */
static int check_repeated_names(const imp_meta *m, ds_err *err)
{
    for (size_t i = 1; i < m->n_images; i++) {
        const meta_image *a = &m->images[i - 1], *b = &m->images[i];
        if (strcmp(a->file_name, b->file_name) != 0)
            continue;
        if (!same_text(a->patent_id, b->patent_id) || a->image_index != b->image_index)
            return ds_fail(err, DS_EFORMAT,
                           "lines %d and %d both describe file_name \"%s\", differently "
                           "(patent_id %s / %s, image_index %d / %d): keep one",
                           a->line, b->line, a->file_name, a->patent_id ? a->patent_id : "none",
                           b->patent_id ? b->patent_id : "none", a->image_index,
                           b->image_index);
    }
    return 0;
}

static int by_patent_id(const void *a, const void *b)
{
    return strcmp((*(imp_patent *const *)a)->p.patent_id, (*(imp_patent *const *)b)->p.patent_id);
}

void imp_meta_free(imp_meta *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_images; i++) {
        free(m->images[i].file_name);
        free(m->images[i].patent_id);
    }
    for (size_t i = 0; i < m->n_patents; i++)
        imp_patent_unref(m->patents[i]);
    free(m->images);
    free(m->patents);
    free(m->path);
    free(m);
}

int imp_meta_load(const char *path, imp_meta **out, ds_err *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return ds_fail(err, errno == ENOENT ? DS_ENOTFOUND : DS_EIO, "metadata %s: %s", path,
                       strerror(errno));
    char *text = malloc(META_MAX_BYTES + 1);
    size_t len = text ? fread(text, 1, META_MAX_BYTES + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (!text)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    if (bad || len > META_MAX_BYTES) {
        free(text);
        return ds_fail(err, bad ? DS_EIO : DS_ETOOBIG, "metadata %s: %s", path,
                       bad ? "read failed" : "over 256 MiB");
    }
    text[len] = 0;
    if (memchr(text, 0, len)) {
        free(text);
        return ds_fail(err, DS_EFORMAT, "metadata %s: a NUL byte: not text", path);
    }
    int bad_line = line_not_utf8(text, len);
    if (bad_line) {
        free(text);
        return ds_fail(err, DS_EFORMAT, "metadata %s: line %d: not UTF-8 (save the file as "
                                        "UTF-8)", path, bad_line);
    }
    imp_meta *m = calloc(1, sizeof *m);
    char *body = text + (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0);
    size_t skip = strspn(body, " \t\r\n");
    int rc = !m ? ds_fail(err, DS_ENOMEM, "out of memory")
             : (body[skip] == '[' || body[skip] == '{')
                 ? load_json(m, body, len - (size_t)(body - text), err)
                 : load_csv(m, body, err);
    free(text);
    if (rc != 0) {
        imp_meta_free(m);
        return ds_wrap(err, "metadata %s: ", path);
    }
    if (m->n_images) /* NULL arrays when empty: qsort may not take them */
        qsort(m->images, m->n_images, sizeof *m->images, by_image_name_line);
    if (m->n_patents)
        qsort(m->patents, m->n_patents, sizeof *m->patents, by_patent_id);
    if (check_repeated_names(m, err) != 0 || !(m->path = strdup(path))) {
        if (!m->path && !err->code)
            ds_fail(err, DS_ENOMEM, "out of memory");
        imp_meta_free(m);
        return ds_wrap(err, "metadata %s: ", path);
    }
    *out = m;
    return 0;
}

int imp_sheet_of(const char *name, char *id, size_t n)
{
    *id = 0;
    if (strncasecmp(name, "USD", 3) != 0 || !isdigit((unsigned char)name[3]))
        return -1;
    size_t digits = strspn(name + 3, "0123456789");
    if (digits > 12 || digits + 2 > n)
        return -1;
    id[0] = 'D';
    memcpy(id + 1, name + 3, digits);
    id[digits + 1] = 0;
    const char *fig = strstr(name + 3 + digits, "-D");
    if (!fig || !isdigit((unsigned char)fig[2]))
        return -1;
    long sheet = strtol(fig + 2, NULL, 10);
    return sheet >= 0 && sheet <= 32767 ? (int)sheet : -1;
}

/* The place the XML would give the drawing: its order in <drawings>, whose
 * sheets are numbered from D00000 when the patent has one, else from
 * D00001. -1 when the name has no sheet number. */
static int index_of_sheet(int sheet, int sheet_zero)
{
    if (sheet < 0)
        return -1;
    return sheet_zero || sheet == 0 ? sheet : sheet - 1;
}

int imp_meta_describe(imp_meta *m, const char *file_name, int sheet_zero,
                      imp_patent **patent, char *id, size_t n, int *image_index, ds_err *err)
{
    *patent = NULL;
    *image_index = index_of_sheet(imp_sheet_of(file_name, id, n), sheet_zero);
    if (!m)
        return 0;
    meta_image key = {.file_name = (char *)file_name};
    meta_image *im =
        m->n_images ? bsearch(&key, m->images, m->n_images, sizeof key, by_image_name) : NULL;
    if (im) {
        /* Repeats of the name agree (check_repeated_names): mark them all. */
        for (meta_image *r = im; r >= m->images && !strcmp(r->file_name, file_name); r--)
            r->used = 1;
        for (meta_image *r = im + 1; r < m->images + m->n_images &&
                                     !strcmp(r->file_name, file_name); r++)
            r->used = 1;
        /* A cut id would file the image under another patent. */
        if (im->patent_id && ds_snprintf(id, n, err, "%s", im->patent_id) != 0)
            return ds_wrap(err, "patent_id: ");
        if (im->image_index >= 0)
            *image_index = im->image_index;
    }
    if (*id && m->n_patents) {
        imp_patent k = {.p = {.patent_id = id}}, *kp = &k;
        imp_patent **found = bsearch(&kp, m->patents, m->n_patents, sizeof kp, by_patent_id);
        if (found)
            *patent = imp_patent_ref(*found);
    }
    return 0;
}

void imp_meta_report_unused(imp_ctx *x, const imp_meta *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_images; i++) {
        const meta_image *im = &m->images[i];
        if (im->used || (i > 0 && !strcmp(im->file_name, m->images[i - 1].file_name)))
            continue;
        char what[PATH_MAX + 32], reason[600];
        snprintf(what, sizeof what, "metadata %s line %d", m->path, im->line);
        /* A row whose image never came is data the user gave that would
         * otherwise vanish: "sub/a.png" or "A.PNG" for a.png, a typo, an
         * image left out. A failure names it (the import's exit is 3). */
        snprintf(reason, sizeof reason,
                 "file_name \"%.400s\" names no image this import read (a plain image's "
                 "file_name is its own name, without folders, in its exact case)",
                 im->file_name);
        imp__fail(x, what, reason);
    }
}
