/* test_index.c: the in-memory index: lookups across the sorted table and
 * the recent table, pending entries, compaction, the index object codec,
 * and the memory bound (issue 2: at most 48 bytes of RAM per chunk). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "engine/index/index.h"
#include "tests/support/tst_util.h"

static Id make_id(uint64_t n)
{
    Id id;
    tst_fill_random(id.b, ID_LEN, n + 1);
    return id;
}

static void test_lookup_before_and_after_compaction(void **state)
{
    Index *x;
    Err err;
    IdxEntry e;
    uint32_t p;
    Id pack = make_id(999999);
    (void)state;
    assert_int_equal(idx_new(&x, &err), 0);
    assert_int_equal(idx_pack_intern(x, &pack, &p, &err), 0);
    for (uint64_t i = 0; i < 5000; i++) {
        Id id = make_id(i);
        assert_int_equal(idx_add(x, &id, p, (uint32_t)i * 10, 10, &err), 0);
        if (i == 2500) assert_int_equal(idx_compact(x, &err), 0);
    }
    for (uint64_t i = 0; i < 5000; i++) {
        Id id = make_id(i);
        assert_true(idx_lookup(x, &id, &e));
        assert_int_equal(e.offset, i * 10);
    }
    assert_int_equal(idx_compact(x, &err), 0);
    for (uint64_t i = 0; i < 5000; i++) {
        Id id = make_id(i);
        assert_true(idx_lookup(x, &id, &e));
        assert_int_equal(e.offset, i * 10);
    }
    {
        Id missing = make_id(777777);
        assert_false(idx_lookup(x, &missing, NULL));
    }
    assert_int_equal(idx_count(x), 5000);
    idx_free(x);
}

static void test_pending_entries_stay_until_completed(void **state)
{
    Index *x;
    Err err;
    IdxEntry e;
    uint32_t p;
    Id id = make_id(1), id2 = make_id(2), pack = make_id(3);
    (void)state;
    assert_int_equal(idx_new(&x, &err), 0);
    assert_int_equal(idx_add(x, &id, IDX_PACK_PENDING, 0, 0, &err), 0);
    assert_int_equal(idx_add(x, &id2, IDX_PACK_PENDING, 0, 0, &err), 0);
    assert_int_equal(idx_compact(x, &err), 0);
    assert_true(idx_lookup(x, &id, &e));
    assert_int_equal(e.pack, IDX_PACK_PENDING);
    assert_false(idx_pack_lookup(x, &pack, NULL));
    assert_int_equal(idx_pack_intern(x, &pack, &p, &err), 0);
    {
        uint32_t q = 99;
        assert_true(idx_pack_lookup(x, &pack, &q));
        assert_int_equal(q, p);
    }
    assert_int_equal(idx_add(x, &id, p, 8, 100, &err), 0);
    idx_remove_pending(x, &id2);
    assert_false(idx_lookup(x, &id2, NULL));
    assert_int_equal(idx_compact(x, &err), 0);
    assert_true(idx_lookup(x, &id, &e));
    assert_int_equal(e.pack, p);
    assert_int_equal(e.length, 100);
    idx_free(x);
}

static void test_memory_is_at_most_48_bytes_per_chunk(void **state)
{
    Index *x;
    Err err;
    uint32_t p;
    Id pack = make_id(42);
    size_t n = 1000000;
    (void)state;
    assert_int_equal(idx_new(&x, &err), 0);
    assert_int_equal(idx_pack_intern(x, &pack, &p, &err), 0);
    for (size_t i = 0; i < n; i++) {
        Id id = make_id(i);
        assert_int_equal(idx_add(x, &id, p, 0, 1, &err), 0);
        if (i % 65536 == 65535) assert_int_equal(idx_compact(x, &err), 0);   /* as repo loading does */
    }
    assert_int_equal(idx_compact(x, &err), 0);
    print_message("index: %zu chunks, %zu bytes, %.2f bytes/chunk\n", idx_count(x), idx_memory(x),
                  (double)idx_memory(x) / (double)idx_count(x));
    assert_true(idx_memory(x) <= 48 * idx_count(x));
    idx_free(x);
}

static int count_pack(void *ctx, const Id *pack_id, const PackEntry *e, size_t n, Err *err)
{
    size_t *total = ctx;
    (void)pack_id; (void)err;
    for (size_t i = 0; i < n; i++) assert_int_equal(e[i].raw_length, 1000 + i);
    *total += n;
    return 0;
}

static void test_index_object_round_trip_and_truncation(void **state)
{
    PackEntry e[3];
    IdxFilePack p[2];
    Buf b;
    Err err;
    size_t total = 0;
    (void)state;
    for (int i = 0; i < 3; i++) { e[i].id = make_id((uint64_t)i); e[i].offset = 8; e[i].length = 50; e[i].raw_length = 1000u + (uint32_t)i; }
    p[0].pack_id = make_id(10); p[0].entries = e; p[0].n = 3;
    p[1].pack_id = make_id(11); p[1].entries = e; p[1].n = 2;
    buf_init(&b, 0);
    assert_int_equal(idx_file_encode(p, 2, &b, &err), 0);
    assert_int_equal(idx_file_decode(b.data, b.len, count_pack, &total, &err), 0);
    assert_int_equal(total, 5);
    assert_int_equal(idx_file_decode(b.data, b.len - 1, count_pack, &total, &err), ERR_CORRUPT);
    b.data[4] = 2;   /* version 2 */
    assert_int_equal(idx_file_decode(b.data, b.len, count_pack, &total, &err), ERR_VERSION);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_lookup_before_and_after_compaction),
        cmocka_unit_test(test_pending_entries_stay_until_completed),
        cmocka_unit_test(test_memory_is_at_most_48_bytes_per_chunk),
        cmocka_unit_test(test_index_object_round_trip_and_truncation),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
