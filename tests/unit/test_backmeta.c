/* test_backmeta.c: the Dolibarr version constants an instance snapshot
 * records (manifest "dolibarr", docs/FORMAT.md) read back as verify
 * instance --snapshot's expectation; a manifest made before they were
 * recorded (no "dolibarr", no "files_window") reads as "not recorded". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine/instance/inst.h"

static json_t *manifest(const char *text)
{
    json_error_t je;
    json_t *m = json_loads(text, 0, &je);
    assert_non_null(m);
    return m;
}

static void test_recorded_constants_are_the_expectation(void **state)
{
    (void)state;
    json_t *m = manifest("{\"version\":1,\"instance\":\"shop\",\"items\":[],"
                         "\"dolibarr\":{\"database\":\"dolibarr\",\"prefix\":\"llx_\","
                         "\"first_install\":\"22.0.2\",\"last_install\":\"23.0.0-beta\","
                         "\"last_upgrade\":null}}");
    InstDolVersions v;
    assert_int_equal(inst_snapshot_dol_versions(m, &v), 0);
    assert_string_equal(v.first_install, "22.0.2");
    assert_string_equal(v.last_install, "23.0.0-beta");
    assert_string_equal(v.last_upgrade, "");   /* absent at backup: must stay absent */
    assert_string_equal(v.database, "dolibarr");
    assert_string_equal(v.prefix, "llx_");
    json_decref(m);
}

static void test_old_manifest_records_nothing(void **state)
{
    (void)state;   /* a version 1 manifest as tidemark wrote it before issue 12 */
    json_t *m = manifest("{\"version\":1,\"time\":\"2026-11-21T02:00:04.518202Z\",\"host\":\"erp1\","
                         "\"instance\":\"dolibarr\",\"tags\":[\"nightly\"],\"items\":["
                         "{\"kind\":\"mariadb\",\"binlog\":{\"file\":\"binlog.000042\","
                         "\"position\":18478022,\"gtid\":\"0-1-10778\"}}]}");
    InstDolVersions v;
    memset(&v, 0x55, sizeof v);
    assert_int_equal(inst_snapshot_dol_versions(m, &v), ERR_NOTFOUND);
    assert_null(v.first_install);
    assert_null(v.database);
    json_decref(m);
}

static void test_wrong_shape_records_nothing(void **state)
{
    (void)state;   /* a "dolibarr" that is not an object is not an expectation */
    json_t *m = manifest("{\"version\":1,\"items\":[],\"dolibarr\":\"23.0.0\"}");
    InstDolVersions v;
    assert_int_equal(inst_snapshot_dol_versions(m, &v), ERR_NOTFOUND);
    json_decref(m);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_recorded_constants_are_the_expectation),
        cmocka_unit_test(test_old_manifest_records_nothing),
        cmocka_unit_test(test_wrong_shape_records_nothing),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
