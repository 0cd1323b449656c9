/* inst_backmeta.c: what an instance snapshot records about the moment and
 * the application beside its items: the binlog point at the start and the
 * end of the file-tree backup ("files_window") and the Dolibarr version
 * constants ("dolibarr"). Invariant: a server without binlog or a database
 * without Dolibarr's tables records null / nothing, never an error. */
#include <mysql.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/instance/inst_int.h"

#define ER_NO_SUCH_TABLE_ 1146   /* mysqld_error.h's ER_NO_SUCH_TABLE */
#define ER_BAD_DB_ERROR_ 1049    /* ER_BAD_DB_ERROR */

int inst_binlog_point(MYSQL *m, json_t **out, Err *err)
{
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    char *v = NULL, file[256] = "", sql[400];
    unsigned long long pos = 0;
    int rc;

    *out = NULL;
    if ((rc = mdb_value(m, "SELECT @@log_bin", &v, err))) goto out;
    if (!v || strcmp(v, "1")) {
        *out = json_null();
        goto out;
    }
    free(v);
    v = NULL;
    /* outside a consistent-snapshot transaction these are the current end of
     * the binlog, as SHOW MASTER STATUS says, without its privilege (BINLOG
     * MONITOR), which a backup account need not have */
    if ((rc = mdb_query(m, "SHOW STATUS LIKE 'binlog_snapshot_%'", "read the binlog position", &res,
                        err)))
        goto out;
    while ((row = mysql_fetch_row(res))) {
        if (!row[0] || !row[1]) continue;
        if (!strcasecmp(row[0], "Binlog_snapshot_file")) snprintf(file, sizeof file, "%s", row[1]);
        if (!strcasecmp(row[0], "Binlog_snapshot_position")) pos = strtoull(row[1], NULL, 10);
    }
    if (!file[0] || strchr(file, '\'')) {   /* binlog off after all, or a name we do not quote */
        *out = json_null();
        goto out;
    }
    /* the GTID state at exactly that position (not @@gtid_binlog_pos, which
     * may already be past it) */
    snprintf(sql, sizeof sql, "SELECT BINLOG_GTID_POS('%s', %llu)", file, pos);
    if ((rc = mdb_value(m, sql, &v, err))) goto out;
    if (!(*out = json_pack("{s:s,s:I,s:s}", "file", file, "position", (json_int_t)pos, "gtid",
                           v ? v : "")))
        rc = err_set(err, ERR_NOMEM, "out of memory");
out:
    if (res) mysql_free_result(res);
    free(v);
    if (rc) err_wrap(err, "binlog point");
    return rc;
}

int inst_dol_versions_read(MYSQL *m, const char *db, const char *prefix, json_t **out, Err *err)
{
    static const char *names[] = {"MAIN_VERSION_FIRST_INSTALL", "MAIN_VERSION_LAST_INSTALL",
                                  "MAIN_VERSION_LAST_UPGRADE"};
    static const char *keys[] = {"first_install", "last_install", "last_upgrade"};
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    json_t *j = NULL;
    Buf sql, tab;
    int rc = 0;

    *out = NULL;
    buf_init(&sql, 4096);
    buf_init(&tab, 512);
    if ((rc = buf_printf(&tab, err, "%sconst", prefix))) goto out;
    if ((rc = buf_append_str(&sql, "SELECT name, value FROM ", err)) ||
        (rc = mdb_ident_quote(&sql, db, err)) || (rc = buf_append_str(&sql, ".", err)) ||
        (rc = mdb_ident_quote(&sql, (const char *)tab.data, err)) ||
        (rc = buf_append_str(&sql, " WHERE name IN ('MAIN_VERSION_FIRST_INSTALL', 'MAIN_VERSION_LAST_INSTALL', "
                                   "'MAIN_VERSION_LAST_UPGRADE') ORDER BY entity DESC", err)))
        goto out;
    if (mysql_query(m, (const char *)sql.data) || !(res = mysql_store_result(m))) {
        unsigned e = mysql_errno(m);
        if (e == ER_NO_SUCH_TABLE_ || e == ER_BAD_DB_ERROR_) goto out;   /* not a Dolibarr database */
        rc = mdb_err(m, err, "read the version constants");
        goto out;
    }
    if (!(j = json_pack("{s:s,s:s,s:n,s:n,s:n}", "database", db, "prefix", prefix, keys[0],
                        keys[1], keys[2]))) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    /* entity 0 holds them; an older install may have them at 1: the lowest
     * entity wins, as restore/dolibarr's version check reads them */
    while ((row = mysql_fetch_row(res)))
        for (size_t i = 0; i < 3; i++)
            if (row[0] && row[1] && !strcmp(row[0], names[i]))
                json_object_set_new(j, keys[i], json_string(row[1]));
    *out = j;
    j = NULL;
out:
    if (res) mysql_free_result(res);
    json_decref(j);
    buf_free(&sql);
    buf_free(&tab);
    if (rc) err_wrap(err, "dolibarr versions of %s.%sconst", db, prefix);
    return rc;
}

int inst_snapshot_dol_versions(const json_t *manifest, InstDolVersions *out)
{
    const json_t *d = json_object_get(manifest, "dolibarr");
    const char **f[] = {&out->first_install, &out->last_install, &out->last_upgrade};
    static const char *keys[] = {"first_install", "last_install", "last_upgrade"};

    memset(out, 0, sizeof *out);
    if (!json_is_object(d)) return ERR_NOTFOUND;
    for (size_t i = 0; i < 3; i++) {
        const json_t *v = json_object_get(d, keys[i]);
        *f[i] = json_is_string(v) ? json_string_value(v) : "";
    }
    out->database = json_string_value(json_object_get(d, "database"));
    out->prefix = json_string_value(json_object_get(d, "prefix"));
    return 0;
}
