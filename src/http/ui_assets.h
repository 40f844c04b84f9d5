/* ui_assets.h - the web UI's files, embedded in the binary at build time
 * (tools/embed.c writes the table from web/). */
#ifndef DS_HTTP_UI_ASSETS_H
#define DS_HTTP_UI_ASSETS_H

#include <stddef.h>

typedef struct ui_asset {
    const char *path;            /* below web/, e.g. "index.html", "js/app.js" */
    const unsigned char *data;   /* NUL-terminated after len bytes */
    size_t len;
    const char *etag;            /* quoted, for ETag / If-None-Match */
} ui_asset;

extern const ui_asset ui_assets[];
extern const size_t ui_n_assets;

#endif
