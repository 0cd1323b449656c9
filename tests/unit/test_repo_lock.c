/* test_repo_lock.c: repository locks over the local driver: a shared lock
 * whose object is older than 30 minutes is stale (an exclusive taker
 * ignores it), repo_lock_refresh makes it live again, refresh without a
 * lock is refused. The age is simulated by backdating the lock object, no
 * sleeping. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/repo/repo.h"
#include "tests/support/tst_util.h"

static const char PASS[] = "correct horse";

typedef struct Fx {
    char *dir;
    char repo[4096];
} Fx;

static int setup(void **state)
{
    Fx *fx = calloc(1, sizeof *fx);
    Sto *sto;
    Err err;
    RepoOptions o;
    repo_options_default(&o);
    o.kdf = CRY_KDF_FAST;
    fx->dir = tst_tempdir("repolock");
    snprintf(fx->repo, sizeof fx->repo, "%s/r", fx->dir);
    assert_int_equal(sto_open_url(fx->repo, STO_OPEN_CREATE, &sto, &err), 0);
    assert_int_equal(repo_init(sto, PASS, strlen(PASS), &o, &err), 0);
    sto_close(sto);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    Fx *fx = *state;
    tst_rmtree(fx->dir);
    free(fx->dir);
    free(fx);
    return 0;
}

static Repo *open_repo(Fx *fx)
{
    Sto *sto;
    Repo *r = NULL;
    Err err;
    RepoOptions o;
    repo_options_default(&o);
    o.kdf = CRY_KDF_FAST;
    assert_int_equal(sto_open_url(fx->repo, 0, &sto, &err), 0);
    assert_int_equal(repo_open(sto, PASS, strlen(PASS), &o, &r, &err), 0);
    return r;
}

static int one_key(void *ctx, const char *key, uint64_t size, Err *err)
{
    (void)size;
    (void)err;
    snprintf(ctx, 256, "%s", key);
    return 0;
}

/* The "time" field of the only lock object. */
static long long lock_time(Repo *r, char key[256])
{
    Err err;
    Buf b;
    key[0] = '\0';
    assert_int_equal(sto_list(repo_sto(r), "locks/", one_key, key, &err), 0);
    assert_true(key[0] != '\0');
    buf_init(&b, 4096);
    assert_int_equal(sto_get_all(repo_sto(r), key, &b, &err), 0);
    json_t *j = json_loadb((const char *)b.data, b.len, 0, NULL);
    assert_non_null(j);
    long long t = json_integer_value(json_object_get(j, "time"));
    json_decref(j);
    buf_free(&b);
    return t;
}

static void test_refresh_keeps_lock_live(void **state)
{
    Fx *fx = *state;
    Err err;
    char key[256], old[256];
    Repo *a = open_repo(fx), *b = open_repo(fx);

    assert_int_equal(repo_lock_refresh(a, &err), ERR_INVALID);   /* no lock yet */
    assert_int_equal(repo_lock(a, false, &err), 0);
    assert_true(lock_time(a, key) >= (long long)time(NULL) - 5);

    /* backdate a's lock by an hour: stale, an exclusive taker ignores it */
    snprintf(old, sizeof old, "{\"host\":\"elsewhere\",\"pid\":1,\"time\":%lld,\"exclusive\":false}",
             (long long)time(NULL) - 3600);
    assert_int_equal(sto_put(repo_sto(a), key, old, strlen(old), &err), 0);
    assert_int_equal(repo_lock(b, true, &err), 0);
    assert_int_equal(repo_unlock(b, &err), 0);

    /* refreshed: live again, same object, current time */
    assert_int_equal(repo_lock_refresh(a, &err), 0);
    char key2[256];
    assert_true(lock_time(a, key2) >= (long long)time(NULL) - 5);
    assert_string_equal(key, key2);
    assert_int_equal(repo_lock(b, true, &err), ERR_LOCKED);
    assert_non_null(strstr(err.msg, "repository is locked"));

    assert_int_equal(repo_unlock(a, &err), 0);
    assert_int_equal(repo_lock(b, true, &err), 0);
    repo_free(a);
    repo_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_refresh_keeps_lock_live, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
