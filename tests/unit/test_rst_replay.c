/* test_rst_replay.c: the replay source's building blocks: the
 * native-password scramble and the listener itself answered by a real
 * libmariadb client (login with the one-time password, wrong password
 * refused, the replica's connect queries). The full replica path is tests/integration/replay_pitr.sh. */
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

static void test_native_scramble_matches_reference(void **state)
{
    uint8_t salt[20], out[20];
    char h[41];
    (void)state;
    for (int i = 0; i < 20; i++) salt[i] = (uint8_t)(33 + i);
    assert_true(rst_native_scramble(salt, "secret", out));
    hex(out, 20, h);
    /* SHA1(pw) ^ SHA1(salt + SHA1(SHA1(pw))), computed independently (Python hashlib) */
    assert_string_equal(h, "1f44f306295a10870fd7895d358cb5f975d7d47f");
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
        cmocka_unit_test(test_native_scramble_matches_reference),
        cmocka_unit_test(test_listener_answers_replica_queries_and_checks_password),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
