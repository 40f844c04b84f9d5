/* db.c - opening the catalog, the schema migrations, the statement cache,
 * batches and the shared helpers (see catalog.h). */
#include "catalog/catalog_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* PRAGMA application_id of a dinoseek catalog: "dskc" = 0x64736b63 (the
 * migration below spells it in decimal). */
#define CAT_APPLICATION_ID 1685285731

/* migrations[v] takes the schema from version v to v + 1; each runs in one
 * transaction together with the user_version bump. Append only: a released
 * entry is never edited. */
static const char *const migrations[CAT_SCHEMA_VERSION] = {
    /* 0 -> 1: the first schema. */
    "PRAGMA application_id = 1685285731;\n" /* CAT_APPLICATION_ID */
    "CREATE TABLE collections (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  name TEXT NOT NULL UNIQUE,\n"
    "  model TEXT NOT NULL,\n"
    "  dimension INTEGER NOT NULL CHECK (dimension > 0),\n"
    "  input_size INTEGER NOT NULL,\n"
    "  preprocess TEXT NOT NULL,\n"
    "  created_at INTEGER NOT NULL\n"
    ");\n"
    "CREATE TABLE patents (\n"
    "  collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,\n"
    "  patent_id TEXT NOT NULL,\n"
    "  kind TEXT,\n"
    "  title TEXT,\n"
    "  loc_class TEXT,\n"
    "  loc_edition TEXT,\n"
    "  pub_date TEXT,\n"
    "  filing_date TEXT,\n"
    "  grant_term INTEGER,\n"
    "  applicant_name TEXT,\n"
    "  applicant_country TEXT,\n"
    "  inventor_names TEXT,\n"
    "  assignee_name TEXT,\n"
    "  claim_text TEXT,\n"
    "  image_count INTEGER,\n"
    "  updated_at INTEGER NOT NULL,\n"
    "  PRIMARY KEY (collection_id, patent_id)\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX patents_loc ON patents(collection_id, loc_class);\n"
    "CREATE TABLE images (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,\n"
    "  patent_id TEXT,\n"
    "  image_index INTEGER NOT NULL DEFAULT 0,\n"
    "  file_name TEXT NOT NULL,\n"
    "  object_key TEXT,\n"
    "  width INTEGER,\n"
    "  height INTEGER,\n"
    "  content_hash TEXT,\n"
    "  created_at INTEGER NOT NULL,\n"
    "  vector BLOB NOT NULL,\n"
    "  UNIQUE (collection_id, file_name)\n"
    ");\n"
    "CREATE INDEX images_hash ON images(content_hash);\n"
    "CREATE INDEX images_patent ON images(collection_id, patent_id, image_index);\n"
    "CREATE TABLE jobs (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  collection_id INTEGER REFERENCES collections(id) ON DELETE SET NULL,\n"
    "  kind TEXT NOT NULL,\n"
    "  status TEXT NOT NULL,\n"
    "  source TEXT,\n"
    "  done INTEGER NOT NULL DEFAULT 0,\n"
    "  skipped INTEGER NOT NULL DEFAULT 0,\n"
    "  failed INTEGER NOT NULL DEFAULT 0,\n"
    "  failures TEXT NOT NULL DEFAULT '[]',\n"
    "  started_at INTEGER NOT NULL,\n"
    "  finished_at INTEGER\n"
    ");\n",
    /* 1 -> 2: the precision of the forward pass that made a collection's
     * vectors (issue #11); the collections made before it were float32. */
    "ALTER TABLE collections ADD COLUMN precision TEXT NOT NULL DEFAULT 'f32';\n",
    /* 2 -> 3: search by words (issue #18). patents is WITHOUT ROWID and an
     * FTS5 table needs an integer key, so patent_text_ids gives each patent
     * one: (collection_id << 40) + its number in the collection, so that a
     * search in one collection is a rowid range, which FTS5 applies itself
     * (cat_text_search joins only the page it returns). The index reads
     * its text through the view patent_text (external content: the text is
     * stored once, in patents), and the triggers keep it in step with every
     * write to patents: upsert, delete, and the cascade when a collection is
     * dropped; an upsert that changes none of the indexed text (a
     * re-import) leaves the index alone. The migration indexes the patents
     * already there ('rebuild'). Tokenizer: English stemming, case and
     * diacritics folded (src/text/text.h gives the same terms). */
    "CREATE TABLE patent_text_ids (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  collection_id INTEGER NOT NULL,\n"
    "  patent_id TEXT NOT NULL,\n"
    "  UNIQUE (collection_id, patent_id)\n"
    ");\n"
    "CREATE VIEW patent_text AS SELECT t.id AS id, p.title, p.claim_text, p.applicant_name,\n"
    "  p.assignee_name, p.inventor_names, p.patent_id, p.loc_class\n"
    "  FROM patent_text_ids t JOIN patents p\n"
    "  ON p.collection_id = t.collection_id AND p.patent_id = t.patent_id;\n"
    "CREATE VIRTUAL TABLE patents_fts USING fts5(title, claim_text, applicant_name,\n"
    "  assignee_name, inventor_names, patent_id, loc_class, content='patent_text',\n"
    "  content_rowid='id', tokenize='porter unicode61 remove_diacritics 2');\n"
    "CREATE TRIGGER patents_fts_insert AFTER INSERT ON patents BEGIN\n"
    "  INSERT INTO patent_text_ids (id, collection_id, patent_id) VALUES (\n"
    "    coalesce((SELECT max(id) FROM patent_text_ids WHERE id BETWEEN\n"
    "      NEW.collection_id << 40 AND ((NEW.collection_id + 1) << 40) - 1),\n"
    "      NEW.collection_id << 40) + 1, NEW.collection_id, NEW.patent_id);\n"
    "  INSERT INTO patents_fts (rowid, title, claim_text, applicant_name, assignee_name,\n"
    "    inventor_names, patent_id, loc_class)\n"
    "    VALUES ((SELECT id FROM patent_text_ids WHERE collection_id = NEW.collection_id\n"
    "      AND patent_id = NEW.patent_id), NEW.title, NEW.claim_text, NEW.applicant_name,\n"
    "      NEW.assignee_name, NEW.inventor_names, NEW.patent_id, NEW.loc_class);\n"
    "END;\n"
    "CREATE TRIGGER patents_fts_delete AFTER DELETE ON patents BEGIN\n"
    "  INSERT INTO patents_fts (patents_fts, rowid, title, claim_text, applicant_name,\n"
    "    assignee_name, inventor_names, patent_id, loc_class)\n"
    "    VALUES ('delete', (SELECT id FROM patent_text_ids WHERE collection_id =\n"
    "      OLD.collection_id AND patent_id = OLD.patent_id), OLD.title, OLD.claim_text,\n"
    "      OLD.applicant_name, OLD.assignee_name, OLD.inventor_names, OLD.patent_id,\n"
    "      OLD.loc_class);\n"
    "  DELETE FROM patent_text_ids WHERE collection_id = OLD.collection_id\n"
    "    AND patent_id = OLD.patent_id;\n"
    "END;\n"
    "CREATE TRIGGER patents_fts_update AFTER UPDATE OF collection_id, patent_id, title,\n"
    "  claim_text, applicant_name, assignee_name, inventor_names, loc_class ON patents\n"
    "  WHEN OLD.collection_id IS NOT NEW.collection_id OR OLD.patent_id IS NOT NEW.patent_id\n"
    "    OR OLD.title IS NOT NEW.title OR OLD.claim_text IS NOT NEW.claim_text\n"
    "    OR OLD.applicant_name IS NOT NEW.applicant_name\n"
    "    OR OLD.assignee_name IS NOT NEW.assignee_name\n"
    "    OR OLD.inventor_names IS NOT NEW.inventor_names OR OLD.loc_class IS NOT NEW.loc_class\n"
    "BEGIN\n"
    "  INSERT INTO patents_fts (patents_fts, rowid, title, claim_text, applicant_name,\n"
    "    assignee_name, inventor_names, patent_id, loc_class)\n"
    "    VALUES ('delete', (SELECT id FROM patent_text_ids WHERE collection_id =\n"
    "      OLD.collection_id AND patent_id = OLD.patent_id), OLD.title, OLD.claim_text,\n"
    "      OLD.applicant_name, OLD.assignee_name, OLD.inventor_names, OLD.patent_id,\n"
    "      OLD.loc_class);\n"
    "  DELETE FROM patent_text_ids WHERE collection_id = OLD.collection_id\n"
    "    AND patent_id = OLD.patent_id;\n"
    "  INSERT INTO patent_text_ids (id, collection_id, patent_id) VALUES (\n"
    "    coalesce((SELECT max(id) FROM patent_text_ids WHERE id BETWEEN\n"
    "      NEW.collection_id << 40 AND ((NEW.collection_id + 1) << 40) - 1),\n"
    "      NEW.collection_id << 40) + 1, NEW.collection_id, NEW.patent_id);\n"
    "  INSERT INTO patents_fts (rowid, title, claim_text, applicant_name, assignee_name,\n"
    "    inventor_names, patent_id, loc_class)\n"
    "    VALUES ((SELECT id FROM patent_text_ids WHERE collection_id = NEW.collection_id\n"
    "      AND patent_id = NEW.patent_id), NEW.title, NEW.claim_text, NEW.applicant_name,\n"
    "      NEW.assignee_name, NEW.inventor_names, NEW.patent_id, NEW.loc_class);\n"
    "END;\n"
    "INSERT INTO patent_text_ids (id, collection_id, patent_id)\n"
    "  SELECT (collection_id << 40)\n"
    "    + row_number() OVER (PARTITION BY collection_id ORDER BY patent_id),\n"
    "    collection_id, patent_id FROM patents;\n"
    "INSERT INTO patents_fts (patents_fts) VALUES ('rebuild');\n",
};

void cat__lock(cat_db *db)
{
    pthread_mutex_lock(&db->mu);
}

void cat__unlock(cat_db *db)
{
    pthread_mutex_unlock(&db->mu);
}

int cat__sqlfail(cat_db *db, ds_err *err, const char *what)
{
    int rc = sqlite3_extended_errcode(db->db);
    ds_code code;
    switch (rc & 0xff) {
    case SQLITE_NOMEM: code = DS_ENOMEM; break;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
    case SQLITE_TOOBIG: code = DS_EINVAL; break;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT: code = DS_EFORMAT; break;
    case SQLITE_FULL: code = DS_ENOSPACE; break; /* the disk, not the database */
    default: code = DS_EIO; break;
    }
    const char *hint = code == DS_EFORMAT ? " (not a SQLite database, or corrupt)" : "";
    return ds_fail(err, code, "%s: %s%s", what, sqlite3_errmsg(db->db), hint);
}

sqlite3_stmt *cat__stmt(cat_db *db, int slot, const char *sql, ds_err *err)
{
    sqlite3_stmt *st = db->stmts[slot];
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return st;
    }
    if (sqlite3_prepare_v3(db->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        cat__sqlfail(db, err, "catalog: preparing a query");
        sqlite3_finalize(st);
        return NULL;
    }
    db->stmts[slot] = st;
    return st;
}

int cat__exec(cat_db *db, const char *sql, ds_err *err)
{
    if (sqlite3_exec(db->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return cat__sqlfail(db, err, "catalog");
    return 0;
}

int cat__write_begin(cat_db *db, ds_err *err)
{
    return cat__exec(db, db->in_batch ? "SAVEPOINT cat_w" : "BEGIN IMMEDIATE", err);
}

int cat__write_end(cat_db *db, int ok, ds_err *err)
{
    if (db->in_batch) {
        if (!ok)
            sqlite3_exec(db->db, "ROLLBACK TO cat_w", NULL, NULL, NULL);
        if (sqlite3_exec(db->db, "RELEASE cat_w", NULL, NULL, NULL) != SQLITE_OK && ok)
            return cat__sqlfail(db, err, "catalog: releasing a savepoint");
        return ok ? 0 : -1;
    }
    if (ok && sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
        return 0;
    if (ok)
        cat__sqlfail(db, err, "catalog: commit");
    if (!sqlite3_get_autocommit(db->db))
        sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

int cat__bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (!s)
        return sqlite3_bind_null(st, i);
    return sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

char *cat__col_text(sqlite3_stmt *st, int i, int *oom)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    if (!s)
        return NULL;
    char *copy = strdup((const char *)s);
    if (!copy)
        *oom = 1;
    return copy;
}

int cat__is_iso_date(const char *s)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return 0;
    int month = (s[5] - '0') * 10 + (s[6] - '0');
    int day = (s[8] - '0') * 10 + (s[9] - '0');
    return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

/* One integer from a PRAGMA (or a one-value query). */
static int pragma_int64(cat_db *db, const char *sql, int64_t *out, ds_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db->db, sql, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        cat__sqlfail(db, err, db->path);
        goto out;
    }
    *out = sqlite3_column_int64(st, 0);
    rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}

static int pragma_int(cat_db *db, const char *sql, int *out, ds_err *err)
{
    int64_t v;
    if (pragma_int64(db, sql, &v, err) != 0)
        return -1;
    *out = (int)v;
    return 0;
}

/* Refuse a file that is some other program's SQLite database. */
static int check_owner(cat_db *db, ds_err *err)
{
    int app = 0, version = 0, tables = 0;
    if (pragma_int(db, "PRAGMA application_id", &app, err) < 0 ||
        pragma_int(db, "PRAGMA user_version", &version, err) < 0 ||
        pragma_int(db, "SELECT count(*) FROM sqlite_schema", &tables, err) < 0)
        return -1;
    if (app == CAT_APPLICATION_ID || (app == 0 && version == 0 && tables == 0))
        return 0;
    return ds_fail(err, DS_EFORMAT,
                   "%s: a SQLite database of another program (application_id %d, "
                   "user_version %d), not a dinoseek catalog",
                   db->path, app, version);
}

/* The schema version that added the full-text index (its migration says
 * so on stderr when it indexes patents already there). */
#define CAT_TEXT_INDEX_VERSION 3

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Apply the missing migrations, each in one transaction. The version is
 * read again inside each transaction, so two processes opening the same
 * new file do not both migrate it. */
static int migrate(cat_db *db, ds_err *err)
{
    for (;;) {
        int v = 0;
        if (cat__exec(db, "BEGIN IMMEDIATE", err) < 0)
            return ds_wrap(err, "%s: ", db->path);
        if (pragma_int(db, "PRAGMA user_version", &v, err) < 0)
            goto fail;
        if (v > CAT_SCHEMA_VERSION) {
            ds_fail(err, DS_EUNSUPPORTED,
                    "%s: catalog schema version %d is newer than this dinoseek knows "
                    "(%d); use a newer dinoseek",
                    db->path, v, CAT_SCHEMA_VERSION);
            goto fail;
        }
        if (v == CAT_SCHEMA_VERSION)
            return cat__exec(db, "COMMIT", err);
        char bump[64];
        snprintf(bump, sizeof bump, "PRAGMA user_version = %d", v + 1);
        int64_t patents = 0;
        double started = now_seconds();
        if (v == CAT_TEXT_INDEX_VERSION - 1 &&
            pragma_int64(db, "SELECT count(*) FROM patents", &patents, err) < 0)
            goto fail;
        if (patents > 0)
            fprintf(stderr, "catalog: %s: building the full-text index of %lld patents "
                            "(once, for search by words)\n",
                    db->path, (long long)patents);
        if (cat__exec(db, migrations[v], err) < 0 || cat__exec(db, bump, err) < 0) {
            ds_wrap(err, "%s: migrating the schema from version %d: ", db->path, v);
            goto fail;
        }
        if (cat__exec(db, "COMMIT", err) < 0)
            goto fail;
        if (patents > 0)
            fprintf(stderr, "catalog: %s: full-text index built in %.1f s\n", db->path,
                    now_seconds() - started);
    }
fail:
    if (!sqlite3_get_autocommit(db->db))
        sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

/* Connection settings; the first statement to read the file is the one that
 * notices garbage. */
static int configure(cat_db *db, ds_err *err)
{
    sqlite3_extended_result_codes(db->db, 1);
    sqlite3_busy_timeout(db->db, 5000);
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db->db, "PRAGMA journal_mode = WAL", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        cat__sqlfail(db, err, db->path);
        goto out;
    }
    const char *mode = (const char *)sqlite3_column_text(st, 0);
    if (!mode || strcmp(mode, "wal") != 0) {
        ds_fail(err, DS_EIO, "%s: cannot use WAL mode (journal mode is %s)", db->path,
                mode ? mode : "unknown");
        goto out;
    }
    if (cat__exec(db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL", err) < 0)
        goto out;
    rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}

int cat_open(const char *data_dir, cat_db **out, ds_err *err)
{
    *out = NULL;
    struct stat sb;
    if (stat(data_dir, &sb) != 0)
        return ds_fail(err, DS_ENOTFOUND, "catalog: data directory %s: %s", data_dir,
                       strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return ds_fail(err, DS_EINVAL, "catalog: data directory %s is not a directory",
                       data_dir);
    cat_db *db = calloc(1, sizeof *db);
    if (!db)
        return ds_fail(err, DS_ENOMEM, "catalog: out of memory");
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&db->mu, &attr);
    pthread_mutexattr_destroy(&attr);
    int n = snprintf(db->path, sizeof db->path, "%s/%s", data_dir, CAT_FILE_NAME);
    if (n < 0 || (size_t)n >= sizeof db->path) {
        ds_fail(err, DS_EINVAL, "catalog: data directory path too long");
        goto fail;
    }
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(db->path, &db->db, flags, NULL) != SQLITE_OK) {
        if (db->db)
            cat__sqlfail(db, err, db->path);
        else
            ds_fail(err, DS_ENOMEM, "%s: out of memory", db->path);
        goto fail;
    }
    if (configure(db, err) < 0 || check_owner(db, err) < 0 ||
        pragma_int(db, "PRAGMA user_version", &db->version_found, err) < 0 ||
        migrate(db, err) < 0 || cat__text_register(db, err) < 0)
        goto fail;
    *out = db;
    return 0;
fail:
    cat_close(db);
    return -1;
}

void cat_close(cat_db *db)
{
    if (!db)
        return;
    if (db->db && !sqlite3_get_autocommit(db->db))
        sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
    if (db->in_batch)
        cat__unlock(db); /* the hold taken by cat_begin (in this thread) */
    for (int i = 0; i < CS_COUNT; i++)
        sqlite3_finalize(db->stmts[i]);
    sqlite3_close(db->db);
    pthread_mutex_destroy(&db->mu);
    free(db);
}

int cat_schema_version(const cat_db *db)
{
    return db->version_found;
}

int cat_check(cat_db *db, ds_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;
    cat__lock(db);
    if (sqlite3_prepare_v2(db->db, "PRAGMA integrity_check(1)", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        cat__sqlfail(db, err, db->path);
        goto out;
    }
    const char *res = (const char *)sqlite3_column_text(st, 0);
    if (!res || strcmp(res, "ok") != 0) {
        ds_fail(err, DS_EFORMAT, "%s: integrity check failed: %s", db->path,
                res ? res : "no answer");
        goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    cat__unlock(db);
    return rc;
}

int cat_data_version(cat_db *db, int64_t *version, ds_err *err)
{
    cat__lock(db);
    int rc = pragma_int64(db, "PRAGMA data_version", version, err);
    cat__unlock(db);
    return rc;
}

int cat_begin(cat_db *db, ds_err *err)
{
    cat__lock(db);
    if (db->in_batch) {
        cat__unlock(db);
        return ds_fail(err, DS_EINVAL, "catalog: batches do not nest");
    }
    if (cat__exec(db, "BEGIN IMMEDIATE", err) < 0) {
        cat__unlock(db);
        return ds_wrap(err, "starting a batch: ");
    }
    db->in_batch = 1;
    return 0; /* the mutex stays held until cat_commit / cat_rollback */
}

/* Ends the batch: COMMIT (rolled back if it fails) or ROLLBACK. */
static int end_batch(cat_db *db, int commit, ds_err *err)
{
    int rc = 0;
    cat__lock(db);
    if (!db->in_batch) {
        cat__unlock(db);
        return ds_fail(err, DS_EINVAL, "catalog: no batch to end");
    }
    if (commit && sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = cat__sqlfail(db, err, "catalog: committing a batch");
    if (!sqlite3_get_autocommit(db->db))
        sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
    db->in_batch = 0;
    cat__unlock(db);
    cat__unlock(db); /* the hold taken by cat_begin */
    return rc;
}

int cat_commit(cat_db *db, ds_err *err)
{
    return end_batch(db, 1, err);
}

int cat_rollback(cat_db *db, ds_err *err)
{
    return end_batch(db, 0, err);
}

void *cat__grow(void *list, size_t *cap, size_t n, size_t elem, size_t first, ds_err *err)
{
    if (n < *cap)
        return list;
    size_t ncap = *cap ? 2 * *cap : first;
    void *bigger = realloc(list, ncap * elem);
    if (!bigger) {
        ds_fail(err, DS_ENOMEM, "catalog: out of memory");
        return NULL;
    }
    *cap = ncap;
    return bigger;
}
