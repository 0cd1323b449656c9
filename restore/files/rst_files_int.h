/* rst_files_int.h: helpers shared by the restore and tar export of files
 * items (inside restore/files only). */
#ifndef TM_RESTORE_FILES_RST_FILES_INT_H
#define TM_RESTORE_FILES_RST_FILES_INT_H

#include <archive.h>
#include <archive_entry.h>

#include "engine/source/files/src_files.h"
#include "restore/files/rst_files.h"

/* Fill ae (cleared by the caller) from e: type, path, mode, owner, mtime,
 * link, size, xattrs, ACLs, fflags. ERR_CORRUPT when e's ACL text does not
 * parse. Hard links are left to the caller (archive_entry_set_hardlink). */
int rst_files_entry_to_archive(const SrcFilesEntry *e, struct archive_entry *ae, Err *err);

/* Receives a file's content piece by piece at its logical offset. */
typedef int (*RstWriteFn)(void *ctx, const void *p, size_t n, uint64_t off, Err *err);
/* Read e's data stream and hand it to fn at the right offsets (through the
 * sparse map). ERR_CORRUPT when the stream does not fit the entry. */
int rst_files_feed(Repo *r, const SrcFilesEntry *e, RstWriteFn fn, void *ctx, Err *err);

/* Create target and its missing parents (mode 0700, like mkdir -p), or
 * accept it when it is a directory already; ERR_INVALID when it is
 * something else, errno's error naming the component that failed. */
int rst_files_target_make(const char *target, Err *err);

/* The files items of what (a manifest or one item): borrowed pointers in a
 * malloc'd array (*out, free() it). ERR_NOTFOUND when there are none. */
int rst_files_items(const json_t *what, const json_t ***out, size_t *n, Err *err);

/* Whether dir has no entries (or does not exist). */
bool rst_files_dir_is_empty(const char *dir);

/* With the working directory at the target: ERR_EXISTS when any selected
 * entry of items (inc as for rst_files_path_select) already exists there
 * and differs from the snapshot's (type; files: size or mtime; symlinks:
 * target), naming the count and the first few paths. Reads the trees
 * only, writes nothing. */
int rst_files_conflicts(Repo *r, const json_t *const *items, size_t nitems, const char *const *inc,
                        size_t ninc, const char *target, Err *err);

#endif
