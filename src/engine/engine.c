/* engine.c - opening, collections, models, embedding and adding images (see
 * engine.h; where rows and vectors live: store.h). */
#include "engine/store.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/sha256.h"
#include "base/str.h"
#include "model/fingerprint.h"
#include "model/ops.h"

double eng_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int ensure_dir(const char *path, ds_err *err)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return ds_fail(err, DS_EIO, "cannot create %s: %s", path, strerror(errno));
    return 0;
}

static const char *preprocess_name(img_mode mode) { return mode == IMG_SEED ? "seed" : "native"; }

/* Whether a model running in `run` may serve vectors made in `made`: the
 * same precision, or f32 for one this CPU lacks (choose_precision's
 * fallback, said at start). */
static int precision_serves(const char *made, gemm_precision run)
{
    int p;
    if (!strcmp(made ? made : "f32", gemm_precision_name(run)))
        return 1;
    return run == GEMM_F32 && made && gemm_precision_parse(made, &p) == 0 && p != GEMM_AUTO &&
           !gemm_precision_available((gemm_precision)p, NULL, 0);
}

/* The loaded model that made a collection: the same weights (model id),
 * dimension, input size, preprocessing and precision, so that its vectors
 * and the new ones come from one pipeline; or NULL. *legacy says the
 * collection records only the architecture (made before model ids carried
 * the weights' fingerprint) and was matched by it. */
static eng_model *model_of(eng *e, const cat_collection *c, int *legacy)
{
    for (int i = 0; i < e->n_models; i++) {
        eng_model *m = &e->models[i];
        const vit_config *vc = vit_get_config(m->vit);
        if (m->dim != c->dimension || img_input_size(&m->img) != c->input_size ||
            !c->preprocess || strcmp(c->preprocess, preprocess_name(m->img.mode)) != 0 ||
            !precision_serves(c->precision, m->precision))
            continue;
        *legacy = !vc->generated && strcmp(c->model, vc->name) == 0;
        if (*legacy || strcmp(c->model, m->id) == 0)
            return m;
    }
    return NULL;
}

/* A collection recorded with the architecture alone (before model ids
 * carried the weights' fingerprint) is bound to the first weights of that
 * architecture that open it: they record their id, and from then on other
 * weights are refused (docs/operations.md). Said once. */
static int adopt_legacy_id(eng *e, const char *collection, const char *legacy, const char *id,
                           ds_err *err)
{
    int changed = cat_collection_rename_model(e->db, collection, legacy, id, err);
    if (changed > 0)
        fprintf(stderr, "dinoseek: collection %s recorded only the architecture %s; it now "
                "records the weights that opened it, %s\n", collection, legacy, id);
    return changed < 0 ? -1 : 0;
}

/* Fill the next slot with catalog collection cc, served by model m, and
 * count it (n_colls last: readers never see a half-filled slot). */
static int attach_collection(eng *e, const cat_collection *cc, eng_model *m, ds_err *err)
{
    eng_collection *c = &e->colls[e->n_colls];
    c->id = cc->id;
    c->model = m;
    if (ds_snprintf(c->name, sizeof c->name, err, "%s", cc->name) != 0 ||
        eng__store_attach(e, c, err) != 0)
        return -1;
    e->n_colls++;
    return 0;
}

/* Attach the catalog's collections that another process made after this
 * one opened (`dinoseek import --collection new` while a server runs):
 * without this they would answer 404 until a restart though their rows are
 * committed. Those recorded by the architecture alone are left to a start,
 * which adopts them (adopt_legacy_id). */
static int attach_new_collections(eng *e, ds_err *err)
{
    cat_collection *list = NULL;
    size_t n = 0;
    pthread_mutex_lock(&e->colls_lock);
    int rc = cat_collection_list(e->db, &list, &n, err);
    for (size_t i = 0; i < n && rc == 0; i++) {
        int known = 0, legacy = 0;
        for (int j = 0; j < e->n_colls && !known; j++)
            known = e->colls[j].id == list[i].id;
        eng_model *m = known ? NULL : model_of(e, &list[i], &legacy);
        if (m && !legacy && e->n_colls < ENG_MAX_COLLECTIONS)
            rc = attach_collection(e, &list[i], m, err);
    }
    cat_collection_list_free(list, n);
    pthread_mutex_unlock(&e->colls_lock);
    return rc;
}

/* Whether every part of the engine can use a collection name: it fits an
 * eng_collection, makes valid blob keys, and suits the backend (a Milvus
 * name after the prefix). Checked before the catalog records a name: a
 * recorded name that the blob store or Milvus refuses made every later
 * `serve` and `import` of the data directory fail while loading the
 * collections (one mistyped --collection was enough). */
static int check_collection_name(const eng *e, const char *name, ds_err *err)
{
    char key[BLOB_KEY_MAX + 1];
    size_t n = strlen(name);
    if (n == 0 || n >= sizeof e->colls[0].name)
        return ds_fail(err, DS_EINVAL, "collection name '%.60s%s': 1 to %zu bytes", name,
                       n > 60 ? "..." : "", sizeof e->colls[0].name - 1);
    if (ds_snprintf(key, sizeof key, err, "thumbnails/%s/x.jpg", name) != 0 ||
        blob_key_check(key, err) != 0)
        return ds_wrap(err, "collection name '%.60s' (its blob keys): ", name);
    return eng__store_check_name(e, name, err);
}

/* Register every catalog collection made with one of the loaded models. */
static int load_collections(eng *e, const char *default_name, ds_err *err)
{
    cat_collection *list = NULL;
    size_t n = 0;
    if (cat_collection_list(e->db, &list, &n, err) != 0)
        return -1;
    int rc = 0;
    e->default_coll = -1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        int legacy = 0;
        eng_model *m = model_of(e, &list[i], &legacy);
        if (!m || e->n_colls == ENG_MAX_COLLECTIONS)
            continue; /* made with a model not loaded: not searchable now */
        ds_err bad = {0};
        if (check_collection_name(e, list[i].name, &bad) != 0) {
            /* Recorded before names were checked; it never held an image
             * this engine could have stored, and must not keep the
             * others from being served. */
            fprintf(stderr, "dinoseek: %s: not served\n", bad.msg);
            continue;
        }
        if (legacy && adopt_legacy_id(e, list[i].name, list[i].model, m->id, err) != 0) {
            rc = -1;
            break;
        }
        rc = attach_collection(e, &list[i], m, err);
        if (rc == 0 && strcmp(list[i].name, default_name) == 0)
            e->default_coll = e->n_colls - 1;
    }
    cat_collection_list_free(list, n);
    if (rc == 0 && e->default_coll < 0)
        rc = ds_fail(err, DS_ENOTFOUND, "collection %s was not loaded", default_name);
    return rc;
}

eng_collection *eng_find(eng *e, const char *name, ds_err *err)
{
    if (!name || !*name)
        return &e->colls[e->default_coll];
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < e->n_colls; i++)
            if (strcmp(e->colls[i].name, name) == 0)
                return &e->colls[i];
        /* Not among those attached: maybe made by another process since. */
        ds_err ignored = {0};
        if (pass == 0 && attach_new_collections(e, &ignored) != 0)
            fprintf(stderr, "dinoseek: looking for new collections: %s\n", ignored.msg);
    }
    ds_fail(err, DS_ENOTFOUND, "no collection called '%s' (or its model is not loaded)", name);
    return NULL;
}

int eng__attach_new_collections(eng *e, ds_err *err) { return attach_new_collections(e, err); }

/* ---- open and close ----------------------------------------------------- */

/* The model id the catalog records with a collection, so that vectors of
 * different weights are never mixed: the architecture and the start of the
 * sha256 of the weights (64 bits: two sets of weights of one architecture,
 * a fine-tune and its original, have the same config.json); for generated
 * weights their seed and the generator's version, which fix every byte.
 * Two settings of config.json change the vectors of the same weights without changing any tensor's
 * shape: the LayerNorm epsilon and the number of attention heads. Where
 * they differ from the architecture's own (or there is no such
 * architecture: dinov2-custom), the id says them, e.g.
 * "dinov2-small@sha256:...+heads12+eps0.001"; an edited config.json is
 * then refused like other weights. Standard configs keep the plain id, so
 * collections already made keep opening. */
static int model_id(const char *dir, const vit_config *vc, char *out, size_t n, ds_err *err)
{
    char hex[DS_SHA256_HEXLEN + 1];
    if (vc->generated) {
        /* Since issue #19 the generator chooses other values for the same
         * seed: its version joins the id, so that a collection made with
         * the old weights is not extended with the new ones. */
        if (vc->generator >= 2)
            snprintf(out, n, "generated/%s-seed%lld-gen%d", vc->name, vc->generated_seed,
                     vc->generator);
        else
            snprintf(out, n, "generated/%s-seed%lld", vc->name, vc->generated_seed);
        return 0;
    }
    if (mdl_weights_sha256(dir, hex, err) != 0)
        return -1;
    vit_config std;
    ds_err none = {0};
    const char *arch = strncmp(vc->name, "dinov2-", 7) == 0 ? vc->name + 7 : vc->name;
    int standard = vit_config_arch(arch, &std, &none) == 0 && std.num_heads == vc->num_heads &&
                   std.layer_norm_eps == vc->layer_norm_eps;
    if (standard)
        return ds_snprintf(out, n, err, "%s@sha256:%.16s", vc->name, hex);
    /* The epsilon in the fewest digits that give back the same float the
     * forward pass uses ("0.001", not "0.00100000005"). */
    char eps[32];
    for (int digits = 6; digits <= 9; digits++) {
        snprintf(eps, sizeof eps, "%.*g", digits, (double)vc->layer_norm_eps);
        if (strtof(eps, NULL) == vc->layer_norm_eps)
            break;
    }
    return ds_snprintf(out, n, err, "%s@sha256:%.16s+heads%d+eps%s", vc->name, hex,
                       vc->num_heads, eps);
}

/* The precision to run `collection` in (see eng_config.precision). *check
 * says whether the collection's recorded precision must then match: not
 * when a collection made in bf16 meets a CPU without bf16 units, where it
 * is searched and extended in f32 (the two agree to a cosine >= 0.9999;
 * docs/architecture.md), said once. */
static int choose_precision(eng *e, const char *asked, img_mode mode, const char *collection,
                            gemm_precision *out, int *check, ds_err *err)
{
    int p;
    char why[256];
    *check = 1;
    if (!asked)
        asked = mode == IMG_SEED ? "f32" : "auto";
    if (gemm_precision_parse(asked, &p) != 0)
        return ds_fail(err, DS_EINVAL, "precision '%s': want f32, bf16, bf16x2, int8 or auto",
                       asked);
    if (p != GEMM_AUTO) {
        if (!gemm_precision_available((gemm_precision)p, why, sizeof why))
            return ds_fail(err, DS_EUNSUPPORTED, "precision %s: %s", asked, why);
        *out = (gemm_precision)p;
        return 0;
    }
    cat_collection c = {0};
    ds_err look = {0};
    *out = gemm_precision_auto();
    if (cat_collection_get(e->db, collection, &c, &look) == 0) {
        int made = GEMM_F32;
        gemm_precision_parse(c.precision, &made);
        if (made != GEMM_AUTO && gemm_precision_available((gemm_precision)made, why, sizeof why)) {
            *out = (gemm_precision)made;
        } else {
            fprintf(stderr, "dinoseek: collection %s was made in %s, but %s; it is searched and "
                    "extended in f32\n", collection, c.precision, why);
            *out = GEMM_F32;
            *check = 0;
        }
        cat_collection_clear(&c);
    }
    return 0;
}

/* collection=a,b searches several collections (engine.h): a new name with
 * a comma would make such a list ambiguous. A name recorded before this
 * rule is still served, and still searched whole. */
static int new_name_check(const eng *e, const char *name, ds_err *err)
{
    cat_collection found = {0};
    ds_err absent = {0};
    if (!strchr(name, ','))
        return 0;
    if (cat_collection_get(e->db, name, &found, &absent) == 0) {
        cat_collection_clear(&found);
        return 0;
    }
    return ds_fail(err, DS_EINVAL, "collection name '%.60s': no ',' (collection=a,b searches "
                   "several collections at once, so a comma would make such a list ambiguous)",
                   name);
}

/* Create the collection for loaded model m, or check that it was made with
 * it (adopting an id recorded before fingerprints, once the weights have
 * loaded: broken weights claim nothing). */
static int ensure_collection(eng *e, const char *collection, const eng_model *m,
                             const char *prec_name, ds_err *err)
{
    const vit_config *vc = vit_get_config(m->vit);
    /* The comma first: a rule of every backend, whose reason says more
     * than a backend's own alphabet. */
    if (new_name_check(e, collection, err) != 0 || check_collection_name(e, collection, err) != 0)
        return -1;
    if (!vc->generated && adopt_legacy_id(e, collection, vc->name, m->id, err) != 0)
        return -1;
    return cat_collection_ensure(e->db, collection, m->id, m->dim, img_input_size(&m->img),
                                 preprocess_name(m->img.mode), prec_name, NULL, err);
}

/* Load a model (unless already loaded) and make sure its collection exists
 * in the catalog. */
static int open_model(eng *e, const char *dir, img_mode mode, int size, const char *precision,
                      const char *collection, ds_err *err)
{
    vit_config vc;
    char id[256];
    gemm_precision prec = GEMM_F32;
    int check = 1;
    size = mode == IMG_SEED ? 224 : size > 0 ? size : 224;
    if (vit_config_load(dir, &vc, err) != 0 ||
        choose_precision(e, precision, mode, collection, &prec, &check, err) != 0)
        return -1;
    const char *prec_name = check ? gemm_precision_name(prec) : NULL;
    if (model_id(dir, &vc, id, sizeof id, err) != 0)
        return -1;
    /* The same weights with the same preprocessing and precision are loaded
     * once, however many collections they serve. */
    for (int i = 0; i < e->n_models; i++) {
        eng_model *m = &e->models[i];
        if (!strcmp(m->id, id) && m->img.mode == mode && img_input_size(&m->img) == size &&
            m->precision == prec)
            return ensure_collection(e, collection, m, prec_name, err);
    }
    if (e->n_models == ENG_MAX_MODELS)
        return ds_fail(err, DS_EINVAL, "at most %d models", ENG_MAX_MODELS);
    eng_model *m = &e->models[e->n_models];
    if (vit_open(dir, &m->vit, err) != 0)
        return -1;
    e->n_models++;
    if (prec != GEMM_F32 && vit_set_precision(m->vit, prec, err) != 0)
        return -1;
    m->precision = prec;
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->changed, NULL);
    m->dim = vit_get_config(m->vit)->hidden_size;
    snprintf(m->id, sizeof m->id, "%s", id);
    img_opts_default(&m->img);
    m->img.mode = mode;
    m->img.size = size;
    m->batch_px = malloc(sizeof(float) * ENG_MAX_BATCH * 3 * (size_t)size * (size_t)size);
    m->batch_vec = malloc(sizeof(float) * ENG_MAX_BATCH * (size_t)m->dim);
    if (!m->batch_px || !m->batch_vec)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    return ensure_collection(e, collection, m, prec_name, err);
}

static int open_parts(eng *e, const eng_config *cfg, ds_err *err)
{
    char path[4200];
    if (ensure_dir(e->data_dir, err) != 0)
        return -1;
    if (ds_snprintf(path, sizeof path, err, "%s/adds.lock", e->data_dir) != 0)
        return -1;
    e->store_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (e->store_fd < 0)
        return ds_fail(err, DS_EIO, "cannot open %s: %s", path, strerror(errno));
    if (ds_snprintf(path, sizeof path, err, "%s/index", e->data_dir) != 0 ||
        ensure_dir(path, err) != 0 || img_init(NULL, err) != 0)
        return -1;
    if (ds_snprintf(path, sizeof path, err, "%s/blobs", e->data_dir) != 0 ||
        (!cfg->blobs && ensure_dir(path, err) != 0))
        return -1;
    if (blob_open(cfg->blobs ? cfg->blobs : path, &cfg->s3, &e->blobs, err) != 0)
        return ds_wrap(err, "blob store: ");
    /* Two processes creating the catalog at once collide in SQLite's switch
     * to WAL mode ("database is locked", no busy wait there): opening it
     * holds the data directory's store lock. */
    if (eng__lock_stores(e, err) != 0)
        return -1;
    int opened = cat_open(e->data_dir, &e->db, err);
    eng__unlock_stores(e);
    if (opened != 0)
        return -1;
    /* Where the collections' rows and vectors live: chosen here, once. */
    if ((cfg->index == ENG_INDEX_MILVUS
             ? eng__milvus_open(&cfg->milvus, cfg->milvus_prefix, &e->backend, err)
             : eng__embedded_open(cfg->index, &e->backend, err)) != 0)
        return -1;
    const char *name = cfg->collection ? cfg->collection : ENG_DEFAULT_COLLECTION;
    if (open_model(e, cfg->model_dir, cfg->preprocess, cfg->input_size, cfg->precision, name,
                   err) != 0)
        return -1;
    for (int i = 0; i < cfg->n_extra; i++)
        if (open_model(e, cfg->extra[i].model_dir, cfg->extra[i].preprocess, 224,
                       cfg->precision, cfg->extra[i].collection, err) != 0)
            return ds_wrap(err, "collection %s: ", cfg->extra[i].collection);
    ops_set_threads(cfg->threads > 0 ? cfg->threads : ops_max_threads());
    return load_collections(e, name, err);
}

int eng_open(const eng_config *cfg, eng **out, ds_err *err)
{
    *out = NULL;
    if (!cfg->model_dir)
        return ds_fail(err, DS_EINVAL, "no model directory given");
    eng *e = calloc(1, sizeof *e);
    if (!e)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    pthread_mutex_init(&e->add_lock, NULL);
    pthread_mutex_init(&e->store_lock, NULL);
    pthread_mutex_init(&e->colls_lock, NULL);
    e->store_fd = -1;
    if (ds_snprintf(e->data_dir, sizeof e->data_dir, err, "%s",
                    cfg->data_dir ? cfg->data_dir : "./data") != 0) {
        ds_wrap(err, "data directory: "); /* cut, it would be another directory */
        eng_close(e);
        return -1;
    }
    if (open_parts(e, cfg, err) != 0) {
        eng_close(e);
        return -1;
    }
    *out = e;
    return 0;
}

void eng_close(eng *e)
{
    if (!e)
        return;
    for (int i = 0; i < e->n_colls; i++)
        eng__store_detach(&e->colls[i]);
    if (e->backend)
        e->backend->m->close(e->backend);
    cat_close(e->db);
    blob_free(e->blobs);
    pthread_mutex_destroy(&e->add_lock);
    pthread_mutex_destroy(&e->store_lock);
    pthread_mutex_destroy(&e->colls_lock);
    if (e->store_fd >= 0)
        close(e->store_fd);
    for (int i = 0; i < e->n_models; i++) {
        vit_close(e->models[i].vit);
        free(e->models[i].batch_px);
        free(e->models[i].batch_vec);
        pthread_mutex_destroy(&e->models[i].lock);
        pthread_cond_destroy(&e->models[i].changed);
    }
    free(e);
}

const char *eng_default_collection(const eng *e) { return e->colls[e->default_coll].name; }
int eng_generated_weights(const eng *e) { return vit_get_config(e->models[0].vit)->generated; }

/* ---- embedding -------------------------------------------------------- */

/* Run the oldest waiting jobs (up to ENG_MAX_BATCH) as one batch. Called
 * with m->lock held and !m->busy; returns with it held. */
static void run_batch(eng_model *m)
{
    eng_job *jobs[ENG_MAX_BATCH];
    int n = 0, size = img_input_size(&m->img);
    size_t per = (size_t)3 * size * size;
    m->busy = 1;
    while (m->head && n < ENG_MAX_BATCH) {
        jobs[n++] = m->head;
        m->head = m->head->next;
    }
    if (!m->head)
        m->tail = NULL;
    pthread_mutex_unlock(&m->lock);
    for (int i = 0; i < n; i++)
        memcpy(m->batch_px + per * (size_t)i, jobs[i]->px, sizeof(float) * per);
    ds_err err = {0};
    int rc = vit_embed(m->vit, m->batch_px, n, size, m->batch_vec, &err);
    for (int i = 0; i < n && rc == 0; i++)
        memcpy(jobs[i]->vec, m->batch_vec + (size_t)m->dim * i, sizeof(float) * (size_t)m->dim);
    pthread_mutex_lock(&m->lock);
    for (int i = 0; i < n; i++) {
        jobs[i]->rc = rc;
        jobs[i]->err = err;
        jobs[i]->done = 1;
    }
    m->busy = 0;
    pthread_cond_broadcast(&m->changed);
}

int eng__embed_px(eng_model *m, const float *px, float *vec, ds_err *err)
{
    /* Queue the image; whoever finds the model idle runs the oldest waiting
     * images as one batch, until ours is done. */
    eng_job job = {.px = px, .vec = vec};
    pthread_mutex_lock(&m->lock);
    if (m->tail)
        m->tail->next = &job;
    else
        m->head = &job;
    m->tail = &job;
    while (!job.done) {
        if (!m->busy)
            run_batch(m);
        else
            pthread_cond_wait(&m->changed, &m->lock);
    }
    pthread_mutex_unlock(&m->lock);
    if (job.rc != 0)
        *err = job.err;
    return job.rc;
}

int eng_embed(eng_model *m, const void *data, size_t len, const img_opts *opts, float *vec,
              double *decode_ms, double *embed_ms, ds_err *err)
{
    int size = img_input_size(&m->img);
    float *px = malloc(sizeof(float) * 3 * (size_t)size * (size_t)size);
    if (!px)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    double t0 = eng_now_ms();
    int rc = img_preprocess_buffer(data, len, opts ? opts : &m->img, px, err);
    if (rc != 0 && (err->code == DS_EFORMAT || err->code == DS_EUNSUPPORTED))
        err->code = DS_EMEDIA; /* the upload's fault, not the server's */
    double t1 = eng_now_ms();
    if (rc == 0)
        rc = eng__embed_px(m, px, vec, err);
    if (decode_ms)
        *decode_ms = t1 - t0;
    if (embed_ms)
        *embed_ms = eng_now_ms() - t1;
    free(px);
    return rc;
}

/* ---- adding one image ---------------------------------------------------
 * The batch path of batch.c with a batch of one, embedded through the
 * model's queue so that concurrent uploads share forward passes. */

/* Whether the image stored under file_name has content other than hash: a
 * different image under a name already taken. What cannot be told counts
 * as the same content. */
static int holds_other_content(eng_collection *c, const char *file_name, const char *hash,
                               int *other, ds_err *err)
{
    char stored[DS_SHA256_HEXLEN + 1] = "";
    *other = 0;
    if (eng__store_stored_hash(c, file_name, stored, err) != 0)
        return -1;
    *other = stored[0] && strcmp(stored, hash) != 0;
    return 0;
}

/* The answer for an image already stored: its id, or DS_EEXIST when its
 * name is taken by other content (an upload must not pass for stored when
 * what is served under its name is another image). */
static int answer_known(eng_collection *c, const eng_image_in *in, const char *hash,
                        cat_known known, int64_t *id_out, ds_err *err)
{
    int other = 0;
    if (known == CAT_KNOWN_FILE_NAME &&
        holds_other_content(c, in->file_name, hash, &other, err) != 0)
        return -1;
    if (other)
        return ds_fail(err, DS_EEXIST, "file name '%s' is already stored with other content "
                       "(choose another name)", in->file_name);
    int64_t id = 0;
    if (eng__store_known_id(c, in, hash, &id, err) != 0)
        return -1;
    if (id_out)
        *id_out = id;
    return 0;
}

int eng_image_name(eng *e, const char *collection, int64_t id, char *out, size_t n,
                   ds_err *err)
{
    eng_collection *c = eng_find(e, collection, err);
    return c ? eng__store_image_name(c, id, out, n, err) : -1;
}

int eng_add(eng *e, const char *collection, const eng_image_in *in, int64_t *id_out, int *added,
            ds_err *err)
{
    eng_collection *c = eng_find(e, collection, err);
    *added = 0;
    if (!c || !in->file_name || !*in->file_name)
        return c ? ds_fail(err, DS_EINVAL, "an image needs a file name") : -1;
    /* A name no blob key can hold is refused whatever is stored. */
    char orig[BLOB_KEY_MAX + 1], thumb[BLOB_KEY_MAX + 1];
    if (eng__blob_keys(c, in->file_name, orig, thumb, err) != 0)
        return -1;
    char hash[DS_SHA256_HEXLEN + 1];
    uint8_t digest[DS_SHA256_LEN];
    ds_sha256_buf(in->data, in->len, digest);
    ds_sha256_hex(digest, hash);

    /* Known already: skip before paying for a decode and a forward pass. */
    cat_known known = CAT_KNOWN_NOT;
    if (eng__store_known(c, in->file_name, NULL, 0, hash, &known, err) != 0)
        return -1;
    if (known != CAT_KNOWN_NOT)
        return answer_known(c, in, hash, known, id_out, err);

    eng_prepared prep = {0};
    float *vec = malloc(sizeof(float) * (size_t)c->model->dim);
    int rc = -1;
    if (!vec) {
        ds_fail(err, DS_ENOMEM, "out of memory");
        goto out;
    }
    if (eng_prepare(e, c->name, in->data, in->len, &prep, err) != 0 ||
        eng__embed_px(c->model, prep.px, vec, err) != 0)
        goto out;
    eng_store_item item = {.in = *in, .hash = hash, .thumb = prep.thumb,
                           .thumb_len = prep.thumb_len, .vec = vec};
    if (eng__lock_stores(e, err) != 0)
        goto out;
    int stored = eng__store_put_batch(c, &item, 1, err);
    /* Answered once searches see it (at once embedded; on Milvus, after
     * a wait), and before another process may ask whether the name is
     * taken. */
    if (stored == 0 && item.added)
        stored = eng__store_sync(c, err);
    eng__unlock_stores(e);
    if (stored != 0)
        goto out;
    if (item.failed) {
        *err = item.err;
        goto out;
    }
    *added = item.added;
    if (!item.added && answer_known(c, in, hash, item.known, &item.id, err) != 0)
        goto out;
    if (id_out)
        *id_out = item.id;
    rc = 0;
out:
    eng_prepared_clear(&prep);
    free(vec);
    return rc;
}

void eng_health_get(eng *e, eng_health *h)
{
    h->model = e->n_models > 0;
    ds_err err = {0};
    cat_stats st;
    h->catalog = e->db && cat_stats_get(e->db, e->colls[e->default_coll].id, &st, &err) == 0;
    blob_info info;
    ds_err missing = {0};
    h->blobs_kind = blob_store_kind(e->blobs);
    h->blobs_error[0] = h->index_error[0] = '\0';
    /* A key no blob has: "not found" is the healthy answer. */
    h->blobs = e->blobs && (blob_head(e->blobs, "health-check-none", &info, &missing) == 0 ||
                            missing.code == DS_ENOTFOUND);
    if (!h->blobs)
        snprintf(h->blobs_error, sizeof h->blobs_error, "%s", missing.msg);
    eng__store_health(&e->colls[e->default_coll], h);
}
