/* s3.c: the S3-compatible storage driver's StoOps (put, ranged get,
 * stat = HEAD, del, batch del_many, ListObjectsV2 list) and its opening.
 * Invariants: (1) every key the engine gives is stored as prefix + key, and
 * list strips the prefix again; (2) an op keeps no state between calls
 * beyond the handle's connection pool, so all ops are thread-safe;
 * (3) opening probes the bucket once, so wrong credentials, a missing
 * bucket, clock skew or a non-S3 endpoint fail at open with one clear line. */
#include "storage-backends/s3/s3.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/common/log.h"
#include "storage-backends/s3/s3_int.h"

#define DEL_BATCH 1000   /* DeleteObjects takes at most 1000 keys */

static int full_key(const S3 *s3, const char *key, char *out, size_t cap, Err *err)
{
    int n = snprintf(out, cap, "%s%s", s3->prefix, key);
    if (n < 0 || (size_t)n >= cap) return err_set(err, ERR_INVALID, "key too long: %.100s", key);
    return 0;
}

static int s3_put(void *self, const char *key, const void *buf, size_t len, Err *err)
{
    S3 *s3 = self;
    char k[1100];
    int rc;
    if ((rc = full_key(s3, key, k, sizeof k, err))) return rc;
    if (len >= s3->mp_threshold && len > s3->mp_part_size) return s3_multipart_put(s3, k, buf, len, err);
    {
        char hash[65];
        S3Req req = { .method = "PUT", .key = k, .body = buf, .body_len = len, .payload_hash = hash };
        S3Resp resp;
        s3_sha256_hex(buf ? buf : "", len, hash);   /* once, not per try */
        s3_resp_init(&resp);
        rc = s3_call(s3, &req, &resp, err);
        s3_resp_free(&resp);
        return rc;
    }
}

static int s3_stat_full(S3 *s3, const char *k, StoStat *out, Err *err)
{
    S3Req req = { .method = "HEAD", .key = k };
    S3Resp resp;
    int rc;
    s3_resp_init(&resp);
    rc = s3_call(s3, &req, &resp, err);
    if (rc == ERR_NOTFOUND) {
        char obj[1200];
        s3_object_name(s3, k, obj, sizeof obj);
        rc = err_set(err, ERR_NOTFOUND, "object %s not found", obj);
    } else if (rc && resp.status >= 400 && resp.status < 500 && !resp.curl_code) {
        /* HEAD answers carry no body: ask with a 1-byte GET to learn the server's <Code> */
        S3Req probe = { .method = "GET", .key = k, .range = "bytes=0-0", .max_tries = 1 };
        Err e2;
        err_clear(&e2);
        if (s3_call(s3, &probe, &resp, &e2) != 0 && e2.code != ERR_INVALID) *err = e2;
    } else if (rc == 0) {
        if (!resp.has_length) rc = err_set(err, ERR_NET, "s3 HEAD %s/%s: no Content-Length in the answer", s3->bucket, k);
        out->size = resp.content_length;
        out->mtime = resp.last_modified;
    }
    s3_resp_free(&resp);
    return rc;
}

static int s3_stat(void *self, const char *key, StoStat *out, Err *err)
{
    S3 *s3 = self;
    char k[1100];
    StoStat st;
    int rc;
    if ((rc = full_key(s3, key, k, sizeof k, err))) return rc;
    if ((rc = s3_stat_full(s3, k, &st, err))) return rc;
    *out = st;
    return 0;
}

/* total object size from "bytes a-b/total" */
static bool range_total(const char *cr, uint64_t *total)
{
    const char *slash = strrchr(cr, '/');
    char *end;
    if (!slash || slash[1] == '*') return false;
    *total = strtoull(slash + 1, &end, 10);
    return end != slash + 1;
}

/* GET of [off, off + len) of full key k; short_ok: fewer bytes at the
 * object's end are not an error. */
static int get_range(S3 *s3, const char *k, uint64_t off, size_t len, bool short_ok, Buf *out, Err *err)
{
    char range[64], obj[1200];
    S3Req req = { .method = "GET", .out = out };
    S3Resp resp;
    size_t before = out->len;
    int rc;

    s3_object_name(s3, k, obj, sizeof obj);
    req.key = k;
    if (len == 0) {   /* nothing to read, but the object must exist and reach off */
        StoStat st;
        if ((rc = s3_stat_full(s3, k, &st, err))) return rc;
        if (off > st.size) return err_set(err, ERR_INVALID, "range %llu past the end (%llu bytes)",
                                          (unsigned long long)off, (unsigned long long)st.size);
        return 0;
    }
    if (len != STO_LEN_ALL) {
        if (off + len < off) return err_set(err, ERR_INVALID, "range overflows");
        snprintf(range, sizeof range, "bytes=%llu-%llu", (unsigned long long)off, (unsigned long long)(off + len - 1));
        req.range = range;
    } else if (off) {
        snprintf(range, sizeof range, "bytes=%llu-", (unsigned long long)off);
        req.range = range;
    }
    s3_resp_init(&resp);
    rc = s3_call(s3, &req, &resp, err);
    if (rc == ERR_NOTFOUND && !strstr(err->msg, "NoSuchBucket")) {
        rc = err_set(err, ERR_NOTFOUND, "object %s not found", obj);
    } else if (rc == ERR_INVALID && resp.status == 416) {
        StoStat st;
        Err e2;
        if (s3_stat_full(s3, k, &st, &e2) == 0 && len == STO_LEN_ALL && off == st.size) {
            err_clear(err);
            rc = 0;   /* reading from the very end: nothing, like a file */
        } else {
            rc = err_set(err, ERR_INVALID, "range %llu past the end of %s", (unsigned long long)off, obj);
        }
    } else if (rc == 0 && req.range) {
        uint64_t total = 0;
        size_t got = out->len - before;
        if (resp.status == 200) {   /* the server ignored Range: keep only the slice */
            total = got;
            if (off > got) { rc = err_set(err, ERR_INVALID, "range %llu past the end of %s", (unsigned long long)off, obj); goto out; }
            size_t keep = len == STO_LEN_ALL ? got - (size_t)off : (len < got - off ? len : got - (size_t)off);
            memmove(out->data + before, out->data + before + off, keep);
            out->len = before + keep;
            out->data[out->len] = 0;
            got = keep;
        } else if (!range_total(resp.content_range, &total)) {
            total = off + got;
        }
        if (len != STO_LEN_ALL && got != len && !(short_ok && got < len)) {
            rc = err_set(err, ERR_INVALID, "range %llu+%zu past the end of %s (%llu bytes)", (unsigned long long)off,
                         len, obj, (unsigned long long)total);
        }
    }
out:
    if (rc) {
        out->len = before;
        if (out->data) out->data[before] = 0;
    }
    s3_resp_free(&resp);
    return rc;
}

/* S3CacheFetchFn: a ranged GET of up to len bytes (fewer at the end). */
static int cache_fetch(void *ctx, const char *key, uint64_t off, size_t len, Buf *out, Err *err)
{
    return get_range(ctx, key, off, len, true, out, err);
}

static int s3_get(void *self, const char *key, uint64_t off, size_t len, Buf *out, Err *err)
{
    S3 *s3 = self;
    char k[1100];
    int rc;
    if ((rc = full_key(s3, key, k, sizeof k, err))) return rc;
    if ((rc = s3_cache_get(s3->cache, k, off, len, out, err)) != S3_CACHE_PASS) return rc;
    return get_range(s3, k, off, len, false, out, err);
}

static int s3_del(void *self, const char *key, Err *err)
{
    S3 *s3 = self;
    char k[1100];
    S3Req req = { .method = "DELETE" };
    S3Resp resp;
    int rc;
    if ((rc = full_key(s3, key, k, sizeof k, err))) return rc;
    req.key = k;
    s3_resp_init(&resp);
    rc = s3_call(s3, &req, &resp, err);
    if (rc == ERR_NOTFOUND && !strstr(err->msg, "NoSuchBucket")) {
        err_clear(err);
        rc = 0;
    }
    s3_resp_free(&resp);
    return rc;
}

typedef struct DelCtx {
    S3 *s3;
    int nerr;
} DelCtx;

static int on_del_error(void *ctx, const char *key, const char *code, const char *message, Err *err)
{
    DelCtx *d = ctx;
    if (strcmp(code, "NoSuchKey") == 0) return 0;
    d->nerr++;
    return err_set(err, strcmp(code, "AccessDenied") == 0 ? ERR_PERM : ERR_NET,
                   "s3 DeleteObjects %s/%s: %s: %.200s", d->s3->bucket, key, code, message);
}

static int del_batch(S3 *s3, const char *const *keys, size_t n, Err *err)
{
    Buf xml;
    S3Resp resp;
    uint8_t md5[16];
    char md5b64[32];
    int rc;
    DelCtx d = { s3, 0 };

    buf_init(&xml, 4u << 20);
    s3_resp_init(&resp);
    if ((rc = buf_append_str(&xml, "<Delete><Quiet>true</Quiet>", err))) goto out;
    for (size_t i = 0; i < n; i++) {
        if ((rc = buf_append_str(&xml, "<Object><Key>", err))) goto out;
        if ((rc = s3_xml_escape(&xml, s3->prefix, err))) goto out;
        if ((rc = s3_xml_escape(&xml, keys[i], err))) goto out;
        if ((rc = buf_append_str(&xml, "</Key></Object>", err))) goto out;
    }
    if ((rc = buf_append_str(&xml, "</Delete>", err))) goto out;
    if ((rc = s3_md5(xml.data, xml.len, md5, err))) goto out;
    sodium_bin2base64(md5b64, sizeof md5b64, md5, sizeof md5, sodium_base64_VARIANT_ORIGINAL);
    {
        S3Param q[] = { { "delete", NULL } };
        S3Req req = { .method = "POST", .query = q, .nquery = 1, .body = xml.data, .body_len = xml.len,
                      .content_md5 = md5b64, .xml = true };
        if ((rc = s3_call(s3, &req, &resp, err))) goto out;
        rc = s3_xml_parse_delete((const char *)resp.body.data, resp.body.len, on_del_error, &d, err);
    }
out:
    buf_free(&xml);
    s3_resp_free(&resp);
    return rc;
}

static int s3_del_many(void *self, const char *const *keys, size_t n, Err *err)
{
    int rc;
    for (size_t i = 0; i < n; i += DEL_BATCH)
        if ((rc = del_batch(self, keys + i, n - i < DEL_BATCH ? n - i : DEL_BATCH, err))) return rc;
    return 0;
}

typedef struct ListCtx {
    const S3 *s3;
    StoListFn fn;
    void *ctx;
    size_t plen;
    char last[1100];
} ListCtx;

static int on_obj(void *ctx, const char *key, uint64_t size, Err *err)
{
    ListCtx *l = ctx;
    if (strncmp(key, l->s3->prefix, l->plen) != 0) return 0;   /* not ours (cannot happen with prefix=) */
    snprintf(l->last, sizeof l->last, "%s", key);
    return l->fn(l->ctx, key + l->plen, size, err);
}

static int s3_list(void *self, const char *prefix, StoListFn fn, void *ctx, Err *err)
{
    S3 *s3 = self;
    char p[1100];
    Buf token;
    S3Resp resp;
    ListCtx l = { s3, fn, ctx, strlen(s3->prefix), "" };
    bool truncated = true;
    int rc = 0;

    if ((rc = full_key(s3, prefix, p, sizeof p, err))) return rc;
    buf_init(&token, 64 * 1024);
    s3_resp_init(&resp);
    if ((rc = buf_append_str(&token, "", err))) goto out;
    while (truncated) {
        S3Param q[4] = { { "list-type", "2" }, { "max-keys", "1000" }, { "prefix", p } };
        size_t nq = 3;
        if (token.len) q[nq++] = (S3Param){ "continuation-token", (const char *)token.data };
        {
            S3Req req = { .method = "GET", .query = q, .nquery = nq, .xml = true };
            if ((rc = s3_call(s3, &req, &resp, err))) goto out;
        }
        /* the token lives in resp's body until the next call: copy it out via parse */
        rc = s3_xml_parse_list((const char *)resp.body.data, resp.body.len, on_obj, &l, &truncated, &token, err);
        if (rc) {
            if (err->code == ERR_CORRUPT) err_wrap(err, "s3 list %s/%s", s3->bucket, p);
            goto out;
        }
    }
out:
    buf_free(&token);
    s3_resp_free(&resp);
    return rc;
}

static void s3_free(S3 *s3)
{
    if (!s3) return;
    s3_cache_free(s3->cache);
    s3_pool_free(&s3->pool);
    s3_conf_free(s3);
    free(s3);
}

static void s3_close(void *self)
{
    S3 *s3 = self;
    if (!s3) return;
    if (!atomic_load(&s3->n_retries))
        log_debug("%s: %llu requests (%llu cache blocks), %llu bytes up, %llu bytes down", s3->location,
                  (unsigned long long)atomic_load(&s3->n_requests),
                  (unsigned long long)s3_cache_fetches(s3->cache), (unsigned long long)atomic_load(&s3->bytes_up),
                  (unsigned long long)atomic_load(&s3->bytes_down));
    else
        log_info("%s: %llu requests, %llu retried, %llu gave up", s3->location,
                 (unsigned long long)atomic_load(&s3->n_requests), (unsigned long long)atomic_load(&s3->n_retries),
                 (unsigned long long)atomic_load(&s3->n_failed));
    s3_free(s3);
}

static const StoOps s3_ops = {
    .version = STO_OPS_V1,
    .features = STO_FEAT_RANGE_GET | STO_FEAT_LIST_SORTED | STO_FEAT_DEL_MANY,
    .kind = "s3",
    .put = s3_put,
    .get = s3_get,
    .stat = s3_stat,
    .del = s3_del,
    .list = s3_list,
    .close = s3_close,
    .del_many = s3_del_many,
};

/* One cheap signed request on the bucket: the first contact fails clearly. */
static int probe(S3 *s3, Err *err)
{
    S3Param q[] = { { "list-type", "2" }, { "max-keys", "1" }, { "prefix", s3->prefix } };
    S3Req req = { .method = "GET", .query = q, .nquery = 3, .xml = true, .max_tries = 3 };
    S3Resp resp;
    int rc;
    s3_resp_init(&resp);
    rc = s3_call(s3, &req, &resp, err);
    if (rc == 0) {
        char root[64];
        bool complete;
        if (!s3_xml_root((const char *)resp.body.data, resp.body.len, root, sizeof root, &complete) ||
            strcmp(root, "ListBucketResult") != 0)
            rc = err_set(err, ERR_INVALID, "%s://%s is not an S3 endpoint (no ListBucketResult for bucket '%s')",
                         s3->scheme, s3->authority, s3->bucket);
    }
    s3_resp_free(&resp);
    return rc;
}

int sto_s3_open(const char *url, unsigned flags, const StoS3Options *o, Sto **out, Err *err)
{
    S3 *s3 = NULL;
    int rc;
    (void)flags;   /* buckets are never created by us: the bucket must exist */

    if (sodium_init() < 0) return err_set(err, ERR_NOMEM, "libsodium init failed");
    if ((rc = s3_http_global_init(err))) return rc;
    s3 = calloc(1, sizeof *s3);
    if (!s3) return err_set(err, ERR_NOMEM, "out of memory");
    s3_pool_init(&s3->pool);
    if ((rc = s3_conf_load(s3, url, o, err))) goto fail;
    if ((rc = s3_cache_new(s3->read_cache, s3->bucket, cache_fetch, s3, &s3->cache, err))) goto fail;
    if ((rc = probe(s3, err))) goto fail;
    log_debug("opened %s (region %s, %s-style)", s3->location, s3->region, s3->virtual_host ? "virtual-host" : "path");
    return sto_new(&s3_ops, s3, s3->location, out, err);
fail:
    if (s3->location) err_wrap(err, "repository %s", s3->location);
    s3_free(s3);
    return rc;
}

int sto_s3_stats(const Sto *sto, StoS3Stats *out)
{
    const S3 *s3;
    if (!sto || !sto->ops || strcmp(sto->ops->kind, "s3") != 0) return ERR_INVALID;
    s3 = sto->self;
    out->requests = atomic_load(&s3->n_requests);
    out->retries = atomic_load(&s3->n_retries);
    out->failures = atomic_load(&s3->n_failed);
    out->bytes_up = atomic_load(&s3->bytes_up);
    out->bytes_down = atomic_load(&s3->bytes_down);
    return 0;
}

uint64_t sto_s3_retry_count(const Sto *sto)
{
    StoS3Stats st;
    return sto_s3_stats(sto, &st) == 0 ? st.retries : 0;
}
