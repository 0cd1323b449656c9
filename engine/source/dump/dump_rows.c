/* dump_rows.c: one table's rows, read in key order through the binary
 * protocol (dump_values.c, streamed, never held whole), encoded as tsv1
 * into one or more rows streams, counted and hashed twice: the values hash
 * (tm-values-1, from the values as the server holds them) proves a load;
 * the stream hash (BLAKE2b-256 over the encoded bytes) is what snapshots
 * before the values hash carry, recomputed for them through the text
 * protocol (src_dump_table_hash).
 * Invariant: the values hash never depends on the encoding. */
#include <mysql.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "engine/source/dump/dump_int.h"

#define FLUSH_AT (256u << 10)

bool src_dump_shape_has(const json_t *shape, const char *key, const char *c)
{
    size_t i;
    json_t *x;

    json_array_foreach(json_object_get(shape, key), i, x) {
        if (json_is_string(x) && !strcmp(json_string_value(x), c)) return true;
    }
    return false;
}

int src_dump_select_sql(const char *db, const char *table, const json_t *columns,
                        const json_t *order_by, const json_t *shape, Buf *out, Err *err)
{
    size_t i;
    json_t *c;
    const json_t *history = json_object_get(shape, "history");
    const char *row_end = json_string_value(json_array_get(history, 1));
    bool end_in_order = false;

    if (buf_append_str(out, "SELECT ", err)) return err->code;
    if (json_array_size(columns) == 0) {
        /* a table with only generated columns: count rows, encode nothing */
        if (buf_append_str(out, "NULL", err)) return err->code;
    }
    json_array_foreach(columns, i, c) {
        bool idx = src_dump_shape_has(shape, "index_columns", json_string_value(c));
        if (i && buf_append_str(out, ",", err)) return err->code;
        if (idx && buf_append_str(out, "(", err)) return err->code;
        if (mdb_ident_quote(out, json_string_value(c), err)) return err->code;
        if (idx && buf_append_str(out, "+0)", err)) return err->code;
    }
    /* after every column, one sign probe per FLOAT column, in column order:
     * true for a -0, which the server sends as 0 (ATAN2(-0, -1) is -pi) */
    json_array_foreach(columns, i, c) {
        if (!src_dump_shape_has(shape, "float_columns", json_string_value(c))) continue;
        if (buf_append_str(out, ",(", err) || mdb_ident_quote(out, json_string_value(c), err) ||
            buf_append_str(out, " = 0 AND ATAN2(", err) ||
            mdb_ident_quote(out, json_string_value(c), err) ||
            buf_append_str(out, ", -1) < 0)", err))
            return err->code;
    }
    if (buf_append_str(out, " FROM ", err) || mdb_ident_quote(out, db, err) ||
        buf_append_str(out, ".", err) || mdb_ident_quote(out, table, err))
        return err->code;
    if (row_end && buf_append_str(out, " FOR SYSTEM_TIME ALL", err)) return err->code;
    if (json_is_array(order_by) && json_array_size(order_by)) {
        if (buf_append_str(out, " ORDER BY ", err)) return err->code;
        json_array_foreach(order_by, i, c) {
            if (i && buf_append_str(out, ",", err)) return err->code;
            if (mdb_ident_quote(out, json_string_value(c), err)) return err->code;
            if (row_end && !strcmp(json_string_value(c), row_end)) end_in_order = true;
        }
        /* the key of a versioned table is unique among current rows only */
        if (row_end && !end_in_order &&
            (buf_append_str(out, ",", err) || mdb_ident_quote(out, row_end, err)))
            return err->code;
    }
    return 0;
}

typedef struct RowsSink {
    Repo *r;
    RepoStream *s;
    uint64_t part_bytes;
    json_t *parts;
} RowsSink;

static int sink_flush(RowsSink *k, Buf *b, Err *err)
{
    if (!k->r || b->len == 0) {
        buf_reset(b);
        return 0;
    }
    if (!k->s && repo_stream_begin(k->r, REPO_CHUNK_DUMP, &k->s, err)) return err->code;
    if (repo_stream_write(k->s, b->data, b->len, err)) return err->code;
    k->part_bytes += b->len;
    buf_reset(b);
    return 0;
}

static int sink_end_part(RowsSink *k, Err *err)
{
    RepoStreamRef ref = {0};
    json_t *j;
    RepoStream *s = k->s;

    if (!k->r || !s) return 0;
    k->s = NULL;
    k->part_bytes = 0;
    if (repo_stream_end(s, &ref, err)) return err->code;
    j = repo_streamref_to_json(&ref);
    repo_streamref_free(&ref);
    if (!j) return err_set(err, ERR_NOMEM, "out of memory");
    json_array_append_new(k->parts, j);
    return 0;
}

/* The text-protocol loop: the stream hash of snapshots made before the
 * values hash (verification of those only). */
/* The last bytes, then the last part; an empty table still has one
 * (empty) part: loaders need not care. */
static int sink_finish(RowsSink *k, Buf *b, Err *err)
{
    if (sink_flush(k, b, err) || sink_end_part(k, err)) return err->code;
    if (k->r && json_array_size(k->parts) == 0) {
        if (repo_stream_begin(k->r, REPO_CHUNK_DUMP, &k->s, err)) return err->code;
        if (sink_end_part(k, err)) return err->code;
    }
    return 0;
}

static int rows_run(Repo *r, MYSQL *m, const char *db, const char *table, const json_t *columns,
                    const json_t *order_by, uint64_t part_size, uint64_t *out_rows,
                    uint64_t *out_bytes, char out_hex[65], json_t **out_parts, Err *err)
{
    Buf sql, b;
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    crypto_generichash_state h;
    uint8_t digest[32];
    RowsSink k = {.r = r};
    uint64_t rows = 0, bytes = 0;
    unsigned nf = (unsigned)json_array_size(columns);
    int rc = 0;

    buf_init(&sql, 1 << 20);
    buf_init(&b, BUF_MAX_DEFAULT + (BUF_MAX_DEFAULT >> 1));   /* one huge row fits */
    k.parts = json_array();
    crypto_generichash_init(&h, NULL, 0, sizeof digest);
    if (!k.parts) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = src_dump_select_sql(db, table, columns, order_by, NULL, &sql, err))) goto out;
    if (mysql_real_query(m, (char *)sql.data, sql.len) || !(res = mysql_use_result(m))) {
        rc = mdb_err(m, err, "select rows");
        goto out;
    }
    while ((row = mysql_fetch_row(res))) {
        unsigned long *lens = mysql_fetch_lengths(res);
        size_t before = b.len;
        if (nf && (rc = src_tsv_row(&b, nf, row, lens, err))) goto out;
        if (!nf && (rc = buf_append(&b, "\n", 1, err))) goto out;
        bytes += b.len - before;
        rows++;
        if (b.len >= FLUSH_AT) {
            crypto_generichash_update(&h, b.data, b.len);   /* exactly the bytes written */
            if ((rc = sink_flush(&k, &b, err))) goto out;
            if (part_size && k.part_bytes >= part_size && (rc = sink_end_part(&k, err))) goto out;
        }
    }
    if (mysql_errno(m)) {
        rc = mdb_err(m, err, "read rows");
        goto out;
    }
    crypto_generichash_update(&h, b.data, b.len);
    if ((rc = sink_finish(&k, &b, err))) goto out;
    crypto_generichash_final(&h, digest, sizeof digest);
    hex_encode(digest, sizeof digest, out_hex);
    *out_rows = rows;
    if (out_bytes) *out_bytes = bytes;
    if (out_parts) {
        *out_parts = k.parts;
        k.parts = NULL;
    }
out:
    if (res) mysql_free_result(res);   /* drains the rest on error */
    repo_stream_abort(k.s);
    json_decref(k.parts);
    buf_free(&b);
    buf_free(&sql);
    if (rc) err_wrap(err, "table %s.%s", db, table);
    return rc;
}

/* The dump: values read once, hashed as values, encoded, written, the
 * encoded bytes hashed too. r == NULL: values hash and count only. */
static int values_run(Repo *r, MYSQL *m, const char *db, const char *table,
                      const json_t *columns, const json_t *generated, const json_t *order_by,
                      const json_t *shape, uint64_t part_size, uint64_t *out_rows, uint64_t *out_bytes,
                      char out_stream_hex[65],
                      char out_values_hex[65], json_t **out_parts, Err *err)
{
    Buf b;
    DumpValues *v = NULL;
    crypto_generichash_state h;
    uint8_t digest[32];
    RowsSink k = {.r = r};
    uint64_t rows = 0, bytes = 0;
    bool more = false;
    int rc = 0;

    buf_init(&b, BUF_MAX_DEFAULT + (BUF_MAX_DEFAULT >> 1));   /* one huge row fits */
    k.parts = json_array();
    crypto_generichash_init(&h, NULL, 0, sizeof digest);
    if (!k.parts) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = dump_values_open(m, db, table, columns, generated, order_by, shape, &v, err))) goto out;
    for (;;) {
        size_t before = b.len;
        if ((rc = dump_values_next(v, &more, err))) goto out;
        if (!more) break;
        rows++;
        if (!r && !out_stream_hex) continue;
        if ((rc = dump_values_encode(v, &b, err))) goto out;
        bytes += b.len - before;
        if (b.len >= FLUSH_AT) {
            crypto_generichash_update(&h, b.data, b.len);
            if ((rc = sink_flush(&k, &b, err))) goto out;
            if (part_size && k.part_bytes >= part_size && (rc = sink_end_part(&k, err))) goto out;
        }
    }
    crypto_generichash_update(&h, b.data, b.len);
    if ((rc = sink_finish(&k, &b, err))) goto out;
    crypto_generichash_final(&h, digest, sizeof digest);
    if (out_stream_hex) hex_encode(digest, sizeof digest, out_stream_hex);
    dump_values_digest(v, out_values_hex);
    *out_rows = rows;
    if (out_bytes) *out_bytes = bytes;
    if (out_parts) {
        *out_parts = k.parts;
        k.parts = NULL;
    }
out:
    dump_values_close(v);   /* discards the rest on error */
    repo_stream_abort(k.s);
    json_decref(k.parts);
    buf_free(&b);
    if (rc) err_wrap(err, "table %s.%s", db, table);
    return rc;
}

int dump_rows_table(Repo *r, MYSQL *m, DumpTable *t, uint64_t part_size, Err *err)
{
    /* test hook (tests/integration/db_exact.sh): a dump as tidemark wrote
     * them before values hashes (text protocol, no values_hash), to prove
     * such snapshots still restore and say how they were compared */
    const char *old = getenv("TIDEMARK_TEST_DUMP_WITHOUT_VALUES_HASH");
    t->values_hash[0] = '\0';
    if (old && *old && strcmp(old, "0") != 0)
        return rows_run(r, m, t->db, t->name, t->columns, t->order_by, part_size, &t->rows,
                        &t->bytes, t->hash, r ? &t->parts : NULL, err);
    return values_run(r, m, t->db, t->name, t->columns, t->generated, t->order_by, t->shape,
                      part_size,
                      &t->rows, &t->bytes, t->hash, t->values_hash, r ? &t->parts : NULL, err);
}

int src_dump_table_hash(MYSQL *m, const char *db, const char *table, const json_t *columns,
                        const json_t *order_by, uint64_t *out_rows, char out_hex[65], Err *err)
{
    return rows_run(NULL, m, db, table, columns, order_by, 0, out_rows, NULL, out_hex, NULL, err);
}

int src_dump_table_values_hash(MYSQL *m, const char *db, const char *table,
                               const json_t *columns, const json_t *generated,
                               const json_t *order_by, const json_t *shape, uint64_t *out_rows,
                               char out_hex[65], Err *err)
{
    return values_run(NULL, m, db, table, columns, generated, order_by, shape, 0, out_rows, NULL, NULL,
                      out_hex, NULL, err);
}
