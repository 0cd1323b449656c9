/* test_conf_errors.c: configuration errors name where the value comes from
 * (file:line, environment variable, command line) and are ERR_INVALID (exit
 * 2); ranges are checked at load; every error code has a documented exit
 * code (none gives the undocumented 1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/common/conf.h"

static char path[64];

static void write_conf(const char *text)
{
    FILE *f;
    snprintf(path, sizeof path, "/tmp/test_conf_errors.%d.conf", (int)getpid());
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void expect_msg(const Err *err, const char *frag)
{
    if (!strstr(err->msg, frag)) fail_msg("message '%s' lacks '%s'", err->msg, frag);
}

static void test_range_in_file_names_line(void **state)
{
    Conf *c = NULL;
    Err err;
    char want[128];
    (void)state;
    err_clear(&err);
    write_conf("[repository]\nurl = /x\n\ncompression_level = 99\n");
    assert_int_equal(conf_load(path, true, &c, &err), ERR_INVALID);
    snprintf(want, sizeof want, "%s:4: compression_level = 99 is out of range: expected 0..19", path);
    expect_msg(&err, want);
    write_conf("[repository]\npack_size = 512K\n");
    assert_int_equal(conf_load(path, true, &c, &err), ERR_INVALID);
    expect_msg(&err, ":2: pack_size = 512K is out of range: expected 1M..256M");
    write_conf("[repository]\nworkers = 64\ncompression_level = 0\npack_size = 256M\n");
    assert_int_equal(conf_load(path, true, &c, &err), 0);   /* the bounds themselves are fine */
    conf_free(c);
    unlink(path);
}

static void test_environment_checked_at_load(void **state)
{
    Conf *c = NULL;
    Err err;
    (void)state;
    err_clear(&err);
    write_conf("[repository]\nurl = /x\n");
    setenv("TIDEMARK_WORKERS", "65", 1);
    assert_int_equal(conf_load(path, true, &c, &err), ERR_INVALID);
    expect_msg(&err, "environment variable TIDEMARK_WORKERS (workers): 65 is out of range: expected 1..64");
    setenv("TIDEMARK_WORKERS", "four", 1);
    assert_int_equal(conf_load(path, true, &c, &err), ERR_INVALID);
    expect_msg(&err, "environment variable TIDEMARK_WORKERS (workers): bad value 'four'");
    unsetenv("TIDEMARK_WORKERS");
    setenv("TIDEMARK_LOAD_THREADS", "2x", 1);   /* an instance key: TIDEMARK_<KEY> */
    assert_int_equal(conf_load(path, true, &c, &err), ERR_INVALID);
    expect_msg(&err, "environment variable TIDEMARK_LOAD_THREADS (load_threads)");
    unsetenv("TIDEMARK_LOAD_THREADS");
    assert_int_equal(conf_load(path, true, &c, &err), 0);
    conf_free(c);
    unlink(path);
}

static void test_blame_names_the_origin(void **state)
{
    Conf *c = NULL;
    Err err;
    char want[128];
    (void)state;
    write_conf("[repository]\nurl = /x\n# a comment\npassword_file = /nonexistent/pw\n");
    err_clear(&err);
    assert_int_equal(conf_load(path, true, &c, &err), 0);
    err_set(&err, ERR_NOTFOUND, "password file /nonexistent/pw: No such file or directory");
    assert_int_equal(conf_blame(c, NULL, "password_file", &err), ERR_INVALID);
    assert_int_equal(err.code, ERR_INVALID);
    snprintf(want, sizeof want, "%s:4: password_file: password file /nonexistent/pw", path);
    expect_msg(&err, want);

    setenv("TIDEMARK_PASSWORD_FILE", "/elsewhere", 1);
    err_set(&err, ERR_NOTFOUND, "gone");
    conf_blame(c, NULL, "password_file", &err);
    expect_msg(&err, "environment variable TIDEMARK_PASSWORD_FILE (password_file): gone");
    unsetenv("TIDEMARK_PASSWORD_FILE");

    assert_int_equal(conf_set(c, NULL, "url", "/y", &err), 0);
    err_set(&err, ERR_NOTFOUND, "no repository");
    conf_blame(c, NULL, "url", &err);
    expect_msg(&err, "the command line (url): no repository");
    conf_free(c);
    unlink(path);
}

static void test_missing_config_is_a_config_error(void **state)
{
    Conf *c = NULL;
    Err err;
    (void)state;
    err_clear(&err);
    assert_int_equal(conf_load("/nonexistent/tidemark.conf", true, &c, &err), ERR_INVALID);
    expect_msg(&err, "config /nonexistent/tidemark.conf");
    assert_int_equal(conf_load("/nonexistent/tidemark.conf", false, &c, &err), 0);
    conf_free(c);
}

static void test_every_code_has_a_documented_exit(void **state)
{
    (void)state;
    assert_int_equal(err_exit_code(ERR_OK), 0);
    for (int code = ERR_OK + 1; code < ERR__COUNT; code++) {
        int x = err_exit_code(code);
        if (!((x >= 2 && x <= 8) || x == 130)) fail_msg("%s exits %d: not a documented code", err_code_name(code), x);
    }
    assert_int_equal(err_exit_code(ERR_EXISTS), 2);
    assert_int_equal(err_exit_code(ERR_PERM), 2);
    assert_int_equal(err_exit_code(ERR_IO), 4);
    assert_int_equal(err_exit_code(ERR_NOMEM), 7);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_range_in_file_names_line),
        cmocka_unit_test(test_environment_checked_at_load),
        cmocka_unit_test(test_blame_names_the_origin),
        cmocka_unit_test(test_missing_config_is_a_config_error),
        cmocka_unit_test(test_every_code_has_a_documented_exit),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
