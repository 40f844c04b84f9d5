/* peers.c - see peers.h. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../peers.h"
#include "../test.h"

#define PEERS "tests/peers/peers.py"

/* The value of "key=" in a line of key=value pairs. */
static void field(const char *line, const char *key, char *out, size_t n)
{
    char pat[64];
    snprintf(pat, sizeof pat, "%s=", key);
    out[0] = '\0';
    for (const char *p = line; (p = strstr(p, pat)); p++)
        if (p == line || p[-1] == ' ') {
            p += strlen(pat);
            size_t l = strcspn(p, " \n");
            snprintf(out, n, "%.*s", (int)(l < n ? l : n - 1), p);
            return;
        }
}

int ds_peer_start(ds_peer *p, const char *kind, const char *name)
{
    memset(p, 0, sizeof *p);
    snprintf(p->kind, sizeof p->kind, "%s", kind);
    snprintf(p->dir, sizeof p->dir, "%s/%s", ds_test_tmpdir, name);
    char cmd[1200], *out = NULL, *errs = NULL;
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s start %s %s", PEERS, kind, p->dir);
    int rc = ds_test_run(cmd, &out, &errs);
    if (rc == 0 && out && strstr(out, "endpoint=")) {
        field(out, "endpoint", p->endpoint, sizeof p->endpoint);
        field(out, "health", p->health, sizeof p->health);
        field(out, "access_key", p->access_key, sizeof p->access_key);
        field(out, "secret_key", p->secret_key, sizeof p->secret_key);
        char pid[32];
        field(out, "pid", pid, sizeof pid);
        p->pid = atol(pid);
        field(out, "server_pid", pid, sizeof pid);
        p->server_pid = atol(pid);
        p->up = 1;
    } else {
        snprintf(p->why, sizeof p->why, "%s", errs && *errs ? errs : "peers.py failed");
        p->why[strcspn(p->why, "\n")] = '\0';
    }
    free(out);
    free(errs);
    return p->up ? 0 : -1;
}

int ds_peer_restart(ds_peer *p)
{
    const char *colon = strrchr(p->endpoint, ':');
    if (strcmp(p->kind, "milvus") != 0 || !colon)
        return -1;
    int port = atoi(colon + 1);
    char cmd[1200], *out = NULL, *errs = NULL;
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s start milvus %s %d", PEERS, p->dir, port);
    int rc = ds_test_run(cmd, &out, &errs);
    p->up = rc == 0 && out && strstr(out, "endpoint=");
    if (!p->up)
        snprintf(p->why, sizeof p->why, "%s", errs && *errs ? errs : "peers.py failed");
    free(out);
    free(errs);
    return p->up ? 0 : -1;
}

int ds_peer_stop(ds_peer *p)
{
    if (!p->up)
        return 0;
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s stop %s", PEERS, p->dir);
    p->up = 0;
    return ds_test_run(cmd, NULL, NULL) == 0 ? 0 : -1;
}

const char *ds_peer_python(void)
{
    static char path[512];
    char *out = NULL;
    if (!path[0] && ds_test_run("/usr/bin/python3 " PEERS " python", &out, NULL) == 0 && out) {
        out[strcspn(out, "\n")] = '\0';
        snprintf(path, sizeof path, "%s", out);
    }
    free(out);
    return path[0] ? path : NULL;
}

int ds_fault_start(ds_fault *f, const char *mode)
{
    static int n;
    memset(f, 0, sizeof *f);
    snprintf(f->portfile, sizeof f->portfile, "%s/fault-%d.port", ds_test_tmpdir, ++n);
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "exec /usr/bin/python3 tests/peers/fault_server.py %s %s",
             f->portfile, mode);
    f->pid = fork();
    if (f->pid == 0) {
        ds_test_tie_to_runner();
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100; i++) {
        char *text = ds_test_read_file(f->portfile, NULL);
        f->port = text ? atoi(text) : 0;
        free(text);
        if (f->port > 0) {
            snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d", f->port);
            return 0;
        }
        usleep(100000);
    }
    ds_fault_stop(f);
    return -1;
}

int ds_fault_count(const ds_fault *f)
{
    char path[600];
    snprintf(path, sizeof path, "%s.count", f->portfile);
    char *text = ds_test_read_file(path, NULL);
    int n = text ? atoi(text) : 0;
    free(text);
    return n;
}

void ds_fault_stop(ds_fault *f)
{
    if (f->pid > 0) {
        kill(f->pid, SIGKILL);
        waitpid(f->pid, NULL, 0);
        f->pid = 0;
    }
}
