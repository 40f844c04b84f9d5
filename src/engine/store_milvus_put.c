/* store_milvus_put.c - the Milvus store's writing side (store.h: known,
 * known_id, put_batch, sync): "is it there already?", and rows inserted
 * exactly once (see store_milvus.c for the visibility and retry rules). */
#include "engine/store_milvus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net/net.h"

#define INSERT_TRIES 7       /* about 60 s of backoff: a restarting Milvus */

/* ---- "is it there already?" ------------------------------------------------------ */

static const recent_row *recent_find(const milvus_store *m, const char *file_name,
                                     const char *hash)
{
    size_t n = m->n_recent < RECENT ? m->n_recent : RECENT;
    for (size_t i = 0; i < n; i++) {
        const recent_row *r = &m->recent[i];
        if ((file_name && !strcmp(r->file_name, file_name)) || (hash && !strcmp(r->sha256, hash)))
            return r;
    }
    return NULL;
}

static void recent_add(milvus_store *m, const char *file_name, const char *hash, int64_t id)
{
    recent_row *r = &m->recent[m->n_recent++ % RECENT];
    snprintf(r->file_name, sizeof r->file_name, "%s", file_name);
    snprintf(r->sha256, sizeof r->sha256, "%s", hash ? hash : "");
    r->id = id;
}

/* Whether an image is stored (store.h: known), and the id of the row that
 * says so (0 when none) into *id when id is not NULL. */
static int known_row(eng_collection *c, const char *file_name, const char *patent_id,
                     int image_index, const char *hash, cat_known *known, int64_t *id,
                     ds_err *err)
{
    eng *e = c->store->e;
    milvus_store *m = MV(c);
    *known = CAT_KNOWN_NOT;
    if (id)
        *id = 0;
    pthread_mutex_lock(&e->add_lock);
    const recent_row *r = recent_find(m, file_name, m->has_sha256 ? hash : NULL);
    if (r) {
        *known = file_name && !strcmp(r->file_name, file_name) ? CAT_KNOWN_FILE_NAME
                                                                : CAT_KNOWN_CONTENT;
        if (id)
            *id = r->id;
    }
    pthread_mutex_unlock(&e->add_lock);
    if (r)
        return 0;
    /* One query: by name, by patent and drawing number, by content. */
    char *by_name = file_name ? milvus_in_list("file_name", &file_name, 1, err) : NULL;
    char *by_patent = patent_id && milvus_holds(m, "patent_id") && milvus_holds(m, "image_index")
                          ? milvus_in_list("patent_id", &patent_id, 1, err) : NULL;
    char *by_hash = hash && m->has_sha256 ? milvus_in_list("sha256", &hash, 1, err) : NULL;
    if ((file_name && !by_name) || (!by_patent && patent_id && milvus_holds(m, "patent_id") &&
                                    milvus_holds(m, "image_index")) || (!by_hash && hash && m->has_sha256)) {
        free(by_name);
        free(by_patent);
        free(by_hash);
        return -1;
    }
    char *q = NULL;
    size_t qlen = 0;
    FILE *f = open_memstream(&q, &qlen);
    int parts = 0;
    if (f) {
        if (by_name)
            fprintf(f, "%s", by_name), parts++;
        if (by_patent)
            fprintf(f, "%s(%s and image_index == %d)", parts++ ? " or " : "", by_patent,
                    image_index);
        if (by_hash)
            fprintf(f, "%s%s", parts++ ? " or " : "", by_hash);
        fclose(f);
    }
    free(by_name);
    free(by_patent);
    free(by_hash);
    if (!q)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    if (!parts) {
        free(q);
        return 0;
    }
    json_t *rows = NULL;
    int rc = mv_query(MV(c)->client, MV(c)->name, q, m->out_fields, 4, 0, &rows, err);
    free(q);
    if (rc != 0)
        return ds_wrap(err, "Milvus: ");
    /* The strongest reason first, as the catalog answers. */
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        const char *fn = milvus_row_str(row, "file_name"), *pid = milvus_row_str(row, "patent_id");
        json_int_t idx = -1, rid = 0;
        milvus_row_int(row, "image_index", &idx);
        milvus_row_int(row, "id", &rid);
        cat_known k = file_name && fn && !strcmp(fn, file_name) ? CAT_KNOWN_FILE_NAME
                      : patent_id && pid && !strcmp(pid, patent_id) && idx == image_index
                          ? CAT_KNOWN_PATENT_INDEX
                          : CAT_KNOWN_CONTENT;
        if (*known == CAT_KNOWN_NOT || k < *known) {
            *known = k;
            if (id)
                *id = rid;
        }
    }
    json_decref(rows);
    return 0;
}

/* ---- storing ------------------------------------------------------------------- */

/* s cut to at most max bytes, on a UTF-8 character boundary (the seed
 * truncated claims to fit VARCHAR(500) too). */
static json_t *fitted(const char *s, int max)
{
    size_t n = strlen(s);
    if (max > 0 && n > (size_t)max) {
        n = (size_t)max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    return json_stringn(s, n);
}

/* A dynamic field's longest text: the seed's VARCHAR lengths bind only
 * fields of a schema, and a cut text is missed by the substring filters
 * (a long inventor list); this bound keeps a row within Milvus's limits. */
#define DYNAMIC_TEXT_MAX 8192

/* The most bytes a text field of this collection's rows holds (0: no bound
 * known). */
static int text_max(const milvus_store *m, const char *key)
{
    const mv_field *f = mv_schema_field(&m->schema, key);
    const seed_field *s = milvus_known_field(key);
    return !f ? DYNAMIC_TEXT_MAX : f->max_length ? f->max_length : s ? s->max_length : 0;
}

static void put_str(json_t *row, const milvus_store *m, const char *key, const char *v)
{
    if (!milvus_holds(m, key))
        return;
    json_object_set_new(row, key, fitted(v ? v : "", text_max(m, key)));
}

/* The fields that name a row are never cut to fit (put_str cuts only
 * descriptive text): a cut file_name no longer finds its row, so a rerun
 * stores the image again and its links point at no blob, and two patent
 * ids cut to one merge two patents. A schema's VARCHAR sizes (the seed's
 * file_name 256, patent_id 64, file_path 512; also dinoseek's own
 * collections on REST v2) refuse such an image instead. */
static int names_fit(const milvus_store *m, const eng_store_item *it, const char *key,
                     ds_err *err)
{
    const cat_patent *p = it->in.patent;
    const struct {
        const char *field, *value;
    } names[] = {{"file_name", it->in.file_name},
                 {"file_path", key},
                 {"patent_id", p && p->patent_id ? p->patent_id : it->in.patent_id}};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        if (!names[i].value || !milvus_holds(m, names[i].field))
            continue;
        int max = text_max(m, names[i].field);
        size_t len = strlen(names[i].value);
        if (max > 0 && len > (size_t)max)
            return ds_fail(err, DS_EINVAL, "%s \"%.60s...\" is %zu bytes: the Milvus "
                           "collection %s holds at most %d there", names[i].field,
                           names[i].value, len, m->name, max);
    }
    return 0;
}

static void put_int(json_t *row, const milvus_store *m, const char *key, json_int_t v)
{
    if (milvus_holds(m, key))
        json_object_set_new(row, key, json_integer(v));
}

/* The row of one item, with only the fields the collection holds, every one
 * of its schema's fields given (Milvus 2.3 has no defaults). */
static json_t *item_row(const eng_collection *c, const eng_store_item *it, const char *key)
{
    const milvus_store *m = MV(c);
    const eng_image_in *in = &it->in;
    const cat_patent *p = in->patent;
    cat_patent none = {.image_count = -1};
    if (!p)
        p = &none;
    char page[16];
    eng__page_num(in->file_name, page);
    json_t *row = json_object(), *vec = json_array();
    for (int d = 0; d < c->model->dim; d++)
        json_array_append_new(vec, json_real(it->vec[d]));
    json_object_set_new(row, m->schema.vector, vec);
    put_str(row, m, "patent_id", p->patent_id ? p->patent_id : in->patent_id);
    put_int(row, m, "image_index", in->image_index);
    put_str(row, m, "file_name", in->file_name);
    put_str(row, m, "file_path", key);
    put_str(row, m, "title", p->title);
    put_str(row, m, "loc_class", p->loc_class);
    put_str(row, m, "loc_edition", p->loc_edition);
    put_int(row, m, "pub_date", eng__yyyymmdd(p->pub_date));
    put_int(row, m, "filing_date", eng__yyyymmdd(p->filing_date));
    put_int(row, m, "grant_term", p->grant_term > 0 ? p->grant_term : 0);
    put_str(row, m, "applicant_name", p->applicant_name);
    put_str(row, m, "applicant_country", p->applicant_country);
    put_str(row, m, "inventor_names", p->inventor_names);
    put_str(row, m, "assignee_name", p->assignee_name);
    put_str(row, m, "claim_text", p->claim_text);
    put_int(row, m, "image_count", p->image_count > 0 ? p->image_count : 0);
    put_int(row, m, "created_at", (json_int_t)time(NULL));
    put_str(row, m, "page_num", page);
    put_str(row, m, "sha256", it->hash);
    put_str(row, m, "kind", p->kind);
    /* Any further field of the collection's own schema: its zero value. */
    for (int i = 0; i < m->schema.n_fields; i++) {
        const mv_field *f = &m->schema.fields[i];
        if (f->auto_id || json_object_get(row, f->name))
            continue;
        json_object_set_new(row, f->name, f->type == MV_VARCHAR ? json_string("")
                                          : f->type == MV_BOOL  ? json_false()
                                          : f->type == MV_JSON  ? json_object()
                                                                : json_integer(0));
    }
    return row;
}

/* Which of these names have rows now (a query after a failed insert). */
static int arrived(eng_collection *c, const char *const *names, size_t n,
                   json_t **rows, ds_err *err)
{
    char *q = milvus_in_list("file_name", names, n, err);
    if (!q)
        return -1;
    int rc = mv_query(MV(c)->client, MV(c)->name, q, MV(c)->out_fields, (int)(n * 2 + 8), 0, rows, err);
    free(q);
    return rc;
}

/* Items of todo whose rows are in Milvus now: their ids taken, and out of
 * todo (*n_todo shrinks). names: room for *n_todo names. */
static int take_arrived(eng_collection *c, eng_store_item *items, int *todo,
                        int *n_todo, const char **names, ds_err *err)
{
    for (int t = 0; t < *n_todo; t++)
        names[t] = items[todo[t]].in.file_name;
    json_t *found = NULL;
    if (arrived(c, names, (size_t)*n_todo, &found, err) != 0)
        return -1;
    int keep = 0;
    for (int t = 0; t < *n_todo; t++) {
        size_t i;
        json_t *row;
        int got = 0;
        json_array_foreach(found, i, row) {
            json_int_t rid;
            if (!got && !strcmp(milvus_row_str(row, "file_name") ? milvus_row_str(row, "file_name") : "",
                                names[t]) && milvus_row_int(row, "id", &rid)) {
                items[todo[t]].id = rid;
                got = 1;
            }
        }
        if (!got)
            todo[keep++] = todo[t];
    }
    json_decref(found);
    *n_todo = keep;
    return 0;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* How long after an insert was sent it may still land: Milvus keeps
 * working on a request whose client gave up, and a proxy on the way may
 * hold it; three time limits of a request, plus Milvus's bounded
 * staleness (5 s) before a query shows what landed. */
static double in_flight_ms(const eng_collection *c)
{
    return 3.0 * (double)mv_timeout_ms(MV(c)->client) + 5000;
}

/* After an insert that may have been done (sent, never answered): wait
 * until Milvus proves whether it was. Its rows found: done. Not found by a
 * query made when the insert can no longer land (sent_at + in_flight_ms):
 * lost, and the rows left in todo are inserted again. An insert is never
 * sent again while its first copy may still land: that is what makes an
 * insert land exactly once. -1 when Milvus cannot be asked for a minute
 * after that (the rows may or may not be there: the batch fails, and a
 * rerun finds what landed). */
static int settle(eng_collection *c, eng_store_item *items, int *todo, int *n_todo,
                  const char **names, double sent_at, ds_err *err)
{
    double lands_by = sent_at + in_flight_ms(c);
    for (int asked = 1;; asked++) {
        net_sleep_ms(500);
        double at = now_ms();
        ds_err q = {0};
        if (take_arrived(c, items, todo, n_todo, names, &q) == 0) {
            if (*n_todo == 0 || at >= lands_by)
                return 0;
            continue;
        }
        if (at >= lands_by + 60000) {
            *err = q;
            return ds_wrap(err, "an insert that may have landed, unconfirmed: ");
        }
        net_sleep_ms(net_backoff_ms(asked, 500, 5000));
    }
}

/* Insert the rows of the added items; their ids into items[]. After a
 * failure that surely stored nothing (no connection): wait (longer each
 * time) and insert again. After one that may have stored the rows (no
 * answer): settle() first, then insert only the rows proven absent. */
static int insert_rows(eng_collection *c, eng_store_item *items, int n,
                       char (*keys)[BLOB_KEY_MAX + 1], ds_err *err)
{
    int *todo = malloc(sizeof *todo * (size_t)n);
    const char **names = malloc(sizeof *names * (size_t)n);
    if (!todo || !names) {
        free(todo);
        free(names);
        return ds_fail(err, DS_ENOMEM, "out of memory");
    }
    int n_todo = 0, rc = 0; /* nothing to insert is done */
    for (int i = 0; i < n; i++)
        if (items[i].added)
            todo[n_todo++] = i;
    for (int attempt = 1; n_todo > 0; attempt++) {
        json_t *rows = json_array(), *ids = NULL;
        for (int t = 0; t < n_todo; t++)
            json_array_append_new(rows, item_row(c, &items[todo[t]], keys[todo[t]]));
        int maybe_done = 0;
        double sent_at = now_ms();
        rc = mv_insert_settled(MV(c)->client, MV(c)->name, rows, &ids, &maybe_done, err);
        json_decref(rows);
        if (rc == 0) {
            for (int t = 0; t < n_todo; t++)
                items[todo[t]].id = json_integer_value(json_array_get(ids, (size_t)t));
            json_decref(ids);
            break;
        }
        if (err->code != DS_ENET)
            break;
        if (maybe_done) {
            fprintf(stderr, "dinoseek: %s: insert unanswered (%s); waiting until Milvus shows "
                    "whether it landed\n", c->name, err->msg);
            if (settle(c, items, todo, &n_todo, names, sent_at, err) != 0)
                break;
            rc = 0;
            if (n_todo == 0 || attempt < INSERT_TRIES)
                continue;
            rc = ds_fail(err, DS_ENET, "Milvus: %s: insert lost %d times", c->name, attempt);
            break;
        }
        if (attempt == INSERT_TRIES)
            break;
        fprintf(stderr, "dinoseek: %s: insert failed (%s); retrying\n", c->name, err->msg);
        net_sleep_ms(net_backoff_ms(attempt, 2000, 20000));
        rc = 0;
    }
    free(todo);
    free(names);
    return rc;
}

/* Which items Milvus has already, by name or content: one query. */
static int known_batch(eng_collection *c, eng_store_item *items, int n, ds_err *err)
{
    const char **names = malloc(sizeof *names * (size_t)(n + 1));
    const char **hashes = malloc(sizeof *hashes * (size_t)(n + 1));
    int m = 0, rc = -1;
    char *a = NULL, *b = NULL, *q = NULL;
    json_t *rows = NULL;
    if (!names || !hashes) {
        ds_fail(err, DS_ENOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++)
        if (!items[i].failed) {
            names[m] = items[i].in.file_name;
            hashes[m++] = items[i].hash ? items[i].hash : "";
        }
    if (m == 0) {
        rc = 0;
        goto out;
    }
    if (!(a = milvus_in_list("file_name", names, (size_t)m, err)) ||
        (MV(c)->has_sha256 && !(b = milvus_in_list("sha256", hashes, (size_t)m, err))))
        goto out;
    if (!(q = malloc(strlen(a) + (b ? strlen(b) : 0) + 8))) {
        ds_fail(err, DS_ENOMEM, "out of memory");
        goto out;
    }
    sprintf(q, "%s%s%s", a, b ? " or " : "", b ? b : "");
    int limit = m * 4 + 8 > WINDOW ? WINDOW : m * 4 + 8;
    if (mv_query(MV(c)->client, MV(c)->name, q, MV(c)->out_fields, limit, 0, &rows, err) != 0) {
        ds_wrap(err, "Milvus: ");
        goto out;
    }
    size_t r;
    json_t *row;
    json_array_foreach(rows, r, row) {
        const char *fn = milvus_row_str(row, "file_name"), *h = milvus_row_str(row, "sha256");
        for (int i = 0; i < n; i++) {
            eng_store_item *it = &items[i];
            if (it->failed)
                continue;
            if (fn && !strcmp(fn, it->in.file_name))
                it->known = CAT_KNOWN_FILE_NAME;
            else if (h && it->hash && !strcmp(h, it->hash) && it->known == CAT_KNOWN_NOT)
                it->known = CAT_KNOWN_CONTENT;
        }
    }
    rc = 0;
out:
    free(names);
    free(hashes);
    free(a);
    free(b);
    free(q);
    json_decref(rows);
    return rc;
}

int milvus_put_batch(eng_store *s, eng_store_item *items, int n, ds_err *err)
{
    eng *e = s->e;
    eng_collection *c = s->c;
    char(*keys)[BLOB_KEY_MAX + 1] = calloc((size_t)(n > 0 ? n : 1), sizeof *keys);
    if (!keys)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    int rc = -1;
    for (int i = 0; i < n; i++) {
        eng_store_item *it = &items[i];
        it->added = it->failed = 0;
        it->id = 0;
        it->known = CAT_KNOWN_NOT;
        if (!it->in.file_name || !*it->in.file_name) {
            it->failed = 1;
            ds_fail(&it->err, DS_EINVAL, "an image needs a file name");
            continue;
        }
    }
    if (known_batch(c, items, n, err) != 0)
        goto out;
    pthread_mutex_lock(&e->add_lock);
    for (int i = 0; i < n; i++) {
        eng_store_item *it = &items[i];
        if (it->failed)
            continue;
        /* Stored meanwhile by another thread of ours? */
        if (it->known == CAT_KNOWN_NOT) {
            const recent_row *r = recent_find(MV(c), it->in.file_name,
                                              MV(c)->has_sha256 ? it->hash : NULL);
            if (r)
                it->known = !strcmp(r->file_name, it->in.file_name) ? CAT_KNOWN_FILE_NAME
                                                                    : CAT_KNOWN_CONTENT;
        }
        if (it->known == CAT_KNOWN_NOT)
            it->known = eng__repeats_earlier(items, i);
        if (it->known != CAT_KNOWN_NOT)
            continue;
        char thumb[BLOB_KEY_MAX + 1];
        if (eng__blob_keys(c, it->in.file_name, keys[i], thumb, &it->err) != 0 ||
            names_fit(MV(c), it, keys[i], &it->err) != 0) {
            it->failed = 1;
            continue;
        }
        /* The blobs first: a row never points at a missing original. A
         * batch that fails later leaves its blobs, under the keys the
         * rerun writes again. */
        if (blob_put(e->blobs, keys[i], it->in.data, it->in.len, NULL, &it->err) != 0 ||
            blob_put(e->blobs, thumb, it->thumb, it->thumb_len, "image/jpeg", &it->err) != 0) {
            it->failed = 1;
            continue;
        }
        it->added = 1;
    }
    if (insert_rows(c, items, n, keys, err) == 0) {
        /* last_ids are what milvus_sync waits for: a batch that stored
         * nothing (all failed or known) keeps the previous batch's, else
         * an import ending with such a batch returned before its rows
         * were visible. */
        int any = 0;
        for (int i = 0; i < n; i++) {
            if (!items[i].added)
                continue;
            if (!any++)
                MV(c)->n_last = 0;
            recent_add(MV(c), items[i].in.file_name, items[i].hash, items[i].id);
            if (MV(c)->n_last < 256)
                MV(c)->last_ids[MV(c)->n_last++] = items[i].id;
        }
        rc = 0;
    } else {
        for (int i = 0; i < n; i++)
            items[i].added = 0;
    }
    pthread_mutex_unlock(&e->add_lock);
out:
    free(keys);
    return rc;
}

int milvus_sync(eng_store *s, ds_err *err)
{
    eng *e = s->e;
    eng_collection *c = s->c;
    pthread_mutex_lock(&e->add_lock);
    int n = MV(c)->n_last;
    int64_t ids[256];
    memcpy(ids, MV(c)->last_ids, sizeof ids[0] * (size_t)n);
    pthread_mutex_unlock(&e->add_lock);
    if (n == 0)
        return 0;
    char *q = malloc(32 + (size_t)n * 24);
    if (!q)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    size_t o = (size_t)sprintf(q, "%s in [", MV(c)->schema.primary);
    for (int i = 0; i < n; i++)
        o += (size_t)sprintf(q + o, "%s%lld", i ? "," : "", (long long)ids[i]);
    strcpy(q + o, "]");
    /* Milvus shows writes in timestamp order: when the last batch is
     * visible, so is everything before it. */
    int rc = -1;
    for (int i = 0; i < 300; i++) { /* 30 s at most */
        int64_t seen = -1;
        if (mv_count(MV(c)->client, MV(c)->name, q, &seen, err) != 0)
            break;
        if (seen >= n) {
            rc = 0;
            break;
        }
        usleep(100000);
    }
    if (rc != 0 && err->code != DS_ENET)
        ds_fail(err, DS_ENET, "Milvus: %s: stored rows not visible after 30 s", c->name);
    free(q);
    return rc;
}

/* ---- the operations ---------------------------------------------------------- */

int milvus_known(eng_store *s, const char *file_name, const char *patent_id,
                        int image_index, const char *hash, cat_known *known, ds_err *err)
{
    return known_row(s->c, file_name, patent_id, image_index, hash, known, NULL, err);
}

/* Rows are not updated in place: a stored image keeps the patent it has. */
int milvus_known_id(eng_store *s, const eng_image_in *in, const char *hash, int64_t *id,
                           ds_err *err)
{
    cat_known again;
    return known_row(s->c, in->file_name, NULL, 0, hash, &again, id, err);
}

