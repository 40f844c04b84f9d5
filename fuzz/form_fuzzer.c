/* form_fuzzer.c - fuzz target for the HTTP input parsers: the first line of
 * the input is a Content-Type header value, the rest a multipart body; the
 * whole input is also parsed as a query string. Any bytes must give a
 * result or an error: no crash, no leak, no read out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ds_err err = {0};
    http_params q;
    if (http_parse_query((const char *)data, size, 1000, &q, &err) == 0) {
        for (size_t i = 0; i < q.count; i++)
            if (http_params_get(&q, q.items[i].name) == NULL)
                abort(); /* every parsed name is found again */
        http_params_free(&q);
    }
    const uint8_t *nl = memchr(data, '\n', size);
    if (!nl)
        return 0;
    char *ct = strndup((const char *)data, (size_t)(nl - data));
    char boundary[80];
    http_form f;
    if (ct && http_multipart_boundary(ct, boundary, sizeof boundary, &err) == 0 &&
        http_parse_multipart(nl + 1, size - (size_t)(nl + 1 - data), boundary, 1000, &f, &err) == 0) {
        for (size_t i = 0; i < f.count; i++)
            if (f.parts[i].len && f.parts[i].data[f.parts[i].len - 1] == 0xff && f.count > 100000)
                abort(); /* touch every part's last byte */
        http_form_free(&f);
    }
    free(ct);
    return 0;
}
