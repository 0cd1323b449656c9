/* mdb_rows.c: walking row images from a Table_map's column types and
 * metadata: where each column of an image lies and how long the image is
 * (nothing is decoded). `binlog search` counts rows with it, the net-change
 * fold (restore/net/net_fold.c) cuts keys and images with it.
 * Invariant: never reads past the event; a type it cannot size is
 * reported as such (ERR_UNSUPPORTED for the row count). */
#include <string.h>

#include "engine/mariadb/mdb.h"

int mdb_packed(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    const uint8_t *q = *p;
    if (q >= end) return -1;
    if (*q < 251) { *out = *q; *p = q + 1; return 0; }
    if (*q == 252 && end - q >= 3) { *out = mdb_le16(q + 1); *p = q + 3; return 0; }
    if (*q == 253 && end - q >= 4) { *out = mdb_le24(q + 1); *p = q + 4; return 0; }
    if (*q == 254 && end - q >= 9) { *out = mdb_le64(q + 1); *p = q + 9; return 0; }
    return -1;
}

static int meta_len(uint8_t t)
{
    switch (t) {
    case 4: case 5: case 17: case 18: case 19: case 245: case 249: case 250: case 251: case 252:
    case 255:
        return 1;
    case 15: case 16: case 246: case 247: case 248: case 253: case 254:
        return 2;
    default:
        return 0;
    }
}

int mdb_cols_parse(const uint8_t *m, size_t len, MdbCols *c)
{
    const uint8_t *p = m + MDB_HDR_LEN + 8, *end = m + len, *mp;
    uint64_t mlen;
    if (len < MDB_HDR_LEN + 8 + 1) return -1;
    c->table_id = mdb_le48(m + MDB_HDR_LEN);
    c->db_len = p[0];
    c->db = p + 1;
    p += 1 + p[0] + 1;                       /* database, NUL */
    if (end - p < 1) return -1;
    c->table_len = p[0];
    c->table = p + 1;
    p += 1 + p[0] + 1;                       /* table, NUL */
    if (p > end) return -1;
    c->cols_off = (size_t)(p - m);
    if (mdb_packed(&p, end, &c->n) || c->n > MDB_COLS_MAX || (uint64_t)(end - p) < c->n) return -1;
    c->types = p;
    p += c->n;
    if (mdb_packed(&p, end, &mlen) || (uint64_t)(end - p) < mlen) return -1;
    mp = p;
    for (uint64_t i = 0; i < c->n; i++) {
        int ml = meta_len(c->types[i]);
        if (mp + ml > p + mlen) return -1;
        if (ml == 1) c->meta[i] = mp[0];
        else if (ml == 2) c->meta[i] = (c->types[i] == 15 || c->types[i] == 253) ? (uint16_t)mdb_le16(mp)
                                                                                : (uint16_t)(mp[0] << 8 | mp[1]);
        else c->meta[i] = 0;
        mp += ml;
    }
    p += mlen;
    if ((uint64_t)(end - p) < (c->n + 7) / 8) return -1;   /* NULL-able bitmap */
    c->cols_end = (size_t)(p - m) + (size_t)(c->n + 7) / 8;
    return 0;
}

static const int dig2bytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};

/* Column types field_size knows (the others cannot be sized). */
static bool known_type(uint8_t t)
{
    switch (t) {
    case 1: case 2: case 3: case 4: case 5: case 6: case 7: case 8: case 9: case 10: case 11: case 12:
    case 13: case 14: case 15: case 16: case 17: case 18: case 19: case 245: case 246: case 247:
    case 248: case 249: case 250: case 251: case 252: case 253: case 254: case 255:
        return true;
    default:
        return false;
    }
}

/* Size of one value of column i at p; -1 when unknown or out of bounds. */
static long field_size(const MdbCols *c, uint64_t i, const uint8_t *p, const uint8_t *end)
{
    uint8_t t = c->types[i];
    unsigned meta = c->meta[i];
    long avail = end - p;
    switch (t) {
    case 1: case 13: return 1;
    case 2: return 2;
    case 9: case 10: case 11: case 14: return 3;
    case 3: case 7: return 4;
    case 8: case 12: return 8;
    case 6: return 0;
    case 4: case 5: return meta ? (long)meta : (t == 4 ? 4 : 8);
    case 17: return 4 + (long)(meta + 1) / 2;
    case 18: return 5 + (long)(meta + 1) / 2;
    case 19: return 3 + (long)(meta + 1) / 2;
    case 16: return (long)(meta & 0xff) + ((meta >> 8) ? 1 : 0);
    case 246: {
        int prec = (int)(meta >> 8), scale = (int)(meta & 0xff), intg = prec - scale;
        if (intg < 0) return -1;
        return (intg / 9) * 4 + dig2bytes[intg % 9] + (scale / 9) * 4 + dig2bytes[scale % 9];
    }
    case 15: case 253: {
        if (meta < 256) return avail >= 1 ? 1 + (long)p[0] : -1;
        return avail >= 2 ? 2 + (long)mdb_le16(p) : -1;
    }
    case 245: case 249: case 250: case 251: case 252: case 255: {
        unsigned lb = meta;
        uint64_t l = 0;
        if (lb < 1 || lb > 4 || avail < (long)lb) return -1;
        for (unsigned k = 0; k < lb; k++) l |= (uint64_t)p[k] << (8 * k);
        return (long)(lb + l);
    }
    case 254: case 247: case 248: {
        unsigned b0 = meta >> 8, b1 = meta & 0xff, real, maxlen;
        if ((b0 & 0x30) != 0x30) {
            real = b0 | 0x30;
            maxlen = b1 | (((b0 & 0x30) ^ 0x30) << 4);
        } else {
            real = b0;
            maxlen = b1;
        }
        if (real == 247 || real == 248) return (long)b1;   /* ENUM/SET: pack length */
        if (maxlen < 256) return avail >= 1 ? 1 + (long)p[0] : -1;
        return avail >= 2 ? 2 + (long)mdb_le16(p) : -1;
    }
    default:
        return -1;
    }
}

static uint64_t popcount_bits(const uint8_t *bm, uint64_t n)
{
    uint64_t k = 0;
    for (uint64_t i = 0; i < n; i++) k += (bm[i / 8] >> (i % 8)) & 1;
    return k;
}

int mdb_row_image(const MdbCols *c, const uint8_t *present, uint64_t npresent,
                   const uint8_t **pp, const uint8_t *end, MdbField *f)
{
    const uint8_t *start = *pp, *p = *pp, *nulls;
    uint64_t k = 0;
    size_t nb = (size_t)(npresent + 7) / 8;
    /* no column present: an image of no bytes, a caller's loop would not advance */
    if (!npresent || (size_t)(end - p) < nb) return -1;
    nulls = p;
    p += nb;
    for (uint64_t i = 0; i < c->n; i++) {
        if (!((present[i / 8] >> (i % 8)) & 1)) {
            if (f) f[i].len = MDB_FIELD_NONE;
            continue;
        }
        bool is_null = (nulls[k / 8] >> (k % 8)) & 1;
        k++;
        if (is_null) {
            if (f) f[i].len = MDB_FIELD_NONE;
            continue;
        }
        long sz = field_size(c, i, p, end);
        if (sz == -1 && !known_type(c->types[i])) return -2;
        if (sz < 0 || sz > end - p) return -1;
        if (f) {
            f[i].off = (uint32_t)(p - start);
            f[i].len = (uint32_t)sz;
        }
        p += sz;
    }
    *pp = p;
    return 0;
}

int mdb_rows_count(const uint8_t *tmap, size_t tmap_len, const uint8_t *ev, size_t len,
                    uint8_t type, uint64_t *out, Err *err)
{
    static __thread MdbCols c;
    const uint8_t *p, *end = ev + len, *bm1, *bm2 = NULL;
    uint64_t ncols, rows = 0, np1, np2 = 0;
    bool v2 = type >= MDB_EV_WRITE_V2 && type <= MDB_EV_DELETE_V2;
    bool upd = type == MDB_EV_UPDATE_V1 || type == MDB_EV_UPDATE_V2;

    c.n = 0;
    if (mdb_cols_parse(tmap, tmap_len, &c)) return err_set(err, ERR_UNSUPPORTED, "table map not understood");
    if (len < MDB_HDR_LEN + 8) goto bad;
    p = ev + MDB_HDR_LEN + 8;
    if (v2) {
        if (end - p < 2) goto bad;
        uint32_t extra = mdb_le16(p);
        if (extra < 2 || (long)extra > end - p) goto bad;
        p += extra;
    }
    if (mdb_packed(&p, end, &ncols) || ncols != c.n) goto bad;
    size_t bl = (size_t)(ncols + 7) / 8;
    if ((size_t)(end - p) < bl * (upd ? 2 : 1)) goto bad;
    bm1 = p;
    np1 = popcount_bits(bm1, ncols);
    p += bl;
    if (upd) {
        bm2 = p;
        np2 = popcount_bits(bm2, ncols);
        p += bl;
    }
    while (p < end) {
        if (mdb_row_image(&c, bm1, np1, &p, end, NULL)) goto bad;
        if (upd && mdb_row_image(&c, bm2, np2, &p, end, NULL)) goto bad;
        rows++;
    }
    *out = rows;
    return 0;
bad:
    return err_set(err, ERR_UNSUPPORTED, "row image not understood");
}
