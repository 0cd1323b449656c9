/* crypto.h: repository keys, chunk ids, authenticated encryption, and the
 * key objects that wrap the master keys under a passphrase.
 * Invariants: key material lives only in sodium_malloc'd memory (guarded,
 * mlock'd, excluded from core dumps where the OS allows) and is wiped on
 * free; nothing here logs or puts secrets into an Err. */
#ifndef TM_CRYPTO_CRYPTO_H
#define TM_CRYPTO_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "engine/common/err.h"
#include "engine/common/id.h"

/* Call once before anything else (sodium_init); ERR_IO on failure. */
int cry_init(Err *err);

/* Master keys: enc key (XChaCha20-Poly1305), id key (BLAKE2b-256), chunker
 * seed (gear table). Opaque; sodium_malloc'd. */
typedef struct CryKeys CryKeys;

int cry_keys_generate(CryKeys **out, Err *err);
void cry_keys_free(CryKeys *k);   /* wipes; accepts NULL */
/* Borrowed pointer into k, 32 bytes, valid while k lives. */
const uint8_t *cry_keys_chunker_seed(const CryKeys *k);

/* Chunk id: BLAKE2b-256 keyed with the id key over the plaintext. */
void cry_id(const CryKeys *k, const void *data, size_t len, Id *out);

/* Incremental keyed hash (same construction as cry_id) for streams too big
 * to hold: init, update..., final. */
typedef struct CryHash {
    uint8_t state[384];   /* crypto_generichash_state, aligned storage */
} __attribute__((aligned(64))) CryHash;
void cry_hash_init(const CryKeys *k, CryHash *h);
void cry_hash_update(CryHash *h, const void *data, size_t len);
void cry_hash_final(CryHash *h, Id *out);

/* Sealed format: nonce (24 random bytes) || ciphertext || tag (16). */
#define CRY_NONCE_LEN 24
#define CRY_TAG_LEN 16
#define CRY_OVERHEAD (CRY_NONCE_LEN + CRY_TAG_LEN)

/* Encrypt plain into out (out_cap >= plen + CRY_OVERHEAD) with a fresh
 * random nonce; ad (may be NULL when adlen is 0) is authenticated, not
 * stored. plain and out must not overlap. */
int cry_seal(const CryKeys *k, const void *ad, size_t adlen, const void *plain, size_t plen,
             uint8_t *out, size_t out_cap, size_t *out_len, Err *err);
/* Verify and decrypt. ERR_AUTH "authentication failed" when the tag, the
 * ad or any byte is wrong; ERR_CORRUPT when slen < CRY_OVERHEAD. Nothing
 * of the plaintext is released unless the tag verifies (on failure out is
 * zeroed: libsodium verifies before it decrypts, in one call). */
int cry_open(const CryKeys *k, const void *ad, size_t adlen, const uint8_t *sealed, size_t slen,
             uint8_t *out, size_t out_cap, size_t *out_len, Err *err);

/* Argon2id cost of a key object (stored in it, so it can change later). */
typedef struct CryKdfParams {
    uint64_t opslimit;
    uint64_t memlimit;   /* bytes */
} CryKdfParams;
#define CRY_KDF_DEFAULT ((CryKdfParams){3, 64ull << 20})
/* For tests only (TIDEMARK_KDF=fast): still Argon2id, minimal cost. */
#define CRY_KDF_FAST ((CryKdfParams){1, 8192})

/* Key object: the master keys wrapped with a key derived from the
 * passphrase by Argon2id (crypto_pwhash, random 16-byte salt). Output is a
 * JSON text (NUL-terminated, malloc'd, caller frees) of the form
 *   {"version":1,"kdf":"argon2id13","opslimit":..,"memlimit":..,
 *    "salt":"hex","data":"hex(sealed master keys)","created":"ISO8601",
 *    "host":"..","label":".."}
 * label may be NULL. */
int cry_keyobj_wrap(const CryKeys *k, const char *pass, size_t passlen, const CryKdfParams *kdf,
                    const char *label, char **out_json, Err *err);
/* Unwrap. ERR_AUTH "wrong passphrase" when the passphrase does not open it;
 * ERR_CORRUPT when the JSON is malformed; ERR_VERSION for a newer version. */
int cry_keyobj_unwrap(const char *json, size_t len, const char *pass, size_t passlen,
                      CryKeys **out, Err *err);

#endif
