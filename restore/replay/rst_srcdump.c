/* rst_srcdump.c: the binlog sender behind COM_BINLOG_DUMP. Mirrors what a
 * MariaDB primary sends a GTID replica (sql/sql_repl.cc, read for behaviour,
 * not copied): a fake Rotate naming the file, the file's Format_description
 * (in-use flag and `created` cleared), then the events, skipping whole GTID
 * groups at or before the replica's @slave_connect_state, stopping after the
 * group that reaches @slave_until_gtid with a fake Gtid_list flagged
 * UNTIL_REACHED, heartbeats while idle. Events whose server_id equals
 * cfg.rewrite_from_id go out with rewrite_to_id (a replica drops its own).
 *
 * Skip/until decisions compare sequence numbers within a domain (gtid strict
 * mode makes them monotonic); a primary also compares server ids, which a
 * rewritten stream would defeat.
 *
 * Per-dump states:  STARTING -(rotate+FD sent)-> STREAMING -(until group
 * sent: send_until_marker)-> UNTIL_DONE -(EOF packet)-> IDLE;
 * STREAMING -(next() returns the end)-> IDLE; IDLE ends when the replica
 * disconnects or the server stops (idle_loop). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "engine/common/log.h"
#include "restore/replay/rst_srcserver_int.h"

#define ER_MASTER_FATAL_READING 1236
#define FD_CREATED_OFF (MDB_HDR_LEN + 2 + 50)

typedef enum { SKIP_NOT, SKIP_STANDALONE, SKIP_TRANSACTION } SkipState;

typedef struct Dump {
    RstSrcServer *s;
    RstConn *c;
    const RstSlaveVars *vars;
    MdbGtidSet connect;        /* domains still to reach (removed when reached) */
    MdbGtidSet until;          /* domains still before their until GTID */
    bool has_until;
    bool stop_after_group;     /* the group in progress reaches the until condition */
    bool group_standalone;
    bool send_fake_list;
    bool first_gtid_list_seen;
    bool want_annotate;        /* dump flag BINLOG_SEND_ANNOTATE_ROWS_EVENT */
    bool source_failed;        /* the error came from the event source, not the replica */
    SkipState skip;
    MdbGtid cur;
    Buf scratch;
    struct timespec last_send;
} Dump;

static void now(struct timespec *t) { clock_gettime(CLOCK_MONOTONIC, t); }

static double since(const struct timespec *t)
{
    struct timespec n;
    now(&n);
    return (double)(n.tv_sec - t->tv_sec) + (double)(n.tv_nsec - t->tv_nsec) / 1e9;
}

static bool ends_group(Dump *d, uint8_t type, const uint8_t *ev, size_t len, bool standalone)
{
    return mdb_event_ends_group(type, ev, len - (d->s->crc ? 4 : 0), standalone);
}

static void fix_crc(uint8_t *ev, size_t len)
{
    mdb_put_le32(ev + len - 4, mdb_crc32(0, ev, len - 4));
}

static int send_raw(Dump *d, const uint8_t *ev, size_t len, Err *err)
{
    RstSrcServer *s = d->s;
    uint32_t pos = mdb_le32(ev + MDB_HDR_POS_OFF);
    int rc = rst_conn_write2(d->c, 0x00, ev, len, err);
    if (rc) return err_wrap(err, "send binlog event to the replica");
    if (pos) s->log_pos = pos;
    now(&d->last_send);
    pthread_mutex_lock(&s->mu);
    s->stats.events_sent++;
    s->stats.bytes_sent += len;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

/* An artificial event (timestamp 0, ARTIFICIAL flag) of type/body. */
static int send_fake(Dump *d, uint8_t type, const uint8_t *body, size_t blen, uint32_t log_pos,
                     bool crc, Err *err)
{
    size_t len = MDB_HDR_LEN + blen + (crc ? 4 : 0);
    uint8_t *e;
    int rc;
    buf_reset(&d->scratch);
    rc = buf_reserve(&d->scratch, len, err);
    if (rc) return rc;
    e = d->scratch.data;
    memset(e, 0, MDB_HDR_LEN);
    e[MDB_HDR_TYPE_OFF] = type;
    mdb_put_le32(e + MDB_HDR_SERVER_OFF, d->s->cfg.server_id);
    mdb_put_le32(e + MDB_HDR_LEN_OFF, (uint32_t)len);
    mdb_put_le32(e + MDB_HDR_POS_OFF, log_pos);
    mdb_put_le16(e + MDB_HDR_FLAGS_OFF, MDB_FLAG_ARTIFICIAL);
    memcpy(e + MDB_HDR_LEN, body, blen);
    if (crc) fix_crc(e, len);
    return send_raw(d, e, len, err);
}

static int send_fake_rotate(Dump *d, uint64_t pos, Err *err)
{
    uint8_t body[8 + 512];
    size_t n = strlen(d->s->log_name);
    mdb_put_le64(body, pos);
    memcpy(body + 8, d->s->log_name, n);
    /* before any Format_description the replica checks this one against the
     * checksum it was told at connect (we answer CRC32 to checksum-aware replicas) */
    return send_fake(d, MDB_EV_ROTATE, body, 8 + n, 0, d->vars->checksum_aware, err);
}

static int send_gtid_list(Dump *d, uint32_t flags, Err *err)
{
    uint8_t body[4 + 16 * MDB_GTID_DOMAINS_MAX];
    const MdbGtidSet *st = &d->s->binlog_state;
    mdb_put_le32(body, (uint32_t)st->n | flags);
    for (size_t i = 0; i < st->n; i++) {
        mdb_put_le32(body + 4 + 16 * i, st->g[i].domain);
        mdb_put_le32(body + 8 + 16 * i, st->g[i].server);
        mdb_put_le64(body + 12 + 16 * i, st->g[i].seq);
    }
    return send_fake(d, MDB_EV_GTID_LIST, body, 4 + 16 * st->n, (uint32_t)d->s->log_pos, d->s->crc,
                     err);
}

static int send_heartbeat(Dump *d, Err *err)
{
    return send_fake(d, MDB_EV_HEARTBEAT, (const uint8_t *)d->s->log_name, strlen(d->s->log_name),
                     (uint32_t)d->s->log_pos, d->s->crc, err);
}

/* Copy ev to scratch when it needs a server_id rewrite; returns the event
 * to send (ev itself or the rewritten copy). */
static int maybe_rewrite(Dump *d, const uint8_t **ev, size_t len, bool crc, Err *err)
{
    const RstSrcConfig *cfg = &d->s->cfg;
    uint8_t *e;
    bool changed = false;
    int rc;
    if (!cfg->rewrite_from_id) return 0;
    buf_reset(&d->scratch);
    rc = buf_append(&d->scratch, *ev, len, err);
    if (rc) return rc;
    e = d->scratch.data;
    if (mdb_le32(e + MDB_HDR_SERVER_OFF) == cfg->rewrite_from_id) {
        mdb_put_le32(e + MDB_HDR_SERVER_OFF, cfg->rewrite_to_id);
        changed = true;
    }
    if (e[MDB_HDR_TYPE_OFF] == MDB_EV_GTID_LIST && len >= MDB_HDR_LEN + 4) {
        uint32_t n = mdb_le32(e + MDB_HDR_LEN) & 0x0fffffffu;
        for (uint32_t i = 0; i < n && MDB_HDR_LEN + 4 + 16 * (size_t)(i + 1) <= len; i++) {
            uint8_t *sid = e + MDB_HDR_LEN + 4 + 16 * i + 4;
            if (mdb_le32(sid) == cfg->rewrite_from_id) {
                mdb_put_le32(sid, cfg->rewrite_to_id);
                changed = true;
            }
        }
    }
    if (!changed) return 0;
    if (crc) fix_crc(e, len);
    *ev = e;
    return 0;
}

static int send_event(Dump *d, const uint8_t *ev, size_t len, Err *err)
{
    int rc = maybe_rewrite(d, &ev, len, d->s->crc, err);
    return rc ? rc : send_raw(d, ev, len, err);
}

/* The Format_description, in-use flag and `created` cleared (so the replica
 * neither thinks the file is open nor drops its temporary tables); log_pos
 * zeroed on a reconnect (the replica must not advance its position). */
static int send_fd(Dump *d, const uint8_t *fd, size_t len, bool reconnect, Err *err)
{
    uint8_t *e;
    int rc;
    bool crc;
    buf_reset(&d->scratch);
    rc = buf_append(&d->scratch, fd, len, err);
    if (rc) return rc;
    e = d->scratch.data;
    crc = mdb_fd_has_crc(e, len);
    e[MDB_HDR_FLAGS_OFF] &= (uint8_t)~MDB_FLAG_IN_USE;
    mdb_put_le32(e + FD_CREATED_OFF, 0);
    if (reconnect) mdb_put_le32(e + MDB_HDR_POS_OFF, 0);
    if (d->s->cfg.rewrite_from_id && mdb_le32(e + MDB_HDR_SERVER_OFF) == d->s->cfg.rewrite_from_id)
        mdb_put_le32(e + MDB_HDR_SERVER_OFF, d->s->cfg.rewrite_to_id);
    if (crc) fix_crc(e, len);
    return send_raw(d, e, len, err);
}

static int fetch(Dump *d, const uint8_t **ev, size_t *len, Err *err)
{
    RstSrcServer *s = d->s;
    int rc = s->next(s->next_ctx, ev, len, err);
    if (rc) {
        d->source_failed = true;
        return err_wrap(err, "read binlog event stream");
    }
    if (!*ev) {
        s->stream_end = true;
        pthread_mutex_lock(&s->mu);
        s->stats.source_done = true;
        pthread_mutex_unlock(&s->mu);
        return 0;
    }
    if (*len < MDB_HDR_LEN || mdb_le32(*ev + MDB_HDR_LEN_OFF) != *len)
        return d->source_failed = true, err_set(err, ERR_CORRUPT, "binlog event stream: event of %zu bytes with header length %u in %s",
                       *len, *len >= MDB_HDR_LEN ? mdb_le32(*ev + MDB_HDR_LEN_OFF) : 0, s->log_name);
    return 0;
}

static int check_crc(Dump *d, const uint8_t *ev, size_t len, bool crc, Err *err)
{
    if (!crc || !d->s->cfg.verify_checksums || len < MDB_HDR_LEN + 4) return 0;
    if (mdb_crc32(0, ev, len - 4) != mdb_le32(ev + len - 4))
        return err_set(err, ERR_CORRUPT, "binlog event type %u ending at %s:%u: checksum mismatch",
                       ev[MDB_HDR_TYPE_OFF], d->s->log_name, mdb_le32(ev + MDB_HDR_POS_OFF));
    return 0;
}

/* One GTID of the file's Gtid_list (mdb_event_gtid_list callback). */
static int gtid_list_entry(void *ctx, const MdbGtid *entry, Err *err)
{
    Dump *d = ctx;
    RstSrcServer *s = d->s;
    MdbGtid g = *entry;
    MdbGtid *have = mdb_gtid_set_find(&s->binlog_state, g.domain);
    if (s->cfg.rewrite_from_id && g.server == s->cfg.rewrite_from_id) g.server = s->cfg.rewrite_to_id;
    if (!have || have->seq < g.seq)
        if (mdb_gtid_set_put(&s->binlog_state, &g, err)) return err->code;
    if (!d->first_gtid_list_seen) {
        /* The stream must start at or before the replica's position. */
        MdbGtid *want = mdb_gtid_set_find(&d->connect, g.domain);
        if (want && g.seq > want->seq)
            return err_set(err, ERR_GAP,
                           "the binlog stream starts after the target's position: it begins at "
                           "%u-%u-%llu in %s but the target is at %u-%u-%llu",
                           g.domain, g.server, (unsigned long long)g.seq, s->log_name,
                           want->domain, want->server, (unsigned long long)want->seq);
    }
    return 0;
}

static int load_gtid_list(Dump *d, const uint8_t *ev, size_t len, Err *err)
{
    RstSrcServer *s = d->s;
    int rc = mdb_event_gtid_list(ev, len - (s->crc ? 4 : 0), gtid_list_entry, d, err);
    if (rc == ERR_CORRUPT) return err_wrap(err, "in %s", s->log_name);
    if (rc) return rc;
    d->first_gtid_list_seen = true;
    return 0;
}

/* A GTID event: update the state and decide skip / until for its group. */
static int on_gtid(Dump *d, const uint8_t *ev, size_t len, Err *err)
{
    RstSrcServer *s = d->s;
    MdbGtid g, *c, *u;
    uint8_t flags2;
    if (mdb_event_gtid(ev, len, &g, &flags2, err)) return err_wrap(err, "in %s", s->log_name);
    if (s->cfg.rewrite_from_id && g.server == s->cfg.rewrite_from_id) g.server = s->cfg.rewrite_to_id;
    d->group_standalone = (flags2 & MDB_GTID_FL_STANDALONE) != 0;
    d->cur = g;
    s->in_group = true;
    if (mdb_gtid_set_put(&s->binlog_state, &g, err)) return err->code;
    d->skip = SKIP_NOT;
    if ((c = mdb_gtid_set_find(&d->connect, g.domain)) != NULL) {
        if (g.seq <= c->seq) d->skip = d->group_standalone ? SKIP_STANDALONE : SKIP_TRANSACTION;
        if (g.seq >= c->seq) {
            if (g.seq > c->seq + 1 && d->vars->strict)
                return err_set(err, ERR_GAP, "the binlog stream has no GTID %u-%u-%llu (the target's "
                               "position); the next one is %u-%u-%llu",
                               c->domain, c->server, (unsigned long long)c->seq, g.domain, g.server,
                               (unsigned long long)g.seq);
            d->send_fake_list = true;
            *c = d->connect.g[--d->connect.n]; /* remove: this domain reached the start */
        }
    }
    if (d->has_until) {
        u = mdb_gtid_set_find(&d->until, g.domain);
        if (!u) {
            d->skip = d->group_standalone ? SKIP_STANDALONE : SKIP_TRANSACTION;
        } else if (g.seq >= u->seq) {
            if (g.seq > u->seq) d->skip = d->group_standalone ? SKIP_STANDALONE : SKIP_TRANSACTION;
            *u = d->until.g[--d->until.n];
            if (d->until.n == 0) d->stop_after_group = true;
        }
    }
    return 0;
}

static int send_until_marker(Dump *d, Err *err)
{
    RstSrcServer *s = d->s;
    int rc = send_gtid_list(d, MDB_GTID_LIST_UNTIL_REACHED, err);
    if (rc) return rc;
    s->until_done = true;
    pthread_mutex_lock(&s->mu);
    s->stats.until_reached = true;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

/* A group just ended (sent or skipped). */
static int on_group_end(Dump *d, bool skipped, Err *err)
{
    RstSrcServer *s = d->s;
    int rc = 0;
    s->in_group = false;
    if (!skipped) {
        MdbGtid *st = mdb_gtid_set_find(&s->sent_state, d->cur.domain);
        if (st) *st = d->cur;
        else rc = mdb_gtid_set_put(&s->sent_state, &d->cur, err);
        if (rc) return rc;
    }
    pthread_mutex_lock(&s->mu);
    if (skipped) s->stats.groups_skipped++;
    else {
        s->stats.groups_sent++;
        snprintf(s->stats.last_gtid, sizeof s->stats.last_gtid, "%u-%u-%llu", d->cur.domain,
                 d->cur.server, (unsigned long long)d->cur.seq);
    }
    pthread_mutex_unlock(&s->mu);
    if (d->send_fake_list) {
        d->send_fake_list = false;
        rc = send_gtid_list(d, 0, err);
        if (rc) return rc;
    }
    if (d->stop_after_group) rc = send_until_marker(d, err);
    return rc;
}

/* Stream events until the until marker is sent, the source ends, or stop. */
static int stream(Dump *d, Err *err)
{
    RstSrcServer *s = d->s;
    const uint8_t *ev;
    size_t len;
    int rc;
    while (!s->stop && !s->until_done && !s->stream_end) {
        uint8_t type;
        rc = fetch(d, &ev, &len, err);
        if (rc) return rc;
        if (!ev) break;
        type = ev[MDB_HDR_TYPE_OFF];
        if (type == MDB_EV_FORMAT_DESC) {
            s->crc = mdb_fd_has_crc(ev, len);
            rc = check_crc(d, ev, len, s->crc, err);
            if (!rc) {
                buf_reset(&s->fd_ev);
                rc = buf_append(&s->fd_ev, ev, len, err);
            }
            if (!rc) rc = send_fake_rotate(d, 4, err);
            if (!rc) rc = send_fd(d, ev, len, false, err);
            if (rc) return rc;
            continue;
        }
        rc = check_crc(d, ev, len, s->crc, err);
        if (rc) return rc;
        if (type == MDB_EV_START_ENCRYPTION)
            return err_set(err, ERR_UNSUPPORTED, "binlog %s is encrypted at rest (Start_encryption event): "
                           "archive it through the replication protocol, which decrypts", s->log_name);
        if (type == MDB_EV_GTID) {
            rc = on_gtid(d, ev, len, err);
            if (rc) return rc;
        }
        if (type == MDB_EV_GTID_LIST && d->skip == SKIP_NOT) {
            rc = load_gtid_list(d, ev, len, err);
            if (rc) return rc;
        }
        if (type == MDB_EV_ROTATE) {
            size_t end = len - (s->crc ? 4 : 0), n;
            if (end >= MDB_HDR_LEN + 8) {
                n = end - MDB_HDR_LEN - 8;
                if (n >= sizeof s->log_name) n = sizeof s->log_name - 1;
                memcpy(s->log_name, ev + MDB_HDR_LEN + 8, n);
                s->log_name[n] = 0;
            }
        }
        if (d->skip != SKIP_NOT) {
            bool standalone = d->skip == SKIP_STANDALONE;
            if (type != MDB_EV_GTID && ends_group(d, type, ev, len, standalone)) {
                d->skip = SKIP_NOT;
                rc = on_group_end(d, true, err);
                if (rc) return rc;
            }
            continue;
        }
        if (type == MDB_EV_ANNOTATE_ROWS && !d->want_annotate) continue; /* GTID replicas tolerate holes */
        rc = send_event(d, ev, len, err);
        if (rc) return rc;
        if (type != MDB_EV_GTID && s->in_group && ends_group(d, type, ev, len, d->group_standalone)) {
            rc = on_group_end(d, false, err);
            if (rc) return rc;
        }
    }
    return 0;
}

/* Keep the connection: heartbeats at the replica's period until it goes away
 * or the server stops. */
static int idle_loop(Dump *d, Err *err)
{
    double period = d->vars->heartbeat_ns ? (double)d->vars->heartbeat_ns / 1e9 : 0;
    int rc = rst_conn_flush(d->c, err);
    if (rc) return 0;
    while (!d->s->stop) {
        struct pollfd pfd = {.fd = d->c->fd, .events = POLLIN};
        int pr = poll(&pfd, 1, 200);
        if (pr > 0) {
            uint8_t tmp[256];
            ssize_t r = recv(d->c->fd, tmp, sizeof tmp, 0);
            if (r <= 0) return 0; /* the replica closed: normal end */
        }
        if (period > 0 && since(&d->last_send) >= period) {
            if (send_heartbeat(d, err) || rst_conn_flush(d->c, err)) return 0;
        }
    }
    return 0;
}

static int refuse(Dump *d, const char *msg, Err *err)
{
    log_warn("replay source: refused binlog dump: %s", msg);
    if (!rst_conn_errpkt(d->c, ER_MASTER_FATAL_READING, "HY000", msg, err)) rst_conn_flush(d->c, err);
    return 0;
}

int rst_srcdump_serve(RstSrcServer *s, RstConn *c, const RstSlaveVars *vars, Err *err)
{
    Dump d;
    int rc = 0;
    bool reconnect = s->stream_begun;
    char msg[512];
    Err perr;

    memset(&d, 0, sizeof d);
    d.s = s;
    d.c = c;
    d.vars = vars;
    buf_init(&d.scratch, (size_t)1 << 31);
    now(&d.last_send);
    err_clear(&perr);

    if (!vars->has_connect_state) {
        rc = refuse(&d, "the tidemark replay source serves GTID replicas only "
                        "(CHANGE MASTER ... master_use_gtid=slave_pos)", err);
        goto out;
    }
    if (mdb_gtid_set_parse(vars->connect_state, &d.connect, &perr) ||
        (vars->has_until && mdb_gtid_set_parse(vars->until, &d.until, &perr))) {
        rc = refuse(&d, perr.msg, err);
        goto out;
    }
    d.has_until = vars->has_until;
    d.want_annotate = c->in.len >= 7 && (mdb_le16(c->in.data + 5) & 2);
    log_info("replay source: replica dump from %s%s%s", vars->connect_state[0] ? vars->connect_state : "(empty)",
             vars->has_until ? " until " : "", vars->has_until ? vars->until : "");

    if (reconnect) {
        /* invariant 2: the replica must hold exactly what we sent */
        for (size_t i = 0; i < s->sent_state.n; i++) {
            MdbGtid *w = mdb_gtid_set_find(&d.connect, s->sent_state.g[i].domain);
            if (!w || w->seq != s->sent_state.g[i].seq || s->in_group) {
                snprintf(msg, sizeof msg, "replica reconnected at %.200s but the stream is past "
                         "%u-%u-%llu%s; the stream cannot rewind", vars->connect_state,
                         s->sent_state.g[i].domain, s->sent_state.g[i].server,
                         (unsigned long long)s->sent_state.g[i].seq,
                         s->in_group ? " (inside a transaction)" : "");
                refuse(&d, msg, err);
                rc = err_set(err, ERR_NET, "%s", msg);
                goto out;
            }
        }
        d.connect.n = 0; /* nothing left to skip */
    } else {
        s->sent_state = d.connect;
    }
    /* Domains whose until GTID is at or before the start are already done. */
    for (size_t i = 0; d.has_until && i < d.until.n;) {
        MdbGtid *w = mdb_gtid_set_find(reconnect ? &s->sent_state : &d.connect, d.until.g[i].domain);
        if (w && d.until.g[i].seq <= w->seq) d.until.g[i] = d.until.g[--d.until.n];
        else i++;
    }

    if (!reconnect) {
        const uint8_t *ev;
        size_t len;
        rc = fetch(&d, &ev, &len, err);
        if (rc) goto fail;
        if (!ev || ev[MDB_HDR_TYPE_OFF] != MDB_EV_FORMAT_DESC) {
            rc = err_set(err, ERR_CORRUPT, "binlog event stream does not start with a Format_description event");
            goto fail;
        }
        s->stream_begun = true;
        s->crc = mdb_fd_has_crc(ev, len);
        rc = check_crc(&d, ev, len, s->crc, err);
        if (!rc) rc = buf_append(&s->fd_ev, ev, len, err);
        if (!rc) rc = send_fake_rotate(&d, 4, err);
        if (!rc) rc = send_fd(&d, ev, len, false, err);
    } else {
        rc = send_fake_rotate(&d, s->log_pos, err);
        if (!rc) rc = send_fd(&d, s->fd_ev.data, s->fd_ev.len, true, err);
    }
    if (rc) goto fail;
    if ((d.has_until && d.until.n == 0) || s->until_done) rc = send_until_marker(&d, err);
    else rc = stream(&d, err);
    if (rc) goto fail;
    if (s->until_done) {
        rc = rst_conn_eof(c, err);   /* as a primary does after UNTIL */
        if (rc) { rc = 0; goto out; }
    }
    rc = idle_loop(&d, err);
    goto out;
fail:
    if (err->code == ERR_NET && !d.source_failed) {
        /* the replica went away mid-stream; it may reconnect (invariant 2 decides) */
        log_info("replay source: replica connection lost: %s", err->msg);
        err_clear(err);
        rc = 0;
        goto out;
    }
    snprintf(msg, sizeof msg, "tidemark replay source: %.400s", err->msg);
    rst_conn_errpkt(c, ER_MASTER_FATAL_READING, "HY000", msg, &perr);
    rst_conn_flush(c, &perr);
out:
    buf_free(&d.scratch);
    return rc;
}
