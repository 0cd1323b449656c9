/* s3_http.c: one signed HTTP exchange over libcurl, and the pool of easy
 * handles whose kept-alive connections later requests reuse.
 * Invariants: (1) a handle is used by one thread at a time (taken from the
 * pool, given back after the transfer); (2) the request is signed for the
 * exact Host, path and query that curl sends (we set Host ourselves and
 * write the query in canonical form); (3) headers are never logged: one of
 * them carries the session token. */
#include <curl/curl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "storage-backends/s3/s3_int.h"

#define POOL_MAX 64
#define ERR_BODY_MAX (64 * 1024)
#define OK_BODY_MAX (32u << 20)

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static CURLcode g_init_rc;

static void global_init(void)
{
    g_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int s3_http_global_init(Err *err)
{
    pthread_once(&g_once, global_init);
    if (g_init_rc != CURLE_OK) return err_set(err, ERR_NET, "libcurl init failed: %s", curl_easy_strerror(g_init_rc));
    return 0;
}

void s3_pool_init(S3Pool *p)
{
    pthread_mutex_init(&p->mu, NULL);
    p->idle = NULL;
    p->nidle = p->cap = 0;
}

void s3_pool_free(S3Pool *p)
{
    for (size_t i = 0; i < p->nidle; i++) curl_easy_cleanup(p->idle[i]);
    free(p->idle);
    p->idle = NULL;
    p->nidle = p->cap = 0;
    pthread_mutex_destroy(&p->mu);
}

static CURL *pool_take(S3Pool *p)
{
    CURL *c = NULL;
    pthread_mutex_lock(&p->mu);
    if (p->nidle) c = p->idle[--p->nidle];
    pthread_mutex_unlock(&p->mu);
    if (c) {
        curl_easy_reset(c);   /* options go, the live connection stays */
        return c;
    }
    return curl_easy_init();
}

static void pool_give(S3Pool *p, CURL *c)
{
    if (!c) return;
    pthread_mutex_lock(&p->mu);
    if (p->nidle == p->cap && p->cap < POOL_MAX) {
        size_t ncap = p->cap ? p->cap * 2 : 8;
        void **n = realloc(p->idle, ncap * sizeof *n);
        if (n) {
            p->idle = n;
            p->cap = ncap;
        }
    }
    if (p->nidle < p->cap) {
        p->idle[p->nidle++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&p->mu);
    if (c) curl_easy_cleanup(c);
}

void s3_resp_init(S3Resp *r)
{
    memset(r, 0, sizeof *r);
    buf_init(&r->body, OK_BODY_MAX);
    r->retry_after_s = -1;
}

void s3_resp_reset(S3Resp *r)
{
    Buf keep = r->body;
    memset(r, 0, sizeof *r);
    r->body = keep;
    buf_reset(&r->body);
    r->retry_after_s = -1;
}

void s3_resp_free(S3Resp *r)
{
    if (r) buf_free(&r->body);
}

typedef struct Xfer {
    S3Resp *resp;
    Buf *out;               /* 2xx sink of the caller, or NULL */
    const uint8_t *body;
    size_t body_len, body_off;
} Xfer;

static size_t on_write(char *p, size_t size, size_t n, void *ud)
{
    Xfer *x = ud;
    size_t len = size * n;
    Err e;
    bool ok_status = x->resp->status >= 200 && x->resp->status < 300;
    if (ok_status && x->out) {
        if (buf_append(x->out, p, len, &e) != 0) {
            x->resp->sink_full = true;
            return 0;   /* CURLE_WRITE_ERROR */
        }
        return len;
    }
    if (!ok_status && x->resp->body.len + len > ERR_BODY_MAX) return len;   /* keep the head only */
    if (buf_append(&x->resp->body, p, len, &e) != 0) {
        x->resp->sink_full = true;
        return 0;
    }
    return len;
}

static void copy_value(char *dst, size_t cap, const char *v, size_t vl)
{
    while (vl && (*v == ' ' || *v == '\t')) { v++; vl--; }
    while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' ')) vl--;
    if (vl >= cap) vl = cap - 1;
    memcpy(dst, v, vl);
    dst[vl] = '\0';
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    Xfer *x = ud;
    S3Resp *r = x->resp;
    size_t len = size * n;
    const char *colon;
    char tmp[128];

    if (len > 5 && strncmp(p, "HTTP/", 5) == 0) {   /* a new status line: forget older headers */
        const char *sp = memchr(p, ' ', len);
        long st = sp ? strtol(sp + 1, NULL, 10) : 0;
        if (st == 100) return len;
        r->status = st;
        r->etag[0] = r->content_type[0] = r->content_range[0] = r->bucket_region[0] = '\0';
        r->has_length = false;
        r->retry_after_s = -1;
        return len;
    }
    colon = memchr(p, ':', len);
    if (!colon) return len;
#define IS(name) ((size_t)(colon - p) == sizeof(name) - 1 && strncasecmp(p, name, sizeof(name) - 1) == 0)
    {
        const char *v = colon + 1;
        size_t vl = len - (size_t)(v - p);
        if (IS("ETag")) copy_value(r->etag, sizeof r->etag, v, vl);
        else if (IS("Content-Type")) copy_value(r->content_type, sizeof r->content_type, v, vl);
        else if (IS("Content-Range")) copy_value(r->content_range, sizeof r->content_range, v, vl);
        else if (IS("x-amz-bucket-region")) copy_value(r->bucket_region, sizeof r->bucket_region, v, vl);
        else if (IS("Content-Length")) {
            copy_value(tmp, sizeof tmp, v, vl);
            r->content_length = strtoull(tmp, NULL, 10);
            r->has_length = true;
            if (x->out && r->status >= 200 && r->status < 300 && r->content_length <= x->out->max) {
                Err e;   /* one allocation for the whole body; on failure on_write reports it */
                (void)buf_reserve(x->out, (size_t)r->content_length, &e);
            }
        } else if (IS("Retry-After")) {
            copy_value(tmp, sizeof tmp, v, vl);
            r->retry_after_s = strtol(tmp, NULL, 10);
        } else if (IS("Last-Modified")) {
            copy_value(tmp, sizeof tmp, v, vl);
            time_t t = curl_getdate(tmp, NULL);
            r->last_modified = t > 0 ? (int64_t)t : 0;
        }
    }
#undef IS
    return len;
}

static size_t on_read(char *dst, size_t size, size_t n, void *ud)
{
    Xfer *x = ud;
    size_t want = size * n, left = x->body_len - x->body_off;
    if (want > left) want = left;
    if (want) memcpy(dst, x->body + x->body_off, want);
    x->body_off += want;
    return want;
}

/* curl rewinds the upload when it resends on a reused connection it found dead. */
static int on_seek(void *ud, curl_off_t off, int origin)
{
    Xfer *x = ud;
    if (origin != SEEK_SET || off < 0 || (uint64_t)off > x->body_len) return CURL_SEEKFUNC_FAIL;
    x->body_off = (size_t)off;
    return CURL_SEEKFUNC_OK;
}

static int add_header(struct curl_slist **l, Err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int add_header(struct curl_slist **l, Err *err, const char *fmt, ...)
{
    char line[4096];
    struct curl_slist *n;
    va_list ap;
    int w;
    va_start(ap, fmt);
    w = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (w < 0 || (size_t)w >= sizeof line) return err_set(err, ERR_INVALID, "request header too long");
    n = curl_slist_append(*l, line);
    sodium_memzero(line, sizeof line);
    if (!n) return err_set(err, ERR_NOMEM, "out of memory building request headers");
    *l = n;
    return 0;
}

/* Request target: the raw path that is signed and its encoded form for the URL. */
static int build_target(const S3 *s3, const S3Req *req, Buf *path, Buf *url, Buf *host, Err *err)
{
    int rc;
    if (s3->virtual_host) {
        if ((rc = buf_printf(host, err, "%s.%s", s3->bucket, s3->authority))) return rc;
        if ((rc = buf_printf(path, err, "/%s", req->key ? req->key : ""))) return rc;
    } else {
        if ((rc = buf_printf(host, err, "%s", s3->authority))) return rc;
        if (req->key) rc = buf_printf(path, err, "/%s/%s", s3->bucket, req->key);
        else rc = buf_printf(path, err, "/%s", s3->bucket);
        if (rc) return rc;
    }
    if ((rc = buf_printf(url, err, "%s://%s", s3->scheme, (const char *)host->data))) return rc;
    if ((rc = s3_uri_encode(url, (const char *)path->data, true, err))) return rc;
    if (req->nquery) {
        if ((rc = buf_append(url, "?", 1, err))) return rc;
        if ((rc = s3_canonical_query(url, req->query, req->nquery, err))) return rc;
    }
    return 0;
}

static void amz_now(const S3 *s3, char out[17])
{
    time_t t = time(NULL) + s3->clock_offset_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

int s3_http_once(S3 *s3, const S3Req *req, S3Resp *resp, Err *err)
{
    Buf path, url, host, auth;
    struct curl_slist *hdrs = NULL;
    S3Param sh[8];
    size_t nsh = 0;
    char date[17], hash[65];
    char ebuf[CURL_ERROR_SIZE];
    CURL *c = NULL;
    CURLcode cc;
    Xfer x = { resp, req->out, req->body, req->body_len, 0 };
    int rc;

    buf_init(&path, 8192);
    buf_init(&url, 16384);
    buf_init(&host, 1024);
    buf_init(&auth, 4096);
    ebuf[0] = '\0';
    if ((rc = build_target(s3, req, &path, &url, &host, err))) goto out;
    if (req->payload_hash) snprintf(hash, sizeof hash, "%s", req->payload_hash);
    else s3_sha256_hex(req->body ? (const void *)req->body : "", req->body_len, hash);
    amz_now(s3, date);

    sh[nsh++] = (S3Param){ "host", (const char *)host.data };
    sh[nsh++] = (S3Param){ "x-amz-content-sha256", hash };
    sh[nsh++] = (S3Param){ "x-amz-date", date };
    if (req->range) sh[nsh++] = (S3Param){ "range", req->range };
    if (req->content_md5) sh[nsh++] = (S3Param){ "content-md5", req->content_md5 };
    if (s3->session_token) sh[nsh++] = (S3Param){ "x-amz-security-token", s3->session_token };
    {
        S3SignIn in = { req->method, (const char *)path.data, req->query, req->nquery, sh, nsh,
                        hash, date, s3->region, "s3" };
        if ((rc = s3_authorization(&in, s3->access_key, s3->secret_key, &auth, err))) goto out;
    }
    for (size_t i = 0; i < nsh; i++)
        if ((rc = add_header(&hdrs, err, "%s: %s", sh[i].name, sh[i].value))) goto out;
    if ((rc = add_header(&hdrs, err, "Authorization: %s", (const char *)auth.data))) goto out;
    if ((rc = add_header(&hdrs, err, "Expect:"))) goto out;   /* no 100-continue round trip */
    if ((rc = add_header(&hdrs, err, "Content-Type:"))) goto out;

    c = pool_take(&s3->pool);
    if (!c) { rc = err_set(err, ERR_NOMEM, "out of memory creating an HTTP handle"); goto out; }
    curl_easy_setopt(c, CURLOPT_URL, (const char *)url.data);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, s3->connect_timeout_s);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, s3->low_speed_limit);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, s3->low_speed_time_s);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (s3->ca_file) curl_easy_setopt(c, CURLOPT_CAINFO, s3->ca_file);
    curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 256L * 1024);
    curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "tidemark/0.1");
    if (strcmp(req->method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (strcmp(req->method, "PUT") == 0 || strcmp(req->method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, &x);
        curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
        curl_easy_setopt(c, CURLOPT_SEEKDATA, &x);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_len);
    } else if (strcmp(req->method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
    }
    atomic_fetch_add(&s3->n_requests, 1);
    cc = curl_easy_perform(c);
    resp->curl_code = (int)cc;
    if (cc != CURLE_OK) {
        snprintf(resp->curl_msg, sizeof resp->curl_msg, "%s", ebuf[0] ? ebuf : curl_easy_strerror(cc));
        rc = ERR_NET;
    } else {
        curl_off_t down = 0;
        curl_easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &down);
        atomic_fetch_add(&s3->bytes_down, (unsigned long long)down);
        if (resp->status >= 200 && resp->status < 300) atomic_fetch_add(&s3->bytes_up, req->body_len);
    }
out:
    if (c) {
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
        pool_give(&s3->pool, c);
    }
    curl_slist_free_all(hdrs);
    if (auth.data) sodium_memzero(auth.data, auth.cap);
    buf_free(&path);
    buf_free(&url);
    buf_free(&host);
    buf_free(&auth);
    return rc;
}
