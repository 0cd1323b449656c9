/* test_binlog_catalog.c: catalog loading and compaction over a real local
 * repository: 1,000 entries compacted the way the uploader does it (every
 * N new entries) load from a few objects and give exactly the same chain;
 * the second level merges small compacts; a damaged compact is skipped
 * and its entries are read one by one; a rerun after a crash (same compact
 * already there) is harmless. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/source/binlog/binlog_int.h"
#include "tests/support/tst_util.h"

static const char PASS[] = "correct horse";

typedef struct Fx {
    char *dir;
    Repo *r;
} Fx;

static int setup(void **state)
{
    Fx *fx = calloc(1, sizeof *fx);
    char url[4096];
    Sto *sto;
    Err err;
    RepoOptions o;
    repo_options_default(&o);
    o.kdf = CRY_KDF_FAST;
    /* thousands of small puts: on tmpfs when there is one (fsync is what
     * costs, and durability is not what this test is about) */
    if (access("/dev/shm", W_OK) == 0)
        setenv("TMPDIR", "/dev/shm", 1);
    fx->dir = tst_tempdir("bcat");
    snprintf(url, sizeof url, "%s/r", fx->dir);
    assert_int_equal(sto_open_url(url, STO_OPEN_CREATE, &sto, &err), 0);
    assert_int_equal(repo_init(sto, PASS, strlen(PASS), &o, &err), 0);
    sto_close(sto);
    assert_int_equal(sto_open_url(url, 0, &sto, &err), 0);
    assert_int_equal(repo_open(sto, PASS, strlen(PASS), &o, &fx->r, &err), 0);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    Fx *fx = *state;
    repo_free(fx->r);
    tst_rmtree(fx->dir);
    free(fx->dir);
    free(fx);
    return 0;
}

/* Entry seq of a chain in binlog.000001: 100 bytes each, one trx each. */
static void put_entry(Repo *r, const char *inst, uint64_t seq)
{
    BinlogSegInfo si;
    char key[300];
    Err err;
    memset(&si, 0, sizeof si);
    si.seq = seq;
    si.link = seq == 1 ? BINLOG_LINK_START : BINLOG_LINK_CONTINUE;
    snprintf(si.identity, sizeof si.identity, "db1:3306/1");
    si.server_id = 1;
    snprintf(si.file, sizeof si.file, "binlog.000001");
    si.start = 4 + (seq - 1) * 100;
    si.end = si.start + 100;
    si.size = 100;
    si.first_time = si.last_time = 1700000000 + (int64_t)seq;
    BinlogGtid g = {0, 1, seq};
    binlog_gtid_set_update(&si.gtid_first, &g);
    binlog_gtid_set_update(&si.gtid_last, &g);
    binlog_gtid_set_update(&si.gtid_state, &g);
    si.trx_count = 1;
    si.event_count = 4;
    si.hash[0] = (uint8_t)seq;
    si.last_type = 16;
    json_t *j = binlog_seginfo_to_json(&si);
    char *text = json_dumps(j, JSON_COMPACT);
    binlog_catalog_key(inst, seq, key, sizeof key);
    assert_int_equal(repo_obj_put(r, key, text, strlen(text), &err), 0);
    free(text);
    json_decref(j);
}

/* What the uploader does: after each new entry, compact every `every`. */
static void grow_catalog(Repo *r, const char *inst, uint64_t n, unsigned every)
{
    size_t uncompacted = 0;
    Err err;
    for (uint64_t s = 1; s <= n; s++) {
        put_entry(r, inst, s);
        if (++uncompacted < every)
            continue;
        BinlogCatalog *c = NULL;
        size_t written = 0;
        assert_int_equal(binlog_catalog_load(r, inst, &c, &err), 0);
        assert_int_equal(binlog_catalog_compact(r, inst, c, every, &written, &err), 0);
        assert_true(written >= 1);
        binlog_catalog_free(c);
        uncompacted = 0;
    }
}

static void check_chain(const BinlogCatalog *c, uint64_t n)
{
    Err err;
    assert_int_equal(binlog_catalog_count(c), n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(binlog_catalog_at(c, i)->seq, i + 1);
    assert_int_equal(binlog_catalog_verify(c, &err), 0);
    size_t idx;
    BinlogGtid g = {0, 1, n * 3 / 4};
    assert_int_equal(binlog_catalog_find_gtid(c, &g, &idx, &err), 0);
    assert_int_equal(binlog_catalog_at(c, idx)->seq, n * 3 / 4);
    assert_int_equal(binlog_catalog_find_time(c, 1700000000 + (int64_t)n / 2, &idx, &err), 0);
    assert_int_equal(binlog_catalog_at(c, idx)->seq, n / 2);
}

static void test_thousand_entries_few_objects(void **state)
{
    Fx *fx = *state;
    BinlogCatalog *c = NULL;
    Err err;
    size_t objs, ncmp;
    uint64_t to;

    grow_catalog(fx->r, "a", 1000, 256);
    assert_int_equal(binlog_catalog_load(fx->r, "a", &c, &err), 0);
    binlog_catalog_load_stats(c, &objs, &ncmp, &to);
    check_chain(c, 1000);
    /* compacts 1-256, 257-512, 513-768, then the 232 newest one by one */
    assert_int_equal(ncmp, 3);
    assert_int_equal(to, 768);
    assert_int_equal(objs, 3 + 232);

    /* a rerun (crash after the put, before the caller knew) adds nothing */
    size_t written = 99;
    assert_int_equal(binlog_catalog_compact(fx->r, "a", c, 256, &written, &err), 0);
    assert_int_equal(written, 0);
    binlog_catalog_free(c);
}

static void test_second_level_merge(void **state)
{
    Fx *fx = *state;
    BinlogCatalog *c = NULL;
    Err err;
    size_t objs, ncmp;
    uint64_t to;

    /* every 4: 64 compacts of 4 merge into one of 256 */
    grow_catalog(fx->r, "b", 600, 4);
    assert_int_equal(binlog_catalog_load(fx->r, "b", &c, &err), 0);
    binlog_catalog_load_stats(c, &objs, &ncmp, &to);
    check_chain(c, 600);
    assert_int_equal(to, 600);
    /* 2 merged (1-256, 257-512) + 22 small ones of 4 */
    assert_int_equal(ncmp, 2 + 22);
    assert_int_equal(objs, ncmp);
    binlog_catalog_free(c);
}

static void test_damaged_compact_skipped(void **state)
{
    Fx *fx = *state;
    BinlogCatalog *c = NULL;
    Err err;
    size_t objs, ncmp;
    uint64_t to;
    const char junk[] = "{\"v\":1,\"entries\":42}";

    grow_catalog(fx->r, "c", 600, 256);
    /* a wide compact that does not parse: loading falls back */
    assert_int_equal(repo_obj_put(fx->r, "catalog/c/compact-000000000001-000000000600", junk,
                                  strlen(junk), &err), 0);
    assert_int_equal(binlog_catalog_load(fx->r, "c", &c, &err), 0);
    binlog_catalog_load_stats(c, &objs, &ncmp, &to);
    assert_int_equal(binlog_catalog_count(c), 600);
    assert_int_equal(binlog_catalog_verify(c, &err), 0);
    assert_int_equal(ncmp, 2);
    assert_int_equal(objs, 2 + 88);
    binlog_catalog_free(c);

    /* other instances are not mixed in; an instance with nothing is empty */
    assert_int_equal(binlog_catalog_load(fx->r, "cc", &c, &err), 0);
    assert_int_equal(binlog_catalog_count(c), 0);
    binlog_catalog_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_thousand_entries_few_objects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_level_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_compact_skipped, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
