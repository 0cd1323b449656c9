/* test_pitr_net.c: the net-change fold. Each case builds binlog events the
 * way the server writes them (Format_description with and without CRC32,
 * Table_maps, v1/v2/compressed rows events, Query, Intvar), feeds them to a
 * RstNet, emits the result and decodes the emitted batches with the small
 * decoder below (lengths, CRC32, Table_map first, flags, row images) to
 * check what the target would be asked to delete, update and write, per
 * emission phase and write shard.
 * Tables: erp.t1 (INT id PK AUTO_INCREMENT, VARCHAR(20), INT NULL) folded
 * and renamed to erp_new; erp.t2 same columns, PK (id, s); both get the
 * unique-key columns of g_uniq; erp.t3 no primary key (kept in order);
 * other.t not restored; erp.bad 5 columns on the target. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "restore/pitr/pitr_int.h"
#include "restore/net/rst_net.h"

#define TST_EV_ASSERT(c) assert_true(c)
#include "tests/support/binlog_events.h"

static bool g_crc;
static uint64_t g_pos;

/* The unique-key columns the define callback gives t1 and t2. */
static struct {
    uint32_t n, cols[4];
    bool unknown;
} g_uniq;

static void header(Ev *e, uint8_t type) { ev_header(e, type, 1700000000u + (uint32_t)g_pos, 7, 0); }
static void finish(Ev *e) { ev_finish(e, g_crc); }

static void fd_event(Ev *e)
{
    header(e, MDB_EV_FORMAT_DESC);
    ev_format_desc_body(e, g_crc);
    finish(e);
}

/* Table_map db.t, table id id: INT, VARCHAR(20), INT (or ncols INTs). */
static void table_map(Ev *e, uint32_t id, const char *db, const char *t, unsigned ncols)
{
    header(e, MDB_EV_TABLE_MAP);
    ev_table_map_names(e, id, db, t);
    ev_put8(e, ncols);
    if (ncols == 3) {
        ev_put8(e, 3);
        ev_put8(e, 15);
        ev_put8(e, 3);
        ev_put8(e, 2);
        ev_put16(e, 20);
        ev_put8(e, 0x04);
    } else {
        for (unsigned i = 0; i < ncols; i++) ev_put8(e, 3);
        ev_put8(e, 0);
        ev_put8(e, 0);
    }
    finish(e);
}

/* A row of the 3-column tables; n < 0 = NULL. */
typedef struct Row {
    int32_t id;
    const char *s;
    int32_t n;
} Row;

static void row_image(Ev *e, Row r)
{
    ev_put8(e, r.n < 0 ? 0x04 : 0);
    ev_put32(e, (uint32_t)r.id);
    ev_put8(e, (unsigned)strlen(r.s));
    ev_put(e, r.s, strlen(r.s));
    if (r.n >= 0) ev_put32(e, (uint32_t)r.n);
}

/* Rows event on table id id with k rows (k pairs for updates); bm = the
 * columns-present bitmap. v2 adds an extra-data block. */
static void rows_event(Ev *e, uint8_t type, uint32_t id, uint8_t bm, const Row *rows, size_t k)
{
    bool upd = type == MDB_EV_UPDATE_V1 || type == MDB_EV_UPDATE_V2;
    header(e, type);
    ev_put32(e, id);
    ev_put16(e, 0);
    ev_put16(e, 1);
    if (type >= MDB_EV_WRITE_V2) {
        ev_put16(e, 4);
        ev_put16(e, 0x0101);
    }
    ev_put8(e, 3);
    ev_put8(e, bm);
    if (upd) ev_put8(e, bm);
    for (size_t i = 0; i < (upd ? 2 * k : k); i++) {
        if (bm == 0x07) {
            row_image(e, rows[i]);
        } else {   /* columns 0 and 1 only */
            ev_put8(e, 0);
            ev_put32(e, (uint32_t)rows[i].id);
            ev_put8(e, (unsigned)strlen(rows[i].s));
            ev_put(e, rows[i].s, strlen(rows[i].s));
        }
    }
    finish(e);
}

/* 2-column INT rows for erp.t3 */
static void rows_event2(Ev *e, uint8_t type, uint32_t id, const int32_t *v, size_t k)
{
    header(e, type);
    ev_put32(e, id);
    ev_put16(e, 0);
    ev_put16(e, 1);
    ev_put8(e, 2);
    ev_put8(e, 0x03);
    if (type == MDB_EV_UPDATE_V1) ev_put8(e, 0x03);
    for (size_t i = 0; i < (type == MDB_EV_UPDATE_V1 ? 2 * k : k); i++) {
        ev_put8(e, 0);
        ev_put32(e, (uint32_t)v[2 * i]);
        ev_put32(e, (uint32_t)v[2 * i + 1]);
    }
    finish(e);
}

static void query_event(Ev *e, const char *db, const char *text)
{
    header(e, MDB_EV_QUERY);
    ev_query_body(e, NULL, 0, db, text, strlen(text));
    finish(e);
}

static int define(void *ctx, const char *db, const char *table, RstNetTableDef *out, Err *err)
{
    (void)err;
    int *calls = ctx;
    (*calls)++;
    memset(out, 0, sizeof *out);
    out->autoinc = -1;
    if (!*table) {
        out->restore = !strcmp(db, "erp");
        return 0;
    }
    if (strcmp(db, "erp")) return 0;
    out->restore = true;
    out->ncols = 3;
    snprintf(out->target_db, sizeof out->target_db, "erp_new");
    out->nuniq = g_uniq.n;
    memcpy(out->uniq, g_uniq.cols, sizeof g_uniq.cols);
    out->uniq_unknown = g_uniq.unknown;
    if (!strcmp(table, "t1")) {
        out->fold = true;
        out->npk = 1;
        out->pk[0] = 0;
        out->autoinc = 0;
    } else if (!strcmp(table, "t2")) {
        out->fold = true;
        out->npk = 2;
        out->pk[0] = 1;   /* key order differs from column order */
        out->pk[1] = 0;
    } else if (!strcmp(table, "t3")) {
        out->ncols = 2;
    } else if (!strcmp(table, "bad")) {
        out->fold = true;
        out->npk = 1;
        out->ncols = 5;
    }
    return 0;
}

typedef struct Fx {
    RstNet *n;
    int calls;
    Err err;
    Ev e;
} Fx;

static int feed(Fx *f)
{
    g_pos += 1000;
    return rst_net_feed(f->n, "binlog.000001", g_pos, f->e.b, f->e.n, &f->err);
}

/* Open f with t1 mapped; t1 (and t2 later) get nu unique-key columns u,
 * or uniq_unknown. */
static void open_fx_uniq(Fx *f, bool crc, uint32_t nu, const uint32_t *u, bool unknown)
{
    memset(f, 0, sizeof *f);
    memset(&g_uniq, 0, sizeof g_uniq);
    g_uniq.n = nu;
    if (nu) memcpy(g_uniq.cols, u, nu * sizeof *u);
    g_uniq.unknown = unknown;
    g_crc = crc;
    g_pos = 0;
    assert_int_equal(rst_net_open(NULL, define, &f->calls, &f->n, &f->err), 0);
    fd_event(&f->e);
    assert_int_equal(feed(f), 0);
    table_map(&f->e, 101, "erp", "t1", 3);
    assert_int_equal(feed(f), 0);
}

static void open_fx(Fx *f, bool crc) { open_fx_uniq(f, crc, 0, NULL, false); }

static void feed_rows(Fx *f, uint8_t type, uint32_t id, const Row *rows, size_t k)
{
    rows_event(&f->e, type, id, 0x07, rows, k);
    assert_int_equal(feed(f), 0);
}

/* ---- the decoder ---- */

typedef struct Op {
    uint8_t type;        /* 23 write, 24 update, 25 delete (or the original type for ordered events) */
    Row r;               /* the row; for an update its after image */
    char s[256];
    Row before;          /* update: the before image */
    char bs[256];
    int32_t v[2];        /* ordered: the 2 INTs (of the after image) */
} Op;

typedef struct Out {
    Op ops[512];
    size_t nops, batches, events;
    size_t max_batch, bytes;
    uint64_t rows;
    char db[80];
    bool crc;
    size_t ncols;
} Out;

static uint32_t g32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint32_t g16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }

static int on_batch(void *ctx, const uint8_t *ev, size_t len, uint64_t rows, Err *err)
{
    (void)err;
    Out *o = ctx;
    size_t off = 0, crc = o->crc ? 4 : 0, nev = 0;
    uint64_t counted = 0;
    uint64_t tid = 0;
    o->batches++;
    o->bytes += len;
    if (len > o->max_batch) o->max_batch = len;
    while (off < len) {
        const uint8_t *e = ev + off;
        assert_true(len - off >= 19);
        size_t el = g32(e + 9);
        assert_true(el >= 19 + crc && el <= len - off);
        assert_int_equal(g32(e + 13), 0);            /* next position */
        if (o->crc) assert_int_equal(g32(e + el - 4), (uint32_t)crc32(0L, e, (uInt)(el - 4)));
        size_t end = el - crc;
        const uint8_t *b = e + 19;
        if (nev == 0) {
            assert_int_equal(e[4], MDB_EV_TABLE_MAP);      /* every batch starts with its map */
            tid = (uint64_t)g32(b) | (uint64_t)g16(b + 4) << 32;
            size_t dl = b[8];
            memcpy(o->db, b + 9, dl);
            o->db[dl] = 0;
            assert_int_equal(b[9 + dl], 0);
            o->ncols = b[9 + dl + 1 + 1 + b[9 + dl + 1] + 1];
        } else {
            assert_true(e[4] != MDB_EV_TABLE_MAP);
            assert_int_equal((uint64_t)g32(b) | (uint64_t)g16(b + 4) << 32, tid);
            uint32_t fl = g16(b + 6);
            assert_true(fl & 0x0002);                        /* NO_FOREIGN_KEY_CHECKS_F */
            bool last = off + el == len;
            assert_int_equal((fl & 0x0001) != 0, last);      /* STMT_END_F on the last only */
            const uint8_t *p = b + 8;
            if (e[4] >= MDB_EV_WRITE_V2) p += g16(p);
            assert_int_equal(*p, o->ncols);
            p++;
            bool upd = e[4] == MDB_EV_UPDATE_V1 || e[4] == MDB_EV_UPDATE_V2;
            size_t bl = (o->ncols + 7) / 8;
            for (size_t k = 0; k < bl; k++)                  /* every column present */
                assert_int_equal(p[k], o->ncols == 2 ? 0x03 : 0x07);
            if (upd) assert_memory_equal(p, p + bl, bl);
            p += upd ? 2 * bl : bl;
            while (p < e + end) {
                assert_true(o->nops < 512);
                Op *op = &o->ops[o->nops++];
                memset(op, 0, sizeof *op);
                op->type = e[4];
                for (int img = 0; img < (upd ? 2 : 1); img++) {
                    bool bef = upd && img == 0;
                    Row *r = bef ? &op->before : &op->r;
                    char *str = bef ? op->bs : op->s;
                    uint8_t nulls = *p++;
                    if (o->ncols == 2) {
                        op->v[0] = (int32_t)g32(p);
                        op->v[1] = (int32_t)g32(p + 4);
                        p += 8;
                        continue;
                    }
                    r->id = (int32_t)g32(p);
                    p += 4;
                    size_t sl = *p++;
                    memcpy(str, p, sl);
                    str[sl] = 0;
                    r->s = str;
                    p += sl;
                    r->n = -1;
                    if (!(nulls & 0x04)) {
                        r->n = (int32_t)g32(p);
                        p += 4;
                    }
                }
                counted++;
            }
            assert_true(p == e + end);
        }
        off += el;
        nev++;
        o->events++;
    }
    assert_true(nev >= 2);
    assert_int_equal(counted, rows);
    o->rows += rows;
    return 0;
}

/* Emit the restored table named t of f (after finish) into o. */
static const RstNetTableInfo *emit(Fx *f, const char *t, size_t max, Out *o)
{
    memset(o, 0, sizeof *o);
    o->crc = g_crc;
    for (size_t i = 0; i < rst_net_table_count(f->n); i++) {
        const RstNetTableInfo *ti = rst_net_table(f->n, i);
        if (strcmp(ti->table, t)) continue;
        assert_int_equal(rst_net_emit(f->n, i, max, on_batch, o, &f->err), 0);
        return ti;
    }
    fail_msg("table %s not listed", t);
    return NULL;
}

/* The index of restored table t in f. */
static size_t table_index(Fx *f, const char *t)
{
    for (size_t i = 0; i < rst_net_table_count(f->n); i++)
        if (!strcmp(rst_net_table(f->n, i)->table, t)) return i;
    fail_msg("table %s not listed", t);
    return 0;
}

/* Emit one phase/shard of table t, appending to o (not reset). */
static void emit_phase(Fx *f, const char *t, RstNetPhase ph, unsigned shard, unsigned nshards, size_t max,
                       Out *o)
{
    o->crc = g_crc;
    assert_int_equal(rst_net_emit_phase(f->n, table_index(f, t), ph, shard, nshards, max, on_batch, o, &f->err),
                     0);
}

static void upd_is(const Out *o, size_t i, Row b, Row a)
{
    assert_true(i < o->nops);
    assert_int_equal(o->ops[i].type, MDB_EV_UPDATE_V1);
    assert_int_equal(o->ops[i].before.id, b.id);
    assert_string_equal(o->ops[i].before.s, b.s);
    assert_int_equal(o->ops[i].before.n, b.n);
    assert_int_equal(o->ops[i].r.id, a.id);
    assert_string_equal(o->ops[i].r.s, a.s);
    assert_int_equal(o->ops[i].r.n, a.n);
}

static void op_is(const Out *o, size_t i, uint8_t type, int32_t id, const char *s, int32_t n)
{
    assert_true(i < o->nops);
    assert_int_equal(o->ops[i].type, type);
    assert_int_equal(o->ops[i].r.id, id);
    assert_string_equal(o->ops[i].r.s, s);
    assert_int_equal(o->ops[i].r.n, n);
}

static void finish_fx(Fx *f) { assert_int_equal(rst_net_finish(f->n, &f->err), 0); }

/* ---- cases ---- */

static void test_inserts_become_one_write_batch_in_target_db(void **state)
{
    (void)state;
    for (int crc = 0; crc < 2; crc++) {
        Fx f;
        Out o;
        open_fx(&f, crc);
        Row r[] = {{1, "a", 10}, {2, "bb", -1}, {3, "ccc", 30}};
        feed_rows(&f, MDB_EV_WRITE_V1, 101, r, 2);
        feed_rows(&f, MDB_EV_WRITE_V2, 101, r + 2, 1);
        finish_fx(&f);
        const RstNetTableInfo *ti = emit(&f, "t1", 1 << 20, &o);
        assert_string_equal(o.db, "erp_new");
        assert_int_equal(o.batches, 1);
        assert_int_equal(o.nops, 3);
        op_is(&o, 0, MDB_EV_WRITE_V1, 1, "a", 10);
        op_is(&o, 1, MDB_EV_WRITE_V1, 2, "bb", -1);
        op_is(&o, 2, MDB_EV_WRITE_V1, 3, "ccc", 30);
        assert_int_equal(ti->keys, 3);
        assert_int_equal(ti->rows_write, 3);
        assert_int_equal(ti->rows_delete, 0);
        size_t fl;
        const uint8_t *fd = rst_net_format_desc(f.n, &fl);
        assert_non_null(fd);
        assert_int_equal(fd[4], MDB_EV_FORMAT_DESC);
        RstNetStats st;
        rst_net_stats(f.n, &st);
        assert_int_equal(st.rows, 3);
        assert_int_equal(st.row_events, 2);
        rst_net_close(f.n);
    }
}

static void test_repeated_updates_give_one_write(void **state)
{
    (void)state;
    Fx f;
    Out o;
    open_fx(&f, true);
    Row w[] = {{1, "a", 1}}, u1[] = {{1, "a", 1}, {1, "b", 2}}, u2[] = {{1, "b", 2}, {1, "c", 3}};
    feed_rows(&f, MDB_EV_WRITE_V1, 101, w, 1);
    feed_rows(&f, MDB_EV_UPDATE_V1, 101, u1, 1);
    feed_rows(&f, MDB_EV_UPDATE_V2, 101, u2, 1);
    finish_fx(&f);
    emit(&f, "t1", 1 << 20, &o);
    assert_int_equal(o.nops, 1);
    op_is(&o, 0, MDB_EV_WRITE_V1, 1, "c", 3);
    rst_net_close(f.n);
}

static void test_insert_then_delete_gives_nothing(void **state)
{
    (void)state;
    Fx f;
    Out o;
    open_fx(&f, true);
    Row w[] = {{4, "gone", 1}};
    feed_rows(&f, MDB_EV_WRITE_V1, 101, w, 1);
    feed_rows(&f, MDB_EV_DELETE_V1, 101, w, 1);
    finish_fx(&f);
    const RstNetTableInfo *ti = emit(&f, "t1", 1 << 20, &o);
    assert_int_equal(o.batches, 0);
    assert_int_equal(ti->keys, 1);
    assert_int_equal(ti->rows_write + ti->rows_delete, 0);
    rst_net_close(f.n);
}

static void test_delete_of_a_start_row_deletes_its_start_image(void **state)
{
    (void)state;
    Fx f;
    Out o;
    open_fx(&f, false);
    Row u[] = {{5, "x", 9}, {5, "y", 8}}, d[] = {{5, "y", 8}};
    feed_rows(&f, MDB_EV_UPDATE_V1, 101, u, 1);
    feed_rows(&f, MDB_EV_DELETE_V2, 101, d, 1);
    finish_fx(&f);
    emit(&f, "t1", 1 << 20, &o);
    assert_int_equal(o.nops, 1);
    op_is(&o, 0, MDB_EV_DELETE_V1, 5, "x", 9);
    rst_net_close(f.n);
}

static void test_pk_change_deletes_old_and_writes_new(void **state)
{
    (void)state;
    Fx f;
    Out o;
    open_fx(&f, true);
    Row u[] = {{5, "x", 9}, {6, "x", 9}};
    feed_rows(&f, MDB_EV_UPDATE_V1, 101, u, 1);
    finish_fx(&f);
    emit(&f, "t1", 1 << 20, &o);
    assert_int_equal(o.nops, 2);
    assert_int_equal(o.batches, 2);   /* deletes and writes are separate batches */
    op_is(&o, 0, MDB_EV_DELETE_V1, 5, "x", 9);
    op_is(&o, 1, MDB_EV_WRITE_V1, 6, "x", 9);
    rst_net_close(f.n);
}

static void test_delete_then_reinsert_updates_or_deletes_and_writes(void **state)
{
    (void)state;
    for (int unknown = 0; unknown < 2; unknown++) {
        Fx f;
        Out o;
        open_fx_uniq(&f, true, 0, NULL, unknown);
        Row d[] = {{7, "a", 1}}, w[] = {{7, "b", 2}}, same[] = {{9, "s", 1}};
        feed_rows(&f, MDB_EV_DELETE_V1, 101, d, 1);
        feed_rows(&f, MDB_EV_WRITE_V1, 101, w, 1);
        /* the same image deleted and written back: nothing to do */
        feed_rows(&f, MDB_EV_DELETE_V1, 101, same, 1);
        feed_rows(&f, MDB_EV_WRITE_V1, 101, same, 1);
        finish_fx(&f);
        const RstNetTableInfo *ti = emit(&f, "t1", 1 << 20, &o);
        assert_int_equal(ti->keys, 2);
        if (!unknown) {
            /* no unique key: present at both ends with other values = one update */
            assert_int_equal(o.nops, 1);
            assert_int_equal(o.batches, 1);
            upd_is(&o, 0, d[0], w[0]);
            assert_int_equal(ti->rows_update, 1);
            assert_int_equal(ti->rows_delete + ti->rows_write, 0);
        } else {
            /* the caller could not tell: delete + write */
            assert_int_equal(o.nops, 2);
            op_is(&o, 0, MDB_EV_DELETE_V1, 7, "a", 1);
            op_is(&o, 1, MDB_EV_WRITE_V1, 7, "b", 2);
            assert_int_equal(ti->rows_delete, 1);
            assert_int_equal(ti->rows_write, 1);
            assert_int_equal(ti->rows_update, 0);
        }
        rst_net_close(f.n);
    }
}

static void test_update_back_to_start_gives_nothing(void **state)
{
    (void)state;
    Fx f;
    Out o;
    open_fx(&f, true);
    Row u1[] = {{8, "a", 1}, {8, "b", 2}}, u2[] = {{8, "b", 2}, {8, "a", 1}};
    feed_rows(&f, MDB_EV_UPDATE_V1, 101, u1, 1);
    feed_rows(&f, MDB_EV_UPDATE_V1, 101, u2, 1);
    finish_fx(&f);
    emit(&f, "t1", 1 << 20, &o);
    assert_int_equal(o.batches, 0);
    rst_net_close(f.n);
}

static void test_autoinc_is_the_largest_written(void **state)
{
    (void)state;
    Fx f;
    Out o;
    open_fx(&f, true);
    Row w[] = {{3, "a", 1}, {10, "b", 1}, {7, "c", 1}, {-5, "neg", 1}};
    Row u[] = {{7, "c", 1}, {12, "c", 1}}, d[] = {{12, "c", 1}};
    feed_rows(&f, MDB_EV_WRITE_V1, 101, w, 4);
    feed_rows(&f, MDB_EV_UPDATE_V1, 101, u, 1);
    feed_rows(&f, MDB_EV_DELETE_V1, 101, d, 1);
    finish_fx(&f);
    const RstNetTableInfo *ti = emit(&f, "t1", 1 << 20, &o);
    assert_true(ti->autoinc_seen);
    assert_int_equal(ti->autoinc_max, 12);
    assert_int_equal(o.nops, 3);   /* 3, 10, -5: 7 moved to 12, then deleted */
    rst_net_close(f.n);
}

static void test_composite_key_folds_per_key(void **state)
{
    (void)state;
    Fx f;
    Out o;
    open_fx(&f, true);
    table_map(&f.e, 102, "erp", "t2", 3);
    assert_int_equal(feed(&f), 0);
    Row w[] = {{1, "x", 1}, {1, "y", 1}}, u[] = {{1, "x", 1}, {1, "x", 2}, {1, "x", 2}, {1, "x", 3}};
    feed_rows(&f, MDB_EV_WRITE_V1, 102, w, 2);
    feed_rows(&f, MDB_EV_UPDATE_V1, 102, u, 2);
    finish_fx(&f);
    const RstNetTableInfo *ti = emit(&f, "t2", 1 << 20, &o);
    assert_int_equal(ti->keys, 2);
    assert_int_equal(o.nops, 2);
    op_is(&o, 0, MDB_EV_WRITE_V1, 1, "x", 3);
    op_is(&o, 1, MDB_EV_WRITE_V1, 1, "y", 1);
    rst_net_close(f.n);
}

static void test_statement_on_restored_db_is_unsupported_with_position(void **state)
{
    (void)state;
    Fx f;
    open_fx(&f, true);
    query_event(&f.e, "erp", "BEGIN");
    assert_int_equal(feed(&f), 0);
    query_event(&f.e, "erp", " savepoint `s1`");
    assert_int_equal(feed(&f), 0);
    query_event(&f.e, "other", "ALTER TABLE t ADD c INT");   /* not restored: skipped */
    assert_int_equal(feed(&f), 0);
    query_event(&f.e, "erp", "COMMIT");
    assert_int_equal(feed(&f), 0);
    query_event(&f.e, "erp", "ALTER TABLE llx_societe ADD COLUMN x INT");
    assert_int_equal(feed(&f), ERR_UNSUPPORTED);
    char pos[64];
    snprintf(pos, sizeof pos, "binlog.000001:%llu", (unsigned long long)g_pos);
    assert_non_null(strstr(f.err.msg, pos));
    assert_non_null(strstr(f.err.msg, "ALTER TABLE llx_societe ADD COLUMN x INT"));
    /* after an error only close is accepted */
    query_event(&f.e, "erp", "BEGIN");
    assert_int_equal(feed(&f), ERR_INVALID);
    assert_int_equal(rst_net_finish(f.n, &f.err), ERR_INVALID);
    rst_net_close(f.n);

    open_fx(&f, true);
    query_event(&f.e, "erp", "CREATE USER u IDENTIFIED BY 'secret-pw'");
    assert_int_equal(feed(&f), ERR_UNSUPPORTED);
    assert_null(strstr(f.err.msg, "secret-pw"));
    rst_net_close(f.n);
}

static void gtid_event(Ev *e)
{
    header(e, MDB_EV_GTID);
    ev_put32(e, 1);
    ev_put32(e, 0);
    ev_put32(e, 0);
    ev_put8(e, 0);
    finish(e);
}

static void test_rollback_refused_only_after_restored_rows(void **state)
{
    (void)state;
    Fx f;
    open_fx(&f, true);
    gtid_event(&f.e);
    assert_int_equal(feed(&f), 0);
    query_event(&f.e, "other", "ROLLBACK");   /* nothing restored changed */
    assert_int_equal(feed(&f), 0);
    gtid_event(&f.e);
    assert_int_equal(feed(&f), 0);
    Row w[] = {{1, "a", 1}};
    feed_rows(&f, MDB_EV_WRITE_V1, 101, w, 1);
    query_event(&f.e, "other", "ROLLBACK");
    assert_int_equal(feed(&f), ERR_UNSUPPORTED);
    assert_non_null(strstr(f.err.msg, "ROLLBACK"));
    RstNetStats st;
    rst_net_stats(f.n, &st);
    assert_int_equal(st.transactions, 2);
    rst_net_close(f.n);
}

static void test_table_definition_change_is_refused(void **state)
{
    (void)state;
    Fx f;
    open_fx(&f, true);
    table_map(&f.e, 101, "erp", "t1", 3);
    assert_int_equal(feed(&f), 0);   /* the same map again */
    table_map(&f.e, 101, "erp", "t1", 3);
    size_t meta = f.e.n - 4 - 3;
    assert_int_equal(f.e.b[meta], 20);
    f.e.b[meta] = 30;   /* VARCHAR(20) -> VARCHAR(30) */
    f.e.n -= 4;
    finish(&f.e);
    assert_int_equal(feed(&f), ERR_UNSUPPORTED);
    assert_non_null(strstr(f.err.msg, "definition change"));
    rst_net_close(f.n);
}

static void test_intvar_and_unknown_events_are_unsupported(void **state)
{
    (void)state;
    Fx f;
    open_fx(&f, true);
    /* an Intvar is judged by the Query it precedes: one on a database that
     * is not restored changes nothing here, one on erp is refused */
    header(&f.e, 5);
    ev_put8(&f.e, 2);
    ev_put32(&f.e, 1);
    ev_put32(&f.e, 0);
    finish(&f.e);
    assert_int_equal(feed(&f), 0);
    query_event(&f.e, "other", "INSERT INTO t (v) VALUES (1)");
    assert_int_equal(feed(&f), 0);
    header(&f.e, 13);   /* Rand: two 8-byte seeds */
    ev_put32(&f.e, 1); ev_put32(&f.e, 0); ev_put32(&f.e, 2); ev_put32(&f.e, 0);
    finish(&f.e);
    assert_int_equal(feed(&f), 0);
    query_event(&f.e, "erp", "INSERT INTO t1 VALUES (RAND())");
    assert_int_equal(feed(&f), ERR_UNSUPPORTED);
    assert_non_null(strstr(f.err.msg, "restored database `erp`"));
    rst_net_close(f.n);

    /* ... and refused when anything but a Query follows it */
    open_fx(&f, true);
    header(&f.e, 14);   /* User_var, its body does not matter here */
    ev_put32(&f.e, 0);
    finish(&f.e);
    assert_int_equal(feed(&f), 0);
    header(&f.e, 5);
    ev_put8(&f.e, 2);
    ev_put32(&f.e, 1);
    ev_put32(&f.e, 0);
    finish(&f.e);
    assert_int_equal(feed(&f), 0);
    table_map(&f.e, 101, "erp", "t1", 3);
    assert_int_equal(feed(&f), ERR_UNSUPPORTED);
    assert_non_null(strstr(f.err.msg, "Intvar"));
    rst_net_close(f.n);

    open_fx(&f, false);
    header(&f.e, 200);
    ev_put32(&f.e, 0);
    finish(&f.e);
    assert_int_equal(feed(&f), ERR_UNSUPPORTED);
    assert_non_null(strstr(f.err.msg, "200"));
    rst_net_close(f.n);
}

static void load_query_event(Ev *e, const char *db, const char *text)
{
    header(e, 18);   /* Execute_load_query: the Query post-header plus file id, start, end, dup */
    ev_put32(e, 77);
    ev_put32(e, 0);
    ev_put8(e, (unsigned)strlen(db));
    ev_put16(e, 0);
    ev_put16(e, 0);
    ev_put32(e, 1);
    ev_put32(e, 17);
    ev_put32(e, 43);
    ev_put8(e, 0);
    ev_put(e, db, strlen(db) + 1);
    ev_put(e, text, strlen(text));
    finish(e);
}

static void load_blocks(Ev *e, Fx *f)
{
    header(e, 17);   /* Begin_load_query: file id, data */
    ev_put32(e, 1);
    ev_put(e, "1\t2\n", 4);
    finish(e);
    assert_int_equal(feed(f), 0);
    header(e, 9);    /* Append_block */
    ev_put32(e, 1);
    ev_put(e, "3\t4\n", 4);
    finish(e);
    assert_int_equal(feed(f), 0);
}

static void test_load_data_judged_by_its_statement(void **state)
{
    (void)state;
    Fx f;
    open_fx(&f, true);
    load_blocks(&f.e, &f);
    load_query_event(&f.e, "other", "LOAD DATA INFILE '/tmp/SQL_LOAD-1-2-3.data' INTO TABLE t");
    assert_int_equal(feed(&f), 0);   /* another database: nothing restored changes */
    load_blocks(&f.e, &f);
    load_query_event(&f.e, "other", "LOAD DATA INFILE '/tmp/SQL_LOAD-1-2-3.data' INTO TABLE erp.t1");
    assert_int_equal(feed(&f), ERR_UNSUPPORTED);
    assert_non_null(strstr(f.err.msg, "naming restored database `erp`"));
    rst_net_close(f.n);

    open_fx(&f, true);   /* a file whose statement never comes */
    load_blocks(&f.e, &f);
    query_event(&f.e, "other", "COMMIT");
    assert_int_equal(feed(&f), ERR_UNSUPPORTED);
    assert_non_null(strstr(f.err.msg, "Begin_load_query"));
    rst_net_close(f.n);
}

static void test_partial_image_on_fold_table_is_unsupported(void **state)
{
    (void)state;
    Fx f;
    open_fx(&f, true);
    Row w[] = {{1, "a", 1}};
    rows_event(&f.e, MDB_EV_WRITE_V1, 101, 0x03, w, 1);
    assert_int_equal(feed(&f), ERR_UNSUPPORTED);
    assert_non_null(strstr(f.err.msg, "not a full row image"));
    rst_net_close(f.n);
}

static void test_column_count_mismatch_is_refused(void **state)
{
    (void)state;
    Fx f;
    open_fx(&f, true);
    table_map(&f.e, 103, "erp", "bad", 3);
    assert_int_equal(feed(&f), ERR_UNSUPPORTED);
    assert_non_null(strstr(f.err.msg, "`erp`.`bad`"));
    assert_non_null(strstr(f.err.msg, "columns"));
    rst_net_close(f.n);
}

static void test_other_db_is_skipped_and_not_listed(void **state)
{
    (void)state;
    Fx f;
    open_fx(&f, true);
    table_map(&f.e, 104, "other", "t", 3);
    assert_int_equal(feed(&f), 0);
    Row w[] = {{1, "a", 1}};
    rows_event(&f.e, MDB_EV_WRITE_V1, 104, 0x03, w, 1);   /* even a partial image */
    assert_int_equal(feed(&f), 0);
    table_map(&f.e, 104, "other", "t", 3);
    assert_int_equal(feed(&f), 0);
    int calls = f.calls;
    finish_fx(&f);
    assert_int_equal(calls, 2);   /* t1 and other.t once each */
    assert_int_equal(rst_net_table_count(f.n), 1);
    RstNetStats st;
    rst_net_stats(f.n, &st);
    assert_int_equal(st.rows, 0);
    rst_net_close(f.n);
}

static void test_ordered_table_keeps_events_in_order(void **state)
{
    (void)state;
    Fx f;
    Out o;
    open_fx(&f, true);
    table_map(&f.e, 105, "erp", "t3", 2);
    assert_int_equal(feed(&f), 0);
    int32_t w[] = {1, 1, 2, 2, 3, 3}, u[] = {2, 2, 20, 20}, d[] = {1, 1};
    rows_event2(&f.e, MDB_EV_WRITE_V1, 105, w, 3);
    assert_int_equal(feed(&f), 0);
    rows_event2(&f.e, MDB_EV_UPDATE_V1, 105, u, 1);
    assert_int_equal(feed(&f), 0);
    rows_event2(&f.e, MDB_EV_DELETE_V1, 105, d, 1);
    assert_int_equal(feed(&f), 0);
    finish_fx(&f);
    const RstNetTableInfo *ti = emit(&f, "t3", 1 << 20, &o);
    assert_int_equal(ti->ordered_events, 3);
    assert_int_equal(ti->ordered_rows, 5);
    assert_int_equal(o.batches, 1);
    assert_int_equal(o.nops, 5);
    assert_int_equal(o.ops[0].type, MDB_EV_WRITE_V1);
    assert_int_equal(o.ops[2].v[0], 3);
    assert_int_equal(o.ops[3].type, MDB_EV_UPDATE_V1);
    assert_int_equal(o.ops[3].v[0], 20);
    assert_int_equal(o.ops[4].type, MDB_EV_DELETE_V1);
    assert_int_equal(o.ops[4].v[1], 1);
    /* small batches: several, each its map first and STMT_END_F last */
    emit(&f, "t3", 80, &o);
    assert_int_equal(o.batches, 3);
    assert_int_equal(o.nops, 5);
    assert_int_equal(o.ops[4].type, MDB_EV_DELETE_V1);
    rst_net_close(f.n);
}

static void test_batches_split_at_max_bytes(void **state)
{
    (void)state;
    for (int crc = 0; crc < 2; crc++) {
        Fx f;
        Out o;
        open_fx(&f, crc);
        Row r[100];
        for (int i = 0; i < 100; i++) r[i] = (Row){i + 1, "0123456789", i};
        feed_rows(&f, MDB_EV_WRITE_V1, 101, r, 100);
        finish_fx(&f);
        emit(&f, "t1", 300, &o);
        assert_true(o.batches > 5);
        assert_true(o.max_batch <= 300);
        assert_int_equal(o.rows, 100);
        assert_int_equal(o.events, 2 * o.batches);
        for (int i = 0; i < 100; i++) op_is(&o, (size_t)i, MDB_EV_WRITE_V1, i + 1, "0123456789", i);
        /* a row larger than max_bytes goes alone */
        emit(&f, "t1", 10, &o);
        assert_int_equal(o.batches, 100);
        rst_net_close(f.n);
    }
}

static void test_compressed_rows_fold_like_plain(void **state)
{
    (void)state;
    Fx f;
    Out o;
    Ev plain, z;
    open_fx(&f, true);
    Row w[] = {{1, "zz", 5}, {2, "zzz", 6}};
    rows_event(&plain, MDB_EV_WRITE_V1, 101, 0x07, w, 2);
    size_t keep = 19 + 8 + 2, raw = plain.n - 4 - keep;
    uLongf zl = compressBound((uLong)raw);
    uint8_t zb[512];
    assert_int_equal(compress(zb, &zl, plain.b + keep, (uLong)raw), Z_OK);
    z.n = 0;
    ev_put(&z, plain.b, keep);
    z.b[4] = MDB_EV_WRITE_COMP_V1;
    ev_put8(&z, 0x81);
    ev_put8(&z, (unsigned)raw);
    ev_put(&z, zb, zl);
    finish(&z);
    f.e = z;
    assert_int_equal(feed(&f), 0);
    finish_fx(&f);
    emit(&f, "t1", 1 << 20, &o);
    assert_int_equal(o.nops, 2);
    op_is(&o, 1, MDB_EV_WRITE_V1, 2, "zzz", 6);
    rst_net_close(f.n);
}

/* Keys updated from start image b[i] to end image a[i] (one Update_rows
 * event per key, the order of keys = first touch). */
static void feed_updates(Fx *f, const Row *b, const Row *a, size_t k)
{
    for (size_t i = 0; i < k; i++) {
        Row u[] = {b[i], a[i]};
        feed_rows(f, MDB_EV_UPDATE_V1, 101, u, 1);
    }
}

static void test_update_only_when_unique_columns_unchanged(void **state)
{
    (void)state;
    /* unique key on s (column 1) */
    Fx f;
    Out o;
    uint32_t s1[] = {1};
    open_fx_uniq(&f, true, 1, s1, false);
    Row b1[] = {{1, "a", 1}, {2, "b", 1}, {3, "c", -1}}, a1[] = {{1, "a", 2}, {2, "B", 1}, {3, "c", 3}};
    feed_updates(&f, b1, a1, 3);
    finish_fx(&f);
    const RstNetTableInfo *ti = emit(&f, "t1", 1 << 20, &o);
    assert_int_equal(o.nops, 4);
    op_is(&o, 0, MDB_EV_DELETE_V1, 2, "b", 1);      /* s changed: delete + write */
    upd_is(&o, 1, b1[0], a1[0]);                      /* s kept: update, before = start, after = end */
    upd_is(&o, 2, b1[2], a1[2]);
    op_is(&o, 3, MDB_EV_WRITE_V1, 2, "B", 1);
    assert_int_equal(o.batches, 3);
    assert_int_equal(ti->rows_update, 2);
    assert_int_equal(ti->rows_delete, 1);
    assert_int_equal(ti->rows_write, 1);
    rst_net_close(f.n);

    /* unique key on n (column 2, NULL-able): NULL-ness counts */
    open_fx_uniq(&f, false, 1, (uint32_t[]){2}, false);
    Row b2[] = {{1, "a", -1}, {2, "a", -1}, {3, "a", 0}, {4, "a", 5}, {5, "a", 7}};
    Row a2[] = {{1, "b", -1}, {2, "a", 0}, {3, "a", -1}, {4, "a", 6}, {5, "zz", 7}};
    feed_updates(&f, b2, a2, 5);
    finish_fx(&f);
    ti = emit(&f, "t1", 1 << 20, &o);
    assert_int_equal(ti->rows_update, 2);   /* 1: NULL both times; 5: 7 both times */
    assert_int_equal(ti->rows_delete, 3);
    assert_int_equal(ti->rows_write, 3);
    assert_int_equal(o.nops, 8);
    op_is(&o, 0, MDB_EV_DELETE_V1, 2, "a", -1);
    op_is(&o, 1, MDB_EV_DELETE_V1, 3, "a", 0);
    op_is(&o, 2, MDB_EV_DELETE_V1, 4, "a", 5);
    upd_is(&o, 3, b2[0], a2[0]);
    upd_is(&o, 4, b2[4], a2[4]);
    op_is(&o, 5, MDB_EV_WRITE_V1, 2, "a", 0);
    op_is(&o, 6, MDB_EV_WRITE_V1, 3, "a", -1);
    op_is(&o, 7, MDB_EV_WRITE_V1, 4, "a", 6);
    rst_net_close(f.n);

    /* two unique keys (s and n): any of them changed is enough */
    open_fx_uniq(&f, true, 2, (uint32_t[]){2, 1}, false);
    Row b3[] = {{1, "a", 1}, {2, "b", 2}, {3, "c", 3}}, a3[] = {{1, "a", 1000}, {2, "b", 2}, {3, "x", 3}};
    feed_updates(&f, b3, a3, 3);
    finish_fx(&f);
    ti = emit(&f, "t1", 1 << 20, &o);
    assert_int_equal(ti->rows_update, 0);
    assert_int_equal(ti->rows_delete, 2);
    assert_int_equal(ti->rows_write, 2);
    assert_int_equal(o.nops, 4);
    rst_net_close(f.n);

    /* the same changes under uniq_unknown: delete + write; without unique
     * keys: always an update */
    for (int unknown = 0; unknown < 2; unknown++) {
        open_fx_uniq(&f, true, unknown ? 1 : 0, s1, unknown);
        feed_updates(&f, b1, a1, 3);
        finish_fx(&f);
        ti = emit(&f, "t1", 1 << 20, &o);
        assert_int_equal(ti->rows_update, unknown ? 0 : 3);
        assert_int_equal(ti->rows_delete, unknown ? 3 : 0);
        assert_int_equal(ti->rows_write, unknown ? 3 : 0);
        assert_int_equal(o.nops, unknown ? 6 : 3);
        if (!unknown)
            for (size_t i = 0; i < 3; i++) upd_is(&o, i, b1[i], a1[i]);
        rst_net_close(f.n);
    }

}

static void test_bad_unique_column_is_refused(void **state)
{
    (void)state;
    Fx f;
    open_fx(&f, true);
    g_uniq.n = 1;
    g_uniq.cols[0] = 3;
    table_map(&f.e, 102, "erp", "t2", 3);
    assert_int_equal(feed(&f), ERR_INVALID);
    assert_non_null(strstr(f.err.msg, "`erp`.`t2`"));
    assert_non_null(strstr(f.err.msg, "unique-key column 3"));
    rst_net_close(f.n);
}

/* A fixture for the phases: t1 with a unique key on s: key 20 updated (s
 * kept), 21 deleted, 22 s changed (delete + write), 1..10 inserted, 5
 * updated after; t3 (ordered) 3 events. */
static void phases_fx(Fx *f, bool crc)
{
    open_fx_uniq(f, crc, 1, (uint32_t[]){1}, false);
    Row u20[] = {{20, "k", 1}, {20, "k", 2}}, d21[] = {{21, "d", 1}}, u22[] = {{22, "o", 1}, {22, "p", 1}};
    feed_rows(f, MDB_EV_UPDATE_V1, 101, u20, 1);
    feed_rows(f, MDB_EV_DELETE_V1, 101, d21, 1);
    feed_rows(f, MDB_EV_UPDATE_V1, 101, u22, 1);
    Row w[10];
    for (int i = 0; i < 10; i++) w[i] = (Row){i + 1, "w", i};
    feed_rows(f, MDB_EV_WRITE_V1, 101, w, 10);
    Row u5[] = {{5, "w", 4}, {5, "w5", 55}};
    feed_rows(f, MDB_EV_UPDATE_V2, 101, u5, 1);
    table_map(&f->e, 105, "erp", "t3", 2);
    assert_int_equal(feed(f), 0);
    int32_t tw[] = {1, 1, 2, 2}, tu[] = {2, 2, 20, 20}, td[] = {1, 1};
    rows_event2(&f->e, MDB_EV_WRITE_V1, 105, tw, 2);
    assert_int_equal(feed(f), 0);
    rows_event2(&f->e, MDB_EV_UPDATE_V1, 105, tu, 1);
    assert_int_equal(feed(f), 0);
    rows_event2(&f->e, MDB_EV_DELETE_V1, 105, td, 1);
    assert_int_equal(feed(f), 0);
    finish_fx(f);
}

static void test_phases_prepare_then_write_shards(void **state)
{
    (void)state;
    for (int crc = 0; crc < 2; crc++) {
        Fx f;
        Out o, w;
        phases_fx(&f, crc);
        const RstNetTableInfo *ti = rst_net_table(f.n, table_index(&f, "t1"));
        assert_int_equal(ti->rows_update, 1);
        assert_int_equal(ti->rows_delete, 2);
        assert_int_equal(ti->rows_write, 11);

        /* prepare: deletes (21, 22) then the update (20); only shard 0 */
        memset(&o, 0, sizeof o);
        emit_phase(&f, "t1", RST_NET_PHASE_PREPARE, 0, 1, 1 << 20, &o);
        assert_int_equal(o.nops, 3);
        assert_int_equal(o.batches, 2);
        op_is(&o, 0, MDB_EV_DELETE_V1, 21, "d", 1);
        op_is(&o, 1, MDB_EV_DELETE_V1, 22, "o", 1);
        upd_is(&o, 2, (Row){20, "k", 1}, (Row){20, "k", 2});
        assert_int_equal(o.bytes, ti->prepare_bytes);   /* one batch per kind: exact */
        size_t prep = o.bytes;
        for (unsigned sh = 1; sh < 3; sh++) {
            memset(&o, 0, sizeof o);
            emit_phase(&f, "t1", RST_NET_PHASE_PREPARE, sh, 3, 1 << 20, &o);
            assert_int_equal(o.batches, 0);
        }

        /* write: one shard = every key to write, first touch first */
        memset(&w, 0, sizeof w);
        emit_phase(&f, "t1", RST_NET_PHASE_WRITE, 0, 1, 1 << 20, &w);
        assert_int_equal(w.nops, 11);
        assert_int_equal(w.bytes, ti->write_bytes);
        assert_int_equal(ti->emit_bytes, ti->prepare_bytes + ti->write_bytes);
        op_is(&w, 0, MDB_EV_WRITE_V1, 22, "p", 1);
        for (int i = 0; i < 10; i++)
            op_is(&w, (size_t)i + 1, MDB_EV_WRITE_V1, i + 1, i == 4 ? "w5" : "w", i == 4 ? 55 : i);

        /* shards 0..2 of 3 (small batches): the same rows, each once, in order */
        memset(&o, 0, sizeof o);
        size_t per[3];
        for (unsigned sh = 0; sh < 3; sh++) {
            size_t before = o.nops;
            emit_phase(&f, "t1", RST_NET_PHASE_WRITE, sh, 3, 120, &o);
            per[sh] = o.nops - before;
            assert_true(per[sh] >= 3 && per[sh] <= 4);   /* split evenly by count */
        }
        assert_int_equal(o.nops, 11);
        for (size_t i = 0; i < 11; i++) {
            assert_int_equal(o.ops[i].type, MDB_EV_WRITE_V1);
            assert_int_equal(o.ops[i].r.id, w.ops[i].r.id);
            assert_string_equal(o.ops[i].r.s, w.ops[i].r.s);
            assert_int_equal(o.ops[i].r.n, w.ops[i].r.n);
        }
        assert_true(o.batches > 3);
        /* more shards than keys: some shards empty, still each key once */
        memset(&o, 0, sizeof o);
        for (unsigned sh = 0; sh < 16; sh++) emit_phase(&f, "t1", RST_NET_PHASE_WRITE, sh, 16, 1 << 20, &o);
        assert_int_equal(o.nops, 11);
        assert_int_equal(o.ops[10].r.id, 10);

        /* rst_net_emit = prepare then write */
        Out all;
        emit(&f, "t1", 1 << 20, &all);
        assert_int_equal(all.nops, 14);
        assert_int_equal(all.bytes, prep + w.bytes);
        upd_is(&all, 2, (Row){20, "k", 1}, (Row){20, "k", 2});
        op_is(&all, 3, MDB_EV_WRITE_V1, 22, "p", 1);

        /* ordered table: everything in prepare shard 0, nothing elsewhere */
        const RstNetTableInfo *t3 = rst_net_table(f.n, table_index(&f, "t3"));
        assert_int_equal(t3->prepare_bytes, t3->emit_bytes);
        assert_int_equal(t3->write_bytes, 0);
        assert_int_equal(t3->rows_update, 0);
        memset(&o, 0, sizeof o);
        emit_phase(&f, "t3", RST_NET_PHASE_PREPARE, 0, 2, 1 << 20, &o);
        assert_int_equal(o.nops, 4);
        assert_int_equal(o.ops[2].type, MDB_EV_UPDATE_V1);
        assert_int_equal(o.ops[2].v[0], 20);
        emit_phase(&f, "t3", RST_NET_PHASE_PREPARE, 1, 2, 1 << 20, &o);
        for (unsigned sh = 0; sh < 2; sh++) emit_phase(&f, "t3", RST_NET_PHASE_WRITE, sh, 2, 1 << 20, &o);
        assert_int_equal(o.nops, 4);
        assert_int_equal(o.batches, 1);

        /* a shard out of range */
        assert_int_equal(rst_net_emit_phase(f.n, 0, RST_NET_PHASE_WRITE, 3, 3, 1 << 20, on_batch, &o, &f.err),
                         ERR_INVALID);
        assert_int_equal(rst_net_emit_phase(f.n, 0, RST_NET_PHASE_WRITE, 0, 0, 1 << 20, on_batch, &o, &f.err),
                         ERR_INVALID);
        rst_net_close(f.n);
    }
}

typedef struct ShardJob {
    RstNet *n;
    size_t table;
    unsigned shard;
    Out o;
    Err err;
    int rc;
} ShardJob;

static void *shard_run(void *arg)
{
    ShardJob *j = arg;
    j->o.crc = g_crc;
    j->rc = rst_net_emit_phase(j->n, j->table, RST_NET_PHASE_WRITE, j->shard, 2, 100, on_batch, &j->o, &j->err);
    return NULL;
}

static void test_write_shards_run_at_once(void **state)
{
    (void)state;
    Fx f;
    Out w;
    phases_fx(&f, true);
    memset(&w, 0, sizeof w);
    emit_phase(&f, "t1", RST_NET_PHASE_WRITE, 0, 1, 1 << 20, &w);
    static ShardJob j[2];
    pthread_t th[2];
    for (unsigned i = 0; i < 2; i++) {
        memset(&j[i], 0, sizeof j[i]);
        j[i].n = f.n;
        j[i].table = table_index(&f, "t1");
        j[i].shard = i;
        assert_int_equal(pthread_create(&th[i], NULL, shard_run, &j[i]), 0);
    }
    for (unsigned i = 0; i < 2; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(j[i].rc, 0);
    }
    assert_int_equal(j[0].o.nops + j[1].o.nops, 11);
    for (size_t i = 0; i < 11; i++) {
        const Op *x = i < j[0].o.nops ? &j[0].o.ops[i] : &j[1].o.ops[i - j[0].o.nops];
        assert_int_equal(x->r.id, w.ops[i].r.id);
        assert_int_equal(x->r.n, w.ops[i].r.n);
    }
    rst_net_close(f.n);
}

/* Feed f->e from a copy that ends right before an unreadable page, so a
 * read past the event faults in any build (not only under ASan). */
static int feed_guarded(Fx *f)
{
    long pg = sysconf(_SC_PAGESIZE);
    assert_true(pg > 0 && f->e.n <= (size_t)pg);
    uint8_t *m = mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(m != MAP_FAILED);
    assert_int_equal(mprotect(m + pg, (size_t)pg, PROT_NONE), 0);
    uint8_t *ev = m + pg - f->e.n;
    memcpy(ev, f->e.b, f->e.n);
    g_pos += 1000;
    int rc = rst_net_feed(f->n, "binlog.000001", g_pos, ev, f->e.n, &f->err);
    munmap(m, 2 * (size_t)pg);
    return rc;
}

/* Found by tests/fuzz (regress/pitr_net/snippet-past-statement): the
 * statement snippet in the refusal compared "IDENTIFIED"/"PASSWORD" at
 * every offset, reading up to 9 bytes past a statement that ends the
 * event (no CRC32). */
static void test_refused_statement_snippet_stays_inside_the_event(void **state)
{
    (void)state;
    Fx f;
    open_fx(&f, false);
    query_event(&f.e, "erp", "GRANT ALL ON erp.* TO u@h IDENTIF");
    assert_int_equal(feed_guarded(&f), ERR_UNSUPPORTED);
    assert_non_null(strstr(f.err.msg, "GRANT ALL ON erp.* TO u@h IDENTIF"));
    rst_net_close(f.n);
    open_fx(&f, false);
    query_event(&f.e, "erp", "DROP USER fuzz@h PASSWO");
    assert_int_equal(feed_guarded(&f), ERR_UNSUPPORTED);
    assert_non_null(strstr(f.err.msg, "DROP USER fuzz@h PASSWO"));
    rst_net_close(f.n);
}

/* Found by tests/fuzz (regress/pitr_rows/empty-image-no-progress): a rows
 * event whose columns-present bitmap is empty has row images of no bytes;
 * the walk over an ordered table's rows never advanced (a hang). */
static void test_rows_event_without_present_columns_is_corrupt(void **state)
{
    (void)state;
    Fx f;
    open_fx(&f, true);
    table_map(&f.e, 103, "erp", "t3", 2);
    assert_int_equal(feed(&f), 0);
    header(&f.e, MDB_EV_WRITE_V1);
    ev_put32(&f.e, 103);
    ev_put16(&f.e, 0);
    ev_put16(&f.e, 1);
    ev_put8(&f.e, 2);            /* columns */
    ev_put8(&f.e, 0x00);         /* none present */
    ev_put32(&f.e, 0);           /* bytes where rows would be */
    finish(&f.e);
    alarm(20);                   /* a hang fails the test instead of the ctest timeout */
    assert_int_equal(feed(&f), ERR_CORRUPT);
    alarm(0);
    assert_non_null(strstr(f.err.msg, "no column in its row image"));
    assert_non_null(strstr(f.err.msg, "`erp`.`t3`"));
    rst_net_close(f.n);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_inserts_become_one_write_batch_in_target_db),
        cmocka_unit_test(test_repeated_updates_give_one_write),
        cmocka_unit_test(test_insert_then_delete_gives_nothing),
        cmocka_unit_test(test_delete_of_a_start_row_deletes_its_start_image),
        cmocka_unit_test(test_pk_change_deletes_old_and_writes_new),
        cmocka_unit_test(test_delete_then_reinsert_updates_or_deletes_and_writes),
        cmocka_unit_test(test_update_back_to_start_gives_nothing),
        cmocka_unit_test(test_autoinc_is_the_largest_written),
        cmocka_unit_test(test_composite_key_folds_per_key),
        cmocka_unit_test(test_statement_on_restored_db_is_unsupported_with_position),
        cmocka_unit_test(test_rollback_refused_only_after_restored_rows),
        cmocka_unit_test(test_table_definition_change_is_refused),
        cmocka_unit_test(test_intvar_and_unknown_events_are_unsupported),
        cmocka_unit_test(test_load_data_judged_by_its_statement),
        cmocka_unit_test(test_partial_image_on_fold_table_is_unsupported),
        cmocka_unit_test(test_column_count_mismatch_is_refused),
        cmocka_unit_test(test_other_db_is_skipped_and_not_listed),
        cmocka_unit_test(test_ordered_table_keeps_events_in_order),
        cmocka_unit_test(test_batches_split_at_max_bytes),
        cmocka_unit_test(test_compressed_rows_fold_like_plain),
        cmocka_unit_test(test_update_only_when_unique_columns_unchanged),
        cmocka_unit_test(test_bad_unique_column_is_refused),
        cmocka_unit_test(test_phases_prepare_then_write_shards),
        cmocka_unit_test(test_write_shards_run_at_once),
        cmocka_unit_test(test_refused_statement_snippet_stays_inside_the_event),
        cmocka_unit_test(test_rows_event_without_present_columns_is_corrupt),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
