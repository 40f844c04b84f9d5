/* imports.h - imports run by the server: POST /api/batch/start runs the
 * import pipeline (src/importer/) on a thread of its own, for paths under
 * the configured import roots only; GET /api/batch/status/{job} and the
 * event stream GET /api/batch/events/{job} report on it.
 *
 * One import per collection at a time (409 otherwise; the pipeline's lock
 * file also stops a `dinoseek import` of the same collection from another
 * process). Stopping the server cancels running imports after their
 * current batch: nothing is half-written, and rerunning resumes.
 */
#ifndef DS_HTTP_IMPORTS_H
#define DS_HTTP_IMPORTS_H

#include "engine/engine.h"
#include "http/server.h"

typedef struct api_imports api_imports;

/* roots: directories separated by ':' (NULL or "": imports over HTTP off). */
int api_imports_new(eng *e, const char *roots, api_imports **out, ds_err *err);

/* Cancel the running imports, end the event streams, wait for both. */
void api_imports_close(api_imports *im);
void api_imports_free(api_imports *im);

/* The handlers (app is the api_app). */
int api_h_batch_start(void *app, const http_request *req, http_response *resp);

/* The JSON Schema of POST /api/batch/start's body (for the OpenAPI document). */
json_t *api_batch_start_schema(void);
int api_h_batch_status(void *app, const http_request *req, http_response *resp);
int api_h_batch_events(void *app, const http_request *req, http_response *resp);
int api_h_batch_jobs(void *app, const http_request *req, http_response *resp);
int api_h_batch_roots(void *app, const http_request *req, http_response *resp);

#endif
