/* rst_files_entry.c: tree entry -> libarchive entry, and a file's content
 * stream -> logical offsets through its sparse map. Shared by the disk
 * restore and the tar export. */
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "restore/files/rst_files_int.h"

int rst_files_entry_to_archive(const SrcFilesEntry *e, struct archive_entry *ae, Err *err)
{
    char pp[512];
    unsigned ft = AE_IFREG;
    switch (e->type) {
    case SRC_FILES_FILE: case SRC_FILES_HARDLINK: ft = AE_IFREG; break;
    case SRC_FILES_DIR: ft = AE_IFDIR; break;
    case SRC_FILES_SYMLINK: ft = AE_IFLNK; break;
    case SRC_FILES_FIFO: ft = AE_IFIFO; break;
    case SRC_FILES_CHAR: ft = AE_IFCHR; break;
    case SRC_FILES_BLOCK: ft = AE_IFBLK; break;
    default: return err_set(err, ERR_CORRUPT, "entry %s has a bad type", src_files_path_print(e->path, pp, sizeof(pp)));
    }
    archive_entry_copy_pathname(ae, e->path);
    archive_entry_set_filetype(ae, ft);
    archive_entry_set_perm(ae, (mode_t)e->mode);
    archive_entry_set_uid(ae, e->uid);
    archive_entry_set_gid(ae, e->gid);
    if (e->uname) archive_entry_copy_uname(ae, e->uname);
    if (e->gname) archive_entry_copy_gname(ae, e->gname);
    int64_t s = e->mtime_ns / 1000000000LL, ns = e->mtime_ns % 1000000000LL;
    if (ns < 0) {
        ns += 1000000000LL;
        s--;
    }
    archive_entry_set_mtime(ae, (time_t)s, (long)ns);
    if (e->type == SRC_FILES_SYMLINK) archive_entry_copy_symlink(ae, e->link);
    if (e->type == SRC_FILES_FILE || e->type == SRC_FILES_HARDLINK)
        archive_entry_set_size(ae, (la_int64_t)e->size);
    if (e->type == SRC_FILES_CHAR || e->type == SRC_FILES_BLOCK)
        archive_entry_set_rdev(ae, (dev_t)e->rdev);
    for (size_t i = 0; i < e->nxattrs; i++)
        archive_entry_xattr_add_entry(ae, e->xattrs[i].name, e->xattrs[i].value, e->xattrs[i].len);
    struct { const char *text; int type; } acl[] = {
        {e->acl_access, ARCHIVE_ENTRY_ACL_TYPE_ACCESS},
        {e->acl_default, ARCHIVE_ENTRY_ACL_TYPE_DEFAULT},
        {e->acl_nfs4, ARCHIVE_ENTRY_ACL_TYPE_NFS4},
    };
    for (size_t i = 0; i < sizeof(acl) / sizeof(acl[0]); i++) {
        if (acl[i].text && archive_entry_acl_from_text(ae, acl[i].text, acl[i].type) < ARCHIVE_WARN)
            return err_set(err, ERR_CORRUPT, "entry %s has an ACL that does not parse",
                           src_files_path_print(e->path, pp, sizeof(pp)));
    }
    if (e->fflags) archive_entry_copy_fflags_text(ae, e->fflags);
    return 0;
}

typedef struct Feed {
    const SrcFilesEntry *e;
    RstWriteFn fn;
    void *ctx;
    uint64_t pos;        /* bytes of the stream consumed */
    size_t ext;          /* current extent (sparse) */
    uint64_t ext_done;   /* bytes of it consumed */
} Feed;

static int feed_cb(void *ctx, const void *data, size_t len, Err *err)
{
    Feed *f = ctx;
    const uint8_t *p = data;
    const SrcFilesEntry *e = f->e;
    while (len) {
        uint64_t off, room;
        if (!e->nsparse) {
            off = f->pos;
            room = e->size - f->pos;
        } else {
            while (f->ext < e->nsparse && f->ext_done == e->sparse[2 * f->ext + 1]) {
                f->ext++;
                f->ext_done = 0;
            }
            if (f->ext >= e->nsparse) room = 0, off = 0;
            else {
                off = e->sparse[2 * f->ext] + f->ext_done;
                room = e->sparse[2 * f->ext + 1] - f->ext_done;
            }
        }
        if (room == 0) return err_set(err, ERR_CORRUPT, "content is longer than the file");
        size_t n = len < room ? len : (size_t)room;
        int rc = f->fn(f->ctx, p, n, off, err);
        if (rc) return rc;
        p += n;
        len -= n;
        f->pos += n;
        f->ext_done += n;
    }
    return 0;
}

int rst_files_feed(Repo *r, const SrcFilesEntry *e, RstWriteFn fn, void *ctx, Err *err)
{
    RepoStreamRef ref = {0};
    Feed f = {e, fn, ctx, 0, 0, 0};
    uint64_t want = e->size;
    int rc = repo_streamref_from_json(e->data, &ref, err);
    if (rc) return rc;
    if (e->nsparse) {
        want = 0;
        for (size_t i = 0; i < e->nsparse; i++) want += e->sparse[2 * i + 1];
    }
    if (ref.size != want) {
        rc = err_set(err, ERR_CORRUPT, "content is %llu bytes, the entry says %llu",
                     (unsigned long long)ref.size, (unsigned long long)want);
        goto out;
    }
    rc = repo_stream_read(r, &ref, feed_cb, &f, err);
    if (!rc && f.pos != want)
        rc = err_set(err, ERR_CORRUPT, "content ended after %llu of %llu bytes",
                     (unsigned long long)f.pos, (unsigned long long)want);
out:
    repo_streamref_free(&ref);
    return rc;
}

int rst_files_items(const json_t *what, const json_t ***out, size_t *n, Err *err)
{
    const json_t **v = NULL;
    const json_t *items = json_object_get(what, "items");
    size_t cnt = 0, i;
    json_t *it;
    *out = NULL;
    *n = 0;
    if (!items) {
        const char *t = json_string_value(json_object_get(what, "kind"));
        if (!t || strcmp(t, SRC_FILES_ITEM_TYPE)) return err_set(err, ERR_NOTFOUND, "no files item");
        v = malloc(sizeof(*v));
        if (!v) return err_set(err, ERR_NOMEM, "items");
        v[0] = what;
        *out = v;
        *n = 1;
        return 0;
    }
    v = calloc(json_array_size(items) + 1, sizeof(*v));
    if (!v) return err_set(err, ERR_NOMEM, "items");
    json_array_foreach(items, i, it) {
        const char *t = json_string_value(json_object_get(it, "kind"));
        if (t && !strcmp(t, SRC_FILES_ITEM_TYPE)) v[cnt++] = it;
    }
    if (!cnt) {
        free(v);
        return err_set(err, ERR_NOTFOUND, "the snapshot has no files item");
    }
    *out = v;
    *n = cnt;
    return 0;
}
