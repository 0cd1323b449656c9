/* test_chunker.c: FastCDC chunker: determinism, bounds, shift resistance
 * (issue 2 acceptance), streaming equivalence and parameter checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/chunk/chunk.h"
#include "tests/support/tst_util.h"

#define MIB ((size_t)1 << 20)

static const uint8_t seed_a[CHK_SEED_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                             17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const uint8_t seed_b[CHK_SEED_LEN] = {32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17,
                                             16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1};

typedef struct Cuts {
    size_t *len;
    size_t n, cap;
} Cuts;

static ChkChunker *new_chunker(ChkParams p, const uint8_t *seed)
{
    ChkChunker *c = NULL;
    Err err;
    err_clear(&err);
    assert_int_equal(chk_new(&p, seed, &c, &err), 0);
    assert_non_null(c);
    return c;
}

static void cuts_push(Cuts *k, size_t len)
{
    if (k->n == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 256;
        k->len = realloc(k->len, k->cap * sizeof *k->len);
        assert_non_null(k->len);
    }
    k->len[k->n++] = len;
}

/* Chunk the whole buffer in one call per chunk (all bytes available). */
static Cuts cut_all(const ChkChunker *c, const uint8_t *buf, size_t len)
{
    Cuts k = {0};
    size_t pos = 0;
    while (pos < len) {
        size_t n = chk_cut(c, buf + pos, len - pos, true);
        assert_true(n > 0 && n <= len - pos);
        cuts_push(&k, n);
        pos += n;
    }
    return k;
}

/* A cheap 64-bit content hash (word at a time) for comparing chunk sets. */
static uint64_t content_hash(const uint8_t *p, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 29;
    }
    for (; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h ^ (h >> 31);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t *chunk_hashes(const uint8_t *buf, const Cuts *k)
{
    uint64_t *h = malloc(k->n * sizeof *h);
    size_t pos = 0;
    assert_non_null(h);
    for (size_t i = 0; i < k->n; i++) {
        h[i] = content_hash(buf + pos, k->len[i]);
        pos += k->len[i];
    }
    return h;
}

static void test_same_seed_same_cuts(void **state)
{
    (void)state;
    size_t len = 4 * MIB;
    uint8_t *buf = malloc(len);
    tst_fill_random(buf, len, 11);
    ChkChunker *c1 = new_chunker(CHK_PARAMS_DUMP, seed_a), *c2 = new_chunker(CHK_PARAMS_DUMP, seed_a);
    Cuts a = cut_all(c1, buf, len), b = cut_all(c2, buf, len);
    assert_int_equal(a.n, b.n);
    assert_memory_equal(a.len, b.len, a.n * sizeof *a.len);
    free(a.len);
    free(b.len);
    chk_free(c1);
    chk_free(c2);
    free(buf);
}

static void check_bounds_and_cover(ChkParams p, const uint8_t *buf, size_t len)
{
    ChkChunker *c = new_chunker(p, seed_a);
    Cuts k = cut_all(c, buf, len);
    size_t total = 0;
    for (size_t i = 0; i < k.n; i++) {
        if (i + 1 < k.n) {
            assert_true(k.len[i] >= p.min_size);
            assert_true(k.len[i] <= p.max_size);
        } else {
            assert_true(k.len[i] >= 1 && k.len[i] <= p.max_size);
        }
        total += k.len[i];
    }
    assert_int_equal(total, len);   /* concatenation reproduces the input */
    free(k.len);
    chk_free(c);
}

static void test_chunks_within_min_max_and_cover_input(void **state)
{
    (void)state;
    size_t len = 8 * MIB + 12345;
    uint8_t *buf = malloc(len);
    tst_fill_random(buf, len, 12);
    check_bounds_and_cover(CHK_PARAMS_DUMP, buf, len);
    check_bounds_and_cover(CHK_PARAMS_BINLOG, buf, len);
    check_bounds_and_cover(CHK_PARAMS_FILES, buf, len);
    check_bounds_and_cover((ChkParams){64, 128, 256}, buf, 1 * MIB);
    /* Degenerate content: all zeros never matches the mask -> forced cuts. */
    memset(buf, 0, len);
    check_bounds_and_cover(CHK_PARAMS_DUMP, buf, len);
    free(buf);
}

static void test_different_seeds_move_cut_points(void **state)
{
    (void)state;
    size_t len = 4 * MIB;
    uint8_t *buf = malloc(len);
    tst_fill_random(buf, len, 13);
    ChkChunker *c1 = new_chunker(CHK_PARAMS_DUMP, seed_a), *c2 = new_chunker(CHK_PARAMS_DUMP, seed_b);
    Cuts a = cut_all(c1, buf, len), b = cut_all(c2, buf, len);
    size_t same = 0, pa = 0, pb = 0, ia = 0, ib = 0;
    /* Count cut offsets the two share. */
    while (ia < a.n && ib < b.n) {
        if (pa + a.len[ia] == pb + b.len[ib]) { same++; pa += a.len[ia++]; pb += b.len[ib++]; }
        else if (pa + a.len[ia] < pb + b.len[ib]) pa += a.len[ia++];
        else pb += b.len[ib++];
    }
    assert_true(same < a.n / 10);
    free(a.len);
    free(b.len);
    chk_free(c1);
    chk_free(c2);
    free(buf);
}

static void check_average(ChkParams p, size_t len, uint64_t seed)
{
    uint8_t *buf = malloc(len);
    tst_fill_random(buf, len, seed);
    ChkChunker *c = new_chunker(p, seed_a);
    Cuts k = cut_all(c, buf, len);
    double mean = (double)len / (double)k.n;
    assert_true(mean >= 0.5 * p.avg_size);
    assert_true(mean <= 2.0 * p.avg_size);
    free(k.len);
    chk_free(c);
    free(buf);
}

static void test_average_size_near_avg_on_random_data(void **state)
{
    (void)state;
    check_average(CHK_PARAMS_DUMP, 16 * MIB, 14);
    check_average(CHK_PARAMS_BINLOG, 16 * MIB, 15);
    check_average(CHK_PARAMS_FILES, 64 * MIB, 16);
}

/* Insert one byte at the start of a 64 MiB random buffer; count the chunks
 * of the new buffer whose content is not among the old buffer's chunks. */
static void check_shift_resistance(ChkParams p)
{
    size_t len = 64 * MIB;
    uint8_t *a = malloc(len), *b = malloc(len + 1);
    ChkChunker *c = new_chunker(p, seed_a);
    tst_fill_random(a, len, 21);
    b[0] = 0x5a;
    memcpy(b + 1, a, len);
    Cuts ka = cut_all(c, a, len), kb = cut_all(c, b, len + 1);
    uint64_t *ha = chunk_hashes(a, &ka), *hb = chunk_hashes(b, &kb);
    size_t changed = 0;
    qsort(ha, ka.n, sizeof *ha, cmp_u64);
    for (size_t i = 0; i < kb.n; i++)
        if (!bsearch(&hb[i], ha, ka.n, sizeof *ha, cmp_u64)) changed++;
    print_message("shift resistance (avg %u): %zu of %zu chunks changed\n", p.avg_size, changed, kb.n);
    assert_true(ka.n > 16);   /* enough chunks for the check to mean something */
    assert_true(changed <= 2);
    free(ha);
    free(hb);
    free(ka.len);
    free(kb.len);
    chk_free(c);
    free(a);
    free(b);
}

static void test_issue2_insert_one_byte_changes_at_most_2_chunks_files_params(void **state)
{
    (void)state;
    check_shift_resistance(CHK_PARAMS_FILES);
}

static void test_issue2_insert_one_byte_changes_at_most_2_chunks_dump_params(void **state)
{
    (void)state;
    check_shift_resistance(CHK_PARAMS_DUMP);
}

/* Feed the buffer in random-sized pieces, as a stream reader would: the
 * cuts must equal those of the one-call scan. */
static void check_streaming(ChkParams p, size_t len, uint64_t seed)
{
    uint8_t *buf = malloc(len);
    uint8_t rnd[8];
    uint64_t r = seed;
    ChkChunker *c = new_chunker(p, seed_a);
    Cuts whole, streamed = {0};
    size_t start = 0, avail = 0;

    tst_fill_random(buf, len, seed);
    whole = cut_all(c, buf, len);
    while (start < len) {
        bool final = avail == len;
        size_t n = chk_cut(c, buf + start, avail - start, final);
        if (n == 0) {
            assert_false(final);
            tst_fill_random(rnd, sizeof rnd, ++r);
            size_t piece = 1 + (size_t)(rnd[0] | (size_t)rnd[1] << 8 | (size_t)rnd[2] << 16) % (p.max_size / 2);
            avail = avail + piece > len ? len : avail + piece;
            continue;
        }
        assert_true(n <= avail - start);
        cuts_push(&streamed, n);
        start += n;
    }
    assert_int_equal(streamed.n, whole.n);
    assert_memory_equal(streamed.len, whole.len, whole.n * sizeof *whole.len);
    free(whole.len);
    free(streamed.len);
    chk_free(c);
    free(buf);
}

static void test_streaming_pieces_give_same_cuts(void **state)
{
    (void)state;
    check_streaming(CHK_PARAMS_DUMP, 4 * MIB + 17, 31);
    check_streaming(CHK_PARAMS_FILES, 24 * MIB + 3, 32);
    check_streaming((ChkParams){64, 256, 1024}, 1 * MIB, 33);
}

static void test_cut_edge_cases(void **state)
{
    (void)state;
    ChkParams p = CHK_PARAMS_DUMP;
    size_t len = 2 * p.max_size;
    uint8_t *buf = calloc(1, len);
    ChkChunker *c = new_chunker(p, seed_a);
    assert_int_equal(chk_cut(c, buf, 0, true), 0);
    assert_int_equal(chk_cut(c, buf, 0, false), 0);
    assert_int_equal(chk_cut(c, buf, 100, false), 0);          /* need more */
    assert_int_equal(chk_cut(c, buf, 100, true), 100);         /* the tail */
    assert_int_equal(chk_cut(c, buf, p.max_size - 1, false), 0);
    assert_int_equal(chk_cut(c, buf, p.max_size - 1, true), p.max_size - 1);
    assert_int_equal(chk_cut(c, buf, p.max_size, false), p.max_size);   /* forced */
    assert_int_equal(chk_cut(c, buf, len, false), p.max_size);
    assert_int_equal(chk_params(c)->avg_size, p.avg_size);
    chk_free(c);
    chk_free(NULL);
    free(buf);
}

/* Known answer: cut lengths of tst_fill_random(1 MiB, seed 7) with seed
 * 1..32 and the dump params, computed by an independent Python model of
 * the documented construction (gear table from keyed BLAKE2b-512, spread
 * masks, normalized level 2). Locks the chunk format. */
static void test_known_answer_cut_lengths(void **state)
{
    (void)state;
    static const size_t expect[] = {
        13641, 26132, 19147, 7593, 17989, 18268, 16454, 25083,
        18307, 17110, 23415, 19447, 15506, 17990, 7954, 20254,
        18419, 16466, 17013, 20066, 18988, 10146, 18063, 17509,
    };
    size_t len = 1 * MIB;
    uint8_t *buf = malloc(len);
    tst_fill_random(buf, len, 7);
    ChkChunker *c = new_chunker(CHK_PARAMS_DUMP, seed_a);
    Cuts k = cut_all(c, buf, len);
    size_t n = sizeof expect / sizeof expect[0];
    assert_true(k.n >= n);
    for (size_t i = 0; i < n; i++) assert_int_equal(k.len[i], expect[i]);
    free(k.len);
    chk_free(c);
    free(buf);
}

static void expect_invalid(ChkParams p, const char *fragment)
{
    ChkChunker *c = NULL;
    Err err;
    err_clear(&err);
    assert_int_equal(chk_new(&p, seed_a, &c, &err), ERR_INVALID);
    assert_null(c);
    if (!strstr(err.msg, fragment)) fail_msg("message '%s' lacks '%s'", err.msg, fragment);
}

static void test_bad_params_refused_naming_the_value(void **state)
{
    (void)state;
    expect_invalid((ChkParams){32, 1024, 4096}, "min_size 32");
    expect_invalid((ChkParams){256, 1000, 4096}, "avg_size 1000");
    expect_invalid((ChkParams){2048, 1024, 4096}, "min_size 2048");
    expect_invalid((ChkParams){1024, 1024, 4096}, "min_size 1024");
    expect_invalid((ChkParams){256, 1024, 1024}, "max_size 1024");
    expect_invalid((ChkParams){256, 1024, CHK_MAX_LIMIT + 1}, "max_size 67108865");
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_same_seed_same_cuts),
        cmocka_unit_test(test_chunks_within_min_max_and_cover_input),
        cmocka_unit_test(test_different_seeds_move_cut_points),
        cmocka_unit_test(test_average_size_near_avg_on_random_data),
        cmocka_unit_test(test_issue2_insert_one_byte_changes_at_most_2_chunks_files_params),
        cmocka_unit_test(test_issue2_insert_one_byte_changes_at_most_2_chunks_dump_params),
        cmocka_unit_test(test_streaming_pieces_give_same_cuts),
        cmocka_unit_test(test_cut_edge_cases),
        cmocka_unit_test(test_known_answer_cut_lengths),
        cmocka_unit_test(test_bad_params_refused_naming_the_value),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
