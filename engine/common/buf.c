/* buf.c: bounded growable buffer. Growth doubles, never past max. */
#include "engine/common/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(Buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max ? max : BUF_MAX_DEFAULT;
}

int buf_reserve(Buf *b, size_t extra, Err *err)
{
    size_t need, ncap;
    uint8_t *p;
    if (extra > b->max || b->len > b->max - extra)
        return err_set(err, ERR_NOMEM, "buffer limit of %zu bytes reached", b->max);
    need = b->len + extra + 1;   /* +1 keeps room for a NUL terminator */
    if (need <= b->cap) return 0;
    ncap = b->cap ? b->cap : 256;
    while (ncap < need) ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    if (ncap > b->max + 1) ncap = b->max + 1;
    p = realloc(b->data, ncap);
    if (!p) return err_set(err, ERR_NOMEM, "out of memory growing buffer to %zu bytes", ncap);
    b->data = p;
    b->cap = ncap;
    return 0;
}

int buf_grow(void *varr, size_t *cap, size_t need, size_t elem, size_t max, Err *err)
{
    void *v, *nv;
    size_t ncap;
    if (need <= *cap) return 0;
    if (need > max || max > SIZE_MAX / elem)
        return err_set(err, ERR_NOMEM, "array limit of %zu elements reached", max);
    ncap = *cap ? *cap : 16;
    while (ncap < need) ncap = ncap > max / 2 ? max : ncap * 2;
    if (ncap > max) ncap = max;
    memcpy(&v, varr, sizeof v);          /* varr is a T **: no aliasing through void ** */
    nv = realloc(v, ncap * elem);
    if (!nv) return err_set(err, ERR_NOMEM, "out of memory growing an array to %zu elements", ncap);
    memcpy(varr, &nv, sizeof nv);
    *cap = ncap;
    return 0;
}

int buf_append(Buf *b, const void *p, size_t n, Err *err)
{
    int rc = buf_reserve(b, n, err);
    if (rc) return rc;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
    return 0;
}

int buf_append_str(Buf *b, const char *s, Err *err)
{
    return buf_append(b, s, strlen(s), err);
}

int buf_printf(Buf *b, Err *err, const char *fmt, ...)
{
    va_list ap;
    int n, rc;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return err_set(err, ERR_INVALID, "bad format");
    rc = buf_reserve(b, (size_t)n, err);
    if (rc) return rc;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void buf_reset(Buf *b)
{
    b->len = 0;
    if (b->data) b->data[0] = 0;
}

void buf_free(Buf *b)
{
    if (!b) return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

