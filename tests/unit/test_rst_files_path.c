/* test_rst_files_path.c: the restore path checks (a manifest is untrusted)
 * and include selection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "restore/files/rst_files.h"

static void expect_unsafe(const char *path, const char *why)
{
    Err err;
    err_clear(&err);
    assert_int_equal(rst_files_path_check(path, &err), ERR_CORRUPT);
    if (!strstr(err.msg, why)) fail_msg("message \"%s\" lacks \"%s\"", err.msg, why);
    assert_non_null(strstr(err.msg, "refusing unsafe path"));
}

static void test_unsafe_paths_are_refused(void **state)
{
    (void)state;
    expect_unsafe("", "empty path");
    expect_unsafe("/etc/passwd", "absolute");
    expect_unsafe("../escape", "\"..\"");
    expect_unsafe("a/../../escape", "\"..\"");
    expect_unsafe("a/..", "\"..\"");
    expect_unsafe("a//b", "empty path component");
    expect_unsafe("a/", "empty path component");
    expect_unsafe("./a", "\".\"");
    expect_unsafe("a/./b", "\".\"");
}

static void test_odd_but_safe_paths_pass(void **state)
{
    (void)state;
    Err err;
    static const char *const ok[] = {"a", "docs/a b/c", "..a", "a..", "a/...", ".hidden/x",
                                     "new\nline", "\xff\xfe", "a/.b/c"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        err_clear(&err);
        assert_int_equal(rst_files_path_check(ok[i], &err), 0);
    }
}

static void test_include_selection(void **state)
{
    (void)state;
    const char *inc[] = {"docs/invoices", "conf.php"};
    size_t w = 99;
    assert_int_equal(rst_files_path_select("docs/invoices", inc, 2, &w), RST_SEL_ALL);
    assert_int_equal(w, 0);
    assert_int_equal(rst_files_path_select("docs/invoices/2024/a.pdf", inc, 2, NULL), RST_SEL_ALL);
    assert_int_equal(rst_files_path_select("docs", inc, 2, NULL), RST_SEL_PARENT);
    assert_int_equal(rst_files_path_select("docs/invoices2", inc, 2, NULL), RST_SEL_NONE);
    assert_int_equal(rst_files_path_select("docs/invoice", inc, 2, NULL), RST_SEL_NONE);
    assert_int_equal(rst_files_path_select("conf.php", inc, 2, &w), RST_SEL_ALL);
    assert_int_equal(w, 1);
    assert_int_equal(rst_files_path_select("conf.php.bak", inc, 2, NULL), RST_SEL_NONE);
    assert_int_equal(rst_files_path_select("anything", NULL, 0, NULL), RST_SEL_ALL);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_unsafe_paths_are_refused),
        cmocka_unit_test(test_odd_but_safe_paths_pass),
        cmocka_unit_test(test_include_selection),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
