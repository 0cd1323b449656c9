/* files_read.c: a regular file's content into one repository stream. A
 * file with fewer allocated blocks than its size is probed with
 * SEEK_DATA/SEEK_HOLE and only its data extents are read and stored (the
 * entry's sparse map says where they go), so holes cost neither reads nor
 * hashing. Invariant: e->size and the extents describe exactly the bytes
 * that went into the stream, even when the file shrinks while we read. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/source/files/files_int.h"

typedef struct Ext {
    uint64_t *v;   /* off,len pairs */
    size_t n, cap;
} Ext;

static int ext_add(Ext *x, uint64_t off, uint64_t len, Err *err)
{
    int rc = buf_grow(&x->v, &x->cap, x->n + 1, 2 * sizeof(uint64_t), (size_t)1 << 24, err);
    if (rc) return err_wrap(err, "sparse map");
    x->v[2 * x->n] = off;
    x->v[2 * x->n + 1] = len;
    x->n++;
    return 0;
}

/* Data extents of a file that looks sparse. 1 = not sparse after all (or
 * SEEK_DATA unsupported): read it whole. */
static int probe_extents(int fd, uint64_t size, Ext *x, Err *err)
{
    off_t pos = 0;
    while ((uint64_t)pos < size) {
        off_t d = lseek(fd, pos, SEEK_DATA);
        if (d < 0) {
            if (errno == ENXIO) break;           /* only a hole up to the end */
            return 1;                            /* EINVAL: not supported here */
        }
        if ((uint64_t)d >= size) break;
        off_t h = lseek(fd, d, SEEK_HOLE);
        if (h < 0) return 1;
        if ((uint64_t)h > size) h = (off_t)size;
        int rc = ext_add(x, (uint64_t)d, (uint64_t)(h - d), err);
        if (rc) return rc;
        pos = h;
    }
    if (x->n == 1 && x->v[0] == 0 && x->v[1] == size) return 1;
    return 0;
}

/* pread [off, off+len) into the stream; *got = bytes actually there. */
static int read_range(RepoStream *s, int fd, uint64_t off, uint64_t len, bool to_eof,
                      uint8_t *iobuf, Progress *prog, uint64_t *got, Err *err)
{
    *got = 0;
    while (to_eof || *got < len) {
        size_t want = FILES_IOBUF_SIZE;
        if (!to_eof && len - *got < want) want = (size_t)(len - *got);
        ssize_t n = pread(fd, iobuf, want, (off_t)(off + *got));
        if (n < 0) {
            if (errno == EINTR) continue;
            return err_sys(err, errno, "read at offset %llu", (unsigned long long)(off + *got));
        }
        if (n == 0) break;
        int rc = repo_stream_write(s, iobuf, (size_t)n, err);
        if (rc) return rc;
        *got += (uint64_t)n;
        progress_add(prog, (uint64_t)n, 0);
    }
    return 0;
}

int files_read_content(Repo *r, int fd, const struct stat *st, uint8_t *iobuf, Progress *prog,
                       SrcFilesEntry *e, uint64_t *bytes_read, Err *err)
{
    int rc = 0;
    RepoStream *s = NULL;
    RepoStreamRef ref = {0};
    Ext x = {0};
    uint64_t size = (uint64_t)st->st_size, total = 0;
    bool sparse = false;

    *bytes_read = 0;
    if ((uint64_t)st->st_blocks * 512u < size) {
        rc = probe_extents(fd, size, &x, err);
        if (rc < 0 || rc > 1) goto out;
        sparse = rc == 0;
        rc = 0;
    }
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    rc = repo_stream_begin(r, REPO_CHUNK_FILES, &s, err);
    if (rc) goto out;
    if (sparse) {
        for (size_t i = 0; i < x.n; i++) {
            uint64_t got = 0;
            rc = read_range(s, fd, x.v[2 * i], x.v[2 * i + 1], false, iobuf, prog, &got, err);
            if (rc) goto out;
            total += got;
            if (got < x.v[2 * i + 1]) {      /* shrank while we read: stop here */
                x.v[2 * i + 1] = got;
                x.n = i + 1;
                size = x.v[2 * i] + got;
                break;
            }
        }
    } else {
        rc = read_range(s, fd, 0, 0, true, iobuf, prog, &total, err);
        if (rc) goto out;
        size = total;
    }
    rc = repo_stream_end(s, &ref, err);
    s = NULL;
    if (rc) goto out;
    e->data = repo_streamref_to_json(&ref);
    if (!e->data) {
        rc = err_set(err, ERR_NOMEM, "stream reference");
        goto out;
    }
    e->size = size;
    if (sparse) {
        e->sparse = x.v;
        e->nsparse = x.n;
        x.v = NULL;
    }
    *bytes_read = total;
out:
    repo_stream_abort(s);
    repo_streamref_free(&ref);
    free(x.v);
    return rc;
}
