/* test_mdb.c: the MariaDB client layer's pure parts: CRC-32 (zlib's, as
 * binlog checksums use it), GTIDs and GTID positions, SQL escaping, the
 * little-endian readers. Connections are covered by the integration tests
 * (db_tls.sh, binlog_defaults_file.sh). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "engine/mariadb/mdb.h"

#define TST_EV_ASSERT(c) assert_true(c)
#include "tests/support/binlog_events.h"

static void test_crc32_check_value(void **state)
{
    (void)state;
    assert_int_equal(mdb_crc32(0, "123456789", 9), 0xcbf43926u);
    /* incremental equals one-shot */
    assert_int_equal(mdb_crc32(mdb_crc32(0, "12345", 5), "6789", 4), 0xcbf43926u);
}

static void test_gtid_pos_parse_and_errors(void **state)
{
    MdbGtidSet p;
    Err e;
    char s[128];
    (void)state;
    assert_int_equal(mdb_gtid_set_parse("0-1-100, 5-2-7", &p, &e), 0);
    assert_int_equal(p.n, 2);
    assert_int_equal(mdb_gtid_set_find(&p, 5)->seq, 7);
    mdb_gtid_set_format(&p, s, sizeof s);
    assert_string_equal(s, "0-1-100,5-2-7");
    assert_int_equal(mdb_gtid_set_parse("", &p, &e), 0);
    assert_int_equal(p.n, 0);
    assert_int_equal(mdb_gtid_set_parse("0-1", &p, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "domain-server-seq"));
    assert_int_equal(mdb_gtid_set_parse("0-1-5,0-1-6", &p, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "twice"));
    assert_int_equal(mdb_gtid_set_parse("0-1-5x", &p, &e), ERR_INVALID);
}

static void test_gtid_parse_is_strict_and_formats_back(void **state)
{
    MdbGtid g;
    Err e;
    char s[64];
    (void)state;
    assert_int_equal(mdb_gtid_parse("0-4294967295-18446744073709551615", &g, &e), 0);
    assert_int_equal(g.server, 4294967295u);
    assert_true(g.seq == UINT64_MAX);
    mdb_gtid_format(&g, s, sizeof s);
    assert_string_equal(s, "0-4294967295-18446744073709551615");
    assert_int_equal(mdb_gtid_parse("0-4294967296-1", &g, &e), ERR_INVALID);
    assert_int_equal(mdb_gtid_parse("0-1-18446744073709551616", &g, &e), ERR_INVALID);
    assert_int_equal(mdb_gtid_parse("0-1-", &g, &e), ERR_INVALID);
    assert_int_equal(mdb_gtid_parse("0-1-5,", &g, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "bad GTID '0-1-5,'"));
}

static void test_gtid_set_keeps_one_per_domain_and_refuses_overflow(void **state)
{
    MdbGtidSet set;
    MdbGtid g = {.domain = 3, .server = 1, .seq = 9};
    Err e;
    char s[2048];
    (void)state;
    memset(&set, 0, sizeof set);
    assert_true(mdb_gtid_set_update(&set, &g));
    g.seq = 10;
    assert_true(mdb_gtid_set_update(&set, &g));
    assert_int_equal(set.n, 1);
    assert_true(mdb_gtid_set_find(&set, 3)->seq == 10);
    for (uint32_t d = 100; set.n < MDB_GTID_DOMAINS_MAX; d++) {
        g.domain = d;
        assert_int_equal(mdb_gtid_set_put(&set, &g, &e), 0);
    }
    g.domain = 99;
    assert_false(mdb_gtid_set_update(&set, &g));
    assert_int_equal(mdb_gtid_set_put(&set, &g, &e), ERR_UNSUPPORTED);
    assert_non_null(strstr(e.msg, "replication domains"));
    mdb_gtid_set_format(&set, s, sizeof s);
    MdbGtidSet back;
    assert_int_equal(mdb_gtid_set_parse(s, &back, &e), 0);
    assert_int_equal(back.n, MDB_GTID_DOMAINS_MAX);
    assert_memory_equal(back.g, set.g, sizeof set.g);
    /* one domain more than a set holds */
    strcat(s, ",99-1-1");
    assert_int_equal(mdb_gtid_set_parse(s, &back, &e), ERR_NOMEM);
}

static void test_escape_and_ident_quote(void **state)
{
    Buf b;
    Err e;
    (void)state;
    buf_init(&b, 1 << 20);
    assert_int_equal(mdb_escape(&b, "a'b\\c\n\r\x1a\0d", 10, &e), 0);
    assert_int_equal(b.len, 16);
    assert_memory_equal(b.data, "a\\'b\\\\c\\n\\r\\Z\\0d", 16);
    b.len = 0;
    assert_int_equal(mdb_ident_quote(&b, "we`ird", &e), 0);
    assert_int_equal(b.len, 9);
    assert_memory_equal(b.data, "`we``ird`", 9);
    buf_free(&b);
}

static void test_le_readers_and_writers_agree(void **state)
{
    uint8_t p[8];
    (void)state;
    mdb_put_le64(p, 0x0807060504030201ull);
    assert_int_equal(mdb_le16(p), 0x0201);
    assert_int_equal(mdb_le24(p), 0x030201);
    assert_int_equal(mdb_le32(p), 0x04030201u);
    assert_true(mdb_le48(p) == 0x060504030201ull);
    assert_true(mdb_le64(p) == 0x0807060504030201ull);
    mdb_put_le16(p, 0xbeef);
    mdb_put_le32(p + 4, 0xdeadbeefu);
    assert_int_equal(mdb_le16(p), 0xbeef);
    assert_int_equal(mdb_le32(p + 4), 0xdeadbeefu);
}

static Ev g_ev;

static bool query_ends(const char *text, bool crc)
{
    ev_header(&g_ev, MDB_EV_QUERY, 1700000000u, 1, 500);
    ev_query_body(&g_ev, NULL, 0, "shop", text, strlen(text));
    ev_finish(&g_ev, crc);
    return mdb_event_ends_group(MDB_EV_QUERY, g_ev.b, g_ev.n - (crc ? 4 : 0), false);
}

/* The plan, the search and the replay source share this decision: a
 * difference between them would be a point the replay cannot stop at. */
static void test_ends_group_xid_commit_rollback_and_standalone(void **state)
{
    const char *db, *q;
    size_t dl, ql;
    (void)state;
    assert_true(query_ends("COMMIT", true));
    assert_true(query_ends("commit", false));
    assert_true(query_ends("ROLLBACK", true));
    assert_false(query_ends("COMMIT ", true));
    assert_false(query_ends("INSERT INTO t VALUES (1)", true));
    assert_true(mdb_query_text(g_ev.b, g_ev.n - 4, &db, &dl, &q, &ql));
    assert_int_equal(dl, 4);
    assert_memory_equal(db, "shop", 4);
    assert_int_equal(ql, 24);
    /* a Query cut inside its database name does not parse */
    assert_false(mdb_query_text(g_ev.b, MDB_HDR_LEN + 15, &db, &dl, &q, &ql));
    assert_true(mdb_event_ends_group(MDB_EV_XID, NULL, 0, false));
    assert_true(mdb_event_ends_group(MDB_EV_XA_PREPARE, NULL, 0, false));
    assert_false(mdb_event_ends_group(MDB_EV_TABLE_MAP, NULL, 0, false));
    /* standalone (DDL): the statement after the GTID's companions ends it */
    assert_false(mdb_event_ends_group(MDB_EV_INTVAR, NULL, 0, true));
    assert_false(mdb_event_ends_group(MDB_EV_ANNOTATE_ROWS, NULL, 0, true));
    assert_true(query_ends("CREATE TABLE t (id INT)", true) == false);
    assert_true(mdb_event_ends_group(MDB_EV_QUERY, g_ev.b, g_ev.n - 4, true));
}

static int collect(void *ctx, const MdbGtid *g, Err *err)
{
    MdbGtidSet *set = ctx;
    if (g->domain == 7) return err_set(err, ERR_GAP, "domain 7 refused");
    mdb_gtid_set_update(set, g);
    return 0;
}

static void test_gtid_and_gtid_list_events(void **state)
{
    MdbGtid g;
    MdbGtidSet set;
    uint8_t fl = 0;
    Err e;
    (void)state;
    ev_header(&g_ev, MDB_EV_GTID, 1700000000u, 42, 600);
    ev_put32(&g_ev, 9); ev_put32(&g_ev, 0);       /* seq 9 */
    ev_put32(&g_ev, 3);                            /* domain 3 */
    ev_put8(&g_ev, MDB_GTID_FL_STANDALONE);
    ev_finish(&g_ev, true);
    assert_int_equal(mdb_event_gtid(g_ev.b, g_ev.n, &g, &fl, &e), 0);
    assert_true(g.domain == 3 && g.server == 42 && g.seq == 9 && fl == MDB_GTID_FL_STANDALONE);
    assert_int_equal(mdb_event_gtid(g_ev.b, MDB_HDR_LEN + 12, &g, &fl, &e), ERR_CORRUPT);
    /* Gtid_list: 2 entries, flags in the count's top bits */
    ev_header(&g_ev, MDB_EV_GTID_LIST, 1700000000u, 42, 700);
    ev_put32(&g_ev, 2u | MDB_GTID_LIST_UNTIL_REACHED);
    ev_put32(&g_ev, 0); ev_put32(&g_ev, 1); ev_put32(&g_ev, 5); ev_put32(&g_ev, 0);
    ev_put32(&g_ev, 7); ev_put32(&g_ev, 2); ev_put32(&g_ev, 6); ev_put32(&g_ev, 0);
    ev_finish(&g_ev, false);
    memset(&set, 0, sizeof set);
    assert_int_equal(mdb_event_gtid_list(g_ev.b, g_ev.n, collect, &set, &e), ERR_GAP);
    assert_int_equal(set.n, 1);   /* stopped at the refused entry */
    assert_true(set.g[0].seq == 5);
    assert_int_equal(mdb_event_gtid_list(g_ev.b, g_ev.n - 1, collect, &set, &e), ERR_CORRUPT);
    assert_non_null(strstr(e.msg, "announces 2 entries"));
}

static void test_gtid_set_merge_and_order(void **state)
{
    MdbGtidSet a, b;
    Err e;
    char s[256];
    (void)state;
    assert_int_equal(mdb_gtid_set_parse("0-1-10,1-2-5", &a, &e), 0);
    assert_int_equal(mdb_gtid_set_parse("1-3-7,2-1-1", &b, &e), 0);
    assert_false(mdb_gtid_set_le(&a, &b));   /* domain 0 missing from b counts as 0 */
    mdb_gtid_set_merge(&a, &b);
    mdb_gtid_set_format(&a, s, sizeof s);
    assert_string_equal(s, "0-1-10,1-3-7,2-1-1");
    assert_true(mdb_gtid_set_le(&b, &a));
    assert_false(mdb_gtid_set_eq(&b, &a));
    assert_true(mdb_gtid_set_eq(&a, &a));
}

/* The socket wins for "localhost" only, as in the mariadb client. */
static void test_conn_where_names_the_route(void **state)
{
    char w[128];
    MdbConn c = {.host = "localhost", .socket = "/run/db.sock", .user = "tm"};
    (void)state;
    assert_string_equal(mdb_conn_where(&c, w, sizeof w), "tm@unix:/run/db.sock");
    c.host = "127.0.0.1";
    c.port = 3307;
    assert_string_equal(mdb_conn_where(&c, w, sizeof w), "tm@127.0.0.1:3307");
    c.host = "";
    assert_string_equal(mdb_conn_where(&c, w, sizeof w), "tm@unix:/run/db.sock");
    c.socket = NULL;
    c.user = NULL;
    assert_string_equal(mdb_conn_where(&c, w, sizeof w), "(default user)@(option file defaults)");
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_crc32_check_value),
        cmocka_unit_test(test_gtid_pos_parse_and_errors),
        cmocka_unit_test(test_gtid_parse_is_strict_and_formats_back),
        cmocka_unit_test(test_gtid_set_keeps_one_per_domain_and_refuses_overflow),
        cmocka_unit_test(test_escape_and_ident_quote),
        cmocka_unit_test(test_le_readers_and_writers_agree),
        cmocka_unit_test(test_ends_group_xid_commit_rollback_and_standalone),
        cmocka_unit_test(test_gtid_and_gtid_list_events),
        cmocka_unit_test(test_conn_where_names_the_route),
        cmocka_unit_test(test_gtid_set_merge_and_order),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
