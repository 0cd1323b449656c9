/* s3_sign.c: AWS Signature Version 4 for S3, computed here, not by curl:
 * Debian 12's curl 7.88 neither sends x-amz-content-sha256 nor
 * canonicalises the query. SHA-256 of bodies and canonical requests comes
 * from OpenSSL's libcrypto (SHA-NI/AVX2: ~1 GB/s here, libsodium 1.0.18's
 * portable code ~130 MiB/s capped PUT throughput); HMAC-SHA-256 of the
 * signing chain from libsodium.
 * Invariant: the query we sign is byte for byte the query we send
 * (s3_canonical_query builds both), and the secret never leaves this file
 * except as HMAC output. */
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "storage-backends/s3/s3_int.h"

void s3_sha256_hex(const void *p, size_t n, char out[65])
{
    uint8_t h[EVP_MAX_MD_SIZE];
    unsigned int hl = 0;
    if (EVP_Digest(p, n, h, &hl, EVP_sha256(), NULL) != 1 || hl != crypto_hash_sha256_BYTES) {
        crypto_hash_sha256(h, p, n);   /* libcrypto failed (cannot happen with the default provider) */
        hl = crypto_hash_sha256_BYTES;
    }
    sodium_bin2hex(out, 65, h, hl);
}

int s3_md5(const void *p, size_t n, uint8_t out[16], Err *err)
{
    uint8_t h[EVP_MAX_MD_SIZE];
    unsigned int hl = 0;
    if (EVP_Digest(p, n, h, &hl, EVP_md5(), NULL) != 1 || hl != 16)
        return err_set(err, ERR_UNSUPPORTED, "libcrypto cannot compute MD5 (FIPS mode?): "
                       "S3 DeleteObjects needs a Content-MD5");
    memcpy(out, h, 16);
    return 0;
}

static bool is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

int s3_uri_encode(Buf *out, const char *s, bool keep_slash, Err *err)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (is_unreserved(*p) || (keep_slash && *p == '/')) {
            rc = buf_append(out, p, 1, err);
        } else {
            char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };
            rc = buf_append(out, e, 3, err);
        }
        if (rc) return rc;
    }
    return 0;
}

/* Encoded names/values of a small list, sorted with a stable insertion sort
 * (at most S3_SIGN_MAX_PARAMS entries: no allocation beyond the Bufs). */
typedef struct Enc {
    Buf name, value;
} Enc;

static void enc_free(Enc *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        buf_free(&e[i].name);
        buf_free(&e[i].value);
    }
}

static int enc_cmp(const Enc *a, const Enc *b)
{
    int c = strcmp((const char *)a->name.data, (const char *)b->name.data);
    if (c) return c;
    return strcmp((const char *)a->value.data, (const char *)b->value.data);
}

int s3_canonical_query(Buf *out, const S3Param *q, size_t n, Err *err)
{
    Enc e[S3_SIGN_MAX_PARAMS];
    size_t order[S3_SIGN_MAX_PARAMS];
    int rc = 0;

    if (n > S3_SIGN_MAX_PARAMS) return err_set(err, ERR_INVALID, "too many query parameters (%zu)", n);
    for (size_t i = 0; i < n; i++) {
        buf_init(&e[i].name, 4096);
        buf_init(&e[i].value, 8192);
    }
    for (size_t i = 0; i < n; i++) {
        if ((rc = buf_append_str(&e[i].name, "", err))) goto out;
        if ((rc = buf_append_str(&e[i].value, "", err))) goto out;
        if ((rc = s3_uri_encode(&e[i].name, q[i].name, false, err))) goto out;
        if (q[i].value && (rc = s3_uri_encode(&e[i].value, q[i].value, false, err))) goto out;
        order[i] = i;
        for (size_t j = i; j > 0 && enc_cmp(&e[order[j - 1]], &e[order[j]]) > 0; j--) {
            size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const Enc *x = &e[order[i]];
        if (i && (rc = buf_append(out, "&", 1, err))) goto out;
        if ((rc = buf_append(out, x->name.data, x->name.len, err))) goto out;
        if ((rc = buf_append(out, "=", 1, err))) goto out;
        if ((rc = buf_append(out, x->value.data, x->value.len, err))) goto out;
    }
    if (!out->data) rc = buf_append_str(out, "", err);   /* NUL-terminated even when empty */
out:
    enc_free(e, n);
    return rc;
}

/* Header value as SigV4 wants it: leading/trailing blanks trimmed, runs of
 * blanks inside folded to one space. */
static int append_trimmed(Buf *out, const char *v, Err *err)
{
    const char *b = v, *e = v + strlen(v);
    bool blank = false;
    int rc;
    while (b < e && (*b == ' ' || *b == '\t')) b++;
    while (e > b && (e[-1] == ' ' || e[-1] == '\t')) e--;
    for (const char *p = b; p < e; p++) {
        if (*p == ' ' || *p == '\t') {
            blank = true;
            continue;
        }
        if (blank && (rc = buf_append(out, " ", 1, err))) return rc;
        blank = false;
        if ((rc = buf_append(out, p, 1, err))) return rc;
    }
    return 0;
}

static int append_lower(Buf *out, const char *s, Err *err)
{
    int rc;
    for (; *s; s++) {
        char c = (*s >= 'A' && *s <= 'Z') ? (char)(*s - 'A' + 'a') : *s;
        if ((rc = buf_append(out, &c, 1, err))) return rc;
    }
    return 0;
}

static int strcasecmp_ascii(const char *a, const char *b)
{
    for (;; a++, b++) {
        int ca = (*a >= 'A' && *a <= 'Z') ? *a - 'A' + 'a' : (unsigned char)*a;
        int cb = (*b >= 'A' && *b <= 'Z') ? *b - 'A' + 'a' : (unsigned char)*b;
        if (ca != cb || !ca) return ca - cb;
    }
}

int s3_canonical_request(const S3SignIn *in, Buf *out, Buf *out_signed, Err *err)
{
    size_t order[S3_SIGN_MAX_PARAMS];
    size_t n = in->nheaders;
    int rc = 0;

    if (n > S3_SIGN_MAX_PARAMS) return err_set(err, ERR_INVALID, "too many headers to sign (%zu)", n);
    for (size_t i = 0; i < n; i++) {
        order[i] = i;
        for (size_t j = i; j > 0 && strcasecmp_ascii(in->headers[order[j - 1]].name,
                                                     in->headers[order[j]].name) > 0; j--) {
            size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    }
    if ((rc = buf_printf(out, err, "%s\n", in->method))) return rc;
    if ((rc = s3_uri_encode(out, in->path, true, err))) return rc;
    if ((rc = buf_append(out, "\n", 1, err))) return rc;
    if ((rc = s3_canonical_query(out, in->query, in->nquery, err))) return rc;
    if ((rc = buf_append(out, "\n", 1, err))) return rc;
    for (size_t i = 0; i < n; i++) {
        const S3Param *h = &in->headers[order[i]];
        if ((rc = append_lower(out, h->name, err))) return rc;
        if ((rc = buf_append(out, ":", 1, err))) return rc;
        if ((rc = append_trimmed(out, h->value ? h->value : "", err))) return rc;
        if ((rc = buf_append(out, "\n", 1, err))) return rc;
        if (i && (rc = buf_append(out_signed, ";", 1, err))) return rc;
        if ((rc = append_lower(out_signed, h->name, err))) return rc;
    }
    if ((rc = buf_append(out, "\n", 1, err))) return rc;
    if ((rc = buf_append(out, out_signed->data, out_signed->len, err))) return rc;
    return buf_printf(out, err, "\n%s", in->payload_hash);
}

int s3_string_to_sign(const S3SignIn *in, const char *creq, size_t creq_len, Buf *out, Err *err)
{
    char hex[65];
    if (strlen(in->amz_date) != 16) return err_set(err, ERR_INVALID, "bad x-amz-date '%s'", in->amz_date);
    s3_sha256_hex(creq, creq_len, hex);
    return buf_printf(out, err, "AWS4-HMAC-SHA256\n%s\n%.8s/%s/%s/aws4_request\n%s", in->amz_date,
                      in->amz_date, in->region, in->service, hex);
}

static void hmac(const uint8_t *key, size_t klen, const char *msg, size_t mlen, uint8_t out[32])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, klen);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, mlen);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

void s3_signing_key(const char *secret, const char *date8, const char *region,
                    const char *service, uint8_t out[32])
{
    uint8_t k[32];
    uint8_t seed[4 + 256];
    size_t sl = strlen(secret);
    if (sl > 256) sl = 256;   /* AWS secrets are 40 characters */
    memcpy(seed, "AWS4", 4);
    memcpy(seed + 4, secret, sl);
    hmac(seed, 4 + sl, date8, 8, k);
    hmac(k, 32, region, strlen(region), k);
    hmac(k, 32, service, strlen(service), k);
    hmac(k, 32, "aws4_request", 12, out);
    sodium_memzero(seed, sizeof seed);
    sodium_memzero(k, sizeof k);
}

int s3_authorization(const S3SignIn *in, const char *access_key, const char *secret,
                     Buf *out, Err *err)
{
    Buf creq, sh, sts;
    uint8_t key[32], sig[32];
    char sighex[65];
    int rc;

    buf_init(&creq, 1 << 20);
    buf_init(&sh, 4096);
    buf_init(&sts, 4096);
    if ((rc = buf_append_str(&sh, "", err))) goto out;
    if ((rc = s3_canonical_request(in, &creq, &sh, err))) goto out;
    if ((rc = s3_string_to_sign(in, (const char *)creq.data, creq.len, &sts, err))) goto out;
    s3_signing_key(secret, in->amz_date, in->region, in->service, key);
    hmac(key, sizeof key, (const char *)sts.data, sts.len, sig);
    sodium_bin2hex(sighex, sizeof sighex, sig, sizeof sig);
    rc = buf_printf(out, err, "AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/%s/aws4_request,SignedHeaders=%s,Signature=%s",
                    access_key, in->amz_date, in->region, in->service, (const char *)sh.data, sighex);
out:
    sodium_memzero(key, sizeof key);
    buf_free(&creq);
    buf_free(&sh);
    buf_free(&sts);
    return rc;
}
