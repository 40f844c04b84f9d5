/* server_helper.c - see server_helper.h. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../server_helper.h"
#include "../test.h"

const char *ds_test_model_dir(void)
{
    static char dir[512];
    /* Each suite has its own temporary directory: make one per suite. */
    if (!dir[0] || strncmp(dir, ds_test_tmpdir, strlen(ds_test_tmpdir)) != 0) {
        char cmd[1200];
        snprintf(dir, sizeof dir, "%s/model", ds_test_tmpdir);
        snprintf(cmd, sizeof cmd, "%s model generate --arch small --seed 5 %s 2>/dev/null",
                 ds_test_bin(), dir);
        if (system(cmd) != 0)
            dir[0] = '\0';
    }
    return dir[0] ? dir : NULL;
}

int ds_server_start(ds_server *s, const char *name, const char *extra)
{
    const char *model = ds_test_model_dir();
    if (!model)
        return -1;
    snprintf(s->dir, sizeof s->dir, "%s/%s", ds_test_tmpdir, name);
    char log[600], cmd[2048];
    static int starts;
    snprintf(log, sizeof log, "%s.%d.log", s->dir, ++starts); /* a fresh log each start */
    snprintf(cmd, sizeof cmd, "exec %s serve --data %s --model %s --listen 127.0.0.1:0 %s >/dev/null 2>%s",
             ds_test_bin(), s->dir, model, extra ? extra : "", log);
    s->pid = fork();
    if (s->pid == 0) {
        ds_test_tie_to_runner();
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 300; i++) { /* up to 30 s under ASan */
        char *text = ds_test_read_file(log, NULL);
        const char *at = text ? strstr(text, "http://127.0.0.1:") : NULL;
        s->port = at ? atoi(at + 17) : 0;
        free(text);
        if (s->port > 0)
            return 0;
        usleep(100000);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    return -1;
}

int ds_server_stop(ds_server *s)
{
    int status = -1;
    kill(s->pid, SIGTERM);
    for (int i = 0; i < 300; i++) {
        if (waitpid(s->pid, &status, WNOHANG) == s->pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        usleep(100000);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &status, 0);
    return -1;
}

