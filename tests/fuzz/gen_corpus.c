/* gen_corpus.c: writes the seed corpora of the pitr harnesses (built with
 * the event builders of tests/support/binlog_events.h, the unit tests' own)
 * into DIR/net, DIR/uncompress and DIR/rows. Usage: gen_corpus DIR.
 * Invariant: each seed is in the input format its harness documents, so
 * the fuzzer starts from events that reach the deep code (row walks, the
 * fold, emission, inflation). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zlib.h>

#include "restore/pitr/pitr_int.h"
#include "tests/support/binlog_events.h"

static Ev g_e, g_t, g_seed;
static const char *g_dir;

static void seed_put(const char *sub, const char *name)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", g_dir, sub);
    if (mkdir(p, 0755) && errno != EEXIST) {
        perror(p);
        exit(1);
    }
    snprintf(p, sizeof p, "%s/%s/%s", g_dir, sub, name);
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(g_seed.b, 1, g_seed.n, f) != g_seed.n || fclose(f)) {
        perror(p);
        exit(1);
    }
}

/* net seeds: one chunk (2-byte length + event) */
static void chunk(const Ev *e)
{
    ev_put16(&g_seed, (unsigned)e->n);
    ev_put(&g_seed, e->b, e->n);
}

static void hdr(Ev *e, uint8_t type) { ev_header(e, type, 1700000000u, 7, 0); }

/* erp.t1: INT, VARCHAR(20), INT NULL */
static void map3(Ev *e, bool crc, uint32_t id)
{
    hdr(e, MDB_EV_TABLE_MAP);
    ev_table_map_names(e, id, "erp", "t1");
    ev_put8(e, 3);
    ev_put8(e, 3);
    ev_put8(e, 15);
    ev_put8(e, 3);
    ev_put8(e, 2);
    ev_put16(e, 20);
    ev_put8(e, 0x04);
    ev_finish(e, crc);
}

/* erp.w: one column of each type the row walk sizes */
static const uint8_t k_wtypes[] = {1, 2, 3, 8, 4, 5, 15, 246, 254, 252, 16, 17, 18, 19, 10, 13, 254, 245};
#define NW (sizeof k_wtypes)

static void mapw(Ev *e, bool crc, uint32_t id)
{
    hdr(e, MDB_EV_TABLE_MAP);
    ev_table_map_names(e, id, "erp", "w");
    ev_put8(e, NW);
    for (size_t i = 0; i < NW; i++) ev_put8(e, k_wtypes[i]);
    Ev m;
    m.n = 0;
    ev_put8(&m, 4);                          /* FLOAT */
    ev_put8(&m, 8);                          /* DOUBLE */
    ev_put16(&m, 300);                       /* VARCHAR(300): 2-byte length */
    ev_put8(&m, 10), ev_put8(&m, 2);         /* DECIMAL(10,2) */
    ev_put8(&m, 254), ev_put8(&m, 30);       /* CHAR(30) */
    ev_put8(&m, 2);                          /* BLOB */
    ev_put8(&m, 1), ev_put8(&m, 2);          /* BIT(10) */
    ev_put8(&m, 0);                          /* TIMESTAMP2 */
    ev_put8(&m, 3);                          /* DATETIME2(3) */
    ev_put8(&m, 0);                          /* TIME2 */
    ev_put8(&m, 247), ev_put8(&m, 1);        /* ENUM */
    ev_put8(&m, 4);                          /* JSON */
    ev_put8(e, (unsigned)m.n);
    ev_put(e, m.b, m.n);
    ev_put8(e, 0xff), ev_put8(e, 0xff), ev_put8(e, 0x03);
    ev_finish(e, crc);
}

static void roww(Ev *e, unsigned k)
{
    ev_put8(e, 0), ev_put8(e, 0), ev_put8(e, k & 1 ? 0x02 : 0);  /* NULL bitmap */
    ev_put8(e, k);                         /* TINY */
    ev_put16(e, k);                        /* SHORT */
    ev_put32(e, k);                        /* LONG (the key) */
    ev_put32(e, k), ev_put32(e, 0);        /* LONGLONG */
    ev_put32(e, 0x3f800000);               /* FLOAT */
    ev_put32(e, 0), ev_put32(e, 0x3ff00000); /* DOUBLE */
    ev_put16(e, 3), ev_put(e, "abc", 3);   /* VARCHAR */
    for (int i = 0; i < 5; i++) ev_put8(e, 0x80 | i); /* DECIMAL */
    ev_put8(e, 2), ev_put(e, "xy", 2);     /* CHAR */
    ev_put16(e, 4), ev_put(e, "blob", 4);  /* BLOB */
    ev_put8(e, 1), ev_put8(e, 2), ev_put8(e, 3);   /* BIT(10): 2 bytes + 1 */
    ev_put32(e, 1700000000u);              /* TIMESTAMP2 */
    for (int i = 0; i < 7; i++) ev_put8(e, i);  /* DATETIME2(3): 5 + 2 */
    ev_put8(e, 1), ev_put8(e, 2), ev_put8(e, 3);  /* TIME2 */
    ev_put8(e, 1), ev_put8(e, 2), ev_put8(e, 3);  /* DATE */
    ev_put8(e, 99);                        /* YEAR */
    ev_put8(e, 1);                         /* ENUM */
    if (!(k & 1)) ev_put32(e, 2), ev_put(e, "{}", 2);  /* JSON (NULL for odd k) */
}

static void row3(Ev *e, unsigned id, const char *s, int n)
{
    ev_put8(e, n < 0 ? 0x04 : 0);
    ev_put32(e, id);
    ev_put8(e, (unsigned)strlen(s));
    ev_put(e, s, strlen(s));
    if (n >= 0) ev_put32(e, (uint32_t)n);
}

static void rows_head(Ev *e, uint8_t type, uint32_t id, unsigned ncols, bool all)
{
    bool upd = type == MDB_EV_UPDATE_V1 || type == MDB_EV_UPDATE_V2;
    unsigned bl = (ncols + 7) / 8;
    hdr(e, type);
    ev_put32(e, id);
    ev_put16(e, 0);
    ev_put16(e, 1);
    if (type >= MDB_EV_WRITE_V2) ev_put16(e, 2);
    ev_put8(e, ncols);
    for (unsigned b = 0; b < (upd ? 2 : 1); b++)
        for (unsigned i = 0; i < bl; i++) ev_put8(e, all ? (i + 1 < bl || ncols % 8 == 0 ? 0xff : (1u << ncols % 8) - 1) : 0x03);
}

static void rows3(Ev *e, bool crc, uint8_t type, uint32_t id, unsigned base)
{
    bool upd = type == MDB_EV_UPDATE_V1 || type == MDB_EV_UPDATE_V2;
    rows_head(e, type, id, 3, true);
    for (unsigned k = 0; k < 3; k++) {
        row3(e, base + k, "abc", (int)k - 1);
        if (upd) row3(e, base + k, "changed", 5);
    }
    ev_finish(e, crc);
}

static void rowsw(Ev *e, bool crc, uint8_t type, uint32_t id)
{
    bool upd = type == MDB_EV_UPDATE_V1 || type == MDB_EV_UPDATE_V2;
    rows_head(e, type, id, NW, true);
    for (unsigned k = 0; k < 2; k++) {
        roww(e, k);
        if (upd) roww(e, k + 2);
    }
    ev_finish(e, crc);
}

static void query(Ev *e, bool crc, const char *db, const char *text)
{
    hdr(e, MDB_EV_QUERY);
    ev_query_body(e, NULL, 0, db, text, strlen(text));
    ev_finish(e, crc);
}

static void gtid(Ev *e, bool crc, uint64_t seq)
{
    hdr(e, MDB_EV_GTID);
    ev_put32(e, (uint32_t)seq);
    ev_put32(e, (uint32_t)(seq >> 32));
    ev_put32(e, 0);
    ev_put8(e, 0);
    ev_finish(e, crc);
}

static void xid(Ev *e, bool crc)
{
    hdr(e, MDB_EV_XID);
    ev_put32(e, 1);
    ev_put32(e, 0);
    ev_finish(e, crc);
}

/* Where the row images begin in a rows event built by rows_head. */
static size_t rows_keep(uint8_t type, unsigned ncols)
{
    bool upd = type == MDB_EV_UPDATE_V1 || type == MDB_EV_UPDATE_V2;
    return MDB_HDR_LEN + 8 + (type >= MDB_EV_WRITE_V2 ? 2 : 0) + 1 + (upd ? 2 : 1) * ((ncols + 7) / 8);
}

static void net_seed(const char *name, const uint8_t cfg[8], int scenario)
{
    bool crc = cfg[0] & 1;
    g_seed.n = 0;
    ev_put(&g_seed, cfg, 8);
    gtid(&g_e, crc, 1), chunk(&g_e);
    query(&g_e, crc, "erp", "BEGIN"), chunk(&g_e);
    if (scenario == 0) {
        map3(&g_e, crc, 101), chunk(&g_e);
        rows3(&g_e, crc, MDB_EV_WRITE_V1, 101, 1), chunk(&g_e);
        rows3(&g_e, crc, MDB_EV_UPDATE_V2, 101, 1), chunk(&g_e);
        rows3(&g_e, crc, MDB_EV_DELETE_V1, 101, 2), chunk(&g_e);
        rows3(&g_e, crc, MDB_EV_UPDATE_V1, 101, 7), chunk(&g_e);
    } else if (scenario == 1) {
        mapw(&g_e, crc, 202), chunk(&g_e);
        rowsw(&g_e, crc, MDB_EV_WRITE_V2, 202), chunk(&g_e);
        rowsw(&g_e, crc, MDB_EV_UPDATE_V1, 202), chunk(&g_e);
        rowsw(&g_e, crc, MDB_EV_DELETE_V2, 202), chunk(&g_e);
    } else {
        Ev *c = &g_t;
        map3(&g_e, crc, 101), chunk(&g_e);
        rows3(&g_e, crc, MDB_EV_WRITE_V1, 101, 1);
        ev_compress_twin(&g_e, crc, rows_keep(MDB_EV_WRITE_V1, 3), MDB_EV_WRITE_COMP_V1, 0, c), chunk(c);
        rows3(&g_e, crc, MDB_EV_UPDATE_V2, 101, 1);
        ev_compress_twin(&g_e, crc, rows_keep(MDB_EV_UPDATE_V2, 3), MDB_EV_UPDATE_COMP_V2, 0, c), chunk(c);
        query(&g_e, crc, "other", "INSERT INTO x VALUES (1)"), chunk(&g_e);
    }
    xid(&g_e, crc), chunk(&g_e);
    gtid(&g_e, crc, 2), chunk(&g_e);
    query(&g_e, crc, "erp", "COMMIT"), chunk(&g_e);
    seed_put("net", name);
}

static void unz_seed(const char *name, const Ev *plain, bool crc, size_t keep, uint8_t ctype)
{
    ev_compress_twin(plain, crc, keep, ctype, 0, &g_t);
    g_seed.n = 0;
    ev_put8(&g_seed, (unsigned)(crc ? 1 : 0) | (unsigned)((ctype - MDB_EV_QUERY_COMPRESSED) << 1));
    ev_put(&g_seed, g_t.b, g_t.n);
    seed_put("uncompress", name);
}

static void rows_seed(const char *name, unsigned sel, const Ev *map, const Ev *rows)
{
    g_seed.n = 0;
    ev_put8(&g_seed, sel);
    ev_put16(&g_seed, (unsigned)map->n);
    ev_put(&g_seed, map->b, map->n);
    ev_put(&g_seed, rows->b, rows->n);
    seed_put("rows", name);
}

int main(int argc, char **argv)
{
    static const uint8_t types[6] = {MDB_EV_WRITE_V1, MDB_EV_UPDATE_V1, MDB_EV_DELETE_V1,
                                     MDB_EV_WRITE_V2, MDB_EV_UPDATE_V2, MDB_EV_DELETE_V2};
    char name[64];
    if (argc != 2) {
        fprintf(stderr, "usage: gen_corpus DIR\n");
        return 2;
    }
    g_dir = argv[1];
    if (mkdir(g_dir, 0755) && errno != EEXIST) {
        perror(g_dir);
        return 1;
    }
    /* cfg: [0] crc, [1..7] the define callback's answers (see fuzz_pitr_net.c) */
    static const uint8_t cfgs[][8] = {
        {0, 5, 3, 5, 5, 5, 5, 5},        {1, 5, 3, 5, 5, 5, 5, 5},  {1, 1, 7, 1, 1, 1, 1, 1},
        {0, 0x45, 2, 0x25, 9, 4, 3, 2}, {1, 0x05, 9, 0x45, 1, 0, 0, 0},
    };
    for (size_t c = 0; c < sizeof cfgs / sizeof cfgs[0]; c++)
        for (int s = 0; s < 3; s++) {
            snprintf(name, sizeof name, "seed-%zu-%d", c, s);
            net_seed(name, cfgs[c], s);
        }
    for (int crc = 0; crc < 2; crc++) {
        query(&g_e, crc, "erp", "INSERT INTO t1 VALUES (1, 'a fairly long statement text', 3)");
        snprintf(name, sizeof name, "query-%d", crc);
        unz_seed(name, &g_e, crc, MDB_HDR_LEN + 13 + 3 + 1, MDB_EV_QUERY_COMPRESSED);
        for (int t = 0; t < 6; t++) {
            rows3(&g_e, crc, types[t], 101, 1);
            uint8_t ct = (uint8_t)(t < 3 ? MDB_EV_WRITE_COMP_V1 + t : MDB_EV_WRITE_COMP_V2 + t - 3);
            snprintf(name, sizeof name, "rows-%d-%d", crc, t);
            unz_seed(name, &g_e, crc, rows_keep(types[t], 3), ct);
        }
    }
    for (unsigned t = 0; t < 6; t++) {
        map3(&g_t, false, 101);
        rows3(&g_e, false, types[t], 101, 1);
        snprintf(name, sizeof name, "t1-%u", t);
        rows_seed(name, t, &g_t, &g_e);
        mapw(&g_t, false, 202);
        rowsw(&g_e, false, types[t], 202);
        snprintf(name, sizeof name, "w-%u", t);
        rows_seed(name, t, &g_t, &g_e);
    }
    return 0;
}
