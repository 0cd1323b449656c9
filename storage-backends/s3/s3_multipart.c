/* s3_multipart.c: multipart upload of one object: initiate, parts in
 * parallel (s3->mp_parallel threads, each part retried on its own),
 * complete; abort on any failure so no orphan parts stay billed.
 * Invariant: the object becomes visible only through a successful
 * CompleteMultipartUpload, so put stays atomic (storage.h contract 1).
 * Memory: the caller's buffer is shared read-only by the workers; each
 * part's body is a slice of it, so nothing is copied. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/common/log.h"
#include "storage-backends/s3/s3_int.h"

typedef struct MpJob {
    S3 *s3;
    const char *key;
    const uint8_t *buf;
    size_t len, part_size;
    int nparts;
    const char *upload_id;
    atomic_int next;
    atomic_bool failed;
    char (*etags)[128];
    pthread_mutex_t mu;
    Err err;            /* the first failure */
} MpJob;

static void *worker(void *arg)
{
    MpJob *j = arg;
    S3Resp resp;
    Err err;
    s3_resp_init(&resp);
    for (;;) {
        int i = atomic_fetch_add(&j->next, 1);
        char num[16];
        size_t off, n;
        if (i >= j->nparts || atomic_load(&j->failed)) break;
        off = (size_t)i * j->part_size;
        n = j->len - off < j->part_size ? j->len - off : j->part_size;
        snprintf(num, sizeof num, "%d", i + 1);
        {
            char hash[65];
            S3Param q[] = { { "partNumber", num }, { "uploadId", j->upload_id } };
            S3Req req = { .method = "PUT", .key = j->key, .query = q, .nquery = 2, .body = j->buf + off, .body_len = n,
                          .payload_hash = hash };
            s3_sha256_hex(j->buf + off, n, hash);   /* once per part, not per try */
            err_clear(&err);
            if (s3_call(j->s3, &req, &resp, &err) != 0) {
                err_wrap(&err, "part %d of %d", i + 1, j->nparts);
                pthread_mutex_lock(&j->mu);
                if (!atomic_load(&j->failed)) j->err = err;
                atomic_store(&j->failed, true);
                pthread_mutex_unlock(&j->mu);
                break;
            }
            if (!resp.etag[0]) {
                pthread_mutex_lock(&j->mu);
                if (!atomic_load(&j->failed))
                    err_set(&j->err, ERR_NET, "s3 PUT %s/%s: part %d of %d: the server sent no ETag",
                            j->s3->bucket, j->key, i + 1, j->nparts);
                atomic_store(&j->failed, true);
                pthread_mutex_unlock(&j->mu);
                break;
            }
            snprintf(j->etags[i], sizeof j->etags[i], "%s", resp.etag);
        }
    }
    s3_resp_free(&resp);
    return NULL;
}

static void mp_abort(S3 *s3, const char *key, const char *upload_id)
{
    S3Param q[] = { { "uploadId", upload_id } };
    S3Req req = { .method = "DELETE", .key = key, .query = q, .nquery = 1 };
    S3Resp resp;
    Err err;
    s3_resp_init(&resp);
    if (s3_call(s3, &req, &resp, &err) != 0 && err.code != ERR_NOTFOUND)
        log_warn("could not abort the multipart upload of %s/%s (%s); a lifecycle rule that removes incomplete "
                 "multipart uploads cleans it up", s3->bucket, key, err.msg);
    s3_resp_free(&resp);
}

/* After a lost answer to Complete, a retry may see NoSuchUpload although the
 * first Complete worked: the object is then there with our size. */
static bool landed(S3 *s3, const char *key, size_t len)
{
    S3Req req = { .method = "HEAD", .key = key };
    S3Resp resp;
    Err err;
    bool ok;
    s3_resp_init(&resp);
    ok = s3_call(s3, &req, &resp, &err) == 0 && resp.has_length && resp.content_length == len;
    s3_resp_free(&resp);
    return ok;
}

int s3_multipart_put(S3 *s3, const char *key, const uint8_t *buf, size_t len, Err *err)
{
    MpJob j;
    S3Resp resp;
    Buf upload_id, xml;
    pthread_t *th = NULL;
    int nth = 0, rc = 0;
    bool started = false;

    memset(&j, 0, sizeof j);
    s3_resp_init(&resp);
    buf_init(&upload_id, 4096);
    buf_init(&xml, 1 << 20);
    pthread_mutex_init(&j.mu, NULL);
    j.s3 = s3;
    j.key = key;
    j.buf = buf;
    j.len = len;
    j.part_size = s3->mp_part_size;
    j.nparts = (int)((len + j.part_size - 1) / j.part_size);
    if (j.nparts > 10000) {   /* S3's limit: grow the parts instead */
        j.part_size = (len + 9999) / 10000;
        j.nparts = (int)((len + j.part_size - 1) / j.part_size);
    }
    {
        S3Param q[] = { { "uploads", NULL } };
        S3Req req = { .method = "POST", .key = key, .query = q, .nquery = 1, .xml = true };
        if ((rc = s3_call(s3, &req, &resp, err))) goto out;
        if ((rc = s3_xml_parse_upload_id((const char *)resp.body.data, resp.body.len, &upload_id, err))) {
            err_wrap(err, "s3 POST %s/%s (initiate multipart upload)", s3->bucket, key);
            goto out;
        }
        started = true;
    }
    j.upload_id = (const char *)upload_id.data;
    j.etags = calloc((size_t)j.nparts, sizeof *j.etags);
    nth = s3->mp_parallel < j.nparts ? s3->mp_parallel : j.nparts;
    th = calloc((size_t)nth, sizeof *th);
    if (!j.etags || !th) { rc = err_set(err, ERR_NOMEM, "out of memory for a multipart upload"); goto out; }
    log_debug("s3 multipart %s/%s: %d parts of %zu bytes, %d in flight", s3->bucket, key, j.nparts, j.part_size, nth);
    {
        int made = 0;
        for (int i = 1; i < nth; i++) {   /* the calling thread is worker 0 */
            if (pthread_create(&th[i], NULL, worker, &j) != 0) break;
            made = i;
        }
        worker(&j);
        for (int i = 1; i <= made; i++) pthread_join(th[i], NULL);
    }
    if (atomic_load(&j.failed)) {
        *err = j.err;
        rc = err->code ? err->code : ERR_NET;
        goto out;
    }
    if ((rc = buf_append_str(&xml, "<CompleteMultipartUpload>", err))) goto out;
    for (int i = 0; i < j.nparts; i++) {
        if ((rc = buf_printf(&xml, err, "<Part><PartNumber>%d</PartNumber><ETag>", i + 1))) goto out;
        if ((rc = s3_xml_escape(&xml, j.etags[i], err))) goto out;
        if ((rc = buf_append_str(&xml, "</ETag></Part>", err))) goto out;
    }
    if ((rc = buf_append_str(&xml, "</CompleteMultipartUpload>", err))) goto out;
    {
        S3Param q[] = { { "uploadId", j.upload_id } };
        S3Req req = { .method = "POST", .key = key, .query = q, .nquery = 1, .body = xml.data,
                      .body_len = xml.len, .xml = true };
        rc = s3_call(s3, &req, &resp, err);
        if (rc == ERR_NOTFOUND && landed(s3, key, len)) {
            err_clear(err);
            rc = 0;
        }
        if (rc) goto out;
        started = false;   /* completed: nothing to abort */
    }
out:
    if (rc && started) mp_abort(s3, key, (const char *)upload_id.data);
    if (rc && err->code == ERR_OK) err_set(err, ERR_NET, "s3 multipart upload of %s/%s failed", s3->bucket, key);
    pthread_mutex_destroy(&j.mu);
    free(th);
    free(j.etags);
    buf_free(&upload_id);
    buf_free(&xml);
    s3_resp_free(&resp);
    return rc;
}
