/* files_backup.c: the tree walk of a files backup. Our own recursive walk
 * reads each directory whole, sorts the names bytewise and recurses, so
 * the entry order is the tree order of src_files.h. The previous tree of the
 * same item (the files cache) is read alongside in the same order, a merge
 * join that needs no table in memory.
 * Invariant: an entry reuses a cached chunk list only when size, mtime,
 * ctime and inode all match and every chunk is still in the repository. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive_entry.h>

#include "engine/common/log.h"
#include "engine/source/files/files_int.h"

#define DIR_ENTRIES_MAX ((size_t)1 << 24)   /* names of one directory held for sorting */

/* (dev, ino) -> first path, for hard links among regular files. */
typedef struct HlSlot {
    uint64_t dev, ino;
    char *path;            /* NULL = empty slot */
    json_t *data;
    uint64_t size;
    uint64_t *sparse;
    size_t nsparse;
} HlSlot;

typedef struct Walk {
    Repo *repo;
    const SrcFilesOptions *opt;
    struct archive *rd;
    RepoStream *tree;
    Buf line;
    SrcFilesTree *prev;    /* files cache cursor; NULL when none or given up */
    SrcFilesEntry pe;      /* current cache entry when have_pe */
    bool have_pe;
    HlSlot *hl;
    size_t hl_cap, hl_n;
    uint8_t *iobuf;
    Progress *prog;
    SrcFilesStats st;
} Walk;

/* ---- hard links ----------------------------------------------------- */

static size_t hl_hash(uint64_t dev, uint64_t ino)
{
    uint64_t h = (dev * 0x9e3779b97f4a7c15ULL) ^ (ino * 0xc2b2ae3d27d4eb4fULL);
    return (size_t)(h ^ (h >> 29));
}

static HlSlot *hl_find(Walk *w, uint64_t dev, uint64_t ino)
{
    if (!w->hl_cap) return NULL;
    for (size_t i = hl_hash(dev, ino) & (w->hl_cap - 1);; i = (i + 1) & (w->hl_cap - 1)) {
        HlSlot *s = &w->hl[i];
        if (!s->path || (s->dev == dev && s->ino == ino)) return s;
    }
}

static int hl_add(Walk *w, const SrcFilesEntry *e, Err *err)
{
    if ((w->hl_n + 1) * 2 > w->hl_cap) {
        size_t nc = w->hl_cap ? 2 * w->hl_cap : 64;
        HlSlot *old = w->hl;
        size_t oc = w->hl_cap;
        w->hl = calloc(nc, sizeof(*w->hl));
        if (!w->hl) {
            w->hl = old;
            return err_set(err, ERR_NOMEM, "hard link table");
        }
        w->hl_cap = nc;
        for (size_t i = 0; i < oc; i++)
            if (old[i].path) *hl_find(w, old[i].dev, old[i].ino) = old[i];
        free(old);
    }
    HlSlot *s = hl_find(w, e->dev, e->ino);
    s->dev = e->dev;
    s->ino = e->ino;
    s->path = strdup(e->path);
    s->data = json_incref(e->data);
    s->size = e->size;
    s->nsparse = e->nsparse;
    s->sparse = NULL;
    if (e->nsparse) {
        s->sparse = malloc(e->nsparse * 2 * sizeof(uint64_t));
        if (s->sparse) memcpy(s->sparse, e->sparse, e->nsparse * 2 * sizeof(uint64_t));
    }
    if (!s->path || (e->nsparse && !s->sparse)) {
        free(s->path);
        s->path = NULL;
        json_decref(s->data);
        return err_set(err, ERR_NOMEM, "hard link table");
    }
    w->hl_n++;
    return 0;
}

static void hl_free(Walk *w)
{
    for (size_t i = 0; i < w->hl_cap; i++) {
        free(w->hl[i].path);
        json_decref(w->hl[i].data);
        free(w->hl[i].sparse);
    }
    free(w->hl);
}

/* ---- files cache ---------------------------------------------------- */

/* Move the cache cursor to the first entry >= path. A damaged previous
 * tree only disables the cache (with a warning): it must not fail a backup. */
static void cache_seek(Walk *w, const char *path)
{
    Err e2;
    err_clear(&e2);
    while (w->prev) {
        if (w->have_pe && src_files_path_cmp(w->pe.path, path) >= 0) return;
        int rc = src_files_tree_next(w->prev, &w->pe, &e2);
        if (rc == 1) {
            w->have_pe = true;
            continue;
        }
        if (rc != 0) log_warn("files cache disabled: %s", e2.msg);
        src_files_tree_close(w->prev);
        w->prev = NULL;
        w->have_pe = false;
    }
}

/* Reuse the cached chunk list when the file is unchanged. 1 = reused. */
static int cache_use(Walk *w, const struct stat *st, SrcFilesEntry *e, Err *err)
{
    cache_seek(w, e->path);
    if (!w->have_pe || strcmp(w->pe.path, e->path) != 0) return 0;
    const SrcFilesEntry *p = &w->pe;
    if (p->type != SRC_FILES_FILE || p->size != (uint64_t)st->st_size ||
        p->mtime_ns != e->mtime_ns || p->ctime_ns != e->ctime_ns || p->ino != e->ino)
        return 0;
    RepoStreamRef ref = {0};
    Err e2;
    err_clear(&e2);
    if (repo_streamref_from_json(p->data, &ref, &e2)) return 0;
    bool known = ref.size == (p->nsparse ? ref.size : p->size);
    for (size_t i = 0; known && i < ref.nchunks; i++) known = repo_blob_known(w->repo, &ref.chunks[i]);
    repo_streamref_free(&ref);
    if (!known) return 0;
    e->data = json_deep_copy(p->data);
    e->size = p->size;
    if (p->nsparse) {
        e->sparse = malloc(p->nsparse * 2 * sizeof(uint64_t));
        if (!e->sparse) return err_set(err, ERR_NOMEM, "files cache");
        memcpy(e->sparse, p->sparse, p->nsparse * 2 * sizeof(uint64_t));
        e->nsparse = p->nsparse;
    }
    return e->data ? 1 : err_set(err, ERR_NOMEM, "files cache");
}

/* ---- the walk -------------------------------------------------------- */

static int emit(Walk *w, const SrcFilesEntry *e, Err *err)
{
    buf_reset(&w->line);
    int rc = src_files_entry_encode(e, &w->line, err);
    if (!rc) rc = repo_stream_write(w->tree, w->line.data, w->line.len, err);
    if (rc) return rc;
    w->st.entries++;
    switch (e->type) {
    case SRC_FILES_FILE: w->st.files++; w->st.bytes += e->size; break;
    case SRC_FILES_DIR: w->st.dirs++; break;
    case SRC_FILES_SYMLINK: w->st.symlinks++; break;
    case SRC_FILES_HARDLINK: w->st.hardlinks++; break;
    default: w->st.specials++; break;
    }
    return 0;
}

/* A failure reading one source object: fatal, or a warning and a skip
 * (1) under skip_unreadable. Vanished objects are always skipped. */
static int source_failed(Walk *w, int rc, Err *err)
{
    if (rc == ERR_NOTFOUND || (w->opt->skip_unreadable && (rc == ERR_PERM || rc == ERR_IO))) {
        log_warn("skipped: %s", err->msg);
        err_clear(err);
        w->st.skipped++;
        return 1;
    }
    return rc;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk_dir(Walk *w, Buf *abs, Buf *rel, Err *err);

/* One object: abs/rel hold its paths (NUL-terminated). */
static int walk_one(Walk *w, Buf *abs, Buf *rel, const struct stat *st, Err *err)
{
    int rc = 0, fd = -1;
    char pp[512];
    SrcFilesEntry e = {0};
    const char *ap = (const char *)abs->data;

    e.path = strdup((const char *)rel->data);
    if (!e.path) return err_set(err, ERR_NOMEM, "walk");
    rc = files_meta_fill(w->rd, ap, st, &e, err);
    if (rc == ERR_UNSUPPORTED) {            /* a socket: nothing to restore */
        log_debug("%s", err->msg);
        err_clear(err);
        rc = 0;
        goto out;
    }
    if (rc) {
        rc = source_failed(w, rc, err) == 1 ? 0 : rc;
        goto out;
    }
    if (e.type == SRC_FILES_FILE) {
        if (st->st_nlink > 1) {
            HlSlot *s = hl_find(w, e.dev, e.ino);
            if (s && s->path) {
                e.type = SRC_FILES_HARDLINK;
                e.link = strdup(s->path);
                e.data = json_incref(s->data);
                e.size = s->size;
                if (s->nsparse) {
                    e.sparse = malloc(s->nsparse * 2 * sizeof(uint64_t));
                    if (e.sparse) memcpy(e.sparse, s->sparse, s->nsparse * 2 * sizeof(uint64_t));
                    e.nsparse = s->nsparse;
                }
                if (!e.link || (s->nsparse && !e.sparse)) {
                    rc = err_set(err, ERR_NOMEM, "walk");
                    goto out;
                }
                rc = emit(w, &e, err);
                goto out;
            }
            e.nlink = (uint32_t)(st->st_nlink > UINT32_MAX ? UINT32_MAX : st->st_nlink);
        }
        rc = cache_use(w, st, &e, err);
        if (rc < 0 || rc > 1) goto out;
        if (rc == 1) {
            w->st.files_cached++;
            progress_add(w->prog, e.size, 1);
        } else {
            uint64_t got = 0;
            fd = open(ap, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);
            if (fd < 0 && errno == EPERM) fd = open(ap, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0) {
                rc = err_sys(err, errno, "open %s", src_files_path_print(ap, pp, sizeof(pp)));
                rc = source_failed(w, rc, err) == 1 ? 0 : rc;
                goto out;
            }
            rc = files_read_content(w->repo, fd, st, w->iobuf, w->prog, &e, &got, err);
            if (rc) {
                err_wrap(err, "read %s", src_files_path_print(ap, pp, sizeof(pp)));
                rc = source_failed(w, rc, err) == 1 ? 0 : rc;
                goto out;
            }
            w->st.files_read++;
            w->st.bytes_read += got;
            progress_add(w->prog, 0, 1);
        }
        rc = 0;
        if (e.nlink > 1 && (rc = hl_add(w, &e, err))) goto out;
    }
    rc = emit(w, &e, err);
    if (!rc && e.type == SRC_FILES_DIR) rc = walk_dir(w, abs, rel, err);
out:
    if (fd >= 0) close(fd);
    src_files_entry_clear(&e);
    return rc;
}

/* Set b to its first n bytes plus "/" name, NUL-terminated. */
static int path_join(Buf *b, size_t n, const char *name, Err *err)
{
    b->len = n;
    int rc = buf_append(b, "/", 1, err);
    if (!rc) rc = buf_append_str(b, name, err);
    return rc;
}

static int walk_dir(Walk *w, Buf *abs, Buf *rel, Err *err)
{
    int rc = 0;
    char pp[512];
    char **names = NULL;
    size_t n = 0, cap = 0;
    const size_t alen = abs->len, rlen = rel->len;
    DIR *d = opendir((const char *)abs->data);

    if (!d) {
        rc = err_sys(err, errno, "open directory %s",
                     src_files_path_print((const char *)abs->data, pp, sizeof(pp)));
        return source_failed(w, rc, err) == 1 ? 0 : rc;
    }
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno) rc = err_sys(err, errno, "read directory %s",
                                    src_files_path_print((const char *)abs->data, pp, sizeof(pp)));
            break;
        }
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        if ((rc = buf_grow(&names, &cap, n + 1, sizeof(*names), DIR_ENTRIES_MAX, err))) {
            err_wrap(err, "list directory %s", src_files_path_print((const char *)abs->data, pp, sizeof(pp)));
            break;
        }
        if (!(names[n] = strdup(de->d_name))) { rc = err_set(err, ERR_NOMEM, "directory listing"); break; }
        n++;
    }
    closedir(d);                          /* one fd per level at most, and only briefly */
    if (rc) goto out;
    if (n) qsort(names, n, sizeof(*names), cmp_names);
    for (size_t i = 0; i < n && !rc; i++) {
        struct stat st;
        rc = path_join(abs, alen, names[i], err);
        if (!rc) rc = path_join(rel, rlen, names[i], err);
        if (rc) break;
        if (lstat((const char *)abs->data, &st) != 0) {
            rc = err_sys(err, errno, "stat %s", src_files_path_print((const char *)abs->data, pp, sizeof(pp)));
            rc = source_failed(w, rc, err) == 1 ? 0 : rc;
            continue;
        }
        rc = walk_one(w, abs, rel, &st, err);
    }
out:
    abs->len = alen;
    rel->len = rlen;
    if (abs->data) abs->data[alen] = 0;
    if (rel->data) rel->data[rlen] = 0;
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return rc;
}

char *src_files_root_name(const char *root)
{
    char cwd[PATH_MAX];
    char *r;
    size_t n = strlen(root);
    while (n > 1 && root[n - 1] == '/') n--;
    if (root[0] == '/') return strndup(root, n);
    if (!getcwd(cwd, sizeof(cwd))) return NULL;
    r = malloc(strlen(cwd) + n + 2);
    if (r) sprintf(r, "%s/%.*s", strcmp(cwd, "/") ? cwd : "", (int)n, root);
    return r;
}

int src_files_backup(Repo *r, const char *item_name, const char *root, const SrcFilesOptions *opt,
                     const json_t *parent_item, json_t **out_item, SrcFilesStats *stats,
                     Err *err)
{
    int rc = 0;
    char pp[512];
    Walk w = {0};
    Buf abs, rel;
    RepoStreamRef ref = {0};
    SrcFilesOptions defopt = {0};
    char *rabs = NULL;
    json_t *item = NULL;
    struct stat st;

    *out_item = NULL;
    buf_init(&abs, (size_t)1 << 20);
    buf_init(&rel, (size_t)1 << 20);
    buf_init(&w.line, (size_t)256 << 20);
    w.repo = r;
    w.opt = opt ? opt : &defopt;
    rabs = src_files_root_name(root);
    if (!rabs) {
        rc = err_sys(err, errno, "resolve %s", src_files_path_print(root, pp, sizeof(pp)));
        goto out;
    }
    const char *base = strrchr(rabs, '/') + 1;
    if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) {
        rc = err_set(err, ERR_INVALID, "cannot back up %s: name the directory itself (its last "
                     "component becomes the top of the tree)", src_files_path_print(root, pp, sizeof(pp)));
        goto out;
    }
    if (lstat(root, &st) != 0) {
        rc = err_sys(err, errno, "stat %s", src_files_path_print(root, pp, sizeof(pp)));
        goto out;
    }
    w.iobuf = malloc(FILES_IOBUF_SIZE);
    w.rd = archive_read_disk_new();
    if (!w.iobuf || !w.rd) {
        rc = err_set(err, ERR_NOMEM, "files backup");
        goto out;
    }
    if (archive_read_disk_set_standard_lookup(w.rd) != ARCHIVE_OK ||
        archive_read_disk_set_behavior(w.rd, ARCHIVE_READDISK_NO_SPARSE) != ARCHIVE_OK ||
        archive_read_disk_set_symlink_physical(w.rd) != ARCHIVE_OK) {
        rc = err_set(err, ERR_IO, "set up archive_read_disk: %s", archive_error_string(w.rd));
        goto out;
    }
    if (parent_item) {
        Err e2;
        err_clear(&e2);
        if (src_files_tree_open(r, parent_item, &w.prev, &e2))
            log_warn("files cache disabled: %s", e2.msg);
    }
    /* The walk reads as it scans (one pass, bounded memory), so the tree's
     * size is not known before the end: the previous backup of the same item
     * (the files cache) gives the expected total and so an ETA; a first
     * backup shows bytes and files without one. */
    uint64_t expect = 0;
    if (parent_item && w.prev) expect = (uint64_t)json_integer_value(json_object_get(parent_item, "bytes"));
    w.prog = progress_new("files", expect, 0, w.opt->progress);
    rc = repo_stream_begin(r, REPO_CHUNK_DUMP, &w.tree, err);
    if (rc) goto out;
    /* st comes from the root as given (a trailing slash follows a symlinked
     * root on purpose); rel starts at the root's basename. */
    rc = buf_append_str(&abs, rabs, err);
    if (!rc) rc = buf_append_str(&rel, base, err);
    if (rc) goto out;
    rc = walk_one(&w, &abs, &rel, &st, err);
    if (rc) goto out;
    rc = repo_stream_end(w.tree, &ref, err);
    w.tree = NULL;
    if (rc) goto out;
    /* "nested":"jsonl" lets check descend into the tree and verify the
     * chunks of every file's data reference. */
    json_t *tj = repo_streamref_to_json(&ref);
    if (tj) json_object_set_new(tj, "nested", json_string("jsonl"));
    item = json_pack("{s:s, s:s, s:i, s:o, s:I, s:I, s:I, s:I}", "kind", SRC_FILES_ITEM_TYPE,
                     "name", item_name, "tree_version", SRC_FILES_TREE_VERSION, "tree",
                     tj, "entries", (json_int_t)w.st.entries, "files",
                     (json_int_t)w.st.files, "dirs", (json_int_t)w.st.dirs, "bytes",
                     (json_int_t)w.st.bytes);
    if (!item) {
        rc = err_set(err, ERR_INVALID, "files item: name %s is not valid UTF-8", item_name);
        goto out;
    }
    json_t *rj = json_string(rabs);
    if (rj) json_object_set_new(item, "root", rj);
    *out_item = item;
    item = NULL;
    if (stats) *stats = w.st;
out:
    if (rc) err_wrap(err, "back up %s", src_files_path_print(root, pp, sizeof(pp)));
    repo_stream_abort(w.tree);
    repo_streamref_free(&ref);
    progress_done(w.prog);
    src_files_tree_close(w.prev);
    src_files_entry_clear(&w.pe);
    hl_free(&w);
    if (w.rd) archive_read_free(w.rd);
    free(w.iobuf);
    buf_free(&abs);
    buf_free(&rel);
    buf_free(&w.line);
    free(rabs);
    json_decref(item);
    return rc;
}

/* ---- parent lookup ------------------------------------------------------ */

typedef struct FindCtx {
    const char *instance, *name;
    json_t *found;
} FindCtx;

static int find_cb(void *ctx, const Id *id, json_t *manifest, Err *err)
{
    FindCtx *f = ctx;
    size_t i;
    json_t *it;
    (void)id;
    (void)err;
    const char *inst = json_string_value(json_object_get(manifest, "instance"));
    if (!inst || strcmp(inst, f->instance)) return 0;
    json_array_foreach(json_object_get(manifest, "items"), i, it) {
        const char *t = json_string_value(json_object_get(it, "kind"));
        const char *n = json_string_value(json_object_get(it, "name"));
        if (t && n && !strcmp(t, SRC_FILES_ITEM_TYPE) && !strcmp(n, f->name)) {
            json_decref(f->found);           /* oldest first: keep the newest */
            f->found = json_incref(it);
        }
    }
    return 0;
}

int src_files_find_parent(Repo *r, const char *instance, const char *item_name, json_t **out,
                          Err *err)
{
    FindCtx f = {instance, item_name, NULL};
    *out = NULL;
    int rc = repo_snapshot_list(r, find_cb, &f, err);
    if (rc) {
        json_decref(f.found);
        return err_wrap(err, "look for the previous snapshot of %s", item_name);
    }
    *out = f.found;
    return 0;
}
