/* dol_verify.c: rst_dol_verify, the run of the Dolibarr checks: connect,
 * select the database, refuse one that is not Dolibarr's, run each check,
 * name the failed ones; and the helpers that fill a check.
 * Invariant: read-only; a failed check is ERR_VERIFY only after every check
 * ran, a check that cannot run is its own error at once. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "restore/dolibarr/dol_int.h"

static const char *const check_names[RST_DOL_CHECKS] = {
    [RST_DOL_CHECK_VERSION] = "version",     [RST_DOL_CHECK_ADMIN] = "admin",
    [RST_DOL_CHECK_ECM] = "ecm_files",       [RST_DOL_CHECK_LOGOS] = "logos",
    [RST_DOL_CHECK_INSTALL_LOCK] = "install_lock",
};

int dol_table(const DolRun *run, Buf *sql, const char *name, Err *err)
{
    char t[256];

    if ((size_t)snprintf(t, sizeof t, "%s%s", run->prefix, name) >= sizeof t)
        return err_set(err, ERR_INVALID, "db prefix '%s' too long", run->prefix);
    return mdb_ident_quote(sql, t, err);
}

int dol_sql(const DolRun *run, Buf *sql, const char *before, const char *name, const char *after,
            Err *err)
{
    int rc;

    buf_reset(sql);
    if ((rc = buf_append_str(sql, before, err))) return rc;
    if ((rc = dol_table(run, sql, name, err))) return rc;
    return buf_append_str(sql, after, err);
}

RstDolCheck *dol_check_begin(RstDolReport *rep, RstDolCheckId id)
{
    RstDolCheck *ck = &rep->checks[id];

    ck->ran = true;
    ck->passed = true;
    return ck;
}

static char *vfmt(const char *fmt, va_list ap)
{
    char *s = NULL;

    return vasprintf(&s, fmt, ap) < 0 ? NULL : s;
}

int dol_offender(RstDolCheck *ck, Err *err, const char *fmt, ...)
{
    va_list ap;

    ck->passed = false;
    ck->failed++;
    if (ck->noffenders == RST_DOL_OFFENDERS_MAX) return 0;
    va_start(ap, fmt);
    ck->offenders[ck->noffenders] = vfmt(fmt, ap);
    va_end(ap);
    if (!ck->offenders[ck->noffenders])
        return err_set(err, ERR_NOMEM, "out of memory recording a %s offender", ck->name);
    ck->noffenders++;
    return 0;
}

int dol_detail(RstDolCheck *ck, Err *err, const char *fmt, ...)
{
    va_list ap;

    free(ck->detail);
    va_start(ap, fmt);
    ck->detail = vfmt(fmt, ap);
    va_end(ap);
    return ck->detail ? 0 : err_set(err, ERR_NOMEM, "out of memory describing %s", ck->name);
}

/* Refuse a database that is not Dolibarr's (the tables the checks read). */
static int tables_present(DolRun *run, const char *dbname, Err *err)
{
    static const char *const need[] = {"const", "user", "ecm_files"};
    Buf sql;
    char *v = NULL;
    int rc = 0;

    buf_init(&sql, 4096);
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
        buf_reset(&sql);
        if ((rc = buf_printf(&sql, err, "SELECT COUNT(*) FROM information_schema.TABLES WHERE "
                             "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '")) ||
            (rc = mdb_escape(&sql, run->prefix, strlen(run->prefix), err)) ||
            (rc = buf_printf(&sql, err, "%s'", need[i])))
            goto out;
        if ((rc = mdb_value(run->m, (const char *)sql.data, &v, err))) goto out;
        if (!v || !strcmp(v, "0")) {
            rc = err_set(err, ERR_NOTFOUND,
                         "database '%s' is not a Dolibarr database: no table %s%s (db prefix '%s')",
                         dbname, run->prefix, need[i], run->prefix);
            goto out;
        }
        free(v);
        v = NULL;
    }
out:
    free(v);
    buf_free(&sql);
    return rc;
}

static int use_db(MYSQL *m, const char *dbname, Err *err)
{
    Buf sql;
    char *v = NULL;
    int rc;

    buf_init(&sql, 4096);
    if ((rc = buf_append_str(&sql, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE "
                             "SCHEMA_NAME = '", err)) ||
        (rc = mdb_escape(&sql, dbname, strlen(dbname), err)) || (rc = buf_append_str(&sql, "'", err)))
        goto out;
    if ((rc = mdb_value(m, (const char *)sql.data, &v, err))) goto out;
    if (!v || !strcmp(v, "0")) {
        rc = err_set(err, ERR_NOTFOUND, "database '%s' does not exist", dbname);
        goto out;
    }
    buf_reset(&sql);
    if ((rc = buf_append_str(&sql, "USE ", err)) || (rc = mdb_ident_quote(&sql, dbname, err)))
        goto out;
    rc = mdb_exec(m, (const char *)sql.data, err);
out:
    free(v);
    buf_free(&sql);
    return rc;
}

/* ERR_VERIFY naming each failed check, or 0. */
static int verdict(const RstDolReport *rep, Err *err)
{
    char msg[ERR_MSG_MAX];
    size_t len = 0;

    msg[0] = '\0';
    for (int i = 0; i < RST_DOL_CHECKS; i++) {
        const RstDolCheck *ck = &rep->checks[i];
        if (!ck->ran || ck->passed) continue;
        int n = snprintf(msg + len, sizeof msg - len, "%s%s (%s%s%s)", len ? ", " : "", ck->name,
                         ck->detail ? ck->detail : "failed", ck->noffenders ? "; first: " : "",
                         ck->noffenders ? ck->offenders[0] : "");
        if (n < 0 || (size_t)n >= sizeof msg - len) break;
        len += (size_t)n;
    }
    return len ? err_set(err, ERR_VERIFY, "dolibarr checks failed: %s", msg) : 0;
}

int rst_dol_verify(const MdbConn *c, const char *dbname, const char *db_prefix,
                   const char *data_root, const RstDolExpect *expect, RstDolReport *out,
                   Err *err)
{
    DolRun run = {0};
    struct timespec t0, t1;
    char where[256];
    int rc = 0;

    if (!db_prefix) db_prefix = "llx_";
    if (!c || !dbname || !*dbname || !data_root || !*data_root)
        return err_set(err, ERR_INVALID, "dolibarr checks need a connection, a database and a data root");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < RST_DOL_CHECKS; i++) out->checks[i].name = check_names[i];
    out->database = strdup(dbname);
    out->data_root = strdup(data_root);
    out->db_prefix = strdup(db_prefix);
    if (!out->database || !out->data_root || !out->db_prefix)
        return err_set(err, ERR_NOMEM, "out of memory starting the dolibarr checks");
    run.prefix = db_prefix;
    run.data_root = data_root;
    run.rep = out;
    if ((rc = mdb_connect(c, 0, MDB_CLIENT_TIMEOUT_S, &run.m, err))) goto out;
    /* file names are compared byte for byte with the disk's utf-8 names */
    if (mysql_set_character_set(run.m, "utf8mb4")) {
        rc = mdb_err(run.m, err, "set the connection to utf8mb4");
        goto out;
    }
    if ((rc = use_db(run.m, dbname, err))) goto out;
    if ((rc = tables_present(&run, dbname, err))) goto out;
    if ((rc = dol_check_version(&run, expect, err)) || (rc = dol_check_admin(&run, err)) ||
        (rc = dol_check_ecm(&run, err)) || (rc = dol_check_logos(&run, err)) ||
        (rc = dol_check_install_lock(&run, err)) || (rc = dol_table_counts(&run, dbname, err)))
        goto out;
    rc = verdict(out, err);
out:
    if (rc && rc != ERR_VERIFY)
        err_wrap(err, "dolibarr checks of database %s on %s", dbname,
                 mdb_conn_where(c, where, sizeof where));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    out->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    mdb_close(run.m);
    return rc;
}
