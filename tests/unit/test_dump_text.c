/* test_dump_text.c: the exact text forms of binary-protocol values
 * (engine/source/dump/dump_text.c). Pure functions: no server. The server
 * reads numbers back with a correctly rounded strtod, as glibc's is. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/source/dump/dump_int.h"

static const char *dtext(double v, char *buf)
{
    size_t n = dump_text_double(buf, v);
    assert_true(n > 0 && n < DUMP_TEXT_MAX);
    buf[n] = '\0';
    return buf;
}

static void assert_reads_back(double v)
{
    char buf[DUMP_TEXT_MAX + 1];
    double r = strtod(dtext(v, buf), NULL);
    if (memcmp(&r, &v, sizeof v) != 0)
        fail_msg("%.17g written as \"%s\" reads back as %.17g", v, buf, r);
}

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void test_double_edge_values_read_back_bit_exact(void **state)
{
    (void)state;   /* the list: max, min denormal, 0.1+0.2, -0, and friends */
    const double v[] = {1.7976931348623157e308, -1.7976931348623157e308, 4.9e-324, -4.9e-324,
                        2.2250738585072014e-308, 2.2250738585072009e-308, 0.1 + 0.2, 0.1, 0.0,
                        -0.0, 1.0, -1.0, 9007199254740993.0, 9007199254740992.0, 1e15, 1e16,
                        1e22, 1e23, 123456789012345678.0, 1.005, 33.33333206176758, 0.5, 1e-7,
                        3.141592653589793, 2.5e-310, 12345.678901, 99999999.99};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) assert_reads_back(v[i]);
}

static void test_random_doubles_read_back_bit_exact(void **state)
{
    (void)state;   /* every finite bit pattern, and amounts with few decimals (the fast path) */
    uint64_t s = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < 200000; i++) {
        uint64_t bits = rnd(&s);
        double v;
        memcpy(&v, &bits, sizeof v);
        if (!isfinite(v)) continue;
        assert_reads_back(v);
        assert_reads_back((double)(int64_t)(bits % 100000000) / 100.0);
        assert_reads_back((double)(int64_t)(bits % 1000000000000) / 1e6 - 5e5);
    }
}

static void test_floats_read_back_through_their_double(void **state)
{
    (void)state;   /* the server reads a FLOAT's text as a double, then rounds it to float */
    char buf[DUMP_TEXT_MAX + 1];
    uint64_t s = 12345;
    const float edge[] = {3.4028235e38f, -3.4028235e38f, 1.4e-45f, 1.17549435e-38f, -0.0f,
                          33.333332f, 16777217.0f, 0.1f};
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++) {
        float r = (float)strtod(dtext((double)edge[i], buf), NULL);
        assert_memory_equal(&r, &edge[i], sizeof r);
    }
    for (int i = 0; i < 200000; i++) {
        uint32_t bits = (uint32_t)rnd(&s);
        float f, r;
        memcpy(&f, &bits, sizeof f);
        if (!isfinite(f)) continue;
        r = (float)strtod(dtext((double)f, buf), NULL);
        assert_memory_equal(&r, &f, sizeof r);
    }
    assert_string_equal(dtext((double)33.333332f, buf), "33.33333206176758");
}

static void test_short_amounts_are_short(void **state)
{
    (void)state;   /* dedup and readability: the common amounts stay as people typed them */
    char buf[DUMP_TEXT_MAX + 1];
    assert_string_equal(dtext(12.5, buf), "12.5");
    assert_string_equal(dtext(-0.01, buf), "-0.01");
    assert_string_equal(dtext(100.0, buf), "100");
    assert_string_equal(dtext(0.1, buf), "0.1");
    assert_string_equal(dtext(0.0, buf), "0");
    assert_string_equal(dtext(-0.0, buf), "-0");
    assert_string_equal(dtext(0.1 + 0.2, buf), "0.30000000000000004");
}

static void test_integers(void **state)
{
    (void)state;
    char b[DUMP_TEXT_MAX];
    assert_int_equal(dump_text_i64(b, INT64_MIN), 20);
    assert_memory_equal(b, "-9223372036854775808", 20);
    assert_int_equal(dump_text_u64(b, UINT64_MAX), 20);
    assert_memory_equal(b, "18446744073709551615", 20);
    assert_int_equal(dump_text_i64(b, 0), 1);
    assert_memory_equal(b, "0", 1);
}

static void test_temporal_forms(void **state)
{
    (void)state;   /* TIME beyond 24 h and negative, fractions to the column's precision */
    char b[DUMP_TEXT_MAX + 1];
    MYSQL_TIME t;
    size_t n;

    memset(&t, 0, sizeof t);
    t.neg = 1;
    t.hour = 838;
    t.minute = 59;
    t.second = 59;
    t.second_part = 999999;
    n = dump_text_time(b, &t, MYSQL_TYPE_TIME, 6);
    b[n] = '\0';
    assert_string_equal(b, "-838:59:59.999999");
    t.neg = 0;
    t.hour = 4;
    t.day = 1;   /* days folded into hours */
    t.second_part = 500000;
    n = dump_text_time(b, &t, MYSQL_TYPE_TIME, 1);
    b[n] = '\0';
    assert_string_equal(b, "28:59:59.5");
    memset(&t, 0, sizeof t);
    n = dump_text_time(b, &t, MYSQL_TYPE_DATETIME, 0);
    b[n] = '\0';
    assert_string_equal(b, "0000-00-00 00:00:00");
    t.year = 2024;
    t.month = 2;
    t.day = 29;
    t.second_part = 1;
    n = dump_text_time(b, &t, MYSQL_TYPE_TIMESTAMP, 6);
    b[n] = '\0';
    assert_string_equal(b, "2024-02-29 00:00:00.000001");
    n = dump_text_time(b, &t, MYSQL_TYPE_DATE, 0);
    b[n] = '\0';
    assert_string_equal(b, "2024-02-29");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_double_edge_values_read_back_bit_exact),
        cmocka_unit_test(test_random_doubles_read_back_bit_exact),
        cmocka_unit_test(test_floats_read_back_through_their_double),
        cmocka_unit_test(test_short_amounts_are_short),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_temporal_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
