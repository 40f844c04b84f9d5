/* test_browser.c - the web UI in a real browser.
 *
 * Makes a generated model and the demo data (a synthetic USPTO week of 12
 * patents imported into patent_images; two images from a plain folder, whose
 * names give no patent, in a second collection, plain_folder; and a second
 * small week under --import-roots for the import scenario), starts
 * `dinoseek serve` with the
 * page embedded in the binary, and runs tests/browser/run.mjs: Debian's
 * chromium, headless, driven by playwright-core. Each scenario line the
 * script prints ("ok NAME" / "FAIL NAME: reason") becomes a CHECK.
 * Screenshots go to $DINOSEEK_BUILD/test-output/browser/.
 *
 * Skips when chromium or node is missing (`make test` installs both), and
 * in sanitizer builds unless DINOSEEK_BROWSER_ASAN=1: the page is the same
 * there, and the api suite already runs the server's routes under ASan.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../server_helper.h"
#include "../suites.h"

#define BROWSER_DIR "tests/browser"
#define N_SCENARIOS 43 /* the scenarios run.mjs defines */

#if defined(__SANITIZE_ADDRESS__)
#define DS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DS_ASAN 1
#endif
#endif
#ifndef DS_ASAN
#define DS_ASAN 0
#endif

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Run a command quietly; its exit status, with its output echoed on failure. */
static int run_logged(const char *cmd)
{
    char *out = NULL, *err = NULL;
    int rc = ds_test_run(cmd, &out, &err);
    if (rc != 0)
        fprintf(stderr, "    `%s` exited %d:\n%s%s\n", cmd, rc, out ? out : "", err ? err : "");
    free(out);
    free(err);
    return rc;
}

/* playwright-core under tests/browser/node_modules, installed by npm ci. */
static int have_playwright(void)
{
    if (exists(BROWSER_DIR "/node_modules/playwright-core/package.json"))
        return 1;
    fprintf(stderr, "    installing playwright-core (npm ci in " BROWSER_DIR ")\n");
    if (run_logged("cd " BROWSER_DIR " && npm ci --no-audit --no-fund --loglevel=error") != 0) {
        fprintf(stderr, "    npm ci failed: the npm registry must be reachable once to install "
                        "playwright-core (offline, copy tests/browser/node_modules in)\n");
        return 0;
    }
    return 1;
}

/* The demo data: 12 patents in <tmp>/data, two images without a patent in
 * its collection plain_folder (named to sort after patent_images, which the
 * page then keeps as its first and default choice), and a second week in
 * <tmp>/week2. */
static int make_data(const char *model)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s sample generate %s/sample --patents 12 --date 20221025", ds_test_bin(),
             ds_test_tmpdir);
    if (run_logged(cmd) != 0)
        return -1;
    snprintf(cmd, sizeof cmd,
             "%s import %s/sample/I20221025.tar --data %s/data --model %s --collection patent_images",
             ds_test_bin(), ds_test_tmpdir, ds_test_tmpdir, model);
    if (run_logged(cmd) != 0)
        return -1;
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s/plain && cp tests/fixtures/images/quad_gray.png %s/plain/chair-sketch.png && "
             "cp tests/fixtures/images/parity_photo.jpg %s/plain/lamp-photo.jpg && "
             "%s import %s/plain --data %s/data --model %s --collection plain_folder",
             ds_test_tmpdir, ds_test_tmpdir, ds_test_tmpdir, ds_test_bin(), ds_test_tmpdir, ds_test_tmpdir, model);
    if (run_logged(cmd) != 0)
        return -1;
    snprintf(cmd, sizeof cmd,
             "%s sample generate %s/week2 --patents 4 --seed 9 --date 20221101 --views-min 2 "
             "--views-max 3",
             ds_test_bin(), ds_test_tmpdir);
    return run_logged(cmd) == 0 ? 0 : -1;
}

/* Turn the script's lines into CHECKs; the number of scenarios that passed. */
static int check_lines(const char *out)
{
    int ok = 0;
    for (const char *line = out; line && *line;) {
        const char *end = strchr(line, '\n');
        int len = end ? (int)(end - line) : (int)strlen(line);
        if (len > 3 && strncmp(line, "ok ", 3) == 0) {
            fprintf(stderr, "    %.*s\n", len, line);
            ok++;
        } else if (len > 5 && strncmp(line, "FAIL ", 5) == 0) {
            CHECKF(0, "browser scenario %.*s", len - 5, line + 5);
        } else if (len > 0) {
            fprintf(stderr, "    | %.*s\n", len, line);
        }
        line = end ? end + 1 : NULL;
    }
    return ok;
}

static void test_browser_scenarios(void)
{
    const char *chromium = getenv("CHROMIUM") ? getenv("CHROMIUM") : "/usr/bin/chromium";
    if (DS_ASAN && !getenv("DINOSEEK_BROWSER_ASAN"))
        SKIP("sanitizer build: the browser scenarios run in the plain build "
             "(DINOSEEK_BROWSER_ASAN=1 runs them here too)");
    if (access(chromium, X_OK) != 0)
        SKIP("%s is missing: install Debian's chromium (mk/deps.sh does)", chromium);
    if (ds_test_run("command -v node && command -v npm", NULL, NULL) != 0)
        SKIP("node or npm is missing: install Debian's nodejs and npm (mk/deps.sh does)");
    if (!exists(BROWSER_DIR "/run.mjs"))
        SKIP("no " BROWSER_DIR "/run.mjs: run the tests from the repository root");
    CHECK(have_playwright());
    const char *model = ds_test_model_dir();
    CHECK(model != NULL);
    if (ds_test_failed)
        return;
    CHECK(make_data(model) == 0);
    if (ds_test_failed)
        return;

    char extra[700], out_dir[600], cmd[2048];
    snprintf(extra, sizeof extra, "--import-roots %s/week2", ds_test_tmpdir);
    ds_server s;
    /* The page as built into the binary, not from a directory. */
    unsetenv("DINOSEEK_WEB_DIR");
    CHECK(ds_server_start(&s, "data", extra) == 0);
    if (ds_test_failed)
        return;

    const char *build = getenv("DINOSEEK_BUILD") ? getenv("DINOSEEK_BUILD") : "build";
    snprintf(out_dir, sizeof out_dir, "%s/test-output/browser", build);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s' && node " BROWSER_DIR "/run.mjs http://127.0.0.1:%d '%s'",
             out_dir, out_dir, s.port, out_dir);
    char *out = NULL, *err = NULL;
    int rc = ds_test_run(cmd, &out, &err);
    int passed = check_lines(out);
    if (rc != 0 && err && *err)
        fprintf(stderr, "    run.mjs stderr:\n%s\n", err);
    CHECKF(rc == 0, "run.mjs exited %d", rc);
    if (!getenv("DINOSEEK_BROWSER_ONLY"))
        CHECKF(passed == N_SCENARIOS, "%d of %d scenarios passed", passed, N_SCENARIOS);
    fprintf(stderr, "    screenshots in %s/\n", out_dir);
    free(out);
    free(err);
    CHECK(ds_server_stop(&s) == 0);
}

const ds_test browser_tests[] = {
    {"scenarios in chromium (tests/browser/run.mjs)", test_browser_scenarios},
    {0},
};
