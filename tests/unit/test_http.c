/* test_http.c - query strings and multipart bodies, including hostile ones. */
#include <stdlib.h>

#include "../suites.h"
#include "http/form.h"

static void test_query(void)
{
    http_params p;
    ds_err err = {0};
    const char *q = "top_k=10&min_score=0.5&name=a%20b+c&flag&=empty&x=%E2%9C%93";
    CHECKF(http_parse_query(q, strlen(q), 100, &p, &err) == 0, "%s", err.msg);
    CHECK(p.count == 6);
    CHECK(strcmp(http_params_get(&p, "top_k"), "10") == 0);
    CHECK(strcmp(http_params_get(&p, "name"), "a b c") == 0);
    CHECK(strcmp(http_params_get(&p, "flag"), "") == 0);
    CHECK(strcmp(http_params_get(&p, ""), "empty") == 0);
    CHECK(strcmp(http_params_get(&p, "x"), "\xE2\x9C\x93") == 0);
    CHECK(http_params_get(&p, "missing") == NULL);
    http_params_free(&p);
    CHECK(http_parse_query("", 0, 10, &p, &err) == 0 && p.count == 0);
    CHECK(http_parse_query("&&&", 3, 10, &p, &err) == 0 && p.count == 0);
    CHECK(http_parse_query("a=%zz", 5, 10, &p, &err) != 0);
    CHECK_MSG(err, "malformed");
    CHECK(http_parse_query("a=%4", 4, 10, &p, &err) != 0);
    CHECK(http_parse_query("a=%00b", 6, 10, &p, &err) != 0);
    CHECK_MSG(err, "%00");
    CHECK(http_parse_query("a=1&b=2&c=3", 11, 2, &p, &err) != 0 && err.code == DS_ETOOBIG);
}

static void test_boundary(void)
{
    char b[80];
    ds_err err = {0};
    CHECK(http_multipart_boundary("multipart/form-data; boundary=abc123", b, sizeof b, &err) == 0 &&
          strcmp(b, "abc123") == 0);
    CHECK(http_multipart_boundary("multipart/form-data; boundary=\"a b;c\"; x=1", b, sizeof b,
                                  &err) == 0 && strcmp(b, "a b;c") == 0);
    CHECK(http_multipart_boundary("multipart/form-data", b, sizeof b, &err) != 0);
    CHECK_MSG(err, "without a boundary");
    CHECK(http_multipart_boundary("application/json", b, sizeof b, &err) != 0);
    CHECK(http_multipart_boundary(NULL, b, sizeof b, &err) != 0);
    char long_ct[200];
    snprintf(long_ct, sizeof long_ct, "multipart/form-data; boundary=%0100d", 7);
    CHECK(http_multipart_boundary(long_ct, b, sizeof b, &err) != 0);
}

static const char body[] =
    "preamble\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"top_k\"\r\n"
    "\r\n"
    "5\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"../../etc/a.png\"\r\n"
    "Content-Type: image/png\r\n"
    "\r\n"
    "\x89PNG\r\n--XyZnot-a-boundary\0binary\r\n"
    "--XyZ--\r\n"
    "epilogue";

static void test_multipart(void)
{
    http_form f;
    ds_err err = {0};
    size_t len = sizeof body - 1;
    CHECKF(http_parse_multipart((const unsigned char *)body, len, "XyZ", 100, &f, &err) == 0,
           "%s", err.msg);
    CHECK(f.count == 2);
    const http_part *k = http_form_get(&f, "top_k"), *file = http_form_get(&f, "file");
    CHECK(k && k->len == 1 && k->data[0] == '5' && !k->filename);
    CHECK(file && strcmp(file->filename, "../../etc/a.png") == 0);
    CHECK(file && strcmp(file->content_type, "image/png") == 0);
    /* Binary data with CRLF, a fake boundary and a NUL survive intact. */
    static const char want[] = "\x89PNG\r\n--XyZnot-a-boundary\0binary";
    CHECK(file && file->len == sizeof want - 1 && memcmp(file->data, want, sizeof want - 1) == 0);
    http_form_free(&f);
}

static void test_multipart_hostile(void)
{
    http_form f;
    ds_err err = {0};
    size_t len = sizeof body - 1;
    /* Truncated anywhere before the closing delimiter. */
    for (size_t cut = 0; cut < len - 12; cut += 7) {
        int rc = http_parse_multipart((const unsigned char *)body, cut, "XyZ", 100, &f, &err);
        CHECKF(rc != 0, "cut at %zu parsed", cut);
    }
    CHECK_MSG(err, "truncated");
    CHECK(http_parse_multipart((const unsigned char *)body, len, "other", 100, &f, &err) != 0);
    CHECK_MSG(err, "no boundary line");
    CHECK(http_parse_multipart((const unsigned char *)body, len, "XyZ", 1, &f, &err) != 0);
    CHECK(err.code == DS_ETOOBIG);
    /* 10,000 parts: refused past the limit, without quadratic blow-up. */
    size_t n = 10000, cap = n * 64 + 64, pos = 0;
    char *big = malloc(cap);
    for (size_t i = 0; i < n; i++)
        pos += (size_t)snprintf(big + pos, cap - pos,
                                "--b\r\nContent-Disposition: form-data; name=\"p%zu\"\r\n\r\nx\r\n", i);
    pos += (size_t)snprintf(big + pos, cap - pos, "--b--\r\n");
    CHECK(http_parse_multipart((unsigned char *)big, pos, "b", 64, &f, &err) != 0);
    CHECK(err.code == DS_ETOOBIG);
    CHECK(http_parse_multipart((unsigned char *)big, pos, "b", 20000, &f, &err) == 0);
    CHECK(f.count == n);
    http_form_free(&f);
    free(big);
    /* A part with no name. */
    const char *noname = "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n";
    CHECK(http_parse_multipart((const unsigned char *)noname, strlen(noname), "b", 10, &f,
                               &err) != 0);
    CHECK_MSG(err, "without a Content-Disposition name");
    /* An empty form is fine. */
    CHECK(http_parse_multipart((const unsigned char *)"--b--\r\n", 7, "b", 10, &f, &err) == 0 &&
          f.count == 0);
}

const ds_test http_tests[] = {
    {"query strings decode and refuse bad escapes", test_query},
    {"multipart boundary from Content-Type", test_boundary},
    {"multipart parts: fields, files, binary data", test_multipart},
    {"multipart: truncated, wrong boundary, 10,000 parts", test_multipart_hostile},
    {0},
};
