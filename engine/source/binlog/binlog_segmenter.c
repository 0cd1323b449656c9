/* binlog_segmenter.c: the pure state machine between the replication
 * stream and the spool. It tells the caller which events belong to the
 * server's files (to append) and where transactions end (where a segment
 * may be sealed), tracks the file and position, and builds each segment's
 * catalog metadata.
 *
 * Invariants:
 *  1. pos is the file position where the next real event must start; a real
 *     event anywhere else is ERR_GAP (never silently accepted).
 *  2. boundary is reported only when no transaction is open: a GTID event
 *     opens one; XID, XA prepare, COMMIT/ROLLBACK, or the single statement
 *     of a standalone group (DDL) closes it.
 *  3. Artificial events (Rotate/Gtid_list/Format_description sent because a
 *     dump started, heartbeats) are never appended.
 *
 * States: outside a group --GTID--> in group --XID/COMMIT/standalone stmt-->
 * outside (boundary). binlog_seg_take() seals the metadata and applies a
 * pending file switch. */
#include <stdio.h>
#include <string.h>

#include "engine/source/binlog/binlog_int.h"

void binlog_seg_init(BinlogSegmenter *s, const char *file, uint64_t pos,
                     const MdbGtidSet *state)
{
    memset(s, 0, sizeof *s);
    snprintf(s->file, sizeof s->file, "%s", file ? file : "");
    s->pos = pos;
    s->verify_crc = true;
    if (state)
        s->state = *state;
}

static int state_add(void *ctx, const MdbGtid *g, Err *err)
{
    (void)err;
    mdb_gtid_set_update(ctx, g);
    return 0;
}

static int feed_artificial(BinlogSegmenter *s, const MdbEventHdr *h, const uint8_t *ev,
                           size_t len, BinlogFeed *out, Err *err)
{
    if (h->type == MDB_EV_ROTATE) {
        char name[BINLOG_FILE_MAX];
        uint64_t pos = 0;
        int rc = mdb_event_rotate(ev, len, s->csum_len, name, sizeof name, &pos, err);
        if (rc)
            return rc;
        if (strcmp(name, s->file) == 0)
            return 0;   /* the dump (re)starts in the file we expect */
        if (s->cur.event_count > 0) {
            /* the server left the file without a Rotate (it crashed or was
             * killed): what we hold is all that file will ever have */
            out->seal_first = true;
            snprintf(s->pending_file, sizeof s->pending_file, "%s", name);
            s->pending_pos = pos;
        } else {
            snprintf(s->file, sizeof s->file, "%s", name);
            if (s->pos != 0 || s->gtid_wait)
                s->pos = pos;
            s->in_group = false;
        }
        s->fd_len = 0;
        return 0;
    }
    if (h->type == MDB_EV_FORMAT_DESC) {
        unsigned alg = 0;
        int rc = mdb_event_fd_checksum(ev, len, &alg, err);
        if (rc)
            return rc;
        s->csum_len = alg == 1 ? 4 : 0;
        if (len <= sizeof s->fd) {
            memcpy(s->fd, ev, len);
            s->fd_len = len;
            out->fd_saved = true;
        }
        return 0;
    }
    return 0;
}

int binlog_seg_feed(BinlogSegmenter *s, const uint8_t *ev, size_t len, BinlogFeed *out, Err *err)
{
    MdbEventHdr h;
    int rc = 0;

    memset(out, 0, sizeof *out);
    rc = mdb_event_header(ev, len, &h, err);
    if (rc)
        return rc;

    if (h.type == MDB_EV_HEARTBEAT) {
        size_t nlen = len - MDB_HDR_LEN;
        if (nlen >= s->csum_len)
            nlen -= s->csum_len;
        if (nlen >= sizeof s->server_file)
            nlen = sizeof s->server_file - 1;
        memcpy(s->server_file, ev + MDB_HDR_LEN, nlen);
        s->server_file[nlen] = '\0';
        s->server_pos = h.next_pos;
        out->heartbeat = true;
        return 0;
    }
    if (!mdb_event_is_real(&h))
        return feed_artificial(s, &h, ev, len, out, err);

    uint64_t start = (uint64_t)h.next_pos - h.length;
    if (h.next_pos < h.length)
        return err_set(err, ERR_CORRUPT, "binlog event in %s ends at %u but is %u bytes long",
                       s->file, h.next_pos, h.length);

    if (h.type == MDB_EV_FORMAT_DESC) {
        unsigned alg = 0;
        rc = mdb_event_fd_checksum(ev, len, &alg, err);
        if (rc)
            return rc;
        s->csum_len = alg == 1 ? 4 : 0;
    }
    if (s->gtid_wait) {
        /* a GTID start: the server sends the file's head, then jumps to the
         * first transaction after the requested state; keep the head's FD
         * for export, archive from that first transaction */
        if (h.type == MDB_EV_FORMAT_DESC && len <= sizeof s->fd) {
            memcpy(s->fd, ev, len);
            s->fd_len = len;
            out->fd_saved = true;
        }
        if (h.type != MDB_EV_GTID)
            return 0;
        s->gtid_wait = false;
        s->pos = start;
    }
    if (s->pos == 0)
        s->pos = start;
    if (start != s->pos) {
        return err_set(err, ERR_GAP,
                       "binlog gap in %s: the archive ends at position %llu but the server "
                       "sent the next event at %llu",
                       s->file, (unsigned long long)s->pos, (unsigned long long)start);
    }
    if (s->csum_len && s->verify_crc) {
        rc = mdb_event_crc_check(ev, len, err);
        if (rc)
            return err_wrap(err, "%s at %llu", s->file, (unsigned long long)start);
    }

    BinlogSegInfo *c = &s->cur;
    if (c->event_count == 0) {
        snprintf(c->file, sizeof c->file, "%s", s->file);
        c->start = start;
        c->first_time = h.timestamp;
        c->checksum_alg = s->csum_len ? 1 : 0;
        if (start > MDB_BINLOG_MAGIC_LEN && s->fd_len) {
            memcpy(c->fd, s->fd, s->fd_len);
            c->fd_len = s->fd_len;
        }
        memset(&c->gtid_first, 0, sizeof c->gtid_first);
        memset(&c->gtid_last, 0, sizeof c->gtid_last);
    }
    c->end = h.next_pos;
    if (h.timestamp)
        c->last_time = h.timestamp;
    if (!c->first_time)
        c->first_time = h.timestamp;
    c->event_count++;
    c->size += len;
    c->last_type = h.type;
    if (h.type == MDB_EV_FORMAT_DESC)
        c->server_id = h.server_id;
    s->pos = h.next_pos;
    s->last_type = h.type;

    switch (h.type) {
    case MDB_EV_GTID: {
        MdbGtid g;
        uint8_t fl = 0;
        rc = mdb_event_gtid(ev, len, &g, &fl, err);
        if (rc)
            return rc;
        s->in_group = true;
        s->standalone = (fl & MDB_GTID_FL_STANDALONE) != 0;
        if (!mdb_gtid_set_find(&c->gtid_first, g.domain))
            mdb_gtid_set_update(&c->gtid_first, &g);
        mdb_gtid_set_update(&c->gtid_last, &g);
        mdb_gtid_set_update(&s->state, &g);
        c->trx_count++;
        break;
    }
    case MDB_EV_XID:
    case MDB_EV_XA_PREPARE:
        s->in_group = false;
        break;
    case MDB_EV_QUERY:
        if (s->in_group &&
            (s->standalone || mdb_event_query_is(ev, len, s->csum_len, "COMMIT") ||
             mdb_event_query_is(ev, len, s->csum_len, "ROLLBACK")))
            s->in_group = false;
        break;
    case MDB_EV_QUERY_COMPRESSED:
        if (s->standalone)
            s->in_group = false;
        break;
    case MDB_EV_GTID_LIST:
        rc = mdb_event_gtid_list(ev, len, state_add, &s->state, err);
        if (rc)
            return rc;
        break;
    case MDB_EV_ROTATE: {
        uint64_t npos = 0;
        rc = mdb_event_rotate(ev, len, s->csum_len, s->pending_file, sizeof s->pending_file,
                                 &npos, err);
        if (rc)
            return rc;
        s->pending_pos = npos;
        s->in_group = false;
        out->file_end = true;
        break;
    }
    case MDB_EV_STOP:
        s->in_group = false;
        out->file_end = true;
        break;
    default:
        break;
    }
    c->gtid_state = s->state;
    out->kind = BINLOG_FEED_APPEND;
    out->boundary = !s->in_group;
    return 0;
}

uint64_t binlog_seg_sealable(const BinlogSegmenter *s)
{
    return s->in_group ? 0 : s->cur.size;
}

bool binlog_seg_take(BinlogSegmenter *s, BinlogSegInfo *out)
{
    if (s->cur.event_count == 0)
        return false;
    *out = s->cur;
    BinlogLink link = BINLOG_LINK_CONTINUE;
    if (!s->has_prev)
        link = s->first_link;
    else if (strcmp(s->prev_file, out->file) != 0)
        link = (s->prev_last_type == MDB_EV_ROTATE || s->prev_last_type == MDB_EV_STOP)
                   ? BINLOG_LINK_ROTATE
                   : BINLOG_LINK_NEXT_FILE;
    out->link = link;
    snprintf(s->prev_file, sizeof s->prev_file, "%s", out->file);
    s->prev_last_type = out->last_type;
    s->has_prev = true;

    memset(&s->cur, 0, sizeof s->cur);
    if (s->pending_file[0]) {
        snprintf(s->file, sizeof s->file, "%s", s->pending_file);
        s->pos = s->pending_pos;
        s->pending_file[0] = '\0';
        s->in_group = false;
        s->fd_len = 0;
    }
    return true;
}
