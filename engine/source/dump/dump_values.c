/* dump_values.c: a table's rows read through the binary protocol (a
 * prepared SELECT, fetched row by row, never held whole). Each value as the
 * server holds it (FLOAT as its 4 bytes, DOUBLE as 8, temporal values as
 * their fields, everything else as its bytes) feeds the values hash
 * (tm-values-1, docs/FORMAT.md); the dump also encodes it as tsv1 text.
 * Invariant: the values hash never looks at the tsv1 text, so a lossy
 * encoding makes the hash recomputed on a loaded server differ. */
#include <math.h>
#include <mysql.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/source/dump/dump_int.h"

#define HASH_AT (64u << 10)
#define HASH_INLINE 4096u
#define CAP_START 256u
#define CAP_FIRST_MAX (64u << 10)

enum { K_INT, K_YEAR, K_FLOAT, K_DOUBLE, K_TIME, K_BYTES };

typedef struct DvCol {
    int kind;
    enum enum_field_types type;
    unsigned decimals;
    bool is_unsigned;
    union {
        long long i;
        float f;
        double d;
        MYSQL_TIME t;
    } num;
    int sign;                /* a FLOAT's sign probe: its result column, else -1 */
    unsigned char *data;     /* K_BYTES: the value */
    unsigned long cap, len;
    my_bool null, error;
} DvCol;

struct DumpValues {
    MYSQL_STMT *st;
    MYSQL_BIND *bind;
    DvCol *cols;
    unsigned ncols;          /* bound result columns */
    unsigned nf;             /* dumped columns (0: a table of generated columns only) */
    unsigned nh;             /* hashed columns: the dumped ones, then the generated ones */
    crypto_generichash_state h;
    Buf hb;                  /* serialized values waiting for the hash */
    bool lossy_float;        /* test switch, see dump_values_open */
};

static void put_u64(uint8_t *d, uint64_t v)
{
    for (int i = 0; i < 8; i++) d[i] = (uint8_t)(v >> (8 * i));
}

static void put_u32(uint8_t *d, uint32_t v)
{
    for (int i = 0; i < 4; i++) d[i] = (uint8_t)(v >> (8 * i));
}

static int bind_all(DumpValues *v, Err *err)
{
    if (mysql_stmt_bind_result(v->st, v->bind))
        return err_set(err, ERR_DB, "bind result columns: %s", mysql_stmt_error(v->st));
    return 0;
}

int dump_values_open(MYSQL *m, const char *db, const char *table, const json_t *columns,
                     const json_t *generated, const json_t *order_by, const json_t *shape,
                     DumpValues **out, Err *err)
{
    DumpValues *v = NULL;
    MYSQL_RES *meta = NULL;
    MYSQL_FIELD *fs;
    json_t *all = NULL;
    Buf sql;
    unsigned nprobe = 0;
    int rc = 0;

    *out = NULL;
    buf_init(&sql, 1 << 20);
    v = calloc(1, sizeof *v);
    if (!v) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    buf_init(&v->hb, HASH_AT + HASH_INLINE + 64);
    crypto_generichash_init(&v->h, NULL, 0, 32);
    v->nf = (unsigned)json_array_size(columns);
    v->nh = v->nf + (unsigned)json_array_size(generated);
    /* test hook (tests/integration/db_exact.sh): encode FLOAT with 6 significant
     * digits, as the text protocol did before, to prove verification catches it */
    {
        const char *lossy = getenv("TIDEMARK_TEST_LOSSY_FLOAT");
        v->lossy_float = lossy && *lossy && strcmp(lossy, "0") != 0;
    }
    /* generated columns are read (and hashed) after the dumped ones, never encoded */
    if (!(all = json_array()) || json_array_extend(all, (json_t *)columns) ||
        (generated && json_array_extend(all, (json_t *)generated))) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = src_dump_select_sql(db, table, all, order_by, shape, &sql, err))) goto out;
    if (!(v->st = mysql_stmt_init(m))) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    if (mysql_stmt_prepare(v->st, (char *)sql.data, sql.len)) {
        rc = err_set(err, ERR_DB, "prepare select rows: %s (errno %u)", mysql_stmt_error(v->st),
                     mysql_stmt_errno(v->st));
        goto out;
    }
    if (!(meta = mysql_stmt_result_metadata(v->st))) {
        rc = err_set(err, ERR_DB, "select rows: no result metadata: %s", mysql_stmt_error(v->st));
        goto out;
    }
    v->ncols = mysql_num_fields(meta);
    for (size_t i = 0; i < v->nh; i++)   /* the sign probes follow, in column order */
        nprobe += src_dump_shape_has(shape, "float_columns", json_string_value(json_array_get(all, i)));
    if (v->ncols != v->nh + nprobe && !(v->nh == 0 && v->ncols == 1)) {   /* the server answered another question */
        rc = err_set(err, ERR_DB, "select rows: %u result columns, expected %u", v->ncols,
                     v->nh + nprobe);
        goto out;
    }
    fs = mysql_fetch_fields(meta);
    v->cols = calloc(v->ncols ? v->ncols : 1, sizeof *v->cols);
    v->bind = calloc(v->ncols ? v->ncols : 1, sizeof *v->bind);
    if (!v->cols || !v->bind) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    for (unsigned i = 0; i < v->ncols; i++) {
        DvCol *c = &v->cols[i];
        MYSQL_BIND *b = &v->bind[i];
        c->type = fs[i].type;
        c->decimals = fs[i].decimals;
        c->is_unsigned = (fs[i].flags & UNSIGNED_FLAG) != 0;
        b->length = &c->len;
        b->is_null = &c->null;
        b->error = &c->error;
        switch (fs[i].type) {
        case MYSQL_TYPE_TINY:
        case MYSQL_TYPE_SHORT:
        case MYSQL_TYPE_INT24:
        case MYSQL_TYPE_LONG:
        case MYSQL_TYPE_LONGLONG:
        case MYSQL_TYPE_YEAR:
            c->kind = fs[i].type == MYSQL_TYPE_YEAR ? K_YEAR : K_INT;
            b->buffer_type = MYSQL_TYPE_LONGLONG;
            b->buffer = &c->num.i;
            b->is_unsigned = c->is_unsigned;
            break;
        case MYSQL_TYPE_FLOAT:
            c->kind = K_FLOAT;
            b->buffer_type = MYSQL_TYPE_FLOAT;
            b->buffer = &c->num.f;
            break;
        case MYSQL_TYPE_DOUBLE:
            c->kind = K_DOUBLE;
            b->buffer_type = MYSQL_TYPE_DOUBLE;
            b->buffer = &c->num.d;
            break;
        case MYSQL_TYPE_DATE:
        case MYSQL_TYPE_NEWDATE:
        case MYSQL_TYPE_DATETIME:
        case MYSQL_TYPE_TIMESTAMP:
        case MYSQL_TYPE_TIME:
            c->kind = K_TIME;
            b->buffer_type = fs[i].type == MYSQL_TYPE_NEWDATE ? MYSQL_TYPE_DATE : fs[i].type;
            b->buffer = &c->num.t;
            b->buffer_length = sizeof c->num.t;
            break;
        default:   /* DECIMAL, strings, BLOB, BIT, ENUM/SET, JSON, GEOMETRY, INET6, UUID */
            c->kind = K_BYTES;
            c->cap = fs[i].length < CAP_START       ? CAP_START
                     : fs[i].length > CAP_FIRST_MAX ? CAP_FIRST_MAX
                                                    : (unsigned long)fs[i].length;
            if (!(c->data = malloc(c->cap))) {
                rc = err_set(err, ERR_NOMEM, "out of memory");
                goto out;
            }
            b->buffer_type = MYSQL_TYPE_BLOB;
            b->buffer = c->data;
            b->buffer_length = c->cap;
            break;
        }
    }
    for (unsigned i = 0, p = v->nh; i < v->nh; i++) {
        v->cols[i].sign = -1;
        if (src_dump_shape_has(shape, "float_columns", json_string_value(json_array_get(all, i))))
            v->cols[i].sign = (int)p++;
    }
    if (mysql_stmt_execute(v->st)) {
        rc = err_set(err, ERR_DB, "select rows: %s (errno %u)", mysql_stmt_error(v->st),
                     mysql_stmt_errno(v->st));
        if (mysql_stmt_errno(v->st) == 2006 || mysql_stmt_errno(v->st) == 2013) err->code = ERR_NET;
        rc = err->code;
        goto out;
    }
    if ((rc = bind_all(v, err))) goto out;
    *out = v;
    v = NULL;
out:
    json_decref(all);
    if (meta) mysql_free_result(meta);
    dump_values_close(v);
    buf_free(&sql);
    return rc;
}

/* A value longer than its buffer: grow the buffer and fetch the value
 * whole (the caller binds the grown buffers once the row is read). */
static int fetch_long(DumpValues *v, unsigned i, Err *err)
{
    DvCol *c = &v->cols[i];
    unsigned long need = c->len;
    unsigned char *nd;
    MYSQL_BIND b;

    nd = realloc(c->data, need);
    if (!nd) return err_set(err, ERR_NOMEM, "out of memory (a value of %lu bytes)", need);
    c->data = nd;
    c->cap = need;
    v->bind[i].buffer = nd;
    v->bind[i].buffer_length = need;
    memset(&b, 0, sizeof b);
    b.buffer_type = MYSQL_TYPE_BLOB;
    b.buffer = nd;
    b.buffer_length = need;
    b.length = &c->len;
    b.is_null = &c->null;
    b.error = &c->error;
    if (mysql_stmt_fetch_column(v->st, &b, i, 0))
        return err_set(err, ERR_DB, "read a value of %lu bytes: %s", need, mysql_stmt_error(v->st));
    return 0;
}

static void hash_flush(DumpValues *v)
{
    crypto_generichash_update(&v->h, v->hb.data, v->hb.len);
    buf_reset(&v->hb);
}

/* The row's values, type-tagged, into the hash (docs/FORMAT.md, "Values
 * hash"): small values through the hash buffer, long ones straight in, so
 * the buffer stays small whatever the row. */
static int hash_row(DumpValues *v, Err *err)
{
    for (unsigned i = 0; i < v->nh; i++) {
        const DvCol *c = &v->cols[i];
        bool inline_bytes = c->kind == K_BYTES && !c->null && c->len <= HASH_INLINE;
        uint8_t *d;
        if (v->hb.len >= HASH_AT) hash_flush(v);
        if (buf_reserve(&v->hb, 32 + (inline_bytes ? (size_t)c->len : 0), err)) return err->code;
        d = v->hb.data + v->hb.len;
        if (c->null) {
            *d++ = 'N';
            v->hb.len = (size_t)(d - v->hb.data);
            continue;
        }
        switch (c->kind) {
        case K_INT:
        case K_YEAR:
            *d++ = c->is_unsigned ? 'U' : 'I';
            put_u64(d, (uint64_t)c->num.i);
            d += 8;
            break;
        case K_FLOAT: {
            uint32_t bits;
            memcpy(&bits, &c->num.f, 4);
            *d++ = 'F';
            put_u32(d, bits);
            d += 4;
            break;
        }
        case K_DOUBLE: {
            uint64_t bits;
            memcpy(&bits, &c->num.d, 8);
            *d++ = 'D';
            put_u64(d, bits);
            d += 8;
            break;
        }
        case K_TIME: {
            const MYSQL_TIME *t = &c->num.t;
            *d++ = 'T';
            *d++ = (uint8_t)(t->neg ? 1 : 0);
            put_u32(d, t->year);
            d[4] = (uint8_t)t->month;
            d[5] = (uint8_t)t->day;
            put_u32(d + 6, (uint32_t)(t->hour + (c->type == MYSQL_TYPE_TIME ? 24u * t->day : 0)));
            d[10] = (uint8_t)t->minute;
            d[11] = (uint8_t)t->second;
            put_u32(d + 12, (uint32_t)t->second_part);
            d += 16;
            break;
        }
        default:
            *d++ = 'S';
            put_u64(d, c->len);
            d += 8;
            if (inline_bytes) {
                memcpy(d, c->data, c->len);
                d += c->len;
            } else {
                v->hb.len = (size_t)(d - v->hb.data);
                hash_flush(v);
                crypto_generichash_update(&v->h, c->data, c->len);
                continue;
            }
            break;
        }
        v->hb.len = (size_t)(d - v->hb.data);
    }
    if (buf_append(&v->hb, "\n", 1, err)) return err->code;
    if (v->hb.len >= HASH_AT) hash_flush(v);
    return 0;
}

int dump_values_next(DumpValues *v, bool *out_row, Err *err)
{
    int r = mysql_stmt_fetch(v->st);

    *out_row = false;
    if (r == MYSQL_NO_DATA) return 0;
    if (r == 1) {
        unsigned e = mysql_stmt_errno(v->st);
        err_set(err, e == 2006 || e == 2013 ? ERR_NET : ERR_DB, "read rows: %s (errno %u)",
                mysql_stmt_error(v->st), e);
        return err->code;
    }
    bool grown = false;
    for (unsigned i = 0; i < v->ncols; i++) {
        DvCol *c = &v->cols[i];
        if (c->kind != K_BYTES || c->null || c->len <= c->cap) continue;
        if (fetch_long(v, i, err)) return err->code;
        grown = true;
    }
    /* the next rows land in the bigger buffers; binding again only after
     * the whole row is read (it resets the row's column states) */
    if (grown && bind_all(v, err)) return err->code;
    for (unsigned i = 0; i < v->nh; i++) {   /* a -0 the server sent as 0 */
        DvCol *c = &v->cols[i];
        if (c->sign >= 0 && c->kind == K_FLOAT && !c->null && !v->cols[c->sign].null &&
            v->cols[c->sign].num.i)
            c->num.f = -0.0f;
    }
    *out_row = true;
    return hash_row(v, err);
}

int dump_values_encode(DumpValues *v, Buf *out, Err *err)
{
    size_t need = (size_t)v->nf + 1;
    uint8_t *d;
    char num[DUMP_TEXT_MAX];

    if (v->nf == 0) return buf_append(out, "\n", 1, err);
    for (unsigned i = 0; i < v->nf; i++)
        need += v->cols[i].kind == K_BYTES && !v->cols[i].null ? 2 * (size_t)v->cols[i].len
                                                                : sizeof num;
    if (buf_reserve(out, need, err)) return err->code;
    d = out->data + out->len;
    for (unsigned i = 0; i < v->nf; i++) {
        const DvCol *c = &v->cols[i];
        size_t n = 0;
        if (i) *d++ = '\t';
        if (c->null) {
            *d++ = '\\';
            *d++ = 'N';
            continue;
        }
        switch (c->kind) {
        case K_INT:
            n = c->is_unsigned ? dump_text_u64(num, (uint64_t)c->num.i)
                               : dump_text_i64(num, (int64_t)c->num.i);
            break;
        case K_YEAR:   /* "0" would load as 2000: a year is always four digits */
            n = dump_text_u64(num + 4, (uint64_t)c->num.i);
            if (n < 4) {
                memmove(num + 4 - n, num + 4, n);
                memset(num, '0', 4 - n);
                n = 4;
            } else {
                memmove(num, num + 4, n);
            }
            break;
        case K_FLOAT:
            /* the float's exact double: read back as that double, then
             * converted to the same float */
            if (c->num.f == 0 && signbit(c->num.f) && !v->lossy_float) {
                /* the server reads "-0" as 0; -1e-300 underflows to the float -0 */
                memcpy(num, "-1e-300", n = 7);
                break;
            }
            n = v->lossy_float ? (size_t)snprintf(num, sizeof num, "%.6g", (double)c->num.f)
                               : dump_text_double(num, (double)c->num.f);
            break;
        case K_DOUBLE:
            n = dump_text_double(num, c->num.d);
            break;
        case K_TIME:
            n = dump_text_time(num, &c->num.t, c->type, c->decimals);
            break;
        default:
            d = dump_tsv_put(d, c->data, c->len);
            continue;
        }
        memcpy(d, num, n);
        d += n;
    }
    *d++ = '\n';
    out->len = (size_t)(d - out->data);
    return 0;
}

void dump_values_digest(DumpValues *v, char out_hex[65])
{
    uint8_t digest[32];
    hash_flush(v);
    crypto_generichash_final(&v->h, digest, sizeof digest);
    hex_encode(digest, sizeof digest, out_hex);
}

void dump_values_close(DumpValues *v)
{
    if (!v) return;
    if (v->st) mysql_stmt_close(v->st);   /* discards unread rows */
    for (unsigned i = 0; v->cols && i < v->ncols; i++) free(v->cols[i].data);
    free(v->cols);
    free(v->bind);
    buf_free(&v->hb);
    free(v);
}
