/* dump_text.c: the text a dump writes for values read through the binary
 * protocol (integers, FLOAT/DOUBLE, temporal values). Pure code, no I/O;
 * this runs for every value of every row, so no printf on the common paths.
 * Invariant: the server reads every text back as exactly the value it was
 * made from (a DOUBLE as the same 64 bits, a FLOAT through its exact double),
 * and the text depends on the value alone. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/source/dump/dump_int.h"

size_t dump_text_u64(char *d, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++) d[i] = tmp[n - 1 - i];
    return n;
}

size_t dump_text_i64(char *d, int64_t v)
{
    if (v >= 0) return dump_text_u64(d, (uint64_t)v);
    d[0] = '-';
    return 1 + dump_text_u64(d + 1, 0 - (uint64_t)v);   /* INT64_MIN included */
}

/* n digits of v, zero-padded on the left. */
static char *put_digits(char *d, unsigned long v, unsigned n)
{
    for (unsigned i = n; i > 0; i--) {
        d[i - 1] = (char)('0' + v % 10);
        v /= 10;
    }
    return d + n;
}

static const double pow10_tab[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};

size_t dump_text_double(char *d, double v)
{
    char *p = d;
    int len = 0;

    /* fast path: v is exactly I / 10^k rounded (k <= 9, |I| < 2^53), as most
     * amounts are. "I.F" then denotes the rational I / 10^k; the server's
     * correctly rounded reading of it is the nearest double, which is what
     * the correctly rounded division gave: v itself. */
    double av = v < 0 ? -v : v;
    if (av < 9007199254740992.0 && v != 0) {
        for (unsigned k = 0; k < sizeof pow10_tab / sizeof pow10_tab[0]; k++) {
            double ax_d = av * pow10_tab[k];
            if (ax_d >= 9007199254740992.0) break;
            /* below 2^53 the conversion is exact for integers: a round trip
             * through uint64_t tests integrality without libm */
            if ((double)(uint64_t)ax_d != ax_d || ax_d / pow10_tab[k] != av) continue;
            uint64_t ax = (uint64_t)ax_d, ip = ax, fp = 0;
            unsigned long scale = 1;
            for (unsigned j = 0; j < k; j++) scale *= 10;
            ip = ax / scale;
            fp = ax % scale;
            if (v < 0) *p++ = '-';
            p += dump_text_u64(p, ip);
            if (k) {
                unsigned keep = k;
                while (keep > 0 && fp % 10 == 0) {   /* trailing zeros say nothing */
                    fp /= 10;
                    keep--;
                }
                if (keep) {
                    *p++ = '.';
                    p = put_digits(p, (unsigned long)fp, keep);
                }
            }
            return (size_t)(p - d);
        }
    }
    if (v == 0) {   /* keeps the sign of -0 */
        memcpy(d, signbit(v) ? "-0" : "0", signbit(v) ? 2 : 1);
        return signbit(v) ? 2 : 1;
    }
    /* the shortest of 15, 16, 17 significant digits that reads back as v */
    for (int prec = 15; prec <= 17; prec++) {
        len = snprintf(d, DUMP_TEXT_MAX, "%.*g", prec, v);
        if (strtod(d, NULL) == v) break;
    }
    return (size_t)len;
}

size_t dump_text_time(char *d, const MYSQL_TIME *t, enum enum_field_types type, unsigned decimals)
{
    char *p = d;
    unsigned dec = decimals > 6 ? 6 : decimals;

    if (type == MYSQL_TYPE_TIME) {
        unsigned long h = (unsigned long)t->hour + 24ul * t->day;
        if (t->neg) *p++ = '-';
        if (h >= 100) p += dump_text_u64(p, h);
        else p = put_digits(p, h, 2);
        *p++ = ':';
        p = put_digits(p, t->minute, 2);
        *p++ = ':';
        p = put_digits(p, t->second, 2);
    } else {
        p = put_digits(p, t->year, 4);
        *p++ = '-';
        p = put_digits(p, t->month, 2);
        *p++ = '-';
        p = put_digits(p, t->day, 2);
        if (type == MYSQL_TYPE_DATE || type == MYSQL_TYPE_NEWDATE) return (size_t)(p - d);
        *p++ = ' ';
        p = put_digits(p, t->hour, 2);
        *p++ = ':';
        p = put_digits(p, t->minute, 2);
        *p++ = ':';
        p = put_digits(p, t->second, 2);
    }
    if (dec) {
        unsigned long frac = t->second_part;
        for (unsigned k = dec; k < 6; k++) frac /= 10;
        *p++ = '.';
        p = put_digits(p, frac, dec);
    }
    return (size_t)(p - d);
}
