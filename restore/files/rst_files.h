/* rst_files.h: restoring files items (engine/source/files) to disk with
 * libarchive's archive_write_disk and its secure flags, and exporting them
 * as a pax tar.
 *
 * Invariants:
 *  1. Nothing is written outside target_dir whatever the manifest says:
 *     every entry path is checked (rst_files_path_check) before use, and
 *     libarchive refuses "..", absolute paths and writing through symlinks
 *     (a symlink in the tree is restored as a symlink, never followed).
 *  2. A hard link is only made to a file restored earlier in the same run;
 *     otherwise the entry is restored as a copy of its own data.
 *  3. A file whose chunks cannot be read is removed (never left holding
 *     wrong bytes), the others go on, and the restore fails at the end
 *     naming the first damaged file. */
#ifndef TM_RESTORE_FILES_RST_FILES_H
#define TM_RESTORE_FILES_RST_FILES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/common/err.h"
#include "engine/repo/repo.h"

typedef struct RstFilesOptions {
    bool progress;           /* progress lines on stderr */
    bool overwrite;          /* replace paths in the target that differ from the snapshot's */
} RstFilesOptions;

typedef struct RstFilesStats {
    uint64_t entries;        /* entries restored */
    uint64_t files;
    uint64_t bytes;          /* content bytes written (holes not counted) */
    uint64_t failed;         /* files that could not be restored */
} RstFilesStats;

/* Restore every files item of what (a snapshot manifest, or one files
 * item) under target_dir (created when missing, with its missing parents,
 * mode 0700: rst_files_target_make).
 * Each item's tree lands at target_dir/<entry path>, the first component of
 * which is the basename of the backed-up root. includes (may be NULL) limit
 * the restore to those entry paths and their subtrees (their parent
 * directories are restored too); an include that matches nothing is
 * ERR_NOTFOUND. Only the chunks of the selected files are read.
 * A non-empty target is compared first: when a selected path exists there
 * and differs from the snapshot's (rst_files_int.h: type, size, mtime,
 * symlink target), the restore is ERR_EXISTS before anything is written,
 * unless opt->overwrite. */
int rst_files_restore(Repo *r, const json_t *what, const char *target_dir,
                      const char *const *includes, size_t ninc, const RstFilesOptions *opt,
                      RstFilesStats *stats, Err *err);

/* Write every files item of what as one pax tar stream to fd (not closed).
 * Sparse files become pax sparse entries, hard links tar hard links.
 * opt (may be NULL): progress on stderr, the total being the items' bytes. */
int rst_files_export_tar(Repo *r, const json_t *what, int fd, const RstFilesOptions *opt,
                         RstFilesStats *stats, Err *err);

/* 0 when path is a safe relative entry path: not empty, not absolute, no
 * empty, "." or ".." component; else ERR_CORRUPT naming the path and why. */
int rst_files_path_check(const char *path, Err *err);

/* Whether path is selected by includes (normalised: no leading "./" or
 * "/", no trailing "/"): RST_SEL_NONE, RST_SEL_ALL (the path or inside it),
 * RST_SEL_PARENT (a directory above an include). *which (may be NULL) gets
 * the index of the matching include. ninc == 0 selects everything. */
enum { RST_SEL_NONE = 0, RST_SEL_ALL = 1, RST_SEL_PARENT = 2 };
int rst_files_path_select(const char *path, const char *const *includes, size_t ninc,
                          size_t *which);

#endif
