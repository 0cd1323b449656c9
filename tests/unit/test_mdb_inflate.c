/* test_mdb_inflate.c: MariaDB compressed binlog events back to plain
 * ones. Each case builds a plain event, makes its compressed twin the way
 * the server frames it (uncompressed part, then 0x80|n, the length on n
 * bytes big-endian, a zlib stream), and checks that mdb_event_inflate
 * gives the plain event back byte for byte (header, body, CRC32), that the
 * search's parsers read it, and that damaged records are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "engine/mariadb/mdb.h"

#define TST_EV_ASSERT(c) assert_true(c)
#include "tests/support/binlog_events.h"

static void header(Ev *e, uint8_t type) { ev_header(e, type, 1700000000u, 1, 4242); }

/* Query: thread id, exec time, db length, error code, status vars, db, NUL, text. */
static size_t query_event(Ev *e, const char *db, const char *text, size_t tlen, bool crc)
{
    static const uint8_t status[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x03, 's', 't', 'd'};
    size_t keep;
    header(e, MDB_EV_QUERY);
    keep = ev_query_body(e, status, sizeof status, db, text, tlen);
    ev_finish(e, crc);
    return keep;
}

/* Table_map for shop.t (INT, VARCHAR(40)). */
static void table_map(Ev *e, bool crc)
{
    header(e, MDB_EV_TABLE_MAP);
    ev_table_map_names(e, 71, "shop", "t");
    ev_put8(e, 2);        /* columns */
    ev_put8(e, 3);        /* LONG */
    ev_put8(e, 15);       /* VARCHAR */
    ev_put8(e, 2);        /* metadata length */
    ev_put16(e, 40);      /* varchar max length */
    ev_put8(e, 0x02);     /* nullable bitmap */
    ev_finish(e, crc);
}

/* Rows event of type `type` (v1 23-25 or v2 30-32) with n rows; returns
 * where the row images begin (what the server leaves uncompressed). */
static size_t rows_event(Ev *e, uint8_t type, unsigned n, size_t vlen, bool crc)
{
    bool v2 = type >= MDB_EV_WRITE_V2, upd = type == MDB_EV_UPDATE_V1 || type == MDB_EV_UPDATE_V2;
    header(e, type);
    ev_put32(e, 71);
    ev_put16(e, 0);
    ev_put16(e, 1);
    if (v2) {
        ev_put16(e, 5);   /* extra data: its length (2) and 3 bytes */
        ev_put8(e, 0);
        ev_put8(e, 1);
        ev_put8(e, 0);
    }
    ev_put8(e, 2);        /* columns */
    ev_put8(e, 0x03);
    if (upd) ev_put8(e, 0x03);
    size_t keep = e->n;
    for (unsigned r = 0; r < n; r++) {
        for (int img = 0; img < (upd ? 2 : 1); img++) {
            ev_put8(e, 0);          /* no NULLs */
            ev_put32(e, r + 1);
            ev_put8(e, (unsigned)vlen);
            for (size_t k = 0; k < vlen; k++) ev_put8(e, 'a' + (r + k) % 26);
        }
    }
    ev_finish(e, crc);
    return keep;
}

static Ev plain, comp, tmap;

static void expect_round_trip(bool crc, uint8_t want_type)
{
    Buf out;
    uint8_t type = 0;
    Err e;
    err_clear(&e);
    buf_init(&out, MDB_INFLATE_MAX + 4096);
    assert_int_equal(mdb_event_inflate(comp.b, comp.n, crc, &out, &type, &e), 0);
    assert_int_equal(type, want_type);
    assert_int_equal(out.len, plain.n);
    assert_memory_equal(out.data, plain.b, plain.n);
    buf_free(&out);
}

static void test_query_text_comes_back_with_a_fresh_crc(void **state)
{
    (void)state;
    static const char sql[] = "UPDATE shop.t SET qty = qty + 1 WHERE id BETWEEN 10 AND 20 /* note */";
    size_t keep = query_event(&plain, "shop", sql, sizeof sql - 1, true);
    ev_compress_twin(&plain, true, keep, MDB_EV_QUERY_COMPRESSED, 0, &comp);
    expect_round_trip(true, MDB_EV_QUERY);

    Buf out;
    uint8_t type;
    Err e;
    const char *db, *q;
    size_t dl, ql;
    buf_init(&out, 1 << 20);
    assert_int_equal(mdb_event_inflate(comp.b, comp.n, true, &out, &type, &e), 0);
    assert_true(mdb_query_text(out.data, out.len - 4, &db, &dl, &q, &ql));
    assert_int_equal(dl, 4);
    assert_memory_equal(db, "shop", 4);
    assert_int_equal(ql, sizeof sql - 1);
    assert_memory_equal(q, sql, ql);
    buf_free(&out);
}

static void test_query_without_checksum_and_long_lengths(void **state)
{
    (void)state;
    size_t n = 70000;                 /* a 3-byte length */
    char *big = malloc(n);
    assert_non_null(big);
    for (size_t i = 0; i < n; i++) big[i] = (char)('A' + i % 23);
    memcpy(big, "INSERT ", 7);
    size_t keep = query_event(&plain, "db", big, n, false);
    ev_compress_twin(&plain, false, keep, MDB_EV_QUERY_COMPRESSED, 0, &comp);
    assert_int_equal(comp.b[keep], 0x83);
    expect_round_trip(false, MDB_EV_QUERY);
    /* a length on 4 bytes with a leading zero reads the same */
    ev_compress_twin(&plain, false, keep, MDB_EV_QUERY_COMPRESSED, 4, &comp);
    expect_round_trip(false, MDB_EV_QUERY);
    free(big);
}

static void test_rows_v1_and_v2_give_the_row_counts(void **state)
{
    (void)state;
    static const struct { uint8_t plain, comp; unsigned rows; } k[] = {
        {MDB_EV_WRITE_V1, MDB_EV_WRITE_COMP_V1, 5},   {MDB_EV_UPDATE_V1, MDB_EV_UPDATE_COMP_V1, 3},
        {MDB_EV_DELETE_V1, MDB_EV_DELETE_COMP_V1, 1}, {MDB_EV_WRITE_V2, MDB_EV_WRITE_COMP_V2, 7},
        {MDB_EV_UPDATE_V2, MDB_EV_UPDATE_COMP_V2, 2}, {MDB_EV_DELETE_V2, MDB_EV_DELETE_COMP_V2, 400},
    };
    for (int crc = 0; crc < 2; crc++) {
        table_map(&tmap, crc);
        for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
            size_t keep = rows_event(&plain, k[i].plain, k[i].rows, 30, crc);
            ev_compress_twin(&plain, crc, keep, k[i].comp, 0, &comp);
            assert_true(mdb_event_is_compressed(comp.b[4]));
            expect_round_trip(crc, k[i].plain);

            Buf out;
            uint8_t type;
            uint64_t rows = 0;
            Err e;
            err_clear(&e);
            buf_init(&out, 1 << 20);
            assert_int_equal(mdb_event_inflate(comp.b, comp.n, crc, &out, &type, &e), 0);
            assert_int_equal(mdb_rows_count(tmap.b, tmap.n - (crc ? 4 : 0), out.data,
                                             out.len - (crc ? 4 : 0), type, &rows, &e), 0);
            assert_int_equal(rows, k[i].rows);
            buf_free(&out);
        }
    }
}

/* The numbers are MariaDB's (sql/log_event.h), as a 10.11 server writes
 * them: 166-168 are the v1 family (what MariaDB logs by default), 169-171 v2.
 * Known answers, so a swapped constant cannot pass the symbolic cases. */
static void test_type_numbers_map_as_mariadb_numbers_them(void **state)
{
    (void)state;
    static const uint8_t k[][2] = {{166, 23}, {167, 24}, {168, 25}, {169, 30}, {170, 31}, {171, 32}};
    table_map(&tmap, true);
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        size_t keep = rows_event(&plain, k[i][1], 2, 3, true);
        ev_compress_twin(&plain, true, keep, k[i][0], 0, &comp);
        expect_round_trip(true, k[i][1]);
    }
    assert_true(mdb_event_is_compressed(165) && mdb_event_is_compressed(171));
    assert_false(mdb_event_is_compressed(164) || mdb_event_is_compressed(172));
}

/* Expect code and a message fragment for comp as it is now. */
static void expect_refused(bool crc, int code, const char *frag)
{
    Buf out;
    uint8_t type = 0;
    Err e;
    err_clear(&e);
    buf_init(&out, MDB_INFLATE_MAX + 4096);
    int rc = mdb_event_inflate(comp.b, comp.n, crc, &out, &type, &e);
    if (rc != code || !strstr(e.msg, frag))
        fail_msg("want %d '%s', got %d '%s'", code, frag, rc, e.msg);
    buf_free(&out);
}

static size_t make_rows_twin(void)
{
    size_t keep = rows_event(&plain, MDB_EV_WRITE_V1, 20, 25, true);
    ev_compress_twin(&plain, true, keep, MDB_EV_WRITE_COMP_V1, 0, &comp);
    return keep;
}

static void set_announced(size_t keep, uint32_t len)
{
    /* rewrite the record's length in place (kept on the same 2 bytes) */
    assert_int_equal(comp.b[keep], 0x82);
    comp.b[keep + 1] = (uint8_t)(len >> 8);
    comp.b[keep + 2] = (uint8_t)len;
}

static void test_damaged_records_are_refused(void **state)
{
    (void)state;
    size_t keep = make_rows_twin(), raw = plain.n - 4 - keep;

    comp.b[keep + 3 + 20] ^= 0x55;                           /* flipped byte in the stream */
    expect_refused(true, ERR_CORRUPT, "zlib data");

    keep = make_rows_twin();
    set_announced(keep, (uint32_t)raw + 1);                 /* announced longer */
    expect_refused(true, ERR_CORRUPT, "gives");
    set_announced(keep, (uint32_t)raw - 1);                 /* announced shorter */
    expect_refused(true, ERR_CORRUPT, "longer than");
    set_announced(keep, 0);
    expect_refused(true, ERR_CORRUPT, "length 0");

    keep = make_rows_twin();                                 /* stream cut short */
    comp.n = keep + 3 + 12;
    ev_finish(&comp, true);
    expect_refused(true, ERR_CORRUPT, "truncated");

    keep = make_rows_twin();
    comp.b[keep] = 0x02;                                    /* high bit clear */
    expect_refused(true, ERR_CORRUPT, "bad record header");
    comp.b[keep] = 0x85;                                    /* 5 length bytes */
    expect_refused(true, ERR_CORRUPT, "bad record header");
    comp.b[keep] = 0x92;                                    /* algorithm 1 */
    expect_refused(true, ERR_UNSUPPORTED, "algorithm 1");

    make_rows_twin();
    comp.b[9] ^= 1;                                         /* header length disagrees */
    expect_refused(true, ERR_CORRUPT, "header length");

    /* the uncompressed part runs past the event: a huge column count */
    header(&comp, MDB_EV_DELETE_COMP_V1);
    ev_put32(&comp, 71);
    ev_put16(&comp, 0);
    ev_put16(&comp, 1);
    ev_put8(&comp, 252);
    ev_put16(&comp, 60000);
    ev_put8(&comp, 0x81);
    ev_finish(&comp, false);
    expect_refused(false, ERR_CORRUPT, "runs past");

    /* a query whose status variables run past the event */
    keep = query_event(&plain, "shop", "DELETE FROM t WHERE 1", 21, false);
    ev_compress_twin(&plain, false, keep, MDB_EV_QUERY_COMPRESSED, 0, &comp);
    comp.b[MDB_HDR_LEN + 11] = 0xff;
    expect_refused(false, ERR_CORRUPT, "runs past");

    /* only the record header and length, no stream */
    keep = query_event(&comp, "shop", "DELETE FROM t WHERE 1", 21, false);
    comp.n = keep;
    comp.b[4] = MDB_EV_QUERY_COMPRESSED;
    ev_put8(&comp, 0x81);
    ev_put8(&comp, 21);
    ev_finish(&comp, false);
    expect_refused(false, ERR_CORRUPT, "truncated record");

    /* not a compressed type at all */
    query_event(&comp, "shop", "SELECT 1", 8, false);
    expect_refused(false, ERR_INVALID, "not a compressed event");
}

static void test_oversized_length_is_refused_before_any_allocation(void **state)
{
    (void)state;
    size_t keep = query_event(&plain, "shop", "INSERT INTO t VALUES (1)", 24, true);
    ev_compress_twin(&plain, true, keep, MDB_EV_QUERY_COMPRESSED, 4, &comp);
    uint32_t big = (uint32_t)MDB_INFLATE_MAX + 1;
    for (int i = 0; i < 4; i++) comp.b[keep + 1 + (size_t)i] = (uint8_t)(big >> (8 * (3 - i)));
    expect_refused(true, ERR_CORRUPT, "over the 1073741824-byte limit");

    /* and a buffer whose own limit is too small says so */
    Buf out;
    uint8_t type;
    Err e;
    err_clear(&e);
    ev_compress_twin(&plain, true, keep, MDB_EV_QUERY_COMPRESSED, 0, &comp);
    buf_init(&out, 16);
    assert_int_equal(mdb_event_inflate(comp.b, comp.n, true, &out, &type, &e), ERR_NOMEM);
    assert_non_null(strstr(e.msg, "uncompressed event of"));
    buf_free(&out);
}

/* Seen by tests/fuzz (peak RSS 1.7 GB under ASan): a 40-byte record that
 * announced 1 GiB made the caller reserve it before zlib said "truncated";
 * deflate cannot expand more than 1032:1, so such a length is refused
 * first. */
static void test_length_beyond_deflate_ratio_is_refused(void **state)
{
    (void)state;
    size_t keep = query_event(&plain, "shop", "INSERT INTO t VALUES (1)", 24, true);
    ev_compress_twin(&plain, true, keep, MDB_EV_QUERY_COMPRESSED, 4, &comp);
    size_t zl = comp.n - 4 - keep - 5;
    uint32_t big = (uint32_t)(zl * 1032 + 1032);
    for (int i = 0; i < 4; i++) comp.b[keep + 1 + (size_t)i] = (uint8_t)(big >> (8 * (3 - i)));
    expect_refused(true, ERR_CORRUPT, "cannot come from");
}

/* Found by tests/fuzz (regress/pitr_rows/): a rows event whose columns-
 * present bitmap is empty has row images of no bytes; the row count loop
 * never advanced (a hang). It must be refused, and quickly. */
static void test_rows_event_without_present_columns_is_refused(void **state)
{
    (void)state;
    uint64_t rows = 0;
    Err e;
    err_clear(&e);
    table_map(&tmap, false);
    header(&plain, MDB_EV_WRITE_V1);
    ev_put32(&plain, 71);
    ev_put16(&plain, 0);
    ev_put16(&plain, 1);
    ev_put8(&plain, 2);          /* columns */
    ev_put8(&plain, 0x00);       /* none present */
    ev_put32(&plain, 0);         /* bytes where rows would be */
    ev_finish(&plain, false);
    alarm(20);                   /* a hang fails the test instead of the ctest timeout */
    assert_int_equal(mdb_rows_count(tmap.b, tmap.n, plain.b, plain.n, MDB_EV_WRITE_V1, &rows, &e),
                     ERR_UNSUPPORTED);
    alarm(0);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_query_text_comes_back_with_a_fresh_crc),
        cmocka_unit_test(test_query_without_checksum_and_long_lengths),
        cmocka_unit_test(test_rows_v1_and_v2_give_the_row_counts),
        cmocka_unit_test(test_type_numbers_map_as_mariadb_numbers_them),
        cmocka_unit_test(test_damaged_records_are_refused),
        cmocka_unit_test(test_oversized_length_is_refused_before_any_allocation),
        cmocka_unit_test(test_length_beyond_deflate_ratio_is_refused),
        cmocka_unit_test(test_rows_event_without_present_columns_is_refused),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
