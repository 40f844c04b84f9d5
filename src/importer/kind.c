/* kind.c - what a file is to the import, by its name (see importer.h). One
 * list, so that the importer, `dinoseek uspto parse` and the server's list
 * of import roots agree on what an archive or an image is. */
#include "importer/importer.h"

#include <string.h>
#include <strings.h>

static int ends_with(const char *name, const char *ext)
{
    size_t n = strlen(name), e = strlen(ext);
    return n > e && strcasecmp(name + n - e, ext) == 0;
}

static int any(const char *name, const char *const *exts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ends_with(name, exts[i]))
            return 1;
    return 0;
}

imp_kind imp_kind_of(const char *name)
{
    static const char *const archives[] = {".zip", ".tar", ".tgz", ".tar.gz", ".tar.bz2",
                                           ".tbz2", ".tar.xz", ".txz", ".tar.zst"};
    static const char *const images[] = {".tif", ".tiff", ".jpg", ".jpeg", ".png", ".webp",
                                         ".gif", ".bmp"};
    if (any(name, archives, sizeof archives / sizeof archives[0]))
        return IMP_ARCHIVE;
    if (ends_with(name, ".xml"))
        return IMP_XML;
    if (any(name, images, sizeof images / sizeof images[0]))
        return IMP_IMAGE;
    return IMP_OTHER;
}
