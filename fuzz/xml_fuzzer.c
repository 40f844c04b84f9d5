/* xml_fuzzer.c - fuzz target for the USPTO grant XML parser: the input is a
 * buffer of one or many documents, as a weekly file is. Every document must
 * give a grant or an error saying why, every grant must become JSON, and
 * every string it holds must be UTF-8: no crash, no leak, no read past the
 * buffer (which, like a mapped file, has no NUL after it). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "uspto/uspto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_utf8(const char *s)
{
    json_t *j = s ? json_string(s) : NULL;
    if (s && !j)
        abort(); /* json_string refuses invalid UTF-8 */
    json_decref(j);
}

static int check_doc(void *ctx, const us_doc *d)
{
    (void)ctx;
    if ((d->grant == NULL) == (d->error == NULL) || d->index >= d->total)
        abort();
    check_utf8(d->root);
    if (!d->grant) {
        if (!d->error->msg[0] || d->error->code == DS_OK)
            abort(); /* every failure says why */
        check_utf8(d->error->msg); /* quoting the document, cut to fit */
        return 0;
    }
    const us_grant *g = d->grant;
    const char *fields[] = {g->format, g->patent_id, g->kind, g->title, g->loc_class,
                            g->loc_edition, g->pub_date, g->filing_date, g->applicant_name,
                            g->applicant_country, g->inventor_names, g->assignee_name,
                            g->claim_text};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        check_utf8(fields[i]);
    if (!g->patent_id || g->n_figures < 0 || (g->n_figures && !g->figures))
        abort();
    for (int i = 0; i < g->n_figures; i++)
        check_utf8(g->figures[i]);
    json_t *j = us_grant_json(g, "fuzz.xml#1");
    char *text = j ? json_dumps(j, JSON_PRESERVE_ORDER) : NULL;
    if (!text)
        abort();
    free(text);
    json_decref(j);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ds_err err = {0};
    int n = us_parse_buffer((const char *)data, size, check_doc, NULL, &err);
    if (n < 0 && !err.msg[0])
        abort();
    return 0;
}
