/* export.c - search results as CSV (see export.h). */
#include "http/export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const patent_cols[] = {
    "title", "loc_class", "loc_edition", "pub_date_iso", "filing_date_iso", "grant_term",
    "applicant_name", "applicant_country", "inventor_names", "assignee_name", "kind",
};
#define N_PATENT_COLS (sizeof patent_cols / sizeof patent_cols[0])

/* One cell. text: a value from the catalog (a title, a name), which a
 * spreadsheet would run as a formula if it began with = + - @, or with a
 * tab or carriage return before one; numbers we print are left alone (a
 * negative score must stay a number). */
static void cell(FILE *f, const char *s, int first, int text)
{
    if (!first)
        fputc(',', f);
    if (!s)
        return;
    int formula = text && s[0] && strchr("=+-@\t\r", s[0]);
    int quote = formula || strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        fputc('"', f);
    if (formula)
        fputc('\'', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    if (quote)
        fputc('"', f);
}

static void value(FILE *f, json_t *v)
{
    char num[64];
    if (json_is_string(v))
        cell(f, json_string_value(v), 0, 1);
    else if (json_is_integer(v)) {
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
        cell(f, num, 0, 0);
    } else if (json_is_real(v)) {
        snprintf(num, sizeof num, "%.6f", json_real_value(v));
        cell(f, num, 0, 0);
    } else
        cell(f, NULL, 0, 0);
}

static void row(FILE *f, int rank, json_t *patent_score, json_t *hit, json_t *patent,
                int with_collection)
{
    char r[16];
    snprintf(r, sizeof r, "%d", rank);
    cell(f, r, 1, 0);
    value(f, patent_score ? patent_score : json_object_get(hit, "score"));
    value(f, json_object_get(hit, "score"));
    value(f, json_object_get(patent, "patent_id"));
    value(f, json_object_get(hit, "file_name"));
    value(f, json_object_get(hit, "image_index"));
    value(f, json_object_get(hit, "page_num"));
    for (size_t i = 0; i < N_PATENT_COLS; i++)
        value(f, json_object_get(patent, patent_cols[i]));
    value(f, json_object_get(hit, "thumbnail_url"));
    value(f, json_object_get(hit, "image_url"));
    if (with_collection)
        value(f, json_object_get(patent, "collection"));
    fputs("\r\n", f);
}

char *api_results_csv(json_t *results, int grouped, int offset, int with_collection,
                      size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f)
        return NULL;
    fputs("rank,score,image_score,patent_id,file_name,image_index,page_num", f);
    for (size_t i = 0; i < N_PATENT_COLS; i++)
        fprintf(f, ",%s", patent_cols[i]);
    fputs(with_collection ? ",thumbnail_url,image_url,collection\r\n"
                          : ",thumbnail_url,image_url\r\n", f);
    size_t i;
    json_t *r;
    json_array_foreach(results, i, r) {
        int rank = offset + (int)i + 1;
        if (!grouped) {
            row(f, rank, NULL, r, r, with_collection);
            continue;
        }
        size_t j;
        json_t *img;
        json_array_foreach(json_object_get(r, "images"), j, img)
            row(f, rank, json_object_get(r, "score"), img, r, with_collection);
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}
