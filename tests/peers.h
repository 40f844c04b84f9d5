/* peers.h - the real servers (and the misbehaving one) the backend suites
 * talk to, started and stopped by tests/peers/peers.py and
 * tests/peers/fault_server.py. */
#ifndef DS_TEST_PEERS_H
#define DS_TEST_PEERS_H

#include <sys/types.h>

typedef struct ds_peer {
    char kind[16];               /* "s3" or "milvus" */
    char dir[512];               /* its data directory */
    char endpoint[256];          /* http://127.0.0.1:PORT */
    char health[256];            /* Milvus: its /healthz URL */
    char access_key[64], secret_key[64]; /* S3: the test credentials */
    long pid, server_pid;        /* the server (Milvus: its keeper) and Milvus itself */
    int up;
    char why[1024];              /* why it is not up */
} ds_peer;

/* Install (once, into build/peers) and start a real server of the kind
 * under <tmpdir>/<name>; waits until it answers. Returns 0, or -1 with
 * p->why saying what stood in the way (the suite then skips with it). */
int ds_peer_start(ds_peer *p, const char *kind, const char *name);

/* Start a stopped Milvus again on the same port and data: what it held
 * before is there again. */
int ds_peer_restart(ds_peer *p);

/* Stop it by PID (SIGTERM, then SIGKILL). Returns 0 when it is gone. */
int ds_peer_stop(ds_peer *p);

/* The venv's Python (with pymilvus), or NULL. */
const char *ds_peer_python(void);

/* A misbehaving HTTP peer (see fault_server.py): mode and its arguments,
 * e.g. "garbage", "slow", "status 500", "flaky 2 http://127.0.0.1:8333". */
typedef struct ds_fault {
    pid_t pid;
    int port;
    char url[64];
    char portfile[512];
} ds_fault;

int ds_fault_start(ds_fault *f, const char *mode);
/* Requests it has received so far. */
int ds_fault_count(const ds_fault *f);
void ds_fault_stop(ds_fault *f);

#endif
