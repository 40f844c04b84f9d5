/* s3_xml.c - ListObjectsV2 pages and error documents (see s3_xml.h). */
#include "blob/s3_xml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_DOC ((size_t)16 << 20)
#define MAX_ENTRIES 100000

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static void init_libxml(void) { xmlInitParser(); }

/* Parse without network, DTD loading or entity substitution; refuse a
 * document with a DTD. NULL when it is not well-formed. */
static xmlDocPtr read_doc(const char *xml, size_t len)
{
    if (!xml || len == 0 || len > MAX_DOC)
        return NULL;
    pthread_once(&init_once, init_libxml);
    int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA |
               XML_PARSE_COMPACT;
    xmlDocPtr doc = xmlReadMemory(xml, (int)len, NULL, NULL, opts);
    if (doc && (doc->intSubset || doc->extSubset || !xmlDocGetRootElement(doc))) {
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

static int named(xmlNodePtr n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* The element's text: its text children only, so that nothing but
 * characters the server sent can appear (no entity expansion). A new
 * string, or NULL when out of memory. */
static char *text_of(xmlNodePtr n)
{
    size_t len = 0;
    for (xmlNodePtr c = n->children; c; c = c->next)
        if (c->type == XML_TEXT_NODE && c->content)
            len += strlen((const char *)c->content);
    char *s = malloc(len + 1), *p = s;
    if (!s)
        return NULL;
    for (xmlNodePtr c = n->children; c; c = c->next)
        if (c->type == XML_TEXT_NODE && c->content) {
            size_t l = strlen((const char *)c->content);
            memcpy(p, c->content, l);
            p += l;
        }
    *p = '\0';
    return s;
}

int64_t s3_parse_iso8601(const char *s)
{
    int y, mo, d, h, mi, sec, used = 0;
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &used) != 6)
        return 0;
    const char *rest = s + used;
    if (*rest == '.')
        for (rest++; *rest >= '0' && *rest <= '9'; rest++)
            ;
    if (strcmp(rest, "Z") != 0 || y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 ||
        d > 31 || h > 23 || mi > 59 || sec > 60)
        return 0;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
                    .tm_min = mi, .tm_sec = sec};
    return (int64_t)timegm(&tm);
}

/* One <Contents>: its Key (required), Size and LastModified. */
static int read_contents(xmlNodePtr n, s3_object *o, ds_err *err)
{
    memset(o, 0, sizeof *o);
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        char *t = text_of(c);
        if (!t)
            return ds_fail(err, DS_ENOMEM, "out of memory");
        if (named(c, "Key") && !o->key) {
            o->key = t;
            continue;
        }
        if (named(c, "Size")) {
            char *end;
            unsigned long long v = strtoull(t, &end, 10);
            if (*t < '0' || *t > '9' || *end) {
                free(t);
                return ds_fail(err, DS_EFORMAT, "S3 listing: a Size that is not a number");
            }
            o->size = v;
        } else if (named(c, "LastModified")) {
            o->mtime = s3_parse_iso8601(t);
        }
        free(t);
    }
    if (!o->key)
        return ds_fail(err, DS_EFORMAT, "S3 listing: an entry without a Key");
    return 0;
}

int s3_parse_list(const char *xml, size_t len, s3_list_page *out, ds_err *err)
{
    memset(out, 0, sizeof *out);
    if (len > MAX_DOC)
        return ds_fail(err, DS_ETOOBIG, "S3 listing of %zu bytes (at most %zu)", len, MAX_DOC);
    xmlDocPtr doc = read_doc(xml, len);
    if (!doc)
        return ds_fail(err, DS_EFORMAT, "S3 listing: not a well-formed XML document");
    xmlNodePtr root = xmlDocGetRootElement(doc);
    int rc = 0;
    if (!named(root, "ListBucketResult")) {
        rc = ds_fail(err, DS_EFORMAT, "S3 listing: <%s> where ListBucketResult was expected",
                     (const char *)root->name);
        goto out;
    }
    size_t cap = 0;
    for (xmlNodePtr c = root->children; c && rc == 0; c = c->next) {
        if (named(c, "Contents")) {
            if (out->n == MAX_ENTRIES) {
                rc = ds_fail(err, DS_ETOOBIG, "S3 listing: more than %d entries in a page",
                             MAX_ENTRIES);
                break;
            }
            if (out->n == cap) {
                size_t ncap = cap ? cap * 2 : 64;
                s3_object *o = realloc(out->objs, ncap * sizeof *o);
                if (!o) {
                    rc = ds_fail(err, DS_ENOMEM, "out of memory");
                    break;
                }
                out->objs = o;
                cap = ncap;
            }
            if ((rc = read_contents(c, &out->objs[out->n], err)) == 0)
                out->n++;
            else
                free(out->objs[out->n].key);
        } else if (named(c, "IsTruncated") || named(c, "NextContinuationToken")) {
            char *t = text_of(c);
            if (!t) {
                rc = ds_fail(err, DS_ENOMEM, "out of memory");
            } else if (named(c, "IsTruncated")) {
                out->truncated = strcmp(t, "true") == 0;
                free(t);
            } else {
                free(out->next_token);
                out->next_token = t;
            }
        }
    }
    if (rc == 0 && out->truncated && (!out->next_token || !*out->next_token))
        rc = ds_fail(err, DS_EFORMAT, "S3 listing: truncated without a continuation token");
out:
    xmlFreeDoc(doc);
    if (rc != 0)
        s3_list_page_free(out);
    return rc;
}

void s3_list_page_free(s3_list_page *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->objs[i].key);
    free(p->objs);
    free(p->next_token);
    memset(p, 0, sizeof *p);
}

/* Copy printable text only: an error message ends up in logs and answers. */
static void copy_printable(char *dst, size_t n, const char *src)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)src; *p && o + 1 < n; p++)
        dst[o++] = (*p >= 0x20 && *p < 0x7f) ? (char)*p : '?';
    dst[o] = '\0';
}

void s3_parse_error(const char *xml, size_t len, char *code, size_t code_n, char *msg,
                    size_t msg_n)
{
    code[0] = msg[0] = '\0';
    xmlDocPtr doc = read_doc(xml, len);
    if (!doc)
        return;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    for (xmlNodePtr c = named(root, "Error") ? root->children : NULL; c; c = c->next) {
        if (!named(c, "Code") && !named(c, "Message"))
            continue;
        char *t = text_of(c);
        if (t)
            copy_printable(named(c, "Code") ? code : msg, named(c, "Code") ? code_n : msg_n, t);
        free(t);
    }
    xmlFreeDoc(doc);
}
