/* s3_retry.c: retries with exponential backoff and jitter, a total time
 * budget per operation, and the one place that turns an HTTP/S3 answer into
 * an Err ("s3 PUT bucket/prefix/key: HTTP 503 SlowDown: ... (gave up after
 * 8 tries in 41.2 s)").
 * Invariants: (1) a retry starts from a clean response and with the
 * caller's output Buf cut back to its length before the first try, so a
 * body cut short is never half-kept; (2) 4xx answers other than 429 and
 * the request-timeout/slow-down codes fail at once; (3) messages hold the
 * object, the status and the server's <Code>, never a credential. */
#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine/common/log.h"
#include "storage-backends/s3/s3_int.h"

void s3_object_name(const S3 *s3, const char *key, char *out, size_t cap)
{
    if (key) snprintf(out, cap, "%s/%s", s3->bucket, key);
    else snprintf(out, cap, "%s/%s", s3->bucket, s3->prefix);
}

static bool curl_code_retryable(int cc)
{
    switch (cc) {
    case CURLE_COULDNT_RESOLVE_HOST:   /* DNS hiccups happen; the budget bounds a typo */
    case CURLE_COULDNT_CONNECT:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_PARTIAL_FILE:           /* body shorter than Content-Length */
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SEND_FAIL_REWIND:
        return true;
    default:
        return false;
    }
}

static bool code_retryable(const char *code)
{
    static const char *const r[] = { "SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout",
                                     "XAmzContentSHA256Mismatch", "BadDigest", "OperationAborted", NULL };
    for (int i = 0; r[i]; i++)
        if (strcmp(code, r[i]) == 0) return true;
    return false;
}

static bool status_retryable(long st)
{
    return st == 429 || st == 500 || st == 502 || st == 503 || st == 504;
}

/* The server's message, on one line and bounded. */
static void clean_message(const char *m, char *out, size_t cap)
{
    size_t j = 0;
    for (size_t i = 0; m[i] && j + 1 < cap && j < 200; i++) out[j++] = (m[i] == '\n' || m[i] == '\r') ? ' ' : m[i];
    out[j] = '\0';
}

/* Is this answer a failure we may retry? ok: 2xx and well-formed. */
typedef enum Verdict { V_OK, V_RETRY, V_FAIL } Verdict;

static Verdict judge(const S3Req *req, const S3Resp *resp)
{
    S3XmlError xe;
    if (resp->curl_code) {
        if (resp->sink_full) return V_FAIL;
        return curl_code_retryable(resp->curl_code) ? V_RETRY : V_FAIL;
    }
    if (resp->status >= 200 && resp->status < 300) {
        char root[64];
        bool complete;
        const char *b = (const char *)resp->body.data;
        if (!req->xml) return V_OK;
        if (s3_xml_is_html(b, resp->body.len) || !s3_xml_root(b, resp->body.len, root, sizeof root, &complete))
            return V_FAIL;                                  /* not an S3 answer */
        if (strcmp(root, "Error") == 0) {                   /* an error inside a 200 (CompleteMultipartUpload) */
            if (!complete) return V_RETRY;
            return s3_xml_parse_error(b, resp->body.len, &xe) && code_retryable(xe.code) ? V_RETRY : V_FAIL;
        }
        return complete ? V_OK : V_RETRY;                   /* cut short: ask again */
    }
    if (status_retryable(resp->status) && resp->status != 501) return V_RETRY;
    if (s3_xml_parse_error((const char *)resp->body.data, resp->body.len, &xe) && code_retryable(xe.code))
        return V_RETRY;
    return V_FAIL;
}

int s3_error_from_resp(S3 *s3, const S3Req *req, const S3Resp *resp, Err *err)
{
    char obj[1200], msg[256];
    S3XmlError xe;
    const char *b = (const char *)resp->body.data;
    bool have_xml;
    const char *code;
    long st = resp->status;

    s3_object_name(s3, req->key, obj, sizeof obj);
    if (resp->curl_code) {
        if (resp->sink_full)
            return err_set(err, ERR_NOMEM, "s3 %s %s: answer larger than the buffer allows", req->method, obj);
        return err_set(err, ERR_NET, "s3 %s %s: cannot get an answer from %s://%s: %s", req->method, obj,
                       s3->scheme, s3->authority, resp->curl_msg);
    }
    if (s3_xml_is_html(b, resp->body.len) || strstr(resp->content_type, "text/html"))
        return err_set(err, ERR_INVALID, "s3 %s %s: %s://%s is not an S3 endpoint (HTTP %ld with an HTML page)",
                       req->method, obj, s3->scheme, s3->authority, st);
    have_xml = s3_xml_parse_error(b, resp->body.len, &xe);
    if (st >= 200 && st < 300 && !have_xml)
        return err_set(err, ERR_INVALID, "s3 %s %s: %s://%s is not an S3 endpoint (HTTP %ld without the expected XML answer)",
                       req->method, obj, s3->scheme, s3->authority, st);
    if (!have_xml) {
        if (st == 404) return err_set(err, ERR_NOTFOUND, "s3 %s %s: not found (HTTP 404)", req->method, obj);
        if (st == 403)
            return err_set(err, ERR_PERM, "s3 %s %s: HTTP 403 Forbidden (access denied or wrong credentials)", req->method, obj);
        if (st == 301 || st == 307 || st == 400)
            return err_set(err, ERR_INVALID, "s3 %s %s: HTTP %ld: wrong region or endpoint%s%s%s", req->method, obj, st,
                           resp->bucket_region[0] ? " (the bucket is in region " : "", resp->bucket_region,
                           resp->bucket_region[0] ? ")" : "");
        return err_set(err, ERR_NET, "s3 %s %s: HTTP %ld%s", req->method, obj, st,
                       b && resp->body.len ? " (not an S3 error document)" : "");
    }
    code = xe.code;
    clean_message(xe.message, msg, sizeof msg);
#define IS(c) (strcmp(code, c) == 0)
    if (IS("NoSuchKey"))
        return err_set(err, ERR_NOTFOUND, "s3 %s %s: object not found (NoSuchKey)", req->method, obj);
    if (IS("NoSuchBucket"))
        return err_set(err, ERR_NOTFOUND, "s3 %s %s: bucket '%s' does not exist at %s://%s (NoSuchBucket)",
                       req->method, obj, s3->bucket, s3->scheme, s3->authority);
    if (IS("NoSuchUpload"))
        return err_set(err, ERR_NOTFOUND, "s3 %s %s: multipart upload is gone (NoSuchUpload)", req->method, obj);
    if (IS("SignatureDoesNotMatch"))
        return err_set(err, ERR_AUTH, "s3 %s %s: wrong secret key: the server rejected the request signature "
                       "(HTTP %ld SignatureDoesNotMatch); check AWS_SECRET_ACCESS_KEY", req->method, obj, st);
    if (IS("InvalidAccessKeyId"))
        return err_set(err, ERR_AUTH, "s3 %s %s: unknown access key id (HTTP %ld InvalidAccessKeyId)%s",
                       req->method, obj, st, s3->session_token ? "; with a session token set, check that "
                       "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN belong together and have not expired"
                       : "; check AWS_ACCESS_KEY_ID");
    if (IS("RequestTimeTooSkewed"))
        return err_set(err, ERR_AUTH, "s3 %s %s: clock skew: this machine's clock differs too much from the "
                       "server's (HTTP %ld RequestTimeTooSkewed); fix the system time (NTP)", req->method, obj, st);
    if (IS("ExpiredToken") || IS("TokenRefreshRequired"))
        return err_set(err, ERR_AUTH, "s3 %s %s: the session token has expired (HTTP %ld %s); refresh AWS_SESSION_TOKEN",
                       req->method, obj, st, code);
    if (IS("InvalidToken"))
        return err_set(err, ERR_AUTH, "s3 %s %s: the session token is not valid (HTTP %ld InvalidToken); check AWS_SESSION_TOKEN",
                       req->method, obj, st);
    if (IS("AuthorizationHeaderMalformed") && xe.region[0])
        return err_set(err, ERR_INVALID, "s3 %s %s: wrong region: requests are signed for '%s' but the server expects '%s' "
                       "(HTTP %ld AuthorizationHeaderMalformed); set AWS_REGION=%s", req->method, obj, s3->region,
                       xe.region, st, xe.region);
    if (IS("PermanentRedirect") || IS("IllegalLocationConstraintException") || IS("AuthorizationHeaderMalformed")) {
        const char *r = xe.region[0] ? xe.region : resp->bucket_region;
        return err_set(err, ERR_INVALID, "s3 %s %s: wrong region or endpoint for bucket '%s' (HTTP %ld %s%s%s%s): %s",
                       req->method, obj, s3->bucket, st, code, r[0] ? ", the bucket is in region '" : "", r,
                       r[0] ? "'" : "", msg);
    }
    if (IS("AccessDenied") || IS("AllAccessDisabled"))
        return err_set(err, ERR_PERM, "s3 %s %s: access denied (HTTP %ld %s)%s; the bucket policy must allow this "
                       "operation (see docs/OPERATIONS.md)", req->method, obj, st, code,
                       s3->session_token ? "; the session token may also have expired" : "");
    if (IS("InvalidRange"))
        return err_set(err, ERR_INVALID, "s3 %s %s: range past the end of the object (HTTP %ld InvalidRange)",
                       req->method, obj, st);
    {
        int rc = err_set(err, code_retryable(code) || status_retryable(st) ? ERR_NET
                              : (st >= 400 && st < 500) ? ERR_INVALID : ERR_NET,
                         "s3 %s %s: HTTP %ld %s%s%s", req->method, obj, st, code, msg[0] ? ": " : "", msg);
        return rc;
    }
#undef IS
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0) {}
}

/* One line saying why we retry, for the debug log. */
static void reason(const S3Resp *resp, char *out, size_t cap)
{
    S3XmlError xe;
    if (resp->curl_code) snprintf(out, cap, "%s", resp->curl_msg);
    else if (s3_xml_parse_error((const char *)resp->body.data, resp->body.len, &xe))
        snprintf(out, cap, "HTTP %ld %s", resp->status, xe.code);
    else if (resp->status >= 200 && resp->status < 300) snprintf(out, cap, "HTTP %ld with a truncated body", resp->status);
    else snprintf(out, cap, "HTTP %ld", resp->status);
}

int s3_call(S3 *s3, const S3Req *req, S3Resp *resp, Err *err)
{
    long t0 = now_ms(), delay;
    size_t out_len0 = req->out ? req->out->len : 0;
    int tries = 0, rc, max_tries = req->max_tries > 0 ? req->max_tries : s3->max_tries;
    Verdict v = V_FAIL;
    char why[300], obj[1200];

    for (;;) {
        s3_resp_reset(resp);
        if (req->out) {
            req->out->len = out_len0;
            if (req->out->data) req->out->data[out_len0] = 0;
        }
        tries++;
        rc = s3_http_once(s3, req, resp, err);
        if (rc && !resp->curl_code) return rc;   /* could not even build the request */
        v = judge(req, resp);
        if (v != V_RETRY || tries >= max_tries) break;
        delay = s3->backoff_base_ms << (tries - 1 < 20 ? tries - 1 : 20);
        if (delay > s3->backoff_max_ms) delay = s3->backoff_max_ms;
        delay = delay / 2 + (long)randombytes_uniform((uint32_t)(delay / 2 + 1));   /* equal jitter */
        if (resp->retry_after_s > 0 && resp->retry_after_s * 1000 > delay)
            delay = resp->retry_after_s * 1000 > s3->backoff_max_ms ? s3->backoff_max_ms : resp->retry_after_s * 1000;
        if (now_ms() - t0 + delay > s3->retry_budget_ms) break;
        atomic_fetch_add(&s3->n_retries, 1);
        reason(resp, why, sizeof why);
        s3_object_name(s3, req->key, obj, sizeof obj);
        log_debug("s3 retry %d/%d of %s %s in %ld ms: %s", tries, max_tries - 1, req->method, obj, delay, why);
        sleep_ms(delay);
    }
    if (v == V_OK) return 0;
    rc = s3_error_from_resp(s3, req, resp, err);
    if (v == V_RETRY) {
        atomic_fetch_add(&s3->n_failed, 1);
        size_t n = strlen(err->msg);
        err->retryable = true;
        snprintf(err->msg + n, sizeof err->msg - n, " (gave up after %d tr%s in %.1f s)", tries,
                 tries == 1 ? "y" : "ies", (double)(now_ms() - t0) / 1000.0);
    }
    return rc;
}
