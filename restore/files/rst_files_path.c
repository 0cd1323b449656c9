/* rst_files_path.c: the path checks of a files restore. A manifest is
 * untrusted input: these checks run on every entry before anything touches
 * the disk, in addition to libarchive's own secure flags. */
#include <string.h>

#include "engine/source/files/src_files.h"
#include "restore/files/rst_files.h"

int rst_files_path_check(const char *path, Err *err)
{
    char pp[512];
    const char *why = NULL;
    if (!*path) why = "empty path";
    else if (path[0] == '/') why = "absolute path";
    else {
        const char *c = path;
        while (!why) {
            const char *slash = strchr(c, '/');
            size_t n = slash ? (size_t)(slash - c) : strlen(c);
            if (n == 0) why = "empty path component";
            else if (n == 1 && c[0] == '.') why = "\".\" component";
            else if (n == 2 && c[0] == '.' && c[1] == '.') why = "\"..\" component";
            if (!slash) break;
            c = slash + 1;
        }
    }
    if (!why) return 0;
    return err_set(err, ERR_CORRUPT, "refusing unsafe path %s in snapshot: %s",
                   src_files_path_print(path, pp, sizeof(pp)), why);
}

int rst_files_path_select(const char *path, const char *const *includes, size_t ninc,
                          size_t *which)
{
    int best = RST_SEL_NONE;
    size_t pl = strlen(path);
    if (ninc == 0) return RST_SEL_ALL;
    for (size_t i = 0; i < ninc; i++) {
        const char *inc = includes[i];
        size_t il = strlen(inc);
        if (pl >= il && !memcmp(path, inc, il) && (path[il] == 0 || path[il] == '/')) {
            if (which) *which = i;
            return RST_SEL_ALL;
        }
        if (il > pl && !memcmp(path, inc, pl) && inc[pl] == '/' && best == RST_SEL_NONE) {
            best = RST_SEL_PARENT;
            if (which) *which = i;
        }
    }
    return best;
}
