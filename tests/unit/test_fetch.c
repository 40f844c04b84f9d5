/* test_fetch.c - tests for the fetch module (model/fetch.h) and for SHA-256
 * (base/sha256.h).
 *
 * The download tests run tools/fake_hub.py (a stand-in for huggingface.co)
 * as a child process on 127.0.0.1, on a port it picks and prints, serving
 * fake repos made here under the suite's scratch directory. No internet is
 * needed. Every test stops its server on every path; the server also gets
 * SIGKILL if this process dies (PR_SET_PDEATHSIG), so none is orphaned.
 */
#include "../suites.h"

#include "base/prng.h"
#include "base/sha256.h"
#include "model/fetch.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HUB_SCRIPT "tools/fake_hub.py"
#define PYTHON "/usr/bin/python3"
#define MODEL_BYTES (3u * 1024 * 1024 + 123) /* a few MB, not a block multiple */
#define REPO "acme/tiny-vit"

/* ---- SHA-256 ---------------------------------------------------------- */

static void hex_of(const void *data, size_t n, char hex[65])
{
    uint8_t d[DS_SHA256_LEN];
    ds_sha256_buf(data, n, d);
    ds_sha256_hex(d, hex);
}

static void test_sha256_known_answers(void)
{
    /* FIPS 180-4 examples and the NIST CAVP long messages. */
    static const struct {
        const char *msg, *hex;
    } kat[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
         "klmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    };
    char hex[65];
    for (size_t i = 0; i < sizeof kat / sizeof kat[0]; i++) {
        hex_of(kat[i].msg, strlen(kat[i].msg), hex);
        CHECKF(strcmp(hex, kat[i].hex) == 0, "sha256(\"%s\") = %s", kat[i].msg, hex);
    }
    /* One million 'a', fed 1000 at a time. */
    char chunk[1000];
    memset(chunk, 'a', sizeof chunk);
    ds_sha256 s;
    uint8_t d[DS_SHA256_LEN];
    ds_sha256_init(&s);
    for (int i = 0; i < 1000; i++)
        ds_sha256_update(&s, chunk, sizeof chunk);
    ds_sha256_final(&s, d);
    ds_sha256_hex(d, hex);
    CHECK(strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0);
}

static void test_sha256_streaming_odd_chunks(void)
{
    enum { N = 10007 };
    static const size_t sizes[] = {1, 3, 7, 55, 56, 63, 64, 65, 127, 1000};
    unsigned char *buf = malloc(N);
    ds_prng r;
    ds_prng_seed(&r, 42);
    for (size_t i = 0; buf && i < N; i++)
        buf[i] = (unsigned char)ds_prng_next(&r);
    CHECK(buf != NULL);
    if (!buf)
        return;
    /* Every prefix length around the padding boundaries, and the whole. */
    static const size_t lens[] = {0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, N};
    for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
        char whole[65], parts[65];
        hex_of(buf, lens[l], whole);
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            ds_sha256 s;
            uint8_t d[DS_SHA256_LEN];
            ds_sha256_init(&s);
            for (size_t at = 0, j = k; at < lens[l]; j++) {
                size_t take = sizes[j % 10] < lens[l] - at ? sizes[j % 10] : lens[l] - at;
                ds_sha256_update(&s, buf + at, take);
                ds_sha256_update(&s, NULL, 0);
                at += take;
            }
            ds_sha256_final(&s, d);
            ds_sha256_hex(d, parts);
            CHECKF(strcmp(whole, parts) == 0, "len %zu, chunks from %zu", lens[l], sizes[k]);
        }
    }
    free(buf);
}

/* ---- fixtures --------------------------------------------------------- */

/* The bytes of the fake model.safetensors (caller frees). */
static unsigned char *model_bytes(void)
{
    unsigned char *b = malloc(MODEL_BYTES);
    ds_prng r;
    ds_prng_seed(&r, 7);
    for (size_t i = 0; b && i < MODEL_BYTES; i++)
        b[i] = (unsigned char)(ds_prng_next(&r) >> 56);
    return b;
}

static const char config_json[] = "{\"model_type\": \"dinov2\", \"hidden_size\": 8}\n";
static const char preproc_json[] = "{\"crop_size\": {\"height\": 224, \"width\": 224}}\n";

static void path_join(char *out, size_t n, const char *a, const char *b)
{
    if (snprintf(out, n, "%s/%s", a, b) >= (int)n)
        out[0] = '\0';
}

/* Build the hub's directory once per suite: acme/tiny-vit (config, model,
 * preprocessor config) and acme/bare (config and model only). Returns the
 * root, or NULL on failure. */
static const char *hub_root(void)
{
    static char root[512];
    char p[1024];
    path_join(root, sizeof root, ds_test_tmpdir, "hub");
    path_join(p, sizeof p, root, "acme/bare/model.safetensors");
    struct stat st;
    if (stat(p, &st) == 0)
        return root;
    unsigned char *m = model_bytes();
    int bad = !m;
    static const char *const repos[] = {"acme/tiny-vit", "acme/bare"};
    for (size_t i = 0; !bad && i < 2; i++) {
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "mkdir -p '%s/%s'", root, repos[i]);
        bad |= system(cmd) != 0;
        snprintf(p, sizeof p, "%s/%s/config.json", root, repos[i]);
        bad |= ds_test_write_file(p, config_json, strlen(config_json)) != 0;
        snprintf(p, sizeof p, "%s/%s/model.safetensors", root, repos[i]);
        bad |= ds_test_write_file(p, m, MODEL_BYTES) != 0;
    }
    snprintf(p, sizeof p, "%s/acme/tiny-vit/preprocessor_config.json", root);
    bad |= ds_test_write_file(p, preproc_json, strlen(preproc_json)) != 0;
    free(m);
    return bad ? NULL : root;
}

/* A running fake_hub.py. */
typedef struct hub {
    pid_t pid;
    char endpoint[64];
    char log[600];
} hub;

/* Read the port line the server prints first; 0 if none within 10 s. */
static int read_port(int fd)
{
    char line[32];
    size_t n = 0;
    while (n + 1 < sizeof line) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 10000) <= 0 || read(fd, line + n, 1) != 1)
            return 0;
        if (line[n] == '\n')
            break;
        n++;
    }
    line[n] = '\0';
    return (int)strtol(line, NULL, 10);
}

/* Start the hub with extra options (a NULL-ended list, may be NULL) and a
 * fresh log named after tag. Returns 0, or -1 (h->pid is 0 then). */
static int hub_start(hub *h, const char *tag, const char *const *extra)
{
    const char *root = hub_root();
    const char *argv[16] = {PYTHON, HUB_SCRIPT, "--root", root, "--port", "0", "--log", h->log};
    int fds[2], argc = 8;
    memset(h->endpoint, 0, sizeof h->endpoint);
    h->pid = 0;
    snprintf(h->log, sizeof h->log, "%s/hub-%s.log", ds_test_tmpdir, tag);
    unlink(h->log);
    for (; extra && *extra && argc < 15; extra++)
        argv[argc++] = *extra;
    argv[argc] = NULL;
    if (!root || pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execv(PYTHON, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    int port = pid > 0 ? read_port(fds[0]) : 0;
    close(fds[0]);
    if (pid > 0)
        h->pid = pid;
    if (port <= 0)
        return -1;
    snprintf(h->endpoint, sizeof h->endpoint, "http://127.0.0.1:%d", port);
    return 0;
}

static void hub_stop(hub *h)
{
    if (h->pid > 0) {
        kill(h->pid, SIGTERM);
        waitpid(h->pid, NULL, 0);
    }
    h->pid = 0;
}

/* Lines of the hub's log that contain text. */
static int log_count(const hub *h, const char *text)
{
    char *log = ds_test_read_file(h->log, NULL);
    int n = 0;
    for (const char *p = log; p && (p = strstr(p, text)) != NULL; p += strlen(text))
        n++;
    free(log);
    return n;
}

static int can_run_hub(void)
{
    return access(PYTHON, X_OK) == 0 && access(HUB_SCRIPT, R_OK) == 0;
}

/* Options for a per-test cache directory <tmp>/cache-<tag>. */
static mdl_fetch_opts opts_for(const hub *h, const char *tag, char *cache, size_t n)
{
    snprintf(cache, n, "%s/cache-%s", ds_test_tmpdir, tag);
    mdl_fetch_opts o = {.endpoint = h ? h->endpoint : NULL, .cache_dir = cache,
                        .connect_timeout_s = 5};
    return o;
}

static long long file_size(const char *dir, const char *name)
{
    char p[1024];
    struct stat st;
    path_join(p, sizeof p, dir, name);
    return stat(p, &st) == 0 ? (long long)st.st_size : -1;
}

/* The file dir/name holds exactly data[0..n). */
static int file_is(const char *dir, const char *name, const void *data, size_t n)
{
    char p[1024];
    size_t got = 0;
    path_join(p, sizeof p, dir, name);
    void *b = ds_test_read_file(p, &got);
    int same = b && got == n && memcmp(b, data, n) == 0;
    free(b);
    return same;
}

static int model_is_correct(const char *dir)
{
    unsigned char *m = model_bytes();
    int ok = m && file_is(dir, "model.safetensors", m, MODEL_BYTES);
    free(m);
    return ok;
}

#define START_HUB(h, tag, ...)                                                \
    do {                                                                      \
        static const char *const extra_[] = {__VA_ARGS__};                    \
        if (!can_run_hub())                                                   \
            SKIP("needs " PYTHON " and " HUB_SCRIPT " (run from the repo)");   \
        if (hub_start(&(h), (tag), extra_) != 0) {                            \
            hub_stop(&(h));                                                   \
            CHECKF(0, "fake hub did not start");                              \
            return;                                                           \
        }                                                                     \
    } while (0)

/* ---- downloads -------------------------------------------------------- */

static void test_fetch_full_download(void)
{
    hub h;
    char cache[512], dir[1024];
    ds_err err = {0};
    START_HUB(h, "full", NULL);
    mdl_fetch_opts o = opts_for(&h, "full", cache, sizeof cache);
    int rc = mdl_fetch(REPO, &o, dir, sizeof dir, &err);
    CHECKF(rc == 0, "%s", err.msg);
    CHECK(strstr(dir, "/acme--tiny-vit") != NULL);
    CHECK(model_is_correct(dir));
    CHECK(file_is(dir, "config.json", config_json, strlen(config_json)));
    CHECK(file_is(dir, "preprocessor_config.json", preproc_json, strlen(preproc_json)));
    CHECK(file_size(dir, "model.safetensors.part") == -1);
    CHECK(file_size(dir, "config.json.part") == -1);
    CHECK(file_size(dir, "model.safetensors.sha256") > 64);
    CHECK(log_count(&h, "GET /cdn/acme/tiny-vit/model.safetensors range=- auth=0 status=200") == 1);
    /* A repo without the optional preprocessor_config.json is fine. */
    rc = mdl_fetch("acme/bare", &o, dir, sizeof dir, &err);
    CHECKF(rc == 0, "%s", err.msg);
    CHECK(model_is_correct(dir));
    CHECK(file_size(dir, "preprocessor_config.json") == -1);
    hub_stop(&h);
}

static void test_fetch_second_run_skips(void)
{
    hub h;
    char cache[512], dir[1024], p[1100];
    ds_err err = {0};
    struct stat st1, st2;
    START_HUB(h, "again", NULL);
    mdl_fetch_opts o = opts_for(&h, "again", cache, sizeof cache);
    CHECKF(mdl_fetch(REPO, &o, dir, sizeof dir, &err) == 0, "%s", err.msg);
    path_join(p, sizeof p, dir, "model.safetensors");
    CHECK(stat(p, &st1) == 0);
    CHECKF(mdl_fetch(REPO, &o, dir, sizeof dir, &err) == 0, "%s", err.msg);
    CHECK(log_count(&h, "GET /cdn/") == 1);
    CHECK(log_count(&h, "GET /acme/") == 2); /* the two small files, once */
    CHECK(log_count(&h, "HEAD /acme/tiny-vit/resolve/main/model.safetensors") == 2);
    CHECK(stat(p, &st2) == 0 && st1.st_mtim.tv_sec == st2.st_mtim.tv_sec &&
          st1.st_mtim.tv_nsec == st2.st_mtim.tv_nsec && st1.st_ino == st2.st_ino);
    /* Without the sidecar the file is rehashed, not downloaded, and the
     * sidecar comes back. */
    path_join(p, sizeof p, dir, "model.safetensors.sha256");
    CHECK(unlink(p) == 0);
    CHECKF(mdl_fetch(REPO, &o, dir, sizeof dir, &err) == 0, "%s", err.msg);
    CHECK(log_count(&h, "GET /cdn/") == 1);
    CHECK(file_size(dir, "model.safetensors.sha256") > 64);
    hub_stop(&h);
}

static void test_fetch_resume_after_drop(void)
{
    hub h;
    char cache[512], dir[1024];
    ds_err err = {0};
    START_HUB(h, "drop", "--drop-after", "1000000", NULL);
    mdl_fetch_opts o = opts_for(&h, "drop", cache, sizeof cache);
    int rc = mdl_fetch(REPO, &o, dir, sizeof dir, &err);
    hub_stop(&h);
    CHECK(rc == -1 && err.code == DS_ENET);
    CHECK_MSG(err, "resume");
    CHECK(mdl_repo_dir(cache, REPO, dir, sizeof dir, &err) == 0);
    CHECK(file_size(dir, "model.safetensors.part") == 1000000);
    CHECK(file_size(dir, "model.safetensors") == -1);

    START_HUB(h, "drop2", NULL);
    o.endpoint = h.endpoint;
    rc = mdl_fetch(REPO, &o, dir, sizeof dir, &err);
    CHECKF(rc == 0, "%s", err.msg);
    CHECK(log_count(&h, "GET /cdn/acme/tiny-vit/model.safetensors range=bytes=1000000- "
                        "auth=0 status=206") == 1);
    CHECK(log_count(&h, "GET /cdn/") == 1);
    CHECK(model_is_correct(dir));
    CHECK(file_size(dir, "model.safetensors.part") == -1);
    hub_stop(&h);
}

/* Put n bytes of junk into dir/name (a .part that is not a true prefix). */
static int write_junk(const char *dir, const char *name, size_t n)
{
    char p[1100];
    char *junk = malloc(n);
    path_join(p, sizeof p, dir, name);
    if (!junk)
        return -1;
    memset(junk, 0x5a, n);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    int rc = system(cmd) == 0 ? ds_test_write_file(p, junk, n) : -1;
    free(junk);
    return rc;
}

static void test_fetch_ignored_range_restarts(void)
{
    hub h;
    char cache[512], dir[1024];
    ds_err err = {0};
    START_HUB(h, "norange", "--ignore-range", NULL);
    mdl_fetch_opts o = opts_for(&h, "norange", cache, sizeof cache);
    CHECK(mdl_repo_dir(cache, REPO, dir, sizeof dir, &err) == 0);
    CHECK(write_junk(dir, "model.safetensors.part", 1 << 20) == 0);
    int rc = mdl_fetch(REPO, &o, dir, sizeof dir, &err);
    CHECKF(rc == 0, "%s", err.msg);
    CHECK(log_count(&h, "range=bytes=1048576- auth=0 status=200") >= 1);
    CHECK(model_is_correct(dir));
    CHECK(file_size(dir, "model.safetensors.part") == -1);
    hub_stop(&h);
}

static void test_fetch_stale_part_starts_over(void)
{
    hub h;
    char cache[512], dir[1024];
    ds_err err = {0};
    START_HUB(h, "stale", NULL);
    mdl_fetch_opts o = opts_for(&h, "stale", cache, sizeof cache);
    CHECK(mdl_repo_dir(cache, REPO, dir, sizeof dir, &err) == 0);
    /* A .part from some other file: resuming gives a wrong hash, so the
     * download starts over once and then succeeds. */
    CHECK(write_junk(dir, "model.safetensors.part", 1 << 20) == 0);
    int rc = mdl_fetch(REPO, &o, dir, sizeof dir, &err);
    CHECKF(rc == 0, "%s", err.msg);
    CHECK(log_count(&h, "range=bytes=1048576- auth=0 status=206") == 1);
    CHECK(log_count(&h, "GET /cdn/acme/tiny-vit/model.safetensors range=- auth=0 status=200") == 1);
    CHECK(model_is_correct(dir));
    /* A .part longer than the file is dropped, not resumed. */
    char p[1100];
    path_join(p, sizeof p, dir, "model.safetensors");
    CHECK(unlink(p) == 0);
    CHECK(write_junk(dir, "model.safetensors.part", MODEL_BYTES + 10) == 0);
    rc = mdl_fetch(REPO, &o, dir, sizeof dir, &err);
    CHECKF(rc == 0, "%s", err.msg);
    CHECK(model_is_correct(dir));
    /* A .part of the full size but wrong content: checked without a
     * request, found wrong, downloaded again. */
    CHECK(unlink(p) == 0);
    CHECK(write_junk(dir, "model.safetensors.part", MODEL_BYTES) == 0);
    rc = mdl_fetch(REPO, &o, dir, sizeof dir, &err);
    CHECKF(rc == 0, "%s", err.msg);
    CHECK(model_is_correct(dir));
    CHECK(log_count(&h, "GET /cdn/") == 4);
    CHECK(log_count(&h, "GET /cdn/acme/tiny-vit/model.safetensors range=- auth=0 status=200") == 3);
    hub_stop(&h);
}

static void test_fetch_bad_sha(void)
{
    hub h;
    char cache[512], dir[1024], good[65], bad[65];
    ds_err err = {0};
    START_HUB(h, "badsha", "--bad-sha", NULL);
    mdl_fetch_opts o = opts_for(&h, "badsha", cache, sizeof cache);
    int rc = mdl_fetch(REPO, &o, dir, sizeof dir, &err);
    hub_stop(&h);
    CHECK(rc == -1 && err.code == DS_ECHECKSUM);
    unsigned char *m = model_bytes();
    if (m) {
        ds_sha256 s;
        uint8_t d[DS_SHA256_LEN];
        hex_of(m, MODEL_BYTES, good);
        ds_sha256_init(&s); /* the hub advertises sha256(bytes + "x") */
        ds_sha256_update(&s, m, MODEL_BYTES);
        ds_sha256_update(&s, "x", 1);
        ds_sha256_final(&s, d);
        ds_sha256_hex(d, bad);
        CHECK_MSG(err, "model.safetensors");
        CHECK_MSG(err, good);
        CHECK_MSG(err, bad);
    }
    free(m);
    CHECK(mdl_repo_dir(cache, REPO, dir, sizeof dir, &err) == 0);
    CHECK(file_size(dir, "model.safetensors") == -1);
    CHECK(file_size(dir, "model.safetensors.part") == -1);
}

static void test_fetch_missing_repo(void)
{
    hub h;
    char cache[512], dir[1024];
    ds_err err = {0};
    START_HUB(h, "missing", NULL);
    /* The endpoint comes from the environment this time. */
    char *saved = getenv("DINOSEEK_HF_ENDPOINT") ? strdup(getenv("DINOSEEK_HF_ENDPOINT")) : NULL;
    setenv("DINOSEEK_HF_ENDPOINT", h.endpoint, 1);
    mdl_fetch_opts o = opts_for(NULL, "missing", cache, sizeof cache);
    int rc = mdl_fetch("acme/nope", &o, dir, sizeof dir, &err);
    if (saved)
        setenv("DINOSEEK_HF_ENDPOINT", saved, 1);
    else
        unsetenv("DINOSEEK_HF_ENDPOINT");
    free(saved);
    hub_stop(&h);
    CHECK(rc == -1 && err.code == DS_ENOTFOUND);
    CHECK_MSG(err, "acme/nope");
    CHECK_MSG(err, "404");
    CHECK_MSG(err, "not found");
}

static void test_fetch_bad_repo_names(void)
{
    static const char *const bad[] = {
        "", "noslash", "a/b/c", "../x", "a/..", "a/b..c", "/name", "owner/", "a/b c",
        "a/b?x", "a/b#", "own er/x", "a\\b/c",
    };
    char cache[512], dir[1024];
    mdl_fetch_opts o = opts_for(NULL, "badname", cache, sizeof cache);
    o.endpoint = "http://127.0.0.1:1";
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ds_err err = {0};
        CHECKF(mdl_fetch(bad[i], &o, dir, sizeof dir, &err) == -1 && err.code == DS_EINVAL,
               "repo \"%s\": %s", bad[i], err.msg);
        CHECK(mdl_repo_dir(cache, bad[i], dir, sizeof dir, &err) == -1 && err.code == DS_EINVAL);
    }
    ds_err err = {0};
    CHECK(mdl_fetch(NULL, &o, dir, sizeof dir, &err) == -1 && err.code == DS_EINVAL);
    CHECK(mdl_repo_dir("/c", "facebook/dinov2-small", dir, sizeof dir, &err) == 0);
    CHECK(strcmp(dir, "/c/facebook--dinov2-small") == 0);
    CHECK(mdl_repo_dir("/c", "a/b", dir, 7, &err) == -1 && err.code == DS_EINVAL);
    o.revision = "../etc";
    CHECK(mdl_fetch("a/b", &o, dir, sizeof dir, &err) == -1 && err.code == DS_EINVAL);
}

static void test_fetch_offline_fails_fast(void)
{
    char cache[512], dir[1024];
    ds_err err = {0};
    mdl_fetch_opts o = opts_for(NULL, "offline", cache, sizeof cache);
    o.endpoint = "http://127.0.0.1:1"; /* nothing listens: connection refused */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = mdl_fetch(REPO, &o, dir, sizeof dir, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    CHECK(rc == -1 && err.code == DS_ENET);
    CHECKF(secs < 3.0, "took %.2f s", secs);
    CHECK_MSG(err, "cannot reach http://127.0.0.1");
    CHECK_MSG(err, "network");
    CHECK_MSG(err, "dinoseek model generate");
}

/* Offline, a complete copy from an earlier run is used; a partial one is not. */
static void test_fetch_offline_uses_complete_cache(void)
{
    hub h;
    char cache[512], dir[1024], again[1024], p[1100];
    ds_err err = {0};
    START_HUB(h, "cached", NULL);
    mdl_fetch_opts o = opts_for(&h, "cached", cache, sizeof cache);
    CHECKF(mdl_fetch(REPO, &o, dir, sizeof dir, &err) == 0, "%s", err.msg);
    hub_stop(&h);
    o.endpoint = "http://127.0.0.1:1";
    CHECKF(mdl_fetch(REPO, &o, again, sizeof again, &err) == 0, "%s", err.msg);
    CHECK(strcmp(dir, again) == 0 && model_is_correct(again));
    path_join(p, sizeof p, dir, "model.safetensors.sha256");
    CHECK(unlink(p) == 0); /* no longer known to be verified */
    CHECK(mdl_fetch(REPO, &o, again, sizeof again, &err) == -1 && err.code == DS_ENET);
}

static void test_fetch_token_stays_on_hub(void)
{
    hub h;
    char cache[512], dir[1024];
    ds_err err = {0};
    /* The CDN is "localhost", another host than the endpoint's 127.0.0.1. */
    START_HUB(h, "token", "--cdn-host", "localhost", NULL);
    char *saved = getenv("HF_TOKEN") ? strdup(getenv("HF_TOKEN")) : NULL;
    setenv("HF_TOKEN", "hf_not_a_real_token", 1);
    mdl_fetch_opts o = opts_for(&h, "token", cache, sizeof cache);
    int rc = mdl_fetch(REPO, &o, dir, sizeof dir, &err);
    if (saved)
        setenv("HF_TOKEN", saved, 1);
    else
        unsetenv("HF_TOKEN");
    free(saved);
    hub_stop(&h);
    CHECKF(rc == 0, "%s", err.msg);
    CHECK(log_count(&h, "HEAD /acme/tiny-vit/resolve/main/model.safetensors range=- auth=1") == 1);
    CHECK(log_count(&h, "GET /acme/tiny-vit/resolve/main/config.json range=- auth=1") == 1);
    CHECK(log_count(&h, "GET /cdn/acme/tiny-vit/model.safetensors range=- auth=0 status=200") == 1);
    CHECK(log_count(&h, "auth=1") == 5); /* 3 HEADs and 2 small GETs */
    CHECK(model_is_correct(dir));
}

static void test_fetch_progress_lines(void)
{
    hub h;
    char cache[512], dir[1024], errpath[600];
    ds_err err = {0};
    START_HUB(h, "progress", NULL);
    mdl_fetch_opts o = opts_for(&h, "progress", cache, sizeof cache);
    o.progress = 1;
    /* stderr to a file (not a TTY): one line per 10%. */
    snprintf(errpath, sizeof errpath, "%s/progress.err", ds_test_tmpdir);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    FILE *f = fopen(errpath, "w");
    if (f && saved >= 0)
        dup2(fileno(f), STDERR_FILENO);
    int rc = mdl_fetch(REPO, &o, dir, sizeof dir, &err);
    fflush(stderr);
    if (saved >= 0) {
        dup2(saved, STDERR_FILENO);
        close(saved);
    }
    if (f)
        fclose(f);
    hub_stop(&h);
    CHECKF(rc == 0, "%s", err.msg);
    char *out = ds_test_read_file(errpath, NULL);
    CHECKF(out && strstr(out, "model.safetensors: 100%") && strstr(out, "MB/s") &&
               strstr(out, "ETA"),
           "progress output: %s", out ? out : "(none)");
    free(out);
}

static void test_cache_dir_from_env(void)
{
    static const char *const names[] = {"DINOSEEK_MODEL_CACHE", "XDG_CACHE_HOME", "HOME"};
    char *saved[3];
    for (int i = 0; i < 3; i++)
        saved[i] = getenv(names[i]) ? strdup(getenv(names[i])) : NULL;
    setenv("DINOSEEK_MODEL_CACHE", "/m", 1);
    setenv("XDG_CACHE_HOME", "/x", 1);
    setenv("HOME", "/h", 1);
    CHECK(strcmp(mdl_cache_dir(), "/m") == 0);
    unsetenv("DINOSEEK_MODEL_CACHE");
    CHECK(strcmp(mdl_cache_dir(), "/x/dinoseek/models") == 0);
    unsetenv("XDG_CACHE_HOME");
    CHECK(strcmp(mdl_cache_dir(), "/h/.cache/dinoseek/models") == 0);
    for (int i = 0; i < 3; i++) {
        if (saved[i])
            setenv(names[i], saved[i], 1);
        else
            unsetenv(names[i]);
        free(saved[i]);
    }
}

/* Write a hub repo owner/name (under REV's folder "@REV" when rev is not
 * NULL, which fake_hub.py serves for that revision) with this config.json
 * and model bytes. */
static int hub_repo(const char *repo, const char *rev, const char *config, const void *model,
                    size_t model_len)
{
    char d[1200], p[1300], cmd[1400];
    const char *root = hub_root();
    if (!root)
        return -1;
    snprintf(d, sizeof d, "%s/%s%s%s", root, repo, rev ? "/@" : "", rev ? rev : "");
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", d);
    if (system(cmd) != 0)
        return -1;
    path_join(p, sizeof p, d, "config.json");
    if (ds_test_write_file(p, config, strlen(config)) != 0)
        return -1;
    path_join(p, sizeof p, d, "model.safetensors");
    return ds_test_write_file(p, model, model_len);
}

/* config.json is not an LFS file: the hub gives its git blob sha1 as the
 * ETag, no sha256. A changed config.json of the same size is fetched again,
 * not kept because its size still matches. */
static void test_fetch_changed_small_file_same_size(void)
{
    hub h;
    char cache[512], dir[1024];
    ds_err err = {0};
    static const char v1[] = "{\"model_type\": \"dinov2\", \"hidden_size\": 8}\n";
    static const char v2[] = "{\"model_type\": \"dinov2\", \"hidden_size\": 9}\n";
    if (hub_repo("acme/edited", NULL, v1, "weights", 7) != 0) {
        CHECKF(0, "cannot write the hub repo");
        return;
    }
    START_HUB(h, "edited", NULL);
    mdl_fetch_opts o = opts_for(&h, "edited", cache, sizeof cache);
    CHECKF(mdl_fetch("acme/edited", &o, dir, sizeof dir, &err) == 0, "%s", err.msg);
    CHECK(file_is(dir, "config.json", v1, strlen(v1)));
    CHECK(hub_repo("acme/edited", NULL, v2, "weights", 7) == 0);
    CHECKF(mdl_fetch("acme/edited", &o, dir, sizeof dir, &err) == 0, "%s", err.msg);
    CHECKF(file_is(dir, "config.json", v2, strlen(v2)), "the old config.json was kept");
    /* Unchanged, it is not downloaded again. */
    CHECKF(mdl_fetch("acme/edited", &o, dir, sizeof dir, &err) == 0, "%s", err.msg);
    CHECK(log_count(&h, "GET /acme/edited/resolve/main/config.json") == 2);
    hub_stop(&h);
}

/* Each revision has its own directory in the cache: fetching another one
 * never pairs its model.safetensors with the config.json of the first. */
static void test_fetch_revision_own_dir(void)
{
    hub h;
    char cache[512], main_dir[1024], v2_dir[1024];
    ds_err err = {0};
    static const char c1[] = "{\"model_type\": \"dinov2\", \"hidden_size\": 8}\n";
    static const char c2[] = "{\"model_type\": \"dinov2\", \"hidden_size\": 9}\n";
    if (hub_repo("acme/revs", NULL, c1, "weights-1", 9) != 0 ||
        hub_repo("acme/revs", "v2", c2, "weights-2-longer", 16) != 0) {
        CHECKF(0, "cannot write the hub repo");
        return;
    }
    START_HUB(h, "revs", NULL);
    mdl_fetch_opts o = opts_for(&h, "revs", cache, sizeof cache);
    CHECKF(mdl_fetch("acme/revs", &o, main_dir, sizeof main_dir, &err) == 0, "%s", err.msg);
    o.revision = "v2";
    CHECKF(mdl_fetch("acme/revs", &o, v2_dir, sizeof v2_dir, &err) == 0, "%s", err.msg);
    CHECKF(strcmp(main_dir, v2_dir) != 0, "both revisions in %s", v2_dir);
    CHECK(file_is(v2_dir, "config.json", c2, strlen(c2)));
    CHECK(file_is(v2_dir, "model.safetensors", "weights-2-longer", 16));
    CHECK(file_is(main_dir, "config.json", c1, strlen(c1)));
    CHECK(file_is(main_dir, "model.safetensors", "weights-1", 9));
    hub_stop(&h);
}

const ds_test fetch_tests[] = {
    {"sha256_known_answers", test_sha256_known_answers},
    {"sha256_streaming_odd_chunks", test_sha256_streaming_odd_chunks},
    {"fetch_full_download", test_fetch_full_download},
    {"fetch_second_run_skips", test_fetch_second_run_skips},
    {"fetch_resume_after_drop", test_fetch_resume_after_drop},
    {"fetch_ignored_range_restarts", test_fetch_ignored_range_restarts},
    {"fetch_stale_part_starts_over", test_fetch_stale_part_starts_over},
    {"fetch_bad_sha", test_fetch_bad_sha},
    {"fetch_missing_repo", test_fetch_missing_repo},
    {"fetch_bad_repo_names", test_fetch_bad_repo_names},
    {"fetch_offline_fails_fast", test_fetch_offline_fails_fast},
    {"fetch_offline_uses_complete_cache", test_fetch_offline_uses_complete_cache},
    {"fetch_token_stays_on_hub", test_fetch_token_stays_on_hub},
    {"fetch_progress_lines", test_fetch_progress_lines},
    {"cache_dir_from_env", test_cache_dir_from_env},
    {"fetch_changed_small_file_same_size", test_fetch_changed_small_file_same_size},
    {"fetch_revision_own_dir", test_fetch_revision_own_dir},
    {0},
};
