/* serve.c - `dinoseek serve`: the HTTP API (and, later, the web UI) on
 * embedded defaults. Runs until SIGINT or SIGTERM, then stops accepting,
 * lets in-flight requests finish, saves the index and exits 0. */
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/commands.h"
#include "cmd/common.h"
#include "http/api.h"
#include "http/imports.h"

static const char usage_head[] =
    "usage: dinoseek serve [options]\n"
    "\n"
    "Serve the JSON API (the seed system's routes: POST /api/search, GET\n"
    "/api/collection/stats, GET /api/image/{file_name}, GET /health, ...; see\n"
    "docs/api.md or GET /api/openapi.json).\n"
    "\n";

static const char usage_tail[] =
    "  --listen HOST:PORT  address (default $DINOSEEK_LISTEN, else 127.0.0.1:8000)\n"
    "  --api-key KEY       require this key on write endpoints (default $DINOSEEK_API_KEY)\n"
    "  --cors ORIGINS      allowed CORS origins, comma-separated, or * ($DINOSEEK_CORS)\n"
    "  --max-upload MB     largest accepted upload (default 32)\n"
    "  --access-log FILE   JSON lines, one per request (- for stderr)\n"
    "  --import-roots DIRS folders (':'-separated) under which POST /api/batch/start may\n"
    "                      import; default $DINOSEEK_IMPORT_ROOTS, else none (off)\n"
    "  --idle-timeout S    close a connection silent this long (default 30)\n"
    "  --request-timeout S a request, headers and body, must arrive whole within this\n"
    "                      (default 60); past it the connection is closed\n"
    "  --max-connections N open connections, one thread each (default 512)\n"
    "  --max-connections-per-ip N\n"
    "                      of them from one client address (default 64; 0: no limit,\n"
    "                      e.g. behind a proxy, whose address every request has)\n";

/* The connection settings: name, range, and where each goes. */
enum { CONN_IDLE, CONN_REQUEST, CONN_MAX, CONN_PER_IP, N_CONN };
static const struct {
    const char *name;
    long lo, hi;
} conn_settings[N_CONN] = {
    {"idle-timeout", 1, 86400},
    {"request-timeout", 1, 86400},
    {"max-connections", 1, 16384},
    {"max-connections-per-ip", 0, 16384},
};

typedef struct serve_args {
    cmd_engine_opts eng;
    http_config http;
    char host[256];
    long max_upload_mb;
    const char *access_log;
    const char *import_roots;
} serve_args;

/* Set connection setting k from text v (a flag when from_flag, else a
 * variable or the file); returns 0, or -1 after saying what is wrong. */
static int conn_setting(serve_args *a, int k, const char *v, int from_flag)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (!*v || *end || n < conn_settings[k].lo || n > conn_settings[k].hi) {
        fprintf(stderr, "dinoseek serve: %s%s must be an integer from %ld to %ld (got '%s')\n",
                from_flag ? "--" : "the setting ", conn_settings[k].name, conn_settings[k].lo,
                conn_settings[k].hi, v);
        return -1;
    }
    switch (k) {
    case CONN_IDLE: a->http.timeout_s = (int)n; break;
    case CONN_REQUEST: a->http.request_ms = (int)n * 1000; break;
    case CONN_MAX: a->http.max_connections = (int)n; break;
    default: a->http.max_per_ip = n ? (int)n : -1; break; /* the server's "no limit" */
    }
    return 0;
}

/* glibc gives threads up to 8 malloc arenas per core, and each arena keeps
 * the memory freed into it. With a thread per connection every arena soon
 * holds the buffers of a search (the model's activations), so the server's
 * RSS climbed for minutes under load (soak/load: +26% after a 30 s warm-up,
 * still rising). As many arenas as cores keep the threads that can run at
 * once apart and stop the climb. MALLOC_ARENA_MAX, when set, still decides. */
static void limit_malloc_arenas(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (!getenv("MALLOC_ARENA_MAX"))
        mallopt(M_ARENA_MAX, cores > 2 ? (int)cores : 2);
}

static int parse_listen(const char *s, serve_args *a)
{
    const char *colon = strrchr(s, ':');
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || colon == s || *end || port < 0 || port > 65535 ||
        (size_t)(colon - s) >= sizeof a->host)
        return -1;
    memcpy(a->host, s, (size_t)(colon - s));
    a->host[colon - s] = '\0';
    a->http.host = a->host;
    a->http.port = (int)port;
    return 0;
}

static int parse_args(int argc, char **argv, serve_args *a)
{
    static const struct option opts[] = {
        CMD_ENGINE_LONG_OPTIONS,
        {"config", required_argument, 0, 'C'},
        {"listen", required_argument, 0, 'l'},
        {"api-key", required_argument, 0, 'k'},   {"cors", required_argument, 0, 'c'},
        {"max-upload", required_argument, 0, 'u'}, {"access-log", required_argument, 0, 'a'},
        {"import-roots", required_argument, 0, 'i'},
        {"idle-timeout", required_argument, 0, 'T' + CONN_IDLE},
        {"request-timeout", required_argument, 0, 'T' + CONN_REQUEST},
        {"max-connections", required_argument, 0, 'T' + CONN_MAX},
        {"max-connections-per-ip", required_argument, 0, 'T' + CONN_PER_IP},
        {"help", no_argument, 0, 'h'},            {0, 0, 0, 0}};
    int c, index;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, &index)) != -1) {
        char *end;
        switch (c) {
        case 1:
            if (cmd_engine_option(&a->eng, "serve", opts[index].name, optarg) < 0)
                return 2;
            break;
        case 'l':
            if (parse_listen(optarg, a) != 0) {
                fprintf(stderr, "dinoseek serve: --listen must be HOST:PORT\n");
                return 2;
            }
            break;
        case 'C': break; /* read before the flags, by cmd_config_load */
        case 'k': a->http.api_key = optarg; break;
        case 'c': a->http.cors = optarg; break;
        case 'u':
            a->max_upload_mb = strtol(optarg, &end, 10);
            if (*end || a->max_upload_mb < 1 || a->max_upload_mb > 4096) {
                fprintf(stderr, "dinoseek serve: --max-upload must be from 1 to 4096 (MB)\n");
                return 2;
            }
            break;
        case 'a': a->access_log = optarg; break;
        case 'i': a->import_roots = optarg; break;
        case 'T' + CONN_IDLE:
        case 'T' + CONN_REQUEST:
        case 'T' + CONN_MAX:
        case 'T' + CONN_PER_IP:
            if (conn_setting(a, c - 'T', optarg, 1) != 0)
                return 2;
            break;
        case 'h': printf("%s%s%s", usage_head, cmd_engine_help, usage_tail); return 0;
        default: fprintf(stderr, "%s%s%s", usage_head, cmd_engine_help, usage_tail); return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "dinoseek serve: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    return -1;
}

/* Defaults, then the configuration file and DINOSEEK_* (cmd_setting);
 * flags come after. Returns 0, or -1 for a bad setting. */
static int defaults(serve_args *a)
{
    memset(a, 0, sizeof *a);
    if (cmd_engine_defaults(&a->eng) != 0)
        return -1;
    a->http.host = "127.0.0.1";
    a->http.port = 8000;
    a->max_upload_mb = 32;
    const char *v;
    char *end;
    if ((v = cmd_setting("listen")) && parse_listen(v, a) != 0) {
        fprintf(stderr, "dinoseek serve: the listen setting '%s' is not HOST:PORT\n", v);
        return -1;
    }
    if ((v = cmd_setting("max-upload")) &&
        ((a->max_upload_mb = strtol(v, &end, 10)) < 1 || a->max_upload_mb > 4096 || *end)) {
        fprintf(stderr, "dinoseek serve: the max-upload setting must be from 1 to 4096 (MB)\n");
        return -1;
    }
    a->http.api_key = cmd_setting("api-key");
    a->http.cors = cmd_setting("cors");
    a->access_log = cmd_setting("access-log");
    a->import_roots = cmd_setting("import-roots");
    for (int k = 0; k < N_CONN; k++)
        if ((v = cmd_setting(conn_settings[k].name)) && conn_setting(a, k, v, 0) != 0)
            return -1;
    return 0;
}

/* Routes with the upload limit applied to every route that takes a body:
 * a copy of the table. */
static http_route *limited_routes(size_t max_upload, size_t *n)
{
    const http_route *base = api_routes(n);
    http_route *r = malloc(sizeof *r * *n);
    for (size_t i = 0; r && i < *n; i++) {
        r[i] = base[i];
        if (r[i].max_body >= (1u << 20)) /* the upload routes, not small JSON bodies */
            r[i].max_body = max_upload;
    }
    return r;
}

int cmd_serve(int argc, char **argv)
{
    serve_args a;
    if (cmd_config_load(argc, argv, cmd_known_settings, "serve") != 0 || defaults(&a) != 0)
        return 2;
    int status = parse_args(argc, argv, &a);
    if (status >= 0)
        return status;
    if (a.http.api_key && !*a.http.api_key) {
        fprintf(stderr, "dinoseek serve: the API key is empty (leave it unset for open writes)\n");
        return 2;
    }
    /* Signals are taken by sigwait below; block them before any thread starts
     * so that every thread inherits the mask. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    limit_malloc_arenas();

    api_app app = {.started = time(NULL)};
    FILE *log = NULL;
    if (a.access_log)
        log = strcmp(a.access_log, "-") == 0 ? stderr : fopen(a.access_log, "a");
    if (a.access_log && !log) {
        fprintf(stderr, "dinoseek serve: cannot open %s\n", a.access_log);
        return 1;
    }
    a.http.access_log = log;
    size_t n;
    http_route *routes = limited_routes((size_t)a.max_upload_mb << 20, &n);
    if (!routes || !(app.engine = cmd_open_engine(&a.eng, "serve"))) {
        free(routes);
        return 1;
    }
    ds_err err = {0};
    if (api_imports_new(app.engine, a.import_roots, &app.imports, &err) != 0 ||
        http_start(&a.http, routes, n, &app, &app.server, &err) != 0) {
        fprintf(stderr, "dinoseek serve: %s\n", err.msg);
        api_imports_free(app.imports);
        eng_close(app.engine);
        free(routes);
        return 1;
    }
    fprintf(stderr, "dinoseek: serving collection %s on http://%s:%d/ (data %s)%s\n",
            eng_default_collection(app.engine), a.http.host, http_port(app.server),
            a.eng.cfg.data_dir,
            eng_generated_weights(app.engine)
                ? "\ndinoseek: GENERATED weights: similarity between images is not meaningful"
                : "");
    int sig = 0;
    sigwait(&stop, &sig);
    fprintf(stderr, "dinoseek: %s: finishing requests in flight and stopping\n",
            sig == SIGTERM ? "SIGTERM" : "SIGINT");
    api_imports_close(app.imports); /* imports stop after their batch; streams end */
    http_stop(app.server);
    api_imports_free(app.imports);
    eng_close(app.engine);
    free(routes);
    if (log && log != stderr)
        fclose(log);
    return 0;
}
