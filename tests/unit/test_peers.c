/* test_peers.c - the servers the tests start die with the test runner.
 *
 * A runner killed mid-suite (kill -9 by hand, a CI time limit) used to
 * leave its SeaweedFS and Milvus running, reparented to init. Here a
 * second runner (the "peers-victim" suite) starts one server of each kind
 * the tests use: SeaweedFS and Milvus through tests/peers/peers.py, a fault
 * proxy, and `dinoseek serve`; it writes their PIDs and waits. This suite
 * kills it with SIGKILL and checks that none of them is left.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../peers.h"
#include "../server_helper.h"
#include "../suites.h"

#define PIDS_ENV "DINOSEEK_TEST_VICTIM_PIDS"

/* Whether process pid runs (a zombie does not). */
static int running(long pid)
{
    char path[64], *stat;
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    if (!(stat = ds_test_read_file(path, NULL)))
        return 0;
    const char *end = strrchr(stat, ')');
    int r = end && end[1] == ' ' && end[2] != 'Z';
    free(stat);
    return r;
}

/* The victim: servers up, their PIDs in $DINOSEEK_TEST_VICTIM_PIDS ("kind
 * pid" lines, then "ready"), then a wait to be killed. Skips when not run
 * by test_servers_die_with_the_runner. */
static void test_victim(void)
{
    const char *list = getenv(PIDS_ENV);
    if (!list || !*list)
        SKIP("run by the peers suite only");
    FILE *f = fopen(list, "w");
    if (!f)
        SKIP("cannot write %s", list);
    setvbuf(f, NULL, _IONBF, 0);
    fprintf(f, "tmpdir %s\n", ds_test_tmpdir);
    static ds_peer s3, milvus;
    static ds_fault fault;
    static ds_server srv;
    if (ds_peer_start(&s3, "s3", "s3") == 0)
        fprintf(f, "s3 %ld\n", s3.pid);
    else
        fprintf(f, "no-s3 %s\n", s3.why);
    if (ds_peer_start(&milvus, "milvus", "milvus") == 0)
        fprintf(f, "milvus-keeper %ld\nmilvus %ld\n", milvus.pid, milvus.server_pid);
    else
        fprintf(f, "no-milvus %s\n", milvus.why);
    if (ds_fault_start(&fault, "slow") == 0)
        fprintf(f, "fault %ld\n", (long)fault.pid);
    if (ds_server_start(&srv, "served", NULL) == 0)
        fprintf(f, "serve %ld\n", (long)srv.pid);
    fprintf(f, "ready\n");
    fclose(f);
    sleep(600);
}

/* The file's lines, once it says "ready" (up to 300 s: Milvus starting). */
static char *victim_list(const char *path, pid_t victim)
{
    for (int i = 0; i < 3000; i++) {
        char *text = ds_test_read_file(path, NULL);
        if (text && strstr(text, "ready\n"))
            return text;
        free(text);
        if (waitpid(victim, NULL, WNOHANG) == victim)
            return NULL;
        usleep(100000);
    }
    return NULL;
}

static void test_servers_die_with_the_runner(void)
{
    char list[600], log[600], cmd[2000];
    snprintf(list, sizeof list, "%s/victim.pids", ds_test_tmpdir);
    snprintf(log, sizeof log, "%s/victim.log", ds_test_tmpdir);
    /* Run directly (no shell between): the PID is the runner's. */
    pid_t victim = fork();
    if (victim == 0) {
        ds_test_tie_to_runner();
        setenv(PIDS_ENV, list, 1);
        snprintf(cmd, sizeof cmd, "%s/tests/run", getenv("DINOSEEK_BUILD") ? getenv("DINOSEEK_BUILD")
                                                                            : "build");
        freopen(log, "w", stderr);
        freopen("/dev/null", "w", stdout);
        execl(cmd, cmd, "peers-victim", (char *)NULL);
        _exit(127);
    }
    char *text = victim_list(list, victim);
    kill(victim, SIGKILL);
    waitpid(victim, NULL, 0);
    if (!text) {
        char *why = ds_test_read_file(log, NULL);
        CHECKF(0, "the victim runner did not get its servers up: %.600s", why ? why : "");
        free(why);
        return;
    }
    /* What was started, and what is left of it 30 s later (Milvus takes
     * a few seconds to stop on SIGTERM). */
    long pids[8];
    char kinds[8][32], victim_tmp[300] = "";
    int n = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char kind[32];
        long pid;
        if (sscanf(line, "tmpdir %299s", victim_tmp) == 1)
            continue;
        if (!strncmp(line, "no-", 3))
            printf("    %s\n", line); /* e.g. no Milvus: another one holds its ports */
        if (n < 8 && sscanf(line, "%31s %ld", kind, &pid) == 2 && pid > 1) {
            snprintf(kinds[n], sizeof kinds[n], "%s", kind);
            pids[n++] = pid;
        }
    }
    CHECKF(n >= 3, "only %d servers started: %s", n, text);
    int left = n;
    for (int i = 0; i < 300 && left > 0; i++) {
        left = 0;
        for (int j = 0; j < n; j++)
            left += running(pids[j]);
        if (left)
            usleep(100000);
    }
    for (int j = 0; j < n; j++) {
        CHECKF(!running(pids[j]), "%s (PID %ld) outlived the killed runner", kinds[j], pids[j]);
        if (running(pids[j]))
            kill((pid_t)pids[j], SIGKILL); /* not left behind by this test either */
    }
    if (left == 0) {
        printf("    %d servers (", n);
        for (int j = 0; j < n; j++)
            printf("%s%s", j ? ", " : "", kinds[j]);
        printf(") gone with the runner\n");
    }
    if (*victim_tmp && !strncmp(victim_tmp, "/tmp/dinoseek-test-", 19)) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", victim_tmp);
        ds_test_run(cmd, NULL, NULL);
    }
    free(text);
}

const ds_test peers_tests[] = {
    {"servers die with a runner killed by SIGKILL", test_servers_die_with_the_runner},
    {0},
};

const ds_test peers_victim_tests[] = {
    {"(started by the peers suite, killed there)", test_victim},
    {0},
};
