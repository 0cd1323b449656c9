/* test_compress.c: blob round trips (zstd and raw), sizes, damaged
 * payloads and the decompression-bomb guard (nothing written past cap). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/compress/compress.h"
#include "tests/support/tst_util.h"

#define CANARY 64

static CompCtx *ctx(int level)
{
    CompCtx *c = NULL;
    Err err;
    assert_int_equal(comp_ctx_new(level, &c, &err), 0);
    return c;
}

/* SQL-dump-like text: compresses well. */
static uint8_t *make_text(size_t len)
{
    uint8_t *p = malloc(len);
    size_t pos = 0;
    unsigned i = 0;
    while (pos < len) {
        char line[200];
        int n = snprintf(line, sizeof line,
                         "INSERT INTO llx_facture VALUES (%u,'FA2401-%04u',1,'2024-01-%02u',%u.%02u,'draft');\n",
                         i, i % 9999, 1 + i % 28, (i * 37) % 5000, i % 100);
        size_t take = (size_t)n < len - pos ? (size_t)n : len - pos;
        memcpy(p + pos, line, take);
        pos += take;
        i++;
    }
    return p;
}

/* Compress, check the type, expand into a buffer of exactly the blob size
 * followed by a canary, and compare. Returns the blob (caller frees). */
static uint8_t *round_trip(CompCtx *c, const uint8_t *in, size_t len, int want_type, size_t *blen)
{
    Err err;
    size_t cap = comp_bound(len), size = 0, olen = 0;
    uint8_t *blob = malloc(cap), *back = malloc(len + CANARY);
    assert_int_equal(comp_blob(c, in, len, blob, cap, blen, &err), 0);
    assert_int_equal(blob[0], want_type);
    assert_true(*blen <= cap);
    assert_int_equal(comp_blob_size(blob, *blen, &size, &err), 0);
    assert_int_equal(size, len);
    memset(back, 0xCC, len + CANARY);
    assert_int_equal(comp_unblob(c, blob, *blen, back, len, &olen, &err), 0);
    assert_int_equal(olen, len);
    if (len) assert_memory_equal(back, in, len);
    for (size_t i = len; i < len + CANARY; i++) assert_int_equal(back[i], 0xCC);
    free(back);
    return blob;
}

static void test_text_shrinks_and_round_trips_as_zstd(void **state)
{
    (void)state;
    CompCtx *c = ctx(3);
    size_t len = 1 << 20, blen = 0;
    uint8_t *text = make_text(len);
    uint8_t *blob = round_trip(c, text, len, COMP_ZSTD, &blen);
    assert_true(blen < len / 4);
    free(blob);
    /* Small text too. */
    blob = round_trip(c, (const uint8_t *)"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 40, COMP_ZSTD, &blen);
    free(blob);
    free(text);
    comp_ctx_free(c);
}

static void test_random_data_is_stored_raw(void **state)
{
    (void)state;
    CompCtx *c = ctx(3);
    size_t sizes[] = {1, 2, 100, 65536, 1 << 20};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t len = sizes[s], blen = 0;
        uint8_t *rnd = malloc(len);
        tst_fill_random(rnd, len, 50 + s);
        uint8_t *blob = round_trip(c, rnd, len, COMP_RAW, &blen);
        assert_int_equal(blen, len + 1);
        assert_memory_equal(blob + 1, rnd, len);
        free(blob);
        free(rnd);
    }
    comp_ctx_free(c);
}

static void test_empty_input_and_level_zero(void **state)
{
    (void)state;
    CompCtx *c = ctx(3), *store = ctx(0);
    size_t blen = 0;
    uint8_t *blob = round_trip(c, (const uint8_t *)"", 0, COMP_RAW, &blen);
    assert_int_equal(blen, 1);
    free(blob);
    uint8_t *text = make_text(100000);
    blob = round_trip(store, text, 100000, COMP_RAW, &blen);   /* level 0 never compresses */
    free(blob);
    /* A store-only context still expands zstd blobs. */
    size_t zlen = 0, olen = 0;
    uint8_t *z = round_trip(c, text, 100000, COMP_ZSTD, &zlen), *back = malloc(100000);
    Err err;
    assert_int_equal(comp_unblob(store, z, zlen, back, 100000, &olen, &err), 0);
    assert_memory_equal(back, text, 100000);
    free(back);
    free(z);
    free(text);
    comp_ctx_free(c);
    comp_ctx_free(store);
    comp_ctx_free(NULL);
}

static void expect_unblob(CompCtx *c, const uint8_t *blob, size_t blen, size_t cap, int code,
                          const char *fragment)
{
    Err err;
    size_t olen = 0;
    uint8_t *out = malloc(cap + CANARY);
    memset(out, 0xCC, cap + CANARY);
    err_clear(&err);
    assert_int_equal(comp_unblob(c, blob, blen, out, cap, &olen, &err), code);
    if (fragment && !strstr(err.msg, fragment)) fail_msg("message '%s' lacks '%s'", err.msg, fragment);
    for (size_t i = cap; i < cap + CANARY; i++) assert_int_equal(out[i], 0xCC);
    free(out);
}

static void test_damaged_zstd_payload_is_corrupt(void **state)
{
    (void)state;
    CompCtx *c = ctx(3);
    size_t len = 200000, blen = 0;
    uint8_t *text = make_text(len);
    uint8_t *blob = round_trip(c, text, len, COMP_ZSTD, &blen);
    uint8_t *bad = malloc(blen + 16);

    /* A flipped byte in the middle of the frame (checksum or decoder catches it). */
    memcpy(bad, blob, blen);
    bad[blen / 2] ^= 0x40;
    expect_unblob(c, bad, blen, len, ERR_CORRUPT, "zstd");
    /* Bad magic number. */
    memcpy(bad, blob, blen);
    bad[1] ^= 0xff;
    expect_unblob(c, bad, blen, len, ERR_CORRUPT, "not a zstd frame");
    /* Truncated frame. */
    memcpy(bad, blob, blen);
    expect_unblob(c, bad, blen - 5, len, ERR_CORRUPT, NULL);
    /* Trailing bytes after the frame. */
    memcpy(bad, blob, blen);
    memset(bad + blen, 0, 16);
    expect_unblob(c, bad, blen + 16, len, ERR_CORRUPT, "after the zstd frame");
    /* Unknown type byte, empty blob. */
    memcpy(bad, blob, blen);
    bad[0] = 7;
    expect_unblob(c, bad, blen, len, ERR_CORRUPT, "unknown type 7");
    expect_unblob(c, bad, 0, len, ERR_CORRUPT, "empty");
    /* Every single-bit flip fails (ERR_INVALID when it enlarges the size
     * field), or decodes to the very same bytes (zstd ignores a few bits),
     * and never writes past cap: wrong data never comes back silently. */
    for (size_t pos = 1; pos < blen; pos += (pos < 64 ? 1 : 97)) {
        Err err;
        size_t olen = 0;
        uint8_t *out = malloc(len + CANARY);
        memcpy(bad, blob, blen);
        bad[pos] ^= 0x01;
        memset(out, 0xCC, len + CANARY);
        int rc = comp_unblob(c, bad, blen, out, len, &olen, &err);
        if (rc == 0) {
            assert_int_equal(olen, len);
            assert_memory_equal(out, text, len);
        } else if (rc != ERR_CORRUPT && rc != ERR_INVALID) {
            fail_msg("flip at %zu: rc %d", pos, rc);
        }
        for (size_t i = len; i < len + CANARY; i++) assert_int_equal(out[i], 0xCC);
        free(out);
    }
    free(bad);
    free(blob);
    free(text);
    comp_ctx_free(c);
}

/* Offset and width of the Frame_Content_Size field of a zstd frame at p. */
static void fcs_field(const uint8_t *p, size_t *off, size_t *width)
{
    static const size_t did_size[4] = {0, 1, 2, 4};
    uint8_t fhd = p[4];
    unsigned flag = fhd >> 6, single = (fhd >> 5) & 1;
    *off = 5 + (single ? 0 : 1) + did_size[fhd & 3];
    *width = flag == 0 ? (single ? 1 : 0) : (size_t)1 << flag;
}

static void test_bomb_guard_never_writes_past_cap(void **state)
{
    (void)state;
    CompCtx *c = ctx(3);
    size_t len = 1 << 20, blen = 0, off, width, size = 0;
    uint8_t *zeros = calloc(1, len);
    uint8_t *blob = round_trip(c, zeros, len, COMP_ZSTD, &blen);
    Err err;
    assert_true(blen < 1000);   /* 1 MiB from a few hundred bytes */

    /* Cap below the declared size: refused before any write. */
    expect_unblob(c, blob, blen, len - 1, ERR_INVALID, "too small");
    expect_unblob(c, blob, blen, 0, ERR_INVALID, "too small");

    /* A lying header: declares 1000 bytes, expands to 1 MiB. */
    fcs_field(blob + 1, &off, &width);
    assert_int_equal(width, 4);
    uint32_t lie = 1000;
    for (unsigned i = 0; i < 4; i++) blob[1 + off + i] = (uint8_t)(lie >> (8 * i));
    assert_int_equal(comp_blob_size(blob, blen, &size, &err), 0);
    assert_int_equal(size, 1000);
    expect_unblob(c, blob, blen, 1000, ERR_CORRUPT, "zstd decompression failed");
    free(blob);
    free(zeros);
    comp_ctx_free(c);
}

static void test_small_output_buffer_and_bad_level_refused(void **state)
{
    (void)state;
    CompCtx *c = ctx(3), *bad = NULL;
    Err err;
    uint8_t out[64];
    size_t olen;
    assert_int_equal(comp_blob(c, "hello", 5, out, comp_bound(5) - 1, &olen, &err), ERR_INVALID);
    assert_non_null(strstr(err.msg, "below the bound"));
    assert_true(comp_bound(0) >= 1);
    assert_true(comp_bound(1000) >= 1001);
    assert_int_equal(comp_ctx_new(20, &bad, &err), ERR_INVALID);
    assert_non_null(strstr(err.msg, "level 20"));
    assert_int_equal(comp_ctx_new(-1, &bad, &err), ERR_INVALID);
    assert_null(bad);
    /* Raw blob into a too-small buffer. */
    uint8_t raw[6] = {COMP_RAW, 'h', 'e', 'l', 'l', 'o'};
    expect_unblob(c, raw, sizeof raw, 4, ERR_INVALID, "too small");
    comp_ctx_free(c);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_text_shrinks_and_round_trips_as_zstd),
        cmocka_unit_test(test_random_data_is_stored_raw),
        cmocka_unit_test(test_empty_input_and_level_zero),
        cmocka_unit_test(test_damaged_zstd_payload_is_corrupt),
        cmocka_unit_test(test_bomb_guard_never_writes_past_cap),
        cmocka_unit_test(test_small_output_buffer_and_bad_level_refused),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
