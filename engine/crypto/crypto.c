/* crypto.c: master keys, keyed BLAKE2b-256 ids, XChaCha20-Poly1305 seal/open.
 * Invariant: a CryKeys lives in one sodium_malloc'd block (guard pages,
 * mlock'd where allowed) that is read-only except while being filled, and
 * sodium_free wipes it. cry_open writes nothing to out unless the tag
 * verifies: it authenticates first, then decrypts. */
#include "engine/crypto/crypto.h"

#include <assert.h>
#include <sodium.h>
#include <stdalign.h>
#include <string.h>

#include "engine/crypto/crypto_int.h"

struct CryKeys {
    uint8_t enc[CRY_KEY_LEN];    /* XChaCha20-Poly1305 key */
    uint8_t id[CRY_KEY_LEN];     /* BLAKE2b key for chunk ids */
    uint8_t seed[CRY_KEY_LEN];   /* chunker gear table seed */
};

static_assert(sizeof(struct CryKeys) == CRY_MASTER_LEN, "CryKeys is the serialized master keys");
static_assert(sizeof(crypto_generichash_state) <= sizeof(((CryHash *)0)->state),
              "crypto_generichash_state must fit in CryHash");
static_assert(alignof(crypto_generichash_state) <= alignof(CryHash),
              "CryHash must be aligned for crypto_generichash_state");
static_assert(CRY_NONCE_LEN == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "nonce length");
static_assert(CRY_TAG_LEN == crypto_aead_xchacha20poly1305_ietf_ABYTES, "tag length");
static_assert(CRY_KEY_LEN == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "aead key length");
static_assert(CRY_KEY_LEN >= crypto_generichash_KEYBYTES_MIN &&
              CRY_KEY_LEN <= crypto_generichash_KEYBYTES_MAX, "id key length");
static_assert(ID_LEN >= crypto_generichash_BYTES_MIN && ID_LEN <= crypto_generichash_BYTES_MAX,
              "id length");

int cry_init(Err *err)
{
    if (sodium_init() < 0) return err_set(err, ERR_IO, "libsodium failed to initialise");
    return 0;
}

static int keys_alloc(CryKeys **out, Err *err)
{
    if (sodium_init() < 0) return err_set(err, ERR_IO, "libsodium failed to initialise");
    *out = sodium_malloc(sizeof **out);
    if (!*out) return err_set(err, ERR_NOMEM, "out of secure memory for repository keys");
    return 0;
}

int cry_keys_generate(CryKeys **out, Err *err)
{
    CryKeys *k = NULL;
    int rc = keys_alloc(&k, err);
    if (rc) return rc;
    randombytes_buf(k, sizeof *k);
    sodium_mprotect_readonly(k);
    *out = k;
    return 0;
}

int cry_keys_from_bytes(const uint8_t in[CRY_MASTER_LEN], CryKeys **out, Err *err)
{
    CryKeys *k = NULL;
    int rc = keys_alloc(&k, err);
    if (rc) return rc;
    memcpy(k, in, sizeof *k);
    sodium_mprotect_readonly(k);
    *out = k;
    return 0;
}

void cry_keys_to_bytes(const CryKeys *k, uint8_t out[CRY_MASTER_LEN])
{
    memcpy(out, k, sizeof *k);
}

void cry_keys_free(CryKeys *k)
{
    if (k) sodium_free(k);   /* makes it writable, wipes it, unmaps it */
}

const uint8_t *cry_keys_chunker_seed(const CryKeys *k)
{
    return k->seed;
}

void cry_id(const CryKeys *k, const void *data, size_t len, Id *out)
{
    crypto_generichash(out->b, ID_LEN, data, len, k->id, CRY_KEY_LEN);
}

void cry_hash_init(const CryKeys *k, CryHash *h)
{
    crypto_generichash_init((crypto_generichash_state *)h->state, k->id, CRY_KEY_LEN, ID_LEN);
}

void cry_hash_update(CryHash *h, const void *data, size_t len)
{
    crypto_generichash_update((crypto_generichash_state *)h->state, data, len);
}

void cry_hash_final(CryHash *h, Id *out)
{
    crypto_generichash_final((crypto_generichash_state *)h->state, out->b, ID_LEN);
    sodium_memzero(h->state, sizeof h->state);   /* the state holds the keyed chain value */
}

int cry_seal_with(const uint8_t key[CRY_KEY_LEN], const void *ad, size_t adlen, const void *plain,
                  size_t plen, uint8_t *out, size_t out_cap, size_t *out_len, Err *err)
{
    unsigned long long maclen = 0;
    if (plen > crypto_aead_xchacha20poly1305_ietf_MESSAGEBYTES_MAX || plen > SIZE_MAX - CRY_OVERHEAD)
        return err_set(err, ERR_INVALID, "cannot seal %zu bytes: too large", plen);
    if (out_cap < plen + CRY_OVERHEAD)
        return err_set(err, ERR_INVALID, "seal output buffer of %zu bytes is too small for %zu",
                       out_cap, plen + CRY_OVERHEAD);
    randombytes_buf(out, CRY_NONCE_LEN);
    crypto_aead_xchacha20poly1305_ietf_encrypt_detached(out + CRY_NONCE_LEN,
                                                        out + CRY_NONCE_LEN + plen, &maclen, plain,
                                                        plen, ad, adlen, NULL, out, key);
    *out_len = plen + CRY_OVERHEAD;
    return 0;
}

int cry_open_with(const uint8_t key[CRY_KEY_LEN], const void *ad, size_t adlen,
                  const uint8_t *sealed, size_t slen, uint8_t *out, size_t out_cap,
                  size_t *out_len, Err *err)
{
    size_t clen;
    const uint8_t *nonce = sealed, *ct = sealed + CRY_NONCE_LEN, *tag;
    if (slen < CRY_OVERHEAD)
        return err_set(err, ERR_CORRUPT, "sealed object of %zu bytes is shorter than its %d-byte "
                       "nonce and tag", slen, CRY_OVERHEAD);
    clen = slen - CRY_OVERHEAD;
    tag = ct + clen;
    if (out_cap < clen)
        return err_set(err, ERR_INVALID, "open output buffer of %zu bytes is too small for %zu",
                       out_cap, clen);
    /* One call: libsodium checks the tag before it decrypts and zeroes out
     * on failure, so unverified plaintext is never released. (Verifying
     * separately first cost a second Poly1305 pass: ~30% of restore CPU.) */
    if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(out, NULL, ct, clen, tag, ad, adlen,
                                                            nonce, key) != 0)
        return err_set(err, ERR_AUTH, "authentication failed");
    *out_len = clen;
    return 0;
}

int cry_seal(const CryKeys *k, const void *ad, size_t adlen, const void *plain, size_t plen,
             uint8_t *out, size_t out_cap, size_t *out_len, Err *err)
{
    return cry_seal_with(k->enc, ad, adlen, plain, plen, out, out_cap, out_len, err);
}

int cry_open(const CryKeys *k, const void *ad, size_t adlen, const uint8_t *sealed, size_t slen,
             uint8_t *out, size_t out_cap, size_t *out_len, Err *err)
{
    return cry_open_with(k->enc, ad, adlen, sealed, slen, out, out_cap, out_len, err);
}
