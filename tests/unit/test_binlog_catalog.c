/* test_binlog_catalog.c: catalog loading and compaction over a real local
 * repository: 1,000 entries compacted the way the uploader does it (every
 * N new entries) load from a few objects and give exactly the same chain;
 * the second level merges small compacts; a damaged compact is skipped
 * and its entries are read one by one; a rerun after a crash (same compact
 * already there) is harmless; a compact and an entry larger than 1 MiB (a
 * day of segments merged; one segment of a huge transaction) load. */
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
#include "tests/support/tst_catalog.h"
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

static void put_entry(Repo *r, const char *inst, uint64_t seq)
{
    tst_catalog_entry_put(r, inst, seq, 0, 0);
}

/* What the uploader does: after each new entry, compact every `every`. */
static void grow_catalog_shaped(Repo *r, const char *inst, uint64_t n, unsigned every,
                                size_t fd_len, size_t nchunks)
{
    size_t uncompacted = 0;
    Err err;
    for (uint64_t s = 1; s <= n; s++) {
        tst_catalog_entry_put(r, inst, s, fd_len, nchunks);
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

static void grow_catalog(Repo *r, const char *inst, uint64_t n, unsigned every)
{
    grow_catalog_shaped(r, inst, n, every, 0, 0);
}

/* Size of an object as stored (ciphertext). */
static uint64_t stored_size(Repo *r, const char *key)
{
    StoStat st;
    Err err;
    assert_int_equal(sto_stat(repo_sto(r), key, &st, &err), 0);
    return st.size;
}

static void check_chain(const BinlogCatalog *c, uint64_t n)
{
    Err err;
    assert_int_equal(binlog_catalog_count(c), n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(binlog_catalog_at(c, i)->seq, i + 1);
    assert_int_equal(binlog_catalog_verify(c, &err), 0);
    size_t idx;
    MdbGtid g = {0, 1, n * 3 / 4};
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

    /* a compact is one JSON object as docs/FORMAT.md gives it */
    Buf b;
    json_error_t je;
    buf_init(&b, 0);
    assert_int_equal(repo_obj_get(fx->r, "catalog/a/compact-000000000257-000000000512", &b, &err), 0);
    json_t *whole = json_loadb((const char *)b.data, b.len, 0, &je);
    assert_non_null(whole);
    assert_int_equal(json_integer_value(json_object_get(whole, "v")), 1);
    assert_string_equal(json_string_value(json_object_get(whole, "instance")), "a");
    assert_int_equal(json_integer_value(json_object_get(whole, "first")), 257);
    assert_int_equal(json_integer_value(json_object_get(whole, "last")), 512);
    assert_int_equal(json_array_size(json_object_get(whole, "entries")), 256);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(whole, "entries"), 0), "seq")), 257);
    json_decref(whole);
    buf_free(&b);

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

/* Issue 10 item 0: at 5 s seals a day is 16,384 entries, and the level-2
 * compact holding them was a 16.5 MB object that no load could read (a
 * 1 MiB buffer), so status, list, restores, the follower's compaction and
 * its restart all failed. Here: entries of a real size (Format_description
 * and a stream of 4 chunks), compacted every 32, so the level-2 compact
 * holds 2,048 entries, over 1 MiB; the compactions after it (which load
 * the catalog, level-2 compact included) go on working. */
static void test_compact_over_one_mib_loads(void **state)
{
    Fx *fx = *state;
    BinlogCatalog *c = NULL;
    Err err;
    size_t objs, ncmp;
    uint64_t to;

    grow_catalog_shaped(fx->r, "big", 2048 + 200, 32, 190, 4);
    uint64_t sz = stored_size(fx->r, "catalog/big/compact-000000000001-000000002048");
    assert_true(sz > ((uint64_t)1 << 20) + 4096);
    assert_int_equal(binlog_catalog_load(fx->r, "big", &c, &err), 0);
    binlog_catalog_load_stats(c, &objs, &ncmp, &to);
    check_chain(c, 2048 + 200);
    /* the level-2 compact + 6 level-1 ones after it, then 8 single entries */
    assert_int_equal(to, 2048 + 192);
    assert_int_equal(ncmp, 1 + 6);
    assert_int_equal(objs, 1 + 6 + 8);
    const BinlogSegInfo *si = binlog_catalog_at(c, 1000);
    assert_int_equal(si->fd_len, 190);
    assert_int_equal(si->stream.nchunks, 4);
    assert_int_equal(si->stream.chunks[3].b[0], (1001 + 3) & 0xff);
    binlog_catalog_free(c);
}

/* A segment never ends inside a transaction, so one transaction of 1.3 GB
 * is one segment of about 21,000 chunks (64 KiB on average): its entry
 * alone is 1.4 MB of JSON. It loads as a single entry and from a compact. */
static void test_entry_over_one_mib_loads(void **state)
{
    Fx *fx = *state;
    BinlogCatalog *c = NULL;
    Err err;
    size_t written = 0;

    put_entry(fx->r, "huge", 1);
    tst_catalog_entry_put(fx->r, "huge", 2, 0, 21000);
    put_entry(fx->r, "huge", 3);
    assert_true(stored_size(fx->r, "catalog/huge/000000000002") > ((uint64_t)1 << 20) + 4096);
    assert_int_equal(binlog_catalog_load(fx->r, "huge", &c, &err), 0);
    check_chain(c, 3);
    assert_int_equal(binlog_catalog_at(c, 1)->stream.nchunks, 21000);
    assert_int_equal(binlog_catalog_compact(fx->r, "huge", c, 3, &written, &err), 0);
    assert_int_equal(written, 1);
    binlog_catalog_free(c);
    assert_int_equal(binlog_catalog_load(fx->r, "huge", &c, &err), 0);
    size_t objs, ncmp;
    uint64_t to;
    binlog_catalog_load_stats(c, &objs, &ncmp, &to);
    assert_int_equal(ncmp, 1);
    assert_int_equal(objs, 1);
    assert_int_equal(binlog_catalog_at(c, 1)->stream.nchunks, 21000);
    binlog_catalog_free(c);
}

/* Compacts are now parsed entry by entry: one cut short, one with an
 * entry out of order, one of a newer version and one whose members come in
 * another order are each handled like before (the first three skipped with
 * a warning, their entries read from the other objects; the last read). */
static void test_compact_parsed_entry_by_entry(void **state)
{
    Fx *fx = *state;
    BinlogCatalog *c = NULL;
    Err err;
    size_t objs, ncmp;
    uint64_t to;
    char e[8][2048];

    grow_catalog(fx->r, "p", 40, 8);   /* compacts 1-8 .. 33-40 */
    for (uint64_t s = 1; s <= 8; s++) {
        Buf b;
        char key[300];
        buf_init(&b, 0);
        binlog_catalog_key("p", s, key, sizeof key);
        assert_int_equal(repo_obj_get(fx->r, key, &b, &err), 0);
        assert_true(b.len < sizeof e[0]);
        memcpy(e[s - 1], b.data, b.len + 1);
        buf_free(&b);
    }
    char text[20000];
    snprintf(text, sizeof text, "{\"v\":1,\"entries\":[%s,%s", e[0], e[1]);
    assert_int_equal(repo_obj_put(fx->r, "catalog/p/compact-000000000001-000000000040", text,
                                  strlen(text), &err), 0);
    snprintf(text, sizeof text, "{\"v\":1,\"entries\":[%s,%s]}", e[1], e[0]);
    assert_int_equal(repo_obj_put(fx->r, "catalog/p/compact-000000000001-000000000039", text,
                                  strlen(text), &err), 0);
    snprintf(text, sizeof text, "{\"entries\":[%s],\"v\":2}", e[0]);
    assert_int_equal(repo_obj_put(fx->r, "catalog/p/compact-000000000001-000000000038", text,
                                  strlen(text), &err), 0);
    /* members in another order, whitespace between tokens: read (it is the
     * widest readable one from 1; entries 3-8 then come one by one) */
    snprintf(text, sizeof text, " { \"entries\" : [ %s , %s ] , \"last\" : 2, \"v\":1 } ", e[0],
             e[1]);
    assert_int_equal(repo_obj_put(fx->r, "catalog/p/compact-000000000001-000000000009", text,
                                  strlen(text), &err), 0);
    assert_int_equal(binlog_catalog_load(fx->r, "p", &c, &err), 0);
    binlog_catalog_load_stats(c, &objs, &ncmp, &to);
    check_chain(c, 40);
    /* 1-9 (widest of those starting at 1 that read), then 9-16 .. 33-40 */
    assert_int_equal(ncmp, 5);
    assert_int_equal(objs, 5 + 6);
    assert_int_equal(to, 40);
    binlog_catalog_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_thousand_entries_few_objects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_level_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_compact_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compact_over_one_mib_loads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_entry_over_one_mib_loads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compact_parsed_entry_by_entry, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
