/* test.h - the tiny test framework behind `make test`.
 *
 * A suite is an array of {name, function} ending in {0}. A test fails when a
 * CHECK fails; it carries on after a failure so that one run shows every
 * broken expectation. tests/run.c lists the suites and prints the final
 * "N passed, N failed" line that CI counts.
 */
#ifndef DS_TEST_H
#define DS_TEST_H

#include <stdio.h>
#include <string.h>

typedef struct ds_test {
    const char *name;
    void (*fn)(void);
} ds_test;

/* Set by CHECK when the running test fails. */
extern int ds_test_failed;
/* Scratch directory for the running suite (created fresh, removed after). */
extern char ds_test_tmpdir[];

#define CHECK(cond)                                                           \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "    %s:%d: CHECK failed: %s\n", __FILE__,        \
                    __LINE__, #cond);                                         \
            ds_test_failed = 1;                                               \
        }                                                                     \
    } while (0)

#define CHECKF(cond, ...)                                                     \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "    %s:%d: CHECK failed: %s: ", __FILE__,        \
                    __LINE__, #cond);                                         \
            fprintf(stderr, __VA_ARGS__);                                     \
            fputc('\n', stderr);                                              \
            ds_test_failed = 1;                                               \
        }                                                                     \
    } while (0)

/* The message of a ds_err contains the given text (errors name the problem). */
#define CHECK_MSG(err, text)                                                  \
    CHECKF(strstr((err).msg, (text)) != NULL, "message \"%s\" lacks \"%s\"", \
           (err).msg, (text))

/* Mark the running test skipped, with the reason, and leave it. */
#define SKIP(...)                                                             \
    do {                                                                      \
        ds_test_skip(__VA_ARGS__);                                            \
        return;                                                               \
    } while (0)
void ds_test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Paths: the repository's ../shared directory (NULL when absent), and the
 * dinoseek binary under test (from $DINOSEEK_BIN). */
const char *ds_test_shared_dir(void);
const char *ds_test_bin(void);
/* Write a file of n bytes; returns 0 on success. */
int ds_test_write_file(const char *path, const void *data, size_t n);
/* Read a whole file (caller frees); NULL on failure. */
void *ds_test_read_file(const char *path, size_t *n);
/* Run a shell command, capture stdout and stderr into caller-freed strings
 * (either may be NULL); returns the exit status. */
int ds_test_run(const char *cmd, char **out, char **errout);
/* In a child just forked by the runner to run a server: be killed when the
 * runner dies, however it dies (PR_SET_PDEATHSIG, kept across exec), so
 * that a runner killed mid-suite leaves no server behind. Servers started
 * through tests/peers/peers.py are tied by it (DINOSEEK_TEST_RUNNER_PID). */
void ds_test_tie_to_runner(void);

#endif
