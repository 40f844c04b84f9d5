/* uspto.c - `dinoseek uspto parse FILE...`: the grants in USPTO grant XML
 * files as JSON lines, design patents only unless --all, with a count of
 * what was read, skipped and failed on stderr. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arc/arc.h"
#include "cmd/commands.h"
#include "importer/importer.h"
#include "uspto/uspto.h"

static const char usage_text[] =
    "usage: dinoseek uspto parse FILE... [--all]\n"
    "\n"
    "Read USPTO patent grant XML: one document, or a weekly file of many\n"
    "(ipgYYMMDD.xml, ipgbYYYYMMDD.xml: us-patent-grant v4.0 to v4.7; 2002-2004\n"
    "PATDOC files), or the XML files inside a ZIP or tar (ipgb20221025_wk43.zip,\n"
    "a USD*.ZIP, the weekly I20221025.tar of ZIPs). Print one JSON line per grant\n"
    "with the seed's fields (patent_id, title, loc_class, ..., figures), and\n"
    "\"source\": FILE, FILE#N for the N-th document (from 1) of a file holding\n"
    "several, and ARCHIVE!MEMBER for a file inside an archive.\n"
    "\n"
    "  --all    print every grant (utility, plant, reissue, ...), not only designs\n"
    "\n"
    "Sequence listings carried by weekly files are skipped. A document that\n"
    "cannot be read is reported on stderr and the next one is read; the last\n"
    "stderr line counts documents, designs, skipped and failed. Exit status: 0\n"
    "when every document was read, 1 when any failed, 2 for bad usage.\n";

static int usage(FILE *out, int status)
{
    fputs(usage_text, out);
    return status;
}

typedef struct tally {
    const char *file;
    int all;
    long documents, design, failed, sequences;
    long skipped[US_OTHER + 1]; /* grants not printed, by type */
} tally;

static void source_name(const tally *t, const us_doc *d, char *buf, size_t n)
{
    if (d->total > 1)
        snprintf(buf, n, "%s#%d", t->file, d->index + 1);
    else
        snprintf(buf, n, "%s", t->file);
}

static int on_doc(void *ctx, const us_doc *d)
{
    tally *t = ctx;
    char source[4200];
    source_name(t, d, source, sizeof source);
    t->documents++;
    if (!d->grant) {
        if (us_doc_passed_over(d))
            t->sequences++; /* a sequence listing, not a grant */
        else {
            t->failed++;
            fprintf(stderr, "dinoseek uspto: %s: %s\n", source, d->error->msg);
        }
        return 0;
    }
    if (d->grant->type == US_DESIGN)
        t->design++;
    if (d->grant->type != US_DESIGN && !t->all) {
        t->skipped[d->grant->type]++;
        return 0;
    }
    json_t *j = us_grant_json(d->grant, source);
    char *line = j ? json_dumps(j, JSON_PRESERVE_ORDER) : NULL;
    if (line)
        puts(line);
    else {
        t->failed++;
        fprintf(stderr, "dinoseek uspto: %s: out of memory\n", source);
    }
    free(line);
    json_decref(j);
    return 0;
}

static int is_archive(const char *path) { return imp_kind_of(path) == IMP_ARCHIVE; }

static void parse_buffer(tally *t, const char *source, const void *buf, size_t len)
{
    ds_err err = {0};
    t->file = source;
    if (us_parse_buffer(buf, len, on_doc, t, &err) < 0) {
        fprintf(stderr, "dinoseek uspto: %s: %s\n", source, err.msg);
        t->failed++;
    }
    fflush(stdout);
}

/* Archives inside archives that are opened: a zip wrapping the weekly tar
 * of ZIPs is two deep (the import's limit too). */
#define MAX_NESTING 2

/* Every XML member of an archive, streamed; an archive inside (the weekly
 * tar's DESIGN/USD*.ZIP) is opened from memory. */
static void parse_archive(tally *t, arc_reader *r, const char *origin, int depth)
{
    arc_member m;
    ds_err err = {0};
    int rc;
    while ((rc = arc_next(r, &m, &err)) == 1) {
        char source[4200];
        snprintf(source, sizeof source, "%s!%s", origin, m.name);
        int nested = is_archive(m.name);
        if (nested && depth >= MAX_NESTING && !m.refused) {
            fprintf(stderr, "dinoseek uspto: %s: an archive this deep inside archives is not "
                            "opened\n", source);
            t->failed++;
            continue;
        }
        if (m.refused) {
            if (imp_kind_of(m.name) == IMP_XML || nested) {
                fprintf(stderr, "dinoseek uspto: %s: %s\n", source, m.refused);
                t->failed++;
            }
            continue;
        }
        if (!nested && imp_kind_of(m.name) != IMP_XML)
            continue;
        void *data = NULL;
        size_t len = 0;
        if (arc_read(r, &data, &len, &err) != 0) {
            fprintf(stderr, "dinoseek uspto: %s: %s\n", source, err.msg);
            t->failed++;
            return; /* the reader cannot go on after a failed read */
        }
        arc_reader *inner = NULL;
        if (!nested) {
            parse_buffer(t, source, data, len);
        } else if (arc_open_memory(data, len, NULL, &inner, &err) == 0) {
            parse_archive(t, inner, source, depth + 1);
            arc_close(inner);
        } else {
            fprintf(stderr, "dinoseek uspto: %s: %s\n", source, err.msg);
            t->failed++;
        }
        free(data);
    }
    if (rc < 0) {
        fprintf(stderr, "dinoseek uspto: %s: %s\n", origin, err.msg);
        t->failed++;
    }
}

/* Map the file and parse every document in it. */
static void parse_file(tally *t, const char *path)
{
    if (is_archive(path)) {
        arc_reader *r = NULL;
        ds_err err = {0};
        if (arc_open_file(path, NULL, &r, &err) != 0) {
            fprintf(stderr, "dinoseek uspto: %s: %s\n", path, err.msg);
            t->failed++;
            return;
        }
        parse_archive(t, r, path, 0);
        arc_close(r);
        return;
    }
    t->file = path;
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        fprintf(stderr, "dinoseek uspto: %s: %s\n", path, strerror(errno));
        t->failed++;
        if (fd >= 0)
            close(fd);
        return;
    }
    if (!S_ISREG(st.st_mode)) { /* a regular file: it is mapped */
        fprintf(stderr, "dinoseek uspto: %s: not a regular file\n", path);
        t->failed++;
        close(fd);
        return;
    }
    void *map = NULL;
    if (st.st_size > 0) {
        map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            fprintf(stderr, "dinoseek uspto: %s: %s\n", path, strerror(errno));
            t->failed++;
            close(fd);
            return;
        }
        madvise(map, (size_t)st.st_size, MADV_SEQUENTIAL);
    }
    close(fd);
    size_t size = map ? (size_t)st.st_size : 0;
    parse_buffer(t, path, map, size);
    if (map)
        munmap(map, size);
}

static void summary(const tally *t)
{
    long skipped = t->sequences;
    for (int i = 0; i <= US_OTHER; i++)
        skipped += t->skipped[i];
    fprintf(stderr, "dinoseek uspto: %ld documents, %ld design, %ld skipped", t->documents,
            t->design, skipped);
    const char *sep = " (";
    for (int i = 0; i <= US_OTHER; i++)
        if (t->skipped[i]) {
            fprintf(stderr, "%s%ld %s", sep, t->skipped[i], us_type_name((us_type)i));
            sep = ", ";
        }
    if (t->sequences)
        fprintf(stderr, "%s%ld sequence listing%s", sep, t->sequences, t->sequences > 1 ? "s" : "");
    fprintf(stderr, "%s, %ld failed\n", skipped ? ")" : "", t->failed);
}

static int do_parse(int argc, char **argv)
{
    static const struct option opts[] = {{"all", no_argument, 0, 'a'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    tally t = {0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'a': t.all = 1; break;
        case 'h': return usage(stdout, 0);
        default: return usage(stderr, 2);
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "dinoseek uspto parse: name at least one file\n");
        return usage(stderr, 2);
    }
    for (int i = optind; i < argc; i++)
        parse_file(&t, argv[i]);
    summary(&t);
    return t.failed ? 1 : 0;
}

int cmd_uspto(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr, 2);
    const char *action = argv[1];
    if (strcmp(action, "--help") == 0 || strcmp(action, "-h") == 0)
        return usage(stdout, 0);
    if (strcmp(action, "parse") == 0)
        return do_parse(argc - 1, argv + 1);
    fprintf(stderr, "dinoseek uspto: unknown action '%s'\n", action);
    return usage(stderr, 2);
}
