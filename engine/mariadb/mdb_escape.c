/* mdb_escape.c: SQL text built by tidemark: string literal bodies and
 * backtick-quoted identifiers. Pure, binary-safe.
 * Invariant: the output, put between quotes (backticks), always reads back
 * as exactly the input, whatever bytes it holds. */
#include "engine/mariadb/mdb.h"

int mdb_escape(Buf *out, const void *p, size_t n, Err *err)
{
    const unsigned char *s = p;
    uint8_t *d;

    if (buf_reserve(out, 2 * n, err)) return err->code;
    d = out->data + out->len;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i], e = 0;
        switch (c) {
        case 0: e = '0'; break;
        case '\n': e = 'n'; break;
        case '\r': e = 'r'; break;
        case '\\': e = '\\'; break;
        case '\'': e = '\''; break;
        case 0x1a: e = 'Z'; break;
        default: break;
        }
        if (e) {
            *d++ = '\\';
            *d++ = e;
        } else {
            *d++ = c;
        }
    }
    out->len = (size_t)(d - out->data);
    return 0;
}

int mdb_ident_quote(Buf *out, const char *name, Err *err)
{
    if (buf_append(out, "`", 1, err)) return err->code;
    for (const char *p = name; *p; p++) {
        if (*p == '`' && buf_append(out, "`", 1, err)) return err->code;
        if (buf_append(out, p, 1, err)) return err->code;
    }
    return buf_append(out, "`", 1, err);
}
