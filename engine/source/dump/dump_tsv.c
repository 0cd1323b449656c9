/* dump_tsv.c: the rows encoding (tsv1). Pure code,
 * no I/O. Invariant: src_tsv_split(src_tsv_row(x)) == x for every byte
 * string, and the encoding of a value never depends on anything but its
 * bytes (dedup and content hashes rely on it). */
#include <string.h>

#include "engine/source/dump/dump_int.h"

/* Bytes needing an escape in tsv1: 0 -> \0, \t, \n, \r, \\. */
static const unsigned char tsv_esc[256] = {
    [0] = '0', ['\t'] = 't', ['\n'] = 'n', ['\r'] = 'r', ['\\'] = '\\',
};

uint8_t *dump_tsv_put(uint8_t *d, const unsigned char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char e = tsv_esc[s[i]];
        if (!e) continue;
        memcpy(d, s + start, i - start);
        d += i - start;
        *d++ = '\\';
        *d++ = e;
        start = i + 1;
    }
    memcpy(d, s + start, n - start);
    return d + (n - start);
}

int src_tsv_field(Buf *out, const void *p, size_t n, Err *err)
{
    if (!p) return buf_append(out, "\\N", 2, err);
    /* worst case every byte doubles: reserve once, write directly */
    if (buf_reserve(out, 2 * n, err)) return err->code;
    out->len = (size_t)(dump_tsv_put(out->data + out->len, p, n) - out->data);
    return 0;
}

/* One reservation per row (the worst case: every byte escaped, plus the
 * separators), then the fields are written in place: this runs once per
 * row of every table, so calls per field add up. */
int src_tsv_row(Buf *out, unsigned nfields, char **vals, const unsigned long *lens, Err *err)
{
    size_t need = (size_t)nfields + 1;
    uint8_t *d;
    for (unsigned i = 0; i < nfields; i++) need += vals[i] ? 2 * (size_t)lens[i] : 2;
    if (buf_reserve(out, need, err)) return err->code;
    d = out->data + out->len;
    for (unsigned i = 0; i < nfields; i++) {
        if (i) *d++ = '\t';
        if (!vals[i]) { *d++ = '\\'; *d++ = 'N'; }
        else d = dump_tsv_put(d, (const unsigned char *)vals[i], lens[i]);
    }
    *d++ = '\n';
    out->len = (size_t)(d - out->data);
    return 0;
}

int src_tsv_split(char *line, size_t len, unsigned nfields, char **fields, size_t *lens,
                  bool *is_null, Err *err)
{
    unsigned f = 0;
    size_t i = 0;

    while (f < nfields) {
        char *start = line + i, *w = start;
        bool escaped_n = false;
        size_t raw = 0;
        while (i < len && line[i] != '\t') {
            char c = line[i++];
            raw++;
            if (c == '\\') {
                if (i >= len)
                    return err_set(err, ERR_CORRUPT, "rows line: escape cut short in field %u",
                                   f + 1);
                c = line[i++];
                raw++;
                switch (c) {
                case '0': c = '\0'; break;
                case 't': c = '\t'; break;
                case 'n': c = '\n'; break;
                case 'r': c = '\r'; break;
                case 'N': escaped_n = true; c = 'N'; break;
                default: break;   /* \\ and any other char stand for themselves */
                }
            }
            *w++ = c;
        }
        fields[f] = start;
        lens[f] = (size_t)(w - start);
        is_null[f] = escaped_n && raw == 2;
        f++;
        if (i < len) {
            i++;   /* the tab */
            if (f == nfields)
                return err_set(err, ERR_CORRUPT, "rows line: more than %u fields", nfields);
        } else if (f < nfields) {
            return err_set(err, ERR_CORRUPT, "rows line: %u fields, expected %u", f, nfields);
        }
    }
    return 0;
}
