/* binlog_follow.c: the follower: resume point, (re)connection with
 * backoff, the event loop that appends to the spool and seals segments,
 * and the status file.
 *
 * Invariants:
 *  1. The resume point is the end of the last *sealed* segment (spool, or
 *     catalog when the spool is empty). Events after it that were appended
 *     but not sealed are discarded on any error and read again: no gap, no
 *     duplicate, whatever instant the process dies at.
 *  2. A segment is sealed only at a transaction boundary, at the end of a
 *     file, or when the server left a file (seal_first).
 *  3. A position the server no longer has is ERR_GAP, reported, never
 *     skipped.
 *
 * States and transitions:
 *   RESUME (resume_point) -> CONNECT (binlog_conn_open; ERR_NET: backoff,
 *   retry) -> STREAM (binlog_conn_dump, then binlog_conn_fetch +
 *   binlog_seg_feed + binlog_spool_append, seal_segment) -> on ERR_NET:
 *   binlog_spool_discard, back to CONNECT; on stop or idle end: seal, drain
 *   the uploader, exit 0; on ERR_GAP/ERR_PERM: status "gap"/"error", exit. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/common/log.h"
#include "engine/source/binlog/binlog_int.h"

typedef struct Follower {
    Repo *repo;
    const BinlogFollowOpts *o;
    BinlogSpool *sp;
    BinlogUploader *up;
    BinlogSegmenter seg;
    BinlogConn *conn;
    bool has_last;
    BinlogSegInfo last;          /* last sealed segment (the resume point) */
    bool has_start;              /* first run: where to start */
    char start_file[BINLOG_FILE_MAX];
    uint64_t start_pos;
    char start_gtid[64 * MDB_GTID_DOMAINS_MAX];
    uint64_t next_seq;
    time_t opened;               /* when the open segment got its first event */
    time_t status_at;
    const char *state;           /* "starting", "connecting", "streaming", "reconnecting",
                                    "draining"; final: "stopped", "gap", "error" */
    char alarm[2200];
    char error[2200];
    uint32_t last_event_time;
    time_t hb_at;                /* when the last heartbeat came (0: none since start) */
    char hb_file[BINLOG_FILE_MAX];   /* the server's binlog end it carried */
    uint64_t hb_pos;
    char hb_identity[BINLOG_IDENTITY_MAX];
    unsigned reconnects;
    time_t down_since;           /* not connected since (0: streaming or draining) */
    bool locked;                 /* holds a shared repository lock */
    time_t lock_at;              /* when it was last written */
} Follower;

/* A lock object is stale after 30 minutes without refresh (repo.h). */
#define FOLLOW_LOCK_REFRESH_S 60

static bool stopping(const Follower *f)
{
    return f->o->stop && *f->o->stop;
}

/* ---- status file ------------------------------------------------------ */

static json_t *seg_summary(const BinlogSegInfo *s)
{
    char gs[64 * MDB_GTID_DOMAINS_MAX], t[32];
    mdb_gtid_set_format(&s->gtid_state, gs, sizeof gs);
    binlog_time_format(s->last_time, t, sizeof t);
    return json_pack("{s:I, s:s, s:I, s:I, s:s, s:s}", "seq", (json_int_t)s->seq, "file", s->file,
                     "end", (json_int_t)s->end, "last_time", (json_int_t)s->last_time,
                     "last_time_utc", t, "gtid", gs);
}

/* Keep the shared repository lock live. Called about every second from
 * every loop (through write_status); a failed refresh is retried a minute
 * later and only logged: the lock is advisory, following must go on. */
static void refresh_lock(Follower *f, time_t now)
{
    if (!f->locked || now - f->lock_at < FOLLOW_LOCK_REFRESH_S)
        return;
    Err e;
    err_clear(&e);
    f->lock_at = now;
    if (repo_lock_refresh(f->repo, &e) != 0)
        log_warn("%s (retried in %d s)", e.msg, FOLLOW_LOCK_REFRESH_S);
}

static void write_status(Follower *f, bool force)
{
    time_t now = time(NULL);
    if (!force && now == f->status_at)
        return;
    f->status_at = now;
    refresh_lock(f, now);

    BinlogUploadState us;
    memset(&us, 0, sizeof us);
    if (f->up)
        binlog_uploader_state(f->up, &us);
    BinlogSegInfo oldest;
    int64_t lag_from = 0;
    uint64_t lag_bytes = 0;
    if (binlog_spool_oldest(f->sp, &oldest))
        lag_from = oldest.first_time;
    else if (f->seg.cur.event_count)
        lag_from = f->seg.cur.first_time;
    /* bytes: what the server has past the archived end, when both are in
     * the same file (heartbeats carry the server's end) */
    if (us.has_last) {
        const char *sf = f->seg.server_file[0] ? f->seg.server_file : f->seg.file;
        uint64_t spos = f->seg.server_pos > f->seg.pos ? f->seg.server_pos : f->seg.pos;
        if (strcmp(sf, us.last.file) == 0 && spos > us.last.end)
            lag_bytes = spos - us.last.end;
        else if (strcmp(sf, us.last.file) != 0)
            lag_bytes = spos;   /* at least what the newer file holds */
    }
    json_t *j = json_pack("{s:s, s:I, s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I}", "instance",
                          f->o->instance, "pid", (json_int_t)getpid(), "state", f->state,
                          "connected", f->conn != NULL && strcmp(f->state, "streaming") == 0,
                          "updated", (json_int_t)now, "lag_seconds",
                          (json_int_t)(lag_from ? (now > lag_from ? now - lag_from : 0) : 0),
                          "lag_bytes", (json_int_t)lag_bytes, "spool_bytes",
                          (json_int_t)binlog_spool_usage(f->sp), "spool_max",
                          (json_int_t)binlog_spool_max(f->sp), "spool_segments",
                          (json_int_t)binlog_spool_pending(f->sp));
    if (!j)
        return;
    json_object_set_new(j, "server",
                        json_pack("{s:s, s:s, s:I}", "identity",
                                  f->conn ? binlog_conn_identity(f->conn) : "",
                                  "file", f->seg.server_file[0] ? f->seg.server_file : f->seg.file,
                                  "position", (json_int_t)(f->seg.server_pos > f->seg.pos
                                                               ? f->seg.server_pos
                                                               : f->seg.pos)));
    json_object_set_new(j, "received", json_pack("{s:s, s:I, s:I}", "file", f->seg.file,
                                                 "position", (json_int_t)f->seg.pos, "time",
                                                 (json_int_t)f->last_event_time));
    json_object_set_new(j, "spooled", f->has_last ? seg_summary(&f->last) : json_null());
    json_object_set_new(j, "archived", us.has_last ? seg_summary(&us.last) : json_null());
    json_object_set_new(j, "upload_error", us.error[0] ? json_string(us.error) : json_null());
    json_object_set_new(j, "alarm", f->alarm[0] ? json_string(f->alarm) : json_null());
    json_object_set_new(j, "error", f->error[0] ? json_string(f->error) : json_null());
    json_object_set_new(j, "reconnects", json_integer(f->reconnects));
    json_object_set_new(j, "disconnected_since", json_integer((json_int_t)f->down_since));
    /* the proof a point-in-time restore past the archive's end needs
     * (docs/FORMAT.md "status.json"): at hb_at the server had nothing past this */
    json_object_set_new(j, "heartbeat",
                        f->hb_at ? json_pack("{s:I, s:s, s:I, s:s}", "time", (json_int_t)f->hb_at,
                                             "file", f->hb_file, "position", (json_int_t)f->hb_pos,
                                             "identity", f->hb_identity)
                                 : json_null());

    char tmp[1100], dst[1100];
    snprintf(tmp, sizeof tmp, "%s/status.json.tmp", binlog_spool_path(f->sp));
    snprintf(dst, sizeof dst, "%s/status.json", binlog_spool_path(f->sp));
    if (json_dump_file(j, tmp, JSON_COMPACT | JSON_SORT_KEYS) == 0)
        rename(tmp, dst);
    json_decref(j);
}

/* ---- sealing ---------------------------------------------------------- */

static int seal_segment(Follower *f, Err *err)
{
    BinlogSegInfo si;
    if (!binlog_seg_take(&f->seg, &si))
        return 0;
    si.seq = f->next_seq;
    snprintf(si.identity, sizeof si.identity, "%s", binlog_conn_identity(f->conn));
    if (!si.server_id)
        si.server_id = binlog_conn_server_id(f->conn);
    int rc = binlog_spool_seal(f->sp, &si, err);
    if (rc)
        return err_wrap(err, "seal binlog segment %" PRIu64, si.seq);
    f->next_seq++;
    f->last = si;
    f->has_last = true;
    binlog_uploader_kick(f->up);
    log_debug("sealed segment %" PRIu64 " %s:%" PRIu64 "..%" PRIu64 " (%" PRIu64 " events)",
              si.seq, si.file, si.start, si.end, si.event_count);
    return 0;
}

/* ---- resume point ------------------------------------------------------- */

static long long file_num(const char *f)
{
    const char *dot = strrchr(f, '.');
    return dot && dot[1] ? atoll(dot + 1) : -1;
}

/* Start the dump for this connection: same server -> exact file:pos; new
 * server -> by GTID state; first run -> the configured start. */
static int start_dump(Follower *f, Err *err)
{
    const BinlogFollowOpts *o = f->o;
    BinlogServerFile *files = NULL;
    size_t nfiles = 0;
    const char *file = NULL, *gtid = NULL;
    uint64_t pos = 4;
    int rc = 0;

    rc = binlog_conn_files(f->conn, &files, &nfiles, err);
    if (rc)
        return rc;
    binlog_seg_init(&f->seg, "", 0, f->has_last ? &f->last.gtid_state : NULL);
    f->seg.csum_len = binlog_conn_checksum(f->conn) ? 4 : 0;
    if (f->has_last) {
        bool same = strcmp(binlog_conn_identity(f->conn), f->last.identity) == 0;
        bool present = false;
        for (size_t i = 0; i < nfiles; i++)
            if (strcmp(files[i].name, f->last.file) == 0)
                present = true;
        bool restarted = nfiles && !present &&
                         file_num(files[nfiles - 1].name) < file_num(f->last.file);
        if (same && present) {
            file = f->last.file;
            pos = f->last.end;
            binlog_seg_init(&f->seg, file, pos, &f->last.gtid_state);
            f->seg.has_prev = true;
            snprintf(f->seg.prev_file, sizeof f->seg.prev_file, "%s", f->last.file);
            f->seg.prev_last_type = f->last.last_type;
        } else if (!same || restarted) {
            /* another server (primary switch) or the same name with binlog
             * numbering restarted: join by GTID, the only shared coordinate */
            char gs[64 * MDB_GTID_DOMAINS_MAX];
            mdb_gtid_set_format(&f->last.gtid_state, gs, sizeof gs);
            if (!gs[0]) {
                rc = err_set(err, ERR_GAP, "point-in-time recovery broken after %s:%" PRIu64
                             ": the server changed (%s -> %s) and the archive has no GTID "
                             "state to continue from", f->last.file, f->last.end,
                             f->last.identity, binlog_conn_identity(f->conn));
                goto out;
            }
            log_warn("server changed from %s to %s: continuing after GTID %s",
                     f->last.identity, binlog_conn_identity(f->conn), gs);
            snprintf(f->start_gtid, sizeof f->start_gtid, "%s", gs);
            gtid = f->start_gtid;
            binlog_seg_init(&f->seg, "", 0, &f->last.gtid_state);
            f->seg.gtid_wait = true;
            f->seg.first_link = BINLOG_LINK_GTID;
        } else {
            char t[32];
            binlog_time_format(f->last.last_time, t, sizeof t);
            rc = err_set(err, ERR_GAP,
                         "point-in-time recovery broken between %s UTC (%s:%" PRIu64
                         ") and now: the server purged %s before it was archived (its oldest "
                         "binlog is %s); take a new snapshot, then restart the follower with "
                         "--start from its coordinates",
                         t, f->last.file, f->last.end, f->last.file,
                         nfiles ? files[0].name : "none");
            goto out;
        }
    } else {
        f->seg.first_link = BINLOG_LINK_START;
        if (f->start_gtid[0]) {
            gtid = f->start_gtid;
            f->seg.gtid_wait = true;
        } else {
            bool present = false;
            for (size_t i = 0; i < nfiles; i++)
                if (strcmp(files[i].name, f->start_file) == 0)
                    present = true;
            if (!present) {
                rc = err_set(err, ERR_GAP, "the start position %s:%" PRIu64 " is not on the "
                             "server any more (oldest binlog: %s)", f->start_file, f->start_pos,
                             nfiles ? files[0].name : "none");
                goto out;
            }
            file = f->start_file;
            pos = f->start_pos;
            binlog_seg_init(&f->seg, file, pos, NULL);
            f->seg.first_link = BINLOG_LINK_START;
        }
        f->seg.csum_len = binlog_conn_checksum(f->conn) ? 4 : 0;
    }
    f->seg.csum_len = binlog_conn_checksum(f->conn) ? 4 : 0;
    rc = binlog_conn_dump(f->conn, file ? file : "", pos, gtid, o->server_id, o->heartbeat_ms,
                          o->until_idle, err);
out:
    free(files);
    return rc;
}

/* The newest snapshot's binlog coordinates ("mariadb" item), if any. */
static bool snapshot_start(Follower *f)
{
    Err e;
    json_t *m = NULL;
    Id id;
    err_clear(&e);
    if (repo_snapshot_get(f->repo, "latest", f->o->instance, &m, &id, &e) != 0)
        return false;
    bool ok = false;
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(m, "items"), i, it)
    {
        const char *type = json_string_value(json_object_get(it, "kind"));
        json_t *b = json_object_get(it, "binlog");
        if (!type || strcmp(type, "mariadb") != 0 || !json_is_object(b))
            continue;
        const char *file = json_string_value(json_object_get(b, "file"));
        json_int_t pos = json_integer_value(json_object_get(b, "position"));
        if (file && pos >= 4) {
            snprintf(f->start_file, sizeof f->start_file, "%s", file);
            f->start_pos = (uint64_t)pos;
            ok = true;
            log_info("starting at the newest snapshot's binlog coordinates %s:%" PRIu64,
                     f->start_file, f->start_pos);
        }
    }
    json_decref(m);
    return ok;
}

static int resume_point(Follower *f, Err *err)
{
    BinlogCatalog *cat = NULL;
    BinlogSegInfo sp_last;
    int rc = binlog_catalog_load(f->repo, f->o->instance, &cat, err);
    if (rc)
        return err_wrap(err, "load binlog catalog");
    size_t n = binlog_catalog_count(cat);
    const BinlogSegInfo *c_last = n ? binlog_catalog_at(cat, n - 1) : NULL;
    bool have_sp = binlog_spool_newest(f->sp, &sp_last);
    if (have_sp && (!c_last || sp_last.seq > c_last->seq)) {
        f->last = sp_last;
        f->has_last = true;
    } else if (c_last) {
        f->last = *c_last;
        f->last.stream = (RepoStreamRef){0};
        f->has_last = true;
    }
    f->next_seq = f->has_last ? f->last.seq + 1 : 1;
    size_t objs, ncmp, uncompacted = 0;
    uint64_t compacted_to;
    binlog_catalog_load_stats(cat, &objs, &ncmp, &compacted_to);
    for (size_t i = n; i-- > 0 && binlog_catalog_at(cat, i)->seq > compacted_to;)
        uncompacted++;
    /* the uploader keeps a copy of c_last without the chunk list */
    rc = binlog_uploader_start(f->repo, f->sp, f->o->instance, c_last, f->o->compact_entries,
                               uncompacted, &f->up, err);
    binlog_catalog_free(cat);
    if (rc)
        return rc;
    if (f->has_last)
        return 0;
    if (f->o->start_gtid) {
        snprintf(f->start_gtid, sizeof f->start_gtid, "%s", f->o->start_gtid);
        return 0;
    }
    if (f->o->start_file) {
        snprintf(f->start_file, sizeof f->start_file, "%s", f->o->start_file);
        f->start_pos = f->o->start_pos ? f->o->start_pos : 4;
        return 0;
    }
    if (snapshot_start(f))
        return 0;
    return err_set(err, ERR_INVALID,
                   "instance %s has no binlog archive and no snapshot to start from: take a "
                   "backup first, or give --start FILE:POS / --start-gtid",
                   f->o->instance);
}

/* ---- the stream ------------------------------------------------------------ */

static int stream(Follower *f, bool *out_idle, Err *err)
{
    const BinlogFollowOpts *o = f->o;
    int rc = 0;
    *out_idle = false;
    time_t bound_at = 0;
    for (;;) {
        if (stopping(f))
            break;
        /* the bound is checked once a second: usage scans the spool
         * directory, too dear for every event */
        time_t tb = time(NULL);
        bool check = tb != bound_at;
        bound_at = tb;
        while (check && binlog_spool_usage(f->sp) > binlog_spool_max(f->sp) && !stopping(f)) {
            /* hand what is complete to the uploader; with nothing sealed
             * (one open transaction larger than the bound) reading must go
             * on: spool_max is a soft bound, never a deadlock */
            if (binlog_seg_sealable(&f->seg) && (rc = seal_segment(f, err)))
                return rc;
            if (binlog_spool_pending(f->sp) == 0)
                break;
            snprintf(f->alarm, sizeof f->alarm, "spool full (%" PRIu64 " > %" PRIu64
                     " bytes): reading paused until uploads catch up",
                     binlog_spool_usage(f->sp), binlog_spool_max(f->sp));
            write_status(f, false);
            binlog_uploader_kick(f->up);
            sleep(1);
        }
        if (strncmp(f->alarm, "spool full", 10) == 0)
            f->alarm[0] = '\0';

        const uint8_t *ev = NULL;
        size_t len = 0;
        rc = binlog_conn_fetch(f->conn, &ev, &len, err);
        if (rc)
            return rc;
        if (!ev) {
            *out_idle = true;
            break;
        }
        BinlogFeed fd;
        bool was_empty = f->seg.cur.event_count == 0;
        rc = binlog_seg_feed(&f->seg, ev, len, &fd, err);
        if (rc)
            return rc;
        if (fd.seal_first && (rc = seal_segment(f, err)))
            return rc;
        if (fd.heartbeat) {
            /* sent when the server has sent everything and waited a heartbeat period */
            f->hb_at = time(NULL);
            snprintf(f->hb_file, sizeof f->hb_file, "%s", f->seg.server_file);
            f->hb_pos = f->seg.server_pos;
            snprintf(f->hb_identity, sizeof f->hb_identity, "%s", binlog_conn_identity(f->conn));
        }
        if (fd.kind == BINLOG_FEED_APPEND) {
            if ((rc = binlog_spool_append(f->sp, ev, len, err)))
                return rc;
            if (was_empty)
                f->opened = time(NULL);
            f->last_event_time = ((const uint8_t *)ev)[0] | ev[1] << 8 | ev[2] << 16 |
                                 (uint32_t)ev[3] << 24;
        }
        time_t now = time(NULL);
        uint64_t sealable = binlog_seg_sealable(&f->seg);
        if (fd.file_end ||
            (sealable && (sealable >= o->flush_bytes || now - f->opened >= (time_t)o->flush_seconds)))
            if ((rc = seal_segment(f, err)))
                return rc;
        write_status(f, false);
    }
    /* stopped or idle: keep what is complete */
    if (binlog_seg_sealable(&f->seg) && (rc = seal_segment(f, err)))
        return rc;
    return 0;
}

static void sleep_backoff(Follower *f, unsigned s)
{
    for (unsigned i = 0; i < s * 10 && !stopping(f); i++) {
        struct timespec ts = {0, 100000000L};
        nanosleep(&ts, NULL);
        if (i % 10 == 0)
            write_status(f, false);
    }
}

int binlog_follow(Repo *r, const BinlogFollowOpts *opts, Err *err)
{
    BinlogFollowOpts o = *opts;
    Follower f;
    int rc = 0;
    unsigned backoff = 0;

    memset(&f, 0, sizeof f);
    if (!o.flush_seconds)
        o.flush_seconds = 5;
    if (!o.flush_bytes)
        o.flush_bytes = 16u << 20;
    if (!o.heartbeat_ms)
        o.heartbeat_ms = 1000;
    if (!o.spool_max)
        o.spool_max = 1ull << 30;
    if (!o.compact_entries)
        o.compact_entries = 256;
    if (!o.server_id)
        return err_set(err, ERR_INVALID, "binlog_server_id must be set (a server_id unique "
                       "among the server's replicas)");
    f.repo = r;
    f.o = &o;
    f.state = "connecting";
    rc = binlog_spool_open(o.spool_dir, o.instance, o.spool_max, &f.sp, err);
    if (rc)
        return rc;
    /* shared: backups and restores coexist; prune and key removal wait */
    rc = repo_lock(r, false, err);
    if (rc) {
        err_wrap(err, "binlog follower of instance %s", o.instance);
        goto out;
    }
    f.locked = true;
    f.lock_at = time(NULL);
    /* a live status from the start: the previous run's "stopped" would
     * read as an alarm while the catalog loads */
    f.state = "starting";
    f.down_since = time(NULL);
    write_status(&f, true);
    rc = resume_point(&f, err);
    if (rc)
        goto out;

    unsigned read_timeout = o.heartbeat_ms / 1000 * 3 + 5;
    while (!stopping(&f)) {
        f.state = "connecting";
        if (!f.down_since)
            f.down_since = time(NULL);
        write_status(&f, true);
        rc = binlog_conn_open(&o.db, read_timeout, &f.conn, err);
        if (rc == 0)
            rc = start_dump(&f, err);
        bool idle = false;
        if (rc == 0) {
            f.state = "streaming";
            f.down_since = 0;
            f.error[0] = '\0';
            write_status(&f, true);
            backoff = 0;
            rc = stream(&f, &idle, err);
        }
        if (rc == 0 && (idle || stopping(&f)))
            break;
        if (rc == 0)
            continue;
        /* invariant 1: forget the unsealed tail, resume after the last seal */
        Err e2;
        err_clear(&e2);
        binlog_spool_discard(f.sp, &e2);
        binlog_conn_close(f.conn);
        f.conn = NULL;
        snprintf(f.error, sizeof f.error, "%s", err->msg);
        if (rc != ERR_NET || o.until_idle) {
            if (rc == ERR_GAP) {
                f.state = "gap";
                snprintf(f.alarm, sizeof f.alarm, "%s", err->msg);
            } else {
                f.state = "error";
            }
            write_status(&f, true);
            goto out;
        }
        f.reconnects++;
        backoff = backoff ? (backoff * 2 > 30 ? 30 : backoff * 2) : 1;
        log_warn("binlog connection lost (%s); reconnecting in %u s", err->msg, backoff);
        err_clear(err);
        rc = 0;
        f.state = "reconnecting";
        if (!f.down_since)
            f.down_since = time(NULL);
        write_status(&f, true);
        sleep_backoff(&f, backoff);
    }
    /* sealed everything complete; now try to upload it */
    binlog_conn_close(f.conn);
    f.conn = NULL;
    f.state = "draining";
    write_status(&f, true);
    {
        /* a second at a time, rewriting the status: a drain of minutes
         * must not look like a hung follower (BINLOG_STATUS_STALE_S) */
        Err e2;
        time_t until = time(NULL) + (o.until_idle ? 600 : 30);
        int drc;
        for (;;) {
            err_clear(&e2);
            drc = binlog_uploader_drain(f.up, 1, &e2);
            BinlogUploadState us;
            binlog_uploader_state(f.up, &us);
            if (drc == 0 || us.fatal || time(NULL) >= until)
                break;
            write_status(&f, true);
        }
        if (drc) {
            if (o.until_idle) {
                *err = e2;
                rc = drc;
            } else {
                log_warn("%s (uploaded on the next start)", e2.msg);
            }
        }
    }
    f.state = rc ? "error" : "stopped";
    write_status(&f, true);
out:
    binlog_uploader_stop(f.up);
    f.up = NULL;
    /* a failure before the loop (the lock, the catalog) ends in "error"
     * too, not in the state it was reached from */
    if (rc && strcmp(f.state, "gap") != 0 && strcmp(f.state, "error") != 0) {
        f.state = "error";
        snprintf(f.error, sizeof f.error, "%s", err->msg);
    }
    if (f.sp)
        write_status(&f, true);
    binlog_conn_close(f.conn);
    binlog_spool_close(f.sp);
    if (f.locked) {
        Err e2;
        err_clear(&e2);
        if (repo_unlock(r, &e2) != 0)
            log_warn("%s", e2.msg);
    }
    return rc;
}
