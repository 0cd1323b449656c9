/* files_meta.c: one object's metadata, read by libarchive's
 * archive_read_disk (owner names, xattrs, ACLs, fflags, link target), with
 * times and ids taken from our own lstat so nanoseconds are exact.
 * Invariant: never follows a symlink and never reads file contents. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <archive_entry.h>

#include "engine/common/log.h"
#include "engine/source/files/files_int.h"

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int copy_xattrs(struct archive_entry *ae, SrcFilesEntry *e, Err *err)
{
    int n = archive_entry_xattr_reset(ae);
    const char *name;
    const void *val;
    size_t len;
    if (n <= 0) return 0;
    e->xattrs = calloc((size_t)n, sizeof(*e->xattrs));
    if (!e->xattrs) return err_set(err, ERR_NOMEM, "xattrs");
    while (e->nxattrs < (size_t)n && archive_entry_xattr_next(ae, &name, &val, &len) == ARCHIVE_OK) {
        SrcFilesXattr *x = &e->xattrs[e->nxattrs];
        x->name = strdup(name);
        x->value = malloc(len ? len : 1);
        if (!x->name || !x->value) {
            free(x->name);
            free(x->value);
            return err_set(err, ERR_NOMEM, "xattrs");
        }
        if (len) memcpy(x->value, val, len);
        x->len = len;
        e->nxattrs++;
    }
    return 0;
}

static int copy_acls(struct archive_entry *ae, SrcFilesEntry *e, Err *err)
{
    int types = archive_entry_acl_types(ae);
    const int style = ARCHIVE_ENTRY_ACL_STYLE_EXTRA_ID;
    if (types & ARCHIVE_ENTRY_ACL_TYPE_ACCESS) {
        e->acl_access = archive_entry_acl_to_text(ae, NULL, ARCHIVE_ENTRY_ACL_TYPE_ACCESS | style);
        if (!e->acl_access) return err_set(err, ERR_NOMEM, "access ACL text");
    }
    if (types & ARCHIVE_ENTRY_ACL_TYPE_DEFAULT) {
        e->acl_default = archive_entry_acl_to_text(ae, NULL, ARCHIVE_ENTRY_ACL_TYPE_DEFAULT | style);
        if (!e->acl_default) return err_set(err, ERR_NOMEM, "default ACL text");
    }
    if (types & ARCHIVE_ENTRY_ACL_TYPE_NFS4) {
        e->acl_nfs4 = archive_entry_acl_to_text(ae, NULL, ARCHIVE_ENTRY_ACL_TYPE_NFS4 | style);
        if (!e->acl_nfs4) return err_set(err, ERR_NOMEM, "NFSv4 ACL text");
    }
    return 0;
}

int files_meta_fill(struct archive *rd, const char *abs, const struct stat *st, SrcFilesEntry *e,
                    Err *err)
{
    int rc = 0;
    char pp[512];
    struct archive_entry *ae = NULL;

    if (S_ISREG(st->st_mode)) e->type = SRC_FILES_FILE;
    else if (S_ISDIR(st->st_mode)) e->type = SRC_FILES_DIR;
    else if (S_ISLNK(st->st_mode)) e->type = SRC_FILES_SYMLINK;
    else if (S_ISFIFO(st->st_mode)) e->type = SRC_FILES_FIFO;
    else if (S_ISCHR(st->st_mode)) e->type = SRC_FILES_CHAR;
    else if (S_ISBLK(st->st_mode)) e->type = SRC_FILES_BLOCK;
    else return err_set(err, ERR_UNSUPPORTED, "%s: sockets are not backed up",
                        src_files_path_print(abs, pp, sizeof(pp)));

    e->mode = (uint32_t)(st->st_mode & 07777);
    e->uid = st->st_uid;
    e->gid = st->st_gid;
    e->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
    e->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000LL + st->st_ctim.tv_nsec;
    e->ino = st->st_ino;
    e->dev = st->st_dev;
    e->rdev = st->st_rdev;

    ae = archive_entry_new2(rd);
    if (!ae) return err_set(err, ERR_NOMEM, "archive entry");
    archive_entry_copy_pathname(ae, abs);
    archive_entry_copy_sourcepath(ae, abs);
    int ar = archive_read_disk_entry_from_file(rd, ae, -1, st);
    if (ar == ARCHIVE_WARN) {
        log_warn("%s: %s", src_files_path_print(abs, pp, sizeof(pp)), archive_error_string(rd));
    } else if (ar != ARCHIVE_OK) {
        int en = archive_errno(rd);
        rc = err_set(err, en == EACCES || en == EPERM ? ERR_PERM : en == ENOENT ? ERR_NOTFOUND : ERR_IO,
                     "read metadata of %s: %s", src_files_path_print(abs, pp, sizeof(pp)),
                     archive_error_string(rd) ? archive_error_string(rd) : "unknown error");
        goto out;
    }
    if (archive_entry_uname(ae) && !(e->uname = strdup(archive_entry_uname(ae)))) goto nomem;
    if (archive_entry_gname(ae) && !(e->gname = strdup(archive_entry_gname(ae)))) goto nomem;
    if (e->type == SRC_FILES_SYMLINK) {
        e->link = dup_or_null(archive_entry_symlink(ae));
        if (!e->link) {
            rc = err_set(err, ERR_IO, "read symlink %s", src_files_path_print(abs, pp, sizeof(pp)));
            goto out;
        }
    }
    rc = copy_xattrs(ae, e, err);
    if (!rc) rc = copy_acls(ae, e, err);
    if (rc) goto out;
    const char *ff = archive_entry_fflags_text(ae);
    if (ff && *ff && !(e->fflags = strdup(ff))) goto nomem;
out:
    archive_entry_free(ae);
    return rc;
nomem:
    rc = err_set(err, ERR_NOMEM, "metadata of %s", src_files_path_print(abs, pp, sizeof(pp)));
    goto out;
}
