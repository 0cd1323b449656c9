/* rst_files_path.c: the path checks of a files restore. A manifest is
 * untrusted input: these checks run on every entry before anything touches
 * the disk, in addition to libarchive's own secure flags. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/source/files/src_files.h"
#include "restore/files/rst_files_int.h"

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

int rst_files_target_make(const char *target, Err *err)
{
    char pp[512];
    char *p = strdup(target);
    int rc = 0;

    if (!p) return err_set(err, ERR_NOMEM, "out of memory");
    /* each missing component in turn, from the top: mkdir -p with 0700 */
    for (char *s = p + 1;; s++) {
        bool last = *s == '\0';
        if (*s != '/' && !last) continue;
        *s = '\0';
        if (s > p && s[-1] != '/' && mkdir(p, 0700) != 0 && errno != EEXIST) {
            rc = err_sys(err, errno, "create target %s (creating its missing parent %s)",
                         src_files_path_print(target, pp, sizeof pp), p);
            break;
        }
        if (last) break;
        *s = '/';
    }
    free(p);
    if (!rc) {
        struct stat st;
        if (stat(target, &st) != 0)
            rc = err_sys(err, errno, "create target %s", src_files_path_print(target, pp, sizeof pp));
        else if (!S_ISDIR(st.st_mode))
            rc = err_set(err, ERR_INVALID, "target %s exists and is not a directory",
                         src_files_path_print(target, pp, sizeof pp));
    }
    return rc;
}
