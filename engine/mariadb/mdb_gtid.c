/* mdb_gtid.c: MariaDB GTIDs ("domain-server-seq") and GTID positions
 * (comma lists, one GTID per domain), as the follower, the catalog, the
 * point-in-time plan and the replay read and write them.
 * Invariant: format(parse(s)) names the same GTIDs as s; a set never
 * holds a domain twice. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mariadb/mdb.h"

/* One GTID at s[0..n): three decimal numbers joined by '-'; domain and
 * server fit 32 bits. */
static bool parse_one(const char *s, size_t n, MdbGtid *out)
{
    unsigned long long v[3];
    size_t i = 0;
    for (int k = 0; k < 3; k++) {
        size_t start = i;
        unsigned long long x = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            unsigned d = (unsigned)(s[i] - '0');
            if (x > (UINT64_MAX - d) / 10) return false;
            x = x * 10 + d;
            i++;
        }
        if (i == start || (k < 2 && x > 0xffffffffull)) return false;
        v[k] = x;
        if (k < 2) {
            if (i >= n || s[i] != '-') return false;
            i++;
        }
    }
    if (i != n) return false;
    out->domain = (uint32_t)v[0];
    out->server = (uint32_t)v[1];
    out->seq = v[2];
    return true;
}

int mdb_gtid_parse(const char *s, MdbGtid *out, Err *err)
{
    if (!parse_one(s, strlen(s), out))
        return err_set(err, ERR_INVALID, "bad GTID '%s' (expected domain-server-sequence)", s);
    return 0;
}

void mdb_gtid_format(const MdbGtid *g, char *out, size_t cap)
{
    snprintf(out, cap, "%u-%u-%llu", g->domain, g->server, (unsigned long long)g->seq);
}

MdbGtid *mdb_gtid_set_find(MdbGtidSet *set, uint32_t domain)
{
    for (size_t i = 0; i < set->n; i++)
        if (set->g[i].domain == domain) return &set->g[i];
    return NULL;
}

bool mdb_gtid_set_update(MdbGtidSet *set, const MdbGtid *g)
{
    MdbGtid *e = mdb_gtid_set_find(set, g->domain);
    if (e) {
        *e = *g;
        return true;
    }
    if (set->n == MDB_GTID_DOMAINS_MAX) return false;
    set->g[set->n++] = *g;
    return true;
}

static bool is_sep(char c)
{
    return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int mdb_gtid_set_parse(const char *s, MdbGtidSet *out, Err *err)
{
    const char *p = s;
    memset(out, 0, sizeof *out);
    for (;;) {
        MdbGtid g;
        size_t n = 0;
        while (is_sep(*p)) p++;
        if (!*p) break;
        while (p[n] && !is_sep(p[n])) n++;
        if (!parse_one(p, n, &g))
            return err_set(err, ERR_INVALID, "bad GTID '%.*s' in '%s' (expected "
                           "domain-server-sequence)", (int)n, p, s);
        if (mdb_gtid_set_find(out, g.domain))
            return err_set(err, ERR_INVALID, "bad GTID position '%s': domain %u twice", s, g.domain);
        if (!mdb_gtid_set_update(out, &g))
            return err_set(err, ERR_NOMEM, "more than %d GTID domains", MDB_GTID_DOMAINS_MAX);
        p += n;
    }
    return 0;
}

void mdb_gtid_set_format(const MdbGtidSet *set, char *out, size_t cap)
{
    size_t off = 0;
    if (!cap) return;
    out[0] = '\0';
    for (size_t i = 0; i < set->n && off < cap; i++) {
        char one[64];
        mdb_gtid_format(&set->g[i], one, sizeof one);
        int w = snprintf(out + off, cap - off, "%s%s", i ? "," : "", one);
        if (w < 0) break;
        off += (size_t)w;
    }
}

int mdb_gtid_set_put(MdbGtidSet *set, const MdbGtid *g, Err *err)
{
    if (!mdb_gtid_set_update(set, g))
        return err_set(err, ERR_UNSUPPORTED, "more than %d replication domains",
                       MDB_GTID_DOMAINS_MAX);
    return 0;
}

void mdb_gtid_set_merge(MdbGtidSet *a, const MdbGtidSet *b)
{
    for (size_t i = 0; i < b->n; i++) {
        bool found = false;
        for (size_t j = 0; j < a->n; j++) {
            if (a->g[j].domain != b->g[i].domain) continue;
            found = true;
            if (b->g[i].seq > a->g[j].seq) a->g[j] = b->g[i];
        }
        if (!found) mdb_gtid_set_update(a, &b->g[i]);
    }
}

static uint64_t seq_of(const MdbGtidSet *s, uint32_t domain)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->g[i].domain == domain) return s->g[i].seq;
    return 0;
}

bool mdb_gtid_set_le(const MdbGtidSet *a, const MdbGtidSet *b)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->g[i].seq > seq_of(b, a->g[i].domain)) return false;
    return true;
}

bool mdb_gtid_set_eq(const MdbGtidSet *a, const MdbGtidSet *b)
{
    return mdb_gtid_set_le(a, b) && mdb_gtid_set_le(b, a);
}
