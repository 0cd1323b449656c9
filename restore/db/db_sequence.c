/* db_sequence.c: a snapshot's sequences on the target: CREATE SEQUENCE,
 * then the recorded row written whole (INSERT INTO seq VALUES (...), which
 * MariaDB turns into the sequence's state, next_not_cached_value and
 * cycle_count included: SETVAL refuses a value below start_value or behind
 * the current round), and their verification against the server's row.
 * Invariant: sequences are created before the tables, whose DEFAULT
 * NEXTVAL(seq) needs them at CREATE TABLE time. */
#include <mysql.h>
#include <stdlib.h>
#include <string.h>

#include "restore/db/db_int.h"

static const char *const seq_cols[] = {"next_not_cached_value", "minimum_value", "maximum_value",
                                       "start_value", "increment", "cache_size", "cycle_option",
                                       "cycle_count"};
#define NSEQ_COLS (sizeof seq_cols / sizeof seq_cols[0])

/* A recorded state value: an optional '-' and 1..20 digits. */
static bool is_number(const char *s)
{
    size_t n = 0;
    if (!s) return false;
    if (*s == '-') s++;
    while (s[n] >= '0' && s[n] <= '9') n++;
    return n > 0 && n <= 20 && s[n] == '\0';
}

int db_sequence_insert_sql(const json_t *seq, const char *tdb, Buf *out, Err *err)
{
    const char *name = json_string_value(json_object_get(seq, "name"));
    const json_t *st = json_object_get(seq, "state");

    if (!name) return err_set(err, ERR_CORRUPT, "a sequence without a name in the schema document");
    if (buf_append_str(out, "INSERT INTO ", err)) return err->code;
    if (tdb && (mdb_ident_quote(out, tdb, err) || buf_append_str(out, ".", err))) return err->code;
    if (mdb_ident_quote(out, name, err) || buf_append_str(out, " VALUES (", err)) return err->code;
    for (size_t i = 0; i < NSEQ_COLS; i++) {
        const char *v = json_string_value(json_object_get(st, seq_cols[i]));
        if (!is_number(v))
            return err_set(err, ERR_CORRUPT, "sequence %s: recorded %s is not a number", name,
                           seq_cols[i]);
        if (buf_printf(out, err, "%s%s", i ? ", " : "", v)) return err->code;
    }
    return buf_append_str(out, ")", err);
}

int db_sequences_create(MYSQL *m, const json_t *schema, const char *tdb, Err *err)
{
    size_t i;
    json_t *o;
    Buf sql;
    int rc = 0;

    buf_init(&sql, 1 << 16);
    json_array_foreach(json_object_get(schema, "sequences"), i, o) {
        const char *name = json_string_value(json_object_get(o, "name"));
        buf_reset(&sql);
        if ((rc = db_apply_object(m, o, err))) goto fail;
        if ((rc = db_sequence_insert_sql(o, tdb, &sql, err))) goto fail;
        if (mysql_real_query(m, (char *)sql.data, sql.len)) {
            rc = mdb_err(m, err, "set its state");
            goto fail;
        }
        continue;
    fail:
        err_wrap(err, "create sequence %s.%s", tdb, name ? name : "?");
        break;
    }
    buf_free(&sql);
    return rc;
}

/* One sequence: the server's row against the recorded one; *differs set and
 * what names the first differing column. */
static int verify_one(MYSQL *m, const json_t *seq, const char *tdb, bool *differs, char *what,
                      size_t cap, Err *err)
{
    const char *name = json_string_value(json_object_get(seq, "name"));
    const json_t *st = json_object_get(seq, "state");
    Buf sql;
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    int rc = 0;

    *differs = false;
    buf_init(&sql, 1 << 16);
    rc = buf_append_str(&sql, "SELECT ", err);
    for (size_t i = 0; !rc && i < NSEQ_COLS; i++)
        rc = buf_printf(&sql, err, "%s%s", i ? ", " : "", seq_cols[i]);
    if (!rc) rc = buf_append_str(&sql, " FROM ", err);
    if (!rc) rc = mdb_ident_quote(&sql, tdb, err);
    if (!rc) rc = buf_append_str(&sql, ".", err);
    if (!rc) rc = mdb_ident_quote(&sql, name ? name : "", err);
    if (rc) goto out;
    if (mysql_real_query(m, (char *)sql.data, sql.len) || !(res = mysql_store_result(m))) {
        if (mysql_errno(m) == 1146) {   /* ER_NO_SUCH_TABLE: the sequence is missing */
            *differs = true;
            snprintf(what, cap, "%s.%s (missing)", tdb, name);
            goto out;
        }
        if (mysql_errno(m) == 1054) {   /* ER_BAD_FIELD_ERROR: a table of that name */
            *differs = true;
            snprintf(what, cap, "%s.%s (not a sequence)", tdb, name);
            goto out;
        }
        rc = mdb_err(m, err, "read the sequence's state");
        goto out;
    }
    row = mysql_fetch_row(res);
    for (size_t i = 0; i < NSEQ_COLS && !*differs; i++) {
        const char *want = json_string_value(json_object_get(st, seq_cols[i]));
        const char *got = row && mysql_num_fields(res) == NSEQ_COLS ? row[i] : NULL;
        if (!want || !got || strcmp(want, got)) {
            *differs = true;
            snprintf(what, cap, "%s.%s (%s %s, expected %s)", tdb, name, seq_cols[i],
                     got ? got : "none", want ? want : "none");
        }
    }
out:
    mysql_free_result(res);
    buf_free(&sql);
    if (rc) err_wrap(err, "verify sequence %s.%s", tdb, name ? name : "?");
    return rc;
}

int db_sequences_verify(const json_t *item, json_t **schemas, const MdbConn *target,
                        const char *target_db, size_t *out_checked, size_t *out_bad, Err *err)
{
    const json_t *dbs = json_object_get(item, "databases");
    MYSQL *m = NULL;
    char list[1400] = "", one[300];
    size_t checked = 0, bad = 0, shown = 0;
    int rc = 0;

    *out_checked = *out_bad = 0;
    for (size_t d = 0; d < json_array_size(dbs); d++) {
        const char *tdb = db_target_name(
            item, json_string_value(json_object_get(json_array_get(dbs, d), "name")), target_db);
        size_t i;
        json_t *o;
        json_array_foreach(json_object_get(schemas[d], "sequences"), i, o) {
            bool differs = false;
            if (!m && (rc = mdb_connect(target, MDB_CONNECT_CLIENT, MDB_CLIENT_TIMEOUT_S, &m, err))) goto out;
            if ((rc = verify_one(m, o, tdb, &differs, one, sizeof one, err))) goto out;
            checked++;
            if (!differs) continue;
            if (shown < 10) {
                size_t l = strlen(list);
                snprintf(list + l, sizeof list - l, "%s%s", shown ? ", " : "", one);
                shown++;
            }
            bad++;
        }
    }
    *out_checked = checked;
    *out_bad = bad;
    if (bad)
        rc = err_set(err, ERR_VERIFY, "verification failed: %zu of %zu sequences differ: %s%s",
                     bad, checked, list, bad > shown ? ", ..." : "");
out:
    mdb_close(m);
    return rc;
}

char *db_sequence_retarget(const char *create, const char *src, const char *tdb)
{
    Buf from, to, out;
    Err e;
    char *res = NULL;
    const char *p = create, *hit;

    buf_init(&from, 1 << 16);
    buf_init(&to, 1 << 16);
    buf_init(&out, 256u << 20);
    err_clear(&e);
    /* SHOW CREATE TABLE writes a DEFAULT NEXTVAL's sequence qualified with
     * its database: nextval(`src`.`seq`) */
    if (buf_append_str(&from, "nextval(", &e) || mdb_ident_quote(&from, src, &e) ||
        buf_append_str(&from, ".", &e) || buf_append_str(&to, "nextval(", &e) ||
        mdb_ident_quote(&to, tdb, &e) || buf_append_str(&to, ".", &e))
        goto out;
    while ((hit = strstr(p, (char *)from.data))) {
        if (buf_append(&out, p, (size_t)(hit - p), &e) || buf_append(&out, to.data, to.len, &e))
            goto out;
        p = hit + from.len;
    }
    if (buf_append(&out, p, strlen(p) + 1, &e)) goto out;
    res = strdup((char *)out.data);
out:
    buf_free(&from);
    buf_free(&to);
    buf_free(&out);
    return res;
}
