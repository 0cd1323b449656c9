/* test_crypto.c: chunk id known answers, seal/open framing and tamper
 * detection, key objects (Argon2id wrap/unwrap) and their error codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "engine/crypto/crypto.h"
#include "engine/crypto/crypto_int.h"   /* fixed keys for known answers */
#include "tests/support/tst_util.h"

static CryKeys *fixed_keys(void)
{
    uint8_t m[CRY_MASTER_LEN];
    CryKeys *k = NULL;
    Err err;
    for (unsigned i = 0; i < CRY_KEY_LEN; i++) {
        m[i] = (uint8_t)(0x40 + i);                  /* enc */
        m[CRY_KEY_LEN + i] = (uint8_t)i;             /* id: 00 01 .. 1f */
        m[2 * CRY_KEY_LEN + i] = (uint8_t)(0x80 + i); /* chunker seed */
    }
    assert_int_equal(cry_keys_from_bytes(m, &k, &err), 0);
    return k;
}

static void expect_id(const Id *id, const char *hex)
{
    char got[ID_HEX_LEN + 1];
    id_hex(id, got);
    assert_string_equal(got, hex);
}

/* Expected values from Python: hashlib.blake2b(data, key=bytes(range(32)),
 * digest_size=32).hexdigest(). */
static void test_cry_id_known_answers(void **state)
{
    (void)state;
    CryKeys *k = fixed_keys();
    Id id;
    uint8_t *p = malloc(200000);
    cry_id(k, "", 0, &id);
    expect_id(&id, "4e51e7a913fc80137da52880fecca175bf81e117d5c68126dc2774033517ea0d");
    cry_id(k, "abc", 3, &id);
    expect_id(&id, "d63a32d3e44738d7907f964316c241adaba0abfeabc32349677578a15a203f7f");
    for (unsigned i = 0; i < 1000; i++) p[i] = (uint8_t)(i % 251);
    cry_id(k, p, 1000, &id);
    expect_id(&id, "bf9c0d3a2590251349ad634ad07f03958d0be63d5f9533daf62752de734b2c76");
    for (unsigned i = 0; i < 200000; i++) p[i] = (uint8_t)((i * 7 + 3) & 0xff);
    cry_id(k, p, 200000, &id);
    expect_id(&id, "790e2e596efc7e74a762f9c7b5306d2397761874ac5d467033a754ca0ad36337");
    const uint8_t *seed = cry_keys_chunker_seed(k);
    assert_int_equal(seed[0], 0x80);
    assert_int_equal(seed[31], 0x9f);
    free(p);
    cry_keys_free(k);
}

static void test_incremental_hash_equals_cry_id(void **state)
{
    (void)state;
    CryKeys *k = fixed_keys();
    size_t len = 200000;
    uint8_t *p = malloc(len);
    CryHash h;
    Id a, b;
    for (unsigned i = 0; i < len; i++) p[i] = (uint8_t)((i * 7 + 3) & 0xff);
    cry_hash_init(k, &h);
    for (size_t pos = 0, step = 1; pos < len; pos += step, step = step * 3 + 1) {
        size_t n = pos + step > len ? len - pos : step;
        cry_hash_update(&h, p + pos, n);
    }
    cry_hash_final(&h, &a);
    cry_id(k, p, len, &b);
    assert_memory_equal(a.b, b.b, ID_LEN);
    expect_id(&a, "790e2e596efc7e74a762f9c7b5306d2397761874ac5d467033a754ca0ad36337");
    free(p);
    cry_keys_free(k);
}

static void test_generated_keys_differ_and_id_is_keyed(void **state)
{
    (void)state;
    CryKeys *k1 = NULL, *k2 = NULL;
    Err err;
    Id a, b;
    assert_int_equal(cry_init(&err), 0);
    assert_int_equal(cry_keys_generate(&k1, &err), 0);
    assert_int_equal(cry_keys_generate(&k2, &err), 0);
    cry_id(k1, "abc", 3, &a);
    cry_id(k2, "abc", 3, &b);
    assert_memory_not_equal(a.b, b.b, ID_LEN);
    assert_memory_not_equal(cry_keys_chunker_seed(k1), cry_keys_chunker_seed(k2), 32);
    cry_keys_free(k1);
    cry_keys_free(k2);
    cry_keys_free(NULL);
}

static void test_seal_open_round_trip_and_framing(void **state)
{
    (void)state;
    CryKeys *k = fixed_keys();
    Err err;
    size_t sizes[] = {0, 1, 15, 16, 17, 1000, 65536 + 3};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s], slen = 0, olen = 0;
        uint8_t *plain = malloc(n + 1), *sealed = malloc(n + CRY_OVERHEAD), *back = malloc(n + 1);
        uint8_t *ref = malloc(n + 1);
        unsigned long long rlen = 0;
        tst_fill_random(plain, n, 100 + s);
        assert_int_equal(cry_seal(k, "chunk-id", 8, plain, n, sealed, n + CRY_OVERHEAD, &slen, &err), 0);
        assert_int_equal(slen, n + CRY_OVERHEAD);
        assert_int_equal(cry_open(k, "chunk-id", 8, sealed, slen, back, n, &olen, &err), 0);
        assert_int_equal(olen, n);
        if (n) assert_memory_equal(back, plain, n);
        /* Framing: nonce || ct || tag opens with libsodium's combined API
         * under the enc key (0x40..0x5f). */
        uint8_t enc[32];
        for (unsigned i = 0; i < 32; i++) enc[i] = (uint8_t)(0x40 + i);
        assert_int_equal(crypto_aead_xchacha20poly1305_ietf_decrypt(ref, &rlen, NULL, sealed + CRY_NONCE_LEN,
                                                                    slen - CRY_NONCE_LEN,
                                                                    (const uint8_t *)"chunk-id", 8, sealed, enc),
                         0);
        assert_int_equal(rlen, n);
        if (n) assert_memory_equal(ref, plain, n);
        free(plain);
        free(sealed);
        free(back);
        free(ref);
    }
    /* Two seals of the same plaintext differ (random nonce). */
    uint8_t s1[64], s2[64];
    size_t l1, l2;
    assert_int_equal(cry_seal(k, NULL, 0, "same", 4, s1, sizeof s1, &l1, &err), 0);
    assert_int_equal(cry_seal(k, NULL, 0, "same", 4, s2, sizeof s2, &l2, &err), 0);
    assert_memory_not_equal(s1, s2, l1);
    cry_keys_free(k);
}

static void test_any_flipped_byte_fails_auth_and_releases_no_plaintext(void **state)
{
    (void)state;
    CryKeys *k = fixed_keys();
    Err err;
    const char *msg = "invoice 2024-0042: 1234.56 EUR";
    size_t n = strlen(msg), slen = 0, olen = 0;
    uint8_t sealed[128], out[128];
    assert_int_equal(cry_seal(k, "ad", 2, msg, n, sealed, sizeof sealed, &slen, &err), 0);
    for (size_t pos = 0; pos < slen; pos++) {
        for (unsigned bit = 0; bit < 8; bit += 7) {
            sealed[pos] ^= (uint8_t)(1u << bit);
            memset(out, 0xAA, sizeof out);
            err_clear(&err);
            assert_int_equal(cry_open(k, "ad", 2, sealed, slen, out, sizeof out, &olen, &err), ERR_AUTH);
            assert_non_null(strstr(err.msg, "authentication failed"));
            assert_null(memmem(out, sizeof out, "invoice", 7));   /* nothing unverified comes out */
            sealed[pos] ^= (uint8_t)(1u << bit);
        }
    }
    assert_int_equal(cry_open(k, "ad", 2, sealed, slen, out, sizeof out, &olen, &err), 0);
    assert_memory_equal(out, msg, n);
    cry_keys_free(k);
}

static void test_wrong_ad_or_key_fails(void **state)
{
    (void)state;
    CryKeys *k = fixed_keys(), *other = NULL;
    Err err;
    uint8_t sealed[64], out[64];
    size_t slen, olen;
    assert_int_equal(cry_seal(k, "id-1", 4, "data", 4, sealed, sizeof sealed, &slen, &err), 0);
    assert_int_equal(cry_open(k, "id-2", 4, sealed, slen, out, sizeof out, &olen, &err), ERR_AUTH);
    assert_int_equal(cry_open(k, "id-1", 3, sealed, slen, out, sizeof out, &olen, &err), ERR_AUTH);
    assert_int_equal(cry_open(k, NULL, 0, sealed, slen, out, sizeof out, &olen, &err), ERR_AUTH);
    assert_int_equal(cry_keys_generate(&other, &err), 0);
    assert_int_equal(cry_open(other, "id-1", 4, sealed, slen, out, sizeof out, &olen, &err), ERR_AUTH);
    cry_keys_free(other);
    cry_keys_free(k);
}

static void test_truncated_or_short_buffers_refused(void **state)
{
    (void)state;
    CryKeys *k = fixed_keys();
    Err err;
    uint8_t sealed[64], out[64];
    size_t slen, olen;
    assert_int_equal(cry_seal(k, NULL, 0, "0123456789", 10, sealed, sizeof sealed, &slen, &err), 0);
    for (size_t cut = 1; cut <= slen; cut++) {
        int rc = cry_open(k, NULL, 0, sealed, slen - cut, out, sizeof out, &olen, &err);
        assert_int_equal(rc, slen - cut < CRY_OVERHEAD ? ERR_CORRUPT : ERR_AUTH);
    }
    assert_int_equal(cry_open(k, NULL, 0, sealed, slen, out, 9, &olen, &err), ERR_INVALID);
    assert_int_equal(cry_seal(k, NULL, 0, "0123456789", 10, sealed, 10 + CRY_OVERHEAD - 1, &slen, &err),
                     ERR_INVALID);
    assert_non_null(strstr(err.msg, "too small"));
    cry_keys_free(k);
}

static char *wrap_fast(const CryKeys *k, const char *pass, const char *label)
{
    char *json = NULL;
    Err err;
    CryKdfParams kdf = CRY_KDF_FAST;
    err_clear(&err);
    if (cry_keyobj_wrap(k, pass, strlen(pass), &kdf, label, &json, &err) != 0) fail_msg("%s", err.msg);
    return json;
}

static void test_keyobj_wrap_unwrap_round_trip(void **state)
{
    (void)state;
    CryKeys *k = fixed_keys(), *back = NULL;
    Err err;
    Id a, b;
    char *json = wrap_fast(k, "correct horse battery staple", "laptop");
    assert_non_null(strstr(json, "\"version\":1"));
    assert_non_null(strstr(json, "\"kdf\":\"argon2id13\""));
    assert_non_null(strstr(json, "\"opslimit\":1"));
    assert_non_null(strstr(json, "\"memlimit\":8192"));
    assert_non_null(strstr(json, "\"label\":\"laptop\""));
    assert_non_null(strstr(json, "\"created\":\""));
    assert_non_null(strstr(json, "\"host\":\""));
    assert_null(strstr(json, "correct horse"));
    assert_int_equal(cry_keyobj_unwrap(json, strlen(json), "correct horse battery staple", 28, &back, &err), 0);
    cry_id(k, "x", 1, &a);
    cry_id(back, "x", 1, &b);
    assert_memory_equal(a.b, b.b, ID_LEN);
    assert_memory_equal(cry_keys_chunker_seed(k), cry_keys_chunker_seed(back), 32);
    uint8_t sealed[64], out[64];
    size_t slen, olen;
    assert_int_equal(cry_seal(k, NULL, 0, "enc key too", 11, sealed, sizeof sealed, &slen, &err), 0);
    assert_int_equal(cry_open(back, NULL, 0, sealed, slen, out, sizeof out, &olen, &err), 0);
    cry_keys_free(back);
    /* Two wraps use different salts. */
    char *json2 = wrap_fast(k, "correct horse battery staple", NULL);
    assert_string_not_equal(json, json2);
    assert_null(strstr(json2, "\"label\""));
    free(json2);
    free(json);
    cry_keys_free(k);
}

static void test_keyobj_wrong_passphrase_is_auth_error(void **state)
{
    (void)state;
    CryKeys *k = fixed_keys(), *back = NULL;
    Err err;
    char *json = wrap_fast(k, "secret one", NULL);
    err_clear(&err);
    assert_int_equal(cry_keyobj_unwrap(json, strlen(json), "secret two", 10, &back, &err), ERR_AUTH);
    assert_null(back);
    assert_non_null(strstr(err.msg, "wrong passphrase"));
    assert_null(strstr(err.msg, "secret"));
    free(json);
    cry_keys_free(k);
}

static void expect_unwrap(const char *json, int code, const char *fragment)
{
    CryKeys *back = NULL;
    Err err;
    err_clear(&err);
    assert_int_equal(cry_keyobj_unwrap(json, strlen(json), "pw", 2, &back, &err), code);
    assert_null(back);
    if (!strstr(err.msg, fragment)) fail_msg("message '%s' lacks '%s'", err.msg, fragment);
}

/* Replace the first occurrence of from by to in a malloc'd copy of s. */
static char *replace(const char *s, const char *from, const char *to)
{
    const char *p = strstr(s, from);
    assert_non_null(p);
    size_t n = strlen(s) - strlen(from) + strlen(to) + 1;
    char *r = malloc(n);
    snprintf(r, n, "%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
    return r;
}

static void test_keyobj_corrupt_json_and_newer_version(void **state)
{
    (void)state;
    CryKeys *k = fixed_keys();
    char *json = wrap_fast(k, "pw", NULL), *bad;
    expect_unwrap("{\"version\":1,", ERR_CORRUPT, "not valid JSON");
    expect_unwrap("[1,2]", ERR_CORRUPT, "not a JSON object");
    expect_unwrap("", ERR_CORRUPT, "not valid JSON");
    bad = replace(json, "\"version\":1", "\"version\":2");
    expect_unwrap(bad, ERR_VERSION, "version 2");
    free(bad);
    bad = replace(json, "\"version\":1", "\"version\":\"1\"");
    expect_unwrap(bad, ERR_CORRUPT, "version");
    free(bad);
    bad = replace(json, "argon2id13", "scrypt");
    expect_unwrap(bad, ERR_CORRUPT, "unknown kdf");
    free(bad);
    bad = replace(json, "\"salt\":\"", "\"salt\":\"zz");
    expect_unwrap(bad, ERR_CORRUPT, "salt");
    free(bad);
    bad = replace(json, "\"data\":\"", "\"data\":\"00");
    expect_unwrap(bad, ERR_CORRUPT, "data");
    free(bad);
    bad = replace(json, "\"memlimit\":8192", "\"memlimit\":10");
    expect_unwrap(bad, ERR_CORRUPT, "memlimit");
    free(bad);
    /* A changed cost derives another key: indistinguishable from a wrong passphrase. */
    bad = replace(json, "\"memlimit\":8192", "\"memlimit\":16384");
    expect_unwrap(bad, ERR_AUTH, "wrong passphrase");
    free(bad);
    /* Still opens with the right passphrase once restored. */
    CryKeys *back = NULL;
    Err err;
    assert_int_equal(cry_keyobj_unwrap(json, strlen(json), "pw", 2, &back, &err), 0);
    cry_keys_free(back);
    free(json);
    cry_keys_free(k);
}

static void test_keyobj_refuses_empty_passphrase_and_bad_cost(void **state)
{
    (void)state;
    CryKeys *k = fixed_keys();
    char *json = NULL;
    Err err;
    CryKdfParams kdf = CRY_KDF_FAST, weak = {1, 1024};
    assert_int_equal(cry_keyobj_wrap(k, "", 0, &kdf, NULL, &json, &err), ERR_INVALID);
    assert_int_equal(cry_keyobj_wrap(k, "pw", 2, &weak, NULL, &json, &err), ERR_INVALID);
    assert_non_null(strstr(err.msg, "memlimit 1024"));
    assert_null(json);
    cry_keys_free(k);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_cry_id_known_answers),
        cmocka_unit_test(test_incremental_hash_equals_cry_id),
        cmocka_unit_test(test_generated_keys_differ_and_id_is_keyed),
        cmocka_unit_test(test_seal_open_round_trip_and_framing),
        cmocka_unit_test(test_any_flipped_byte_fails_auth_and_releases_no_plaintext),
        cmocka_unit_test(test_wrong_ad_or_key_fails),
        cmocka_unit_test(test_truncated_or_short_buffers_refused),
        cmocka_unit_test(test_keyobj_wrap_unwrap_round_trip),
        cmocka_unit_test(test_keyobj_wrong_passphrase_is_auth_error),
        cmocka_unit_test(test_keyobj_corrupt_json_and_newer_version),
        cmocka_unit_test(test_keyobj_refuses_empty_passphrase_and_bad_cost),
    };
    if (sodium_init() < 0) return 1;
    return cmocka_run_group_tests(t, NULL, NULL);
}
