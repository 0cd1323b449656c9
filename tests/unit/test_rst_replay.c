/* test_rst_replay.c: the replay source's building blocks: SHA-1 against
 * FIPS 180 vectors, the native-password scramble, CRC32, GTID positions,
 * and the listener itself answered by a real libmariadb client (login with
 * the one-time password, wrong password refused, the replica's connect
 * queries). The full replica path is tests/integration/replay_pitr.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <mysql.h>
#include <stdio.h>
#include <string.h>

#include "restore/replay/rst_replay.h"
#include "restore/replay/rst_replay_int.h"

static void hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", p[i]);
}

static void test_sha1_matches_fips180_vectors(void **state)
{
    uint8_t d[20];
    char h[41];
    RstSha1 c;
    (void)state;
    rst_sha1("abc", 3, d);
    hex(d, 20, h);
    assert_string_equal(h, "a9993e364706816aba3e25717850c26c9cd0d89d");
    rst_sha1("", 0, d);
    hex(d, 20, h);
    assert_string_equal(h, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    rst_sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, d);
    hex(d, 20, h);
    assert_string_equal(h, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    /* one million 'a', fed in uneven pieces (block boundary handling) */
    rst_sha1_init(&c);
    for (int i = 0; i < 1000000;) {
        char a[977];
        int n = 1000000 - i < 977 ? 1000000 - i : 977;
        memset(a, 'a', sizeof a);
        rst_sha1_update(&c, a, (size_t)n);
        i += n;
    }
    rst_sha1_final(&c, d);
    hex(d, 20, h);
    assert_string_equal(h, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

static void test_native_scramble_matches_reference(void **state)
{
    uint8_t salt[20], out[20];
    char h[41];
    (void)state;
    for (int i = 0; i < 20; i++) salt[i] = (uint8_t)(33 + i);
    rst_native_scramble(salt, "secret", out);
    hex(out, 20, h);
    /* SHA1(pw) ^ SHA1(salt + SHA1(SHA1(pw))), computed independently (Python hashlib) */
    assert_string_equal(h, "1f44f306295a10870fd7895d358cb5f975d7d47f");
}

static void test_crc32_check_value(void **state)
{
    (void)state;
    assert_int_equal(rst_crc32(0, "123456789", 9), 0xcbf43926u);
    /* incremental equals one-shot */
    assert_int_equal(rst_crc32(rst_crc32(0, "12345", 5), "6789", 4), 0xcbf43926u);
}

static void test_gtid_pos_parse_and_errors(void **state)
{
    RstGtidPos p;
    Err e;
    char s[128];
    (void)state;
    assert_int_equal(rst_gtid_pos_parse("0-1-100, 5-2-7", &p, &e), 0);
    assert_int_equal(p.n, 2);
    assert_int_equal(rst_gtid_pos_find(&p, 5)->seq, 7);
    rst_gtid_pos_format(&p, s, sizeof s);
    assert_string_equal(s, "0-1-100,5-2-7");
    assert_int_equal(rst_gtid_pos_parse("", &p, &e), 0);
    assert_int_equal(p.n, 0);
    assert_int_equal(rst_gtid_pos_parse("0-1", &p, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "domain-server-seq"));
    assert_int_equal(rst_gtid_pos_parse("0-1-5,0-1-6", &p, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "twice"));
    assert_int_equal(rst_gtid_pos_parse("0-1-5x", &p, &e), ERR_INVALID);
}

static int no_events(void *ctx, const uint8_t **ev, size_t *len, Err *err)
{
    (void)ctx;
    (void)err;
    *ev = NULL;
    *len = 0;
    return 0;
}

static void test_listener_answers_replica_queries_and_checks_password(void **state)
{
    RstSrcConfig cfg;
    RstSrcServer *s = NULL;
    Err e;
    MYSQL *m;
    MYSQL_RES *res;
    MYSQL_ROW row;
    RstSrcStats st;
    unsigned port;
    (void)state;
    memset(&cfg, 0, sizeof cfg);
    cfg.password = "one-time-Pw1";
    cfg.server_id = 77;
    assert_int_equal(rst_srcserver_open(&cfg, no_events, NULL, &s, &e), 0);
    assert_int_equal(rst_srcserver_start(s, &e), 0);
    port = rst_srcserver_port(s);

    m = mysql_init(NULL);
    assert_null(mysql_real_connect(m, "127.0.0.1", "tidemark_replay", "wrong", NULL, port, NULL, 0));
    assert_int_equal(mysql_errno(m), 1045);
    mysql_close(m);

    m = mysql_init(NULL);
    assert_non_null(mysql_real_connect(m, "127.0.0.1", "tidemark_replay", "one-time-Pw1", NULL, port, NULL, 0));
    assert_true(mysql_get_server_version(m) >= 100000);
    assert_int_equal(mysql_query(m, "SHOW VARIABLES LIKE 'SERVER_ID'"), 0);
    res = mysql_store_result(m);
    row = mysql_fetch_row(res);
    assert_string_equal(row[1], "77");
    mysql_free_result(res);
    assert_int_equal(mysql_query(m, "SET @master_binlog_checksum= @@global.binlog_checksum"), 0);
    assert_int_equal(mysql_query(m, "SELECT @master_binlog_checksum"), 0);
    res = mysql_store_result(m);
    row = mysql_fetch_row(res);
    assert_string_equal(row[0], "CRC32");
    mysql_free_result(res);
    assert_int_equal(mysql_query(m, "SELECT @@GLOBAL.gtid_domain_id"), 0);
    res = mysql_store_result(m);
    assert_non_null(mysql_fetch_row(res));
    mysql_free_result(res);
    assert_int_equal(mysql_query(m, "SELECT UNIX_TIMESTAMP()"), 0);
    mysql_free_result(mysql_store_result(m));
    /* anything else is refused with a message naming it */
    assert_int_not_equal(mysql_query(m, "DROP DATABASE x"), 0);
    assert_non_null(strstr(mysql_error(m), "drop database x"));
    mysql_close(m);

    rst_srcserver_stats(s, &st);
    assert_int_equal(st.connections, 1);
    rst_srcserver_close(s);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_sha1_matches_fips180_vectors),
        cmocka_unit_test(test_native_scramble_matches_reference),
        cmocka_unit_test(test_crc32_check_value),
        cmocka_unit_test(test_gtid_pos_parse_and_errors),
        cmocka_unit_test(test_listener_answers_replica_queries_and_checks_password),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
