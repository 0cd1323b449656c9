/* test_dol_verify.c: the pure parts of the Dolibarr checks
 * (restore/dolibarr): where a document of an entity lives, refusals of
 * paths that would leave the data root, the streamed md5 (known answers),
 * the label comparison, and the report's JSON and text forms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "restore/dolibarr/rst_dolibarr.h"

static void test_entity_root_is_data_root_or_its_numbered_dir(void **state)
{
    char out[256];
    Err err = {0};
    (void)state;
    assert_int_equal(rst_dol_entity_root("/srv/docs", 1, out, sizeof out, &err), 0);
    assert_string_equal(out, "/srv/docs");
    assert_int_equal(rst_dol_entity_root("/srv/docs/", 0, out, sizeof out, &err), 0);
    assert_string_equal(out, "/srv/docs");
    assert_int_equal(rst_dol_entity_root("/srv/docs", 2, out, sizeof out, &err), 0);
    assert_string_equal(out, "/srv/docs/2");
    assert_int_equal(rst_dol_entity_root("/srv/docs", 12, out, 8, &err), ERR_INVALID);
    assert_non_null(strstr(err.msg, "too long"));
}

static void test_ecm_path_per_entity(void **state)
{
    char out[256];
    Err err = {0};
    (void)state;
    /* entity 1: relative to DOL_DATA_ROOT */
    assert_int_equal(rst_dol_ecm_path("/d", 1, "facture/FA1", "FA1.pdf", out, sizeof out, &err), 0);
    assert_string_equal(out, "/d/facture/FA1/FA1.pdf");
    /* entity 2 as Dolibarr writes it: filepath already "2/..." */
    assert_int_equal(rst_dol_ecm_path("/d", 2, "2/facture/FA1", "FA1.pdf", out, sizeof out, &err), 0);
    assert_string_equal(out, "/d/2/facture/FA1/FA1.pdf");
    /* entity 2 relative to its own root: still under /d/2 */
    assert_int_equal(rst_dol_ecm_path("/d", 2, "facture/FA1", "FA1.pdf", out, sizeof out, &err), 0);
    assert_string_equal(out, "/d/2/facture/FA1/FA1.pdf");
    /* "20/..." is not entity 2's prefix */
    assert_int_equal(rst_dol_ecm_path("/d", 2, "20/x", "a", out, sizeof out, &err), 0);
    assert_string_equal(out, "/d/2/20/x/a");
    /* an empty filepath: the file at the root */
    assert_int_equal(rst_dol_ecm_path("/d", 1, "", "a.txt", out, sizeof out, &err), 0);
    assert_string_equal(out, "/d/a.txt");
}

static void test_ecm_path_never_leaves_the_data_root(void **state)
{
    char out[256];
    Err err = {0};
    (void)state;
    assert_int_equal(rst_dol_ecm_path("/d", 1, "/etc", "passwd", out, sizeof out, &err), ERR_INVALID);
    assert_non_null(strstr(err.msg, "leaves the documents directory"));
    assert_int_equal(rst_dol_ecm_path("/d", 1, "facture/../../etc", "passwd", out, sizeof out, &err),
                     ERR_INVALID);
    assert_int_equal(rst_dol_ecm_path("/d", 1, "..", "x", out, sizeof out, &err), ERR_INVALID);
    assert_int_equal(rst_dol_ecm_path("/d", 1, "a", "b/c", out, sizeof out, &err), ERR_INVALID);
    assert_non_null(strstr(err.msg, "not a file name"));
    assert_int_equal(rst_dol_ecm_path("/d", 1, "a", "..", out, sizeof out, &err), ERR_INVALID);
    assert_int_equal(rst_dol_ecm_path("/d", 1, "a", "", out, sizeof out, &err), ERR_INVALID);
    /* dots inside names are fine */
    assert_int_equal(rst_dol_ecm_path("/d", 1, "a..b/..c", "x..pdf", out, sizeof out, &err), 0);
    assert_int_equal(rst_dol_ecm_path("/d", 1, "f", "x.pdf", out, 8, &err), ERR_INVALID);
}

static void write_file(const char *path, const void *p, size_t n, size_t times)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (size_t i = 0; i < times; i++) assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static void test_file_md5_known_answers(void **state)
{
    char dir[] = "/tmp/tm-dolmd5.XXXXXX", path[300], hex[RST_DOL_MD5_HEX + 1];
    char a[1000];
    uint64_t size = 0;
    Err err = {0};
    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/empty", dir);
    write_file(path, "", 0, 0);
    assert_int_equal(rst_dol_file_md5(path, hex, &size, &err), 0);
    assert_string_equal(hex, "d41d8cd98f00b204e9800998ecf8427e");
    assert_int_equal(size, 0);
    snprintf(path, sizeof path, "%s/abc", dir);
    write_file(path, "abc", 3, 1);
    assert_int_equal(rst_dol_file_md5(path, hex, &size, &err), 0);
    assert_string_equal(hex, "900150983cd24fb0d6963f7d28e17f72");
    /* RFC 1321's million 'a': many reads through the fixed buffer */
    memset(a, 'a', sizeof a);
    snprintf(path, sizeof path, "%s/million", dir);
    write_file(path, a, sizeof a, 1000);
    assert_int_equal(rst_dol_file_md5(path, hex, &size, &err), 0);
    assert_string_equal(hex, "7707d6ae4e027c70eea2a935c2296f21");
    assert_int_equal(size, 1000000);
    unlink(path);
    assert_int_equal(rst_dol_file_md5(path, hex, NULL, &err), ERR_NOTFOUND);
    assert_non_null(strstr(err.msg, "million"));
    assert_int_equal(rst_dol_file_md5(dir, hex, NULL, &err), ERR_INVALID);
    assert_non_null(strstr(err.msg, "not a regular file"));
    snprintf(path, sizeof path, "%s/abc", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/empty", dir);
    unlink(path);
    rmdir(dir);
}

static void test_md5_label_comparison(void **state)
{
    (void)state;
    assert_true(rst_dol_md5_equal("900150983cd24fb0d6963f7d28e17f72", "900150983CD24FB0D6963F7D28E17F72"));
    assert_false(rst_dol_md5_equal("900150983cd24fb0d6963f7d28e17f72", "900150983cd24fb0d6963f7d28e17f73"));
    assert_false(rst_dol_md5_equal("900150983cd24fb0d6963f7d28e17f72", ""));
    assert_false(rst_dol_md5_equal("900150983cd24fb0d6963f7d28e17f72", "900150983cd24fb0d6963f7d28e17f7"));
    assert_false(rst_dol_md5_valid("invoice FA2609-0001"));
    assert_false(rst_dol_md5_valid(NULL));
    assert_true(rst_dol_md5_valid("d41d8cd98f00b204e9800998ecf8427e"));
    assert_false(rst_dol_md5_valid("g41d8cd98f00b204e9800998ecf8427e"));
}

/* A report as rst_dol_verify leaves it after an altered document. */
static void fill_report(RstDolReport *r)
{
    static const char *names[RST_DOL_CHECKS] = {"version", "admin", "ecm_files", "logos",
                                                "install_lock"};
    memset(r, 0, sizeof *r);
    r->database = strdup("dolibarr");
    r->data_root = strdup("/d");
    r->db_prefix = strdup("llx_");
    r->versions.first_install = strdup("23.0.0-beta");
    r->versions.last_install = strdup("23.0.0-beta");
    for (int i = 0; i < RST_DOL_CHECKS; i++) {
        r->checks[i].name = names[i];
        r->checks[i].ran = r->checks[i].passed = true;
        r->checks[i].checked = 1;
    }
    RstDolCheck *ck = &r->checks[RST_DOL_CHECK_ECM];
    ck->passed = false;
    ck->checked = 114;
    ck->failed = RST_DOL_OFFENDERS_MAX + 2;
    ck->detail = strdup("12 of 114 files missing or altered");
    for (size_t k = 0; k < RST_DOL_OFFENDERS_MAX; k++) {
        char s[64];
        snprintf(s, sizeof s, "facture/FA%zu/FA%zu.pdf: missing", k, k);
        ck->offenders[ck->noffenders++] = strdup(s);
    }
    r->entities = calloc(2, sizeof *r->entities);
    r->entities[0] = (RstDolEntity){.entity = 1, .files = 110, .failed = 12};
    r->entities[1] = (RstDolEntity){.entity = 2, .files = 4, .failed = 0};
    r->nentities = 2;
    r->tables = calloc(1, sizeof *r->tables);
    r->tables[0] = (RstDolTableCount){.name = strdup("llx_facture"), .rows = 50};
    r->ntables = 1;
    r->rows_total = 50;
}

static void test_report_json_names_the_failed_check(void **state)
{
    RstDolReport r;
    (void)state;
    fill_report(&r);
    json_t *j = rst_dol_report_json(&r);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "verdict")), "failed");
    json_t *failed = json_object_get(j, "failed");
    assert_int_equal(json_array_size(failed), 1);
    assert_string_equal(json_string_value(json_array_get(failed, 0)), "ecm_files");
    json_t *ecm = json_array_get(json_object_get(j, "checks"), RST_DOL_CHECK_ECM);
    assert_string_equal(json_string_value(json_object_get(ecm, "status")), "failed");
    assert_int_equal(json_integer_value(json_object_get(ecm, "failed")), RST_DOL_OFFENDERS_MAX + 2);
    assert_int_equal(json_array_size(json_object_get(ecm, "offenders")), RST_DOL_OFFENDERS_MAX);
    assert_string_equal(json_string_value(json_array_get(json_object_get(ecm, "offenders"), 0)),
                        "facture/FA0/FA0.pdf: missing");
    json_t *v = json_object_get(j, "version");
    assert_string_equal(json_string_value(json_object_get(v, "effective")), "23.0.0-beta");
    assert_true(json_is_null(json_object_get(v, "last_upgrade")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "tables"), "llx_facture")), 50);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(j, "entities"), 1),
                                                        "entity")), 2);
    json_decref(j);
    /* every check passed: verified, nothing failed */
    r.checks[RST_DOL_CHECK_ECM].passed = true;
    j = rst_dol_report_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "verdict")), "verified");
    assert_int_equal(json_array_size(json_object_get(j, "failed")), 0);
    json_decref(j);
    /* a check that did not run is no pass */
    r.checks[RST_DOL_CHECK_LOGOS].ran = false;
    j = rst_dol_report_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "verdict")), "failed");
    json_t *logos = json_array_get(json_object_get(j, "checks"), RST_DOL_CHECK_LOGOS);
    assert_string_equal(json_string_value(json_object_get(logos, "status")), "not run");
    json_decref(j);
    rst_dol_report_free(&r);
    assert_null(r.database);
}

static void test_report_text_lists_offenders_and_the_rest(void **state)
{
    RstDolReport r;
    char *text = NULL;
    size_t len = 0;
    (void)state;
    fill_report(&r);
    FILE *f = open_memstream(&text, &len);
    rst_dol_report_print(&r, f);
    fclose(f);
    assert_non_null(strstr(text, "ecm_files     FAILED  12 of 114 files missing or altered"));
    assert_non_null(strstr(text, "      facture/FA9/FA9.pdf: missing\n"));
    assert_non_null(strstr(text, "... and 2 more"));
    assert_non_null(strstr(text, "entity 2: 4 files, 0 failed"));
    assert_non_null(strstr(text, "verdict: FAILED"));
    free(text);
    rst_dol_report_free(&r);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_entity_root_is_data_root_or_its_numbered_dir),
        cmocka_unit_test(test_ecm_path_per_entity),
        cmocka_unit_test(test_ecm_path_never_leaves_the_data_root),
        cmocka_unit_test(test_file_md5_known_answers),
        cmocka_unit_test(test_md5_label_comparison),
        cmocka_unit_test(test_report_json_names_the_failed_check),
        cmocka_unit_test(test_report_text_lists_offenders_and_the_rest),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
