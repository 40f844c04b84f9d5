/* store_embedded.h - what the two files of the embedded store share (see
 * store.h): store_embedded.c (attach, index file, catch-up, storing) and
 * store_embedded_search.c (searching and describing). */
#ifndef DS_ENGINE_STORE_EMBEDDED_H
#define DS_ENGINE_STORE_EMBEDDED_H

#include <stdatomic.h>

#include "engine/store.h"
#include "index/index.h"

/* A collection in the SQLite catalog, searched through an in-process
 * index rebuilt from it. */
typedef struct embedded_store {
    eng_store base;              /* first: an eng_store * points here */
    idx_index *index;
    /* Freshness of the index (guarded by e->add_lock). Other processes
     * commit rows too: a search first compares the catalog's data_version
     * with the one seen last, and when it moved, adds the rows above
     * seen_id (embedded_catch_up). */
    int64_t max_id;              /* highest id the index holds: with its
                                    count, the tag its file is saved with */
    int64_t seen_id;             /* every catalog row up to here is in it */
    _Atomic int64_t data_version; /* cat_data_version when it last looked */
} embedded_store;

static inline embedded_store *embedded_of(eng_store *s) { return (embedded_store *)s; }

/* Add to the index the rows other processes committed since it last
 * looked; O(1) (one PRAGMA) when none did. Every search and stats call
 * does this first, so a search sees every row committed before it
 * started. Takes e->add_lock. */
int embedded_catch_up(embedded_store *es, ds_err *err);

/* The operations of store_embedded_search.c (store.h says what each
 * promises). */
int embedded_search(eng_store *s, const float *vecs, int n_views, const eng_query *q, int k,
                    json_t **out, int *skipped, ds_err *err);
int embedded_stats(eng_store *s, json_t **out, ds_err *err);
int embedded_loc_counts(eng_store *s, cat_loc_fn fn, void *ctx, ds_err *err);
int embedded_patent(eng_store *s, const char *patent_id, json_t **out, ds_err *err);
int embedded_text_search(eng_store *s, const struct tq_query *q, const cat_filter *f,
                         size_t offset, size_t limit, cat_text_hit **out, size_t *n,
                         int64_t *total, ds_err *err);

#endif
