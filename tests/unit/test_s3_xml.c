/* test_s3_xml.c: the S3 answer parsers (ListObjectsV2, Error,
 * InitiateMultipartUpload, DeleteObjects) on documents shaped like those AWS
 * and Ceph RGW send, hostile and truncated ones included; and how an error
 * document becomes one clear message (wrong region, clock skew, HTML page),
 * for the cases the loopback RGW cannot produce (it ignores the region). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "storage-backends/s3/s3_int.h"

#define DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

typedef struct Seen {
    char keys[8][128];
    uint64_t sizes[8];
    int n;
} Seen;

static int on_obj(void *ctx, const char *key, uint64_t size, Err *err)
{
    Seen *s = ctx;
    (void)err;
    if (s->n < 8) {
        snprintf(s->keys[s->n], sizeof s->keys[0], "%s", key);
        s->sizes[s->n] = size;
    }
    s->n++;
    return 0;
}

static void test_list_page_with_token_and_entities(void **state)
{
    (void)state;
    const char *doc = DECL
        "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name>"
        "<Prefix>repo/</Prefix><KeyCount>3</KeyCount><MaxKeys>3</MaxKeys><IsTruncated>true</IsTruncated>"
        "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=&amp;x</NextContinuationToken>"
        "<Contents><Key>repo/a</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified>"
        "<ETag>&quot;abc&quot;</ETag><Size>10</Size><StorageClass>STANDARD</StorageClass></Contents>"
        "<Contents><Key>repo/b&amp;c&#x2F;d</Key><Size>0</Size></Contents>"
        "<Contents>\n  <Key>repo/big</Key>\n  <Size>5368709120</Size>\n</Contents>"
        "</ListBucketResult>";
    Seen s = { 0 };
    bool trunc = false;
    Buf tok;
    Err err;
    buf_init(&tok, 0);
    assert_int_equal(s3_xml_parse_list(doc, strlen(doc), on_obj, &s, &trunc, &tok, &err), 0);
    assert_true(trunc);
    assert_string_equal((const char *)tok.data, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=&x");
    assert_int_equal(s.n, 3);
    assert_string_equal(s.keys[0], "repo/a");
    assert_int_equal(s.sizes[0], 10);
    assert_string_equal(s.keys[1], "repo/b&c/d");
    assert_string_equal(s.keys[2], "repo/big");
    assert_true(s.sizes[2] == 5368709120ull);
    buf_free(&tok);
}

static void test_list_last_page_and_empty(void **state)
{
    (void)state;
    const char *last = "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key><Size>1</Size>"
                       "</Contents></ListBucketResult>";
    const char *empty = DECL "<ListBucketResult><Name>b</Name><KeyCount>0</KeyCount>"
                        "<IsTruncated>false</IsTruncated><Prefix/></ListBucketResult>";
    Seen s = { 0 };
    bool trunc = true;
    Buf tok;
    Err err;
    buf_init(&tok, 0);
    assert_int_equal(buf_append_str(&tok, "old", &err), 0);
    assert_int_equal(s3_xml_parse_list(last, strlen(last), on_obj, &s, &trunc, &tok, &err), 0);
    assert_false(trunc);
    assert_int_equal(tok.len, 0);
    assert_int_equal(s.n, 1);
    s.n = 0;
    assert_int_equal(s3_xml_parse_list(empty, strlen(empty), on_obj, &s, &trunc, &tok, &err), 0);
    assert_int_equal(s.n, 0);
    buf_free(&tok);
}

static void expect_list_corrupt(const char *doc, const char *fragment)
{
    Seen s = { 0 };
    bool trunc;
    Buf tok;
    Err err;
    buf_init(&tok, 0);
    err_clear(&err);
    assert_int_equal(s3_xml_parse_list(doc, strlen(doc), on_obj, &s, &trunc, &tok, &err), ERR_CORRUPT);
    if (!strstr(err.msg, fragment)) fail_msg("message '%s' lacks '%s'", err.msg, fragment);
    buf_free(&tok);
}

static void test_list_refuses_truncated_foreign_and_bad_documents(void **state)
{
    (void)state;
    expect_list_corrupt("<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a</Key><Si", "truncated");
    expect_list_corrupt("<html><body>hello</body></html>", "unexpected XML answer <html>");
    expect_list_corrupt("", "not XML");
    expect_list_corrupt("{\"json\": true}", "not XML");
    expect_list_corrupt("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>", "NextContinuationToken");
    expect_list_corrupt("<ListBucketResult><Contents><Key>a</Key><Size>x1</Size></Contents></ListBucketResult>", "bad <Size>");
    expect_list_corrupt("<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>", "without <Key>");
}

static void test_error_document_fields(void **state)
{
    (void)state;
    const char *doc = DECL "<Error><Code>AuthorizationHeaderMalformed</Code><Message>The authorization header is "
                      "malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'</Message>"
                      "<Region>eu-west-1</Region><RequestId>X</RequestId><HostId>Y</HostId></Error>";
    S3XmlError e;
    assert_true(s3_xml_parse_error(doc, strlen(doc), &e));
    assert_string_equal(e.code, "AuthorizationHeaderMalformed");
    assert_string_equal(e.region, "eu-west-1");
    assert_non_null(strstr(e.message, "expecting 'eu-west-1'"));
    const char *rgw = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchBucket</Code>"
                      "<BucketName>nope</BucketName><RequestId>tx1</RequestId><HostId>h</HostId></Error>";
    assert_true(s3_xml_parse_error(rgw, strlen(rgw), &e));
    assert_string_equal(e.code, "NoSuchBucket");
    assert_string_equal(e.bucket, "nope");
    assert_string_equal(e.message, "");
    /* a DeleteResult holds <Error> elements but is not an error document */
    const char *del = "<DeleteResult><Error><Key>k</Key><Code>AccessDenied</Code></Error></DeleteResult>";
    assert_false(s3_xml_parse_error(del, strlen(del), &e));
    assert_false(s3_xml_parse_error("", 0, &e));
    assert_false(s3_xml_parse_error("<Error><Code>", 13, &e));
}

static void test_html_and_root_detection(void **state)
{
    (void)state;
    const char *page = "<!DOCTYPE HTML>\n<html lang=\"en\"><head><title>Error response</title></head></html>";
    char root[32];
    bool complete;
    assert_true(s3_xml_is_html(page, strlen(page)));
    assert_true(s3_xml_is_html("  <HTML><body>", 14));
    assert_false(s3_xml_is_html(DECL "<Error/>", strlen(DECL "<Error/>")));
    assert_true(s3_xml_root(DECL "<Error/>", strlen(DECL "<Error/>"), root, sizeof root, &complete));
    assert_string_equal(root, "Error");
    assert_true(complete);
    assert_true(s3_xml_root("<A x=\"1\"><B/></A>", 17, root, sizeof root, &complete));
    assert_string_equal(root, "A");
    assert_true(complete);
    assert_true(s3_xml_root("<A><B/>", 7, root, sizeof root, &complete));
    assert_false(complete);
    assert_false(s3_xml_root("plain text", 10, root, sizeof root, &complete));
}

static void test_upload_id(void **state)
{
    (void)state;
    const char *doc = DECL "<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                      "<Bucket>b</Bucket><Key>k</Key><UploadId>2~Ab_cD-eF&amp;g</UploadId></InitiateMultipartUploadResult>";
    Buf id;
    Err err;
    buf_init(&id, 0);
    assert_int_equal(s3_xml_parse_upload_id(doc, strlen(doc), &id, &err), 0);
    assert_string_equal((const char *)id.data, "2~Ab_cD-eF&g");
    const char *none = "<InitiateMultipartUploadResult><UploadId></UploadId></InitiateMultipartUploadResult>";
    assert_int_equal(s3_xml_parse_upload_id(none, strlen(none), &id, &err), ERR_CORRUPT);
    buf_free(&id);
}

typedef struct DelSeen {
    int n;
    char last[64];
} DelSeen;

static int on_del(void *ctx, const char *key, const char *code, const char *msg, Err *err)
{
    DelSeen *d = ctx;
    (void)msg;
    (void)err;
    d->n++;
    snprintf(d->last, sizeof d->last, "%s=%s", key, code);
    return 0;
}

static void test_delete_result_errors(void **state)
{
    (void)state;
    const char *doc = DECL "<DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                      "<Deleted><Key>a</Key></Deleted>"
                      "<Error><Key>b</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
                      "<Error><Key>c</Key><Code>InternalError</Code><Message>x</Message></Error></DeleteResult>";
    DelSeen d = { 0 };
    Err err;
    assert_int_equal(s3_xml_parse_delete(doc, strlen(doc), on_del, &d, &err), 0);
    assert_int_equal(d.n, 2);
    assert_string_equal(d.last, "c=InternalError");
    const char *quiet = "<DeleteResult/>";
    d.n = 0;
    assert_int_equal(s3_xml_parse_delete(quiet, strlen(quiet), on_del, &d, &err), 0);
    assert_int_equal(d.n, 0);
}

static void test_escape(void **state)
{
    (void)state;
    Buf b;
    Err err;
    buf_init(&b, 0);
    assert_int_equal(s3_xml_escape(&b, "a&b<c>\"d'", &err), 0);
    assert_string_equal((const char *)b.data, "a&amp;b&lt;c&gt;&quot;d&apos;");
    buf_free(&b);
}

/* ---- error documents to messages (s3_error_from_resp) */

static void word(long status, const char *ctype, const char *body, int want_code, const char *fragment)
{
    S3 s3;
    S3Req req = { .method = "GET", .key = "repo/config" };
    S3Resp resp;
    Err err;
    memset(&s3, 0, sizeof s3);
    s3.scheme = "https";
    s3.authority = "s3.example.com";
    s3.bucket = "bkt";
    s3.prefix = "repo/";
    s3.region = "us-east-1";
    s3.secret_key = "SECRETSECRET";
    s3_resp_init(&resp);
    resp.status = status;
    snprintf(resp.content_type, sizeof resp.content_type, "%s", ctype);
    assert_int_equal(buf_append_str(&resp.body, body, &err), 0);
    err_clear(&err);
    assert_int_equal(s3_error_from_resp(&s3, &req, &resp, &err), want_code);
    if (!strstr(err.msg, fragment)) fail_msg("message '%s' lacks '%s'", err.msg, fragment);
    assert_null(strstr(err.msg, "SECRETSECRET"));
    assert_non_null(strstr(err.msg, "bkt/repo/config"));
    assert_null(strchr(err.msg, '\n'));
    s3_resp_free(&resp);
}

static void test_error_words(void **state)
{
    (void)state;
    word(400, "application/xml",
         "<Error><Code>AuthorizationHeaderMalformed</Code><Message>the region 'us-east-1' is wrong; "
         "expecting 'eu-west-1'</Message><Region>eu-west-1</Region></Error>",
         ERR_INVALID, "wrong region: requests are signed for 'us-east-1' but the server expects 'eu-west-1'");
    word(301, "application/xml", "<Error><Code>PermanentRedirect</Code><Message>use the\nright endpoint</Message></Error>",
         ERR_INVALID, "wrong region or endpoint for bucket 'bkt' (HTTP 301 PermanentRedirect");
    word(403, "application/xml", "<Error><Code>RequestTimeTooSkewed</Code></Error>", ERR_AUTH, "clock skew");
    word(403, "application/xml", "<Error><Code>SignatureDoesNotMatch</Code></Error>", ERR_AUTH,
         "wrong secret key: the server rejected the request signature (HTTP 403 SignatureDoesNotMatch)");
    word(400, "application/xml", "<Error><Code>ExpiredToken</Code><Message>The provided token has expired.</Message></Error>",
         ERR_AUTH, "session token has expired (HTTP 400 ExpiredToken)");
    word(404, "application/xml", "<Error><Code>NoSuchBucket</Code><BucketName>bkt</BucketName></Error>", ERR_NOTFOUND,
         "bucket 'bkt' does not exist at https://s3.example.com (NoSuchBucket)");
    word(404, "text/html", "<!DOCTYPE HTML><html><body>File not found</body></html>", ERR_INVALID,
         "https://s3.example.com is not an S3 endpoint (HTTP 404 with an HTML page)");
    word(503, "application/xml", "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>",
         ERR_NET, "HTTP 503 SlowDown: Please reduce your request rate.");
    word(403, "application/xml", "<Error><Code>AccessDenied</Code></Error>", ERR_PERM, "access denied (HTTP 403 AccessDenied)");
    word(404, "", "", ERR_NOTFOUND, "not found (HTTP 404)");
    word(200, "text/plain", "hello", ERR_INVALID, "is not an S3 endpoint");
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_list_page_with_token_and_entities),
        cmocka_unit_test(test_list_last_page_and_empty),
        cmocka_unit_test(test_list_refuses_truncated_foreign_and_bad_documents),
        cmocka_unit_test(test_error_document_fields),
        cmocka_unit_test(test_html_and_root_detection),
        cmocka_unit_test(test_upload_id),
        cmocka_unit_test(test_delete_result_errors),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_error_words),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
