/* s3_xml_fuzzer.c - fuzz target for the reading of S3's XML answers
 * (src/blob/s3_xml.h): the input is a body as a server sends it (a buffer
 * with no NUL after it), read as a ListObjectsV2 page and as an error
 * document; its text up to the first NUL is also read as a timestamp.
 * What the S3 store relies on is asserted (a broken one aborts):
 *   - a page has at most 100000 entries, each with a key that is a
 *     NUL-terminated string no longer than the body; a truncated page has
 *     a non-empty continuation token; a refused one says why and leaves
 *     nothing behind;
 *   - an error's code and message are NUL-terminated printable ASCII that
 *     fit the buffers given, however small;
 *   - a timestamp is 0 or within years 1970..9999.
 * Replay with `make build/fuzz/s3_xml_fuzzer_replay &&
 * build/fuzz/s3_xml_fuzzer_replay fuzz/corpus/s3_xml_fuzzer`. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blob/s3_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int cond)
{
    if (!cond)
        abort();
}

static void check_list(const char *xml, size_t size)
{
    s3_list_page p;
    ds_err err = {0};
    memset(&p, 0x5a, sizeof p);
    if (s3_parse_list(xml, size, &p, &err) != 0) {
        require(err.code == DS_EFORMAT || err.code == DS_ETOOBIG || err.code == DS_ENOMEM);
        require(err.msg[0] != '\0' && memchr(err.msg, '\0', sizeof err.msg));
        require(p.objs == NULL && p.n == 0 && p.next_token == NULL);
        return;
    }
    require(p.n <= 100000 && (p.n == 0 || p.objs != NULL));
    require(p.truncated == 0 || p.truncated == 1);
    if (p.truncated)
        require(p.next_token && p.next_token[0]);
    if (p.next_token)
        require(strlen(p.next_token) <= size);
    for (size_t i = 0; i < p.n; i++) {
        const s3_object *o = &p.objs[i];
        require(o->key != NULL && strlen(o->key) <= size); /* ASan: NUL-terminated */
        require(o->mtime >= 0);
    }
    s3_list_page_free(&p);
    require(p.objs == NULL && p.n == 0 && p.next_token == NULL);
}

static void check_error(const char *xml, size_t size, size_t code_n, size_t msg_n)
{
    char code[64], msg[512];
    memset(code, 'x', sizeof code);
    memset(msg, 'x', sizeof msg);
    s3_parse_error(xml, size, code, code_n, msg, msg_n);
    const char *bufs[2] = {code, msg};
    size_t lens[2] = {code_n, msg_n};
    for (int b = 0; b < 2; b++) {
        const char *end = memchr(bufs[b], '\0', lens[b]);
        require(end != NULL);
        for (const char *s = bufs[b]; s < end; s++)
            require(*s >= 0x20 && *s < 0x7f);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *xml = (const char *)data;
    check_list(xml, size);
    check_error(xml, size, 64, 512);
    check_error(xml, size, 1, 2); /* room for nothing but the NUL, and one byte */

    /* The timestamp reader takes a string: the input to its first NUL. */
    char ts[64];
    size_t n = size < sizeof ts - 1 ? size : sizeof ts - 1;
    memcpy(ts, data, n);
    ts[n] = '\0';
    int64_t t = s3_parse_iso8601(ts);
    require(t >= 0 && t <= INT64_C(253402300800)); /* 9999-12-31T23:59:60Z */
    return 0;
}
