/* ui.c - the web UI's files: GET / is index.html, GET /ui/... the rest.
 *
 * The files are embedded in the binary (ui_assets.h). With the environment
 * variable DINOSEEK_WEB_DIR set they are read from that directory instead,
 * on every request, so that editing the page needs no rebuild.
 *
 * Every answer has an ETag and "Cache-Control: no-cache": browsers ask
 * again each time and get 304 while nothing changed, so a new build is
 * never hidden behind a stale cache. The page runs under a strict Content
 * Security Policy: only its own scripts, styles and images (plus the blob:
 * and data: URLs it makes for query previews).
 */
#include "http/ui.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "http/ui_assets.h"

#define CSP                                                                             \
    "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; " \
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

static const char *content_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"}, {".mjs", "text/javascript; charset=utf-8"},
        {".json", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
        {".ico", "image/x-icon"}, {".woff2", "font/woff2"}, {".txt", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

/* A path below web/ that cannot leave it: no "..", no empty or hidden parts. */
static int safe_path(const char *p)
{
    if (!*p || *p == '/' || strlen(p) > 200)
        return 0;
    for (const char *s = p; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == '\\')
            return 0;
    return !strstr(p, "..") && !strstr(p, "//") && p[0] != '.' && !strstr(p, "/.");
}

/* From DINOSEEK_WEB_DIR: the file's bytes (caller frees), or NULL. */
static unsigned char *from_disk(const char *dir, const char *path, size_t *len)
{
    char full[4096];
    /* Cut short, the name could be another file's. */
    if (ds_snprintf(full, sizeof full, NULL, "%s/%s", dir, path) != 0)
        return NULL;
    FILE *f = fopen(full, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0, got;
    do {
        if (n == cap) {
            unsigned char *more = realloc(buf, cap = cap ? 2 * cap : 65536);
            if (!more) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = more;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0 && n <= (64u << 20));
    fclose(f);
    *len = n;
    return buf;
}

static int serve(const http_request *req, http_response *resp, const char *path)
{
    const char *dir = getenv("DINOSEEK_WEB_DIR");
    const unsigned char *data = NULL;
    unsigned char *owned = NULL;
    size_t len = 0;
    char etag[24];
    if (!safe_path(path)) {
        http_respond_error(resp, 404, "no such file: /ui/%s", path);
        return 0;
    }
    if (dir && *dir) {
        if (!(owned = from_disk(dir, path, &len))) {
            http_respond_error(resp, 404, "no such file: %s/%s", dir, path);
            return 0;
        }
        uint64_t h = 1469598103934665603ull;
        for (size_t i = 0; i < len; i++)
            h = (h ^ owned[i]) * 1099511628211ull;
        snprintf(etag, sizeof etag, "\"%016llx\"", (unsigned long long)h);
        data = owned;
    } else {
        for (size_t i = 0; i < ui_n_assets && !data; i++)
            if (ui_assets[i].path && strcmp(ui_assets[i].path, path) == 0) {
                data = ui_assets[i].data;
                len = ui_assets[i].len;
                snprintf(etag, sizeof etag, "%s", ui_assets[i].etag);
            }
        if (!data) {
            http_respond_error(resp, 404, "no such file: /ui/%s", path);
            return 0;
        }
    }
    const char *inm = http_header(req, "If-None-Match");
    if (inm && strstr(inm, etag)) {
        http_respond_bytes(resp, 304, NULL, NULL, 0);
    } else {
        void *copy = owned;
        if (!copy && (copy = malloc(len ? len : 1)))
            memcpy(copy, data, len);
        if (!copy)
            return -1;
        owned = NULL;
        http_respond_bytes(resp, 200, content_type(path), copy, len);
    }
    free(owned);
    http_set_header(resp, "ETag", etag);
    http_set_header(resp, "Cache-Control", "no-cache");
    if (strstr(path, ".html")) {
        http_set_header(resp, "Content-Security-Policy", CSP);
        http_set_header(resp, "Referrer-Policy", "no-referrer");
    }
    return 0;
}

int ui_h_index(void *app, const http_request *req, http_response *resp)
{
    (void)app;
    return serve(req, resp, "index.html");
}

int ui_h_file(void *app, const http_request *req, http_response *resp)
{
    (void)app;
    return serve(req, resp, req->tail ? req->tail : "");
}
