/* test_mdb.c: the MariaDB client layer's pure parts: CRC-32 (zlib's, as
 * binlog checksums use it), GTIDs and GTID positions, SQL escaping, the
 * little-endian readers. Connections are covered by the integration tests
 * (db_tls.sh, binlog_defaults_file.sh). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "engine/mariadb/mdb.h"

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

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_crc32_check_value),
        cmocka_unit_test(test_gtid_pos_parse_and_errors),
        cmocka_unit_test(test_gtid_parse_is_strict_and_formats_back),
        cmocka_unit_test(test_gtid_set_keeps_one_per_domain_and_refuses_overflow),
        cmocka_unit_test(test_escape_and_ident_quote),
        cmocka_unit_test(test_le_readers_and_writers_agree),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
