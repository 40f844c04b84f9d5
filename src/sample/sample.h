/* sample.h - a synthetic week of USPTO design patents, made offline and
 * deterministically, for demos, tests and benchmarks.
 *
 * What `sample_generate` writes under DIR, in the USPTO's own layouts:
 *
 *   USD0967598-20221025/USD0967598-20221025.XML        one us-patent-grant
 *   USD0967598-20221025/USD0967598-20221025-D00001.TIF  1-bit CCITT G4 sheets
 *   ...                                                 (one folder a patent)
 *   I20221025.tar      the weekly design bulk archive: DESIGN/USD*.ZIP, each
 *                      ZIP holding the patent's folder (XML and TIFFs)
 *   ipgb20221025.xml   every document concatenated (`<?xml` back to back)
 *
 * Each patent draws an article of one Locarno class (chairs, cups, bottles,
 * watches, cars, screens, lamps) as a 3-D model with its own proportions,
 * rendered as a hidden-line drawing in several views (FIG. 1 perspective,
 * front, side, top ...). Articles of one class look alike and unlike the
 * other classes, so that searching by image means something. Names,
 * companies, places and dates come from small built-in lists.
 *
 * Determinism: the output depends only on the options, not on the thread
 * count or the time of day: every patent draws its numbers from its own
 * generator seeded by (seed, index), and patents are written in order.
 * Outside our code: ZIP members carry DOS times, which libarchive writes in
 * local time (cmd/sample.c sets TZ=UTC); and another release of zlib,
 * libvips or libm (sinf, cosf) could change some bytes.
 */
#ifndef DS_SAMPLE_H
#define DS_SAMPLE_H

#include <stdint.h>

#include "base/error.h"

#define SAMPLE_MAX_PATENTS 1000000
#define SAMPLE_MAX_VIEWS 8
#define SAMPLE_MIN_SIDE 200
#define SAMPLE_MAX_SIDE 6000
#define SAMPLE_DPI 100 /* sheet resolution written in the TIFFs and the XML sizes */

typedef struct sample_opts {
    int patents;              /* 1..SAMPLE_MAX_PATENTS (default 300) */
    uint64_t seed;            /* default 1 */
    int views_min, views_max; /* views (figures, sheets) per patent, within
                                 1..SAMPLE_MAX_VIEWS (default 3..7) */
    int width, height;        /* sheet in pixels (default 850 x 1100: US Letter
                                 at SAMPLE_DPI) */
    int date;                 /* issue date YYYYMMDD (default 20221025, a Tuesday) */
    int first;                /* first patent number; 0: estimated from the date
                                 (D967598 on 2022-10-25, ~800 a week) */
    int tar;                  /* write the weekly tar (default 1) */
    int threads;              /* worker threads; 0: one per core */
} sample_opts;

typedef struct sample_stats {
    int patents;        /* documents written */
    int images;         /* TIFF sheets written (not counting their copies in ZIPs) */
    uint64_t bytes;     /* bytes written, every file */
    uint64_t tar_bytes; /* of which the tar (0 without it) */
    int first, last;    /* patent numbers */
} sample_stats;

/* The defaults above. */
void sample_opts_default(sample_opts *o);

/* Check options: every bound above, a real calendar date. Returns 0, or -1
 * with err (DS_EINVAL) naming the option. */
int sample_opts_check(const sample_opts *o, ds_err *err);

/* Write the data set into dir (created if missing; files of the same names
 * are replaced, others left alone). Patents are made in parallel, written in
 * order. Costs 5-10 ms of CPU per sheet, half drawing, half libvips' 1-bit
 * G4 encoding; memory stays bounded (8 patents a thread in flight). st may
 * be NULL. Returns 0, or -1 with err (DS_EINVAL options, DS_EIO files,
 * DS_ENOMEM, DS_EFORMAT an encoder). Starts libvips (img_init) if needed.
 * Not to be run twice at once on the same dir. */
int sample_generate(const char *dir, const sample_opts *o, sample_stats *st, ds_err *err);

/* The catalog fields of patent `index` of the week the options describe, as
 * an import of its XML would store them, without drawing or writing
 * anything: for benchmarks of search by words over many patents (cost: a
 * few microseconds). Strings are written into the struct's own buffers. */
typedef struct sample_text {
    char patent_id[16];       /* "D0967598" */
    char title[64];           /* "Office chair" */
    char claim[224];          /* "The ornamental design for an office chair, as shown and described." */
    char applicant[128];      /* the company, or the first inventor */
    char assignee[128];       /* the company, or "" */
    char inventors[224];      /* "First Last, First Last" */
    char loc_class[8];        /* "06-01" */
} sample_text;

void sample_patent_text(const sample_opts *o, int index, sample_text *out);

#endif
