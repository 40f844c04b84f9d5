/* ui.h - the web UI's routes: GET / (index.html) and GET /ui/{path}. */
#ifndef DS_HTTP_UI_H
#define DS_HTTP_UI_H

#include "http/server.h"

int ui_h_index(void *app, const http_request *req, http_response *resp);
int ui_h_file(void *app, const http_request *req, http_response *resp);

#endif
