/* rst_scramble.c: the mysql_native_password reply the replay source checks
 * a replica's login against, with libcrypto's SHA-1 (EVP).
 * Invariant: the intermediate hashes of the password are wiped. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#include "restore/replay/rst_replay_int.h"

/* SHA-1 of a || b (b may be empty) into out; false when libcrypto fails. */
static bool sha1_2(const void *a, size_t an, const void *b, size_t bn, uint8_t out[20])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned n = 0;
    bool ok = c && EVP_DigestInit_ex(c, EVP_sha1(), NULL) && EVP_DigestUpdate(c, a, an) &&
              (bn == 0 || EVP_DigestUpdate(c, b, bn)) && EVP_DigestFinal_ex(c, out, &n) && n == 20;
    EVP_MD_CTX_free(c);
    return ok;
}

bool rst_native_scramble(const uint8_t salt[20], const char *password, uint8_t out[20])
{
    uint8_t h1[20], h2[20], h3[20];
    bool ok = sha1_2(password, strlen(password), NULL, 0, h1) && sha1_2(h1, 20, NULL, 0, h2) &&
              sha1_2(salt, 20, h2, 20, h3);
    if (ok)
        for (int i = 0; i < 20; i++) out[i] = h1[i] ^ h3[i];
    OPENSSL_cleanse(h1, sizeof h1);
    OPENSSL_cleanse(h2, sizeof h2);
    return ok;
}
