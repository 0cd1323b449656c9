/* test_sto_local.c: the local storage driver through the sto_* wrappers:
 * objects, ranges, listing, modes, key checks, opening by URL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "storage-backends/local/local.h"
#include "storage-backends/storage.h"
#include "tests/support/tst_util.h"

typedef struct Fx {
    char *dir;
    Sto *sto;
} Fx;

static int setup(void **state)
{
    Fx *fx = calloc(1, sizeof *fx);
    Err err;
    umask(0);   /* the driver must set the modes itself, not rely on the umask */
    fx->dir = tst_tempdir("stolocal");
    if (sto_local_open(fx->dir, 0, &fx->sto, &err) != 0) return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    Fx *fx = *state;
    sto_close(fx->sto);
    tst_rmtree(fx->dir);
    free(fx->dir);
    free(fx);
    umask(022);
    return 0;
}

static void put(Sto *s, const char *key, const char *data)
{
    Err err;
    err_clear(&err);
    if (sto_put(s, key, data, strlen(data), &err) != 0) fail_msg("put %s: %s", key, err.msg);
}

static void expect_content(Sto *s, const char *key, const char *data)
{
    Buf b;
    Err err;
    buf_init(&b, 0);
    if (sto_get_all(s, key, &b, &err) != 0) fail_msg("get %s: %s", key, err.msg);
    assert_int_equal(b.len, strlen(data));
    assert_memory_equal(b.data, data, b.len);
    buf_free(&b);
}

static void test_put_get_stat_del(void **state)
{
    Fx *fx = *state;
    Sto *s = fx->sto;
    Err err;
    StoStat st;
    int exists = -1;
    Buf b;

    put(s, "config", "hello");
    put(s, "packs/ab/abcdef", "pack bytes");
    put(s, "empty", "");
    expect_content(s, "config", "hello");
    expect_content(s, "packs/ab/abcdef", "pack bytes");
    expect_content(s, "empty", "");
    /* get appends to what the buffer holds. */
    buf_init(&b, 0);
    assert_int_equal(buf_append(&b, "xx", 2, &err), 0);
    assert_int_equal(sto_get_all(s, "config", &b, &err), 0);
    assert_int_equal(b.len, 7);
    assert_memory_equal(b.data, "xxhello", 7);
    buf_free(&b);
    /* stat */
    assert_int_equal(sto_stat(s, "packs/ab/abcdef", &st, &err), 0);
    assert_int_equal(st.size, 10);
    assert_true(st.mtime > 0);
    assert_int_equal(sto_exists(s, "config", &exists, &err), 0);
    assert_int_equal(exists, 1);
    assert_int_equal(sto_exists(s, "nope", &exists, &err), 0);
    assert_int_equal(exists, 0);
    /* overwrite (locks/ objects are rewritten) */
    put(s, "locks/l1", "one");
    put(s, "locks/l1", "two!");
    expect_content(s, "locks/l1", "two!");
    /* del, and del of a missing key is fine */
    assert_int_equal(sto_del(s, "config", &err), 0);
    assert_int_equal(sto_del(s, "config", &err), 0);
    assert_int_equal(sto_exists(s, "config", &exists, &err), 0);
    assert_int_equal(exists, 0);
    const char *keys[] = {"empty", "locks/l1", "missing"};
    assert_int_equal(sto_del_many(s, keys, 3, &err), 0);
    assert_int_equal(sto_exists(s, "locks/l1", &exists, &err), 0);
    assert_int_equal(exists, 0);
}

static void expect_range(Sto *s, const char *key, uint64_t off, size_t len, const char *want)
{
    Buf b;
    Err err;
    buf_init(&b, 0);
    if (sto_get(s, key, off, len, &b, &err) != 0) fail_msg("get %s: %s", key, err.msg);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    buf_free(&b);
}

static void expect_range_error(Sto *s, const char *key, uint64_t off, size_t len, int code)
{
    Buf b;
    Err err;
    buf_init(&b, 0);
    err_clear(&err);
    assert_int_equal(sto_get(s, key, off, len, &b, &err), code);
    assert_non_null(strstr(err.msg, key));
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

static void test_range_get(void **state)
{
    Fx *fx = *state;
    Sto *s = fx->sto;
    assert_true(s->ops->features & STO_FEAT_RANGE_GET);
    put(s, "r", "0123456789");
    expect_range(s, "r", 0, 3, "012");
    expect_range(s, "r", 4, 6, "456789");
    expect_range(s, "r", 7, STO_LEN_ALL, "789");
    expect_range(s, "r", 10, 0, "");
    expect_range(s, "r", 10, STO_LEN_ALL, "");
    /* storage.h: a range past the end is ERR_INVALID (was ERR_CORRUPT). */
    expect_range_error(s, "r", 8, 3, ERR_INVALID);
    expect_range_error(s, "r", 11, STO_LEN_ALL, ERR_INVALID);
    expect_range_error(s, "r", 11, 1, ERR_INVALID);
    /* off + len wrapping around must not pass the check. */
    expect_range_error(s, "r", 5, SIZE_MAX - 2, ERR_INVALID);
}

static void test_missing_key_is_notfound(void **state)
{
    Fx *fx = *state;
    Sto *s = fx->sto;
    Err err;
    Buf b;
    StoStat st;
    buf_init(&b, 0);
    err_clear(&err);
    assert_int_equal(sto_get_all(s, "snapshots/none", &b, &err), ERR_NOTFOUND);
    assert_non_null(strstr(err.msg, "snapshots/none"));
    assert_int_equal(sto_get(s, "none", 2, 3, &b, &err), ERR_NOTFOUND);
    assert_int_equal(sto_stat(s, "none", &st, &err), ERR_NOTFOUND);
    /* A directory is not an object; nor is a path through a file. */
    put(s, "dir/obj", "x");
    put(s, "file", "x");
    assert_int_equal(sto_stat(s, "dir", &st, &err), ERR_NOTFOUND);
    err_clear(&err);
    assert_int_equal(sto_get_all(s, "dir", &b, &err), ERR_NOTFOUND);
    assert_int_equal(sto_get_all(s, "file/sub", &b, &err), ERR_NOTFOUND);
    assert_int_equal(sto_stat(s, "file/sub", &st, &err), ERR_NOTFOUND);
    buf_free(&b);
}

static void test_modes_0600_files_0700_dirs(void **state)
{
    Fx *fx = *state;
    char path[4096];
    struct stat st;
    put(fx->sto, "packs/ab/obj", "x");
    put(fx->sto, "top", "x");
    snprintf(path, sizeof path, "%s/packs/ab/obj", fx->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    snprintf(path, sizeof path, "%s/top", fx->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    snprintf(path, sizeof path, "%s/packs", fx->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    snprintf(path, sizeof path, "%s/packs/ab", fx->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
}

typedef struct Listed {
    char *keys[64];
    uint64_t sizes[64];
    size_t n;
    size_t stop_after;   /* 0: never */
} Listed;

static int collect(void *ctx, const char *key, uint64_t size, Err *err)
{
    Listed *l = ctx;
    (void)err;
    assert_true(l->n < 64);
    l->sizes[l->n] = size;
    l->keys[l->n++] = strdup(key);
    return l->stop_after && l->n >= l->stop_after ? 42 : 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* List prefix and compare with the expected keys, in any order. */
static void expect_list(Sto *s, const char *prefix, const char *const *want, size_t n)
{
    Listed l = {0};
    Err err;
    err_clear(&err);
    if (sto_list(s, prefix, collect, &l, &err) != 0) fail_msg("list %s: %s", prefix, err.msg);
    qsort(l.keys, l.n, sizeof l.keys[0], cmp_str);
    for (size_t i = 0; i < l.n && i < n; i++) assert_string_equal(l.keys[i], want[i]);
    assert_int_equal(l.n, n);
    for (size_t i = 0; i < l.n; i++) free(l.keys[i]);
}

static void test_list_with_prefix_skips_temp_files(void **state)
{
    Fx *fx = *state;
    Sto *s = fx->sto;
    char path[4096];
    FILE *f;
    const char *all[] = {"a", "ab/c", "ab/d", "abc", "b/x", "snapshots/1", "snapshots/2"};
    for (size_t i = 0; i < 7; i++) put(s, all[i], all[i]);
    /* Leftovers of crashed puts. */
    snprintf(path, sizeof path, "%s/ab/e.tmp-123-4", fx->dir);
    assert_non_null(f = fopen(path, "w"));
    fclose(f);
    snprintf(path, sizeof path, "%s/snapshots/3.tmp-99-0", fx->dir);
    assert_non_null(f = fopen(path, "w"));
    fclose(f);

    expect_list(s, "", all, 7);
    expect_list(s, NULL, all, 7);
    expect_list(s, "ab", (const char *const[]){"ab/c", "ab/d", "abc"}, 3);
    expect_list(s, "ab/", (const char *const[]){"ab/c", "ab/d"}, 2);
    expect_list(s, "snapshots/", (const char *const[]){"snapshots/1", "snapshots/2"}, 2);
    expect_list(s, "snapshots/2", (const char *const[]){"snapshots/2"}, 1);
    expect_list(s, "zzz", NULL, 0);
    expect_list(s, "a", (const char *const[]){"a", "ab/c", "ab/d", "abc"}, 4);

    /* Sizes are reported; a non-zero callback result stops the listing. */
    Listed l = {.stop_after = 2};
    Err err;
    err_clear(&err);
    assert_int_equal(sto_list(s, "", collect, &l, &err), 42);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.sizes[0], strlen(l.keys[0]));
    for (size_t i = 0; i < l.n; i++) free(l.keys[i]);
    assert_int_equal(sto_list(s, "../", collect, &l, &err), ERR_INVALID);
}

/* A crashed put's temp file: a listing removes it once it is an hour old
 * (issue 10: a killed backup's partial pack was never cleaned), and leaves
 * a recent one (a put may be writing it) alone. */
static void test_list_removes_stale_temp_files_only(void **state)
{
    Fx *fx = *state;
    Sto *s = fx->sto;
    char stale[4096], fresh[4096];
    FILE *f;
    struct timespec old[2];
    put(s, "packs/ab/p1", "x");
    snprintf(stale, sizeof stale, "%s/packs/ab/p2.tmp-123-4", fx->dir);
    snprintf(fresh, sizeof fresh, "%s/packs/ab/p3.tmp-124-0", fx->dir);
    assert_non_null(f = fopen(stale, "w"));
    fclose(f);
    assert_non_null(f = fopen(fresh, "w"));
    fclose(f);
    old[0].tv_sec = old[1].tv_sec = time(NULL) - 2 * 3600;
    old[0].tv_nsec = old[1].tv_nsec = 0;
    assert_int_equal(utimensat(AT_FDCWD, stale, old, 0), 0);

    expect_list(s, "packs/", (const char *const[]){"packs/ab/p1"}, 1);
    assert_int_equal(access(stale, F_OK), -1);
    assert_int_equal(access(fresh, F_OK), 0);
}

/* Listing inside a listing callback (or from another thread) must not
 * disturb the outer listing. The root listing used dup(rootfd), which
 * shares the file offset, so an inner listing of the root made the outer
 * one stop early once the directory outgrew readdir's buffer. */
typedef struct Nested {
    Sto *sto;
    size_t outer, inner;
} Nested;

static int count_inner(void *ctx, const char *key, uint64_t size, Err *err)
{
    (void)key; (void)size; (void)err;
    ((Nested *)ctx)->inner++;
    return 0;
}

static int count_outer(void *ctx, const char *key, uint64_t size, Err *err)
{
    Nested *n = ctx;
    (void)key; (void)size;
    if (n->outer++ == 0) {
        int rc = sto_list(n->sto, "", count_inner, n, err);
        if (rc) return rc;
    }
    return 0;
}

static void test_nested_list_of_root_sees_every_key(void **state)
{
    Fx *fx = *state;
    Err err;
    char key[64];
    const size_t n = 1500;   /* > one getdents buffer of names */
    for (size_t i = 0; i < n; i++) {
        snprintf(key, sizeof key, "object-with-a-longish-name-%06zu", i);
        assert_int_equal(sto_put(fx->sto, key, "x", 1, &err), 0);
    }
    Nested nc = {.sto = fx->sto};
    assert_int_equal(sto_list(fx->sto, "", count_outer, &nc, &err), 0);
    assert_int_equal(nc.inner, n);
    assert_int_equal(nc.outer, n);
}

static void test_invalid_keys_refused(void **state)
{
    Fx *fx = *state;
    Sto *s = fx->sto;
    Err err;
    Buf b;
    StoStat st;
    const char *bad[] = {"../x", "/abs", "a//b", "", "a/", "x/../y", "..", "a b", "a\\b", "k\n"};
    buf_init(&b, 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err_clear(&err);
        assert_int_equal(sto_put(s, bad[i], "x", 1, &err), ERR_INVALID);
        assert_non_null(strstr(err.msg, "storage key"));
        assert_int_equal(sto_get_all(s, bad[i], &b, &err), ERR_INVALID);
        assert_int_equal(sto_stat(s, bad[i], &st, &err), ERR_INVALID);
        assert_int_equal(sto_del(s, bad[i], &err), ERR_INVALID);
    }
    assert_int_equal(sto_put(s, NULL, "x", 1, &err), ERR_INVALID);
    buf_free(&b);
    /* Nothing escaped the repository. */
    char path[4096];
    snprintf(path, sizeof path, "%s/../x", fx->dir);
    assert_int_not_equal(access(path, F_OK), 0);
    expect_list(s, "", NULL, 0);
}

static void test_open_url_missing_create_and_errors(void **state)
{
    Fx *fx = *state;
    char path[4096], url[4200];
    Sto *s = NULL;
    Err err;
    struct stat st;

    snprintf(path, sizeof path, "%s/new/repo", fx->dir);
    err_clear(&err);
    assert_int_equal(sto_open_url(path, 0, &s, &err), ERR_NOTFOUND);
    assert_non_null(strstr(err.msg, path));
    assert_null(s);
    assert_int_not_equal(stat(path, &st), 0);   /* not created */

    snprintf(url, sizeof url, "local:%s", path);
    assert_int_equal(sto_open_url(url, STO_OPEN_CREATE, &s, &err), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_string_equal(s->ops->kind, "local");
    put(s, "k", "v");
    sto_close(s);
    s = NULL;
    assert_int_equal(sto_open_url(path, 0, &s, &err), 0);   /* exists now */
    expect_content(s, "k", "v");
    sto_close(s);
    s = NULL;

    assert_int_equal(sto_open_url("relative/dir", 0, &s, &err), ERR_INVALID);
    assert_int_equal(sto_open_url("", 0, &s, &err), ERR_INVALID);
    snprintf(path, sizeof path, "%s/new/repo/k", fx->dir);   /* a file */
    assert_int_equal(sto_open_url(path, 0, &s, &err), ERR_INVALID);
    assert_non_null(strstr(err.msg, "not a directory"));
    assert_null(s);
    sto_close(NULL);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test_setup_teardown(test_put_get_stat_del, setup, teardown),
        cmocka_unit_test_setup_teardown(test_range_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_key_is_notfound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_modes_0600_files_0700_dirs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_with_prefix_skips_temp_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_removes_stale_temp_files_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nested_list_of_root_sees_every_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_keys_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_url_missing_create_and_errors, setup, teardown),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
