/* json_body.c - JSON object bodies checked against the keys a route takes
 * (see json_body.h). */
#include "http/json_body.h"

#include <stdio.h>
#include <string.h>

static const char *type_name(http_json_type t)
{
    return t == HTTP_JSON_INTEGER ? "an integer" : "a string";
}

static const http_json_key *find_key(const http_json_key *keys, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

/* "path (a string), collection (a string), batch (an integer)" */
static void list_keys(const http_json_key *keys, size_t n, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && used < cap; i++)
        used += (size_t)snprintf(out + used, cap - used, "%s\"%s\" (%s)", i ? ", " : "",
                                 keys[i].name, type_name(keys[i].type));
}

/* A name as the message shows it: at most 60 bytes, control bytes as '?'. */
static void printable_name(const char *name, char out[64])
{
    size_t i = 0;
    for (; name[i] && i < 60; i++)
        out[i] = (unsigned char)name[i] < 0x20 || name[i] == 0x7f ? '?' : name[i];
    out[i] = '\0';
    if (name[i])
        snprintf(out + i, 4, "...");
}

static int unknown(const char *where, const char *name, const http_json_key *keys, size_t n,
                   char *why, size_t wn)
{
    char shown[64], known[512];
    printable_name(name, shown);
    list_keys(keys, n, known, sizeof known);
    snprintf(why, wn, "unknown %s \"%s\": this route takes %s", where, shown, known);
    return -1;
}

int http_json_body(const void *body, size_t len, const http_params *query,
                   const http_json_key *keys, size_t n, json_t **out, char *why, size_t wn)
{
    char known[512];
    *out = NULL;
    for (size_t i = 0; query && i < query->count; i++) {
        const http_json_key *k = find_key(keys, n, query->items[i].name);
        if (!k)
            return unknown("parameter", query->items[i].name, keys, n, why, wn);
        /* Twice is as ambiguous as a duplicate JSON key: the first was
         * taken, silently. */
        for (size_t j = 0; j < i; j++)
            if (strcmp(query->items[j].name, k->name) == 0) {
                snprintf(why, wn, "\"%s\" is given twice in the query string", k->name);
                return -1;
            }
    }
    if (len == 0)
        return 0;
    json_error_t je;
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(doc)) {
        list_keys(keys, n, known, sizeof known);
        snprintf(why, wn, "the body must be a JSON object of %s: %s", known,
                 doc ? "not an object" : je.text);
        json_decref(doc);
        return -1;
    }
    const char *name;
    json_t *value;
    json_object_foreach(doc, name, value) {
        const http_json_key *k = find_key(keys, n, name);
        if (!k) {
            unknown("key", name, keys, n, why, wn);
            json_decref(doc);
            return -1;
        }
        if (query && http_params_get(query, k->name)) { /* the body's won, silently */
            snprintf(why, wn, "\"%s\" is given both in the body and in the query string",
                     k->name);
            json_decref(doc);
            return -1;
        }
        int fits = k->type == HTTP_JSON_INTEGER ? json_is_integer(value) : json_is_string(value);
        if (!fits) {
            snprintf(why, wn, "\"%s\" must be %s", k->name, type_name(k->type));
            json_decref(doc);
            return -1;
        }
    }
    *out = doc;
    return 0;
}

json_t *http_json_schema(const http_json_key *keys, size_t n)
{
    json_t *props = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set_new(props, keys[i].name,
                            json_pack("{s:s}", "type", keys[i].type == HTTP_JSON_INTEGER
                                                           ? "integer" : "string"));
    return json_pack("{s:s,s:o,s:b}", "type", "object", "properties", props,
                     "additionalProperties", 0);
}
