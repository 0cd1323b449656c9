/* buf.h: growable byte buffer with a hard maximum (curl's dynbuf idea).
 * Invariant: len <= cap <= max; data is NULL until the first reserve. */
#ifndef TM_COMMON_BUF_H
#define TM_COMMON_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "engine/common/err.h"

typedef struct Buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t max;   /* reserve beyond this fails with ERR_NOMEM */
} Buf;

#define BUF_MAX_DEFAULT ((size_t)1 << 30)

/* Initialise an empty buffer that may grow up to max bytes. */
void buf_init(Buf *b, size_t max);
/* Make room for `extra` more bytes after len. */
int buf_reserve(Buf *b, size_t extra, Err *err);
int buf_append(Buf *b, const void *p, size_t n, Err *err);
/* Append a NUL-terminated string (without the NUL; data stays NUL-terminated). */
int buf_append_str(Buf *b, const char *s, Err *err);
int buf_printf(Buf *b, Err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* len = 0, memory kept. */
void buf_reset(Buf *b);
/* Free memory; the buffer is reusable after buf_init. Accepts NULL. */
void buf_free(Buf *b);

/* Growable arrays. varr points at the caller's array pointer (a T **, NULL
 * at first) whose capacity is *cap elements of elem bytes. Make room for at
 * least need elements: the capacity doubles (from 16), never past max
 * elements (the array's hard limit). ERR_NOMEM when need > max or memory
 * runs out; the array and *cap are left as they were then. */
int buf_grow(void *varr, size_t *cap, size_t need, size_t elem, size_t max, Err *err);

#endif
