/* binlog_spool.c: the follower's local spool, <spool_dir>/<instance>/.
 * Events are appended to open.seg as they arrive; sealing fsyncs it,
 * renames it to <seq>.seg and then writes <seq>.json (temp, fsync, rename,
 * fsync dir). Invariants:
 *  1. A segment exists locally iff its .json exists; its .seg is complete
 *     and durable before the .json appears.
 *  2. open.seg (and a .seg without .json) is never trusted: it is dropped
 *     on open, and the follower re-reads those events from the server.
 *  3. One follower per spool: follower.lock is held (flock) while open.
 *  4. Appends are gathered in memory (up to SPOOL_WBUF bytes) and written
 *     before the fsync of a seal: an unsealed tail is never trusted anyway
 *     (invariant 2), and one write per event cost a syscall per event. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/source/binlog/binlog_int.h"

#define SPOOL_WBUF (256u << 10)

struct BinlogSpool {
    char dir[600];
    int lock_fd;
    int open_fd;
    uint64_t open_len;
    uint8_t *wbuf;               /* appended, not yet written (invariant 4) */
    size_t wlen;
    uint64_t max_bytes;
    crypto_generichash_state hs;
};

static int mkdir_p(const char *path, Err *err)
{
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
            return err_sys(err, errno, "create spool directory %s", tmp);
        *p = '/';
    }
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
        return err_sys(err, errno, "create spool directory %s", tmp);
    return 0;
}

static int fsync_dir(const char *dir, Err *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return err_sys(err, errno, "open spool directory %s", dir);
    int rc = fsync(fd) != 0 ? err_sys(err, errno, "fsync spool directory %s", dir) : 0;
    close(fd);
    return rc;
}

static int open_segment_file(BinlogSpool *sp, Err *err)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/open.seg", sp->dir);
    sp->open_fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (sp->open_fd < 0)
        return err_sys(err, errno, "create spool file %s", p);
    sp->open_len = 0;
    crypto_generichash_init(&sp->hs, NULL, 0, 32);
    return 0;
}

static bool seq_of(const char *name, const char *ext, uint64_t *out)
{
    size_t n = strlen(name), el = strlen(ext);
    if (n != 12 + el || strcmp(name + 12, ext) != 0 || strspn(name, "0123456789") != 12)
        return false;
    *out = strtoull(name, NULL, 10);
    return true;
}

int binlog_spool_open(const char *dir, const char *instance, uint64_t max_bytes,
                      BinlogSpool **out, Err *err)
{
    BinlogSpool *sp = calloc(1, sizeof *sp);
    char p[1024];
    int rc = 0;
    DIR *d = NULL;

    if (!sp)
        return err_set(err, ERR_NOMEM, "spool");
    sp->lock_fd = sp->open_fd = -1;
    sp->max_bytes = max_bytes;
    snprintf(sp->dir, sizeof sp->dir, "%s/%s", dir, instance);
    if ((rc = mkdir_p(sp->dir, err)))
        goto out;
    snprintf(p, sizeof p, "%s/follower.lock", sp->dir);
    sp->lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (sp->lock_fd < 0) {
        rc = err_sys(err, errno, "open %s", p);
        goto out;
    }
    if (flock(sp->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        rc = errno == EWOULDBLOCK
                 ? err_set(err, ERR_LOCKED, "another binlog follower is running for instance %s "
                           "(lock %s)", instance, p)
                 : err_sys(err, errno, "lock %s", p);
        goto out;
    }
    /* drop what was never sealed (invariant 2) */
    d = opendir(sp->dir);
    if (!d) {
        rc = err_sys(err, errno, "read spool directory %s", sp->dir);
        goto out;
    }
    for (struct dirent *e; (e = readdir(d));) {
        uint64_t seq;
        bool drop = strcmp(e->d_name, "open.seg") == 0 || strstr(e->d_name, ".tmp");
        if (seq_of(e->d_name, ".seg", &seq)) {
            char j[1024];
            struct stat st;
            snprintf(j, sizeof j, "%s/%012" PRIu64 ".json", sp->dir, seq);
            drop = stat(j, &st) != 0;
        }
        if (drop) {
            snprintf(p, sizeof p, "%s/%s", sp->dir, e->d_name);
            unlink(p);
        }
    }
    rc = open_segment_file(sp, err);
    if (rc)
        goto out;
    *out = sp;
    sp = NULL;
out:
    if (d)
        closedir(d);
    binlog_spool_close(sp);
    return rc;
}

void binlog_spool_close(BinlogSpool *sp)
{
    if (!sp)
        return;
    if (sp->open_fd >= 0)
        close(sp->open_fd);
    if (sp->lock_fd >= 0)
        close(sp->lock_fd);   /* releases the flock */
    free(sp->wbuf);
    free(sp);
}

const char *binlog_spool_path(const BinlogSpool *sp)
{
    return sp->dir;
}

static int write_out(BinlogSpool *sp, const uint8_t *p, size_t left, Err *err)
{
    while (left) {
        ssize_t w = write(sp->open_fd, p, left);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return err_sys(err, errno, "append to spool %s/open.seg", sp->dir);
        }
        p += w;
        left -= (size_t)w;
    }
    return 0;
}

static int flush_wbuf(BinlogSpool *sp, Err *err)
{
    int rc = sp->wlen ? write_out(sp, sp->wbuf, sp->wlen, err) : 0;
    sp->wlen = 0;
    return rc;
}

int binlog_spool_append(BinlogSpool *sp, const void *data, size_t len, Err *err)
{
    int rc;
    if (!sp->wbuf && !(sp->wbuf = malloc(SPOOL_WBUF)))
        return err_set(err, ERR_NOMEM, "spool write buffer");
    if (sp->wlen + len > SPOOL_WBUF && (rc = flush_wbuf(sp, err)))
        return rc;
    if (len >= SPOOL_WBUF) {
        if ((rc = write_out(sp, data, len, err)))
            return rc;
    } else {
        memcpy(sp->wbuf + sp->wlen, data, len);
        sp->wlen += len;
    }
    crypto_generichash_update(&sp->hs, data, len);
    sp->open_len += len;
    return 0;
}

int binlog_spool_discard(BinlogSpool *sp, Err *err)
{
    sp->wlen = 0;
    if (ftruncate(sp->open_fd, 0) != 0 || lseek(sp->open_fd, 0, SEEK_SET) != 0)
        return err_sys(err, errno, "truncate spool %s/open.seg", sp->dir);
    sp->open_len = 0;
    crypto_generichash_init(&sp->hs, NULL, 0, 32);
    return 0;
}

static int write_json_atomic(const char *dir, const char *name, const json_t *j, Err *err)
{
    char tmp[1024], dst[1024];
    int rc = 0, fd = -1;
    char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text)
        return err_set(err, ERR_NOMEM, "encode %s", name);
    snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, name);
    snprintf(dst, sizeof dst, "%s/%s", dir, name);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = err_sys(err, errno, "create %s", tmp);
        goto out;
    }
    size_t len = strlen(text);
    if (write(fd, text, len) != (ssize_t)len) {
        rc = err_sys(err, errno ? errno : EIO, "write %s", tmp);
        goto out;
    }
    if (fsync(fd) != 0) {
        rc = err_sys(err, errno, "fsync %s", tmp);
        goto out;
    }
    close(fd);
    fd = -1;
    if (rename(tmp, dst) != 0) {
        rc = err_sys(err, errno, "rename %s", tmp);
        goto out;
    }
    rc = fsync_dir(dir, err);
out:
    if (fd >= 0)
        close(fd);
    free(text);
    return rc;
}

int binlog_spool_seal(BinlogSpool *sp, BinlogSegInfo *meta, Err *err)
{
    char from[1024], to[1024], name[64];
    int rc = 0;
    json_t *j = NULL;

    if (meta->size != sp->open_len)
        return err_set(err, ERR_CORRUPT, "spool holds %" PRIu64 " bytes for a %" PRIu64
                       "-byte segment (internal error)", sp->open_len, meta->size);
    if ((rc = flush_wbuf(sp, err)))
        return rc;
    if (fsync(sp->open_fd) != 0)
        return err_sys(err, errno, "fsync spool %s/open.seg", sp->dir);
    crypto_generichash_final(&sp->hs, meta->hash, sizeof meta->hash);
    close(sp->open_fd);
    sp->open_fd = -1;
    snprintf(from, sizeof from, "%s/open.seg", sp->dir);
    snprintf(to, sizeof to, "%s/%012" PRIu64 ".seg", sp->dir, meta->seq);
    if (rename(from, to) != 0)
        return err_sys(err, errno, "rename %s", from);
    if ((rc = fsync_dir(sp->dir, err)))
        return rc;
    j = binlog_seginfo_to_json(meta);
    if (!j)
        return err_set(err, ERR_NOMEM, "encode segment %" PRIu64, meta->seq);
    snprintf(name, sizeof name, "%012" PRIu64 ".json", meta->seq);
    rc = write_json_atomic(sp->dir, name, j, err);
    json_decref(j);
    if (rc)
        return rc;
    return open_segment_file(sp, err);
}

typedef struct Scan {
    uint64_t lo, hi, bytes;
    size_t n;
} Scan;

static void scan(BinlogSpool *sp, Scan *s)
{
    memset(s, 0, sizeof *s);
    s->lo = UINT64_MAX;
    DIR *d = opendir(sp->dir);
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d));) {
        uint64_t seq;
        if (seq_of(e->d_name, ".json", &seq)) {
            s->n++;
            if (seq < s->lo)
                s->lo = seq;
            if (seq > s->hi)
                s->hi = seq;
        } else if (seq_of(e->d_name, ".seg", &seq)) {
            char p[1024];
            struct stat st;
            snprintf(p, sizeof p, "%s/%s", sp->dir, e->d_name);
            if (stat(p, &st) == 0)
                s->bytes += (uint64_t)st.st_size;
        }
    }
    closedir(d);
}

uint64_t binlog_spool_usage(BinlogSpool *sp)
{
    Scan s;
    scan(sp, &s);
    return s.bytes + sp->open_len;
}

uint64_t binlog_spool_max(const BinlogSpool *sp)
{
    return sp->max_bytes;
}

size_t binlog_spool_pending(BinlogSpool *sp)
{
    Scan s;
    scan(sp, &s);
    return s.n;
}

static bool load_meta(BinlogSpool *sp, uint64_t seq, BinlogSegInfo *out)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%012" PRIu64 ".json", sp->dir, seq);
    json_t *j = json_load_file(p, 0, NULL);
    if (!j)
        return false;
    Err e;
    err_clear(&e);
    int rc = binlog_seginfo_from_json(j, out, &e);
    json_decref(j);
    return rc == 0;
}

bool binlog_spool_oldest(BinlogSpool *sp, BinlogSegInfo *out)
{
    Scan s;
    scan(sp, &s);
    return s.n && load_meta(sp, s.lo, out);
}

bool binlog_spool_newest(BinlogSpool *sp, BinlogSegInfo *out)
{
    Scan s;
    scan(sp, &s);
    return s.n && load_meta(sp, s.hi, out);
}

void binlog_spool_data_path(const BinlogSpool *sp, uint64_t seq, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%012" PRIu64 ".seg", sp->dir, seq);
}

int binlog_spool_remove(BinlogSpool *sp, uint64_t seq, Err *err)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%012" PRIu64 ".json", sp->dir, seq);
    if (unlink(p) != 0 && errno != ENOENT)
        return err_sys(err, errno, "remove %s", p);
    binlog_spool_data_path(sp, seq, p, sizeof p);
    if (unlink(p) != 0 && errno != ENOENT)
        return err_sys(err, errno, "remove %s", p);
    return 0;
}
