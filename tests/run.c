/* run.c - the test runner: runs every suite, or those named on the command
 * line (`build/tests/run image vit`; `-parity` leaves one out), and ends with
 * "N passed, N failed". */
#include "suites.h"
#include "peers.h"

#include "base/file.h"
#include "milvus/milvus.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int ds_test_failed;
char ds_test_tmpdir[256];
static int ds_test_skipped;
static pid_t runner_pid;

/* A suite with a backend runs its tests against a real server of that kind
 * (tests/peers/peers.py), started before the suite and stopped after it:
 * the same tests as the embedded run, through the DINOSEEK_* settings
 * every dinoseek the tests start reads. */
static const struct {
    const char *name;
    const ds_test *tests;
    const char *backend; /* NULL, "s3", or "milvus+s3" (both) */
} suites[] = {
    {"base", base_tests, NULL},
    {"safetensors", safetensors_tests, NULL},
    {"vit", vit_tests, NULL},
    {"precision", precision_tests, NULL},
    {"image", image_tests, NULL},
    {"fetch", fetch_tests, NULL},
    {"cli", cli_tests, NULL},
    {"fuzz", fuzz_tests, NULL},
    {"index", index_tests, NULL},
    {"store", store_tests, NULL},
    {"catalog", catalog_tests, NULL},
    {"blob", blob_tests, NULL},
    {"s3", s3_tests, NULL},
    {"milvus", milvus_tests, NULL},
    {"milvus-v2", milvus_v2_tests, NULL},
    {"http", http_tests, NULL},
    {"api", api_tests, NULL},
    {"uspto", uspto_tests, NULL},
    {"arc", arc_tests, NULL},
    {"sample", sample_tests, NULL},
    {"import", import_tests, NULL},
    {"security", security_tests, NULL},
    {"multiproc", multiproc_tests, NULL},
    {"fusion", fusion_tests, NULL},
    {"text", text_tests, NULL},
    {"words", words_tests, NULL},
    {"multi", multi_tests, NULL},
    {"api-s3", api_tests, "s3"},
    {"import-s3", import_tests, "s3"},
    {"api-milvus", api_tests, "milvus+s3"},
    {"words-milvus", words_tests, "milvus+s3"},
    {"multi-milvus", multi_tests, "milvus+s3"},
    {"import-milvus", import_tests, "milvus+s3"},
    {"multiproc-milvus", multiproc_tests, "milvus+s3"},
    {"parity", parity_tests, NULL},
    {"content", content_tests, NULL},
    {"browser", browser_tests, NULL},
    {"peers", peers_tests, NULL},
    {"peers-victim", peers_victim_tests, NULL},
};

void ds_test_skip(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "    skipped: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    ds_test_skipped = 1;
}

const char *ds_test_shared_dir(void)
{
    static char path[4096];
    const char *env = getenv("DINOSEEK_SHARED");
    snprintf(path, sizeof path, "%s", env ? env : "../shared");
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? path : NULL;
}

const char *ds_test_bin(void)
{
    const char *bin = getenv("DINOSEEK_BIN");
    return bin ? bin : "build/dinoseek";
}

int ds_test_write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    int ok = fwrite(data, 1, n, f) == n;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

void *ds_test_read_file(const char *path, size_t *n) { return ds_read_file(path, n); }

int ds_test_run(const char *cmd, char **out, char **errout)
{
    char outp[512], errp[512], full[8192];
    snprintf(outp, sizeof outp, "%s/run.out", ds_test_tmpdir);
    snprintf(errp, sizeof errp, "%s/run.err", ds_test_tmpdir);
    snprintf(full, sizeof full, "(%s) >%s 2>%s", cmd, outp, errp);
    int status = system(full);
    if (out)
        *out = ds_test_read_file(outp, NULL);
    if (errout)
        *errout = ds_test_read_file(errp, NULL);
    if (status == -1)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void ds_test_tie_to_runner(void)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* The runner may have died before the line above. */
    if (getppid() != runner_pid)
        _exit(127);
}

/* Suites named on the command line run; "-name" leaves one out; with no
 * positive name every suite (but those left out) runs. */
static int wanted(int argc, char **argv, const char *suite)
{
    int any_positive = 0;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' && strcmp(argv[i] + 1, suite) == 0)
            return 0;
        if (argv[i][0] != '-')
            any_positive = 1;
    }
    if (!any_positive)
        return 1;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], suite) == 0)
            return 1;
    return 0;
}

/* The servers of a suite's backend: S3 always, Milvus for "milvus+s3". */
typedef struct backend {
    ds_peer s3, milvus;
    mv_client *mv;        /* the runner's own client, to empty Milvus */
    char why[1200];
} backend;

/* Start the suite's backend and point every dinoseek at it. Returns 0, or
 * -1 with why (the suite is then skipped, saying so). */
static int backend_up(const char *kind, backend *b)
{
    if (ds_peer_start(&b->s3, "s3", "backend-peer") != 0) {
        snprintf(b->why, sizeof b->why, "no s3 server: %s", b->s3.why);
        return -1;
    }
    setenv("DINOSEEK_S3_ENDPOINT", b->s3.endpoint, 1);
    setenv("AWS_ACCESS_KEY_ID", b->s3.access_key, 1);
    setenv("AWS_SECRET_ACCESS_KEY", b->s3.secret_key, 1);
    fprintf(stderr, "  (blobs in a real S3 server, SeaweedFS at %s)\n", b->s3.endpoint);
    if (strcmp(kind, "milvus+s3") != 0)
        return 0;
    ds_err err = {0};
    if (ds_peer_start(&b->milvus, "milvus", "backend-milvus") != 0) {
        snprintf(b->why, sizeof b->why, "no milvus server: %s", b->milvus.why);
        return -1;
    }
    mv_config cfg = {.uri = b->milvus.endpoint, .timeout_ms = 20000};
    if (mv_open(&cfg, &b->mv, &err) != 0) {
        snprintf(b->why, sizeof b->why, "milvus does not answer: %s", err.msg);
        return -1;
    }
    setenv("DINOSEEK_INDEX", "milvus", 1);
    setenv("DINOSEEK_MILVUS_URI", b->milvus.endpoint, 1);
    fprintf(stderr, "  (rows and vectors in a real Milvus 2.3.5 at %s)\n", b->milvus.endpoint);
    return 0;
}

static void backend_down(backend *b)
{
    static const char *const vars[] = {"DINOSEEK_BLOBS", "DINOSEEK_S3_ENDPOINT",
                                       "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                       "DINOSEEK_INDEX", "DINOSEEK_MILVUS_URI"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        unsetenv(vars[i]);
    mv_close(b->mv);
    b->mv = NULL;
    if (b->milvus.up && ds_peer_stop(&b->milvus) != 0)
        fprintf(stderr, "warning: the milvus server did not stop\n");
    if (b->s3.up && ds_peer_stop(&b->s3) != 0)
        fprintf(stderr, "warning: the s3 server did not stop\n");
}

/* Each test its own prefix in the suite's bucket, and an empty Milvus:
 * tests share nothing, as with a fresh data directory. */
static void backend_for_test(backend *b, const char *suite, int n)
{
    char spec[128];
    snprintf(spec, sizeof spec, "s3://dinoseek-%s/t%d", suite, n);
    setenv("DINOSEEK_BLOBS", spec, 1);
    json_t *names = NULL;
    ds_err err = {0};
    if (b->mv && mv_list(b->mv, &names, &err) == 0) {
        size_t i;
        json_t *v;
        json_array_foreach(names, i, v)
            if (mv_drop(b->mv, json_string_value(v), &err) != 0)
                fprintf(stderr, "warning: cannot drop %s: %s\n", json_string_value(v), err.msg);
    } else if (b->mv) {
        fprintf(stderr, "warning: cannot list Milvus's collections: %s\n", err.msg);
    }
    json_decref(names);
}

/* Whether a test's name holds one of the '|'-separated parts of only
 * (DINOSEEK_TEST_ONLY="starts|lost|stops": a suite's server comes up for
 * the tests asked for and goes down after them). */
static int only_matches(const char *only, const char *name)
{
    for (const char *p = only;; p++) {
        size_t n = strcspn(p, "|");
        char part[256];
        snprintf(part, sizeof part, "%.*s", (int)(n < sizeof part ? n : sizeof part - 1), p);
        if (*part && strstr(name, part))
            return 1;
        p += n;
        if (!*p)
            return 0;
    }
}

static double seconds_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0, skipped = 0;
    /* Servers that tests/peers/peers.py starts stop when this process is
     * gone (a watcher per server); children forked here use
     * ds_test_tie_to_runner. */
    runner_pid = getpid();
    char pid_text[32];
    snprintf(pid_text, sizeof pid_text, "%ld", (long)runner_pid);
    setenv("DINOSEEK_TEST_RUNNER_PID", pid_text, 1);
    for (size_t s = 0; s < sizeof suites / sizeof suites[0]; s++) {
        if (!wanted(argc, argv, suites[s].name))
            continue;
        snprintf(ds_test_tmpdir, sizeof ds_test_tmpdir, "/tmp/dinoseek-test-%s-XXXXXX",
                 suites[s].name);
        if (!mkdtemp(ds_test_tmpdir)) {
            perror("mkdtemp");
            return 2;
        }
        fprintf(stderr, "suite %s\n", suites[s].name);
        double suite_start = seconds_now();
        backend peer = {0};
        int no_backend = suites[s].backend && backend_up(suites[s].backend, &peer) != 0;
        if (no_backend) {
            fprintf(stderr, "  skipped: %s\n", peer.why);
            backend_down(&peer);
        }
        int n = 0;
        /* DINOSEEK_TEST_ONLY=TEXT runs only the tests whose name holds TEXT
         * (or one of TEXT's '|'-separated parts). */
        const char *only = getenv("DINOSEEK_TEST_ONLY");
        for (const ds_test *t = suites[s].tests; t->name; t++, n++) {
            if (only && *only && !only_matches(only, t->name))
                continue;
            ds_test_failed = 0;
            ds_test_skipped = 0;
            double start = seconds_now();
            if (no_backend) {
                ds_test_skipped = 1;
            } else {
                if (suites[s].backend)
                    backend_for_test(&peer, suites[s].name, n);
                t->fn();
            }
            /* Tests of a second or more say how long: make test has a
             * time budget (docs/testing.md), and this shows where it goes. */
            double took = seconds_now() - start;
            char when[32] = "";
            if (took >= 1.0)
                snprintf(when, sizeof when, " (%.1f s)", took);
            fprintf(stderr, "  %-52s %s%s\n", t->name,
                    ds_test_failed ? "FAIL" : ds_test_skipped ? "skip" : "ok", when);
            if (ds_test_failed)
                failed++;
            else if (ds_test_skipped)
                skipped++;
            else
                passed++;
        }
        if (suites[s].backend && !no_backend)
            backend_down(&peer);
        fprintf(stderr, "  (suite %s: %.1f s)\n", suites[s].name, seconds_now() - suite_start);
        char rm[600];
        snprintf(rm, sizeof rm, "rm -rf '%s'", ds_test_tmpdir);
        if (system(rm) != 0)
            fprintf(stderr, "warning: could not remove %s\n", ds_test_tmpdir);
    }
    if (skipped)
        printf("%d skipped\n", skipped);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
