/* db_names.c: names a target server cannot hold apart. A target with
 * lower_case_table_names 1 or 2 compares database and table names without
 * case: a snapshot holding `Dup` and `dup` would load the first and fail on
 * the second with a partial database left behind, so the check runs before
 * anything is written (the restore plan and rst_db_load).
 * Invariant: read-only (SELECTs only); the server itself lowercases the
 * names (LOWER in utf8mb4, as it folds identifiers), not our own rules. */
#include <mysql.h>
#include <stdlib.h>
#include <string.h>

#include "restore/db/db_int.h"

/* One namespace: names[i] (borrowed) and what they are ("table", ...). */
typedef struct NameSet {
    const char **names;
    const char **kinds;
    size_t n, cap;
} NameSet;

static int set_add(NameSet *s, const char *name, const char *kind, Err *err)
{
    if (!name) return 0;
    size_t cn = s->cap, ck = s->cap;   /* two arrays, one capacity: the smaller counts */
    int rc = buf_grow(&s->names, &cn, s->n + 1, sizeof *s->names, (size_t)1 << 24, err);
    if (!rc) rc = buf_grow(&s->kinds, &ck, s->n + 1, sizeof *s->kinds, (size_t)1 << 24, err);
    if (rc) return rc;
    s->cap = cn < ck ? cn : ck;
    s->names[s->n] = name;
    s->kinds[s->n++] = kind;
    return 0;
}

static void set_free(NameSet *s)
{
    free(s->names);
    free(s->kinds);
    memset(s, 0, sizeof *s);
}

/* The server's lowercase of every name of s, in order (malloc'd strings in
 * a malloc'd array). */
static int server_lower(MYSQL *m, const NameSet *s, char ***out, Err *err)
{
    Buf sql;
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    char **low = calloc(s->n ? s->n : 1, sizeof *low);
    int rc = 0;

    *out = NULL;
    buf_init(&sql, 64u << 20);
    if (!low) return err_set(err, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < s->n && !rc; i++) {
        rc = buf_printf(&sql, err, "%sSELECT %zu, LOWER(CONVERT(_binary'", i ? " UNION ALL " : "", i);
        if (!rc) rc = mdb_escape(&sql, s->names[i], strlen(s->names[i]), err);
        if (!rc) rc = buf_append_str(&sql, "' USING utf8mb4))", err);
    }
    if (rc) goto out;
    if (mysql_real_query(m, (char *)sql.data, sql.len) || !(res = mysql_store_result(m))) {
        rc = mdb_err(m, err, "target server: fold names to lower case");
        goto out;
    }
    while ((row = mysql_fetch_row(res))) {
        size_t i = row[0] ? (size_t)strtoull(row[0], NULL, 10) : s->n;
        if (i < s->n && row[1] && !low[i] && !(low[i] = strdup(row[1]))) {
            rc = err_set(err, ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    *out = low;
    low = NULL;
out:
    if (low)
        for (size_t i = 0; i < s->n; i++) free(low[i]);
    free(low);
    mysql_free_result(res);
    buf_free(&sql);
    return rc;
}

/* ERR_UNSUPPORTED naming the first pairs of s that fold to one name. */
static int check_set(MYSQL *m, const NameSet *s, const char *where, int lctn, Err *err)
{
    char **low = NULL, list[900] = "";
    size_t clashes = 0;
    int rc;

    if (s->n < 2) return 0;
    if ((rc = server_lower(m, s, &low, err))) return rc;
    for (size_t i = 0; i < s->n; i++)
        for (size_t k = i + 1; k < s->n; k++) {
            if (!low[i] || !low[k] || strcmp(low[i], low[k])) continue;
            if (clashes < 4) {
                size_t l = strlen(list);
                snprintf(list + l, sizeof list - l, "%s%s `%s` and %s `%s`", clashes ? ", " : "",
                         s->kinds[i], s->names[i], s->kinds[k], s->names[k]);
            }
            clashes++;
        }
    for (size_t i = 0; i < s->n; i++) free(low[i]);
    free(low);
    if (!clashes) return 0;
    return err_set(err, ERR_UNSUPPORTED,
                   "the target server has lower_case_table_names=%d: it cannot hold apart %s%s%s "
                   "(%zu pair%s differing only in case); restore to a server with "
                   "lower_case_table_names=0%s",
                   lctn, list, where, clashes > 4 ? ", ..." : "", clashes, clashes > 1 ? "s" : "",
                   *where ? "" : ", or each database alone under another name (--target-db)");
}

int rst_db_names_check(MYSQL *m, const json_t *item, json_t *const *schemas,
                       const char *target_db, Err *err)
{
    const json_t *dbs = json_object_get(item, "databases"), *jd, *o;
    char *v = NULL, where[300];
    NameSet s = {0};
    size_t i, k;
    int lctn, rc;

    if ((rc = mdb_value(m, "SELECT @@lower_case_table_names", &v, err)))
        return err_wrap(err, "target server");
    lctn = v ? atoi(v) : 0;
    free(v);
    if (lctn == 0) return 0;

    /* database names (a --target-db load has one) */
    if (!target_db) {
        json_array_foreach(dbs, i, jd)
            if ((rc = set_add(&s, json_string_value(json_object_get(jd, "name")), "database",
                              err)))
                goto out;
        if ((rc = check_set(m, &s, "", lctn, err))) goto out;
    }
    /* per database: tables, and with the schema documents views and
     * sequences too (one namespace on the server) */
    json_array_foreach(dbs, i, jd) {
        const char *db = json_string_value(json_object_get(jd, "name"));
        s.n = 0;
        json_array_foreach(json_object_get(jd, "tables"), k, o)
            if ((rc = set_add(&s, json_string_value(json_object_get(o, "name")), "table", err)))
                goto out;
        if (schemas && schemas[i]) {
            json_array_foreach(json_object_get(schemas[i], "views"), k, o)
                if ((rc = set_add(&s, json_string_value(json_object_get(o, "name")), "view", err)))
                    goto out;
            json_array_foreach(json_object_get(schemas[i], "sequences"), k, o)
                if ((rc = set_add(&s, json_string_value(json_object_get(o, "name")), "sequence",
                                  err)))
                    goto out;
        }
        snprintf(where, sizeof where, " in database %s", db ? db : "?");
        if ((rc = check_set(m, &s, where, lctn, err))) goto out;
    }
out:
    set_free(&s);
    return rc;
}
