/* s3_xml.c: just enough XML for S3's answers (ListObjectsV2, Error,
 * InitiateMultipartUpload, DeleteObjects): flat element lookup by name
 * inside a span, entity decoding, no DOM and no allocation per element.
 * Invariant: the scanner never reads outside [body, body+len) and treats
 * anything it does not understand as "absent", so a hostile or truncated
 * body yields ERR_CORRUPT, never a crash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "storage-backends/s3/s3_int.h"

typedef struct XSpan {
    const char *b, *e;
} XSpan;

static bool is_name_end(char c)
{
    return c == '>' || c == '/' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static const char *mem_find(const char *p, const char *end, const char *needle, size_t nl)
{
    if (nl == 0) return p;
    while (p && end - p >= (ptrdiff_t)nl) {
        const char *q = memchr(p, needle[0], (size_t)(end - p) - nl + 1);
        if (!q) return NULL;
        if (memcmp(q, needle, nl) == 0) return q;
        p = q + 1;
    }
    return NULL;
}

/* First element named `name` in [p, end): its content in *inner, the
 * position after it in *next. Same-named nesting does not occur in the
 * documents we read. */
static bool x_find(const char *p, const char *end, const char *name, XSpan *inner, const char **next)
{
    size_t nl = strlen(name);
    char close[80];
    if (nl + 3 >= sizeof close) return false;
    snprintf(close, sizeof close, "</%s>", name);
    while (p < end) {
        const char *lt = memchr(p, '<', (size_t)(end - p));
        const char *gt;
        if (!lt || end - lt < (ptrdiff_t)nl + 2) return false;
        p = lt + 1;
        if (memcmp(lt + 1, name, nl) != 0 || !is_name_end(lt[1 + nl])) continue;
        gt = memchr(lt + 1 + nl, '>', (size_t)(end - (lt + 1 + nl)));
        if (!gt) return false;
        if (gt[-1] == '/') {   /* <Name/> */
            inner->b = inner->e = gt + 1;
            if (next) *next = gt + 1;
            return true;
        }
        {
            const char *c = mem_find(gt + 1, end, close, nl + 3);
            if (!c) return false;
            inner->b = gt + 1;
            inner->e = c;
            if (next) *next = c + nl + 3;
            return true;
        }
    }
    return false;
}

/* Append the decoded text of s to out (entities and numeric references). */
static int x_text_buf(XSpan s, Buf *out, Err *err)
{
    static const struct { const char *ent; char c; } ents[] = {
        { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' }, { "&apos;", '\'' },
    };
    int rc;
    for (const char *p = s.b; p < s.e;) {
        if (*p != '&') {
            const char *amp = memchr(p, '&', (size_t)(s.e - p));
            const char *stop = amp ? amp : s.e;
            if ((rc = buf_append(out, p, (size_t)(stop - p), err))) return rc;
            p = stop;
            continue;
        }
        bool done = false;
        for (size_t i = 0; i < sizeof ents / sizeof ents[0]; i++) {
            size_t l = strlen(ents[i].ent);
            if ((size_t)(s.e - p) >= l && memcmp(p, ents[i].ent, l) == 0) {
                if ((rc = buf_append(out, &ents[i].c, 1, err))) return rc;
                p += l;
                done = true;
                break;
            }
        }
        if (done) continue;
        if (s.e - p > 3 && p[1] == '#') {
            const char *semi = memchr(p, ';', (size_t)(s.e - p));
            char num[16];
            size_t nl = semi ? (size_t)(semi - p - 2) : 0;
            if (semi && nl > 0 && nl < sizeof num) {
                unsigned long v;
                char *endp;
                memcpy(num, p + 2, nl);
                num[nl] = '\0';
                v = (num[0] == 'x' || num[0] == 'X') ? strtoul(num + 1, &endp, 16) : strtoul(num, &endp, 10);
                if (*endp == '\0' && v > 0 && v < 0x80) {   /* S3 keys we read are ASCII */
                    char c = (char)v;
                    if ((rc = buf_append(out, &c, 1, err))) return rc;
                    p = semi + 1;
                    continue;
                }
            }
        }
        if ((rc = buf_append(out, "&", 1, err))) return rc;   /* lone '&': keep it */
        p++;
    }
    return buf_append(out, "", 0, err);
}

/* Decoded text of the first `name` inside s into dst (truncated to cap);
 * "" when absent. */
static bool x_get(XSpan s, const char *name, char *dst, size_t cap)
{
    XSpan in;
    Buf b;
    Err e;
    bool ok;
    dst[0] = '\0';
    if (!x_find(s.b, s.e, name, &in, NULL)) return false;
    buf_init(&b, 64 * 1024);
    ok = x_text_buf(in, &b, &e) == 0;
    if (ok) snprintf(dst, cap, "%s", (const char *)b.data);
    buf_free(&b);
    return ok;
}

static const char *skip_prolog(const char *p, const char *end)
{
    for (;;) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) p++;
        if (end - p >= 3 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF) {
            p += 3;
            continue;
        }
        if (end - p >= 2 && p[0] == '<' && (p[1] == '?' || p[1] == '!')) {
            const char *gt = memchr(p, '>', (size_t)(end - p));
            if (!gt) return end;
            p = gt + 1;
            continue;
        }
        return p;
    }
}

bool s3_xml_root(const char *body, size_t len, char *name, size_t cap, bool *out_complete)
{
    const char *end = body + len, *p = body ? skip_prolog(body, end) : NULL;
    size_t n = 0;
    char close[96];
    name[0] = '\0';
    *out_complete = false;
    if (!p || p >= end || *p != '<') return false;
    p++;
    while (p + n < end && !is_name_end(p[n])) n++;
    if (n == 0 || n >= cap || n + 4 > sizeof close || p + n >= end) return false;
    memcpy(name, p, n);
    name[n] = '\0';
    {
        const char *gt = memchr(p + n, '>', (size_t)(end - (p + n)));
        if (gt && gt[-1] == '/') {
            *out_complete = true;
            return true;
        }
    }
    snprintf(close, sizeof close, "</%s>", name);
    *out_complete = mem_find(p, end, close, n + 3) != NULL;
    return true;
}

bool s3_xml_is_html(const char *body, size_t len)
{
    const char *p = body, *end = body + len;
    if (!body) return false;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) p++;
    if (end - p >= 14 && strncasecmp(p, "<!doctype html", 14) == 0) return true;
    if (end - p >= 5 && strncasecmp(p, "<html", 5) == 0) return true;
    return false;
}

bool s3_xml_parse_error(const char *body, size_t len, S3XmlError *out)
{
    char root[32];
    bool complete;
    XSpan all = { body, body + len }, in;
    memset(out, 0, sizeof *out);
    if (!s3_xml_root(body, len, root, sizeof root, &complete) || strcmp(root, "Error") != 0) return false;
    if (!x_find(all.b, all.e, "Error", &in, NULL)) return false;
    x_get(in, "Code", out->code, sizeof out->code);
    x_get(in, "Message", out->message, sizeof out->message);
    x_get(in, "Region", out->region, sizeof out->region);
    x_get(in, "BucketName", out->bucket, sizeof out->bucket);
    return out->code[0] != '\0';
}

static int expect_root(const char *body, size_t len, const char *want, Err *err)
{
    char root[64];
    bool complete;
    if (!s3_xml_root(body, len, root, sizeof root, &complete))
        return err_set(err, ERR_CORRUPT, "answer is not XML (expected %s)", want);
    if (strcmp(root, want) != 0)
        return err_set(err, ERR_CORRUPT, "unexpected XML answer <%.40s> (expected %s)", root, want);
    if (!complete) return err_set(err, ERR_CORRUPT, "truncated XML answer (%s)", want);
    return 0;
}

int s3_xml_parse_list(const char *body, size_t len, S3XmlObjFn fn, void *ctx,
                      bool *out_truncated, Buf *out_token, Err *err)
{
    XSpan all = { body, body + len }, c;
    const char *p;
    char flag[16];
    Buf key;
    int rc;

    if ((rc = expect_root(body, len, "ListBucketResult", err))) return rc;
    x_get(all, "IsTruncated", flag, sizeof flag);
    *out_truncated = strcmp(flag, "true") == 0;
    buf_reset(out_token);
    {
        XSpan t;
        if (x_find(all.b, all.e, "NextContinuationToken", &t, NULL) && (rc = x_text_buf(t, out_token, err)))
            return rc;
    }
    if (*out_truncated && out_token->len == 0)
        return err_set(err, ERR_CORRUPT, "listing is truncated but carries no NextContinuationToken");
    buf_init(&key, 64 * 1024);
    p = all.b;
    while (x_find(p, all.e, "Contents", &c, &p)) {
        XSpan k;
        char size[32];
        char *endp;
        unsigned long long sz;
        buf_reset(&key);
        if (!x_find(c.b, c.e, "Key", &k, NULL)) { rc = err_set(err, ERR_CORRUPT, "listing entry without <Key>"); break; }
        if ((rc = x_text_buf(k, &key, err))) break;
        x_get(c, "Size", size, sizeof size);
        sz = strtoull(size, &endp, 10);
        if (!size[0] || *endp) { rc = err_set(err, ERR_CORRUPT, "listing entry %.200s has a bad <Size>", (const char *)key.data); break; }
        if ((rc = fn(ctx, (const char *)key.data, (uint64_t)sz, err))) break;
    }
    buf_free(&key);
    return rc;
}

int s3_xml_parse_upload_id(const char *body, size_t len, Buf *out, Err *err)
{
    XSpan all = { body, body + len }, id;
    int rc;
    if ((rc = expect_root(body, len, "InitiateMultipartUploadResult", err))) return rc;
    if (!x_find(all.b, all.e, "UploadId", &id, NULL) || id.b == id.e)
        return err_set(err, ERR_CORRUPT, "multipart answer without <UploadId>");
    buf_reset(out);
    return x_text_buf(id, out, err);
}

int s3_xml_parse_delete(const char *body, size_t len, S3XmlDelErrFn fn, void *ctx, Err *err)
{
    XSpan all = { body, body + len }, e;
    const char *p = all.b;
    int rc;
    if ((rc = expect_root(body, len, "DeleteResult", err))) return rc;
    while (x_find(p, all.e, "Error", &e, &p)) {
        char key[1100], code[64], msg[256];
        x_get(e, "Key", key, sizeof key);
        x_get(e, "Code", code, sizeof code);
        x_get(e, "Message", msg, sizeof msg);
        if ((rc = fn(ctx, key, code, msg, err))) return rc;
    }
    return 0;
}

int s3_xml_escape(Buf *out, const char *s, Err *err)
{
    int rc = 0;
    for (; *s && !rc; s++) {
        switch (*s) {
        case '&': rc = buf_append_str(out, "&amp;", err); break;
        case '<': rc = buf_append_str(out, "&lt;", err); break;
        case '>': rc = buf_append_str(out, "&gt;", err); break;
        case '"': rc = buf_append_str(out, "&quot;", err); break;
        case '\'': rc = buf_append_str(out, "&apos;", err); break;
        default: rc = buf_append(out, s, 1, err); break;
        }
    }
    return rc;
}
