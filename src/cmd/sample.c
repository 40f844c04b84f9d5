/* sample.c - `dinoseek sample generate DIR`: a synthetic week of USPTO
 * design patents (XML, G4 TIFF drawings, the weekly tar), made offline and
 * byte-for-byte reproducible from a seed. The work is sample_generate's
 * (src/sample/); this file reads the options and prints the summary. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/commands.h"
#include "sample/sample.h"

static const char usage_text[] =
    "usage: dinoseek sample generate DIR [options]\n"
    "\n"
    "Write a synthetic week of USPTO design patents into DIR, in the USPTO's own\n"
    "layouts: a folder USD0xxxxxx-YYYYMMDD/ per patent (its us-patent-grant XML\n"
    "and 1-bit CCITT G4 TIFF drawing sheets), the weekly design archive\n"
    "I{YYYYMMDD}.tar (DESIGN/USD*.ZIP), and ipgb{YYYYMMDD}.xml (every document\n"
    "concatenated). Articles of seven Locarno classes (chairs, cups, bottles,\n"
    "watches, cars, screens, lamps) are drawn from 3-D models in several views.\n"
    "The same options always give the same bytes.\n"
    "\n"
    "  --patents N      patents (default 300)\n"
    "  --seed S         random seed, a non-negative integer (default 1)\n"
    "  --views-min N    fewest views (figures) per patent (default 3)\n"
    "  --views-max N    most views per patent, at most 8 (default 7)\n"
    "  --size WxH       drawing sheet in pixels (default 850x1100: US Letter at 100 dpi)\n"
    "  --date YYYYMMDD  issue date (default 20221025, a Tuesday)\n"
    "  --first N        first patent number (default: estimated from the date,\n"
    "                   D0967598 on 20221025)\n"
    "  --no-tar         skip the weekly tar\n"
    "  --threads N      worker threads (default: one per core)\n";

static int usage(FILE *out, int status)
{
    fputs(usage_text, out);
    return status;
}

/* The whole string as a decimal integer within [lo, hi] (lo >= 0). */
static int parse_uint(const char *s, unsigned long long hi, unsigned long long *out)
{
    char *end;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    unsigned long long v;
    if (parse_uint(s, (unsigned long long)hi, &v) != 0 || v < (unsigned long long)lo)
        return -1;
    *out = (int)v;
    return 0;
}

/* "850x1100" */
static int parse_size(const char *s, int *w, int *h)
{
    char buf[32];
    const char *x = strchr(s, 'x');
    if (!x || (size_t)(x - s) >= sizeof buf)
        return -1;
    memcpy(buf, s, (size_t)(x - s));
    buf[x - s] = '\0';
    return parse_int(buf, SAMPLE_MIN_SIDE, SAMPLE_MAX_SIDE, w) == 0 &&
                   parse_int(x + 1, SAMPLE_MIN_SIDE, SAMPLE_MAX_SIDE, h) == 0
               ? 0
               : -1;
}

static int bad(const char *what)
{
    fprintf(stderr, "dinoseek sample generate: %s\n", what);
    return 2;
}

/* Returns -1 to carry on, else the exit status. */
static int parse_args(int argc, char **argv, sample_opts *o)
{
    static const struct option opts[] = {{"patents", required_argument, 0, 'n'},
                                         {"seed", required_argument, 0, 's'},
                                         {"views-min", required_argument, 0, 'v'},
                                         {"views-max", required_argument, 0, 'V'},
                                         {"size", required_argument, 0, 'z'},
                                         {"date", required_argument, 0, 'd'},
                                         {"first", required_argument, 0, 'f'},
                                         {"no-tar", no_argument, 0, 'T'},
                                         {"threads", required_argument, 0, 't'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    unsigned long long seed;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (parse_int(optarg, 1, SAMPLE_MAX_PATENTS, &o->patents) != 0)
                return bad("--patents must be an integer within 1..1000000");
            break;
        case 's':
            if (parse_uint(optarg, UINT64_MAX, &seed) != 0)
                return bad("--seed must be a non-negative integer");
            o->seed = seed;
            break;
        case 'v':
            if (parse_int(optarg, 1, SAMPLE_MAX_VIEWS, &o->views_min) != 0)
                return bad("--views-min must be an integer within 1..8");
            break;
        case 'V':
            if (parse_int(optarg, 1, SAMPLE_MAX_VIEWS, &o->views_max) != 0)
                return bad("--views-max must be an integer within 1..8");
            break;
        case 'z':
            if (parse_size(optarg, &o->width, &o->height) != 0)
                return bad("--size must be WxH, each side within 200..6000 pixels");
            break;
        case 'd':
            if (parse_int(optarg, 19760101, 20991231, &o->date) != 0)
                return bad("--date must be YYYYMMDD within 1976..2099");
            break;
        case 'f':
            if (parse_int(optarg, 100000, 9999999, &o->first) != 0)
                return bad("--first must be a patent number within 100000..9999999");
            break;
        case 'T': o->tar = 0; break;
        case 't':
            if (parse_int(optarg, 1, 1024, &o->threads) != 0)
                return bad("--threads must be an integer within 1..1024");
            break;
        case 'h': return usage(stdout, 0);
        default: return usage(stderr, 2);
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "dinoseek sample generate: name one output DIR\n");
        return usage(stderr, 2);
    }
    ds_err err = {0};
    if (sample_opts_check(o, &err) != 0)
        return bad(err.msg);
    return -1;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int do_generate(int argc, char **argv)
{
    sample_opts o;
    sample_opts_default(&o);
    int status = parse_args(argc, argv, &o);
    if (status >= 0)
        return status;
    const char *dir = argv[optind];
    /* libarchive writes ZIP times as local DOS times: pin the zone so that
     * the archives are the same bytes wherever they are made. */
    setenv("TZ", "UTC", 1);
    tzset();
    ds_err err = {0};
    sample_stats st;
    double t0 = now();
    if (sample_generate(dir, &o, &st, &err) != 0) {
        fprintf(stderr, "dinoseek sample generate: %s\n", err.msg);
        return 1;
    }
    double secs = now() - t0;
    printf("wrote %d patents (D%07d..D%07d), %d drawings, %.1f MB into %s in %.2f s\n",
           st.patents, st.first, st.last, st.images, st.bytes / 1e6, dir, secs);
    printf("  %d folders USD%07d-%08d/ .. USD%07d-%08d/\n", st.patents, st.first, o.date,
           st.last, o.date);
    printf("  %s/ipgb%08d.xml\n", dir, o.date);
    if (o.tar)
        printf("  %s/I%08d.tar (%.1f MB)\n", dir, o.date, st.tar_bytes / 1e6);
    return 0;
}

int cmd_sample(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr, 2);
    const char *action = argv[1];
    if (strcmp(action, "--help") == 0 || strcmp(action, "-h") == 0)
        return usage(stdout, 0);
    if (strcmp(action, "generate") == 0)
        return do_generate(argc - 1, argv + 1);
    fprintf(stderr, "dinoseek sample: unknown action '%s'\n", action);
    return usage(stderr, 2);
}
