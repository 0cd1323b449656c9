/* test_conf_list.c: list values of the config file (databases, extra_paths):
 * the old comma/whitespace form keeps its meaning, quoted names may hold
 * spaces, commas and their own quote (doubled), bad quoting is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine/common/conf.h"

/* Parse value as instance i's databases; returns the code, list in *out. */
static int parse(const char *value, char ***out, size_t *n, Err *err)
{
    Conf *c = NULL;
    int rc;
    err_clear(err);
    assert_int_equal(conf_new_empty(&c, err), 0);
    assert_int_equal(conf_set(c, "i", "databases", value, err), 0);
    rc = conf_get_list(c, "i", "databases", out, n, err);
    conf_free(c);
    return rc;
}

static void expect_list(const char *value, const char *const *want)
{
    char **l = NULL;
    size_t n = 0, k = 0;
    Err err;
    if (parse(value, &l, &n, &err)) fail_msg("'%s' refused: %s", value, err.msg);
    while (want[k]) k++;
    if (n != k) fail_msg("'%s': %zu names, expected %zu", value, n, k);
    for (size_t i = 0; i < n; i++)
        if (strcmp(l[i], want[i])) fail_msg("'%s': name %zu is '%s', expected '%s'", value, i, l[i], want[i]);
    assert_null(l[n]);
    conf_list_free(l);
}

static void test_old_forms_keep_their_meaning(void **state)
{
    (void)state;
    expect_list("dolibarr", (const char *const[]){"dolibarr", NULL});
    expect_list("a,b c\td ,, e", (const char *const[]){"a", "b", "c", "d", "e", NULL});
    expect_list("  ", (const char *const[]){NULL});
    expect_list("ab`c d", (const char *const[]){"ab`c", "d", NULL});   /* a quote inside: as before */
}

static void test_quoted_names_hold_spaces_commas_and_quotes(void **state)
{
    (void)state;
    expect_list("\"my shop\", erp", (const char *const[]){"my shop", "erp", NULL});
    expect_list("`my shop`,`a,b`", (const char *const[]){"my shop", "a,b", NULL});
    expect_list("\"say \"\"hi\"\"\" `x``y` 'q'", (const char *const[]){"say \"hi\"", "x`y", "'q'", NULL});
    expect_list("\"é ü ✓\"\t\"tab\there\"", (const char *const[]){"é ü ✓", "tab\there", NULL});
}

static void expect_refused(const char *value, const char *frag)
{
    char **l = NULL;
    Err err;
    assert_int_equal(parse(value, &l, NULL, &err), ERR_INVALID);
    if (!strstr(err.msg, frag)) fail_msg("'%s': message \"%s\" lacks \"%s\"", value, err.msg, frag);
    assert_non_null(strstr(err.msg, "'databases'"));
}

static void test_bad_quoting_is_refused(void **state)
{
    (void)state;
    expect_refused("\"my shop", "not closed");
    expect_refused("erp, `a``", "not closed");
    expect_refused("\"\"", "empty quoted name");
    expect_refused("\"my\"shop", "right after the quoted name");
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_old_forms_keep_their_meaning),
        cmocka_unit_test(test_quoted_names_hold_spaces_commas_and_quotes),
        cmocka_unit_test(test_bad_quoting_is_refused),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
