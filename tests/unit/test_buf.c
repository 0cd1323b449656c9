/* test_buf.c: the growable array helper (buf_grow): doubling, the hard
 * maximum, and an untouched array on failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/common/buf.h"

static void test_grow_doubles_and_keeps_contents(void **state)
{
    (void)state;
    uint64_t *v = NULL;
    size_t cap = 0;
    Err err;
    for (size_t i = 0; i < 1000; i++) {
        assert_int_equal(buf_grow(&v, &cap, i + 1, sizeof *v, 1u << 20, &err), 0);
        assert_true(cap >= i + 1);
        v[i] = i * 7;
    }
    assert_int_equal(cap, 1024);
    for (size_t i = 0; i < 1000; i++) assert_int_equal(v[i], i * 7);
    free(v);
}

static void test_grow_stops_at_the_limit(void **state)
{
    (void)state;
    int *v = NULL;
    size_t cap = 0;
    Err err;
    assert_int_equal(buf_grow(&v, &cap, 100, sizeof *v, 100, &err), 0);
    assert_int_equal(cap, 100);     /* clamped to the limit, not 128 */
    int *before = v;
    assert_int_equal(buf_grow(&v, &cap, 101, sizeof *v, 100, &err), ERR_NOMEM);
    assert_non_null(strstr(err.msg, "limit of 100"));
    assert_ptr_equal(v, before);
    assert_int_equal(cap, 100);
    assert_int_equal(buf_grow(&v, &cap, 5, sizeof *v, 100, &err), 0);   /* room already */
    free(v);
}

static void test_grow_refuses_an_overflowing_size(void **state)
{
    (void)state;
    char *v = NULL;
    size_t cap = 0;
    Err err;
    assert_int_equal(buf_grow(&v, &cap, 2, SIZE_MAX / 2, SIZE_MAX, &err), ERR_NOMEM);
    assert_null(v);
    assert_int_equal(cap, 0);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_grow_doubles_and_keeps_contents),
        cmocka_unit_test(test_grow_stops_at_the_limit),
        cmocka_unit_test(test_grow_refuses_an_overflowing_size),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
