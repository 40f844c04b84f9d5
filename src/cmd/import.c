/* import.c - `dinoseek import PATH...`: fill a collection from USPTO bulk
 * data (folders of USD* folders, weekly tar of ZIPs, ZIPs, XML) and folders
 * of images. The pipeline is src/importer/; this file is its command line:
 * options, a progress bar on a terminal (log lines otherwise), Ctrl-C to
 * stop cleanly after the current batch, and the summary at the end.
 *
 * Exit status: 0 everything imported, 3 the import ran to the end but some
 * items failed (listed, and kept in the job), 1 it could not run, 2 usage.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/commands.h"
#include "cmd/common.h"
#include "importer/importer.h"

static volatile int cancel_flag;

static void on_signal(int sig)
{
    (void)sig;
    cancel_flag = 1;
    /* A second Ctrl-C stops at once. */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
}

typedef struct view {
    int tty;
    double last_line;            /* elapsed_s of the last log line */
    int bar_shown;
} view;

static void fmt_duration(double s, char *out, size_t n)
{
    if (s < 0)
        snprintf(out, n, "?");
    else if (s < 60)
        snprintf(out, n, "%.0fs", s);
    else if (s < 3600)
        snprintf(out, n, "%dm%02ds", (int)s / 60, (int)s % 60);
    else
        snprintf(out, n, "%dh%02dm", (int)s / 3600, (int)s % 3600 / 60);
}

static void on_progress(void *ctx, const imp_progress *p)
{
    view *v = ctx;
    char eta[32];
    fmt_duration(p->eta_s, eta, sizeof eta);
    if (v->tty) {
        /* Images done of those the import counted (unknown until counted). */
        double frac = p->progress >= 0 ? p->progress : 0; /* 1 once done */
        char bar[31];
        int filled = (int)(frac * 30 + 0.5);
        for (int i = 0; i < 30; i++)
            bar[i] = i < filled ? '#' : '.';
        bar[30] = 0;
        fprintf(stderr, "\r\033[K[%s] %3.0f%%  %lld done  %lld skipped  %lld failed  %.1f img/s  ETA %s",
                bar, frac * 100, (long long)p->done, (long long)p->skipped, (long long)p->failed,
                p->items_per_s, eta);
        v->bar_shown = 1;
        if (p->finished) {
            fputc('\n', stderr);
            v->bar_shown = 0;
        }
    } else if (p->finished || p->elapsed_s - v->last_line >= 5) {
        v->last_line = p->elapsed_s;
        fprintf(stderr, "dinoseek import: %lld done, %lld skipped, %lld failed, %.1f images/s, ETA %s\n",
                (long long)p->done, (long long)p->skipped, (long long)p->failed, p->items_per_s, eta);
    }
}

static void on_failure(void *ctx, const char *what, const char *reason)
{
    view *v = ctx;
    if (v->bar_shown) {
        fputs("\r\033[K", stderr);
        v->bar_shown = 0;
    }
    fprintf(stderr, "dinoseek import: failed: %s: %s\n", what, reason);
}

static void print_summary(const imp_progress *p, int dry_run)
{
    double total = p->parse_ms + p->decode_ms + p->embed_ms + p->write_ms;
    double pct = total > 0 ? 100.0 / total : 0;
    fprintf(stderr,
            "dinoseek import: %s: %lld %s, %lld skipped (already there), %lld failed; "
            "%lld design patents, %lld other documents passed over, %lld files ignored; "
            "%.1f s, %.1f images/s\n",
            p->status, (long long)p->done, dry_run ? "to import" : "stored",
            (long long)p->skipped, (long long)p->failed, (long long)p->patents,
            (long long)p->other_docs, (long long)p->ignored, p->elapsed_s,
            p->elapsed_s > 0 ? (double)p->done / p->elapsed_s : 0);
    if (p->other_shard)
        fprintf(stderr, "dinoseek import: %lld patents or images left to other shards\n",
                (long long)p->other_shard);
    if (p->absent)
        fprintf(stderr,
                "dinoseek import: %lld drawings named by weekly XML files are not beside them "
                "(their patents' data is stored; the USPTO ships a week's drawings apart: "
                "import those archives too)\n",
                (long long)p->absent);
    if (!dry_run)
        fprintf(stderr,
                "dinoseek import: time: parse %.1f s (%.0f%%), decode %.1f s (%.0f%%, CPU "
                "time over workers), embed %.1f s (%.0f%%), write %.1f s (%.0f%%)\n",
                p->parse_ms / 1e3, p->parse_ms * pct, p->decode_ms / 1e3, p->decode_ms * pct,
                p->embed_ms / 1e3, p->embed_ms * pct, p->write_ms / 1e3, p->write_ms * pct);
    if (p->job)
        fprintf(stderr, "dinoseek import: job %lld\n", (long long)p->job);
}

/* "I/N", 0 <= I < N. */
static int parse_shard(const char *s, int *i, int *n)
{
    char *end = NULL;
    long a = strtol(s, &end, 10);
    if (end == s || *end != '/')
        return -1;
    const char *rest = end + 1;
    long b = strtol(rest, &end, 10);
    if (end == rest || *end || b < 1 || b > 1000000 || a < 0 || a >= b)
        return -1;
    *i = (int)a;
    *n = (int)b;
    return 0;
}

static const char usage[] =
    "usage: dinoseek import PATH... [--collection NAME] [options] [engine options]\n"
    "\n"
    "Import design patents and images into a collection. PATH may be:\n"
    "  a folder of USD* folders (each with its XML and TIFF drawings), searched\n"
    "    recursively; XML files, archives and images found inside are imported\n"
    "  a weekly design bulk archive (I20221025.tar of DESIGN/USD*.ZIP), any ZIP or tar\n"
    "  a USPTO grant XML file (one document or a weekly concatenation)\n"
    "  a folder of images, or one image: the file name is the id; a metadata.csv or\n"
    "    metadata.json at the folder's root (or --metadata) gives patent fields\n"
    "Rerunning an import skips what is already stored, so an interrupted import\n"
    "(Ctrl-C, a crash, a power cut) is finished by running it again.\n"
    "\n"
    "  --dry-run           parse and count only; store nothing\n"
    "  --batch N           images per forward pass and transaction (default 32)\n"
    "  --workers N         decoding threads (default: one per core)\n"
    "  --metadata FILE     CSV or JSON describing plain images (file_name, patent_id,\n"
    "                      and the patent fields by the seed's names)\n"
    "  --metadata-only     store the patents of XML files without looking for their\n"
    "                      drawings (bibliographic files, e.g. ipgb20221025.xml)\n"
    "  --shard I/N         import only part I of N (0 <= I < N): N machines given the\n"
    "                      same sources and one Milvus + S3 store disjoint parts whose\n"
    "                      union is the whole; a patent's drawings stay together\n"
    "\n"
    "Exit status: 0 all imported, 3 finished with some failures, 1 could not run.\n\n";

int cmd_import(int argc, char **argv)
{
    static const struct option opts[] = {
        CMD_ENGINE_LONG_OPTIONS,
        {"config", required_argument, 0, 'C'},   {"dry-run", no_argument, 0, 'n'},
        {"batch", required_argument, 0, 'b'},    {"workers", required_argument, 0, 'w'},
        {"metadata", required_argument, 0, 'm'}, {"metadata-only", no_argument, 0, 'M'},
        {"shard", required_argument, 0, 's'},    {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    cmd_engine_opts eo;
    imp_options io = {0};
    int c, index;
    if (cmd_config_load(argc, argv, cmd_known_settings, "import") != 0)
        return 2;
    if (cmd_engine_defaults(&eo) != 0)
        return 2;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, &index)) != -1) {
        char *end = NULL;
        switch (c) {
        case 1:
            if (cmd_engine_option(&eo, "import", opts[index].name, optarg) < 0)
                return 2;
            break;
        case 'C': break;
        case 'n': io.dry_run = 1; break;
        case 'm': io.metadata = optarg; break;
        case 'M': io.metadata_only = 1; break;
        case 's':
            if (parse_shard(optarg, &io.shard, &io.shards) != 0) {
                fprintf(stderr, "dinoseek import: --shard wants I/N with 0 <= I < N, e.g. 0/4\n");
                return 2;
            }
            break;
        case 'b':
        case 'w': {
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > (c == 'b' ? 256 : 64)) {
                fprintf(stderr, "dinoseek import: --%s must be 1..%d\n",
                        c == 'b' ? "batch" : "workers", c == 'b' ? 256 : 64);
                return 2;
            }
            if (c == 'b')
                io.batch = (int)v;
            else
                io.workers = (int)v;
            break;
        }
        case 'h': printf("%s%s", usage, cmd_engine_help); return 0;
        default: fprintf(stderr, "%s%s", usage, cmd_engine_help); return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "dinoseek import: name at least one folder, archive or file\n");
        return 2;
    }
    io.paths = (const char *const *)argv + optind;
    io.n_paths = argc - optind;
    io.collection = eo.cfg.collection;
    view v = {.tty = isatty(2)};
    io.progress = on_progress;
    io.on_failure = on_failure;
    io.progress_ctx = &v;
    io.cancel = &cancel_flag;

    eng *e = NULL;
    if (!io.dry_run && !(e = cmd_open_engine(&eo, "import")))
        return 1;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    imp_progress sum;
    ds_err err = {0};
    int rc = imp_run(e, &io, &sum, &err);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (rc != 0)
        fprintf(stderr, "dinoseek import: %s\n", err.msg);
    else
        print_summary(&sum, io.dry_run);
    eng_close(e);
    if (rc != 0)
        return 1;
    return sum.failed ? 3 : 0;
}
