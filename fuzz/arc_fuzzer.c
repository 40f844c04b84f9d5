/* arc_fuzzer.c - fuzz target for the archive reader: the input is opened as
 * an archive from memory, every member is read (small limits), and a member
 * named *.zip / *.ZIP is opened from memory in turn, one level deep, as the
 * USPTO weekly tar's ZIPs are. Any bytes must give members or an error: no
 * crash, no leak, no read out of bounds, no unsafe name let through. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arc/arc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const arc_limits limits = {
    .max_member = 1 << 20,
    .max_total = 8 << 20,
    .max_ratio = 100,
    .max_members = 1000,
};

static int is_zip(const char *name)
{
    size_t n = strlen(name);
    return n >= 4 && (!strcmp(name + n - 4, ".zip") || !strcmp(name + n - 4, ".ZIP"));
}

static void read_archive(const void *buf, size_t len, int depth)
{
    ds_err err;
    arc_reader *r = NULL;
    if (arc_open_memory(buf, len, &limits, &r, &err) != 0)
        return;
    arc_member m;
    while (arc_next(r, &m, &err) == 1) {
        if (m.refused)
            continue;
        if (arc_name_check(m.name, &err) != 0)
            abort(); /* a member handed out must have a safe name */
        void *d;
        size_t n;
        if (arc_read(r, &d, &n, &err) != 0)
            break;
        if (((char *)d)[n] != '\0' || n > limits.max_member)
            abort();
        if (depth == 0 && is_zip(m.name))
            read_archive(d, n, 1);
        free(d);
    }
    arc_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    read_archive(data, size, 0);
    ds_err err;
    arc_name_check_n((const char *)data, size < 2000 ? size : 2000, &err);
    return 0;
}
