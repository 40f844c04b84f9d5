/* http_client.c - the tests' HTTP client (see http_client.h). */
#include "../http_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../test.h"

size_t ds_reply_on_body(char *p, size_t size, size_t n, void *ud)
{
    ds_reply *r = ud;
    char *grown = realloc(r->body, r->len + size * n + 1);
    if (!grown)
        return 0;
    r->body = grown;
    memcpy(r->body + r->len, p, size * n);
    r->len += size * n;
    r->body[r->len] = '\0';
    return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    ds_reply *r = ud;
    size_t k = size * n, room = sizeof r->headers - 1 - r->hlen;
    memcpy(r->headers + r->hlen, p, k < room ? k : room);
    r->hlen += k < room ? k : room;
    r->headers[r->hlen] = '\0';
    return k;
}

void ds_reply_free(ds_reply *r)
{
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

ds_reply ds_http(int port, const char *method, const char *path, ds_form_fn form,
                 const char *content_type, const char *raw, size_t raw_len, const char *header)
{
    ds_reply r = {0};
    char url[1024], ct[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    CURL *c = curl_easy_init();
    struct curl_slist *h = header ? curl_slist_append(NULL, header) : NULL;
    if (content_type) {
        snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
        h = curl_slist_append(h, ct);
    }
    curl_mime *mime = form ? form(c) : NULL;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ds_reply_on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    if (mime)
        curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
    else if (raw) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, raw);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)raw_len);
    }
    CURLcode rc = curl_easy_perform(c);
    CHECKF(rc == CURLE_OK, "%s %s: %s", method, path, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    if (!r.body)
        r.body = calloc(1, 1);
    r.json = r.len ? json_loads(r.body, 0, NULL) : NULL;
    curl_mime_free(mime);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return r;
}
