/* src_files.h: file-tree backups. A tree is read by our own sorted walk,
 * metadata comes from libarchive (archive_read_disk), every regular file's
 * content is one repository stream, and the tree itself is a stream of
 * entry records (JSON lines, docs/FORMAT.md "File trees") in tree order.
 *
 * Invariants:
 *  1. Tree order: parents before children, siblings in byte order of their
 *     names. src_files_path_cmp() is that order over whole paths ('/' sorts
 *     before every other byte), so a reader can check it and merge-join two
 *     trees (the files cache) without holding either in memory.
 *  2. An entry path is relative: its first component is the basename of the
 *     backed-up root, never "", ".", ".." nor absolute (readers must still
 *     check: a manifest is untrusted input on restore).
 *  3. Nothing is committed by this module: the caller puts the snapshot. */
#ifndef TM_SOURCE_FILES_SRC_FILES_H
#define TM_SOURCE_FILES_SRC_FILES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/common/buf.h"
#include "engine/common/err.h"
#include "engine/repo/repo.h"

#define SRC_FILES_ITEM_TYPE "files"
#define SRC_FILES_TREE_VERSION 1

typedef enum SrcFilesType {
    SRC_FILES_FILE = 0,
    SRC_FILES_DIR,
    SRC_FILES_SYMLINK,
    SRC_FILES_HARDLINK,   /* link = path of the first occurrence */
    SRC_FILES_FIFO,
    SRC_FILES_CHAR,
    SRC_FILES_BLOCK,
    SRC_FILES_TYPE__COUNT
} SrcFilesType;

typedef struct SrcFilesXattr {
    char *name;
    uint8_t *value;
    size_t len;
} SrcFilesXattr;

/* One tree entry. Every pointer is owned by the entry (src_files_entry_clear). */
typedef struct SrcFilesEntry {
    char *path;              /* relative, any byte but NUL */
    SrcFilesType type;
    uint32_t mode;           /* permission bits only (07777) */
    int64_t uid, gid;
    char *uname, *gname;     /* NULL when unknown */
    int64_t mtime_ns;
    int64_t ctime_ns;        /* files cache only */
    uint64_t ino, dev;       /* files cache only */
    uint32_t nlink;          /* > 1: later hard links may refer to this path */
    uint64_t size;           /* logical size (files, hard links) */
    json_t *data;            /* streamref JSON of the content (files, hard links) */
    uint64_t *sparse;        /* data extents: off0,len0,off1,len1,...; NULL = one extent */
    size_t nsparse;          /* number of extents (pairs) */
    char *link;              /* symlink target (as is) or hard-link first path */
    uint64_t rdev;           /* devices */
    SrcFilesXattr *xattrs;
    size_t nxattrs;
    char *acl_access, *acl_default, *acl_nfs4;   /* libarchive ACL text, EXTRA_ID style */
    char *fflags;            /* libarchive fflags text */
} SrcFilesEntry;

void src_files_entry_clear(SrcFilesEntry *e);   /* frees members, zeroes e */
const char *src_files_type_name(SrcFilesType t);

/* Append one record (a line ending in '\n') for e to out. */
int src_files_entry_encode(const SrcFilesEntry *e, Buf *out, Err *err);
/* Parse one record (without or with its '\n') into *out (cleared first).
 * ERR_CORRUPT naming the field on any malformed input. */
int src_files_entry_decode(const char *line, size_t len, SrcFilesEntry *out, Err *err);

/* Tree order (invariant 1): <0, 0, >0. */
int src_files_path_cmp(const char *a, const char *b);

/* Write path into buf (NUL-terminated, truncated with "..." to fit) with
 * control bytes, backslashes and invalid UTF-8 as \xNN, for messages. */
const char *src_files_path_print(const char *path, char *buf, size_t cap);

/* ---- reading a tree stream (pull, one chunk in memory) ----------------- */

typedef struct SrcFilesTree SrcFilesTree;

/* Open the tree of a files item ({"kind":"files","tree":{...}}). */
int src_files_tree_open(Repo *r, const json_t *item, SrcFilesTree **out, Err *err);
/* Next entry into *e (cleared first): 1 = got one, 0 = end, <0 never;
 * ERR_* with err set on damage, including entries out of tree order
 * (duplicates) which is ERR_CORRUPT. */
int src_files_tree_next(SrcFilesTree *t, SrcFilesEntry *e, Err *err);
void src_files_tree_close(SrcFilesTree *t);   /* accepts NULL */

/* ---- backup -------------------------------------------------------------- */

typedef struct SrcFilesOptions {
    bool skip_unreadable;    /* warn and skip unreadable files instead of failing */
    bool progress;           /* progress lines on stderr */
} SrcFilesOptions;

typedef struct SrcFilesStats {
    uint64_t entries;
    uint64_t files, dirs, symlinks, hardlinks, specials;
    uint64_t bytes;          /* logical size of regular files */
    uint64_t files_read;     /* files whose content was read (files cache misses) */
    uint64_t bytes_read;     /* content bytes read from disk */
    uint64_t files_cached;   /* files whose chunk list came from the files cache */
    uint64_t skipped;        /* vanished or (with skip_unreadable) unreadable */
} SrcFilesStats;

/* Back up one root (a directory, file or symlink) as a files item named
 * item_name. parent_item, when non-NULL, is the same item of the previous
 * snapshot: its entries are the files cache. On success *out_item is a new
 * JSON object {"kind":"files","name","root","tree","entries","files",
 * "dirs","bytes"} for the manifest; stats (may be NULL) are filled.
 * An unreadable file is an error naming it (ERR_PERM/ERR_IO) unless
 * opt->skip_unreadable; a file vanishing during the walk is skipped with a
 * warning. On error nothing is committed (data written so far is
 * unreferenced and is reused by the next run). */
int src_files_backup(Repo *r, const char *item_name, const char *root, const SrcFilesOptions *opt,
                     const json_t *parent_item, json_t **out_item, SrcFilesStats *stats,
                     Err *err);

/* The absolute form of root without trailing slashes, symlinks kept (the
 * default item name). malloc'd; NULL with errno set on failure. */
char *src_files_root_name(const char *root);

/* The files item named item_name of the newest snapshot of instance that has
 * one, as a new reference in *out (NULL when none). */
int src_files_find_parent(Repo *r, const char *instance, const char *item_name, json_t **out,
                          Err *err);

#endif
