/* test_arc.c - the arc suite: archives read as streams (tar, zip, tar.gz, a
 * tar of zips as the USPTO ships them), hostile members (bad names, links,
 * bombs, truncation), and the directory walker.
 *
 * Every archive is built here with libarchive's writer, in the suite's
 * tmpdir, so the tests need no fixtures and no tools. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include "../suites.h"
#include "arc/arc.h"

#define MIB (1024u * 1024u)

/* ---- building archives ------------------------------------------------------- */

typedef struct spec {
    const char *name;
    const char *data;  /* NULL: empty */
    size_t len;        /* 0: strlen(data) */
    unsigned type;     /* 0: a regular file; else AE_IFDIR, AE_IFLNK, AE_IFCHR */
    const char *link;  /* AE_IFLNK: the target; for a regular file: a hard link to it */
} spec;

static char *tmp(const char *name)
{
    static char path[8][512];
    static int next;
    char *p = path[next++ % 8];
    snprintf(p, sizeof path[0], "%s/%s", ds_test_tmpdir, name);
    return p;
}

static int add(struct archive *a, const spec *s)
{
    struct archive_entry *e = archive_entry_new();
    size_t len = s->data ? (s->len ? s->len : strlen(s->data)) : 0;
    archive_entry_set_pathname(e, s->name);
    archive_entry_set_mtime(e, 1700000000, 0);
    archive_entry_set_filetype(e, s->type ? s->type : AE_IFREG);
    archive_entry_set_perm(e, s->type == AE_IFDIR ? 0755 : 0644);
    if (s->type == AE_IFLNK)
        archive_entry_set_symlink(e, s->link);
    else if (s->link)
        archive_entry_set_hardlink(e, s->link);
    if (s->type == AE_IFCHR)
        archive_entry_set_rdev(e, 0x0103);
    archive_entry_set_size(e, s->type || s->link ? 0 : (la_int64_t)len);
    int ok = archive_write_header(a, e) == ARCHIVE_OK &&
             (len == 0 || s->type || s->link || archive_write_data(a, s->data, len) == (la_ssize_t)len);
    archive_entry_free(e);
    return ok ? 0 : -1;
}

/* Write an archive of format ("ustar", "pax" or "zip"), through filter
 * ("gzip", "xz", ...) or none (NULL). */
static struct archive *writer(const char *path, const char *format, const char *filter)
{
    struct archive *a = archive_write_new();
    int rc = archive_write_set_format_by_name(a, format);
    if (rc == ARCHIVE_OK && filter)
        rc = archive_write_add_filter_by_name(a, filter);
    if (rc == ARCHIVE_OK)
        rc = archive_write_open_filename(a, path);
    CHECKF(rc == ARCHIVE_OK, "%s: %s", path, archive_error_string(a));
    return a;
}

static int finish(struct archive *a)
{
    int rc = archive_write_close(a);
    CHECKF(rc == ARCHIVE_OK, "%s", archive_error_string(a));
    archive_write_free(a);
    return rc == ARCHIVE_OK ? 0 : -1;
}

static int make(const char *path, const char *format, const char *filter, const spec *s,
                size_t n)
{
    struct archive *a = writer(path, format, filter);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = add(a, &s[i]);
    CHECKF(rc == 0, "adding to %s: %s", path, archive_error_string(a));
    return finish(a) | rc;
}

/* Bytes that do not compress (a fixed xorshift stream). */
static void noise(char *buf, size_t n, uint32_t seed)
{
    uint32_t x = seed | 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        buf[i] = (char)(x >> 24);
    }
}

/* ---- reading them back --------------------------------------------------------- */

/* What reading an archive to the end saw: "name=data" for each member read,
 * "name!reason" for each refused, one per line. Returns arc_next's last
 * result (0 at the end, -1 on error with err filled). */
typedef struct seen {
    char text[8192];
    int read, refused;
} seen;

static void note(seen *s, const char *fmt, const char *a, const char *b, size_t blen)
{
    size_t at = strlen(s->text);
    snprintf(s->text + at, sizeof s->text - at, fmt, a, (int)blen, b);
}

static int read_all(arc_reader *r, seen *s, ds_err *err)
{
    memset(s, 0, sizeof *s);
    arc_member m;
    int rc;
    while ((rc = arc_next(r, &m, err)) == 1) {
        if (m.refused) {
            note(s, "%s!%.*s\n", m.name, m.refused, strlen(m.refused));
            s->refused++;
            continue;
        }
        void *data;
        size_t len;
        if (arc_read(r, &data, &len, err) != 0)
            return -1;
        CHECKF(((char *)data)[len] == '\0', "%s: no NUL after the data", m.name);
        CHECKF(m.size < 0 || (size_t)m.size == len, "%s: declared %lld, read %zu", m.name,
               (long long)m.size, len);
        note(s, "%s=%.*s\n", m.name, data, len);
        free(data);
        s->read++;
    }
    return rc;
}

static int read_file(const char *path, const arc_limits *lim, seen *s, ds_err *err)
{
    arc_reader *r = NULL;
    if (arc_open_file(path, lim, &r, err) != 0)
        return -2;
    int rc = read_all(r, s, err);
    arc_close(r);
    return rc;
}

/* ---- names ----------------------------------------------------------------------- */

static void test_name_check(void)
{
    static const char *const good[] = {
        "a", "DESIGN/USD0999999-20240102.ZIP", "a/b/c.TIF", "x..y", "..a", "a..", "a/.b",
        "a/./b", "a//b", "caf\xc3\xa9.tif", "a b", "ab:c",
    };
    ds_err err;
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        CHECKF(arc_name_check(good[i], &err) == 0, "%s: %s", good[i], err.msg);
    static const struct {
        const char *name, *msg;
    } bad[] = {
        {"", "empty"},
        {"/etc/passwd", "absolute"},
        {"\\windows", "absolute"},
        {"C:\\x", "drive letter"},
        {"c:x", "drive letter"},
        {"../evil", "\"..\""},
        {"..", "\"..\""},
        {"a/..", "\"..\""},
        {"a/../../b", "\"..\" component at byte 2"},
        {"a\\..\\..\\b", "\"..\""},
        {"a\nb", "control character 0x0a"},
        {"a\x7f", "control character 0x7f"},
        {"\x1b[31m", "control character 0x1b"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err.msg[0] = '\0';
        CHECKF(arc_name_check(bad[i].name, &err) == -1, "accepted \"%s\"", bad[i].name);
        CHECK(err.code == DS_EINVAL);
        CHECK_MSG(err, bad[i].msg);
    }
    CHECK(arc_name_check(NULL, &err) == -1);
    CHECK(arc_name_check_n("a.xml\0../x", 10, &err) == -1);
    CHECK_MSG(err, "NUL byte at byte 5");
    CHECK(arc_name_check_n("ab", 2, &err) == 0);
    char longname[ARC_NAME_MAX + 2];
    memset(longname, 'n', sizeof longname);
    longname[ARC_NAME_MAX] = '\0';
    CHECKF(arc_name_check(longname, &err) == 0, "%s", err.msg);
    longname[ARC_NAME_MAX] = 'n';
    longname[ARC_NAME_MAX + 1] = '\0';
    CHECK(arc_name_check(longname, &err) == -1);
    CHECK_MSG(err, "1025 bytes long");
}

/* ---- well-formed archives ------------------------------------------------------------ */

#define XML "<?xml version=\"1.0\"?><us-patent-grant/>"

/* A design ZIP as the USPTO packs one: a folder, its XML and a drawing. */
static int make_design_zip(const char *path, const char *id, const char *tif, size_t tif_len)
{
    char dir[64], xml[128], drawing[128];
    snprintf(dir, sizeof dir, "%s/", id);
    snprintf(xml, sizeof xml, "%s/%s.XML", id, id);
    snprintf(drawing, sizeof drawing, "%s/%s-D00001.TIF", id, id);
    spec s[] = {
        {.name = dir, .type = AE_IFDIR},
        {.name = xml, .data = XML},
        {.name = drawing, .data = tif, .len = tif_len},
    };
    return make(path, "zip", NULL, s, 3);
}

/* The weekly archive: I20240102.tar of DESIGN/USD*.ZIP, read as a stream,
 * each ZIP read whole and opened from memory. */
static void test_uspto_weekly_tar(void)
{
    static const char *const ids[] = {"USD0999998-20240102", "USD0999999-20240102"};
    char tif[2][3000];
    char *zip[2] = {NULL, NULL};
    size_t zip_len[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
        noise(tif[i], sizeof tif[i], 7 + (uint32_t)i);
        tif[i][0] = 'I', tif[i][1] = 'I', tif[i][2] = 42, tif[i][3] = 0; /* a NUL inside */
        CHECK(make_design_zip(tmp("design.zip"), ids[i], tif[i], sizeof tif[i]) == 0);
        zip[i] = ds_test_read_file(tmp("design.zip"), &zip_len[i]);
        if (!zip[i])
            goto out;
    }
    char zname[2][64];
    for (int i = 0; i < 2; i++)
        snprintf(zname[i], sizeof zname[i], "DESIGN/%s.ZIP", ids[i]);
    spec outer[] = {
        {.name = "DESIGN/", .type = AE_IFDIR},
        {.name = zname[0], .data = zip[0], .len = zip_len[0]},
        {.name = zname[1], .data = zip[1], .len = zip_len[1]},
    };
    const char *tar = tmp("I20240102.tar");
    CHECK(make(tar, "ustar", NULL, outer, 3) == 0);

    ds_err err = {0};
    arc_reader *r = NULL;
    CHECKF(arc_open_file(tar, NULL, &r, &err) == 0, "%s", err.msg);
    if (!r)
        goto out;
    arc_member m;
    int zips = 0, xmls = 0, tifs = 0;
    while (arc_next(r, &m, &err) == 1) {
        CHECKF(m.refused == NULL, "%s refused: %s", m.name, m.refused);
        CHECK(strcmp(m.name, zname[zips]) == 0);
        CHECK(m.size == (int64_t)zip_len[zips]);
        void *data;
        size_t len;
        CHECKF(arc_read(r, &data, &len, &err) == 0, "%s", err.msg);
        CHECK(len == zip_len[zips] && memcmp(data, zip[zips], len) == 0);
        arc_reader *in = NULL;
        CHECKF(arc_open_memory(data, len, NULL, &in, &err) == 0, "%s", err.msg);
        arc_member im;
        while (in && arc_next(in, &im, &err) == 1) {
            void *d;
            size_t n;
            CHECKF(arc_read(in, &d, &n, &err) == 0, "%s", err.msg);
            if (strstr(im.name, ".XML")) {
                CHECK(n == strlen(XML) && memcmp(d, XML, n) == 0);
                xmls++;
            } else {
                CHECK(strstr(im.name, "-D00001.TIF") && strncmp(im.name, ids[zips], 19) == 0);
                CHECK(n == sizeof tif[zips] && memcmp(d, tif[zips], n) == 0);
                tifs++;
            }
            free(d);
        }
        CHECKF(err.code == DS_OK || in == NULL, "%s", err.msg);
        arc_close(in);
        free(data);
        zips++;
        ds_err_clear(&err);
    }
    CHECK(zips == 2 && xmls == 2 && tifs == 2);
    CHECK(arc_next(r, &m, &err) == 0); /* the end stays the end */
    arc_close(r);
out:
    free(zip[0]);
    free(zip[1]);
}

static void test_plain_zip(void)
{
    spec s[] = {
        {.name = "./top.txt", .data = "top"},
        {.name = "dir/", .type = AE_IFDIR},
        {.name = "dir/empty.txt", .data = NULL},
        {.name = "dir/a.txt", .data = "alpha"},
    };
    const char *path = tmp("plain.zip");
    CHECK(make(path, "zip", NULL, s, 4) == 0);
    seen got;
    ds_err err;
    CHECKF(read_file(path, NULL, &got, &err) == 0, "%s", err.msg);
    CHECKF(!strcmp(got.text, "top.txt=top\ndir/empty.txt=\ndir/a.txt=alpha\n"), "%s", got.text);
    CHECK(got.refused == 0);
}

/* Each compression a tar may come in; members not read are skipped (by
 * draining the decompressed stream). */
static void test_compressed_tars(void)
{
    static char big[200000];
    noise(big, sizeof big, 3);
    memset(big, 'z', 100000); /* half compresses, half not */
    spec s[] = {
        {.name = "a.txt", .data = "one"},
        {.name = "big.bin", .data = big, .len = sizeof big},
        {.name = "sub/b.txt", .data = "two"},
    };
    static const char *const filters[] = {"gzip", "bzip2", "xz", "lzma", "zstd", "lzip"};
    for (size_t f = 0; f < sizeof filters / sizeof *filters; f++) {
        const char *path = tmp("t.tar.x");
        CHECKF(make(path, "pax", filters[f], s, 3) == 0, "%s", filters[f]);
        arc_reader *r = NULL;
        ds_err err = {0};
        CHECKF(arc_open_file(path, NULL, &r, &err) == 0, "%s: %s", filters[f], err.msg);
        arc_member m;
        int n = 0;
        while (r && arc_next(r, &m, &err) == 1) {
            n++;
            if (strcmp(m.name, "big.bin") != 0)
                continue;
            void *d;
            size_t len;
            CHECKF(arc_read(r, &d, &len, &err) == 0, "%s", err.msg);
            CHECK(len == sizeof big && memcmp(d, big, len) == 0);
            free(d);
        }
        CHECKF(n == 3, "%s: %d members: %s", filters[f], n, err.msg);
        arc_close(r);
    }
}

/* ---- hostile members ------------------------------------------------------------------- */

static void test_hostile_names(void)
{
    spec s[] = {
        {.name = "../evil", .data = "EVIL1"},
        {.name = "ok1.txt", .data = "fine"},
        {.name = "/etc/passwd", .data = "EVIL2"},
        {.name = "a/../../b", .data = "EVIL3"},
        {.name = "ok2.txt", .data = "also fine"},
        {.name = "x\x1b[2Jy", .data = "EVIL4"},
    };
    static const char *const formats[] = {"pax", "zip"};
    for (int f = 0; f < 2; f++) {
        const char *path = tmp(f ? "evil.zip" : "evil.tar");
        CHECK(make(path, formats[f], NULL, s, 6) == 0);
        seen got;
        ds_err err;
        CHECKF(read_file(path, NULL, &got, &err) == 0, "%s: %s", formats[f], err.msg);
        CHECKF(got.read == 2 && got.refused == 4, "%s: %s", formats[f], got.text);
        CHECKF(strstr(got.text, "ok1.txt=fine\n") && strstr(got.text, "ok2.txt=also fine\n"),
               "%s", got.text);
        CHECKF(!strstr(got.text, "EVIL"), "%s: refused data was read: %s", formats[f], got.text);
        CHECK(strstr(got.text, "../evil!member name has a \"..\" component"));
        CHECK(strstr(got.text, "/etc/passwd!member name is an absolute path"));
        CHECK(strstr(got.text, "a/../../b!member name has a \"..\""));
        CHECK(strstr(got.text, "control character 0x1b"));
    }
}

static void test_links_and_devices(void)
{
    spec s[] = {
        {.name = "target.txt", .data = "data"},
        {.name = "sym", .type = AE_IFLNK, .link = "/etc/passwd"},
        {.name = "hard", .link = "target.txt"},
        {.name = "tty", .type = AE_IFCHR},
        {.name = "last.txt", .data = "end"},
    };
    const char *path = tmp("links.tar");
    CHECK(make(path, "ustar", NULL, s, 5) == 0);
    seen got;
    ds_err err;
    CHECKF(read_file(path, NULL, &got, &err) == 0, "%s", err.msg);
    CHECKF(!strcmp(got.text, "target.txt=data\nsym!a symbolic link\nhard!a hard link\n"
                             "tty!a character device\nlast.txt=end\n"), "%s", got.text);

    path = tmp("links.zip");
    CHECK(make(path, "zip", NULL, s, 2) == 0);
    CHECKF(read_file(path, NULL, &got, &err) == 0, "%s", err.msg);
    CHECKF(!strcmp(got.text, "target.txt=data\nsym!a symbolic link\n"), "%s", got.text);
}

static void test_encrypted_zip(void)
{
    const char *path = tmp("enc.zip");
    struct archive *a = archive_write_new();
    archive_write_set_format_zip(a);
    if (archive_write_set_options(a, "zip:encryption=zipcrypt") != ARCHIVE_OK ||
        archive_write_set_passphrase(a, "secret") != ARCHIVE_OK) {
        archive_write_free(a);
        SKIP("this libarchive cannot write encrypted zips");
    }
    CHECK(archive_write_open_filename(a, path) == ARCHIVE_OK);
    CHECK(add(a, &(spec){.name = "locked.txt", .data = "hidden"}) == 0);
    finish(a);
    seen got;
    ds_err err;
    CHECKF(read_file(path, NULL, &got, &err) == 0, "%s", err.msg);
    CHECKF(!strcmp(got.text, "locked.txt!encrypted\n"), "%s", got.text);
}

static void test_max_members(void)
{
    spec s[10];
    char names[10][24];
    for (int i = 0; i < 10; i++) {
        snprintf(names[i], sizeof names[i], "f%d.txt", i);
        s[i] = (spec){.name = names[i], .data = "x"};
    }
    const char *path = tmp("many.tar");
    CHECK(make(path, "ustar", NULL, s, 10) == 0);
    arc_limits lim;
    arc_limits_default(&lim);
    lim.max_members = 5;
    seen got;
    ds_err err;
    CHECK(read_file(path, &lim, &got, &err) == -1);
    CHECK(err.code == DS_ETOOBIG);
    CHECK_MSG(err, "more than 5 members (max_members)");
    CHECK(got.read == 5);
    lim.max_members = 10;
    CHECKF(read_file(path, &lim, &got, &err) == 0 && got.read == 10, "%s", err.msg);
}

/* ---- truncation and corruption ------------------------------------------------------------- */

static void test_truncated_tar(void)
{
    char body[20000];
    noise(body, sizeof body, 11);
    spec s[] = {
        {.name = "first.bin", .data = body, .len = sizeof body},
        {.name = "second.bin", .data = body, .len = sizeof body},
    };
    const char *path = tmp("full.tar");
    CHECK(make(path, "ustar", NULL, s, 2) == 0);
    size_t len;
    char *tar = ds_test_read_file(path, &len);
    if (!tar)
        return;
    /* Cut in the middle of the second member's data, then inside its header. */
    const size_t cuts[] = {512 + 20480 + 512 + 5000, 512 + 20480 + 100};
    for (int i = 0; i < 2; i++) {
        arc_reader *r = NULL;
        ds_err err;
        CHECKF(arc_open_memory(tar, cuts[i], NULL, &r, &err) == 0, "%s", err.msg);
        seen got;
        int rc = r ? read_all(r, &got, &err) : 0;
        CHECKF(rc == -1, "cut %d: read to the end: %s", i, got.text);
        CHECK(err.code == DS_EFORMAT);
        CHECK_MSG(err, i == 0 ? "member \"second.bin\"" : "after member \"first.bin\"");
        CHECK_MSG(err, "runcated");
        CHECK(got.read == 1);
        arc_member m;
        CHECK(r && arc_next(r, &m, &err) == -1 && err.code == DS_EINVAL); /* unusable */
        arc_close(r);
    }
    free(tar);
}

static void test_truncated_zip(void)
{
    char body[20000];
    noise(body, sizeof body, 5);
    spec s[] = {
        {.name = "USD1/USD1.XML", .data = XML},
        {.name = "USD1/USD1-D00001.TIF", .data = body, .len = sizeof body},
    };
    const char *path = tmp("full.zip");
    CHECK(make(path, "zip", NULL, s, 2) == 0);
    size_t len;
    char *zip = ds_test_read_file(path, &len);
    if (!zip)
        return;
    /* Every cut: an error or a clean read of what is there, never a crash;
     * the central directory is gone, so none reads to a clean end. */
    for (size_t cut = 0; cut < len - 22; cut += 997) {
        arc_reader *r = NULL;
        ds_err err;
        seen got;
        if (arc_open_memory(zip, cut, NULL, &r, &err) != 0) {
            CHECKF(err.code == DS_EFORMAT, "cut %zu: %s", cut, err.msg);
            continue;
        }
        CHECKF(read_all(r, &got, &err) == -1, "cut %zu: read to the end: %s", cut, got.text);
        CHECKF(err.code == DS_EFORMAT, "cut %zu: %s", cut, err.msg);
        arc_close(r);
    }
    /* Cut in the drawing's data: the error names it. */
    arc_reader *r = NULL;
    ds_err err;
    seen got;
    CHECKF(arc_open_memory(zip, len / 2, NULL, &r, &err) == 0, "%s", err.msg);
    CHECK(r && read_all(r, &got, &err) == -1);
    CHECK(got.read == 1);
    CHECK_MSG(err, "archive in memory: member \"USD1/USD1-D00001.TIF\": ");
    CHECK_MSG(err, "runcated");
    arc_close(r);
    free(zip);
}

static void test_corrupt_zip(void)
{
    char body[50000];
    memset(body, 'q', sizeof body);
    noise(body, 4000, 1);
    spec s[] = {{.name = "a.bin", .data = body, .len = sizeof body}};
    const char *path = tmp("corrupt.zip");
    CHECK(make(path, "zip", NULL, s, 1) == 0);
    size_t len;
    unsigned char *zip = ds_test_read_file(path, &len);
    if (!zip)
        return;
    for (size_t i = 100; i < 140; i++) /* inside the deflate stream */
        zip[i] ^= 0x5a;
    arc_reader *r = NULL;
    ds_err err;
    seen got;
    CHECKF(arc_open_memory(zip, len, NULL, &r, &err) == 0, "%s", err.msg);
    CHECK(r && read_all(r, &got, &err) == -1);
    CHECK(err.code == DS_EFORMAT);
    CHECK_MSG(err, "member \"a.bin\"");
    arc_close(r);
    free(zip);
}

static void test_not_archives(void)
{
    static const char *const inputs[] = {
        "just some text\n",
        /* mtree would read /etc/hostname from disk as the member's data */
        "#mtree\na.txt type=file contents=/etc/hostname\n",
        "",
        "PK\x03\x04",
    };
    for (size_t i = 0; i < sizeof inputs / sizeof *inputs; i++) {
        arc_reader *r = NULL;
        ds_err err;
        int rc = arc_open_memory(inputs[i], strlen(inputs[i]), NULL, &r, &err);
        seen got = {{0}, 0, 0};
        if (rc == 0) {
            rc = read_all(r, &got, &err);
            arc_close(r);
        }
        CHECKF(rc == -1 && err.code == DS_EFORMAT, "input %zu: rc %d %s", i, rc, got.text);
    }
    arc_reader *r = NULL;
    ds_err err;
    CHECK(arc_open_file(tmp("no-such.tar"), NULL, &r, &err) == -1 && r == NULL);
    CHECKF(err.code == DS_ENOTFOUND, "%s", err.msg);
    CHECK_MSG(err, "no-such.tar");
    arc_limits lim;
    arc_limits_default(&lim);
    lim.max_ratio = 0;
    CHECK(arc_open_memory("x", 1, &lim, &r, &err) == -1 && err.code == DS_EINVAL);
}

static void test_misuse(void)
{
    spec s[] = {{.name = "../bad", .data = "x"}, {.name = "good", .data = "y"}};
    const char *path = tmp("misuse.tar");
    CHECK(make(path, "ustar", NULL, s, 2) == 0);
    arc_reader *r = NULL;
    ds_err err;
    CHECKF(arc_open_file(path, NULL, &r, &err) == 0, "%s", err.msg);
    if (!r)
        return;
    void *d = NULL;
    size_t n;
    arc_member m;
    CHECK(arc_read(r, &d, &n, &err) == -1 && err.code == DS_EINVAL && d == NULL);
    CHECK(arc_next(r, &m, &err) == 1 && m.refused);
    CHECK(arc_read(r, &d, &n, &err) == -1 && err.code == DS_EINVAL);
    CHECK_MSG(err, "refused");
    CHECK(arc_next(r, &m, &err) == 1 && !m.refused && !strcmp(m.name, "good"));
    CHECK(arc_read(r, &d, &n, &err) == 0 && n == 1 && !strcmp(d, "y"));
    free(d);
    CHECK(arc_read(r, &d, &n, &err) == -1 && err.code == DS_EINVAL); /* once only */
    CHECK(arc_next(r, &m, &err) == 0);
    arc_close(r);
    arc_close(NULL);
}

/* ---- bombs ------------------------------------------------------------------------------------ */

#define BOMB_SIZE (300 * MIB)

/* A zip holding BOMB_SIZE zero bytes (deflated to a few hundred KB), then a
 * small member; built once per run. */
static const char *bomb_zip(void)
{
    const char *path = tmp("bomb.zip");
    struct stat st;
    if (stat(path, &st) == 0)
        return path;
    struct archive *a = writer(path, "zip", NULL);
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, "bomb.bin");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, BOMB_SIZE);
    CHECK(archive_write_header(a, e) == ARCHIVE_OK);
    static char zeros[MIB];
    for (unsigned i = 0; i < BOMB_SIZE / MIB; i++)
        CHECK(archive_write_data(a, zeros, sizeof zeros) == (la_ssize_t)sizeof zeros);
    archive_entry_free(e);
    CHECK(add(a, &(spec){.name = "after.txt", .data = "after"}) == 0);
    finish(a);
    return path;
}

static long max_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* The declared size alone refuses the member; the archive goes on. */
static void test_bomb_declared_size(void)
{
    seen got;
    ds_err err;
    CHECKF(read_file(bomb_zip(), NULL, &got, &err) == 0, "%s", err.msg);
    CHECKF(!strcmp(got.text, "bomb.bin!declared size of 314572800 bytes is over the limit of "
                             "268435456 (max_member)\nafter.txt=after\n"), "%s", got.text);
}

/* The ratio stops the bomb early, without room for the whole of it. */
static void test_bomb_ratio(void)
{
    size_t len;
    char *zip = ds_test_read_file(bomb_zip(), &len);
    if (!zip)
        return;
    CHECKF(len < 1 * MIB, "bomb is %zu bytes", len);
    arc_limits lim;
    arc_limits_default(&lim);
    lim.max_member = 1024 * MIB; /* so that only the ratio is left */
    long rss = max_rss_kib();
    arc_reader *r = NULL;
    ds_err err;
    seen got;
    CHECKF(arc_open_memory(zip, len, &lim, &r, &err) == 0, "%s", err.msg);
    CHECK(r && read_all(r, &got, &err) == -1);
    CHECK(err.code == DS_ETOOBIG);
    CHECK_MSG(err, "member \"bomb.bin\": the archive decompresses to more than 100 times");
    long grew = (max_rss_kib() - rss) / 1024;
    CHECKF(grew < 100, "peak memory grew by %ld MiB", grew);
    arc_close(r);
    free(zip);
}

/* The same bomb claiming 1000 bytes: the member limit counts what comes
 * out, not what the header says. */
static void test_bomb_lying_size(void)
{
    size_t len;
    unsigned char *zip = ds_test_read_file(bomb_zip(), &len);
    if (!zip)
        return;
    /* Its local header (uncompressed size at +22) and central directory
     * record (at +24) both say 1000 (the writer uses neither zip64 nor
     * sizes of 0xffffffff for a member under 4 GiB). */
    int patched = 0;
    if (len > 64 && memcmp(zip, "PK\3\4", 4) == 0 && memcmp(zip + 30, "bomb.bin", 8) == 0) {
        memcpy(zip + 22, "\xe8\x03\0\0", 4);
        patched++;
    }
    for (size_t i = len - 54; i > 0; i--) {
        if (memcmp(zip + i, "PK\1\2", 4) == 0 && memcmp(zip + i + 46, "bomb.bin", 8) == 0) {
            memcpy(zip + i + 24, "\xe8\x03\0\0", 4);
            patched++;
            break;
        }
    }
    CHECK(patched == 2);
    arc_limits lim;
    arc_limits_default(&lim);
    lim.max_member = 1 * MIB;
    long rss = max_rss_kib();
    arc_reader *r = NULL;
    ds_err err;
    arc_member m;
    CHECKF(arc_open_memory(zip, len, &lim, &r, &err) == 0, "%s", err.msg);
    CHECKF(r && arc_next(r, &m, &err) == 1, "%s", err.msg);
    CHECKF(r && m.size == 1000 && m.refused == NULL, "size %lld", (long long)m.size);
    void *d = NULL;
    size_t n;
    CHECK(r && arc_read(r, &d, &n, &err) == -1 && d == NULL);
    CHECK(err.code == DS_ETOOBIG);
    CHECK_MSG(err, "member \"bomb.bin\": decompresses to more than 1048576 bytes (max_member)");
    CHECK((max_rss_kib() - rss) / 1024 < 50);
    arc_close(r);

    /* max_total counts the same bytes. */
    lim.max_member = 1024 * MIB;
    lim.max_total = 4 * MIB;
    CHECKF(arc_open_memory(zip, len, &lim, &r, &err) == 0, "%s", err.msg);
    seen got;
    CHECK(r && read_all(r, &got, &err) == -1 && err.code == DS_ETOOBIG);
    CHECK_MSG(err, "more than 4194304 bytes (max_total)");
    arc_close(r);
    free(zip);
}

/* A refused member is not a way around the limits: behind gzip, skipping it
 * means decompressing it, and that is counted. */
static void test_bomb_in_refused_tar_gz_member(void)
{
    const char *path = tmp("bomb.tar.gz");
    struct archive *a = writer(path, "ustar", "gzip");
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, "../bomb.bin");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, 64 * MIB);
    CHECK(archive_write_header(a, e) == ARCHIVE_OK);
    static char zeros[MIB];
    for (int i = 0; i < 64; i++)
        archive_write_data(a, zeros, sizeof zeros);
    archive_entry_free(e);
    CHECK(add(a, &(spec){.name = "after.txt", .data = "after"}) == 0);
    finish(a);
    seen got;
    ds_err err;
    CHECK(read_file(path, NULL, &got, &err) == -1);
    CHECKF(err.code == DS_ETOOBIG, "%s", err.msg);
    CHECK_MSG(err, "member \"../bomb.bin\": the archive decompresses to more than 100 times");
    CHECK(got.refused == 1 && got.read == 0);
}

/* ---- walking directories ------------------------------------------------------------------- */

typedef struct walk_log {
    char text[8192];
    const char *root;
    int stop_at; /* return 7 at this file (1-based); 0 never */
    int files;
} walk_log;

static int on_file(void *ctx, const char *path, const char *rel, const struct stat *st)
{
    walk_log *w = ctx;
    char expect[1024];
    snprintf(expect, sizeof expect, "%s/%s", w->root, rel);
    CHECKF(!strcmp(path, expect), "path %s for rel %s", path, rel);
    CHECK(S_ISREG(st->st_mode));
    size_t at = strlen(w->text);
    snprintf(w->text + at, sizeof w->text - at, "%s\n", rel);
    return ++w->files == w->stop_at ? 7 : 0;
}

static void on_skip(void *ctx, const char *path, const char *reason)
{
    walk_log *w = ctx;
    size_t at = strlen(w->text), rl = strlen(w->root);
    const char *rel = strncmp(path, w->root, rl) == 0 ? path + rl + 1 : path;
    snprintf(w->text + at, sizeof w->text - at, "skip %s: %s\n", rel, reason);
}

static void mkfile(const char *root, const char *rel)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    CHECKF(ds_test_write_file(p, rel, strlen(rel)) == 0, "%s", p);
}

static void mk(const char *root, const char *rel, const char *link_to)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    int rc = link_to ? symlink(link_to, p) : mkdir(p, 0755);
    CHECKF(rc == 0, "%s: %s", p, strerror(errno));
}

static void test_walk_tree(void)
{
    char root[600], outside[600];
    snprintf(root, sizeof root, "%s/tree", ds_test_tmpdir);
    snprintf(outside, sizeof outside, "%s/outside", ds_test_tmpdir);
    mkdir(outside, 0755);
    mkfile(outside, "secret.tif");
    mkdir(root, 0755);
    mkfile(root, "b.tif");
    mkfile(root, "a.txt");
    mkfile(root, "a-b.tif");
    mk(root, "a", NULL);
    mkfile(root, "a/x.tif");
    mk(root, "a/y", NULL);
    mkfile(root, "a/y/z.tif");
    mk(root, "a/y/up", "../.."); /* a loop back to the root */
    mk(root, "c", NULL);          /* empty */
    mk(root, "d_link", "e");      /* walked under this name, before e */
    mk(root, "e", NULL);
    mkfile(root, "e/f.tif");
    mk(root, "file_link", "b.tif");
    mk(root, "out_link", "../outside");
    mk(root, "out_file", "../outside/secret.tif");
    mk(root, "dangling", "nowhere");
    mk(root, "self", ".");
    char fifo[700];
    snprintf(fifo, sizeof fifo, "%s/fifo", root);
    CHECK(mkfifo(fifo, 0644) == 0);

    walk_log w = {.root = root};
    ds_err err;
    CHECKF(arc_walk(root, on_file, on_skip, &w, &err) == 0, "%s", err.msg);
    char expect[2048];
    snprintf(expect, sizeof expect,
             "a-b.tif\na.txt\na/x.tif\n"
             "skip a/y/up: a directory already walked (a symbolic link loop, or a second link "
             "to it)\n"
             "a/y/z.tif\nb.tif\nd_link/f.tif\n"
             "skip dangling: a symbolic link that leads nowhere: No such file or directory\n"
             "skip e: a directory already walked (a symbolic link loop, or a second link to it)\n"
             "skip fifo: a FIFO\n"
             "file_link\n"
             "skip out_file: a symbolic link leading out of the root (to %s/secret.tif)\n"
             "skip out_link: a symbolic link leading out of the root (to %s)\n"
             "skip self: a directory already walked (a symbolic link loop, or a second link to "
             "it)\n", outside, outside);
    CHECKF(!strcmp(w.text, expect), "walk gave:\n%s\nexpected:\n%s", w.text, expect);

    /* The same again: the order does not depend on the directory's order. */
    walk_log again = {.root = root};
    CHECK(arc_walk(root, on_file, NULL, &again, &err) == 0);
    CHECK(again.files == 7);

    /* A trailing '/' on the root changes no relative path. */
    char slashed[700];
    snprintf(slashed, sizeof slashed, "%s/", root);
    walk_log s2 = {.root = root};
    CHECK(arc_walk(slashed, on_file, NULL, &s2, &err) == 0 && s2.files == 7);

    /* The callback stops the walk with its own value. */
    walk_log stop = {.root = root, .stop_at = 2};
    CHECK(arc_walk(root, on_file, NULL, &stop, &err) == 7);
    CHECKF(!strcmp(stop.text, "a-b.tif\na.txt\n"), "%s", stop.text);
}

/* Walk root as the user nobody (when running as root, where chmod 000 stops
 * nothing) in a child process; its log comes back through a pipe. Returns
 * the child's exit status, or -1 when it could not be run. */
static int walk_as_nobody(const char *root, walk_log *w)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
            _exit(3);
        ds_err err;
        int rc = arc_walk(root, on_file, on_skip, w, &err);
        size_t n = strlen(w->text);
        _exit(write(fds[1], w->text, n) == (ssize_t)n && rc == 0 ? 0 : 4);
    }
    close(fds[1]);
    size_t got = 0;
    ssize_t n;
    while (pid > 0 && (n = read(fds[0], w->text + got, sizeof w->text - 1 - got)) > 0)
        got += (size_t)n;
    w->text[got] = '\0';
    close(fds[0]);
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_walk_unreadable(void)
{
    char root[600];
    snprintf(root, sizeof root, "%s/locked", ds_test_tmpdir);
    mkdir(root, 0755);
    mkfile(root, "ok.tif");
    mkfile(root, "no.tif");
    mk(root, "shut", NULL);
    mkfile(root, "shut/inside.tif");
    char no[700], shut[700];
    snprintf(no, sizeof no, "%s/no.tif", root);
    snprintf(shut, sizeof shut, "%s/shut", root);
    CHECK(chmod(no, 0) == 0 && chmod(shut, 0) == 0);
    walk_log w = {.root = root};
    if (geteuid() != 0) {
        ds_err err;
        CHECKF(arc_walk(root, on_file, on_skip, &w, &err) == 0, "%s", err.msg);
    } else {
        /* As root, walk as nobody; the suite's tmpdir (0700) must let it in. */
        struct stat st;
        CHECK(stat(ds_test_tmpdir, &st) == 0 && chmod(ds_test_tmpdir, 0755) == 0);
        chmod(root, 0755);
        int rc = walk_as_nobody(root, &w);
        chmod(ds_test_tmpdir, st.st_mode & 07777);
        if (rc == 3 || rc == -1) {
            chmod(shut, 0755);
            SKIP("running as root and cannot become nobody: chmod 000 does not stop root");
        }
        CHECKF(rc == 0, "the walk as nobody exited %d", rc);
    }
    chmod(shut, 0755); /* so that the suite's tmpdir can be removed */
    CHECKF(!strcmp(w.text, "skip no.tif: the file cannot be read: Permission denied\n"
                           "ok.tif\n"
                           "skip shut: the directory cannot be opened: Permission denied\n"),
           "%s", w.text);
}

static void test_walk_bad_roots(void)
{
    ds_err err;
    walk_log w = {.root = ""};
    char p[700];
    snprintf(p, sizeof p, "%s/no-such-dir", ds_test_tmpdir);
    CHECK(arc_walk(p, on_file, on_skip, &w, &err) == -1);
    CHECK(err.code == DS_ENOTFOUND);
    CHECK_MSG(err, "no-such-dir");
    snprintf(p, sizeof p, "%s/plain-file", ds_test_tmpdir);
    CHECK(ds_test_write_file(p, "x", 1) == 0);
    CHECK(arc_walk(p, on_file, on_skip, &w, &err) == -1 && err.code == DS_EINVAL);
    CHECK(arc_walk(NULL, on_file, on_skip, &w, &err) == -1 && err.code == DS_EINVAL);
    CHECK(w.files == 0);
}

/* Too deep, and a path past PATH_MAX (built with *at calls, as no single
 * path can name it): both passed over with a reason. */
static void test_walk_deep(void)
{
    char root[600];
    snprintf(root, sizeof root, "%s/deep", ds_test_tmpdir);
    mkdir(root, 0755);
    int fd = open(root, O_RDONLY | O_DIRECTORY);
    for (int i = 0; i < 70 && fd >= 0; i++) {
        mkdirat(fd, "d", 0755);
        int sub = openat(fd, "d", O_RDONLY | O_DIRECTORY);
        close(fd);
        fd = sub;
    }
    CHECK(fd >= 0);
    close(fd);
    char name[201];
    memset(name, 'n', 200);
    name[200] = '\0';
    fd = open(root, O_RDONLY | O_DIRECTORY);
    mkdirat(fd, "long", 0755);
    int sub = openat(fd, "long", O_RDONLY | O_DIRECTORY);
    close(fd);
    fd = sub;
    for (int i = 0; i < 25 && fd >= 0; i++) {
        mkdirat(fd, name, 0755);
        sub = openat(fd, name, O_RDONLY | O_DIRECTORY);
        close(fd);
        fd = sub;
    }
    CHECK(fd >= 0);
    int f = openat(fd, "bottom.tif", O_WRONLY | O_CREAT, 0644);
    CHECK(f >= 0);
    close(f);
    close(fd);
    mkfile(root, "top.tif");

    walk_log w = {.root = root};
    ds_err err;
    CHECKF(arc_walk(root, on_file, on_skip, &w, &err) == 0, "%s", err.msg);
    CHECKF(strstr(w.text, ": deeper than 64 directory levels\n") &&
           strstr(w.text, "/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d"),
           "%s", w.text);
    CHECKF(strstr(w.text, ": its path is longer than PATH_MAX (4096 bytes)\n"), "%s", w.text);
    CHECK(w.files == 1 && strstr(w.text, "top.tif\n"));
}

const ds_test arc_tests[] = {
    {"member names: the unsafe are refused with a reason", test_name_check},
    {"a USPTO weekly tar of design ZIPs, each opened from memory", test_uspto_weekly_tar},
    {"a plain zip: \"./\" dropped, directories passed over", test_plain_zip},
    {"tar.gz, .bz2, .xz, .lzma, .zst, .lz are read as streams", test_compressed_tars},
    {"../, absolute and control-character names refused, the rest read", test_hostile_names},
    {"symlinks, hard links and devices are refused", test_links_and_devices},
    {"an encrypted zip member is refused", test_encrypted_zip},
    {"max_members stops an archive of too many members", test_max_members},
    {"a truncated tar is an error naming the member", test_truncated_tar},
    {"a truncated zip, cut anywhere, is an error, never a crash", test_truncated_zip},
    {"a corrupt zip member is an error naming it", test_corrupt_zip},
    {"non-archives (text, mtree, empty) are refused", test_not_archives},
    {"reading twice, before arc_next or a refused member is refused", test_misuse},
    {"a zip bomb's declared size refuses it; the archive goes on", test_bomb_declared_size},
    {"a zip bomb is stopped by the ratio, in bounded memory", test_bomb_ratio},
    {"a zip bomb lying about its size is stopped by max_member and max_total",
     test_bomb_lying_size},
    {"a bomb in a refused tar.gz member is counted while skipped",
     test_bomb_in_refused_tar_gz_member},
    {"walk: byte order, links inside followed, outside and loops passed over",
     test_walk_tree},
    {"walk: unreadable files and directories are reported, the walk goes on",
     test_walk_unreadable},
    {"walk: a missing root or a file as root is an error", test_walk_bad_roots},
    {"walk: too deep and too long paths are passed over with a reason", test_walk_deep},
    {0},
};
