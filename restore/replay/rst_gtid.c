/* rst_gtid.c: MariaDB GTID positions ("domain-server-seq", comma lists),
 * the small value type the source server and the replay driver compare. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restore/replay/rst_replay_int.h"

int rst_gtid_pos_parse(const char *s, RstGtidPos *out, Err *err)
{
    const char *p = s;
    out->n = 0;
    while (*p) {
        RstGtid g;
        char *end;
        unsigned long long v[3];
        while (*p == ' ' || *p == ',' || *p == '\t' || *p == '\n') p++;
        if (!*p) break;
        for (int i = 0; i < 3; i++) {
            if (*p < '0' || *p > '9')
                return err_set(err, ERR_INVALID, "bad GTID position '%s': expected domain-server-seq", s);
            errno = 0;
            v[i] = strtoull(p, &end, 10);
            if (errno || (i < 2 && v[i] > 0xffffffffull))
                return err_set(err, ERR_INVALID, "bad GTID position '%s': number out of range", s);
            p = end;
            if (i < 2) {
                if (*p != '-')
                    return err_set(err, ERR_INVALID, "bad GTID position '%s': expected domain-server-seq", s);
                p++;
            }
        }
        if (*p && *p != ',' && *p != ' ' && *p != '\t' && *p != '\n')
            return err_set(err, ERR_INVALID, "bad GTID position '%s': junk after a GTID", s);
        g.domain = (uint32_t)v[0];
        g.server = (uint32_t)v[1];
        g.seq = v[2];
        if (rst_gtid_pos_find(out, g.domain))
            return err_set(err, ERR_INVALID, "bad GTID position '%s': domain %u twice", s, g.domain);
        if (rst_gtid_pos_set(out, &g, err)) return err->code;
    }
    return 0;
}

RstGtid *rst_gtid_pos_find(RstGtidPos *p, uint32_t domain)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->g[i].domain == domain) return &p->g[i];
    return NULL;
}

int rst_gtid_pos_set(RstGtidPos *p, const RstGtid *g, Err *err)
{
    RstGtid *e = rst_gtid_pos_find(p, g->domain);
    if (e) {
        *e = *g;
        return 0;
    }
    if (p->n == RST_GTID_MAX)
        return err_set(err, ERR_UNSUPPORTED, "more than %d replication domains", RST_GTID_MAX);
    p->g[p->n++] = *g;
    return 0;
}

void rst_gtid_pos_format(const RstGtidPos *p, char *out, size_t cap)
{
    size_t off = 0;
    out[0] = 0;
    for (size_t i = 0; i < p->n && off < cap; i++) {
        int w = snprintf(out + off, cap - off, "%s%u-%u-%llu", i ? "," : "", p->g[i].domain,
                         p->g[i].server, (unsigned long long)p->g[i].seq);
        if (w < 0) break;
        off += (size_t)w;
    }
}
