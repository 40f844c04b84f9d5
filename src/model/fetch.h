/* fetch.h - download official model files from the Hugging Face hub.
 *
 * `dinoseek model fetch facebook/dinov2-small` downloads config.json,
 * preprocessor_config.json and model.safetensors with libcurl into
 * <cache>/<owner>--<name>/ (<owner>--<name>@<revision>/ for a revision other
 * than main), with a progress bar on stderr, resuming an
 * interrupted download with an HTTP Range request, checking each LFS file's
 * sha256 against the hub's X-Linked-Etag, and renaming into place only when
 * complete and verified (never a half-written file under the final name).
 */
#ifndef DS_FETCH_H
#define DS_FETCH_H

#include "base/error.h"

typedef struct mdl_fetch_opts {
    const char *endpoint;   /* hub base URL; default $DINOSEEK_HF_ENDPOINT or
                               $HF_ENDPOINT or https://huggingface.co */
    const char *revision;   /* default "main" */
    const char *cache_dir;  /* default mdl_cache_dir() */
    int progress;           /* draw a progress bar on stderr */
    long connect_timeout_s; /* default 10 */
} mdl_fetch_opts;

/* Default cache: $DINOSEEK_MODEL_CACHE, else $XDG_CACHE_HOME/dinoseek/models,
 * else $HOME/.cache/dinoseek/models. Returns a static string. */
const char *mdl_cache_dir(void);

/* Directory a repo lives in inside the cache: "<cache>/<owner>--<name>".
 * Writes into out (size n). Returns 0, or -1 if repo is not "owner/name". */
int mdl_repo_dir(const char *cache_dir, const char *repo, char *out, size_t n, ds_err *err);

/* Download repo ("facebook/dinov2-small") into the cache. Files already
 * complete are not downloaded again. On success writes the model directory
 * into dir_out (size n). When the hub cannot be reached but an earlier run
 * left a complete, verified copy in the cache, that copy is used (with a
 * note on stderr when o->progress). Returns 0, or -1 with err (DS_ENET when
 * the hub cannot be reached and nothing usable is cached: it fails at once;
 * DS_ECHECKSUM on a sha256 mismatch). */
int mdl_fetch(const char *repo, const mdl_fetch_opts *o, char *dir_out, size_t n,
              ds_err *err);

#endif
