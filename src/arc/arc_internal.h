/* arc_internal.h - what the files of src/arc share; not for callers (they
 * use arc.h).
 *
 *   reader.c  the libarchive streaming reader and its limits
 *   name.c    the member name check, and quoting names for messages
 *   walk.c    the directory walker
 */
#ifndef DS_ARC_INTERNAL_H
#define DS_ARC_INTERNAL_H

#include "arc/arc.h"

/* Bytes of a name shown in a message before it is cut with "...". */
#define ARC_QUOTE_MAX 200

/* Quote s[0..n) for a message: printable bytes as they are, control bytes,
 * '\\' and '"' as \xNN (a hostile name must not drive a terminal), cut
 * after ARC_QUOTE_MAX bytes. out has cap bytes; 4 * ARC_QUOTE_MAX + 8 is
 * always enough. */
void arc__quote(const char *s, size_t n, char *out, size_t cap);

#endif
