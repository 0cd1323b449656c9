/* binlog_export.c: rebuild binlog files from the archive. A file archived
 * from position 4 comes out byte-identical to the server's (magic, then
 * the events as sent); a file archived from later gets the magic and its
 * Format_description first, so mariadb-binlog reads it.
 * Invariant: every segment's bytes are checked against the catalog's
 * BLAKE2b before the export counts as done; a break in the chain inside
 * the range is ERR_GAP, never papered over. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/common/progress.h"
#include "engine/source/binlog/binlog_int.h"

typedef struct Out {
    int fd;
    char path[1400];
    crypto_generichash_state hs;
    uint64_t bytes;
    Progress *prog;
} Out;

static int write_all(Out *o, const void *p, size_t n, Err *err)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = write(o->fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return err_sys(err, errno, "write %s", o->path);
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static int on_chunk(void *ctx, const void *data, size_t len, Err *err)
{
    Out *o = ctx;
    crypto_generichash_update(&o->hs, data, len);
    o->bytes += len;
    progress_add(o->prog, len, 0);
    return write_all(o, data, len, err);
}

static void sanitize(const char *in, char *out, size_t cap)
{
    size_t i = 0;
    for (; in[i] && i + 1 < cap; i++)
        out[i] = (in[i] == '/' || in[i] == ':' || in[i] == ' ') ? '_' : in[i];
    out[i] = '\0';
}

int binlog_export(Repo *r, const BinlogCatalog *c, size_t from, size_t to, const char *dir,
                  bool progress, Err *err)
{
    Out o = {.fd = -1};
    char cur_file[BINLOG_FILE_MAX] = "", first_ident[BINLOG_IDENTITY_MAX] = "";
    uint64_t expect = 0, total = 0;
    int rc = 0;

    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return err_sys(err, errno, "create export directory %s", dir);
    for (size_t i = from; i <= to && i < binlog_catalog_count(c); i++)
        total += binlog_catalog_at(c, i)->size;
    o.prog = progress_new("binlog export", total, 0, progress);
    for (size_t i = from; i <= to && i < binlog_catalog_count(c); i++) {
        const BinlogSegInfo *s = binlog_catalog_at(c, i);
        char why[400];
        if (i > from && !binlog_catalog_connects(c, i, why, sizeof why) &&
            s->link != BINLOG_LINK_START) {
            rc = err_set(err, ERR_GAP, "the archive is broken inside the export range: %s", why);
            goto out;
        }
        if (!first_ident[0])
            snprintf(first_ident, sizeof first_ident, "%s", s->identity);
        if (strcmp(s->file, cur_file) != 0 || s->link == BINLOG_LINK_START ||
            s->link == BINLOG_LINK_GTID) {
            if (o.fd >= 0) {
                if (fsync(o.fd) != 0) {
                    rc = err_sys(err, errno, "fsync %s", o.path);
                    goto out;
                }
                close(o.fd);
                o.fd = -1;
            }
            if (strcmp(s->identity, first_ident) != 0) {
                /* another server's history: its file names may repeat ours */
                char sub[BINLOG_IDENTITY_MAX];
                sanitize(s->identity, sub, sizeof sub);
                snprintf(o.path, sizeof o.path, "%s/%s", dir, sub);
                if (mkdir(o.path, 0700) != 0 && errno != EEXIST) {
                    rc = err_sys(err, errno, "create export directory %s", o.path);
                    goto out;
                }
                snprintf(o.path, sizeof o.path, "%s/%s/%s", dir, sub, s->file);
            } else {
                snprintf(o.path, sizeof o.path, "%s/%s", dir, s->file);
            }
            o.fd = open(o.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (o.fd < 0) {
                rc = err_sys(err, errno, "create %s", o.path);
                goto out;
            }
            snprintf(cur_file, sizeof cur_file, "%s", s->file);
            if ((rc = write_all(&o, MDB_BINLOG_MAGIC, MDB_BINLOG_MAGIC_LEN, err)))
                goto out;
            if (s->start > MDB_BINLOG_MAGIC_LEN) {
                if (!s->fd_len) {
                    rc = err_set(err, ERR_CORRUPT, "segment %" PRIu64 " starts %s at %" PRIu64
                                 " without the file's Format_description", s->seq, s->file,
                                 s->start);
                    goto out;
                }
                if ((rc = write_all(&o, s->fd, s->fd_len, err)))
                    goto out;
            }
        } else if (s->start != expect) {
            rc = err_set(err, ERR_GAP, "segment %" PRIu64 " starts %s at %" PRIu64
                         " but the previous one ended at %" PRIu64, s->seq, s->file, s->start,
                         expect);
            goto out;
        }
        crypto_generichash_init(&o.hs, NULL, 0, 32);
        o.bytes = 0;
        rc = binlog_segment_read(r, s, on_chunk, &o, err);
        if (rc)
            goto out;
        uint8_t h[32];
        crypto_generichash_final(&o.hs, h, sizeof h);
        if (o.bytes != s->size || memcmp(h, s->hash, sizeof h) != 0) {
            rc = err_set(err, ERR_CORRUPT, "segment %" PRIu64 " (%s:%" PRIu64 ") read back "
                         "differs from its catalog entry", s->seq, s->file, s->start);
            goto out;
        }
        expect = s->end;
        progress_add(o.prog, 0, 1);
    }
    if (o.fd >= 0 && fsync(o.fd) != 0)
        rc = err_sys(err, errno, "fsync %s", o.path);
out:
    progress_done(o.prog);
    if (o.fd >= 0)
        close(o.fd);
    return rc;
}
