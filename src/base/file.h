/* file.h - reading a whole file into memory. */
#ifndef DS_FILE_H
#define DS_FILE_H

#include <stddef.h>

/* The whole of path (a file, or anything fopen reads to its end, such as a
 * pipe), NUL-terminated so that text can be used as a string; *len (may be
 * NULL) gets its size without the NUL. NULL when it cannot be opened or
 * read, or memory runs out. Caller frees. No size limit: for files this
 * program or its tests wrote, not for outside input, which goes through
 * the readers with limits (img_*_file, the importer). */
char *ds_read_file(const char *path, size_t *len);

#endif
