/* files_tree.c: pull reader over a tree stream: fetches one chunk at a time
 * with repo_blob_get and yields entry records in order. Invariant: entries
 * come out strictly increasing in tree order (src_files_path_cmp), so
 * duplicates and reordering in a damaged or crafted manifest are refused. */
#include <stdlib.h>
#include <string.h>

#include "engine/source/files/src_files.h"

#define TREE_LINE_MAX ((size_t)256 << 20)

struct SrcFilesTree {
    Repo *repo;
    RepoStreamRef ref;
    size_t next_chunk;
    Buf buf;          /* unconsumed bytes start at pos */
    size_t pos;
    uint64_t consumed;
    char *prev;       /* previous entry path, for the order check */
};

int src_files_tree_open(Repo *r, const json_t *item, SrcFilesTree **out, Err *err)
{
    int rc = 0;
    SrcFilesTree *t = NULL;
    const json_t *tree = json_object_get(item, "tree");

    *out = NULL;
    if (!json_is_object(tree)) return err_set(err, ERR_CORRUPT, "files item without a tree");
    t = calloc(1, sizeof(*t));
    if (!t) return err_set(err, ERR_NOMEM, "open tree");
    t->repo = r;
    buf_init(&t->buf, TREE_LINE_MAX);
    rc = repo_streamref_from_json(tree, &t->ref, err);
    if (rc) {
        err_wrap(err, "files item tree");
        goto out;
    }
    *out = t;
    t = NULL;
out:
    src_files_tree_close(t);
    return rc;
}

void src_files_tree_close(SrcFilesTree *t)
{
    if (!t) return;
    repo_streamref_free(&t->ref);
    buf_free(&t->buf);
    free(t->prev);
    free(t);
}

/* Drop consumed bytes, then append the next chunk. 0 = appended, 1 = no
 * more chunks. */
static int fetch(SrcFilesTree *t, Err *err)
{
    if (t->next_chunk >= t->ref.nchunks) return 1;
    if (t->pos) {
        memmove(t->buf.data, t->buf.data + t->pos, t->buf.len - t->pos);
        t->buf.len -= t->pos;
        t->pos = 0;
    }
    int rc = repo_blob_get(t->repo, &t->ref.chunks[t->next_chunk], &t->buf, err);
    if (rc) return err_wrap(err, "read file tree chunk %zu/%zu", t->next_chunk + 1, t->ref.nchunks);
    t->next_chunk++;
    return 0;
}

int src_files_tree_next(SrcFilesTree *t, SrcFilesEntry *e, Err *err)
{
    char pp[512];
    for (;;) {
        const uint8_t *start = t->buf.data ? t->buf.data + t->pos : NULL;
        size_t avail = t->buf.len - t->pos;
        const uint8_t *nl = avail ? memchr(start, '\n', avail) : NULL;
        if (nl) {
            size_t len = (size_t)(nl - start) + 1;
            int rc = src_files_entry_decode((const char *)start, len, e, err);
            if (rc) return err_wrap(err, "file tree at byte %llu", (unsigned long long)t->consumed);
            t->pos += len;
            t->consumed += len;
            if (t->prev && src_files_path_cmp(t->prev, e->path) >= 0) {
                err_set(err, ERR_CORRUPT, "file tree entry %s is out of order or duplicated",
                        src_files_path_print(e->path, pp, sizeof(pp)));
                src_files_entry_clear(e);
                return ERR_CORRUPT;
            }
            free(t->prev);
            t->prev = strdup(e->path);
            if (!t->prev) return err_set(err, ERR_NOMEM, "read file tree");
            return 1;
        }
        int f = fetch(t, err);
        if (f == 1) {
            if (avail) return err_set(err, ERR_CORRUPT, "file tree ends inside a record");
            if (t->consumed != t->ref.size)
                return err_set(err, ERR_CORRUPT, "file tree is %llu bytes, expected %llu",
                               (unsigned long long)t->consumed, (unsigned long long)t->ref.size);
            return 0;
        }
        if (f) return f;
    }
}
