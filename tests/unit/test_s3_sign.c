/* test_s3_sign.c: SigV4 as computed by s3_sign.c against the values AWS
 * publishes in "Signature Calculations for the Authorization Header"
 * (examples GET Object, PUT Object, GET Bucket Lifecycle, GET Bucket (List
 * Objects); access key AKIAIOSFODNN7EXAMPLE), plus the URI encoding rules and
 * MD5 (RFC 1321 test suite) used for Content-MD5. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "storage-backends/s3/s3_int.h"

#define AKID "AKIAIOSFODNN7EXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define DATE "20130524T000000Z"
#define HOST "examplebucket.s3.amazonaws.com"

/* Canonical request, its string to sign, and the Authorization value. */
static void check_sign(const S3SignIn *in, const char *want_creq, const char *want_sts_hash, const char *want_auth)
{
    Buf creq, sh, sts, auth;
    Err err;
    char hex[65];
    buf_init(&creq, 0);
    buf_init(&sh, 0);
    buf_init(&sts, 0);
    buf_init(&auth, 0);
    assert_int_equal(buf_append_str(&sh, "", &err), 0);
    assert_int_equal(s3_canonical_request(in, &creq, &sh, &err), 0);
    assert_string_equal((const char *)creq.data, want_creq);
    s3_sha256_hex(creq.data, creq.len, hex);
    assert_string_equal(hex, want_sts_hash);
    assert_int_equal(s3_string_to_sign(in, (const char *)creq.data, creq.len, &sts, &err), 0);
    {
        char want_sts[256];
        snprintf(want_sts, sizeof want_sts, "AWS4-HMAC-SHA256\n" DATE "\n20130524/us-east-1/s3/aws4_request\n%s",
                 want_sts_hash);
        assert_string_equal((const char *)sts.data, want_sts);
    }
    assert_int_equal(s3_authorization(in, AKID, SECRET, &auth, &err), 0);
    assert_string_equal((const char *)auth.data, want_auth);
    buf_free(&creq);
    buf_free(&sh);
    buf_free(&sts);
    buf_free(&auth);
}

static void test_aws_example_get_object_with_range(void **state)
{
    (void)state;
    S3Param h[] = { { "Range", "bytes=0-9" }, { "x-amz-date", DATE }, { "Host", HOST },
                    { "x-amz-content-sha256", S3_EMPTY_SHA256 } };   /* unsorted on purpose */
    S3SignIn in = { "GET", "/test.txt", NULL, 0, h, 4, S3_EMPTY_SHA256, DATE, "us-east-1", "s3" };
    check_sign(&in,
               "GET\n/test.txt\n\n"
               "host:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
               "x-amz-content-sha256:" S3_EMPTY_SHA256 "\nx-amz-date:20130524T000000Z\n\n"
               "host;range;x-amz-content-sha256;x-amz-date\n" S3_EMPTY_SHA256,
               "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
               "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
               "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
               "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

static void test_aws_example_put_object_encodes_dollar_and_hashes_body(void **state)
{
    (void)state;
    const char *body = "Welcome to Amazon S3.";
    char hash[65];
    s3_sha256_hex(body, strlen(body), hash);
    assert_string_equal(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    S3Param h[] = { { "Host", HOST }, { "Date", "Fri, 24 May 2013 00:00:00 GMT" },
                    { "x-amz-storage-class", "  REDUCED_REDUNDANCY " },   /* trimmed when signed */
                    { "x-amz-date", DATE }, { "x-amz-content-sha256", hash } };
    S3SignIn in = { "PUT", "/test$file.text", NULL, 0, h, 5, hash, DATE, "us-east-1", "s3" };
    check_sign(&in,
               "PUT\n/test%24file.text\n\n"
               "date:Fri, 24 May 2013 00:00:00 GMT\nhost:examplebucket.s3.amazonaws.com\n"
               "x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
               "x-amz-date:20130524T000000Z\nx-amz-storage-class:REDUCED_REDUNDANCY\n\n"
               "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
               "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
               "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d",
               "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
               "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,"
               "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

static void test_aws_example_get_bucket_lifecycle_valueless_param(void **state)
{
    (void)state;
    S3Param q[] = { { "lifecycle", NULL } };
    S3Param h[] = { { "Host", HOST }, { "x-amz-date", DATE }, { "x-amz-content-sha256", S3_EMPTY_SHA256 } };
    S3SignIn in = { "GET", "/", q, 1, h, 3, S3_EMPTY_SHA256, DATE, "us-east-1", "s3" };
    check_sign(&in,
               "GET\n/\nlifecycle=\n"
               "host:examplebucket.s3.amazonaws.com\nx-amz-content-sha256:" S3_EMPTY_SHA256
               "\nx-amz-date:20130524T000000Z\n\nhost;x-amz-content-sha256;x-amz-date\n" S3_EMPTY_SHA256,
               "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca",
               "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
               "SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
               "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

static void test_aws_example_list_objects_query_sorted(void **state)
{
    (void)state;
    S3Param q[] = { { "prefix", "J" }, { "max-keys", "2" } };   /* given out of order */
    S3Param h[] = { { "Host", HOST }, { "x-amz-date", DATE }, { "x-amz-content-sha256", S3_EMPTY_SHA256 } };
    S3SignIn in = { "GET", "/", q, 2, h, 3, S3_EMPTY_SHA256, DATE, "us-east-1", "s3" };
    check_sign(&in,
               "GET\n/\nmax-keys=2&prefix=J\n"
               "host:examplebucket.s3.amazonaws.com\nx-amz-content-sha256:" S3_EMPTY_SHA256
               "\nx-amz-date:20130524T000000Z\n\nhost;x-amz-content-sha256;x-amz-date\n" S3_EMPTY_SHA256,
               "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7",
               "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
               "SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
               "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

static void test_signing_key_differs_by_region_and_date(void **state)
{
    (void)state;
    uint8_t a[32], b[32], c[32];
    s3_signing_key(SECRET, "20130524", "us-east-1", "s3", a);
    s3_signing_key(SECRET, "20130524", "eu-west-1", "s3", b);
    s3_signing_key(SECRET, "20130525", "us-east-1", "s3", c);
    assert_memory_not_equal(a, b, 32);
    assert_memory_not_equal(a, c, 32);
}

static void encoded(const char *in, bool keep_slash, const char *want)
{
    Buf b;
    Err err;
    buf_init(&b, 0);
    assert_int_equal(buf_append_str(&b, "", &err), 0);
    assert_int_equal(s3_uri_encode(&b, in, keep_slash, &err), 0);
    assert_string_equal((const char *)b.data, want);
    buf_free(&b);
}

static void test_uri_encode_upper_hex_unreserved_and_slash(void **state)
{
    (void)state;
    encoded("AZaz09-._~", false, "AZaz09-._~");
    encoded("a b+c=d&e(1)*", false, "a%20b%2Bc%3Dd%26e%281%29%2A");
    encoded("packs/ab/cd", true, "packs/ab/cd");      /* paths keep '/' */
    encoded("packs/ab/cd", false, "packs%2Fab%2Fcd"); /* query values do not */
    encoded("\xc3\xa9\x7f", false, "%C3%A9%7F");      /* bytes, upper-case hex */
    encoded("%2f", false, "%252f");                    /* no double meaning */
}

static void query(const S3Param *q, size_t n, const char *want)
{
    Buf b;
    Err err;
    buf_init(&b, 0);
    assert_int_equal(s3_canonical_query(&b, q, n, &err), 0);
    assert_string_equal((const char *)b.data, want);
    buf_free(&b);
}

static void test_canonical_query_sorted_encoded_valueless(void **state)
{
    (void)state;
    S3Param list[] = { { "prefix", "repo/packs/" }, { "list-type", "2" }, { "max-keys", "1000" },
                       { "continuation-token", "1ab/+=x" } };
    query(list, 4, "continuation-token=1ab%2F%2B%3Dx&list-type=2&max-keys=1000&prefix=repo%2Fpacks%2F");
    S3Param up[] = { { "uploads", NULL } };
    query(up, 1, "uploads=");
    S3Param part[] = { { "uploadId", "2~a b" }, { "partNumber", "10" } };
    query(part, 2, "partNumber=10&uploadId=2~a%20b");
    S3Param same[] = { { "a", "2" }, { "a", "1" }, { "B", "x" } };   /* byte order: upper case first, then value */
    query(same, 3, "B=x&a=1&a=2");
    query(NULL, 0, "");
}

static void test_header_values_trimmed_and_folded(void **state)
{
    (void)state;
    S3Param h[] = { { "X-Amz-Meta-Note", "  two   words\there  " }, { "host", "h" } };
    S3SignIn in = { "GET", "/k", NULL, 0, h, 2, S3_EMPTY_SHA256, DATE, "us-east-1", "s3" };
    Buf creq, sh;
    Err err;
    buf_init(&creq, 0);
    buf_init(&sh, 0);
    assert_int_equal(buf_append_str(&sh, "", &err), 0);
    assert_int_equal(s3_canonical_request(&in, &creq, &sh, &err), 0);
    assert_non_null(strstr((const char *)creq.data, "\nhost:h\nx-amz-meta-note:two words here\n"));
    assert_string_equal((const char *)sh.data, "host;x-amz-meta-note");
    buf_free(&creq);
    buf_free(&sh);
}

static void test_too_many_params_refused(void **state)
{
    (void)state;
    S3Param q[S3_SIGN_MAX_PARAMS + 1];
    Buf b;
    Err err;
    for (size_t i = 0; i < S3_SIGN_MAX_PARAMS + 1; i++) q[i] = (S3Param){ "a", "b" };
    buf_init(&b, 0);
    assert_int_equal(s3_canonical_query(&b, q, S3_SIGN_MAX_PARAMS + 1, &err), ERR_INVALID);
    buf_free(&b);
}

static void md5_hex(const char *s, const char *want)
{
    uint8_t d[16];
    char hex[33];
    Err err;
    assert_int_equal(s3_md5(s, strlen(s), d, &err), 0);
    sodium_bin2hex(hex, sizeof hex, d, sizeof d);
    assert_string_equal(hex, want);
}

static void test_md5_rfc1321_suite(void **state)
{
    (void)state;
    md5_hex("", "d41d8cd98f00b204e9800998ecf8427e");
    md5_hex("a", "0cc175b9c0f1b6a831c399e269772661");
    md5_hex("abc", "900150983cd24fb0d6963f7d28e17f72");
    md5_hex("message digest", "f96b697d7cb7938d525a2f31aaf161d0");
    md5_hex("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b");
    md5_hex("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f");
    md5_hex("12345678901234567890123456789012345678901234567890123456789012345678901234567890",
            "57edf4a22be3c955ac49da2e2107b67a");
    /* 56 bytes: the padding spills into a second block */
    md5_hex("01234567890123456789012345678901234567890123456789012345", "8af270b2847610e742b0791b53648c09");
}

/* The payload hash (OpenSSL's SHA-256): FIPS 180-2 vectors, the empty body
 * S3 knows, and agreement with libsodium on sizes around block edges and
 * on a body of several MiB (the size of a pack). */
static void test_payload_sha256_vectors_and_libsodium_agree(void **state)
{
    static const size_t sizes[] = { 0, 1, 55, 56, 63, 64, 65, 127, 128, 1000, 65536, 5u << 20 };
    char hex[65], want[65];
    uint8_t h[crypto_hash_sha256_BYTES];
    uint8_t *buf = malloc(5u << 20);
    (void)state;
    assert_non_null(buf);
    s3_sha256_hex("", 0, hex);
    assert_string_equal(hex, S3_EMPTY_SHA256);
    s3_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    s3_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    for (size_t i = 0; i < (5u << 20); i++) buf[i] = (uint8_t)(i * 2654435761u >> 13);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        s3_sha256_hex(buf, sizes[i], hex);
        crypto_hash_sha256(h, buf, sizes[i]);
        sodium_bin2hex(want, sizeof want, h, sizeof h);
        assert_string_equal(hex, want);
    }
    free(buf);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_aws_example_get_object_with_range),
        cmocka_unit_test(test_aws_example_put_object_encodes_dollar_and_hashes_body),
        cmocka_unit_test(test_aws_example_get_bucket_lifecycle_valueless_param),
        cmocka_unit_test(test_aws_example_list_objects_query_sorted),
        cmocka_unit_test(test_signing_key_differs_by_region_and_date),
        cmocka_unit_test(test_uri_encode_upper_hex_unreserved_and_slash),
        cmocka_unit_test(test_canonical_query_sorted_encoded_valueless),
        cmocka_unit_test(test_header_values_trimmed_and_folded),
        cmocka_unit_test(test_too_many_params_refused),
        cmocka_unit_test(test_md5_rfc1321_suite),
        cmocka_unit_test(test_payload_sha256_vectors_and_libsodium_agree),
    };
    if (sodium_init() < 0) return 1;
    return cmocka_run_group_tests(t, NULL, NULL);
}
