/* crypto_keyobj.c: key objects: the 96 bytes of master keys sealed
 * (XChaCha20-Poly1305, AD "tidemark key v1") under a key that Argon2id
 * derives from the passphrase and a random 16-byte salt; stored as JSON.
 * Invariant: the derived key and the plaintext master keys only ever sit in
 * sodium_malloc'd memory and are wiped before return, on every path. */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/crypto/crypto.h"
#include "engine/crypto/crypto_int.h"

#define KEYOBJ_VERSION 1
#define KEYOBJ_KDF "argon2id13"
#define KEYOBJ_AD "tidemark key v1"
#define KEYOBJ_SALT_LEN crypto_pwhash_SALTBYTES   /* 16 */
#define KEYOBJ_DATA_LEN (CRY_MASTER_LEN + CRY_OVERHEAD)

_Static_assert(crypto_pwhash_SALTBYTES == 16, "salt is 16 bytes");

static int check_kdf(unsigned long long ops, unsigned long long mem, int code, Err *err)
{
    if (ops < crypto_pwhash_argon2id_OPSLIMIT_MIN || ops > crypto_pwhash_argon2id_OPSLIMIT_MAX)
        return err_set(err, code, "argon2id opslimit %llu is out of range", ops);
    if (mem < crypto_pwhash_argon2id_MEMLIMIT_MIN || mem > crypto_pwhash_argon2id_MEMLIMIT_MAX)
        return err_set(err, code, "argon2id memlimit %llu is out of range", mem);
    return 0;
}

/* Derive the wrapping key into a new sodium_malloc'd block (*out). */
static int derive(const char *pass, size_t passlen, const uint8_t salt[KEYOBJ_SALT_LEN],
                  unsigned long long ops, unsigned long long mem, uint8_t **out, Err *err)
{
    uint8_t *key = sodium_malloc(CRY_KEY_LEN);
    if (!key) return err_set(err, ERR_NOMEM, "out of secure memory for the key derivation");
    if (crypto_pwhash(key, CRY_KEY_LEN, pass, passlen, salt, ops, (size_t)mem,
                      crypto_pwhash_ALG_ARGON2ID13) != 0) {
        sodium_free(key);
        return err_set(err, ERR_NOMEM, "argon2id key derivation failed (memlimit %llu bytes: out "
                       "of memory?)", mem);
    }
    *out = key;
    return 0;
}

static void now_iso8601(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(out, 32, "1970-01-01T00:00:00Z");
}

int cry_keyobj_wrap(const CryKeys *k, const char *pass, size_t passlen, const CryKdfParams *kdf,
                    const char *label, char **out_json, Err *err)
{
    int rc = 0;
    uint8_t salt[KEYOBJ_SALT_LEN], data[KEYOBJ_DATA_LEN];
    char salt_hex[2 * KEYOBJ_SALT_LEN + 1], data_hex[2 * KEYOBJ_DATA_LEN + 1];
    char created[32], host[256];
    uint8_t *dkey = NULL, *master = NULL;
    size_t dlen = 0;
    json_t *obj = NULL;
    char *text = NULL;

    if (passlen == 0) return err_set(err, ERR_INVALID, "empty passphrase refused");
    if ((rc = check_kdf(kdf->opslimit, kdf->memlimit, ERR_INVALID, err))) return rc;
    if (sodium_init() < 0) return err_set(err, ERR_IO, "libsodium failed to initialise");

    randombytes_buf(salt, sizeof salt);
    if ((rc = derive(pass, passlen, salt, kdf->opslimit, kdf->memlimit, &dkey, err))) goto out;
    master = sodium_malloc(CRY_MASTER_LEN);
    if (!master) { rc = err_set(err, ERR_NOMEM, "out of secure memory for the master keys"); goto out; }
    cry_keys_to_bytes(k, master);
    rc = cry_seal_with(dkey, KEYOBJ_AD, sizeof KEYOBJ_AD - 1, master, CRY_MASTER_LEN, data,
                       sizeof data, &dlen, err);
    if (rc) goto out;   /* uncovered: the buffer is sized for it */

    hex_encode(salt, sizeof salt, salt_hex);
    hex_encode(data, dlen, data_hex);
    now_iso8601(created);
    if (gethostname(host, sizeof host) != 0) snprintf(host, sizeof host, "unknown");
    host[sizeof host - 1] = '\0';
    obj = json_pack("{s:i, s:s, s:I, s:I, s:s, s:s, s:s, s:s}", "version", KEYOBJ_VERSION, "kdf",
                    KEYOBJ_KDF, "opslimit", (json_int_t)kdf->opslimit, "memlimit",
                    (json_int_t)kdf->memlimit, "salt", salt_hex, "data", data_hex, "created",
                    created, "host", host);
    if (obj && label && json_object_set_new(obj, "label", json_string(label)) != 0) {
        rc = err_set(err, ERR_INVALID, "key label is not valid UTF-8");
        goto out;
    }
    if (!obj || !(text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER))) {
        rc = err_set(err, ERR_NOMEM, "out of memory building the key object");
        goto out;
    }
    *out_json = text;
out:
    if (dkey) sodium_free(dkey);
    if (master) sodium_free(master);
    json_decref(obj);
    return rc;
}

/* Typed getters: ERR_CORRUPT naming the field when missing or mistyped. */
static int get_int(json_t *obj, const char *name, json_int_t *out, Err *err)
{
    json_t *v = json_object_get(obj, name);
    if (!json_is_integer(v))
        return err_set(err, ERR_CORRUPT, "key object: field '%s' is missing or not an integer", name);
    *out = json_integer_value(v);
    return 0;
}

static int get_str(json_t *obj, const char *name, const char **out, Err *err)
{
    json_t *v = json_object_get(obj, name);
    if (!json_is_string(v))
        return err_set(err, ERR_CORRUPT, "key object: field '%s' is missing or not a string", name);
    *out = json_string_value(v);
    return 0;
}

static int get_hex(json_t *obj, const char *name, uint8_t *out, size_t n, Err *err)
{
    const char *s = NULL;
    int rc = get_str(obj, name, &s, err);
    if (rc) return rc;
    if (strlen(s) != 2 * n || hex_decode(s, 2 * n, out, n) != 0)
        return err_set(err, ERR_CORRUPT, "key object: field '%s' is not %zu bytes of hex", name, n);
    return 0;
}

int cry_keyobj_unwrap(const char *json, size_t len, const char *pass, size_t passlen,
                      CryKeys **out, Err *err)
{
    int rc = 0;
    json_t *obj = NULL;
    json_error_t jerr;
    json_int_t version = 0, ops = 0, mem = 0;
    const char *kdf = NULL;
    uint8_t salt[KEYOBJ_SALT_LEN], data[KEYOBJ_DATA_LEN];
    uint8_t *dkey = NULL, *master = NULL;
    size_t mlen = 0;

    if (sodium_init() < 0) return err_set(err, ERR_IO, "libsodium failed to initialise");
    obj = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!obj) {
        rc = err_set(err, ERR_CORRUPT, "key object is not valid JSON: %s (line %d)", jerr.text,
                     jerr.line);
        goto out;
    }
    if (!json_is_object(obj)) { rc = err_set(err, ERR_CORRUPT, "key object is not a JSON object"); goto out; }
    if ((rc = get_int(obj, "version", &version, err))) goto out;
    if (version > KEYOBJ_VERSION) {
        rc = err_set(err, ERR_VERSION, "key object version %lld is newer than this tidemark "
                     "understands (%d)", (long long)version, KEYOBJ_VERSION);
        goto out;
    }
    if (version < 1) { rc = err_set(err, ERR_CORRUPT, "key object version %lld is invalid", (long long)version); goto out; }
    if ((rc = get_str(obj, "kdf", &kdf, err))) goto out;
    if (strcmp(kdf, KEYOBJ_KDF) != 0) {
        rc = err_set(err, ERR_CORRUPT, "key object: unknown kdf '%.40s'", kdf);
        goto out;
    }
    if ((rc = get_int(obj, "opslimit", &ops, err)) || (rc = get_int(obj, "memlimit", &mem, err))) goto out;
    if (ops < 0 || mem < 0) { rc = err_set(err, ERR_CORRUPT, "key object: negative argon2id cost"); goto out; }
    if ((rc = check_kdf((unsigned long long)ops, (unsigned long long)mem, ERR_CORRUPT, err))) {
        err_wrap(err, "key object");
        goto out;
    }
    if ((rc = get_hex(obj, "salt", salt, sizeof salt, err))) goto out;
    if ((rc = get_hex(obj, "data", data, sizeof data, err))) goto out;

    if ((rc = derive(pass, passlen, salt, (unsigned long long)ops, (unsigned long long)mem, &dkey, err)))
        goto out;
    master = sodium_malloc(CRY_MASTER_LEN);
    if (!master) { rc = err_set(err, ERR_NOMEM, "out of secure memory for the master keys"); goto out; }
    if (cry_open_with(dkey, KEYOBJ_AD, sizeof KEYOBJ_AD - 1, data, sizeof data, master,
                      CRY_MASTER_LEN, &mlen, err) != 0) {
        rc = err_set(err, ERR_AUTH, "wrong passphrase (or a damaged key object)");
        goto out;
    }
    rc = cry_keys_from_bytes(master, out, err);
out:
    if (dkey) sodium_free(dkey);
    if (master) sodium_free(master);
    json_decref(obj);
    return rc;
}
