/* db_schema.c: reading a snapshot's database item: the schema documents
 * (one stream per database), text fields, target name mapping, and running
 * a schema object under its recorded session settings. */
#include <mysql.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "restore/db/db_int.h"

const json_t *rst_db_item(const json_t *manifest)
{
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(manifest, "items"), i, it) {
        const char *t = json_string_value(json_object_get(it, "kind"));
        if (t && !strcmp(t, "mariadb")) return it;
    }
    return NULL;
}

static int collect(void *ctx, const void *data, size_t len, Err *err)
{
    return buf_append(ctx, data, len, err);
}

int db_schema_load(Repo *r, const json_t *ref, json_t **out, Err *err)
{
    RepoStreamRef s = {0};
    Buf b;
    json_error_t je;
    int rc;

    *out = NULL;
    buf_init(&b, 256u << 20);
    if ((rc = repo_streamref_from_json(ref, &s, err))) goto out;
    if ((rc = repo_stream_read(r, &s, collect, &b, err))) goto out;
    *out = json_loadb((const char *)b.data, b.len, 0, &je);
    if (!*out || !json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        rc = err_set(err, ERR_CORRUPT, "schema document does not parse: %s (line %d)", je.text,
                     je.line);
    }
out:
    repo_streamref_free(&s);
    buf_free(&b);
    if (rc) err_wrap(err, "read schema");
    return rc;
}

char *db_text(const json_t *v, size_t *len)
{
    char *s;
    if (json_is_string(v)) {
        size_t n = json_string_length(v);
        s = malloc(n + 1);
        if (!s) return NULL;
        memcpy(s, json_string_value(v), n);
        s[n] = '\0';
        if (len) *len = n;
        return s;
    }
    const char *hex = json_string_value(json_object_get(v, "hex"));
    if (!hex) return NULL;
    size_t n = strlen(hex) / 2;
    s = malloc(n + 1);
    if (!s) return NULL;
    if (hex_decode(hex, 2 * n, (uint8_t *)s, n)) {
        free(s);
        return NULL;
    }
    s[n] = '\0';
    if (len) *len = n;
    return s;
}

const json_t *db_schema_table(const json_t *schema, const char *name)
{
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(schema, "tables"), i, t) {
        const char *n = json_string_value(json_object_get(t, "name"));
        if (n && !strcmp(n, name)) return t;
    }
    return NULL;
}

/* The type word after column c's name in a SHOW CREATE TABLE text
 * ("\n  `c` inet6 DEFAULT NULL,"): is it one of the types that take a
 * binary string as their binary form? */
static bool create_says_text_type(const char *create, const char *c)
{
    size_t n = strlen(c), k = 0;
    char *pat = malloc(2 * n + 8);
    const char *p;
    bool yes = false;

    if (!pat) return false;
    memcpy(pat, "\n  `", 4);
    k = 4;
    for (size_t i = 0; i < n; i++) {
        if (c[i] == '`') pat[k++] = '`';
        pat[k++] = c[i];
    }
    memcpy(pat + k, "` ", 3);
    p = strstr(create, pat);
    if (p) {
        p += k + 2;
        static const char *const types[] = {"inet6", "inet4", "uuid"};
        for (size_t t = 0; t < 3 && !yes; t++) {
            size_t l = strlen(types[t]);
            yes = !strncasecmp(p, types[t], l) &&
                  (p[l] == ' ' || p[l] == ',' || p[l] == '\n' || p[l] == '\0');
        }
    }
    free(pat);
    return yes;
}

bool db_is_text_column(const json_t *sinfo, const char *c)
{
    const json_t *tc = json_object_get(sinfo, "text_columns"), *x;
    char *create;
    size_t i;
    bool yes;

    if (tc) {
        json_array_foreach(tc, i, x) {
            if (!strcmp(json_string_value(x), c)) return true;
        }
        return false;
    }
    /* snapshots made before text_columns carried these values as text
     * all the same: the table's definition says which columns they are */
    create = db_text(json_object_get(sinfo, "create"), NULL);
    yes = create && create_says_text_type(create, c);
    free(create);
    return yes;
}

const char *db_target_name(const json_t *item, const char *db, const char *target_db)
{
    (void)item;
    return target_db ? target_db : db;
}

int db_apply_object(MYSQL *m, const json_t *obj, Err *err)
{
    const char *mode = json_string_value(json_object_get(obj, "sql_mode"));
    const char *csc = json_string_value(json_object_get(obj, "character_set_client"));
    const char *coll = json_string_value(json_object_get(obj, "collation_connection"));
    const char *tz = json_string_value(json_object_get(obj, "time_zone"));
    const char *name = json_string_value(json_object_get(obj, "name"));
    char *create = NULL, sql[1024];
    size_t n = 0;
    int rc = 0;

    create = db_text(json_object_get(obj, "create"), &n);
    if (!create) return err_set(err, ERR_CORRUPT, "object %s has no definition", name ? name : "?");
    if (mode && !strchr(mode, '\'')) {
        snprintf(sql, sizeof sql, "SET SESSION sql_mode = '%s'", mode);
        if ((rc = mdb_exec(m, sql, err))) goto out;
    }
    if (csc && coll && !strchr(csc, '\'') && !strchr(coll, '\'')) {
        snprintf(sql, sizeof sql, "SET NAMES '%s' COLLATE '%s'", csc, coll);
        if ((rc = mdb_exec(m, sql, err))) goto out;
    }
    if (tz && !strchr(tz, '\'')) {
        snprintf(sql, sizeof sql, "SET time_zone = '%s'", tz);
        if ((rc = mdb_exec(m, sql, err))) goto out;
    }
    if (mysql_real_query(m, create, n)) {
        char what[300];
        snprintf(what, sizeof what, "create %s", name ? name : "object");
        rc = mdb_err(m, err, what);
    }
    /* back to the load session's settings */
    mdb_exec(m, "SET NAMES utf8mb4, time_zone = '+00:00', sql_mode = 'NO_AUTO_VALUE_ON_ZERO'",
                &(Err){0});
out:
    free(create);
    return rc;
}

int db_load_session(const MdbConn *c, bool write_binlog, MYSQL **out, Err *err)
{
    int rc = mdb_connect(c, MDB_CONNECT_CLIENT, MDB_CLIENT_TIMEOUT_S, out, err);
    if (rc) return rc;
    rc = mdb_exec(*out,
                     "SET NAMES utf8mb4, time_zone = '+00:00', sql_mode = 'NO_AUTO_VALUE_ON_ZERO', "
                     "foreign_key_checks = 0, unique_checks = 0, check_constraint_checks = 0, "
                     "max_error_count = 65535, "
                     "SESSION net_read_timeout = 3600, SESSION net_write_timeout = 3600",
                     err);
    if (rc) {
        mdb_close(*out);
        *out = NULL;
        return err_wrap(err, "set up load session");
    }
    if (!write_binlog) {
        Err e2;
        /* without SUPER/BINLOG ADMIN the load is simply binlogged */
        mdb_exec(*out, "SET SESSION sql_log_bin = 0", &e2);
    }
    return 0;
}

int db_history_loadable(const json_t *sinfo, Err *err)
{
    if (!json_is_true(json_object_get(sinfo, "history_trx_id"))) return 0;
    return err_set(err, ERR_VERSION,
                   "the table keeps transaction-precise row history (row start/end are "
                   "transaction ids, WITH SYSTEM VERSIONING): no MariaDB server loads such "
                   "history, so it cannot be restored exactly; leave the table out of the "
                   "backup's databases or convert it to timestamp-based versioning");
}
