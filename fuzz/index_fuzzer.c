/* index_fuzzer.c - fuzz target for the index file loader: the layout checks
 * of flat and IVF payloads, and the arrays then served from the mapping.
 *
 * The file's checksum would turn away almost every mutated input before
 * the layout is read, so the input is the header's fields and a payload,
 * and the target writes them as a file with a correct checksum (through
 * the same writer idx_save uses). Input: kind u8, flags u8, dim u16,
 * count u32, nlist u16, nprobe u16, 4 bytes unused, then the payload.
 * Whatever loads is searched, changed (which copies it out of the mapping),
 * saved and freed: a crash or sanitizer report anywhere is a finding.
 * Replay with `make build/fuzz/index_fuzzer_replay &&
 * build/fuzz/index_fuzzer_replay fuzz/corpus/index_fuzzer`. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "index/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { PREFIX = 16, MAX_DIM = 64 };

static void exercise(idx_index *ix, int dim, const char *path)
{
    ds_err err;
    float q[MAX_DIM];
    for (int d = 0; d < dim; d++)
        q[d] = (d % 3 == 0) ? 0.5f : -0.25f;
    idx_hit hits[8];
    int got;
    idx_search(ix, q, 8, NULL, hits, &got, &err);
    idx_save(ix, path, 1, &err);
    int64_t id = 12345;
    idx_add(ix, &id, q, 1, &err);
    idx_search(ix, q, 8, NULL, hits, &got, &err);
    idx_remove(ix, &id, 1, &err);
    idx_stats st;
    idx_stats_get(ix, &st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < PREFIX)
        return 0;
    uint16_t dim, nlist, nprobe;
    uint32_t count;
    memcpy(&dim, data + 2, 2);
    memcpy(&count, data + 4, 4);
    memcpy(&nlist, data + 8, 2);
    memcpy(&nprobe, data + 10, 2);
    if (dim < 1 || dim > MAX_DIM)
        return 0;
    char path[64];
    snprintf(path, sizeof path, "/tmp/dinoseek-index-fuzz-%d.idx", (int)getpid());
    ds_err err;
    idx_writer w;
    idx_file_header h;
    memset(&h, 0, sizeof h);
    h.kind = data[0] % 3; /* 0 is no kind: refused */
    h.flags = data[1];
    h.dim = dim;
    h.count = count;
    h.nlist = nlist;
    h.nprobe = nprobe;
    h.tag = 7;
    if (idx_writer_open(&w, path, &err) ||
        idx_writer_put(&w, data + PREFIX, size - PREFIX, &err) ||
        idx_writer_commit(&w, &h, &err)) {
        idx_writer_abort(&w);
        return 0;
    }
    idx_index *ix = NULL;
    if (idx_load(path, 0, 7, &ix, &err) == 0)
        exercise(ix, dim, path);
    idx_free(ix);
    unlink(path);
    return 0;
}
