/* api.h - the JSON API and its route table: the seed system's routes, same
 * paths and shapes, plus dinoseek's own. docs/api.md describes every route;
 * GET /api/openapi.json is generated from the same table. */
#ifndef DS_HTTP_API_H
#define DS_HTTP_API_H

#include <stddef.h>
#include <time.h>

#include "engine/engine.h"
#include "http/server.h"

typedef struct api_imports api_imports;

typedef struct api_app {
    eng *engine;
    api_imports *imports;   /* POST /api/batch/start and its jobs */
    http_server *server;    /* set once started, for /metrics */
    time_t started;
} api_app;

/* The route table (static; n receives its length). */
const http_route *api_routes(size_t *n);

#endif
