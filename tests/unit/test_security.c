/* test_security.c - the threats of docs/security.md that no other suite
 * covers: the API key compare, CORS, the address the server listens on,
 * hostile names on the image route, pixel bombs over HTTP, import paths
 * outside the roots, Milvus filters built from hostile values, and secrets
 * kept out of every log, message and answer. The others (XXE, zip bombs,
 * archive member names, ...) are in their modules' suites; the document
 * names each test. */
#include <arpa/inet.h>
#include <dirent.h>
#include <glob.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../http_client.h"
#include "../server_helper.h"
#include "../suites.h"
#include "base/secret.h"
#include "http/export.h"
#include "http/server.h"
#include "milvus/expr.h"

#define IMG "tests/fixtures/images/"

/* ---- helpers ------------------------------------------------------------- */

static int ok_route(void *app, const http_request *req, http_response *resp)
{
    (void)app, (void)req;
    http_respond_ok(resp, NULL);
    return 0;
}

static const http_route routes[] = {
    {"GET", "/read", ok_route, 0, 0, "read"},
    {"POST", "/write", ok_route, HTTP_WRITE, 1000, "write"},
};

static http_server *start_routes(const char *host, const char *api_key, const char *cors)
{
    http_config cfg = {.host = host, .port = 0, .api_key = api_key, .cors = cors};
    http_server *s = NULL;
    ds_err err = {0};
    CHECKF(http_start(&cfg, routes, 2, NULL, &s, &err) == 0, "%s", err.msg);
    return s;
}

/* One request with up to two extra header lines (NULL for none). */
static ds_reply request2(int port, const char *method, const char *path, const char *h1,
                         const char *h2)
{
    ds_reply r = {0};
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    if (h1)
        h = curl_slist_append(h, h1);
    if (h2)
        h = curl_slist_append(h, h2);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ds_reply_on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    if (strcmp(method, "POST") == 0)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "x");
    CURLcode rc = curl_easy_perform(c);
    CHECKF(rc == CURLE_OK, "%s %s: %s", method, path, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (!r.body)
        r.body = calloc(1, 1);
    return r;
}

/* The response headers of a request (ds_http records them). */
static ds_reply with_headers(int port, const char *method, const char *path, const char *header)
{
    return ds_http(port, method, path, NULL, NULL, strcmp(method, "POST") ? NULL : "x",
                   strcmp(method, "POST") ? 0 : 1, header);
}

/* A request written byte for byte on a socket, so that no client library
 * tidies the path ("/a/../b" is sent as it is). Returns the status (0:
 * no answer); the whole answer goes to buf. */
static int raw_get(int port, const char *path, char *buf, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {.tv_sec = 30};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    buf[0] = '\0';
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    size_t req_cap = strlen(path) + 128;
    char *req = malloc(req_cap);
    int n = snprintf(req, req_cap, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                     path);
    size_t len = 0;
    if (write(fd, req, (size_t)n) == n)
        for (ssize_t got; len + 1 < cap && (got = read(fd, buf + len, cap - 1 - len)) > 0;)
            len += (size_t)got;
    buf[len] = '\0';
    free(req);
    close(fd);
    int status = 0;
    sscanf(buf, "HTTP/1.%*d %d", &status);
    return status;
}

/* The local address ("0100007F" is 127.0.0.1) of the TCP socket listening
 * on port, from /proc/net/tcp (IPv4) or tcp6; 1 when found. The kernel's
 * word, not the server's. */
static int listener(const char *table, int port, char *addr, size_t n)
{
    FILE *f = fopen(table, "r");
    char line[512];
    int found = 0;
    while (f && !found && fgets(line, sizeof line, f)) {
        char local[64];
        unsigned p, state;
        if (sscanf(line, " %*d: %63[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x", local, &p, &state) == 3 &&
            (int)p == port && state == 0x0A /* LISTEN */) {
            snprintf(addr, n, "%s", local);
            found = 1;
        }
    }
    if (f)
        fclose(f);
    return found;
}

static int contains(const char *hay, const char *needle) { return hay && strstr(hay, needle); }

/* ---- the API key ------------------------------------------------------- */

/* The compare itself. That it takes the same time whatever the bytes is a
 * property of its code (no branch or early exit on the data, volatile
 * reads, digests of fixed length), reviewed, not timed: a timing test
 * would be flaky on a shared machine. What is tested: it is a correct
 * equality, for every near miss. */
static void test_secret_compare(void)
{
    const char *key = "Secr3t-key-0123";
    size_t n = strlen(key);
    char buf[64];
    CHECK(ds_secret_equal(key, key) == 1);
    snprintf(buf, sizeof buf, "%s", key);
    CHECK(ds_secret_equal(buf, key) == 1); /* equal text at another address */
    CHECK(ds_secret_equal(NULL, key) == 0 && ds_secret_equal(key, NULL) == 0);
    CHECK(ds_secret_equal("", key) == 0);
    for (size_t len = 0; len < n; len++) { /* every proper prefix */
        snprintf(buf, sizeof buf, "%.*s", (int)len, key);
        CHECKF(ds_secret_equal(buf, key) == 0, "prefix of %zu bytes accepted", len);
    }
    for (int c = 1; c < 256; c++) { /* one byte too many, whatever it is */
        snprintf(buf, sizeof buf, "%s%c", key, c);
        CHECKF(ds_secret_equal(buf, key) == 0, "key + 0x%02x accepted", c);
    }
    for (size_t i = 0; i < n; i++) /* each byte wrong, by one bit and by case */
        for (int bit = 0; bit < 8; bit++) {
            snprintf(buf, sizeof buf, "%s", key);
            buf[i] = (char)(buf[i] ^ (1 << bit));
            if (buf[i] == '\0')
                continue;
            CHECKF(ds_secret_equal(buf, key) == 0, "byte %zu bit %d flipped accepted", i, bit);
        }
    unsigned char a[64] = {0}, b[64] = {0};
    CHECK(ds_ct_equal(a, b, sizeof a) == 1 && ds_ct_equal(a, b, 0) == 1);
    b[0] = 1;
    CHECK(ds_ct_equal(a, b, sizeof a) == 0);
    b[0] = 0, b[63] = 0x80;
    CHECK(ds_ct_equal(a, b, sizeof a) == 0 && ds_ct_equal(a, b, 63) == 1);
}

/* Over HTTP: wrong keys of every length and prefix, in both headers, are
 * 401; the key itself passes; read routes need none. */
static void test_api_key_http(void)
{
    const char *key = "Secr3t-key-0123";
    http_server *s = start_routes(NULL, key, NULL);
    if (!s)
        return;
    int port = http_port(s);
    char wrong[64], h1[128], h2[128];
    size_t n = strlen(key);
    for (size_t len = 0; len <= 2 * n; len++) {
        /* Prefixes of the key, then the key followed by more of itself. */
        for (size_t i = 0; i < len; i++)
            wrong[i] = key[i % n];
        wrong[len] = '\0';
        if (len == n)
            wrong[n - 1] ^= 1; /* the right length, the last byte wrong */
        /* "X-API-Key;" is curl's way of sending an empty header. */
        if (len == 0)
            snprintf(h1, sizeof h1, "X-API-Key;");
        else
            snprintf(h1, sizeof h1, "X-API-Key: %s", wrong);
        snprintf(h2, sizeof h2, "Authorization: Bearer %s", wrong);
        ds_reply r = request2(port, "POST", "/write", h1, NULL);
        CHECKF(r.status == 401, "X-API-Key of %zu bytes: %ld", len, r.status);
        ds_reply_free(&r);
        r = request2(port, "POST", "/write", h2, NULL);
        CHECKF(r.status == 401, "Bearer of %zu bytes: %ld", len, r.status);
        ds_reply_free(&r);
    }
    /* The key in another case, or as Basic credentials: refused. */
    const char *others[] = {"X-API-Key: SECR3T-KEY-0123", "Authorization: Basic Secr3t-key-0123",
                            "Authorization: Secr3t-key-0123", "Api-Key: Secr3t-key-0123"};
    for (size_t i = 0; i < sizeof others / sizeof *others; i++) {
        ds_reply r = request2(port, "POST", "/write", others[i], NULL);
        CHECKF(r.status == 401, "%s: %ld", others[i], r.status);
        ds_reply_free(&r);
    }
    snprintf(h1, sizeof h1, "X-API-Key: %s", key);
    snprintf(h2, sizeof h2, "Authorization: Bearer %s", key);
    ds_reply r = request2(port, "POST", "/write", h1, NULL);
    CHECKF(r.status == 200, "the key in X-API-Key: %ld", r.status);
    ds_reply_free(&r);
    r = request2(port, "POST", "/write", h2, NULL);
    CHECKF(r.status == 200, "the key as Bearer: %ld", r.status);
    ds_reply_free(&r);
    r = request2(port, "GET", "/read", NULL, NULL);
    CHECK(r.status == 200);
    ds_reply_free(&r);
    /* The 401 says what is needed, never the key. */
    r = request2(port, "POST", "/write", "X-API-Key: Secr3t-key-012", NULL);
    CHECKF(r.status == 401 && !strstr(r.body, key), "%s", r.body);
    ds_reply_free(&r);
    http_stop(s);
}

/* ---- nosniff ---------------------------------------------------------------- */

/* Every answer of ours says nosniff. libmicrohttpd answers a header block
 * or a request line too big for its per-connection memory itself (431,
 * 414), with no header of ours: docs/security.md must say so, and those
 * pages must echo nothing of the request. */
static void test_nosniff(void)
{
    http_server *s = start_routes(NULL, "k", NULL);
    if (!s)
        return;
    int port = http_port(s);
    char big_body[2000];
    memset(big_body, 'x', sizeof big_body);
    ds_reply ours[] = {
        with_headers(port, "GET", "/read", NULL),       /* 200 */
        with_headers(port, "GET", "/nothing", NULL),    /* 404 */
        with_headers(port, "POST", "/write", NULL),     /* 401 */
        with_headers(port, "DELETE", "/read", NULL),    /* 405 */
        ds_http(port, "POST", "/write", NULL, "text/plain", big_body, sizeof big_body,
                "X-API-Key: k"),                         /* 413, the route's limit */
    };
    for (size_t i = 0; i < sizeof ours / sizeof *ours; i++) {
        CHECKF(strstr(ours[i].headers, "X-Content-Type-Options: nosniff"), "%ld: %s",
               ours[i].status, ours[i].headers);
        ds_reply_free(&ours[i]);
    }
    char *huge = malloc(64 * 1024), header[64 * 1024 + 16], path[64 * 1024 + 16];
    memset(huge, 'q', 64 * 1024 - 1);
    huge[64 * 1024 - 1] = '\0';
    snprintf(header, sizeof header, "X-Big: %s", huge);
    snprintf(path, sizeof path, "/read?%s", huge);
    ds_reply big_header = with_headers(port, "GET", "/read", header);
    char *long_line = malloc(8192);
    int long_status = raw_get(port, path, long_line, 8192);
    struct {
        long status;
        const char *answer;
    } theirs[] = {{big_header.status, big_header.headers}, {long_status, long_line}};
    CHECKF(!strstr(big_header.body, "qqqq"), "%.200s", big_header.body);
    char *doc = ds_test_read_file("docs/security.md", NULL);
    for (size_t i = 0; i < sizeof theirs / sizeof *theirs; i++) {
        char code[8];
        snprintf(code, sizeof code, "`%ld`", theirs[i].status);
        CHECKF(theirs[i].status >= 400 && !strstr(theirs[i].answer, "qqqq"), "%ld %.200s",
               theirs[i].status, theirs[i].answer);
        if (!strstr(theirs[i].answer, "X-Content-Type-Options: nosniff"))
            CHECKF(doc && strstr(doc, code), "docs/security.md is silent on the %s pages that "
                                              "lack nosniff", code);
    }
    ds_reply_free(&big_header);
    free(long_line);
    free(doc);
    free(huge);
    http_stop(s);
}

/* ---- CORS --------------------------------------------------------------- */

static int allow_origin_is(const ds_reply *r, const char *origin)
{
    if (!origin)
        return strstr(r->headers, "Access-Control-Allow-Origin") == NULL;
    char want[256];
    snprintf(want, sizeof want, "Access-Control-Allow-Origin: %s\r\n", origin);
    return strstr(r->headers, want) != NULL;
}

static void test_cors(void)
{
    http_server *s = start_routes(NULL, "k", "http://a.example,http://b.example:8080");
    if (!s)
        return;
    int port = http_port(s);
    static const char *const allowed[] = {"http://a.example", "http://b.example:8080"};
    for (size_t i = 0; i < 2; i++) {
        char h[128];
        snprintf(h, sizeof h, "Origin: %s", allowed[i]);
        ds_reply r = with_headers(port, "GET", "/read", h);
        CHECKF(allow_origin_is(&r, allowed[i]) && strstr(r.headers, "Vary: Origin") &&
                   strstr(r.headers, "X-Content-Type-Options: nosniff"),
               "%s", r.headers);
        ds_reply_free(&r);
    }
    /* Look-alikes: a suffix, a prefix, another port or scheme, case, the
     * whole list, "null" and an empty origin are never echoed. */
    static const char *const refused[] = {
        "Origin: http://a.example.evil.net", "Origin: http://a.exampl", "Origin: http://evil.example",
        "Origin: http://b.example", "Origin: https://a.example", "Origin: HTTP://A.EXAMPLE",
        "Origin: http://a.example,http://b.example:8080", "Origin: null", "Origin;"};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        ds_reply r = with_headers(port, "GET", "/read", refused[i]);
        CHECKF(r.status == 200 && allow_origin_is(&r, NULL), "%s: %s", refused[i], r.headers);
        ds_reply_free(&r);
    }
    /* Preflight: 204 with the methods and headers, the origin only if
     * allowed; it needs no key (browsers send none), and it opens nothing:
     * the write itself still needs the key. No credentials are allowed. */
    ds_reply r = with_headers(port, "OPTIONS", "/write", "Origin: http://a.example");
    CHECKF(r.status == 204 && allow_origin_is(&r, "http://a.example") &&
               strstr(r.headers, "Access-Control-Allow-Methods: GET, POST, OPTIONS") &&
               strstr(r.headers, "X-API-Key"),
           "%ld %s", r.status, r.headers);
    CHECK(!strstr(r.headers, "Access-Control-Allow-Credentials"));
    ds_reply_free(&r);
    r = with_headers(port, "OPTIONS", "/write", "Origin: http://evil.example");
    CHECKF(r.status == 204 && allow_origin_is(&r, NULL), "%s", r.headers);
    ds_reply_free(&r);
    r = with_headers(port, "OPTIONS", "/nowhere", "Origin: http://a.example");
    CHECK(r.status == 404);
    ds_reply_free(&r);
    r = with_headers(port, "POST", "/write", "Origin: http://a.example");
    CHECK(r.status == 401 && allow_origin_is(&r, "http://a.example"));
    ds_reply_free(&r);
    http_stop(s);

    /* Not configured: no CORS header for anyone. "*": "*" itself (never
     * the caller's origin), still without credentials. */
    s = start_routes(NULL, NULL, NULL);
    if (!s)
        return;
    r = with_headers(http_port(s), "GET", "/read", "Origin: http://a.example");
    CHECK(r.status == 200 && allow_origin_is(&r, NULL));
    ds_reply_free(&r);
    http_stop(s);
    s = start_routes(NULL, NULL, "*");
    if (!s)
        return;
    r = with_headers(http_port(s), "GET", "/read", "Origin: http://a.example");
    CHECK(allow_origin_is(&r, "*") && !strstr(r.headers, "Access-Control-Allow-Credentials"));
    ds_reply_free(&r);
    http_stop(s);
}

/* ---- where the server listens ------------------------------------------ */

/* Start `dinoseek serve` in dir (its working directory: no dinoseek.conf
 * there) with DINOSEEK_LISTEN and DINOSEEK_CONFIG unset and args; wait for
 * the line naming its address, or its exit. Returns the pid (0: it
 * exited; its stderr is in dir/serve.log). */
static pid_t serve_in(const char *dir, const char *args, char *log, size_t log_n)
{
    char bin[PATH_MAX], model[PATH_MAX], cmd[4 * PATH_MAX];
    if (!realpath(ds_test_bin(), bin) || !ds_test_model_dir() ||
        !realpath(ds_test_model_dir(), model))
        return 0;
    snprintf(log, log_n, "%s/serve.log", dir);
    snprintf(cmd, sizeof cmd,
             "cd %s && exec env -u DINOSEEK_LISTEN -u DINOSEEK_CONFIG %s serve --data data "
             "--model %s %s >/dev/null 2>%s",
             dir, bin, model, args, log);
    pid_t pid = fork();
    if (pid == 0) {
        ds_test_tie_to_runner();
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 300; i++) { /* up to 30 s under ASan */
        char *text = ds_test_read_file(log, NULL);
        int up = contains(text, "serving collection");
        free(text);
        if (up)
            return pid;
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return 0;
        usleep(100000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return 0;
}

static void stop_pid(pid_t pid)
{
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

/* The port a served log names after "http://HOST:". */
static int served_port(const char *log, const char *host)
{
    char *text = ds_test_read_file(log, NULL), want[64];
    snprintf(want, sizeof want, "http://%s:", host);
    const char *at = text ? strstr(text, want) : NULL;
    int port = at ? atoi(at + strlen(want)) : 0;
    free(text);
    return port;
}

static void test_listen_address(void)
{
    /* The server module: no host means 127.0.0.1, and only IPv4. */
    char addr[64];
    http_server *s = start_routes(NULL, NULL, NULL);
    if (s) {
        int port = http_port(s);
        CHECKF(listener("/proc/net/tcp", port, addr, sizeof addr) && !strcmp(addr, "0100007F"),
               "port %d bound to %s", port, addr);
        CHECK(!listener("/proc/net/tcp6", port, addr, sizeof addr));
        http_stop(s);
    }
    /* A configured address is the one bound (127.0.0.2: another loopback
     * address, so that the test opens nothing to the network). */
    s = start_routes("127.0.0.2", NULL, NULL);
    if (s) {
        int port = http_port(s);
        CHECKF(listener("/proc/net/tcp", port, addr, sizeof addr) && !strcmp(addr, "0200007F"),
               "port %d bound to %s", port, addr);
        http_stop(s);
    }

    /* dinoseek serve with no listen setting: 127.0.0.1:8000. If something
     * else holds port 8000 (a `make demo`), it cannot start, and says
     * which address it tried. */
    char dir[600], log[700];
    snprintf(dir, sizeof dir, "%s/listen-default", ds_test_tmpdir);
    mkdir(dir, 0755);
    int busy = listener("/proc/net/tcp", 8000, addr, sizeof addr) ||
               listener("/proc/net/tcp6", 8000, addr, sizeof addr);
    pid_t pid = serve_in(dir, "", log, sizeof log);
    if (pid) {
        CHECKF(!busy, "started although port 8000 was taken");
        CHECKF(listener("/proc/net/tcp", 8000, addr, sizeof addr) && !strcmp(addr, "0100007F"),
               "port 8000 bound to %s", addr);
        CHECK(!listener("/proc/net/tcp6", 8000, addr, sizeof addr));
        CHECK(served_port(log, "127.0.0.1") == 8000);
        stop_pid(pid);
    } else {
        char *text = ds_test_read_file(log, NULL);
        CHECKF(busy && contains(text, "cannot listen on 127.0.0.1:8000"), "%s", text);
        free(text);
    }
    /* --listen is honoured. */
    snprintf(dir, sizeof dir, "%s/listen-set", ds_test_tmpdir);
    mkdir(dir, 0755);
    pid = serve_in(dir, "--listen 127.0.0.2:0", log, sizeof log);
    CHECKF(pid != 0, "serve --listen 127.0.0.2:0 did not start");
    if (pid) {
        int port = served_port(log, "127.0.0.2");
        CHECKF(port > 0 && listener("/proc/net/tcp", port, addr, sizeof addr) &&
                   !strcmp(addr, "0200007F"),
               "port %d bound to %s", port, addr);
        stop_pid(pid);
    }
}

/* ---- the served data: image names, pixel bombs, import paths ---------- */

#define KEY "K3y-for-writes"

static curl_mime *form_file(CURL *c, const char *path)
{
    curl_mime *m = curl_mime_init(c);
    curl_mimepart *p = curl_mime_addpart(m);
    curl_mime_name(p, "file");
    curl_mime_filedata(p, path);
    return m;
}
static curl_mime *form_quad(CURL *c) { return form_file(c, IMG "quad.png"); }
static curl_mime *form_bomb(CURL *c) { return form_file(c, IMG "bomb.png"); }

/* What must never come back: the catalog (SQLite's magic), a system
 * file, the server's own source or Makefile. */
static int leaked(const char *answer)
{
    return contains(answer, "SQLite format 3") || contains(answer, "root:x:0") ||
           contains(answer, "#include") || contains(answer, "BUILD    ?=");
}

static void check_image_names(int port)
{
    /* Sent as they are, on a raw socket: dot segments, their encodings,
     * absolute paths, backslashes, NUL, and paths into the other stores. */
    static const char *const names[] = {
        "../../catalog.sqlite3", "..%2F..%2Fcatalog.sqlite3", "%2e%2e%2f%2e%2e%2fcatalog.sqlite3",
        "..%2F..%2F..%2Fcatalog.sqlite3", "%2E%2E/%2E%2E/catalog.sqlite3",
        "..%5C..%5Ccatalog.sqlite3", "%2Fetc%2Fpasswd", "/etc/passwd",
        "..%2F..%2F..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd", "quad.png%00.jpg",
        "quad.png%00", ".", "..", "%2e%2e", "./quad.png", "..%2Foriginals%2Fpatent_images%2Fquad.png",
        "..%2F..%2Fthumbnails%2Fpatent_images%2Fquad.png.jpg", "....%2F%2F....%2F%2Fcatalog.sqlite3",
        "%252e%252e%252fcatalog.sqlite3", "..%c0%afcatalog.sqlite3"};
    static const char *const sizes[] = {"", "?size=full", "?size=large", "?size=thumbnail"};
    static char answer[1 << 20];
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        for (size_t k = 0; k < 4; k++) {
            char path[512];
            snprintf(path, sizeof path, "/api/image/%s%s", names[i], sizes[k]);
            int status = raw_get(port, path, answer, sizeof answer);
            CHECKF((status == 404 || status == 400) && !leaked(answer), "%s: %d", path, status);
        }
    /* The route does serve what it should: the refusals above mean something. */
    CHECK(raw_get(port, "/api/image/quad.png?size=full", answer, sizeof answer) == 200);
    CHECK(raw_get(port, "/api/image/quad.png", answer, sizeof answer) == 200);
    /* The UI's files, read from disk here (DINOSEEK_WEB_DIR): nothing
     * outside that folder. */
    static const char *const ui[] = {
        "/ui/../Makefile", "/ui/..%2FMakefile", "/ui/%2e%2e%2fsrc%2fmain.c", "/ui/%2e%2e/Makefile",
        "/ui//etc/passwd", "/ui/%2Fetc%2Fpasswd", "/ui/..%5CMakefile", "/ui/js/../../Makefile",
        "/ui/style.css%00.png", "/../../../../etc/passwd"};
    for (size_t i = 0; i < sizeof ui / sizeof *ui; i++) {
        int status = raw_get(port, ui[i], answer, sizeof answer);
        CHECKF((status == 404 || status == 400) && !leaked(answer), "%s: %d", ui[i], status);
    }
    CHECK(raw_get(port, "/ui/style.css", answer, sizeof answer) == 200);
}

/* The embedded index's filters are SQL with bound parameters: values that
 * would change a pasted query match nothing (the one stored image has no
 * applicant, no Locarno class, and patent id "quad"). */
static void check_sql_filters(int port)
{
    static const char *const filters[] = {
        "applicant=%27%20OR%20%271%27%3D%271", "applicant=x%27)%20OR%201%3D1%20--",
        "patent_ids=x%27)%20OR%201%3D1%20--", "patent_ids=%27%20OR%20%27%27%3D%27",
        "applicant_country=US%27%20OR%20%271", "inventor=%25", "assignee=%27%3B%20DROP%20TABLE%20images%3B%20--"};
    char path[512];
    for (size_t i = 0; i < sizeof filters / sizeof *filters; i++) {
        snprintf(path, sizeof path, "/api/search?image=quad.png&%s", filters[i]);
        ds_reply r = ds_http(port, "POST", path, NULL, NULL, NULL, 0, NULL);
        json_t *data = json_object_get(r.json, "data");
        CHECKF((r.status == 200 && json_integer_value(json_object_get(data, "total")) == 0) ||
                   r.status == 400,
               "%s: %ld %s", filters[i], r.status, r.body);
        ds_reply_free(&r);
    }
    /* Without a filter the image is found: the zeros above mean something. */
    ds_reply r = ds_http(port, "POST", "/api/search?image=quad.png", NULL, NULL, NULL, 0, NULL);
    CHECKF(r.status == 200 &&
               json_integer_value(json_object_get(json_object_get(r.json, "data"), "total")) == 1,
           "%ld %s", r.status, r.body);
    ds_reply_free(&r);
}

/* An image declaring 100000 x 100000 pixels: 413 from every route that
 * decodes uploads, at once (from the header, before any pixel). */
static void check_pixel_bombs(int port)
{
    static const char *const paths[] = {"/api/search", "/api/preview", "/api/images"};
    for (size_t i = 0; i < 3; i++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        ds_reply r = ds_http(port, "POST", paths[i], form_bomb, NULL, NULL, 0,
                             "X-API-Key: " KEY);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        CHECKF(r.status == 413 && contains(r.body, "100000 x 100000") && s < 5,
               "%s: %ld in %.2f s: %s", paths[i], r.status, s, r.body);
        ds_reply_free(&r);
    }
}

static long batch_start(int port, const char *path)
{
    char body[1024];
    snprintf(body, sizeof body, "{\"path\": \"%s\"}", path);
    ds_reply r = ds_http(port, "POST", "/api/batch/start", NULL, "application/json", body,
                         strlen(body), "X-API-Key: " KEY);
    long status = r.status;
    CHECKF(!leaked(r.body), "%s", r.body);
    ds_reply_free(&r);
    return status;
}

/* Imports over HTTP reach only what is under --import-roots: not by "..",
 * not through a symbolic link, not by an absolute path; and whether a path
 * outside exists is not told (403 either way). */
static void check_import_paths(int port, const char *root, const char *data)
{
    char path[1024];
    static const char *const outside[] = {
        "..", "../", "../..", "sub/../..", "out", "out/passwd", "data-link",
        "/etc", "/etc/passwd", "/", "/no/such/place", "../no-such-place",
        "out/no-such-file", "/proc/self/cwd"};
    for (size_t i = 0; i < sizeof outside / sizeof *outside; i++) {
        long status = batch_start(port, outside[i]);
        CHECKF(status == 403, "%s: %ld", outside[i], status);
    }
    snprintf(path, sizeof path, "%s/../%s", root, "x");
    CHECKF(batch_start(port, path) == 403, "%s", path);
    CHECKF(batch_start(port, data) == 403, "%s", data);
    /* Inside a root: a missing path is 404 (it is the client's own tree). */
    CHECK(batch_start(port, "sub/missing") == 404);
    snprintf(path, sizeof path, "%s/missing", root);
    CHECK(batch_start(port, path) == 404);
    /* The query string takes the same path. */
    ds_reply r = ds_http(port, "POST", "/api/batch/start?path=..%2F..", NULL, NULL, NULL, 0,
                         "X-API-Key: " KEY);
    CHECKF(r.status == 403, "?path=../..: %ld", r.status);
    ds_reply_free(&r);
}

static void test_served_hostile_requests(void)
{
    char root[600], sub[700], link[700], extra[1400];
    snprintf(root, sizeof root, "%s/import-root", ds_test_tmpdir);
    snprintf(sub, sizeof sub, "%s/sub", root);
    mkdir(root, 0755);
    mkdir(sub, 0755);
    snprintf(link, sizeof link, "%s/out", root);
    CHECK(symlink("/etc", link) == 0);
    snprintf(extra, sizeof extra, "--api-key %s --import-roots %s", KEY, root);
    char web[PATH_MAX];
    if (realpath("web", web))
        setenv("DINOSEEK_WEB_DIR", web, 1);
    ds_server s;
    int started = ds_server_start(&s, "hostile", extra) == 0;
    unsetenv("DINOSEEK_WEB_DIR");
    if (!started) {
        CHECK(!"the server did not start");
        return;
    }
    snprintf(link, sizeof link, "%s/data-link", root);
    CHECK(symlink(s.dir, link) == 0);
    ds_reply r = ds_http(s.port, "POST", "/api/images", form_quad, NULL, NULL, 0,
                         "X-API-Key: " KEY);
    CHECKF(r.status == 200, "add: %ld %s", r.status, r.body);
    ds_reply_free(&r);
    check_image_names(s.port);
    check_sql_filters(s.port);
    check_pixel_bombs(s.port);
    check_import_paths(s.port, root, s.dir);
    CHECK(ds_server_stop(&s) == 0);
}

/* ---- Milvus filters from hostile values -------------------------------- */

static char *compile(const cat_filter *f, const char *pk, const int64_t *ids, size_t n,
                     ds_err *err)
{
    char *out = NULL;
    int residual = 0;
    return mv_expr_compile(f, pk, ids, n, &out, &residual, err) == 0 ? out : NULL;
}

/* What Milvus gets is the compiler's words around quoted constants: a
 * value that tries to close its quotes or brackets stays inside them
 * (escaped); fields with a shape refuse anything else; bytes that are no
 * text never leave. Without a Milvus (the milvus suites run the same
 * values on servers; expr_fuzzer checks the grammar on any input). */
static void test_milvus_filter_injection(void)
{
    ds_err err = {0};
    const char *ids1[] = {"x\" or id > 0 or patent_id == \"y"};
    cat_filter f = {.patent_ids = ids1, .n_patent_ids = 1};
    char *e = compile(&f, "id", NULL, 0, &err);
    CHECKF(e && !strcmp(e, "patent_id in [\"x\\\" or id > 0 or patent_id == \\\"y\"]"), "%s",
           e ? e : err.msg);
    free(e);
    const char *ids2[] = {"D1\"] or id > 0 or patent_id in [\"", "a\\", "\\\" || true || \\\""};
    f = (cat_filter){.patent_ids = ids2, .n_patent_ids = 3};
    e = compile(&f, "id", NULL, 0, &err);
    CHECKF(e && !strcmp(e, "patent_id in [\"D1\\\"] or id > 0 or patent_id in [\\\"\","
                           "\"a\\\\\",\"\\\\\\\" || true || \\\\\\\"\"]"),
           "%s", e ? e : err.msg);
    free(e);
    /* The country: quoted too, in each spelling of its case (Milvus compares
     * exactly; the embedded filter ignores case). */
    f = (cat_filter){.applicant_country = "u\"s"};
    e = compile(&f, "id", NULL, 0, &err);
    CHECKF(e && !strcmp(e, "applicant_country in [\"u\\\"s\",\"U\\\"s\",\"u\\\"S\",\"U\\\"S\"]"),
           "%s", e ? e : err.msg);
    free(e);
    /* Substrings are matched on the returned rows, not in the expression. */
    f = (cat_filter){.applicant = "\" or 1 == 1 or \""};
    e = compile(&f, "id", NULL, 0, &err);
    CHECKF(e && !strstr(e, "or 1 == 1"), "%s", e ? e : err.msg);
    free(e);
    /* Shapes: a Locarno class, a date, the primary key's name. */
    static const char *const attacks[] = {"12\" or 1==1 or \"", "12-08 or id > 0", "2014-03-1\"",
                                          "1) or (1"};
    for (size_t i = 0; i < sizeof attacks / sizeof *attacks; i++) {
        f = (cat_filter){.loc_class = attacks[i]};
        CHECKF(!compile(&f, "id", NULL, 0, &err) && err.code == DS_EINVAL, "loc %s", attacks[i]);
        f = (cat_filter){.pub_date_from = attacks[i]};
        CHECKF(!compile(&f, "id", NULL, 0, &err) && err.code == DS_EINVAL, "date %s", attacks[i]);
    }
    int64_t ids[] = {1, 2};
    CHECK(!compile(NULL, "id in [1] or id", ids, 2, &err) && err.code == DS_EINVAL);
    e = compile(NULL, "id", ids, 2, &err);
    CHECKF(e && !strcmp(e, "id in [1,2]"), "%s", e ? e : err.msg);
    free(e);
    /* Control characters and bytes that are not UTF-8: refused. */
    static const char *const bad[] = {"a\nb", "a\rb", "\x01", "\xff\xfe", "\xc0\xaf", "a\x7f"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *one[] = {bad[i]};
        f = (cat_filter){.patent_ids = one, .n_patent_ids = 1};
        CHECKF(!compile(&f, "id", NULL, 0, &err) && err.code == DS_EINVAL, "bad %zu", i);
    }
}

/* ---- CSV export: no formulas for the spreadsheet ------------------------ */

/* Catalog text comes from USPTO files and uploads: a title such as
 * =HYPERLINK(...) must reach a spreadsheet as text. Each starting
 * character a spreadsheet acts on is quoted with a leading '; numbers,
 * negative ones too, stay numbers. */
static void test_csv_formulas(void)
{
    json_t *hits = json_pack(
        "[{s:f,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i}]", "score", -0.25, "patent_id", "D1",
        "file_name", "@SUM(A1).png", "title", "=HYPERLINK(\"http://x\",\"y\")",
        "applicant_name", "+cmd|' /C calc'!A0", "assignee_name", "-2+3",
        "inventor_names", "\t=1+1", "kind", "\r=1", "image_index", -1);
    size_t len = 0;
    char *csv = api_results_csv(hits, 0, 0, 0, &len);
    CHECK(csv != NULL);
    static const char *const want[] = {
        ",-0.250000,-0.250000,D1,\"'@SUM(A1).png\",-1,", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"",
        "\"'+cmd|' /C calc'!A0\"", "\"'-2+3\"", "\"'\t=1+1\"", "\"'\r=1\""};
    for (size_t i = 0; csv && i < sizeof want / sizeof *want; i++)
        CHECKF(strstr(csv, want[i]), "lacks %s:\n%s", want[i], csv);
    free(csv);
    json_decref(hits);
}

/* ---- secrets stay out of logs, messages and answers -------------------- */

#define API_KEY "apikey-5ecret-A1"
#define S3_SECRET "s3secret-5ecret-B2"
#define MILVUS_TOKEN "root:milvustoken-5ecret-C3"

/* A stand-in for S3 and Milvus that refuses everything and keeps what it
 * was sent, to show the credentials were in play. */
static struct {
    char auth[8192]; /* the Authorization headers, one per line */
    int secret_sent; /* the S3 secret itself reached it */
} fake;

static int fake_answer(void *app, const http_request *req, http_response *resp)
{
    (void)app;
    const char *a = http_header(req, "Authorization");
    size_t len = strlen(fake.auth);
    if (a && len + strlen(a) + 2 < sizeof fake.auth)
        snprintf(fake.auth + len, sizeof fake.auth - len, "%s\n", a);
    if ((a && strstr(a, S3_SECRET)) ||
        (req->body && memmem(req->body, req->body_len, S3_SECRET, strlen(S3_SECRET))))
        fake.secret_sent = 1;
    /* The bucket exists (so that dinoseek serve starts on it); anything
     * else is refused. */
    int bucket = (!strcmp(req->method, "GET") || !strcmp(req->method, "HEAD")) &&
                 !strcmp(req->path, "/bucket");
    static const char no[] = "{\"code\":1800,\"message\":\"no\"}";
    http_respond_bytes(resp, bucket ? 200 : 403, "application/json", strdup(bucket ? "" : no),
                       bucket ? 0 : strlen(no));
    return 0;
}

static const http_route fake_routes[] = {
    {"GET", "/", fake_answer, HTTP_PREFIX, 0, "get"},
    {"POST", "/", fake_answer, HTTP_PREFIX, 1 << 20, "post"},
    {"PUT", "/", fake_answer, HTTP_PREFIX, 1 << 20, "put"},
    {"DELETE", "/", fake_answer, HTTP_PREFIX, 0, "delete"},
};

/* No secret in text (NULL counts as clean). */
static int clean(const char *text)
{
    return !contains(text, API_KEY) && !contains(text, S3_SECRET) &&
           !contains(text, MILVUS_TOKEN) && !contains(text, "milvustoken-5ecret");
}

/* Every file <prefix>*.log, read and checked. */
static int logs_clean(const char *prefix)
{
    char pattern[700];
    glob_t g;
    int ok = 1;
    snprintf(pattern, sizeof pattern, "%s*.log", prefix);
    if (glob(pattern, 0, NULL, &g) != 0)
        return 0; /* no log at all: something is wrong */
    for (size_t i = 0; i < g.gl_pathc; i++) {
        char *text = ds_test_read_file(g.gl_pathv[i], NULL);
        CHECKF(clean(text), "%s:\n%s", g.gl_pathv[i], text);
        ok &= clean(text);
        free(text);
    }
    globfree(&g);
    return ok;
}

/* A served dinoseek with every secret set, blobs on the stand-in S3: the
 * key used right and wrong, every read route asked, and all it wrote and
 * answered searched for the secrets. */
static void check_serve_with_secrets(int fake_port)
{
    char extra[1200], access[700];
    snprintf(access, sizeof access, "%s/secrets-access.log", ds_test_tmpdir);
    snprintf(extra, sizeof extra,
             "--blobs s3://bucket/p --s3-endpoint http://127.0.0.1:%d --s3-timeout-ms 500 "
             "--access-log %s",
             fake_port, access);
    ds_server s;
    /* (The start helper takes the first "http://127.0.0.1:" in the log: a
     * message naming the stand-in's address must not pass for a start.) */
    if (ds_server_start(&s, "secrets", extra) != 0 || s.port == fake_port) {
        CHECK(!"the server did not start");
        if (s.port == fake_port)
            ds_server_stop(&s);
        return;
    }
    static const char *const reads[] = {
        "/health", "/metrics", "/api/openapi.json", "/api/collection/stats", "/api/collections",
        "/api/batch/roots", "/api/batch/jobs", "/api/batch/status", "/api/image/x.png",
        "/api/image/x.png?size=full", "/api/locarno", "/"};
    for (size_t i = 0; i < sizeof reads / sizeof *reads; i++) {
        ds_reply r = ds_http(s.port, "GET", reads[i], NULL, NULL, NULL, 0, NULL);
        CHECKF(clean(r.body) && clean(r.headers), "%s: %s", reads[i], r.body);
        ds_reply_free(&r);
    }
    static const char *const writes[] = {"X-API-Key: " API_KEY, "Authorization: Bearer " API_KEY,
                                         "X-API-Key: " API_KEY "x", "X-API-Key: apikey"};
    for (size_t i = 0; i < sizeof writes / sizeof *writes; i++) {
        ds_reply r = ds_http(s.port, "POST", "/api/images", form_quad, NULL, NULL, 0, writes[i]);
        CHECKF(r.status != 200 && clean(r.body) && clean(r.headers), "%s: %ld %s", writes[i],
               r.status, r.body);
        ds_reply_free(&r);
    }
    CHECK(ds_server_stop(&s) == 0);
    char *text = ds_test_read_file(access, NULL);
    CHECKF(text && strstr(text, "/api/images") && clean(text), "%s", text);
    free(text);
    CHECK(logs_clean(s.dir));
}

static void test_secrets_not_logged(void)
{
    http_config cfg = {.port = 0};
    http_server *fk;
    ds_err err = {0};
    if (http_start(&cfg, fake_routes, 4, NULL, &fk, &err) != 0 || !ds_test_model_dir()) {
        CHECKF(0, "the stand-in server or the model: %s", err.msg);
        return;
    }
    int port = http_port(fk);
    memset(&fake, 0, sizeof fake);
    setenv("DINOSEEK_API_KEY", API_KEY, 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDSECURITYTEST", 1);
    setenv("AWS_SECRET_ACCESS_KEY", S3_SECRET, 1);
    setenv("DINOSEEK_MILVUS_TOKEN", MILVUS_TOKEN, 1);

    check_serve_with_secrets(port);

    /* Milvus refusing the token, S3 refusing the signature: serve and
     * import fail, saying why, without the secret. */
    char folder[600], cmd[4096], *out = NULL, *errs = NULL;
    snprintf(folder, sizeof folder, "%s/secrets-import", ds_test_tmpdir);
    mkdir(folder, 0755);
    snprintf(cmd, sizeof cmd, "cp %squad.png %s/", IMG, folder);
    CHECK(system(cmd) == 0);
    const char *cases[] = {
        "serve --listen 127.0.0.1:0 --index milvus --milvus-uri http://127.0.0.1:%d "
        "--milvus-timeout-ms 500",
        "import %s --index milvus --milvus-uri http://127.0.0.1:%d --milvus-timeout-ms 500",
        "import %s --blobs s3://bucket/p --s3-endpoint http://127.0.0.1:%d --s3-timeout-ms 500"};
    for (size_t i = 0; i < 3; i++) {
        char args[1500];
        if (i == 0)
            snprintf(args, sizeof args, cases[i], port);
        else
            snprintf(args, sizeof args, cases[i], folder, port);
        snprintf(cmd, sizeof cmd, "%s %s --data %s/secrets-data-%zu --model %s", ds_test_bin(),
                 args, ds_test_tmpdir, i, ds_test_model_dir());
        int status = ds_test_run(cmd, &out, &errs);
        CHECKF(status != 0 && errs && *errs && clean(errs) && clean(out), "%s: %d\n%s", args,
               status, errs);
        free(out);
        free(errs);
    }
    /* The credentials were used: the token went to Milvus as a bearer, the
     * access key signed S3 requests; the S3 secret itself never travels. */
    CHECKF(strstr(fake.auth, "Bearer " MILVUS_TOKEN) && strstr(fake.auth, "AKIDSECURITYTEST"),
           "%s", fake.auth);
    CHECK(!fake.secret_sent);
    unsetenv("DINOSEEK_API_KEY");
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("DINOSEEK_MILVUS_TOKEN");
    http_stop(fk);
}

const ds_test security_tests[] = {
    {"API key: the compare refuses every near miss (no early exit)", test_secret_compare},
    {"API key over HTTP: wrong keys of every length refused, the key accepted", test_api_key_http},
    {"CORS: only a configured origin is echoed; preflight; no credentials", test_cors},
    {"nosniff on every answer of ours; libmicrohttpd's own 431/414 documented", test_nosniff},
    {"listen: 127.0.0.1 by default, a configured address honoured", test_listen_address},
    {"served: hostile image names, SQL in filters, pixel bombs, import paths outside the roots",
     test_served_hostile_requests},
    {"Milvus filters: hostile values stay quoted constants (no Milvus needed)",
     test_milvus_filter_injection},
    {"CSV export: cells a spreadsheet would run are quoted, numbers kept", test_csv_formulas},
    {"secrets (API key, S3 secret, Milvus token) in no log, message or answer",
     test_secrets_not_logged},
    {0},
};
