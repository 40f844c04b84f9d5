/* run.c - the test runner: runs every suite, or those named on the command
 * line (`build/tests/run image vit`; `-parity` leaves one out), and ends with
 * "N passed, N failed". */
#include "suites.h"

#include "base/file.h"

#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int ds_test_failed;
char ds_test_tmpdir[256];
static int ds_test_skipped;

static const struct {
    const char *name;
    const ds_test *tests;
} suites[] = {
    {"base", base_tests},
    {"safetensors", safetensors_tests},
    {"vit", vit_tests},
    {"image", image_tests},
    {"fetch", fetch_tests},
    {"cli", cli_tests},
    {"fuzz", fuzz_tests},
    {"index", index_tests},
    {"catalog", catalog_tests},
    {"blob", blob_tests},
    {"s3", s3_tests},
    {"http", http_tests},
    {"api", api_tests},
    {"uspto", uspto_tests},
    {"arc", arc_tests},
    {"sample", sample_tests},
    {"import", import_tests},
    {"parity", parity_tests},
    {"browser", browser_tests},
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

int main(int argc, char **argv)
{
    int passed = 0, failed = 0, skipped = 0;
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
        for (const ds_test *t = suites[s].tests; t->name; t++) {
            ds_test_failed = 0;
            ds_test_skipped = 0;
            t->fn();
            fprintf(stderr, "  %-52s %s\n", t->name,
                    ds_test_failed ? "FAIL" : ds_test_skipped ? "skip" : "ok");
            if (ds_test_failed)
                failed++;
            else if (ds_test_skipped)
                skipped++;
            else
                passed++;
        }
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
