/* harness.h - what the programs that drive a real `dinoseek serve` share
 * (bench/http, soak/load): starting and stopping the server, asking it for
 * its health, and reading its process's memory and open descriptors. */
#ifndef DS_BENCH_HARNESS_H
#define DS_BENCH_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

/* Monotonic milliseconds. */
double bh_now_ms(void);

/* A libcurl write callback that keeps nothing. */
size_t bh_discard(char *p, size_t size, size_t n, void *ud);

/* GET http://127.0.0.1:port/path within a second: the status, or 0. */
long bh_get_status(int port, const char *path);

/* A field of /proc/PID/status in KiB ("VmRSS", "RssAnon", ...), or -1. */
long bh_status_kb(pid_t pid, const char *field);

/* /proc/PID/status VmRSS in KiB, or -1. */
long bh_rss_kb(pid_t pid);

/* Entries of /proc/PID/fd (the process's open descriptors), or -1. */
int bh_fd_count(pid_t pid);

/* A TCP port on 127.0.0.1 that was free a moment ago. */
int bh_free_port(void);

/* Start `bin serve --data DATA --model MODEL --listen 127.0.0.1:PORT ARGS...`
 * (extra: NULL-terminated, may be NULL), its stderr to log (NULL: discarded),
 * and wait up to wait_ms for /health to answer 200. Returns the pid, or -1
 * (the process is killed); *ready_ms (may be NULL) gets the time it took. */
pid_t bh_serve(const char *bin, const char *data, const char *model, int port,
               const char *const *extra, const char *log, double wait_ms, double *ready_ms);

/* SIGTERM, then up to wait_ms for the exit (SIGKILL after). Returns the exit
 * status, 128 + the signal when killed by one, or -1 when it had to be
 * killed. */
int bh_stop(pid_t pid, double wait_ms);

/* The q-quantile (0..1) of n sorted values; 0 when n is 0. */
double bh_quantile(const double *sorted, size_t n, double q);

/* qsort comparison of doubles. */
int bh_cmp_double(const void *a, const void *b);

#endif
