/* fingerprint.c - the sha256 of a model's weights, cached (see fingerprint.h). */
#include "model/fingerprint.h"
#include "base/str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What must be unchanged for a cached digest to still be the file's. */
static void identity_of(const struct stat *st, char *out, size_t n)
{
    snprintf(out, n, "%lld %lld.%09ld %lld.%09ld %llu", (long long)st->st_size,
             (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec, (long long)st->st_ctim.tv_sec,
             st->st_ctim.tv_nsec, (unsigned long long)st->st_ino);
}

static int is_hex64(const char *s)
{
    for (int i = 0; i < DS_SHA256_HEXLEN; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return s[DS_SHA256_HEXLEN] == '\0';
}

/* The cached digest, when the cache describes the file as it is now. */
static int read_cache(const char *path, const char *identity, char hex[DS_SHA256_HEXLEN + 1])
{
    char line[256];
    FILE *fp = fopen(path, "r");
    if (!fp)
        return -1;
    int ok = fgets(line, sizeof line, fp) != NULL;
    fclose(fp);
    line[strcspn(line, "\n")] = '\0';
    if (!ok || strlen(line) <= DS_SHA256_HEXLEN || line[DS_SHA256_HEXLEN] != ' ' ||
        strcmp(line + DS_SHA256_HEXLEN + 1, identity) != 0)
        return -1;
    line[DS_SHA256_HEXLEN] = '\0';
    if (!is_hex64(line))
        return -1;
    memcpy(hex, line, DS_SHA256_HEXLEN + 1);
    return 0;
}

/* Best effort, through a temporary file and a rename so that a process
 * reading the cache meanwhile never sees half a line. */
static void write_cache(const char *path, const char *identity, const char *hex)
{
    char tmp[4300];
    if (ds_snprintf(tmp, sizeof tmp, NULL, "%s.%ld.tmp", path, (long)getpid()) != 0)
        return;
    FILE *fp = fopen(tmp, "w");
    if (!fp)
        return;
    int ok = fprintf(fp, "%s %s\n", hex, identity) > 0;
    ok = fclose(fp) == 0 && ok;
    if (!ok || rename(tmp, path) != 0)
        unlink(tmp);
}

static int hash_file(int fd, const char *path, char hex[DS_SHA256_HEXLEN + 1], ds_err *err)
{
    enum { CHUNK = 1 << 20 };
    unsigned char *buf = malloc(CHUNK);
    if (!buf)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    ds_sha256 s;
    ds_sha256_init(&s);
    ssize_t got;
    while ((got = read(fd, buf, CHUNK)) != 0) {
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            free(buf);
            return ds_fail(err, DS_EIO, "%s: %s", path, strerror(errno));
        }
        ds_sha256_update(&s, buf, (size_t)got);
    }
    free(buf);
    uint8_t d[DS_SHA256_LEN];
    ds_sha256_final(&s, d);
    ds_sha256_hex(d, hex);
    return 0;
}

int mdl_weights_sha256(const char *dir, char hex[DS_SHA256_HEXLEN + 1], ds_err *err)
{
    char path[4096], cache[4200], identity[128], after[128];
    struct stat st;
    if (ds_snprintf(path, sizeof path, err, "%s/model.safetensors", dir) != 0 ||
        ds_snprintf(cache, sizeof cache, err, "%s.fingerprint", path) != 0)
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return ds_fail(err, e == ENOENT ? DS_ENOTFOUND : DS_EIO, "%s: %s", path, strerror(e));
    }
    identity_of(&st, identity, sizeof identity);
    if (read_cache(cache, identity, hex) == 0) {
        close(fd);
        return 0;
    }
    int rc = hash_file(fd, path, hex, err);
    /* Cache only a digest of a file nobody wrote to while it was read. */
    if (rc == 0 && fstat(fd, &st) == 0) {
        identity_of(&st, after, sizeof after);
        if (strcmp(identity, after) == 0)
            write_cache(cache, identity, hex);
    }
    close(fd);
    return rc;
}
