/* fuzz_pitr_net.c: libFuzzer harness of the net-change fold (rst_net_feed,
 * rst_net_finish, rst_net_emit_phase) and of the group tracker
 * (pitr_group_feed) over a sequence of events.
 * Input: 8 configuration bytes, then events, each a 2-byte little-endian
 * length and that many bytes. cfg[0] bit 0: the Format_description the
 * harness feeds first announces CRC32; bit 1: event length fields are left
 * as given (else patched to the chunk size so the deeper code is reached).
 * The define callback answers from the configuration bytes (restore, fold,
 * column count, primary key, AUTO_INCREMENT, unique-key columns), the
 * column count from the last Table_map fed. Every emitted batch must parse:
 * events whose lengths add up, a Table_map first, rows events the row walk
 * reads to the end with the announced row count, a correct CRC32.
 * Invariant: whatever the input, the library returns an error or a result
 * that parses; a crash, a sanitizer report or a failed check is a bug. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <zlib.h>

#include "restore/pitr/pitr_int.h"
#include "restore/net/rst_net.h"
#include "tests/fuzz/fuzz_common.h"
#include "tests/support/binlog_events.h"

typedef struct Fz {
    const uint8_t *cfg;            /* 8 bytes */
    unsigned k;                    /* configuration bytes used so far */
    uint64_t last_ncols;           /* of the last Table_map that parsed */
    bool crc;
} Fz;

static MdbCols g_cols, g_emit_cols;
static Ev g_ev;

static uint8_t next_byte(Fz *z)
{
    unsigned k = z->k++;
    return z->cfg[1 + k % 7] ^ (uint8_t)(k / 7 * 37u);   /* cfg[1..7] as is, then varied */
}

static int define(void *ctx, const char *db, const char *table, RstNetTableDef *out, Err *err)
{
    Fz *z = ctx;
    uint8_t b = next_byte(z);
    (void)db;
    memset(out, 0, sizeof *out);
    out->autoinc = -1;
    if (!*table) {
        out->restore = b & 1;
        return 0;
    }
    if (b == 0xff) return err_set(err, ERR_INVALID, "fuzz: the define callback refuses");
    out->restore = (b & 3) != 0;
    out->fold = (b & 4) != 0;
    uint32_t nc = (uint32_t)(z->last_ncols > MDB_COLS_MAX ? MDB_COLS_MAX : z->last_ncols);
    if ((b & 0x18) == 0x18) nc++;           /* sometimes the target differs */
    out->ncols = nc;
    if (!nc) return 0;
    out->npk = 1 + next_byte(z) % (nc < RST_NET_PK_MAX ? nc : RST_NET_PK_MAX);
    for (uint32_t i = 0; i < out->npk; i++) out->pk[i] = next_byte(z) % nc;
    uint8_t a = next_byte(z);
    out->autoinc = (int32_t)(a % (nc + 1)) - 1;
    out->autoinc_unsigned = a & 0x80;
    out->uniq_unknown = (b & 0x20) != 0;
    out->nuniq = next_byte(z) % 4;
    for (uint32_t i = 0; i < out->nuniq; i++) out->uniq[i] = next_byte(z) % nc;
    if (b & 0x40) snprintf(out->target_db, sizeof out->target_db, "tgt");
    return 0;
}

/* Every batch: whole events, a Table_map then rows events that parse. */
static int on_batch(void *ctx, const uint8_t *ev, size_t len, uint64_t rows, Err *err)
{
    Fz *z = ctx;
    size_t off = 0, nev = 0, cl = z->crc ? 4 : 0, tml = 0;
    const uint8_t *tm = NULL;
    uint64_t counted = 0;
    FZ_CHECK(len > 0);
    while (off < len) {
        const uint8_t *e = ev + off;
        FZ_CHECK(len - off >= MDB_HDR_LEN + cl);
        size_t el = mdb_le32(e + 9);
        FZ_CHECK(el >= MDB_HDR_LEN + cl && el <= len - off);
        if (cl) FZ_CHECK(mdb_le32(e + el - 4) == (uint32_t)crc32(0L, e, (uInt)(el - 4)));
        size_t end = el - cl;
        if (nev == 0) {
            FZ_CHECK(e[4] == MDB_EV_TABLE_MAP);
            FZ_CHECK(mdb_cols_parse(e, end, &g_emit_cols) == 0);
            tm = e;
            tml = end;
        } else {
            uint8_t t = e[4];
            uint64_t r = 0;
            FZ_CHECK((t >= MDB_EV_WRITE_V1 && t <= MDB_EV_DELETE_V1) ||
                     (t >= MDB_EV_WRITE_V2 && t <= MDB_EV_DELETE_V2));
            FZ_CHECK(end >= MDB_HDR_LEN + 8);
            uint32_t fl = mdb_le16(e + MDB_HDR_LEN + 6);
            FZ_CHECK(fl & 0x0002);                                  /* NO_FOREIGN_KEY_CHECKS_F */
            FZ_CHECK(((fl & 0x0001) != 0) == (off + el == len));    /* STMT_END_F on the last */
            FZ_CHECK(mdb_rows_count(tm, tml, e, end, t, &r, err) == 0);
            counted += r;
        }
        off += el;
        nev++;
    }
    FZ_CHECK(nev >= 2);
    FZ_CHECK(counted == rows);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Fz z;
    RstNet *n = NULL;
    PitrGroup g;
    PitrFeed f;
    Err err;
    bool ok = true;
    uint64_t pos = 4;

    if (size < 8) return 0;
    memset(&z, 0, sizeof z);
    memset(&g, 0, sizeof g);
    z.cfg = data;
    z.crc = data[0] & 1;
    bool patch = !(data[0] & 2);
    data += 8;
    size -= 8;
    err_clear(&err);
    if (rst_net_open(NULL, define, &z, &n, &err)) return 0;

    ev_header(&g_ev, MDB_EV_FORMAT_DESC, 1700000000u, 1, 0);
    ev_format_desc_body(&g_ev, z.crc);
    ev_finish(&g_ev, z.crc);
    FZ_CHECK(rst_net_feed(n, "fuzz", pos, g_ev.b, g_ev.n, &err) == 0);
    FZ_CHECK(pitr_group_feed(&g, g_ev.b, g_ev.n, &f, &err) == 0);

    while (size >= 2) {
        size_t l = mdb_le16(data);
        data += 2;
        size -= 2;
        if (l > size) l = size;
        memcpy(g_ev.b, data, l);
        g_ev.n = l;
        data += l;
        size -= l;
        if (patch && l >= 13) mdb_put_le32(g_ev.b + 9, (uint32_t)l);
        if (l >= MDB_HDR_LEN) {
            size_t end = z.crc && l >= MDB_HDR_LEN + 4 ? l - 4 : l;
            if (g_ev.b[4] == MDB_EV_TABLE_MAP && !mdb_cols_parse(g_ev.b, end, &g_cols))
                z.last_ncols = g_cols.n;
            /* the group tracker reads what the walk gives it: whole v4 events */
            uint8_t *c = malloc(l);
            FZ_CHECK(c);
            memcpy(c, g_ev.b, l);
            err_clear(&err);
            (void)pitr_group_feed(&g, c, l, &f, &err);
            free(c);
        }
        if (ok) {
            /* an exact-size copy, so that ASan sees any read past the event */
            uint8_t *c = malloc(l ? l : 1);
            FZ_CHECK(c);
            memcpy(c, g_ev.b, l);
            err_clear(&err);
            ok = rst_net_feed(n, "fuzz", pos, c, l, &err) == 0;
            FZ_CHECK(ok || err.code != 0);
            free(c);
        }
        pos += l;
    }
    err_clear(&err);
    if (rst_net_finish(n, &err) == 0) {
        FZ_CHECK(ok);
        unsigned nsh = 1 + z.cfg[1] % 3;
        size_t max = (size_t)64 << (z.cfg[2] % 12);
        for (size_t i = 0; i < rst_net_table_count(n); i++) {
            const RstNetTableInfo *ti = rst_net_table(n, i);
            FZ_CHECK(ti && ti->def.restore);
            err_clear(&err);
            if (rst_net_emit_phase(n, i, RST_NET_PHASE_PREPARE, 0, nsh, max, on_batch, &z, &err)) continue;
            for (unsigned s = 0; s < nsh; s++) {
                err_clear(&err);
                if (rst_net_emit_phase(n, i, RST_NET_PHASE_WRITE, s, nsh, max, on_batch, &z, &err)) break;
            }
        }
    } else {
        FZ_CHECK(err.code != 0);
    }
    rst_net_close(n);
    return 0;
}
