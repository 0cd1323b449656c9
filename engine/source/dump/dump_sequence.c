/* dump_sequence.c: a database's SEQUENCE objects for the schema document:
 * SHOW CREATE SEQUENCE and the sequence table's one row (its state).
 * Invariant: a sequence's row is not versioned by the dump's snapshot (a
 * NEXTVAL that exhausts the cache writes it at once, outside any
 * transaction), so src_dump_backup takes the held global lock when the
 * databases have sequences and the catalog, this included, is read under
 * it: the state is the one of the consistent point, or a NEXTVAL that was
 * already waiting for its commit when the lock was taken is included,
 * which only skips values (the binlog replay from the point writes the
 * same row again), never hands one out twice. */
#include <mysql.h>
#include <stdlib.h>
#include <string.h>

#include "engine/source/dump/dump_int.h"

/* The sequence table's columns, in the order CREATE SEQUENCE defines. */
static const char *const seq_cols[] = {"next_not_cached_value", "minimum_value", "maximum_value",
                                       "start_value", "increment", "cache_size", "cycle_option",
                                       "cycle_count"};

static int read_state(MYSQL *m, const char *db, const char *name, json_t **out, Err *err)
{
    Buf sql;
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    json_t *st = NULL;
    int rc = 0;
    const size_t ncols = sizeof seq_cols / sizeof seq_cols[0];

    *out = NULL;
    buf_init(&sql, 1 << 16);
    rc = buf_append_str(&sql, "SELECT ", err);
    for (size_t i = 0; !rc && i < ncols; i++)
        rc = buf_printf(&sql, err, "%s%s", i ? ", " : "", seq_cols[i]);
    if (!rc) rc = buf_append_str(&sql, " FROM ", err);
    if (!rc) rc = mdb_ident_quote(&sql, db, err);
    if (!rc) rc = buf_append_str(&sql, ".", err);
    if (!rc) rc = mdb_ident_quote(&sql, name, err);
    if (rc) goto out;
    if (mysql_real_query(m, (char *)sql.data, sql.len) || !(res = mysql_store_result(m))) {
        rc = mdb_err(m, err, "read the sequence's state");
        goto out;
    }
    row = mysql_fetch_row(res);
    if (!row || mysql_num_fields(res) != ncols) {
        rc = err_set(err, ERR_DB, "the sequence table has no row");
        goto out;
    }
    st = json_object();
    if (!st) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < ncols; i++) {
        /* kept as the server's decimal text: unsigned sequences exceed int64 */
        if (!row[i] || json_object_set_new(st, seq_cols[i], json_string(row[i]))) {
            rc = err_set(err, ERR_DB, "sequence column %s is NULL", seq_cols[i]);
            goto out;
        }
    }
    *out = st;
    st = NULL;
out:
    json_decref(st);
    mysql_free_result(res);
    buf_free(&sql);
    return rc;
}

int dump_sequences_read(MYSQL *m, const char *db, const json_t *names, json_t *schema, Err *err)
{
    json_t *arr = NULL, *o = NULL, *st = NULL;
    size_t i;
    json_t *jn;
    int rc = 0;

    if (json_array_size(names) == 0) return 0;   /* no key: the document stays as before */
    arr = json_array();
    if (!arr) return err_set(err, ERR_NOMEM, "out of memory");
    json_array_foreach(names, i, jn) {
        const char *name = json_string_value(jn);
        if ((rc = dump_show_create(m, "SEQUENCE", name, &o, err))) goto fail;
        if ((rc = read_state(m, db, name, &st, err))) goto fail;
        json_object_set_new(o, "state", st);
        st = NULL;
        json_array_append_new(arr, o);
        o = NULL;
        continue;
    fail:
        err_wrap(err, "sequence %s.%s", db, name);
        goto out;
    }
    if (json_object_set_new(schema, "sequences", arr)) {
        arr = NULL;
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    arr = NULL;
out:
    json_decref(o);
    json_decref(st);
    json_decref(arr);
    return rc;
}
