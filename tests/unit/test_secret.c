/* test_secret.c: the one secret-file reader (engine/common/secret.c): the
 * content byte for byte with one trailing newline dropped, a missing, empty
 * or oversized file a config error (ERR_INVALID) naming the file and where
 * its name came from, never the content. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/common/secret.h"

static char dir[64];

static const char *put(const char *name, const void *data, size_t len)
{
    static char path[128];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
    chmod(path, 0600);
    return path;
}

static void expect_secret(const char *content, size_t clen, const char *want, size_t wlen)
{
    char *s = NULL;
    size_t n = 0;
    Err err;
    err_clear(&err);
    if (secret_file_read(put("s", content, clen), "db_password_file", &s, &n, &err) != 0)
        fail_msg("refused: %s", err.msg);
    assert_int_equal(n, wlen);
    assert_memory_equal(s, want, wlen);
    assert_int_equal(s[n], '\0');
    secret_free(s);
}

static void test_one_trailing_newline_dropped(void **state)
{
    (void)state;
    expect_secret("pw\n", 3, "pw", 2);
    expect_secret("pw\r\n", 4, "pw", 2);
    expect_secret("pw", 2, "pw", 2);
    expect_secret("pw\n\n", 4, "pw\n", 3);          /* only one */
    expect_secret(" p w \n", 6, " p w ", 5);        /* blanks are part of it */
}

static void expect_refused(const char *path, const char *what, const char *frag)
{
    char *s = NULL;
    Err err;
    err_clear(&err);
    assert_int_equal(secret_file_read(path, what, &s, NULL, &err), ERR_INVALID);
    assert_null(s);
    if (!strstr(err.msg, frag)) fail_msg("message '%s' lacks '%s'", err.msg, frag);
}

static void test_missing_empty_long_refused(void **state)
{
    char big[SECRET_MAX + 1], want[160];
    (void)state;
    snprintf(want, sizeof want, "--password-file %s/nope: No such file", dir);
    snprintf(big, sizeof big, "%s/nope", dir);
    expect_refused(big, "--password-file", want);
    expect_refused(put("e", "", 0), "password_file", "is empty");
    expect_refused(put("n", "\n", 1), "password_file", "is empty");
    memset(big, 'x', sizeof big);
    expect_refused(put("l", big, sizeof big), "s3_secret_access_key_file", "longer than 4096 bytes");
    expect_secret(big, SECRET_MAX, big, SECRET_MAX);   /* exactly the limit is fine */
}

static void test_secret_dup(void **state)
{
    char *s = secret_dup("abc");
    (void)state;
    assert_string_equal(s, "abc");
    secret_free(s);
    secret_free(NULL);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/tm-secret.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_one_trailing_newline_dropped),
        cmocka_unit_test(test_missing_empty_long_refused),
        cmocka_unit_test(test_secret_dup),
    };
    return cmocka_run_group_tests(t, setup, teardown);
}
