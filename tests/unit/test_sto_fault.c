/* test_sto_fault.c: the fault-injecting wrapper over the real local
 * driver: counting, nth-call failures (once and sticky), op filters, and
 * that a failed call never reaches the inner storage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "storage-backends/local/local.h"
#include "tests/support/sto_fault.h"
#include "tests/support/tst_util.h"

typedef struct Fx {
    char *dir;
    Sto *fault;
    Sto *plain;   /* a second, unwrapped view of the same directory */
} Fx;

static int setup(void **state)
{
    Fx *fx = calloc(1, sizeof *fx);
    Sto *inner = NULL;
    Err err;
    fx->dir = tst_tempdir("stofault");
    if (sto_local_open(fx->dir, 0, &inner, &err) != 0) return -1;
    if (sto_fault_wrap(inner, &fx->fault, &err) != 0) return -1;
    if (sto_local_open(fx->dir, 0, &fx->plain, &err) != 0) return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    Fx *fx = *state;
    sto_close(fx->fault);   /* closes the inner driver too */
    sto_close(fx->plain);
    tst_rmtree(fx->dir);
    free(fx->dir);
    free(fx);
    return 0;
}

static int put(Sto *s, const char *key, Err *err)
{
    err_clear(err);
    return sto_put(s, key, key, strlen(key), err);
}

static int exists(Sto *s, const char *key)
{
    int e = -1;
    Err err;
    assert_int_equal(sto_exists(s, key, &e, &err), 0);
    return e;
}

static void test_passes_through_and_counts(void **state)
{
    Fx *fx = *state;
    Err err;
    Buf b;
    StoStat st;
    assert_string_equal(fx->fault->ops->kind, "local");
    assert_int_equal(fx->fault->ops->features, fx->plain->ops->features);
    assert_string_equal(fx->fault->location, fx->dir);
    assert_int_equal(put(fx->fault, "a", &err), 0);
    assert_int_equal(put(fx->fault, "d/b", &err), 0);
    buf_init(&b, 0);
    assert_int_equal(sto_get_all(fx->fault, "d/b", &b, &err), 0);
    assert_memory_equal(b.data, "d/b", 3);
    buf_free(&b);
    assert_int_equal(sto_stat(fx->fault, "a", &st, &err), 0);
    assert_int_equal(sto_stat(fx->fault, "zz", &st, &err), ERR_NOTFOUND);   /* inner's error */
    assert_int_equal(sto_del(fx->fault, "a", &err), 0);
    assert_int_equal(sto_fault_calls(fx->fault, "put"), 2);
    assert_int_equal(sto_fault_calls(fx->fault, "get"), 1);
    assert_int_equal(sto_fault_calls(fx->fault, "stat"), 2);
    assert_int_equal(sto_fault_calls(fx->fault, "del"), 1);
    assert_int_equal(sto_fault_calls(fx->fault, "list"), 0);
    assert_int_equal(sto_fault_calls(fx->fault, NULL), 6);
    assert_int_equal(exists(fx->plain, "d/b"), 1);
    assert_int_equal(exists(fx->plain, "a"), 0);
}

static void test_nth_put_fails_once_without_effect(void **state)
{
    Fx *fx = *state;
    Err err;
    char key[16];
    sto_fault_set(fx->fault, "put", 3, false, ERR_NOSPACE);
    for (int i = 1; i <= 5; i++) {
        snprintf(key, sizeof key, "k%d", i);
        int rc = put(fx->fault, key, &err);
        if (i == 3) {
            assert_int_equal(rc, ERR_NOSPACE);
            assert_non_null(strstr(err.msg, "injected fault: put k3"));
            assert_non_null(strstr(err.msg, "put k3"));
            assert_int_equal(exists(fx->plain, key), 0);   /* never reached the disk */
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(exists(fx->plain, key), 1);
        }
    }
    assert_int_equal(sto_fault_calls(fx->fault, "put"), 5);
}

static void test_sticky_fails_from_nth_on_and_filters_by_op(void **state)
{
    Fx *fx = *state;
    Err err;
    Buf b;
    StoStat st;
    assert_int_equal(put(fx->fault, "x", &err), 0);
    sto_fault_set(fx->fault, "get", 2, true, ERR_NET);
    buf_init(&b, 0);
    assert_int_equal(sto_get_all(fx->fault, "x", &b, &err), 0);
    for (int i = 0; i < 3; i++) {
        err_clear(&err);
        assert_int_equal(sto_get_all(fx->fault, "x", &b, &err), ERR_NET);
        assert_true(err.retryable);
        /* Other ops are not affected. */
        assert_int_equal(sto_stat(fx->fault, "x", &st, &err), 0);
        assert_int_equal(put(fx->fault, "y", &err), 0);
    }
    /* Disarm. */
    sto_fault_set(fx->fault, NULL, 0, false, 0);
    assert_int_equal(sto_get_all(fx->fault, "x", &b, &err), 0);
    buf_free(&b);
}

static int count_keys(void *ctx, const char *key, uint64_t size, Err *err)
{
    (void)key; (void)size; (void)err;
    (*(int *)ctx)++;
    return 0;
}

static void test_any_op_nth_call(void **state)
{
    Fx *fx = *state;
    Err err;
    StoStat st;
    int n = 0;
    assert_int_equal(put(fx->fault, "p", &err), 0);
    sto_fault_set(fx->fault, NULL, 3, false, ERR_IO);   /* stat, list, del: the del fails */
    assert_int_equal(sto_stat(fx->fault, "p", &st, &err), 0);
    assert_int_equal(sto_list(fx->fault, "", count_keys, &n, &err), 0);
    assert_int_equal(n, 1);
    err_clear(&err);
    assert_int_equal(sto_del(fx->fault, "p", &err), ERR_IO);
    assert_non_null(strstr(err.msg, "delete p"));
    assert_int_equal(exists(fx->plain, "p"), 1);
    assert_int_equal(sto_del(fx->fault, "p", &err), 0);   /* once only */
    assert_int_equal(exists(fx->plain, "p"), 0);
    /* A failing list never calls back. */
    assert_int_equal(put(fx->fault, "q", &err), 0);
    sto_fault_set(fx->fault, "list", 1, false, ERR_IO);
    n = 0;
    assert_int_equal(sto_list(fx->fault, "", count_keys, &n, &err), ERR_IO);
    assert_int_equal(n, 0);
    /* del_many falls back to del for a driver without it: counted as del. */
    const char *keys[] = {"q", "none"};
    unsigned before = sto_fault_calls(fx->fault, "del");
    assert_int_equal(sto_del_many(fx->fault, keys, 2, &err), 0);
    assert_int_equal(sto_fault_calls(fx->fault, "del"), before + 2);
    assert_int_equal(sto_fault_calls(fx->fault, "del_many"), 0);
}

/* The intended use: run a scenario once to count its calls, then once per
 * call with that call failing, and check the invariant each time. Here the
 * scenario writes three objects then a "commit" object; the invariant is
 * that the commit object never exists without all three. */
static int scenario(Sto *s, Err *err)
{
    int rc;
    if ((rc = put(s, "data/1", err)) || (rc = put(s, "data/2", err)) || (rc = put(s, "data/3", err)))
        return rc;
    return put(s, "commit", err);
}

static void test_loop_over_every_call(void **state)
{
    Fx *fx = *state;
    Err err;
    assert_int_equal(scenario(fx->fault, &err), 0);
    unsigned total = sto_fault_calls(fx->fault, NULL);
    assert_int_equal(total, 4);
    for (unsigned nth = 1; nth <= total; nth++) {
        const char *keys[] = {"data/1", "data/2", "data/3", "commit"};
        assert_int_equal(sto_del_many(fx->plain, keys, 4, &err), 0);
        sto_fault_set(fx->fault, NULL, nth, false, ERR_IO);
        assert_int_equal(scenario(fx->fault, &err), ERR_IO);
        assert_int_equal(exists(fx->plain, "commit"), 0);
        assert_int_equal(exists(fx->plain, keys[nth - 1]), 0);
    }
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test_setup_teardown(test_passes_through_and_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nth_put_fails_once_without_effect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sticky_fails_from_nth_on_and_filters_by_op, setup, teardown),
        cmocka_unit_test_setup_teardown(test_any_op_nth_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loop_over_every_call, setup, teardown),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
