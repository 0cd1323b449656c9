/* dump_privs.c: check before dumping that the account holds what a dump
 * needs, so a missing privilege fails at once with the list of what is
 * missing and the GRANT statement that fixes it (docs/OPERATIONS.md).
 * Invariant: only privileges granted to the account itself are seen (not
 * roles); a role-based setup gets the server's own error later instead. */
#include <mysql.h>
#include <stdlib.h>
#include <string.h>

#include "engine/source/dump/dump_int.h"

static bool has(MYSQL_RES *res, const char *priv)
{
    MYSQL_ROW row;
    mysql_data_seek(res, 0);
    while ((row = mysql_fetch_row(res)))
        if (row[0] && (!strcmp(row[0], priv) || !strcmp(row[0], "ALL PRIVILEGES"))) return true;
    return false;
}

int dump_privs_check(MYSQL *m, const char *const *dbs, bool need_reload, Err *err)
{
    static const char *db_privs[] = {"SELECT", "SHOW VIEW", "TRIGGER", "EVENT"};
    MYSQL_RES *glob = NULL, *sch = NULL;
    char *user = NULL, *host, missing[512] = "", dbgrant[1024] = "", *who = NULL;
    const char *gsql =
        "SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = "
        "CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', "
        "SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')";
    int rc = 0;

    {
        /* privileges through a role are not in the views below: let the
         * server judge (its errors name what is denied) */
        char *role = NULL;
        Err e2;
        if (mdb_value(m, "SELECT CURRENT_ROLE()", &role, &e2) == 0 && role) {
            free(role);
            goto out;
        }
        free(role);
    }
    if ((rc = mdb_value(m, "SELECT CURRENT_USER()", &who, err))) goto out;
    if (!who) goto out;
    user = who;
    host = strrchr(who, '@');
    if (!host) goto out;
    *host++ = '\0';
    if (mysql_query(m, gsql) || !(glob = mysql_store_result(m))) {
        rc = mdb_err(m, err, "read the account's privileges");
        goto out;
    }
    if (need_reload && !has(glob, "RELOAD")) {
        strcat(missing, "RELOAD (global)");
    }
    for (size_t d = 0; dbs && dbs[d]; d++) {
        char sql[1400], got_db[300];
        bool first_for_db = true;
        snprintf(got_db, sizeof got_db, "%s", dbs[d]);
        if (strchr(got_db, '\'') || strchr(got_db, '\\')) continue;   /* exotic name: let the server judge */
        snprintf(sql, sizeof sql,
                 "SELECT PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES WHERE "
                 "GRANTEE = CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', "
                 "SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''') AND "
                 "(TABLE_SCHEMA = '%s' OR '%s' LIKE TABLE_SCHEMA)",
                 got_db, got_db);
        if (mysql_query(m, sql) || !(sch = mysql_store_result(m))) {
            rc = mdb_err(m, err, "read the account's database privileges");
            goto out;
        }
        for (size_t i = 0; i < sizeof db_privs / sizeof db_privs[0]; i++) {
            if (has(glob, db_privs[i]) || has(sch, db_privs[i])) continue;
            size_t l = strlen(missing);
            snprintf(missing + l, sizeof missing - l, "%s%s on %s", l ? ", " : "", db_privs[i],
                     got_db);
            if (first_for_db) {
                l = strlen(dbgrant);
                snprintf(dbgrant + l, sizeof dbgrant - l,
                         "; GRANT SELECT, SHOW VIEW, TRIGGER, EVENT ON `%s`.* TO '%s'@'%s'", got_db,
                         user, host);
                first_for_db = false;
            }
        }
        mysql_free_result(sch);
        sch = NULL;
    }
    if (missing[0]) {
        char fix[1500] = "";
        if (need_reload && !has(glob, "RELOAD"))
            snprintf(fix, sizeof fix, "; GRANT RELOAD ON *.* TO '%s'@'%s'", user, host);
        snprintf(fix + strlen(fix), sizeof fix - strlen(fix), "%s", dbgrant);
        rc = err_set(err, ERR_PERM, "account '%s'@'%s' lacks privileges for a dump: %s; fix with: %s",
                     user, host, missing, fix + 2);
    }
out:
    mysql_free_result(sch);
    mysql_free_result(glob);
    free(who);
    return rc;
}
