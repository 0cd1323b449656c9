/* rst_files_tar.c: files items -> one pax tar stream (libarchive), so the
 * data never depends on tidemark to be read back. Invariant: the same path
 * checks as a restore (an unsafe path is refused, not exported). */
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "engine/common/log.h"
#include "engine/common/progress.h"
#include "restore/files/rst_files_int.h"

typedef struct Tar {
    struct archive *aw;
    uint64_t pos;          /* logical bytes written for the current entry */
    RstFilesStats st;
    Progress *prog;
} Tar;

static uint8_t zeros[1 << 16];

static int tar_put(Tar *t, const void *p, size_t n, Err *err)
{
    while (n) {
        la_ssize_t w = archive_write_data(t->aw, p, n);
        if (w <= 0) return err_set(err, ERR_IO, "write tar: %s", archive_error_string(t->aw));
        n -= (size_t)w;
        p = (const uint8_t *)p + w;
        t->pos += (uint64_t)w;
    }
    return 0;
}

/* Holes go in as zeros: the pax writer drops the bytes that fall in the
 * sparse map's holes without writing them. */
static int tar_zeros(Tar *t, uint64_t upto, Err *err)
{
    while (t->pos < upto) {
        size_t n = upto - t->pos < sizeof(zeros) ? (size_t)(upto - t->pos) : sizeof(zeros);
        int rc = tar_put(t, zeros, n, err);
        if (rc) return rc;
    }
    return 0;
}

static int tar_write(void *ctx, const void *p, size_t n, uint64_t off, Err *err)
{
    Tar *t = ctx;
    int rc = tar_zeros(t, off, err);
    if (!rc) rc = tar_put(t, p, n, err);
    if (!rc) t->st.bytes += n;
    if (!rc) progress_add(t->prog, n, 0);
    return rc;
}

static int tar_entry(Tar *t, struct archive_entry *ae, const SrcFilesEntry *e, Repo *r, Err *err)
{
    char pp[512];
    int rc = rst_files_path_check(e->path, err);
    if (!rc && e->type == SRC_FILES_HARDLINK) rc = rst_files_path_check(e->link, err);
    if (rc) return rc;
    archive_entry_clear(ae);
    rc = rst_files_entry_to_archive(e, ae, err);
    if (rc) return rc;
    bool content = e->type == SRC_FILES_FILE;
    if (e->type == SRC_FILES_HARDLINK) {
        archive_entry_set_hardlink(ae, e->link);
        archive_entry_set_size(ae, 0);
    }
    for (size_t i = 0; content && i < e->nsparse; i++)
        archive_entry_sparse_add_entry(ae, (la_int64_t)e->sparse[2 * i], (la_int64_t)e->sparse[2 * i + 1]);
    int ar = archive_write_header(t->aw, ae);
    if (ar < ARCHIVE_WARN)
        return err_set(err, ERR_IO, "tar header of %s: %s", src_files_path_print(e->path, pp, sizeof(pp)),
                       archive_error_string(t->aw));
    if (ar == ARCHIVE_WARN)
        log_warn("tar %s: %s", src_files_path_print(e->path, pp, sizeof(pp)), archive_error_string(t->aw));
    t->pos = 0;
    if (content) {
        rc = rst_files_feed(r, e, tar_write, t, err);
        if (!rc) rc = tar_zeros(t, e->size, err);
        if (rc) return err_wrap(err, "export %s", src_files_path_print(e->path, pp, sizeof(pp)));
        t->st.files++;
        progress_add(t->prog, 0, 1);
    }
    if (archive_write_finish_entry(t->aw) < ARCHIVE_WARN)
        return err_set(err, ERR_IO, "tar %s: %s", src_files_path_print(e->path, pp, sizeof(pp)),
                       archive_error_string(t->aw));
    t->st.entries++;
    return 0;
}

int rst_files_export_tar(Repo *r, const json_t *what, int fd, const RstFilesOptions *opt,
                         RstFilesStats *stats, Err *err)
{
    int rc = 0;
    Tar t = {0};
    const json_t **items = NULL;
    size_t nitems = 0;
    struct archive_entry *ae = NULL;
    SrcFilesEntry e = {0};
    SrcFilesTree *tree = NULL;
    locale_t utf8 = (locale_t)0, prev = (locale_t)0;

    rc = rst_files_items(what, &items, &nitems, err);
    if (rc) goto out;
    /* The pax writer converts names from the thread's locale to UTF-8: under
     * a UTF-8 locale a UTF-8 name goes out as it is, with no "hdrcharset"
     * record (GNU tar warns about that keyword on every entry). */
    utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    if (utf8) prev = uselocale(utf8);
    uint64_t total = 0;
    for (size_t i = 0; i < nitems; i++)
        total += (uint64_t)json_integer_value(json_object_get(items[i], "bytes"));
    t.prog = progress_new("export tar", total, 0, opt && opt->progress);
    t.aw = archive_write_new();
    ae = archive_entry_new();
    if (!t.aw || !ae) {
        rc = err_set(err, ERR_NOMEM, "tar export");
        goto out;
    }
    if (archive_write_set_format_pax(t.aw) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(t.aw, 1) != ARCHIVE_OK ||
        archive_write_open_fd(t.aw, fd) != ARCHIVE_OK) {
        rc = err_set(err, ERR_IO, "start tar: %s", archive_error_string(t.aw));
        goto out;
    }
    for (size_t i = 0; i < nitems && !rc; i++) {
        rc = src_files_tree_open(r, items[i], &tree, err);
        while (!rc) {
            int n = src_files_tree_next(tree, &e, err);
            if (n == 0) break;
            rc = n == 1 ? tar_entry(&t, ae, &e, r, err) : n;
        }
        src_files_tree_close(tree);
        tree = NULL;
    }
    if (rc) goto out;
    if (archive_write_close(t.aw) != ARCHIVE_OK) {
        rc = err_set(err, ERR_IO, "finish tar: %s", archive_error_string(t.aw));
        goto out;
    }
out:
    progress_done(t.prog);
    src_files_entry_clear(&e);
    if (t.aw) archive_write_free(t.aw);
    if (utf8) {
        uselocale(prev);
        freelocale(utf8);
    }
    archive_entry_free(ae);
    if (stats) *stats = t.st;
    free(items);
    return rc;
}
