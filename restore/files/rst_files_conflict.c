/* rst_files_conflict.c: before a restore writes anything, find the entries
 * whose path already holds something else in the target. "Identical" is
 * the test the backup's files cache uses (same type; files: same size and
 * modification time; symlinks: same target), so a second restore of the
 * same snapshot into the same place is not refused. Runs with the working
 * directory set to the target (rst_files_restore). */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "restore/files/rst_files_int.h"

#define SHOW_MAX 5

static bool same_link(const char *path, const char *want)
{
    char buf[4096];
    ssize_t n = readlink(path, buf, sizeof buf);
    return n >= 0 && (size_t)n == strlen(want) && !memcmp(buf, want, (size_t)n);
}

/* Whether the existing st at e->path is what the snapshot holds there. */
static bool same_entry(const SrcFilesEntry *e, const struct stat *st)
{
    switch (e->type) {
    case SRC_FILES_DIR: return S_ISDIR(st->st_mode);
    case SRC_FILES_SYMLINK: return S_ISLNK(st->st_mode) && e->link && same_link(e->path, e->link);
    case SRC_FILES_FIFO: return S_ISFIFO(st->st_mode);
    case SRC_FILES_CHAR: return S_ISCHR(st->st_mode);
    case SRC_FILES_BLOCK: return S_ISBLK(st->st_mode);
    case SRC_FILES_FILE:
    case SRC_FILES_HARDLINK: {
        if (!S_ISREG(st->st_mode) || (uint64_t)st->st_size != e->size) return false;
        int64_t ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
        /* a file system without sub-second times keeps the seconds only */
        return ns == e->mtime_ns ||
               (st->st_mtim.tv_nsec == 0 && st->st_mtim.tv_sec == e->mtime_ns / 1000000000);
    }
    default: return false;
    }
}

bool rst_files_dir_is_empty(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    bool empty = true;
    if (!d) return errno == ENOENT;
    while (empty && (de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) empty = false;
    closedir(d);
    return empty;
}

int rst_files_conflicts(Repo *r, const json_t *const *items, size_t nitems, const char *const *inc,
                        size_t ninc, const char *target, Err *err)
{
    char shown[SHOW_MAX * 200 + 16] = "";
    size_t len = 0;
    uint64_t count = 0;
    int rc = 0;

    for (size_t i = 0; i < nitems && !rc; i++) {
        SrcFilesTree *t = NULL;
        SrcFilesEntry e = {0};
        rc = src_files_tree_open(r, items[i], &t, err);
        while (!rc) {
            int n = src_files_tree_next(t, &e, err);
            if (n == 0) break;
            if (n != 1) {
                rc = n;
                break;
            }
            int sel = rst_files_path_select(e.path, inc, ninc, NULL);
            if (sel == RST_SEL_NONE || (sel == RST_SEL_PARENT && e.type != SRC_FILES_DIR)) continue;
            if (rst_files_path_check(e.path, err)) {   /* the restore refuses it, naming it */
                err_clear(err);
                continue;
            }
            struct stat st;
            if (lstat(e.path, &st) != 0) continue;   /* missing (or unreachable): nothing to lose */
            if (same_entry(&e, &st)) continue;
            if (count < SHOW_MAX) {
                char pp[200];
                len += (size_t)snprintf(shown + len, sizeof shown - len, "%s%s", count ? ", " : "",
                                        src_files_path_print(e.path, pp, sizeof pp));
            }
            count++;
        }
        src_files_entry_clear(&e);
        src_files_tree_close(t);
    }
    if (rc) return err_wrap(err, "compare the target with the snapshot");
    if (count) {
        char pp[512];
        return err_set(err, ERR_EXISTS,
                       "target %s holds %llu path(s) that differ from the snapshot's (%s%s): "
                       "nothing was written; use --overwrite to replace them or restore elsewhere",
                       src_files_path_print(target, pp, sizeof pp), (unsigned long long)count, shown,
                       count > SHOW_MAX ? ", ..." : "");
    }
    return 0;
}
