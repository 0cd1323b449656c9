/* rst_binlog_files.c: an RstEventNext over plain binlog files (a server's
 * datadir, or `tidemark binlog export` output), read in order with one
 * event buffer: memory is bounded by the largest event. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restore/replay/rst_replay.h"
#include "restore/replay/rst_replay_int.h"

#define EVENT_MAX ((size_t)1 << 30)

struct RstBinlogFiles {
    char **paths;
    size_t n, cur;
    FILE *f;
    uint64_t off;
    Buf ev;
};

int rst_binlog_files_open(const char *const *paths, size_t npaths, RstBinlogFiles **out, Err *err)
{
    RstBinlogFiles *b = calloc(1, sizeof *b);
    *out = NULL;
    if (!b || !(b->paths = calloc(npaths ? npaths : 1, sizeof *b->paths))) {
        free(b);
        return err_set(err, ERR_NOMEM, "binlog files: out of memory");
    }
    buf_init(&b->ev, EVENT_MAX + 64);
    for (size_t i = 0; i < npaths; i++) {
        if (!(b->paths[i] = strdup(paths[i]))) {
            b->n = i;
            rst_binlog_files_close(b);
            return err_set(err, ERR_NOMEM, "binlog files: out of memory");
        }
    }
    b->n = npaths;
    *out = b;
    return 0;
}

static int open_file(RstBinlogFiles *b, Err *err)
{
    static const uint8_t magic[4] = {0xfe, 'b', 'i', 'n'};
    uint8_t m[4];
    const char *p = b->paths[b->cur];
    b->f = fopen(p, "rb");
    if (!b->f) return err_sys(err, errno, "open binlog %s", p);
    setvbuf(b->f, NULL, _IOFBF, 1 << 20);
    if (fread(m, 1, 4, b->f) != 4 || memcmp(m, magic, 4) != 0)
        return err_set(err, ERR_CORRUPT, "%s is not a binlog file (bad magic)", p);
    b->off = 4;
    return 0;
}

int rst_binlog_files_next(void *ctx, const uint8_t **ev, size_t *len, Err *err)
{
    RstBinlogFiles *b = ctx;
    *ev = NULL;
    *len = 0;
    for (;;) {
        uint8_t h[MDB_HDR_LEN];
        size_t got, elen;
        int rc;
        if (!b->f) {
            if (b->cur >= b->n) return 0;
            rc = open_file(b, err);
            if (rc) return rc;
        }
        got = fread(h, 1, sizeof h, b->f);
        if (got == 0 && feof(b->f)) {
            fclose(b->f);
            b->f = NULL;
            b->cur++;
            continue;
        }
        if (got != sizeof h)
            return err_set(err, ERR_CORRUPT, "%s: truncated event header at offset %llu",
                           b->paths[b->cur], (unsigned long long)b->off);
        elen = mdb_le32(h + MDB_HDR_LEN_OFF);
        if (elen < MDB_HDR_LEN || elen > EVENT_MAX)
            return err_set(err, ERR_CORRUPT, "%s: impossible event length %zu at offset %llu",
                           b->paths[b->cur], elen, (unsigned long long)b->off);
        buf_reset(&b->ev);
        rc = buf_reserve(&b->ev, elen, err);
        if (rc) return err_wrap(err, "%s: event at offset %llu", b->paths[b->cur], (unsigned long long)b->off);
        memcpy(b->ev.data, h, sizeof h);
        if (fread(b->ev.data + sizeof h, 1, elen - sizeof h, b->f) != elen - sizeof h)
            return err_set(err, ERR_CORRUPT, "%s: truncated event at offset %llu (%zu bytes expected)",
                           b->paths[b->cur], (unsigned long long)b->off, elen);
        b->ev.len = elen;
        b->off += elen;
        *ev = b->ev.data;
        *len = elen;
        return 0;
    }
}

void rst_binlog_files_close(RstBinlogFiles *b)
{
    if (!b) return;
    if (b->f) fclose(b->f);
    for (size_t i = 0; i < b->n; i++) free(b->paths[i]);
    free(b->paths);
    buf_free(&b->ev);
    free(b);
}
