/* s3_int.h: what the files of the S3 driver share (no other module includes
 * this; the unit tests of the driver do).
 * Invariant: an S3 handle is read-only after sto_s3_open() returns,
 * except for the connection pool (own mutex) and the atomic counters, so
 * every op may run from several threads at once. */
#ifndef TM_STORAGE_S3_INT_H
#define TM_STORAGE_S3_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/common/buf.h"
#include "engine/common/err.h"
#include "storage-backends/s3/s3.h"

/* ------------------------------------------------------------ s3_sign.c */

/* A name/value pair: a query parameter or a request header, raw (not
 * percent-encoded). A NULL value in a query is written "name=". */
typedef struct S3Param {
    const char *name;
    const char *value;
} S3Param;

#define S3_SIGN_MAX_PARAMS 16
#define S3_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

typedef struct S3SignIn {
    const char *method;            /* "GET", "PUT", ... */
    const char *path;              /* raw path, starts with '/', '/' kept */
    const S3Param *query;          /* raw; the signer encodes and sorts */
    size_t nquery;
    const S3Param *headers;        /* any case; all of them are signed */
    size_t nheaders;
    const char *payload_hash;      /* hex SHA-256 of the body or "UNSIGNED-PAYLOAD" */
    const char *amz_date;          /* "YYYYMMDDTHHMMSSZ" */
    const char *region;
    const char *service;           /* "s3" */
} S3SignIn;

/* Hex SHA-256 of p[0..n). */
void s3_sha256_hex(const void *p, size_t n, char out[65]);
/* MD5 of p[0..n) from libcrypto, for Content-MD5 only (DeleteObjects
 * demands it). ERR_UNSUPPORTED when libcrypto refuses MD5 (a FIPS-only
 * provider): the batch delete cannot be sent then. */
int s3_md5(const void *p, size_t n, uint8_t out[16], Err *err);
/* AWS URI encoding: unreserved characters (A-Z a-z 0-9 - . _ ~) as they are,
 * everything else %XX with upper-case hex; '/' kept when keep_slash. */
int s3_uri_encode(Buf *out, const char *s, bool keep_slash, Err *err);
/* The canonical query string: encoded, sorted by name then value, joined
 * with '&'. Also the query the request really sends, so curl needs no
 * canonicalisation of its own. ERR_INVALID past S3_SIGN_MAX_PARAMS. */
int s3_canonical_query(Buf *out, const S3Param *q, size_t n, Err *err);
/* Canonical request (task 1 of SigV4); out_signed gets "host;x-amz-date..." */
int s3_canonical_request(const S3SignIn *in, Buf *out, Buf *out_signed, Err *err);
/* String to sign (task 2) from a canonical request. */
int s3_string_to_sign(const S3SignIn *in, const char *creq, size_t creq_len, Buf *out, Err *err);
/* Signing key: HMAC chain over "AWS4"+secret, date8, region, service. */
void s3_signing_key(const char *secret, const char *date8, const char *region,
                    const char *service, uint8_t out[32]);
/* The full Authorization header value ("AWS4-HMAC-SHA256 Credential=...").
 * Holds the access key id, never the secret. */
int s3_authorization(const S3SignIn *in, const char *access_key, const char *secret,
                     Buf *out, Err *err);

/* ------------------------------------------------------------ s3_xml.c */

typedef struct S3XmlError {
    char code[64];
    char message[256];
    char region[64];      /* AuthorizationHeaderMalformed, PermanentRedirect */
    char bucket[128];
} S3XmlError;

typedef int (*S3XmlObjFn)(void *ctx, const char *key, uint64_t size, Err *err);
typedef int (*S3XmlDelErrFn)(void *ctx, const char *key, const char *code,
                             const char *message, Err *err);

/* true when body is an S3 <Error> document; fills out (fields may be ""). */
bool s3_xml_parse_error(const char *body, size_t len, S3XmlError *out);
/* true when the body looks like an HTML page rather than XML. */
bool s3_xml_is_html(const char *body, size_t len);
/* The name of the root element of an XML body ("" if none) and whether the
 * body is complete (its closing root tag is present). */
bool s3_xml_root(const char *body, size_t len, char *name, size_t cap, bool *out_complete);
/* ListObjectsV2 result: fn per <Contents>; out_token gets
 * NextContinuationToken (emptied first). ERR_CORRUPT if it does not parse. */
int s3_xml_parse_list(const char *body, size_t len, S3XmlObjFn fn, void *ctx,
                      bool *out_truncated, Buf *out_token, Err *err);
/* InitiateMultipartUploadResult: the UploadId into out (emptied first). */
int s3_xml_parse_upload_id(const char *body, size_t len, Buf *out, Err *err);
/* DeleteResult: fn per <Error>; returns fn's first non-zero value. */
int s3_xml_parse_delete(const char *body, size_t len, S3XmlDelErrFn fn, void *ctx, Err *err);
/* Append s with & < > " ' escaped. */
int s3_xml_escape(Buf *out, const char *s, Err *err);

/* ------------------------------------------------------------ the handle */

typedef struct S3Pool {
    pthread_mutex_t mu;
    void **idle;          /* CURL * easy handles, their connections kept alive */
    size_t nidle, cap;
} S3Pool;

typedef struct S3Cache S3Cache;   /* s3_cache.c */

typedef struct S3 {
    char *scheme;         /* "http" or "https" */
    char *authority;      /* host[:port] of the endpoint */
    char *bucket;
    char *prefix;         /* "" or "a/b/" (always ends with '/') */
    char *region;
    char *access_key;
    char *secret_key;     /* sodium_malloc'd, wiped on close */
    char *session_token;  /* sodium_malloc'd or NULL */
    char *ca_file;        /* NULL = system bundle */
    char *location;       /* printable: "s3:http://host/bucket/prefix" */
    bool virtual_host;
    long connect_timeout_s;
    long low_speed_time_s;
    long low_speed_limit;  /* bytes/s under which low_speed_time_s counts */
    int max_tries;         /* 1 + retries */
    long retry_budget_ms;  /* total time one operation may spend retrying */
    long backoff_base_ms;
    long backoff_max_ms;
    size_t mp_threshold;   /* objects of this size or more go multipart */
    size_t mp_part_size;
    int mp_parallel;
    long clock_offset_s;   /* testing: shift the signing clock */
    size_t read_cache;     /* bytes of the block cache for ranged reads; 0 = off */
    S3Cache *cache;        /* NULL when off */
    S3Pool pool;
    atomic_ullong n_requests;
    atomic_ullong n_retries;
    atomic_ullong n_failed;
    atomic_ullong bytes_up;
    atomic_ullong bytes_down;
} S3;

/* ------------------------------------------------------------ s3_http.c */

typedef struct S3Req {
    const char *method;
    const char *key;            /* full key (repo prefix included); NULL = the bucket */
    const S3Param *query;
    size_t nquery;
    const uint8_t *body;        /* borrowed; NULL for none */
    size_t body_len;
    const char *payload_hash;   /* hex SHA-256 of body; NULL = computed */
    const char *content_md5;    /* base64, or NULL */
    const char *range;          /* "bytes=a-b", or NULL */
    Buf *out;                   /* 2xx body goes here; NULL = resp->body */
    bool xml;                   /* a 2xx answer must be a complete XML document */
    int max_tries;              /* 0 = s3->max_tries */
} S3Req;

typedef struct S3Resp {
    long status;                /* 0 when no HTTP answer came */
    Buf body;                   /* error bodies; 2xx bodies when req->out is NULL */
    char etag[128];
    char content_type[96];
    char content_range[96];
    char bucket_region[64];     /* x-amz-bucket-region */
    long retry_after_s;         /* Retry-After, -1 if none */
    int64_t last_modified;
    uint64_t content_length;
    bool has_length;
    bool sink_full;             /* the caller's Buf hit its maximum */
    int curl_code;              /* CURLcode, 0 = transfer ok */
    char curl_msg[256];
} S3Resp;

void s3_resp_init(S3Resp *r);
void s3_resp_reset(S3Resp *r);   /* for the next try: keeps memory */
void s3_resp_free(S3Resp *r);

/* One HTTP exchange, no retry. 0 when a full HTTP answer arrived (any
 * status: see resp->status); else resp->curl_code says what went wrong and
 * the return is ERR_NET (nothing set in err: the retry layer words it). */
int s3_http_once(S3 *s3, const S3Req *req, S3Resp *resp, Err *err);
/* Process-wide curl setup (idempotent, thread-safe). */
int s3_http_global_init(Err *err);
void s3_pool_init(S3Pool *p);
void s3_pool_free(S3Pool *p);

/* ------------------------------------------------------------ s3_retry.c */

/* Run req with retries (backoff with jitter, budget per operation). 0 on a
 * 2xx answer; else the Err names the object (`what`, e.g. "PUT packs/ab/x")
 * and quotes the server's <Code>, marked retryable when it was. A 404 is
 * returned as ERR_NOTFOUND with resp filled, for callers that accept it. */
int s3_call(S3 *s3, const S3Req *req, S3Resp *resp, Err *err);
/* Word a failed answer (no retry logic): used by s3_call and by callers
 * that see an error inside a 200 (DeleteObjects per-key errors). */
int s3_error_from_resp(S3 *s3, const S3Req *req, const S3Resp *resp, Err *err);
/* "bucket/prefix/key" for messages (key may be NULL: the bucket). */
void s3_object_name(const S3 *s3, const char *key, char *out, size_t cap);

/* ------------------------------------------------------------ s3_multipart.c */

/* Upload buf as a multipart upload (parts of s3->mp_part_size, up to
 * s3->mp_parallel in flight). On any failure the upload is aborted. */
int s3_multipart_put(S3 *s3, const char *full_key, const uint8_t *buf, size_t len, Err *err);

/* ------------------------------------------------------------ s3_cache.c */

#define S3_CACHE_BLOCK (4u << 20)   /* block of a ranged-read cache */
#define S3_CACHE_TOUCHED 64         /* objects remembered as range-read */
#define S3_CACHE_PASS (-1)          /* s3_cache_get: not for the cache, GET directly */

/* How the cache fills a block: append up to len bytes of key from off to
 * out, fewer at the object's end (s3.c: a ranged GET). Called without the
 * cache's lock, from any thread. */
typedef int (*S3CacheFetchFn)(void *ctx, const char *key, uint64_t off, size_t len, Buf *out,
                              Err *err);
/* *out = NULL (cache off) when budget is under two blocks. where (copied)
 * prefixes keys in messages (the bucket); fetch/ctx fill blocks. */
int s3_cache_new(size_t budget, const char *where, S3CacheFetchFn fetch, void *ctx, S3Cache **out,
                 Err *err);
void s3_cache_free(S3Cache *c);   /* accepts NULL */
/* A ranged read of full key through the cache: 0 with the bytes appended to
 * out, an ERR_* code, or S3_CACHE_PASS when the caller should GET directly
 * (cache off (c NULL), first read of the object, whole-object or large read). */
int s3_cache_get(S3Cache *c, const char *key, uint64_t off, size_t len, Buf *out, Err *err);
/* Blocks fetched so far (for the debug summary); 0 for NULL. */
uint64_t s3_cache_fetches(S3Cache *c);

/* ------------------------------------------------------------ s3_conf.c */

/* Parse url, the caller's settings o (may be NULL) and, for what o leaves
 * unset, the environment into s3 (already zeroed). Messages never contain a
 * secret. */
int s3_conf_load(S3 *s3, const char *url, const StoS3Options *o, Err *err);
void s3_conf_free(S3 *s3);

#endif
