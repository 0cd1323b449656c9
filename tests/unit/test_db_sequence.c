/* test_db_sequence.c: the pure parts of restoring a sequence: the INSERT
 * that writes its recorded row, refusing a recorded value that is not a
 * number (the schema document is read back from the repository, and its
 * text goes into SQL), and the retargeting of DEFAULT nextval(`db`.`seq`)
 * under --target-db. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "restore/db/db_int.h"

static json_t *seq(const char *name, const char *next)
{
    return json_pack("{s:s,s:{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}}", "name", name, "state",
                     "next_not_cached_value", next, "minimum_value", "-100", "maximum_value",
                     "18446744073709551615", "start_value", "1", "increment", "-1", "cache_size",
                     "1000", "cycle_option", "0", "cycle_count", "3");
}

static void test_insert_writes_the_whole_row(void **state)
{
    (void)state;
    json_t *s = seq("ids `x`", "-101");
    Buf b;
    Err err;
    err_clear(&err);
    buf_init(&b, 1 << 20);
    assert_int_equal(db_sequence_insert_sql(s, "shop 2", &b, &err), 0);
    assert_string_equal((char *)b.data, "INSERT INTO `shop 2`.`ids ``x``` VALUES (-101, -100, "
                                        "18446744073709551615, 1, -1, 1000, 0, 3)");
    buf_reset(&b);
    assert_int_equal(db_sequence_insert_sql(s, NULL, &b, &err), 0);
    assert_non_null(strstr((char *)b.data, "INSERT INTO `ids ``x``` VALUES (-101,"));
    buf_free(&b);
    json_decref(s);
}

static void test_a_recorded_value_that_is_not_a_number_is_refused(void **state)
{
    (void)state;
    const char *bad[] = {"1); DROP TABLE t; --", "", "-", "1.5", "123456789012345678901", "0x10"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *s = seq("ids", bad[i]);
        Buf b;
        Err err;
        err_clear(&err);
        buf_init(&b, 1 << 20);
        assert_int_equal(db_sequence_insert_sql(s, "shop", &b, &err), ERR_CORRUPT);
        assert_non_null(strstr(err.msg, "next_not_cached_value is not a number"));
        buf_free(&b);
        json_decref(s);
    }
}

static void test_retarget_moves_only_the_source_database(void **state)
{
    (void)state;
    const char *create = "CREATE TABLE `t` (\n  `id` int NOT NULL DEFAULT nextval(`shop`.`ids`),\n"
                         "  `o` int DEFAULT nextval(`other`.`s`),\n"
                         "  `p` int DEFAULT nextval(`shop`.`ids2`)\n)";
    char *r = db_sequence_retarget(create, "shop", "shop `copy`");
    assert_non_null(r);
    assert_string_equal(r, "CREATE TABLE `t` (\n  `id` int NOT NULL DEFAULT nextval(`shop ``copy```.`ids`),\n"
                           "  `o` int DEFAULT nextval(`other`.`s`),\n"
                           "  `p` int DEFAULT nextval(`shop ``copy```.`ids2`)\n)");
    free(r);
    r = db_sequence_retarget("CREATE TABLE `t` (`a` int)", "shop", "x");
    assert_string_equal(r, "CREATE TABLE `t` (`a` int)");
    free(r);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_insert_writes_the_whole_row),
        cmocka_unit_test(test_a_recorded_value_that_is_not_a_number_is_refused),
        cmocka_unit_test(test_retarget_moves_only_the_source_database),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
