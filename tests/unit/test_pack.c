/* test_pack.c: pack assembly and parsing: round trip of the table of
 * contents, one table only after a failed upload is retried, damaged
 * trailers and tables refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "engine/pack/pack.h"
#include "tests/support/tst_util.h"

static CryKeys *keys;

static int setup(void **state)
{
    Err err;
    (void)state;
    assert_int_equal(cry_init(&err), 0);
    assert_int_equal(cry_keys_generate(&keys, &err), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cry_keys_free(keys);
    return 0;
}

static void add_blob(PackWriter *pw, uint64_t seed, size_t len)
{
    uint8_t *b = malloc(len);
    Id id;
    Err err;
    tst_fill_random(b, len, seed);
    tst_fill_random(id.b, ID_LEN, seed + 1000);
    assert_int_equal(pack_writer_add(pw, &id, b, len, (uint32_t)len, &err), 0);
    free(b);
}

static void parse(const uint8_t *data, size_t len, PackEntry **out, size_t *n)
{
    uint64_t off;
    uint32_t tl;
    Err err;
    assert_int_equal(pack_trailer_parse(data, len, len, &off, &tl, &err), 0);
    assert_int_equal(off + tl + PACK_TRAILER_LEN, len);
    assert_int_equal(pack_toc_open(keys, data + off, tl, off, out, n, &err), 0);
}

static void test_toc_round_trip(void **state)
{
    PackWriter *pw;
    const uint8_t *data;
    size_t len, n;
    PackEntry *e;
    Err err;
    (void)state;
    assert_int_equal(pack_writer_new(&pw, &err), 0);
    for (int i = 0; i < 10; i++) add_blob(pw, (uint64_t)i, 1000 + (size_t)i);
    assert_int_equal(pack_writer_finish(pw, keys, &data, &len, &err), 0);
    assert_memory_equal(data, PACK_MAGIC, PACK_MAGIC_LEN);
    parse(data, len, &e, &n);
    assert_int_equal(n, 10);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(e[i].length, 1000 + i);
        assert_memory_equal(&e[i], &pack_writer_entries(pw)[i], sizeof e[i]);
    }
    free(e);
    pack_writer_free(pw);
}

static void test_retry_after_failed_upload_keeps_one_table(void **state)
{
    PackWriter *pw;
    const uint8_t *data;
    size_t len, len1, blobs, n;
    PackEntry *e;
    Err err;
    (void)state;
    assert_int_equal(pack_writer_new(&pw, &err), 0);
    add_blob(pw, 1, 5000);
    blobs = pack_writer_size(pw);
    assert_int_equal(pack_writer_finish(pw, keys, &data, &len1, &err), 0);
    pack_writer_unfinish(pw);                 /* the upload failed */
    assert_int_equal(pack_writer_size(pw), blobs);
    add_blob(pw, 2, 7000);                    /* more work arrives */
    assert_int_equal(pack_writer_finish(pw, keys, &data, &len, &err), 0);
    assert_int_equal(len, blobs + 7000 + CRY_OVERHEAD + 8 + 2 * PACK_TOC_ENTRY_LEN + PACK_TRAILER_LEN);
    parse(data, len, &e, &n);
    assert_int_equal(n, 2);
    assert_int_equal(e[1].offset, blobs);
    free(e);
    /* finishing twice without adding also yields one table */
    assert_int_equal(pack_writer_finish(pw, keys, &data, &len1, &err), 0);
    assert_int_equal(len1, len);
    pack_writer_free(pw);
}

static void test_damaged_trailer_and_table_are_refused(void **state)
{
    PackWriter *pw;
    const uint8_t *data;
    uint8_t *copy;
    size_t len, n;
    uint64_t off;
    uint32_t tl;
    PackEntry *e = NULL;
    Err err;
    (void)state;
    assert_int_equal(pack_writer_new(&pw, &err), 0);
    add_blob(pw, 3, 300);
    assert_int_equal(pack_writer_finish(pw, keys, &data, &len, &err), 0);
    copy = malloc(len);
    memcpy(copy, data, len);
    copy[len - 1] ^= 1;   /* trailer magic */
    assert_int_equal(pack_trailer_parse(copy, len, len, &off, &tl, &err), ERR_CORRUPT);
    memcpy(copy, data, len);
    copy[len - 8] = 0xff; copy[len - 7] = 0xff;   /* impossible table length */
    assert_int_equal(pack_trailer_parse(copy, len, len, &off, &tl, &err), ERR_CORRUPT);
    memcpy(copy, data, len);
    assert_int_equal(pack_trailer_parse(copy, len, len, &off, &tl, &err), 0);
    copy[off + 30] ^= 0x40;   /* inside the sealed table */
    assert_int_equal(pack_toc_open(keys, copy + off, tl, off, &e, &n, &err), ERR_AUTH);
    assert_null(e);
    free(copy);
    pack_writer_free(pw);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_toc_round_trip),
        cmocka_unit_test(test_retry_after_failed_upload_keeps_one_table),
        cmocka_unit_test(test_damaged_trailer_and_table_are_refused),
    };
    return cmocka_run_group_tests(t, setup, teardown);
}
