/* locarno.h - GET /api/locarno (see locarno.c). */
#ifndef DS_HTTP_LOCARNO_H
#define DS_HTTP_LOCARNO_H

#include "http/server.h"

int api_h_locarno(void *app, const http_request *req, http_response *resp);

#endif
