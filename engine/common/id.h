/* id.h: 32-byte object and chunk identifiers and their hex form. */
#ifndef TM_COMMON_ID_H
#define TM_COMMON_ID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/common/err.h"

#define ID_LEN 32
#define ID_HEX_LEN 64

typedef struct Id {
    uint8_t b[ID_LEN];
} Id;

/* Write 64 lowercase hex chars plus NUL into out (at least 65 bytes). */
void id_hex(const Id *id, char out[ID_HEX_LEN + 1]);
/* Parse exactly 64 hex chars (either case). ERR_INVALID otherwise. */
int id_parse(const char *hex, Id *out, Err *err);
int id_cmp(const Id *a, const Id *b);

/* Generic hex helpers. hex_encode writes 2*n chars plus NUL. */
void hex_encode(const uint8_t *in, size_t n, char *out);
/* Decodes exactly 2*n hex chars into out; returns -1 on a bad char or length. */
int hex_decode(const char *in, size_t inlen, uint8_t *out, size_t n);

#endif
