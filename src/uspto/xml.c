/* xml.c - libxml2, used so that a hostile document can do nothing but fail:
 * no network, no DTD, no external entity (a loader that refuses all is
 * installed once for the process), no entity expansion, bounded depth, and
 * errors kept in the caller's ds_err instead of printed. */
#include <libxml/parser.h>
#include <libxml/SAX2.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "uspto/uspto_internal.h"

/* libxml2 calls this for every external resource (DTD, external entity,
 * XInclude) a parse would load. None is ever wanted. */
static xmlParserInputPtr refuse_entity(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
    (void)url, (void)id, (void)ctxt;
    return NULL;
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* xmlInitParser must run before threads parse; the loader is process-wide. */
static void init_libxml(void)
{
    xmlInitParser();
    xmlSetExternalEntityLoader(refuse_entity);
}

/* What one parse collects through the context's callbacks. */
typedef struct read_state {
    startElementNsSAX2Func start; /* libxml2's own, which builds the tree */
    int too_deep, oom;
    long deep_line;
    int have_fatal, have_error;
    long fatal_line, error_line;
    char fatal[300], error[300];
} read_state;

static read_state *state_of(void *ctx)
{
    return ((xmlParserCtxtPtr)ctx)->_private;
}

/* Keep the first fatal error (what made the document fail) and the first
 * plain error; warnings, and the errors about entities that only the
 * never-loaded DTD would define, stay in neither. */
static void on_error(void *ctx, xmlErrorPtr e)
{
    read_state *st = state_of(ctx);
    if (!e || e->level == XML_ERR_WARNING || e->code == XML_WAR_UNDECLARED_ENTITY)
        return;
    st->oom |= e->code == XML_ERR_NO_MEMORY;
    int fatal = e->level == XML_ERR_FATAL;
    if (fatal ? st->have_fatal : st->have_error)
        return;
    char *msg = fatal ? st->fatal : st->error;
    snprintf(msg, sizeof st->fatal, "%s", e->message ? e->message : "unknown error");
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    if (fatal)
        st->have_fatal = 1, st->fatal_line = e->line;
    else
        st->have_error = 1, st->error_line = e->line;
}

/* Count depth as elements open, and stop the parse past US_MAX_DEPTH
 * (libxml2's own limit is larger, and a version's choice). */
static void on_start(void *ctx, const xmlChar *name, const xmlChar *prefix, const xmlChar *uri,
                     int nb_ns, const xmlChar **ns, int nb_attr, int nb_def, const xmlChar **attr)
{
    xmlParserCtxtPtr ctxt = ctx;
    read_state *st = state_of(ctx);
    if (ctxt->nameNr >= US_MAX_DEPTH) { /* the open ones, this one not yet pushed */
        if (!st->too_deep)
            st->deep_line = xmlSAX2GetLineNumber(ctx);
        st->too_deep = 1;
        xmlStopParser(ctxt);
        return;
    }
    st->start(ctx, name, prefix, uri, nb_ns, ns, nb_attr, nb_def, attr);
}

/* The document with its internal subset turned to spaces (newlines kept,
 * so that line numbers stay true). */
static char *blank_subset(const char *xml, size_t len, const us_prolog *p)
{
    char *copy = malloc(len);
    if (!copy)
        return NULL;
    memcpy(copy, xml, len);
    for (size_t i = p->subset_open + 1; i < p->subset_close; i++)
        if (copy[i] != '\n')
            copy[i] = ' ';
    return copy;
}

/* 0 for a good tree, else -1 with the reason: the depth limit, then
 * libxml2's first fatal error, then its first error. */
static int verdict(const read_state *st, xmlParserCtxtPtr ctxt, xmlDocPtr doc, ds_err *err)
{
    if (st->too_deep)
        return ds_fail(err, DS_EFORMAT, "line %ld: elements nested more than %d deep",
                       st->deep_line, US_MAX_DEPTH);
    if (doc && ctxt->wellFormed)
        return 0;
    if (st->oom || ctxt->errNo == XML_ERR_NO_MEMORY)
        return ds_fail(err, DS_ENOMEM, "out of memory parsing XML");
    if (st->have_fatal)
        return ds_fail(err, DS_EFORMAT, "XML error at line %ld: %s", st->fatal_line, st->fatal);
    if (st->have_error)
        return ds_fail(err, DS_EFORMAT, "XML error at line %ld: %s", st->error_line, st->error);
    return ds_fail(err, DS_EFORMAT, "XML error (libxml2 code %d)", ctxt->errNo);
}

int us__xml_read(const char *xml, size_t len, const us_prolog *p, xmlDocPtr *out, ds_err *err)
{
    *out = NULL;
    if (len > US_MAX_DOC_BYTES || len > (size_t)INT_MAX)
        return ds_fail(err, DS_ETOOBIG, "document of %zu bytes (at most %u)", len,
                       US_MAX_DOC_BYTES);
    pthread_once(&init_once, init_libxml);
    char *copy = NULL;
    if (p->subset_blank && !(copy = blank_subset(xml, len, p)))
        return ds_fail(err, DS_ENOMEM, "out of memory copying a document");
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        free(copy);
        return ds_fail(err, DS_ENOMEM, "out of memory starting the XML parser");
    }
    read_state st = {.start = ctxt->sax->startElementNs};
    ctxt->_private = &st;
    ctxt->sax->serror = on_error;
    ctxt->sax->startElementNs = on_start;
    /* NONET: nothing from the network; IGNORE_ENC with an encoding: the
     * bytes are decoded as the prolog check saw them. Entities are never
     * substituted (no NOENT), no DTD is loaded (no DTDLOAD, DTDATTR,
     * DTDVALID), and HUGE is not set, so libxml2 keeps its size limits. */
    int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
               XML_PARSE_IGNORE_ENC | XML_PARSE_NOCDATA | XML_PARSE_COMPACT;
    xmlDocPtr doc = xmlCtxtReadMemory(ctxt, copy ? copy : xml, (int)len, NULL, p->encoding, opts);
    int rc = verdict(&st, ctxt, doc, err);
    if (rc < 0)
        xmlFreeDoc(doc);
    else
        *out = doc;
    xmlFreeParserCtxt(ctxt);
    free(copy);
    return rc;
}
