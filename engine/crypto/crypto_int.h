/* crypto_int.h: helpers shared inside the crypto module only (key bytes in
 * and out, AEAD under a raw key). No other module includes this. */
#ifndef TM_CRYPTO_CRYPTO_INT_H
#define TM_CRYPTO_CRYPTO_INT_H

#include <stddef.h>
#include <stdint.h>

#include "engine/crypto/crypto.h"

#define CRY_KEY_LEN 32
/* Serialized master keys: enc key || id key || chunker seed. */
#define CRY_MASTER_LEN (3 * CRY_KEY_LEN)

/* New CryKeys from CRY_MASTER_LEN bytes (copied; the caller wipes its copy). */
int cry_keys_from_bytes(const uint8_t in[CRY_MASTER_LEN], CryKeys **out, Err *err);
/* Copy the master keys out; out should be sodium_malloc'd and wiped after. */
void cry_keys_to_bytes(const CryKeys *k, uint8_t out[CRY_MASTER_LEN]);

/* cry_seal / cry_open with an explicit 32-byte key (same format, same errors). */
int cry_seal_with(const uint8_t key[CRY_KEY_LEN], const void *ad, size_t adlen, const void *plain,
                  size_t plen, uint8_t *out, size_t out_cap, size_t *out_len, Err *err);
int cry_open_with(const uint8_t key[CRY_KEY_LEN], const void *ad, size_t adlen,
                  const uint8_t *sealed, size_t slen, uint8_t *out, size_t out_cap,
                  size_t *out_len, Err *err);

#endif
