/* server_helper.h - what the tests that talk to a real `dinoseek serve`
 * share: a generated model, and starting / stopping the server. */
#ifndef DS_TEST_SERVER_HELPER_H
#define DS_TEST_SERVER_HELPER_H

#include <sys/types.h>

typedef struct ds_server {
    pid_t pid;
    int port;
    char dir[512];               /* its data directory */
} ds_server;

/* A ViT-S model with generated weights, made once per run in the suite's
 * temporary directory; NULL if that failed. */
const char *ds_test_model_dir(void);

/* Start `dinoseek serve --listen 127.0.0.1:0` on the data directory
 * <tmpdir>/<name> and read the port it reports. extra: more flags, or
 * NULL. Returns 0, or -1 when it did not come up. */
int ds_server_start(ds_server *s, const char *name, const char *extra);

/* SIGTERM, then up to 30 s for a clean exit (SIGKILL after); returns the
 * exit status (-1 when it had to be killed). */
int ds_server_stop(ds_server *s);

#endif
