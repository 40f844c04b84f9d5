/* test_milvus_v2.c - the Milvus client's REST v2 dialect, against a double
 * of Milvus 2.4/2.5's RESTful v2 API built from Milvus's documentation
 * (tests/peers/milvus_v2_double.py: its header names the pages). The real
 * Milvus the tests install (2.3.5) serves v1 only, so this is where v2 is
 * checked: the double refuses any request whose shape the documentation
 * does not allow (missing or unknown keys, wrong types) the way Milvus
 * refuses one, so a client that sends a wrong shape fails here.
 *
 * The first test starts the double, the last stops it; without it, the
 * tests in between say why and skip.
 */
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../http_client.h"
#include "../server_helper.h"
#include "../suites.h"
#include "milvus/expr.h"
#include "milvus/milvus.h"

#define DOUBLE "tests/peers/milvus_v2_double.py"
#define COLL "patents_v2"
#define OTHER "other_ip"
#define DIM 32
#define ROWS 60                 /* the seed's pattern, row for row */
#define TOKEN "root:Milvus"

typedef struct v2double {
    pid_t pid;
    int port;
    char url[64];
    char portfile[512];
} v2double;

static v2double dbl;            /* the double most tests talk to */
static mv_client *client;
static json_t *row_ids;         /* ids of the ROWS seed rows, in row order */
static json_t *hostile_ids;     /* ids of the hostile rows, in order */
static int64_t total;           /* rows the collection holds */

#define NEED_DOUBLE()                                                                    \
    do {                                                                                 \
        if (!client)                                                                     \
            SKIP("the v2 double is not running");                                        \
    } while (0)

/* ---- the double ---------------------------------------------------------- */

static int double_start(v2double *d, const char *token)
{
    static int n;
    memset(d, 0, sizeof *d);
    snprintf(d->portfile, sizeof d->portfile, "%s/v2double-%d.port", ds_test_tmpdir, ++n);
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "exec /usr/bin/python3 " DOUBLE " %s %s", d->portfile,
             token ? token : "");
    d->pid = fork();
    if (d->pid == 0) {
        ds_test_tie_to_runner();
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100; i++) {
        char *text = ds_test_read_file(d->portfile, NULL);
        d->port = text ? atoi(text) : 0;
        free(text);
        if (d->port > 0) {
            snprintf(d->url, sizeof d->url, "http://127.0.0.1:%d", d->port);
            return 0;
        }
        usleep(100000);
    }
    kill(d->pid, SIGKILL);
    waitpid(d->pid, NULL, 0);
    d->pid = 0;
    return -1;
}

static void double_stop(v2double *d)
{
    if (d->pid > 0) {
        kill(d->pid, SIGKILL);
        waitpid(d->pid, NULL, 0);
        d->pid = 0;
    }
}

/* The double's own view (GET /_double/state, not Milvus's API). */
static json_t *double_state(void)
{
    ds_reply r = ds_http(dbl.port, "GET", "/_double/state", NULL, NULL, NULL, 0, NULL);
    json_t *s = r.status == 200 ? json_incref(r.json) : NULL;
    ds_reply_free(&r);
    return s;
}

/* Requests the double refused so far (-1: it did not say). */
static int refusals(void)
{
    json_t *s = double_state();
    int n = s ? (int)json_integer_value(json_object_get(s, "refused")) : -1;
    json_decref(s);
    return n;
}

/* What the double refused last and why (the end of its log), for a
 * failing check. */
static void show_refusals(void)
{
    char path[600];
    snprintf(path, sizeof path, "%s.log", dbl.portfile);
    size_t n = 0;
    char *log = ds_test_read_file(path, &n);
    fprintf(stderr, "    the double refused (latest last):\n%s\n",
            log ? log + (n > 3000 ? n - 3000 : 0) : "(nothing)");
    free(log);
}

#define CHECK_NO_NEW_REFUSALS(before)                                                    \
    do {                                                                                 \
        int now_ = refusals();                                                           \
        CHECKF(now_ == (before), "the double refused %d request(s) of the client",       \
               now_ - (before));                                                         \
        if (now_ != (before))                                                            \
            show_refusals();                                                             \
    } while (0)

/* A raw request to the double: its JSON answer (caller decrefs). */
static json_t *raw_post(const char *path, const char *body, const char *header, long *status)
{
    ds_reply r = ds_http(dbl.port, "POST", path, NULL, "application/json", body, strlen(body),
                         header);
    json_t *out = json_incref(r.json);
    if (status)
        *status = r.status;
    ds_reply_free(&r);
    return out;
}

/* ---- the seed's schema and rows ----------------------------------------- */

/* The seed's design_patents_full schema (tests/peers/seed_milvus.py, and
 * seed_schema() in src/engine/store_milvus.c): auto-id INT64 "id", the
 * vector after file_path, dynamic fields on; IVF_FLAT nlist 128, COSINE. */
static void seed_schema(mv_schema *s, int dim)
{
    static const struct {
        const char *name;
        mv_type type;
        int max_length;
    } f[] = {{"patent_id", MV_VARCHAR, 64},       {"image_index", MV_INT16, 0},
             {"file_name", MV_VARCHAR, 256},      {"file_path", MV_VARCHAR, 512},
             {"embedding", MV_FLOAT_VECTOR, 0},   {"title", MV_VARCHAR, 500},
             {"loc_class", MV_VARCHAR, 20},       {"loc_edition", MV_VARCHAR, 10},
             {"pub_date", MV_INT64, 0},           {"filing_date", MV_INT64, 0},
             {"grant_term", MV_INT16, 0},         {"applicant_name", MV_VARCHAR, 256},
             {"applicant_country", MV_VARCHAR, 10}, {"inventor_names", MV_VARCHAR, 500},
             {"assignee_name", MV_VARCHAR, 256},  {"claim_text", MV_VARCHAR, 500},
             {"image_count", MV_INT16, 0},        {"created_at", MV_INT64, 0}};
    memset(s, 0, sizeof *s);
    mv_field *id = &s->fields[s->n_fields++];
    snprintf(id->name, sizeof id->name, "id");
    id->type = MV_INT64;
    id->primary = id->auto_id = 1;
    for (size_t i = 0; i < sizeof f / sizeof *f; i++) {
        mv_field *m = &s->fields[s->n_fields++];
        snprintf(m->name, sizeof m->name, "%s", f[i].name);
        m->type = f[i].type;
        m->max_length = f[i].max_length;
        if (m->type == MV_FLOAT_VECTOR)
            m->dim = dim;
    }
    s->dynamic = 1;
    s->dim = dim;
    s->nlist = 128;
    snprintf(s->primary, sizeof s->primary, "id");
    snprintf(s->vector, sizeof s->vector, "embedding");
    snprintf(s->metric, sizeof s->metric, "COSINE");
}

/* A deterministic unit vector for seed n (splitmix64, Box-Muller). */
static void unit_vector(uint64_t n, int dim, float *v)
{
    uint64_t x = n * 0x9E3779B97F4A7C15ull + 12345;
    double norm = 0;
    for (int i = 0; i < dim; i++) {
        double u[2];
        for (int k = 0; k < 2; k++) {
            uint64_t z = (x += 0x9E3779B97F4A7C15ull);
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
            z ^= z >> 31;
            u[k] = ((double)(z >> 11) + 0.5) / 9007199254740992.0;
        }
        v[i] = (float)(sqrt(-2 * log(u[0])) * cos(6.283185307179586 * u[1]));
        norm += (double)v[i] * v[i];
    }
    for (int i = 0; i < dim; i++)
        v[i] = (float)(v[i] / sqrt(norm));
}

static json_t *vector_json(const float *v, int dim)
{
    json_t *a = json_array();
    for (int i = 0; i < dim; i++)
        json_array_append_new(a, json_real(v[i]));
    return a;
}

/* Row i as seed_milvus.py makes it (its vectors are its own), plus the
 * dynamic fields dinoseek adds. */
static json_t *seed_row(int i, int dim)
{
    static const char *const titles[] = {"Chair", "Lamp \"Arc\" shade", "Bottle", "Café table"};
    static const char *const locs[] = {"06-01", "26-05", "09-01", "06-03"};
    static const char *const applicants[] = {"Acme Tools Inc", "Lumen GmbH", "Glassworks"};
    static const char *const countries[] = {"US", "DE", "JP"};
    static const char *const assignees[] = {"Acme Corp", "Lumen AG", ""};
    char pid[16], file[64], path[200], page[16];
    snprintf(pid, sizeof pid, "D%07d", 1100000 + i / 3);
    snprintf(file, sizeof file, "US%s-20251230-D%05d.TIF", pid, i % 3 + 1);
    snprintf(path, sizeof path, "http://minio:9000/design-patents/design_patents/%s/%s", pid,
             file);
    snprintf(page, sizeof page, "D%05d", i % 3 + 1);
    float v[512];
    unit_vector((uint64_t)i, dim, v);
    json_t *row = json_pack(
        "{s:s,s:i,s:s,s:s,s:o,s:s,s:s,s:s,s:I,s:I,s:i,s:s,s:s,s:s,s:s,s:s,s:i,s:I,s:s}",
        "patent_id", pid, "image_index", i % 3, "file_name", file, "file_path", path,
        "embedding", vector_json(v, dim), "title", titles[i % 4], "loc_class", locs[i % 4],
        "loc_edition", "15", "pub_date", (json_int_t)(20251230 - (i % 5) * 100), "filing_date",
        (json_int_t)(20230101 + i % 7), "grant_term", 15, "applicant_name", applicants[i % 3],
        "applicant_country", countries[i % 3], "inventor_names", "Ada Lovelace, Alan Turing",
        "assignee_name", assignees[i % 3], "claim_text", "The ornamental design.",
        "image_count", 3, "created_at", (json_int_t)1767000000, "page_num", page);
    return row;
}

/* Values that try to break out of a string literal, each stored in one row
 * as its patent_id; a filter on one must find that row and no other. */
static const char *const hostile[] = {
    "x\" or id > 0 or patent_id == \"y",
    "x\\\" or id > 0 or \"\" == \"",
    "\" || true || \"",
    "D1100000\"] or id > 0 or patent_id in [\"",
    "back\\slash\\",
    "\\\\\"\\",
    "it's 'single' quoted",
    "50% off_sale",
    "Café \"ü\" \\n not a newline",
    "x",
};
#define N_HOSTILE (sizeof hostile / sizeof *hostile)
/* Countries (upper case, as the seed stores them; at most 10 bytes). */
static const char *const hostile_country[] = {"A\"B\\", "'OR'", "\\\"", "X\" OR \"Y"};
#define N_COUNTRY (sizeof hostile_country / sizeof *hostile_country)

static json_t *hostile_row(size_t k)
{
    json_t *row = seed_row((int)k, DIM);
    char file[64];
    snprintf(file, sizeof file, "hostile-%zu.TIF", k);
    json_object_set_new(row, "patent_id", json_string(hostile[k]));
    json_object_set_new(row, "file_name", json_string(file));
    json_object_set_new(row, "title", json_string(hostile[k]));
    json_object_set_new(row, "applicant_country",
                        json_string(k < N_COUNTRY ? hostile_country[k] : "ZZ"));
    json_object_set_new(row, "loc_class", json_string("99-99"));
    return row;
}

/* Rows passing filter (fields: NULL-terminated), or NULL (the test fails). */
static json_t *query(const char *coll, const char *filter, const char *const *fields, int limit,
                     int offset)
{
    json_t *rows = NULL;
    ds_err err = {0};
    if (mv_query(client, coll, filter, fields, limit, offset, &rows, &err) != 0) {
        CHECKF(0, "query \"%s\": %s", filter ? filter : "", err.msg);
        return NULL;
    }
    return rows;
}

static int64_t count(const char *filter)
{
    int64_t n = -1;
    ds_err err = {0};
    if (mv_count(client, COLL, filter, &n, &err) != 0)
        CHECKF(0, "count \"%s\": %s", filter ? filter : "", err.msg);
    return n;
}

/* The filter expr.h compiles for f (caller frees). */
static char *compiled(const cat_filter *f, const int64_t *ids, size_t n_ids)
{
    char *expr = NULL;
    int residual = 0;
    ds_err err = {0};
    if (mv_expr_compile(f, "id", ids, n_ids, &expr, &residual, &err) != 0)
        CHECKF(0, "compile: %s", err.msg);
    return expr;
}

static const char *str_of(json_t *row, const char *key)
{
    const char *s = json_string_value(json_object_get(row, key));
    return s ? s : "";
}

/* The stored vector of seed row i, read back from the double. */
static int stored_vector(int i, float *v)
{
    char filter[128];
    snprintf(filter, sizeof filter, "id == %lld",
             (long long)json_integer_value(json_array_get(row_ids, (size_t)i)));
    json_t *rows = query(COLL, filter, (const char *const[]){"embedding", NULL}, 1, 0);
    json_t *e = json_object_get(json_array_get(rows, 0), "embedding");
    int ok = json_array_size(e) == DIM;
    for (int d = 0; ok && d < DIM; d++)
        v[d] = (float)json_number_value(json_array_get(e, (size_t)d));
    json_decref(rows);
    return ok ? 0 : -1;
}

/* ---- the tests ----------------------------------------------------------- */

static void test_start(void)
{
    if (double_start(&dbl, NULL) != 0)
        SKIP("the v2 double did not start (/usr/bin/python3 " DOUBLE ")");
    mv_config cfg = {.uri = dbl.url, .timeout_ms = 10000};
    ds_err err = {0};
    CHECKF(mv_open(&cfg, &client, &err) == 0, "%s", err.msg);
    if (!client)
        return;
    /* The double has no v1 at all: auto must have found v2. */
    CHECK(mv_get_dialect(client) == MV_V2);
    CHECK(strcmp(mv_uri(client), dbl.url) == 0);
    long status = 0;
    json_t *a = raw_post("/v1/vector/collections", "{}", NULL, &status);
    CHECKF(status == 404, "/v1/ answered %ld", status);
    json_decref(a);
    /* A client told v1 finds nothing there. */
    mv_client *v1 = NULL;
    mv_config c1 = {.uri = dbl.url, .dialect = MV_V1, .retries = -1};
    json_t *names = NULL;
    CHECK(mv_open(&c1, &v1, &err) == 0);
    CHECK(v1 && mv_list(v1, &names, &err) == -1 && err.code == DS_ENOTFOUND);
    mv_close(v1);
    CHECKF(mv_ping(client, &err) == 0, "%s", err.msg);
    printf("    Milvus REST v2 double (documented 2.4/2.5 shapes) at %s\n", dbl.url);
}

static void test_create(void)
{
    NEED_DOUBLE();
    int before = refusals();
    mv_schema w;
    seed_schema(&w, DIM);
    ds_err err = {0};
    CHECKF(mv_create(client, COLL, &w, &err) == 0, "%s", err.msg);
    /* What the double made of the request: the schema field for field,
     * the index as asked (IVF_FLAT, nlist 128, COSINE), loaded. */
    json_t *s = double_state();
    json_t *c = json_object_get(json_object_get(s, "collections"), COLL);
    json_t *fields = json_object_get(c, "fields");
    CHECKF(json_array_size(fields) == 19, "%zu fields", json_array_size(fields));
    int seen = 0;
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f) {
        const char *name = str_of(f, "name"), *type = str_of(f, "type");
        const mv_field *want = mv_schema_field(&w, name);
        static const char *const names[] = {[MV_INT64] = "Int64", [MV_INT16] = "Int16",
                                            [MV_VARCHAR] = "VarChar",
                                            [MV_FLOAT_VECTOR] = "FloatVector"};
        int ok = want && strcmp(w.fields[i].name, name) == 0 && strcmp(names[want->type], type) == 0 &&
                 json_integer_value(json_object_get(f, "max_length")) == want->max_length &&
                 json_integer_value(json_object_get(f, "dim")) == want->dim &&
                 json_is_true(json_object_get(f, "primary")) == (want->primary != 0) &&
                 json_is_true(json_object_get(f, "autoId")) == (want->auto_id != 0);
        CHECKF(ok, "field %zu: %s %s", i, name, type);
        seen += ok;
    }
    CHECK(seen == 19);
    CHECK(json_is_true(json_object_get(c, "dynamic")));
    CHECK(json_is_true(json_object_get(c, "loaded")));
    json_t *ix = json_array_get(json_object_get(c, "indexes"), 0);
    CHECKF(json_array_size(json_object_get(c, "indexes")) == 1 &&
               !strcmp(str_of(ix, "fieldName"), "embedding") &&
               !strcmp(str_of(ix, "indexType"), "IVF_FLAT") &&
               !strcmp(str_of(ix, "metricType"), "COSINE") &&
               json_integer_value(json_object_get(ix, "nlist")) == 128,
           "index: %s %s %s", str_of(ix, "fieldName"), str_of(ix, "indexType"),
           str_of(ix, "metricType"));
    json_decref(s);
    /* A second collection, inner product: searches must name its metric. */
    w.dim = 4;
    w.fields[5].dim = 4;
    snprintf(w.metric, sizeof w.metric, "IP");
    CHECKF(mv_create(client, OTHER, &w, &err) == 0, "%s", err.msg);
    CHECK_NO_NEW_REFUSALS(before);
}

static void test_describe(void)
{
    NEED_DOUBLE();
    int before = refusals();
    mv_schema s;
    ds_err err = {0};
    CHECKF(mv_describe(client, COLL, &s, &err) == 0, "%s", err.msg);
    CHECK(s.n_fields == 19);
    CHECK(strcmp(s.primary, "id") == 0);
    const mv_field *f = mv_schema_field(&s, "id");
    CHECK(f && f->type == MV_INT64 && f->primary && f->auto_id);
    CHECK(strcmp(s.vector, "embedding") == 0 && s.dim == DIM);
    f = mv_schema_field(&s, "embedding");
    CHECK(f && f->type == MV_FLOAT_VECTOR && f->dim == DIM && &s.fields[5] == f);
    CHECK(strcmp(s.metric, "COSINE") == 0);
    CHECKF(strcmp(s.index_type, "IVF_FLAT") == 0, "index type \"%s\"", s.index_type);
    /* nlist: no documented v2 answer carries it (describe's indexes[] has
     * fieldName, indexName, metricType; indexes/describe adds indexType and
     * row counts), so the client cannot know it: 0, as milvus.h says. */
    CHECK(s.nlist == 0);
    CHECK(s.dynamic == 1);
    f = mv_schema_field(&s, "title");
    CHECK(f && f->type == MV_VARCHAR && f->max_length == 500 && !f->primary);
    f = mv_schema_field(&s, "patent_id");
    CHECK(f && f->type == MV_VARCHAR && f->max_length == 64);
    f = mv_schema_field(&s, "image_index");
    CHECK(f && f->type == MV_INT16);
    f = mv_schema_field(&s, "pub_date");
    CHECK(f && f->type == MV_INT64 && !f->auto_id);
    CHECK(mv_schema_field(&s, "page_num") == NULL); /* dynamic: not in the schema */
    CHECKF(mv_describe(client, OTHER, &s, &err) == 0 && !strcmp(s.metric, "IP") && s.dim == 4,
           "%s", err.msg);
    CHECK_NO_NEW_REFUSALS(before);
}

static void test_list(void)
{
    NEED_DOUBLE();
    json_t *names = NULL;
    ds_err err = {0};
    CHECKF(mv_list(client, &names, &err) == 0, "%s", err.msg);
    CHECK(json_array_size(names) == 2);
    int coll = 0, other = 0;
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v) {
        coll += !strcmp(json_string_value(v), COLL);
        other += !strcmp(json_string_value(v), OTHER);
    }
    CHECK(coll == 1 && other == 1);
    json_decref(names);
}

/* Inserts rows; the ids come back in row order (each id reads back as its
 * own row). */
static json_t *insert(json_t *rows)
{
    json_t *ids = NULL;
    ds_err err = {0};
    CHECKF(mv_insert(client, COLL, rows, &ids, &err) == 0, "%s", err.msg);
    CHECK(json_array_size(ids) == json_array_size(rows));
    return ids;
}

static void test_insert(void)
{
    NEED_DOUBLE();
    int before = refusals();
    row_ids = json_array();
    for (int start = 0; start < ROWS; start += 32) {
        json_t *rows = json_array();
        for (int i = start; i < ROWS && i < start + 32; i++)
            json_array_append_new(rows, seed_row(i, DIM));
        json_t *ids = insert(rows);
        json_array_extend(row_ids, ids);
        json_decref(ids);
        json_decref(rows);
    }
    json_t *rows = json_array();
    for (size_t k = 0; k < N_HOSTILE; k++)
        json_array_append_new(rows, hostile_row(k));
    hostile_ids = insert(rows);
    json_decref(rows);
    total = ROWS + (int64_t)N_HOSTILE;
    CHECK(json_array_size(row_ids) == ROWS && json_array_size(hostile_ids) == N_HOSTILE);
    /* Integers (Milvus sends them as strings unless asked: the client
     * turns them into numbers), distinct, and as large as Milvus's own
     * (past 2^53: a double would lose them). */
    json_t *all = json_object();
    size_t i;
    json_t *v;
    int ints = 1, big = 1;
    json_array_foreach(row_ids, i, v) {
        char key[32];
        ints &= json_is_integer(v);
        big &= json_integer_value(v) > ((json_int_t)1 << 53);
        snprintf(key, sizeof key, "%lld", (long long)json_integer_value(v));
        json_object_set_new(all, key, json_true());
    }
    CHECK(ints && big && json_object_size(all) == ROWS);
    json_decref(all);
    /* Row order: id k holds row k. */
    int in_order = 1;
    for (int k = 0; k < ROWS; k += 7) {
        char filter[64], file[64];
        json_int_t id = json_integer_value(json_array_get(row_ids, (size_t)k));
        snprintf(filter, sizeof filter, "id == %lld", (long long)id);
        json_t *got = query(COLL, filter, (const char *const[]){"file_name", NULL}, 10, 0);
        snprintf(file, sizeof file, "USD%07d-20251230-D%05d.TIF", 1100000 + k / 3, k % 3 + 1);
        in_order &= json_array_size(got) == 1 &&
                    json_integer_value(json_object_get(json_array_get(got, 0), "id")) == id &&
                    !strcmp(str_of(json_array_get(got, 0), "file_name"), file);
        json_decref(got);
    }
    CHECK(in_order);
    CHECKF(count(NULL) == total, "count %lld", (long long)count(NULL));
    CHECK_NO_NEW_REFUSALS(before);
    /* Rows Milvus refuses are refused whole, with Milvus's message. */
    ds_err err = {0};
    json_t *bad = json_array(), *ids = NULL;
    json_array_append_new(bad, seed_row(0, DIM));
    json_t *wrong = seed_row(1, DIM);
    json_object_set_new(wrong, "image_index", json_string("one"));
    json_array_append_new(bad, wrong);
    CHECK(mv_insert(client, COLL, bad, &ids, &err) == -1 && err.code == DS_EIO && !ids);
    CHECK_MSG(err, "image_index");
    json_object_del(wrong, "image_index");
    CHECK(mv_insert(client, COLL, bad, &ids, &err) == -1 && err.code == DS_EIO);
    CHECK_MSG(err, "image_index");
    json_object_set_new(wrong, "image_index", json_integer(1));
    json_object_set_new(wrong, "id", json_integer(5)); /* auto id: not given */
    CHECK(mv_insert(client, COLL, bad, &ids, &err) == -1 && err.code == DS_EIO);
    json_object_del(wrong, "id");
    json_object_set_new(wrong, "embedding", json_pack("[f,f]", 1.0, 0.0));
    CHECK(mv_insert(client, COLL, bad, &ids, &err) == -1 && err.code == DS_EIO);
    CHECK_MSG(err, "dim");
    json_decref(bad);
    CHECK(refusals() == before + 4);
    CHECK(count(NULL) == total);
}

/* Each filter field compiled by expr.h and run: every row passes, and the
 * count is what the seed's rows say it must be. */
static void test_query_filters(void)
{
    NEED_DOUBLE();
    int before = refusals();
    static const char *const fields[] = {"patent_id", "loc_class", "pub_date",
                                         "applicant_country", "page_num", NULL};
    cat_filter f = {.loc_class = "06"};
    char *e = compiled(&f, NULL, 0);
    json_t *rows = query(COLL, e, fields, 100, 0);
    CHECKF(json_array_size(rows) == ROWS / 2, "class 06: %zu", json_array_size(rows));
    int ok = 1;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
        ok &= !strncmp(str_of(r, "loc_class"), "06-", 3) &&
              json_is_integer(json_object_get(r, "id")) &&
              strlen(str_of(r, "page_num")) == 6 && !json_object_get(r, "title");
    CHECK(ok);
    CHECK(count(e) == ROWS / 2);
    json_decref(rows);
    free(e);
    f = (cat_filter){.loc_class = "26-05"};
    e = compiled(&f, NULL, 0);
    CHECK(count(e) == ROWS / 4);
    free(e);
    f = (cat_filter){.pub_date_from = "2025-11-01", .pub_date_to = "2025-12-31"};
    e = compiled(&f, NULL, 0);
    rows = query(COLL, e, fields, 100, 0);
    /* The hostile rows have the pub_dates of rows 0..9: 4 of them pass. */
    CHECKF(json_array_size(rows) == ROWS * 2 / 5 + 4, "%zu", json_array_size(rows));
    json_array_foreach(rows, i, r)
        ok &= json_integer_value(json_object_get(r, "pub_date")) >= 20251101;
    CHECK(ok);
    json_decref(rows);
    free(e);
    f = (cat_filter){.applicant_country = "de"};
    e = compiled(&f, NULL, 0);
    CHECK(count(e) == ROWS / 3);
    free(e);
    const char *pids[] = {"D1100002", "D1100005"};
    f = (cat_filter){.patent_ids = pids, .n_patent_ids = 2};
    e = compiled(&f, NULL, 0);
    CHECK(count(e) == 6);
    free(e);
    /* i % 4 == 2 and i % 3 == 2: i % 12 == 2, 5 of 60. */
    f = (cat_filter){.loc_class = "09-01", .applicant_country = "JP"};
    e = compiled(&f, NULL, 0);
    CHECK(count(e) == 5);
    free(e);
    /* Ids (past 2^53), with a field condition. */
    int64_t ids[3];
    for (int k = 0; k < 3; k++)
        ids[k] = json_integer_value(json_array_get(row_ids, (size_t)(k * 4)));
    e = compiled(NULL, ids, 3);
    CHECK(count(e) == 3);
    free(e);
    f = (cat_filter){.loc_class = "06-01"};
    e = compiled(&f, ids, 3); /* rows 0, 4, 8: all 06-01 */
    CHECK(count(e) == 3);
    free(e);
    f = (cat_filter){.loc_class = "26"};
    e = compiled(&f, ids, 3);
    CHECK(count(e) == 0);
    free(e);
    /* Every field ("*"), the vector and the dynamic ones included. */
    rows = query(COLL, "id > 0", NULL, 1, 0);
    r = json_array_get(rows, 0);
    CHECKF(json_object_size(r) == 20 && json_array_size(json_object_get(r, "embedding")) == DIM &&
               !strcmp(str_of(r, "page_num"), "D00001") && !strcmp(str_of(r, "title"), "Chair"),
           "%zu fields", json_object_size(r));
    json_decref(rows);
    /* Pages: disjoint, together every row. */
    json_t *seen = json_object();
    for (int off = 0; off < total; off += 25) {
        rows = query(COLL, "", (const char *const[]){"file_name", NULL}, 25, off);
        CHECK(json_array_size(rows) == (size_t)(total - off < 25 ? total - off : 25));
        json_array_foreach(rows, i, r)
            json_object_set_new(seen, str_of(r, "file_name"), json_true());
        json_decref(rows);
    }
    CHECK((int64_t)json_object_size(seen) == total);
    json_decref(seen);
    rows = query(COLL, NULL, (const char *const[]){"file_name", NULL}, 16384, 0);
    CHECK((int64_t)json_array_size(rows) == total);
    json_decref(rows);
    json_t *none = NULL;
    ds_err err = {0};
    CHECK(mv_query(client, COLL, "", NULL, 16384, 1, &none, &err) == -1 &&
          err.code == DS_EINVAL && !none);
    CHECK_NO_NEW_REFUSALS(before);
}

/* Quotes and backslashes in values: a filter on one matches the row that
 * holds it, exactly, and nothing else. */
static void test_hostile_strings(void)
{
    NEED_DOUBLE();
    int before = refusals();
    for (size_t k = 0; k < N_HOSTILE; k++) {
        const char *ids[] = {hostile[k]};
        cat_filter f = {.patent_ids = ids, .n_patent_ids = 1};
        char *e = compiled(&f, NULL, 0);
        json_t *rows = query(COLL, e, (const char *const[]){"patent_id", "title", NULL}, 100, 0);
        json_t *r = json_array_get(rows, 0);
        CHECKF(json_array_size(rows) == 1 && !strcmp(str_of(r, "patent_id"), hostile[k]) &&
                   !strcmp(str_of(r, "title"), hostile[k]) &&
                   json_integer_value(json_object_get(r, "id")) ==
                       json_integer_value(json_array_get(hostile_ids, k)),
               "value %zu [%s] (filter %s): %zu rows", k, hostile[k], e ? e : "",
               json_array_size(rows));
        json_decref(rows);
        free(e);
    }
    /* Each country: its own row, given in lower case as users type it. */
    for (size_t k = 0; k < N_COUNTRY; k++) {
        char lower[16];
        size_t n = strlen(hostile_country[k]);
        for (size_t j = 0; j <= n; j++)
            lower[j] = (char)(hostile_country[k][j] >= 'A' && hostile_country[k][j] <= 'Z'
                                  ? hostile_country[k][j] + 32 : hostile_country[k][j]);
        cat_filter f = {.applicant_country = lower};
        char *e = compiled(&f, NULL, 0);
        json_t *rows = query(COLL, e, (const char *const[]){"applicant_country", NULL}, 100, 0);
        CHECKF(json_array_size(rows) == 1 &&
                   !strcmp(str_of(json_array_get(rows, 0), "applicant_country"),
                           hostile_country[k]),
               "country %zu [%s]: %zu rows", k, hostile_country[k], json_array_size(rows));
        json_decref(rows);
        free(e);
    }
    /* Near misses match nothing: a value is a value, not a pattern. */
    static const char *const misses[] = {"x\"", "back\\slash", "50_ off%sale", "X",
                                         "\" or \"\" == \""};
    for (size_t k = 0; k < sizeof misses / sizeof *misses; k++) {
        const char *ids[] = {misses[k]};
        cat_filter f = {.patent_ids = ids, .n_patent_ids = 1};
        char *e = compiled(&f, NULL, 0);
        CHECKF(count(e) == 0, "miss %zu [%s]", k, misses[k]);
        free(e);
    }
    /* All of them at once: exactly those rows. */
    cat_filter f = {.patent_ids = hostile, .n_patent_ids = N_HOSTILE};
    char *e = compiled(&f, NULL, 0);
    CHECK(count(e) == (int64_t)N_HOSTILE);
    free(e);
    CHECK_NO_NEW_REFUSALS(before);
}

static void test_count(void)
{
    NEED_DOUBLE();
    CHECK(count(NULL) == total);
    CHECK(count("") == total);
    CHECK(count("image_index == 0") == ROWS / 3 + 4);  /* hostile rows 0, 3, 6, 9 */
    CHECK(count("loc_class == \"99-99\"") == (int64_t)N_HOSTILE);
    CHECK(count("page_num == \"D00003\"") == ROWS / 3 + 3);  /* a dynamic field */
    CHECK(count("not (image_index in [0, 1])") == ROWS / 3 + 3);
    CHECK(count("title like \"Lamp%\" and pub_date < 20251230") == 12);
}

static json_t *search(const char *coll, const mv_search_req *r, ds_err *err)
{
    json_t *hits = NULL;
    if (mv_search(client, coll, r, &hits, err) != 0)
        return NULL;
    return hits;
}

static int best_first(json_t *hits)
{
    double last = 2;
    int sorted = 1;
    size_t i;
    json_t *h;
    json_array_foreach(hits, i, h) {
        json_t *s = json_object_get(h, "score");
        sorted &= json_is_real(s) && json_real_value(s) <= last + 1e-6 &&
                  json_is_integer(json_object_get(h, "id")) && !json_object_get(h, "distance");
        last = json_real_value(s);
    }
    return sorted;
}

static void test_search(void)
{
    NEED_DOUBLE();
    int before = refusals();
    float v[DIM];
    if (stored_vector(7, v) != 0) {
        CHECK(!"no vector read back");
        return;
    }
    static const char *const fields[] = {"patent_id", "loc_class", "title", "page_num", NULL};
    ds_err err = {0};
    mv_search_req r = {.vector = v, .dim = DIM, .limit = 10, .fields = fields};
    json_t *hits = search(COLL, &r, &err);
    json_t *top = json_array_get(hits, 0);
    CHECKF(json_array_size(hits) == 10, "%zu hits: %s", json_array_size(hits), err.msg);
    CHECK(json_integer_value(json_object_get(top, "id")) ==
          json_integer_value(json_array_get(row_ids, 7)));
    CHECK(json_real_value(json_object_get(top, "score")) > 0.999);
    CHECK(!strcmp(str_of(top, "patent_id"), "D1100002") && !strcmp(str_of(top, "title"), "Café table") &&
          !strcmp(str_of(top, "page_num"), "D00002"));
    CHECK(!json_object_get(top, "file_path") && !json_object_get(top, "embedding"));
    CHECK(best_first(hits));
    /* The next page continues the first. */
    r.limit = 5;
    r.offset = 5;
    json_t *page = search(COLL, &r, &err);
    int same = json_array_size(page) == 5;
    for (size_t i = 0; same && i < 5; i++)
        same = json_integer_value(json_object_get(json_array_get(page, i), "id")) ==
               json_integer_value(json_object_get(json_array_get(hits, i + 5), "id"));
    CHECK(same);
    json_decref(page);
    json_decref(hits);
    /* Filtered, with nprobe (searchParams: the collection's metric). */
    cat_filter f = {.loc_class = "06"};
    char *e = compiled(&f, NULL, 0);
    r = (mv_search_req){.vector = v, .dim = DIM, .limit = 50, .filter = e, .fields = fields,
                        .nprobe = 16};
    hits = search(COLL, &r, &err);
    CHECKF(json_array_size(hits) == ROWS / 2, "class 06: %zu (%s)", json_array_size(hits),
           err.msg);
    int pass = 1;
    size_t i;
    json_t *h;
    json_array_foreach(hits, i, h)
        pass &= !strncmp(str_of(h, "loc_class"), "06-", 3);
    CHECK(pass && best_first(hits));
    json_decref(hits);
    free(e);
    /* No output fields: the id and the score. */
    r = (mv_search_req){.vector = v, .dim = DIM, .limit = 3};
    hits = search(COLL, &r, &err);
    CHECK(json_array_size(hits) == 3 && json_object_size(json_array_get(hits, 0)) == 2);
    json_decref(hits);
    /* The field and metric given: the same answer. */
    r = (mv_search_req){.vector = v, .dim = DIM, .limit = 3, .nprobe = 8,
                        .anns_field = "embedding", .metric = "COSINE"};
    hits = search(COLL, &r, &err);
    CHECKF(json_array_size(hits) == 3 &&
               json_integer_value(json_object_get(json_array_get(hits, 0), "id")) ==
                   json_integer_value(json_array_get(row_ids, 7)),
           "%s", err.msg);
    json_decref(hits);
    /* An inner-product collection: nprobe goes with its metric, IP. */
    json_t *rows = json_array();
    for (int k = 0; k < 4; k++) {
        json_t *row = seed_row(k, 4);
        json_object_set_new(row, "embedding",
                            json_pack("[f,f,f,f]", k == 0 ? 1.0 : 0.1, k == 1 ? 2.0 : 0.1,
                                      k == 2 ? 3.0 : 0.1, k == 3 ? 4.0 : 0.1));
        json_array_append_new(rows, row);
    }
    json_t *ids = NULL;
    CHECKF(mv_insert(client, OTHER, rows, &ids, &err) == 0, "%s", err.msg);
    json_decref(rows);
    float q[4] = {0, 0, 1, 0};
    r = (mv_search_req){.vector = q, .dim = 4, .limit = 4, .nprobe = 4};
    hits = search(OTHER, &r, &err);
    CHECKF(json_array_size(hits) == 4 &&
               json_integer_value(json_object_get(json_array_get(hits, 0), "id")) ==
                   json_integer_value(json_array_get(ids, 2)) &&
               fabs(json_real_value(json_object_get(json_array_get(hits, 0), "score")) - 3.0) < 1e-5,
           "IP search: %s", err.msg);
    json_decref(hits);
    json_decref(ids);
    CHECK_NO_NEW_REFUSALS(before);
    /* What Milvus refuses reaches the caller with its message. */
    r = (mv_search_req){.vector = q, .dim = 4, .limit = 4, .nprobe = 4, .metric = "COSINE"};
    CHECK(!search(OTHER, &r, &err) && err.code == DS_EIO);
    CHECK_MSG(err, "metric type not match");
    r = (mv_search_req){.vector = v, .dim = DIM, .limit = 3, .nprobe = 129};
    CHECK(!search(COLL, &r, &err) && err.code == DS_EIO);
    CHECK_MSG(err, "nprobe");
    r = (mv_search_req){.vector = v, .dim = DIM, .limit = 3, .anns_field = "title"};
    CHECK(!search(COLL, &r, &err) && err.code == DS_EIO);
    r = (mv_search_req){.vector = v, .dim = DIM - 1, .limit = 3};
    CHECK(!search(COLL, &r, &err) && err.code == DS_EIO);
    CHECK(refusals() == before + 4);
    r = (mv_search_req){.vector = v, .dim = DIM, .limit = 0};
    CHECK(!search(COLL, &r, &err) && err.code == DS_EINVAL);
    r = (mv_search_req){.vector = v, .dim = DIM, .limit = 16000, .offset = 385};
    CHECK(!search(COLL, &r, &err) && err.code == DS_EINVAL);
}

/* One hit per patent: distinct, best first, each its patent's best. */
static void test_search_grouped(void)
{
    NEED_DOUBLE();
    int before = refusals();
    float v[DIM];
    if (stored_vector(10, v) != 0) {
        CHECK(!"no vector read back");
        return;
    }
    static const char *const fields[] = {"patent_id", "loc_class", NULL};
    ds_err err = {0};
    /* Every hit, ungrouped: the reference. */
    mv_search_req r = {.vector = v, .dim = DIM, .limit = 100, .fields = fields};
    json_t *all = search(COLL, &r, &err);
    CHECKF(json_array_size(all) == (size_t)total, "%s", err.msg);
    for (int filtered = 0; filtered < 2; filtered++) {
        cat_filter f = {.loc_class = "06"};
        char *e = filtered ? compiled(&f, NULL, 0) : NULL;
        r = (mv_search_req){.vector = v, .dim = DIM, .limit = 7, .fields = fields,
                            .group_by = "patent_id", .filter = e, .nprobe = 16};
        json_t *hits = search(COLL, &r, &err);
        CHECKF(json_array_size(hits) == 7, "grouped%s: %zu (%s)", filtered ? ", 06" : "",
               json_array_size(hits), err.msg);
        CHECK(best_first(hits));
        /* The reference's first hit of each patent, in order. */
        json_t *seen = json_object();
        size_t i, at = 0;
        json_t *h;
        int same = 1;
        json_array_foreach(all, i, h) {
            const char *pid = str_of(h, "patent_id");
            if (json_object_get(seen, pid) ||
                (filtered && strncmp(str_of(h, "loc_class"), "06-", 3)))
                continue;
            json_object_set_new(seen, pid, json_true());
            if (at < 7)
                same &= json_integer_value(json_object_get(h, "id")) ==
                        json_integer_value(json_object_get(json_array_get(hits, at), "id"));
            at++;
        }
        CHECK(same);
        json_object_clear(seen);
        int distinct = 1;
        json_array_foreach(hits, i, h) {
            distinct &= !json_object_get(seen, str_of(h, "patent_id"));
            json_object_set_new(seen, str_of(h, "patent_id"), json_true());
        }
        CHECK(distinct);
        json_decref(seen);
        json_decref(hits);
        free(e);
    }
    json_decref(all);
    /* More groups than there are: every patent once. */
    r = (mv_search_req){.vector = v, .dim = DIM, .limit = 1000, .fields = fields,
                        .group_by = "patent_id"};
    json_t *hits = search(COLL, &r, &err);
    CHECKF(json_array_size(hits) == ROWS / 3 + N_HOSTILE, "%zu", json_array_size(hits));
    json_decref(hits);
    CHECK_NO_NEW_REFUSALS(before);
    /* A dynamic field holds JSON: Milvus does not group by it. */
    r.group_by = "page_num";
    CHECK(!search(COLL, &r, &err) && err.code == DS_EIO);
}

static void test_delete(void)
{
    NEED_DOUBLE();
    int before = refusals();
    int64_t del[2] = {json_integer_value(json_array_get(row_ids, 3)),
                      json_integer_value(json_array_get(row_ids, 4))};
    ds_err err = {0};
    CHECKF(mv_delete_ids(client, COLL, del, 2, &err) == 0, "%s", err.msg);
    total -= 2;
    CHECK(count(NULL) == total);
    char *e = compiled(NULL, del, 2);
    CHECK(count(e) == 0);
    free(e);
    int64_t keep[2] = {json_integer_value(json_array_get(row_ids, 2)),
                       json_integer_value(json_array_get(row_ids, 5))};
    e = compiled(NULL, keep, 2);
    CHECK(count(e) == 2);
    free(e);
    CHECK(mv_delete_ids(client, COLL, del, 0, &err) == 0); /* nothing to do: no request */
    CHECKF(mv_delete_ids(client, COLL, del, 2, &err) == 0, "again: %s", err.msg);
    CHECK(count(NULL) == total);
    CHECK_NO_NEW_REFUSALS(before);
}

static void test_errors(void)
{
    NEED_DOUBLE();
    ds_err err = {0};
    mv_schema s;
    json_t *rows = NULL;
    int64_t n = 0;
    CHECK(mv_describe(client, "no_such_collection", &s, &err) == -1 && err.code == DS_ENOTFOUND);
    CHECK_MSG(err, "no_such_collection");
    CHECK(mv_query(client, "no_such_collection", "id > 0", NULL, 10, 0, &rows, &err) == -1 &&
          err.code == DS_ENOTFOUND);
    CHECK(mv_count(client, "no_such_collection", NULL, &n, &err) == -1 &&
          err.code == DS_ENOTFOUND);
    float v[DIM] = {1};
    mv_search_req r = {.vector = v, .dim = DIM, .limit = 3};
    CHECK(!search("no_such_collection", &r, &err) && err.code == DS_ENOTFOUND);
    r.anns_field = "embedding";
    CHECK(!search("no_such_collection", &r, &err) && err.code == DS_ENOTFOUND);
    json_t *one = json_array();
    json_array_append_new(one, seed_row(0, DIM));
    CHECK(mv_insert(client, "no_such_collection", one, NULL, &err) == -1 &&
          err.code == DS_ENOTFOUND);
    json_decref(one);
    int64_t id = 1;
    CHECK(mv_delete_ids(client, "no_such_collection", &id, 1, &err) == -1 &&
          err.code == DS_ENOTFOUND);
    CHECK(mv_drop(client, "no_such_collection", &err) == 0);
    /* A filter Milvus cannot parse: its message. */
    CHECK(mv_query(client, COLL, "title ==", NULL, 10, 0, &rows, &err) == -1 &&
          err.code == DS_EIO);
    CHECK_MSG(err, "cannot parse expression");
    CHECK(mv_query(client, COLL, "no_field == 1 and title == 3", NULL, 10, 0, &rows, &err) == -1 &&
          err.code == DS_EIO);
    /* A token: sent as "Authorization: Bearer ...", never shown. */
    v2double locked;
    if (double_start(&locked, TOKEN) != 0) {
        CHECK(!"the double with a token did not start");
        return;
    }
    mv_client *c = NULL;
    mv_config cfg = {.uri = locked.url, .retries = -1};
    CHECK(mv_open(&cfg, &c, &err) == -1 && err.code == DS_EIO && !c);
    CHECK_MSG(err, "authenticated");
    cfg.token = "root:wrong";
    CHECK(mv_open(&cfg, &c, &err) == -1 && err.code == DS_EIO && !strstr(err.msg, "wrong"));
    cfg.token = TOKEN;
    json_t *names = NULL;
    CHECKF(mv_open(&cfg, &c, &err) == 0 && mv_get_dialect(c) == MV_V2, "%s", err.msg);
    CHECK(c && mv_list(c, &names, &err) == 0 && json_array_size(names) == 0);
    json_decref(names);
    mv_close(c);
    double_stop(&locked);
}

/* The double itself holds the line: a request of the wrong shape is refused
 * as Milvus refuses one (so the client's passing requests mean something). */
static void test_wrong_shapes_refused(void)
{
    NEED_DOUBLE();
    static const struct {
        const char *path, *body, *says;
    } bad[] = {
        {"/v2/vectordb/entities/search",
         "{\"collectionName\":\"" COLL "\",\"data\":[[1,0]],\"limit\":3}", "annsField"},
        {"/v2/vectordb/entities/search",
         "{\"collectionName\":\"" COLL "\",\"data\":[[1,0]],\"annsField\":\"embedding\","
         "\"topk\":3}", "topk"},
        {"/v2/vectordb/entities/query", "{\"collectionName\":\"" COLL "\",\"limit\":3}",
         "filter"},
        {"/v2/vectordb/entities/query",
         "{\"collectionName\":\"" COLL "\",\"filter\":\"\",\"limit\":\"3\"}", "limit"},
        {"/v2/vectordb/collections/describe", "{\"name\":\"" COLL "\"}", "name"},
        {"/v2/vectordb/entities/delete", "{\"collectionName\":\"" COLL "\",\"id\":[1]}", "id"},
        {"/v2/vectordb/collections/create",
         "{\"collectionName\":\"x\",\"schema\":{\"fields\":[{\"fieldName\":\"id\","
         "\"dataType\":\"Int64\",\"isPrimary\":true},{\"fieldName\":\"v\",\"dataType\":"
         "\"FloatVector\",\"elementTypeParams\":{\"dim\":4}}]},\"indexParams\":[{\"fieldName\":"
         "\"v\",\"indexName\":\"v\",\"metricType\":\"COSINE\",\"params\":{\"nlist\":8}}]}",
         "index_type"},
        {"/v2/vectordb/entities/insert", "{\"collectionName\":\"" COLL "\",\"rows\":[]}", "rows"},
    };
    int before = refusals();
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        long status = 0;
        json_t *a = raw_post(bad[i].path, bad[i].body, NULL, &status);
        const char *msg = json_string_value(json_object_get(a, "message"));
        CHECKF(status == 200 && json_integer_value(json_object_get(a, "code")) != 0 && msg &&
                   strstr(msg, bad[i].says),
               "%s %s: %ld %s", bad[i].path, bad[i].body, status, msg ? msg : "(no message)");
        json_decref(a);
    }
    CHECK(refusals() == before + (int)(sizeof bad / sizeof *bad));
    /* Ids are strings unless asked for as numbers (Accept-Type-Allow-Int64). */
    json_t *row = seed_row(0, DIM);
    for (int asked = 0; asked < 2; asked++) {
        json_t *body = json_pack("{s:s,s:[O]}", "collectionName", COLL, "data", row);
        char *text = json_dumps(body, JSON_COMPACT);
        json_t *a = raw_post("/v2/vectordb/entities/insert", text,
                             asked ? "Accept-Type-Allow-Int64: true" : NULL, NULL);
        json_t *id = json_array_get(json_object_get(json_object_get(a, "data"), "insertIds"), 0);
        CHECK(asked ? json_is_integer(id) : json_is_string(id));
        json_decref(a);
        free(text);
        json_decref(body);
        total++;
    }
    json_decref(row);
    CHECK(count(NULL) == total);
}

/* ---- dinoseek serve on the double ---------------------------------------- */

#define SERVED "served_v2"
#define FIRST_LAMP "USD1100000-20251230-D00002.TIF" /* row 1: a lamp, 26-05 */

static ds_server srv;


static ds_reply search_by_name(const char *q)
{
    char path[1200];
    snprintf(path, sizeof path,
             "/api/search?collection=" SERVED "&image=" FIRST_LAMP "&min_score=-1&%s", q);
    return ds_http(srv.port, "POST", path, NULL, NULL, NULL, 0, NULL);
}

/* The seed's rows in a 384-d collection (the test model's), made through
 * the v2 API, served by `dinoseek serve --index milvus`. */
static void test_serve(void)
{
    NEED_DOUBLE();
    if (!ds_test_model_dir())
        SKIP("no model");
    int before = refusals();
    mv_schema w;
    seed_schema(&w, 384);
    ds_err err = {0};
    CHECKF(mv_create(client, SERVED, &w, &err) == 0, "%s", err.msg);
    json_t *rows = json_array();
    for (int i = 0; i < ROWS; i++) {
        json_t *row = seed_row(i, 384);
        json_object_del(row, "page_num"); /* as pymilvus wrote them */
        json_array_append_new(rows, row);
    }
    json_t *ids = NULL;
    CHECKF(mv_insert(client, SERVED, rows, &ids, &err) == 0, "%s", err.msg);
    json_decref(ids);
    json_decref(rows);
    char extra[300];
    snprintf(extra, sizeof extra, "--index milvus --milvus-uri %s --collection " SERVED, dbl.url);
    if (ds_server_start(&srv, "served", extra) != 0) {
        CHECK(!"dinoseek serve --index milvus did not start on the v2 double");
        return;
    }
    ds_reply r = search_by_name("top_k=5");
    json_t *top = json_array_get(ds_reply_results(&r), 0);
    CHECKF(r.status == 200 && json_array_size(ds_reply_results(&r)) == 5, "%ld %.300s", r.status,
           r.body);
    CHECK(top && !strcmp(str_of(top, "file_name"), FIRST_LAMP) &&
          json_real_value(json_object_get(top, "score")) > 0.999);
    CHECK(top && !strcmp(str_of(top, "title"), "Lamp \"Arc\" shade") &&
          !strcmp(str_of(top, "loc_class"), "26-05") &&
          json_integer_value(json_object_get(top, "pub_date")) == 20251130 &&
          !strcmp(str_of(top, "applicant_name"), "Lumen GmbH") &&
          !strcmp(str_of(top, "page_num"), "D00002"));
    ds_reply_free(&r);
    r = search_by_name("top_k=7&group_by_patent=true");
    CHECKF(r.status == 200 && json_array_size(ds_reply_results(&r)) == 7, "grouped: %.300s", r.body);
    json_t *seen = json_object();
    size_t i;
    json_t *g;
    json_array_foreach(ds_reply_results(&r), i, g) {
        const char *pid = str_of(g, "patent_id");
        CHECK(*pid && !json_object_get(seen, pid));
        json_object_set_new(seen, pid, json_true());
    }
    json_decref(seen);
    ds_reply_free(&r);
    r = search_by_name("top_k=50&loc_class=06");
    CHECKF(r.status == 200 && json_array_size(ds_reply_results(&r)) == ROWS / 2, "class 06: %zu",
           json_array_size(ds_reply_results(&r)));
    ds_reply_free(&r);
    r = ds_http(srv.port, "GET", "/api/collection/stats?collection=" SERVED, NULL, NULL, NULL, 0,
                NULL);
    CHECKF(r.status == 200 && json_integer_value(json_object_get(ds_reply_data(&r), "row_count")) ==
               ROWS && json_integer_value(json_object_get(ds_reply_data(&r), "patents")) == ROWS / 3,
           "stats: %.300s", r.body);
    ds_reply_free(&r);
    r = ds_http(srv.port, "GET", "/health", NULL, NULL, NULL, 0, NULL);
    CHECKF(r.status == 200 && !strcmp(json_string_value(json_object_get(
                                   json_object_get(r.json, "components"), "milvus")), "ok"),
           "health: %.300s", r.body);
    ds_reply_free(&r);
    CHECK_NO_NEW_REFUSALS(before);
    CHECK(ds_server_stop(&srv) == 0);
    srv.pid = 0;
}

static void test_drop(void)
{
    NEED_DOUBLE();
    int before = refusals();
    ds_err err = {0};
    mv_schema s;
    json_t *names = NULL;
    CHECKF(mv_drop(client, COLL, &err) == 0, "%s", err.msg);
    CHECK(mv_describe(client, COLL, &s, &err) == -1 && err.code == DS_ENOTFOUND);
    CHECK(mv_drop(client, COLL, &err) == 0); /* absent: 0 */
    CHECK(mv_list(client, &names, &err) == 0);
    size_t i;
    json_t *v;
    int found = 0;
    json_array_foreach(names, i, v)
        found += !strcmp(json_string_value(v), COLL);
    CHECK(found == 0 && json_array_size(names) >= 1);
    json_decref(names);
    CHECK(refusals() == before + 2); /* describe and drop of a missing collection */
}

static void test_stop(void)
{
    if (srv.pid)
        ds_server_stop(&srv);
    mv_close(client);
    client = NULL;
    json_decref(row_ids);
    json_decref(hostile_ids);
    row_ids = hostile_ids = NULL;
    if (!dbl.pid)
        SKIP("no double was started");
    double_stop(&dbl);
    CHECK(dbl.pid == 0);
}

const ds_test milvus_v2_tests[] = {
    {"the v2 double starts; auto picks REST v2", test_start},
    {"create: the seed's schema, IVF_FLAT nlist 128 COSINE", test_create},
    {"describe reads fields, dim, metric, index back", test_describe},
    {"list names the collections", test_list},
    {"insert: ids in row order, bad rows refused whole", test_insert},
    {"query with every expr.h filter, pages, fields", test_query_filters},
    {"hostile strings match exactly their own row", test_hostile_strings},
    {"count with and without filters", test_count},
    {"search: COSINE, filter, offset, nprobe, metric", test_search},
    {"search grouped by patent: distinct, best first", test_search_grouped},
    {"delete by id", test_delete},
    {"errors: missing collection, bad filter, token", test_errors},
    {"the double refuses requests of the wrong shape", test_wrong_shapes_refused},
    {"dinoseek serve --index milvus on the double", test_serve},
    {"drop", test_drop},
    {"the double stops", test_stop},
    {0},
};
