/* binlog_catalog.c: catalog entries (one small encrypted JSON object per
 * segment, "catalog/<instance>/<seq>"), their JSON form, lookups by
 * time/GTID/position and the continuity proof (loading: binlog_catalog_load.c,
 * compaction: binlog_compact.c).
 * Invariant: entries are loaded in seq order and never modified; a lookup
 * never guesses across a break in the chain (verify says where it breaks). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/common/id.h"
#include "engine/source/binlog/binlog_int.h"

static const char *const link_names[] = {"start", "continue", "rotate", "next-file", "gtid"};

const char *binlog_link_name(BinlogLink l)
{
    return (unsigned)l < sizeof link_names / sizeof link_names[0] ? link_names[l] : "?";
}

void binlog_time_format(int64_t t, char *out, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (t <= 0 || !gmtime_r(&tt, &tm)) {
        snprintf(out, cap, "-");
        return;
    }
    strftime(out, cap, "%Y-%m-%d %H:%M:%S", &tm);
}

void binlog_catalog_key(const char *instance, uint64_t seq, char *out, size_t cap)
{
    snprintf(out, cap, "catalog/%s/%012" PRIu64, instance, seq);
}

json_t *binlog_seginfo_to_json(const BinlogSegInfo *si)
{
    char gf[64 * MDB_GTID_DOMAINS_MAX], gl[sizeof gf], gs[sizeof gf], hash[65];
    mdb_gtid_set_format(&si->gtid_first, gf, sizeof gf);
    mdb_gtid_set_format(&si->gtid_last, gl, sizeof gl);
    mdb_gtid_set_format(&si->gtid_state, gs, sizeof gs);
    hex_encode(si->hash, sizeof si->hash, hash);
    json_t *j = json_pack("{s:i, s:I, s:s, s:s, s:I, s:s, s:I, s:I, s:I, s:I, s:s, s:s, s:s, "
                          "s:I, s:I, s:I, s:s, s:s, s:i}",
                          "v", 1, "seq", (json_int_t)si->seq, "link", binlog_link_name(si->link),
                          "identity", si->identity, "server_id", (json_int_t)si->server_id,
                          "file", si->file, "start", (json_int_t)si->start, "end",
                          (json_int_t)si->end, "first_time", (json_int_t)si->first_time,
                          "last_time", (json_int_t)si->last_time, "gtid_first", gf, "gtid_last",
                          gl, "gtid_state", gs, "trx", (json_int_t)si->trx_count, "events",
                          (json_int_t)si->event_count, "size", (json_int_t)si->size, "blake2b",
                          hash, "checksum", si->checksum_alg ? "crc32" : "none", "last_type",
                          (int)si->last_type);
    if (!j)
        return NULL;
    if (si->fd_len) {
        char *fd = malloc(si->fd_len * 2 + 1);
        if (!fd) {
            json_decref(j);
            return NULL;
        }
        hex_encode(si->fd, si->fd_len, fd);
        json_object_set_new(j, "fd", json_string(fd));
        free(fd);
    }
    if (si->stream.nchunks || si->stream.size)
        json_object_set_new(j, "stream", repo_streamref_to_json(&si->stream));
    return j;
}

static int get_u64(const json_t *j, const char *k, uint64_t *out, Err *err)
{
    json_t *v = json_object_get(j, k);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return err_set(err, ERR_CORRUPT, "catalog entry: missing or bad \"%s\"", k);
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int get_str(const json_t *j, const char *k, char *out, size_t cap, Err *err)
{
    const char *s = json_string_value(json_object_get(j, k));
    if (!s || strlen(s) >= cap)
        return err_set(err, ERR_CORRUPT, "catalog entry: missing or bad \"%s\"", k);
    strcpy(out, s);
    return 0;
}

int binlog_seginfo_from_json(const json_t *j, BinlogSegInfo *out, Err *err)
{
    char tmp[64 * MDB_GTID_DOMAINS_MAX], link[32];
    uint64_t u = 0;
    int rc = 0;

    memset(out, 0, sizeof *out);
    if (!json_is_object(j))
        return err_set(err, ERR_CORRUPT, "catalog entry is not a JSON object");
    if ((rc = get_u64(j, "seq", &out->seq, err)) || (rc = get_str(j, "link", link, sizeof link, err)) ||
        (rc = get_str(j, "identity", out->identity, sizeof out->identity, err)) ||
        (rc = get_u64(j, "server_id", &u, err)))
        return rc;
    out->server_id = (uint32_t)u;
    out->link = BINLOG_LINK_START;
    for (unsigned i = 0; i < sizeof link_names / sizeof link_names[0]; i++)
        if (strcmp(link, link_names[i]) == 0)
            out->link = (BinlogLink)i;
    if ((rc = get_str(j, "file", out->file, sizeof out->file, err)) ||
        (rc = get_u64(j, "start", &out->start, err)) || (rc = get_u64(j, "end", &out->end, err)) ||
        (rc = get_u64(j, "first_time", &u, err)))
        return rc;
    out->first_time = (int64_t)u;
    if ((rc = get_u64(j, "last_time", &u, err)))
        return rc;
    out->last_time = (int64_t)u;
    if ((rc = get_str(j, "gtid_first", tmp, sizeof tmp, err)) ||
        (rc = mdb_gtid_set_parse(tmp, &out->gtid_first, err)) ||
        (rc = get_str(j, "gtid_last", tmp, sizeof tmp, err)) ||
        (rc = mdb_gtid_set_parse(tmp, &out->gtid_last, err)) ||
        (rc = get_str(j, "gtid_state", tmp, sizeof tmp, err)) ||
        (rc = mdb_gtid_set_parse(tmp, &out->gtid_state, err)) ||
        (rc = get_u64(j, "trx", &out->trx_count, err)) ||
        (rc = get_u64(j, "events", &out->event_count, err)) ||
        (rc = get_u64(j, "size", &out->size, err)) ||
        (rc = get_str(j, "blake2b", tmp, sizeof tmp, err)))
        return rc;
    if (hex_decode(tmp, strlen(tmp), out->hash, sizeof out->hash) != 0)
        return err_set(err, ERR_CORRUPT, "catalog entry: bad \"blake2b\"");
    const char *cs = json_string_value(json_object_get(j, "checksum"));
    out->checksum_alg = cs && strcmp(cs, "crc32") == 0;
    if ((rc = get_u64(j, "last_type", &u, err)))
        return rc;
    out->last_type = (uint8_t)u;
    const char *fd = json_string_value(json_object_get(j, "fd"));
    if (fd) {
        size_t l = strlen(fd) / 2;
        if (l > sizeof out->fd || hex_decode(fd, strlen(fd), out->fd, l) != 0)
            return err_set(err, ERR_CORRUPT, "catalog entry: bad \"fd\"");
        out->fd_len = l;
    }
    json_t *st = json_object_get(j, "stream");
    if (st && (rc = repo_streamref_from_json(st, &out->stream, err)))
        return rc;
    if (out->end < out->start || out->end - out->start != out->size)
        return err_set(err, ERR_CORRUPT, "catalog entry %" PRIu64 ": %s:%" PRIu64 "..%" PRIu64
                       " does not match its size %" PRIu64, out->seq, out->file, out->start,
                       out->end, out->size);
    return 0;
}

void binlog_catalog_free(BinlogCatalog *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        repo_streamref_free(&c->v[i].stream);
    free(c->v);
    free(c->cover);
    free(c);
}

size_t binlog_catalog_count(const BinlogCatalog *c)
{
    return c ? c->n : 0;
}

const BinlogSegInfo *binlog_catalog_at(const BinlogCatalog *c, size_t i)
{
    return i < c->n ? &c->v[i] : NULL;
}

/* ---- lookups ------------------------------------------------------------ */

int binlog_catalog_find_time(const BinlogCatalog *c, int64_t t, size_t *out_idx, Err *err)
{
    /* last_time never decreases along the chain in practice, but a primary
     * switch with a skewed clock could; a binary search over a non-monotone
     * array would then lie, so scan from the end, which is also where
     * recovery targets usually are */
    size_t hit = c->n;
    for (size_t i = c->n; i-- > 0;) {
        if (c->v[i].last_time >= t)
            hit = i;
        else
            break;
    }
    if (hit == c->n) {
        char ts[32];
        binlog_time_format(t, ts, sizeof ts);
        return err_set(err, ERR_NOTFOUND, "no archived binlog reaches %s UTC", ts);
    }
    *out_idx = hit;
    return 0;
}

int binlog_catalog_find_gtid(const BinlogCatalog *c, const MdbGtid *g, size_t *out_idx,
                             Err *err)
{
    for (size_t i = c->n; i-- > 0;) {
        const BinlogSegInfo *s = &c->v[i];
        for (size_t d = 0; d < s->gtid_first.n; d++) {
            if (s->gtid_first.g[d].domain != g->domain)
                continue;
            for (size_t e = 0; e < s->gtid_last.n; e++) {
                if (s->gtid_last.g[e].domain == g->domain && s->gtid_first.g[d].seq <= g->seq &&
                    g->seq <= s->gtid_last.g[e].seq) {
                    *out_idx = i;
                    return 0;
                }
            }
        }
    }
    char gs[64];
    mdb_gtid_format(g, gs, sizeof gs);
    return err_set(err, ERR_NOTFOUND, "GTID %s is not in the binlog archive", gs);
}

int binlog_catalog_find_pos(const BinlogCatalog *c, const char *file, uint64_t pos,
                            size_t *out_idx, Err *err)
{
    for (size_t i = c->n; i-- > 0;) {
        const BinlogSegInfo *s = &c->v[i];
        if (strcmp(s->file, file) == 0 && s->start <= pos && pos <= s->end) {
            *out_idx = i;
            return 0;
        }
    }
    return err_set(err, ERR_NOTFOUND, "%s:%" PRIu64 " is not in the binlog archive", file, pos);
}

/* Number after the last '.' of a binlog file name, or -1. */
static long long file_number(const char *f)
{
    const char *dot = strrchr(f, '.');
    if (!dot || !dot[1] || strspn(dot + 1, "0123456789") != strlen(dot + 1))
        return -1;
    return atoll(dot + 1);
}

static bool same_base(const char *a, const char *b)
{
    const char *da = strrchr(a, '.'), *db = strrchr(b, '.');
    return da && db && da - a == db - b && strncmp(a, b, (size_t)(da - a)) == 0;
}

bool binlog_catalog_connects(const BinlogCatalog *c, size_t i, char *why, size_t cap)
{
    const BinlogSegInfo *s = &c->v[i];
    why[0] = '\0';
    if (i == 0)
        return true;
    const BinlogSegInfo *p = &c->v[i - 1];
    if (s->seq != p->seq + 1) {
        snprintf(why, cap, "entry %" PRIu64 " is missing", p->seq + 1);
        return false;
    }
    switch (s->link) {
    case BINLOG_LINK_CONTINUE:
        if (strcmp(s->identity, p->identity) == 0 && strcmp(s->file, p->file) == 0 &&
            s->start == p->end)
            return true;
        snprintf(why, cap, "%s:%" PRIu64 " does not continue %s:%" PRIu64, s->file, s->start,
                 p->file, p->end);
        return false;
    case BINLOG_LINK_ROTATE:
    case BINLOG_LINK_NEXT_FILE: {
        bool ended = p->last_type == MDB_EV_ROTATE || p->last_type == MDB_EV_STOP ||
                     s->link == BINLOG_LINK_NEXT_FILE;
        if (strcmp(s->identity, p->identity) == 0 && ended && s->start <= 256 &&
            same_base(s->file, p->file) && file_number(s->file) > file_number(p->file))
            return true;
        snprintf(why, cap, "%s:%" PRIu64 " does not follow the end of %s", s->file, s->start,
                 p->file);
        return false;
    }
    case BINLOG_LINK_GTID:
        /* a new server joined by GTID: every domain the old one knew must
         * be present, and the new segment continues from that state */
        for (size_t d = 0; d < p->gtid_state.n; d++) {
            bool found = false;
            for (size_t e = 0; e < s->gtid_state.n; e++)
                if (s->gtid_state.g[e].domain == p->gtid_state.g[d].domain &&
                    s->gtid_state.g[e].seq >= p->gtid_state.g[d].seq)
                    found = true;
            if (!found) {
                snprintf(why, cap, "GTID domain %u does not continue on %s", 
                         p->gtid_state.g[d].domain, s->identity);
                return false;
            }
        }
        return true;
    case BINLOG_LINK_START:
    default:
        snprintf(why, cap, "a new chain starts at %s:%" PRIu64, s->file, s->start);
        return false;
    }
}

int binlog_catalog_verify(const BinlogCatalog *c, Err *err)
{
    char why[400];
    for (size_t i = 1; i < c->n; i++) {
        if (binlog_catalog_connects(c, i, why, sizeof why))
            continue;
        const BinlogSegInfo *p = &c->v[i - 1], *s = &c->v[i];
        char t1[32], t2[32];
        binlog_time_format(p->last_time, t1, sizeof t1);
        binlog_time_format(s->first_time, t2, sizeof t2);
        return err_set(err, ERR_GAP,
                       "point-in-time recovery broken between %s UTC (%s:%" PRIu64
                       ") and %s UTC (%s:%" PRIu64 "): %s",
                       t1, p->file, p->end, t2, s->file, s->start, why);
    }
    return 0;
}

int binlog_segment_read(Repo *r, const BinlogSegInfo *si, RepoReadFn fn, void *ctx, Err *err)
{
    int rc = repo_stream_read(r, &si->stream, fn, ctx, err);
    if (rc)
        return err_wrap(err, "read binlog segment %" PRIu64 " (%s:%" PRIu64 ")", si->seq,
                        si->file, si->start);
    return 0;
}
