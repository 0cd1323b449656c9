/* inst_dolconf_pass.c: the ways Dolibarr stores its database password in
 * conf.php, read from htdocs/core/lib/security.lib.php (dol_encode,
 * dol_decode, dolEncrypt, dolDecrypt) and filefunc.inc.php:
 *   'crypted:' + base64(each byte + 17)                (dol_encode, key '1')
 *   $dolibarr_main_db_encrypted_pass = base64(...)     (the same, old variable)
 *   'dolcrypt:CIPHER:IV:' + base64(openssl_encrypt)    (dolEncrypt, AES-256-CTR)
 * Invariant: what we decode equals what PHP would hand mysqli, byte for
 * byte, and what we encode PHP decodes back to the same bytes. */
#include <openssl/evp.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "engine/instance/inst_int.h"

bool inst_dol_php_empty(const char *s) { return !s || !*s || strcmp(s, "0") == 0; }

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* PHP's base64_decode (not strict): characters outside the alphabet and
 * '=' are skipped; a last incomplete byte is dropped. *out malloc'd, NUL
 * terminated (binary: *out_len). */
static int b64_decode_lenient(const char *s, unsigned char **out, size_t *out_len, Err *err)
{
    size_t n = strlen(s), j = 0;
    unsigned acc = 0, bits = 0;
    unsigned char *o = malloc(n / 4 * 3 + 4);
    if (!o) return err_set(err, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        int v = b64val((unsigned char)s[i]);
        if (v < 0) continue;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            o[j++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    o[j] = 0;
    *out = o;
    *out_len = j;
    return 0;
}

static int b64_encode(const unsigned char *p, size_t n, char **out, Err *err)
{
    char *o = malloc((n + 2) / 3 * 4 + 1);
    if (!o) return err_set(err, ERR_NOMEM, "out of memory");
    EVP_EncodeBlock((unsigned char *)o, p, (int)n);
    *out = o;
    return 0;
}

int inst_dol_decode(const char *s, char **out, Err *err)
{
    unsigned char *b = NULL;
    size_t n = 0;
    int rc = b64_decode_lenient(s, &b, &n, err);
    if (rc) return rc;
    for (size_t i = 0; i < n; i++) b[i] = (unsigned char)(b[i] - 17);   /* chr() wraps mod 256 */
    if (memchr(b, 0, n)) {
        sodium_memzero(b, n);
        free(b);
        return err_set(err, ERR_UNSUPPORTED, "the decoded password holds a NUL byte");
    }
    *out = (char *)b;
    return 0;
}

static bool is_ascii(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 0x80) return false;
    return true;
}

int inst_dol_encode(const char *s, char **out, Err *err)
{
    size_t n = strlen(s);
    unsigned char *b;
    int rc;
    /* dol_encode walks mb_strlen() characters with byte offsets: exact for ASCII only */
    if (!is_ascii((const unsigned char *)s, n))
        return err_set(err, ERR_UNSUPPORTED, "dol_encode keeps only ASCII passwords exactly");
    if (!(b = malloc(n + 1))) return err_set(err, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) b[i] = (unsigned char)(s[i] + 17);
    rc = b64_encode(b, n, out, err);
    sodium_memzero(b, n);
    free(b);
    return rc;
}

/* openssl_encrypt/openssl_decrypt (options 0) with PHP's key and IV rules:
 * a short key or IV is padded with NULs, a long one cut. */
static int cipher_run(const char *cipher, const char *key, const char *iv, const unsigned char *in,
                      size_t n, bool enc, unsigned char **out, size_t *out_len, Err *err)
{
    const EVP_CIPHER *c = EVP_get_cipherbyname(cipher);
    EVP_CIPHER_CTX *x = NULL;
    unsigned char k[EVP_MAX_KEY_LENGTH] = {0}, v[EVP_MAX_IV_LENGTH] = {0}, *o = NULL;
    int l1 = 0, l2 = 0, rc = 0;

    if (!c) return err_set(err, ERR_UNSUPPORTED, "cipher %s is not known to libcrypto", cipher);
    size_t kl = (size_t)EVP_CIPHER_get_key_length(c), vl = (size_t)EVP_CIPHER_get_iv_length(c);
    memcpy(k, key, strlen(key) < kl ? strlen(key) : kl);
    memcpy(v, iv, strlen(iv) < vl ? strlen(iv) : vl);
    if (!(x = EVP_CIPHER_CTX_new()) || !(o = malloc(n + (size_t)EVP_CIPHER_get_block_size(c) + 1))) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    if (EVP_CipherInit_ex(x, c, NULL, k, v, enc ? 1 : 0) != 1 ||
        EVP_CipherUpdate(x, o, &l1, in, (int)n) != 1 || EVP_CipherFinal_ex(x, o + l1, &l2) != 1) {
        rc = err_set(err, ERR_AUTH, "%s %s failed", cipher, enc ? "encryption" : "decryption");
        goto out;
    }
    o[l1 + l2] = 0;
    *out = o;
    *out_len = (size_t)(l1 + l2);
    o = NULL;
out:
    sodium_memzero(k, sizeof k);
    EVP_CIPHER_CTX_free(x);
    free(o);
    return rc;
}

int inst_dol_decrypt(const char *s, const char *key, char **out, Err *err)
{
    char cipher[64], iv[64] = "", *data = NULL;
    const char *p = s + 9, *c2, *c3;
    unsigned char *raw = NULL, *plain = NULL;
    size_t nraw = 0, nplain = 0;
    int rc;

    *out = NULL;
    /* dolDecrypt: /^dolcrypt:([^:]+):(.+)$/, then explode(':') of the rest */
    if (strncmp(s, "dolcrypt:", 9) != 0 || !(c2 = strchr(p, ':')) || c2 == p || !c2[1] ||
        (size_t)(c2 - p) >= sizeof cipher || strchr(c2 + 1, '\n'))
        return err_set(err, ERR_UNSUPPORTED, "not a dolcrypt:CIPHER:IV:DATA value");
    if (inst_dol_php_empty(key))
        return err_set(err, ERR_INVALID, "no key to decrypt it ($dolibarr_main_dolcrypt_key and "
                                         "$dolibarr_main_instance_unique_id are empty)");
    memcpy(cipher, p, (size_t)(c2 - p));
    cipher[c2 - p] = '\0';
    p = c2 + 1;
    c3 = strchr(p, ':');
    if (c3) {
        const char *c4 = strchr(c3 + 1, ':');
        size_t dl = c4 ? (size_t)(c4 - c3 - 1) : strlen(c3 + 1);
        if (!(data = strndup(c3 + 1, dl))) return err_set(err, ERR_NOMEM, "out of memory");
    }
    if (c3 && !inst_dol_php_empty(data)) {
        snprintf(iv, sizeof iv, "%.*s", (int)(c3 - p), p);
    } else {
        free(data);
        if (!(data = strndup(p, c3 ? (size_t)(c3 - p) : strlen(p)))) return err_set(err, ERR_NOMEM, "out of memory");
    }
    if ((rc = b64_decode_lenient(data, &raw, &nraw, err))) goto out;
    if ((rc = cipher_run(cipher, key, iv, raw, nraw, false, &plain, &nplain, err))) goto out;
    /* dolDecrypt's own check that the key was the right one */
    if (!is_ascii(plain, nplain) || memchr(plain, 0, nplain)) {
        rc = err_set(err, ERR_AUTH, "it does not decrypt with the instance's key (not ASCII)");
        goto out;
    }
    *out = (char *)plain;
    plain = NULL;
out:
    if (plain) sodium_memzero(plain, nplain);
    free(plain);
    free(raw);
    free(data);
    return rc;
}

int inst_dol_encrypt(const char *s, const char *key, char **out, Err *err)
{
    unsigned char seed[8], *ct = NULL;
    char iv[17], *b64 = NULL;
    size_t nct = 0, n = strlen(s);
    int rc;

    *out = NULL;
    if (inst_dol_php_empty(key)) return err_set(err, ERR_INVALID, "no key to encrypt the password with");
    if (!is_ascii((const unsigned char *)s, n))
        return err_set(err, ERR_UNSUPPORTED, "dolDecrypt accepts only ASCII passwords");
    /* dolGetRandomBytes(16): 8 random bytes as 16 hex digits, used as the IV's bytes */
    randombytes_buf(seed, sizeof seed);
    sodium_bin2hex(iv, sizeof iv, seed, sizeof seed);
    if ((rc = cipher_run("AES-256-CTR", key, iv, (const unsigned char *)s, n, true, &ct, &nct, err))) return rc;
    rc = b64_encode(ct, nct, &b64, err);
    free(ct);
    if (rc) return rc;
    size_t len = strlen("dolcrypt:AES-256-CTR:") + 16 + 1 + strlen(b64) + 1;
    if (!(*out = malloc(len))) {
        free(b64);
        return err_set(err, ERR_NOMEM, "out of memory");
    }
    snprintf(*out, len, "dolcrypt:AES-256-CTR:%s:%s", iv, b64);
    free(b64);
    return 0;
}
