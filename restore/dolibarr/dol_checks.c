/* dol_checks.c: the checks read from the database: the version constants,
 * an active admin user, the company logo files named in llx_const,
 * install.lock, and the row count of every table.
 * Invariant: SELECT only; each check fills its own RstDolCheck. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "restore/dolibarr/dol_int.h"

/* ---- version -------------------------------------------------------------- */

const char *rst_dol_version_effective(const RstDolVersions *v)
{
    return v->last_upgrade ? v->last_upgrade : v->last_install;
}

void rst_dol_versions_free(RstDolVersions *v)
{
    if (!v) return;
    free(v->first_install);
    free(v->last_install);
    free(v->last_upgrade);
    memset(v, 0, sizeof *v);
}

/* expected: NULL not compared, "" absent, else equal. */
static int compare(RstDolCheck *ck, const char *name, const char *have, const char *want, Err *err)
{
    if (!want) return 0;
    ck->checked++;
    if (!*want && !have) return 0;
    if (have && !strcmp(have, want)) return 0;
    return dol_offender(ck, err, "%s: %s%s%s, expected %s%s%s", name, have ? "'" : "",
                        have ? have : "absent", have ? "'" : "", *want ? "'" : "",
                        *want ? want : "absent", *want ? "'" : "");
}

int dol_check_version(DolRun *run, const RstDolExpect *expect, Err *err)
{
    RstDolVersions *v = &run->rep->versions;
    RstDolCheck *ck = dol_check_begin(run->rep, RST_DOL_CHECK_VERSION);
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    Buf sql;
    int rc;

    buf_init(&sql, 4096);
    /* entity 0 holds them; an older install may have them at 1: lowest wins */
    if ((rc = dol_sql(run, &sql, "SELECT name, value FROM ", "const",
                      " WHERE name IN ('MAIN_VERSION_FIRST_INSTALL', 'MAIN_VERSION_LAST_INSTALL',"
                      " 'MAIN_VERSION_LAST_UPGRADE', 'MAIN_NOT_INSTALLED') ORDER BY entity DESC",
                      err)) ||
        (rc = mdb_query(run->m, (const char *)sql.data, "read the version constants", &res, err)))
        goto out;
    while ((row = mysql_fetch_row(res))) {
        char **slot = !strcmp(row[0], "MAIN_VERSION_FIRST_INSTALL") ? &v->first_install
                      : !strcmp(row[0], "MAIN_VERSION_LAST_INSTALL") ? &v->last_install
                      : !strcmp(row[0], "MAIN_VERSION_LAST_UPGRADE") ? &v->last_upgrade
                                                                      : NULL;
        if (!slot) {
            v->not_installed = true;
            continue;
        }
        free(*slot);
        if (!(*slot = strdup(row[1] ? row[1] : ""))) {
            rc = err_set(err, ERR_NOMEM, "out of memory reading the version constants");
            goto out;
        }
    }
    ck->checked = 1;
    if (!v->last_install && (rc = dol_offender(ck, err, "MAIN_VERSION_LAST_INSTALL: absent")))
        goto out;
    if (v->not_installed &&
        (rc = dol_offender(ck, err, "MAIN_NOT_INSTALLED: set (an install never finished)")))
        goto out;
    if (expect && ((rc = compare(ck, "MAIN_VERSION_FIRST_INSTALL", v->first_install,
                                 expect->first_install, err)) ||
                   (rc = compare(ck, "MAIN_VERSION_LAST_INSTALL", v->last_install,
                                 expect->last_install, err)) ||
                   (rc = compare(ck, "MAIN_VERSION_LAST_UPGRADE", v->last_upgrade,
                                 expect->last_upgrade, err)) ||
                   (rc = compare(ck, "version", rst_dol_version_effective(v), expect->version,
                                 err))))
        goto out;
    if (ck->passed)
        rc = dol_detail(ck, err, "version %s (%s)%s", rst_dol_version_effective(v),
                        v->last_upgrade ? "MAIN_VERSION_LAST_UPGRADE" : "MAIN_VERSION_LAST_INSTALL",
                        expect ? ", as expected" : "");
    else
        rc = dol_detail(ck, err, "%llu version constant%s wrong",
                        (unsigned long long)ck->failed, ck->failed == 1 ? "" : "s");
out:
    mysql_free_result(res);
    buf_free(&sql);
    return rc;
}

/* ---- admin ------------------------------------------------------------------ */

int dol_check_admin(DolRun *run, Err *err)
{
    RstDolCheck *ck = dol_check_begin(run->rep, RST_DOL_CHECK_ADMIN);
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    uint64_t active = 0;
    char first[64] = "";
    Buf sql;
    int rc;

    buf_init(&sql, 4096);
    if ((rc = dol_sql(run, &sql, "SELECT login, statut FROM ", "user",
                      " WHERE admin = 1 ORDER BY statut DESC, rowid", err)) ||
        (rc = mdb_query(run->m, (const char *)sql.data, "read the admin users", &res, err)))
        goto out;
    while ((row = mysql_fetch_row(res))) {
        ck->checked++;
        if (row[1] && !strcmp(row[1], "1")) {
            if (!active++) snprintf(first, sizeof first, "%s", row[0] ? row[0] : "");
        }
    }
    if (active) {
        rc = dol_detail(ck, err, "%llu active admin user%s (%s%s)", (unsigned long long)active,
                        active == 1 ? "" : "s", first, active > 1 ? ", ..." : "");
        goto out;
    }
    mysql_data_seek(res, 0);
    while ((row = mysql_fetch_row(res)))
        if ((rc = dol_offender(ck, err, "%s: disabled (statut %s)", row[0] ? row[0] : "",
                               row[1] ? row[1] : "NULL")))
            goto out;
    ck->passed = false;
    ck->failed = 1;   /* one problem: nobody can administer the instance */
    if (!ck->checked)
        rc = dol_detail(ck, err, "no active admin user (no user has admin = 1)");
    else
        rc = dol_detail(ck, err, "no active admin user (%llu admin user%s, all disabled)",
                        (unsigned long long)ck->checked, ck->checked == 1 ? "" : "s");
out:
    mysql_free_result(res);
    buf_free(&sql);
    return rc;
}

/* ---- logos -------------------------------------------------------------------- */

int dol_check_logos(DolRun *run, Err *err)
{
    RstDolCheck *ck = dol_check_begin(run->rep, RST_DOL_CHECK_LOGOS);
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    char root[4096], path[8192];
    struct stat st;
    Buf sql;
    int rc;

    buf_init(&sql, 4096);
    /* the full-size logos sit in mycompany/logos/, the _SMALL and _MINI
     * thumbnails in mycompany/logos/thumbs/ (conf.class.php, admin/company.php) */
    if ((rc = dol_sql(run, &sql, "SELECT name, entity, value FROM ", "const",
                      " WHERE name IN ('MAIN_INFO_SOCIETE_LOGO', 'MAIN_INFO_SOCIETE_LOGO_SMALL',"
                      " 'MAIN_INFO_SOCIETE_LOGO_MINI', 'MAIN_INFO_SOCIETE_LOGO_SQUARRED',"
                      " 'MAIN_INFO_SOCIETE_LOGO_SQUARRED_SMALL', 'MAIN_INFO_SOCIETE_LOGO_SQUARRED_MINI')"
                      " AND value <> '' ORDER BY entity, name", err)) ||
        (rc = mdb_query(run->m, (const char *)sql.data, "read the logo constants", &res, err)))
        goto out;
    while ((row = mysql_fetch_row(res))) {
        const char *name = row[0], *value = row[2] ? row[2] : "";
        long entity = row[1] ? strtol(row[1], NULL, 10) : 1;
        bool thumb = strstr(name, "_SMALL") || strstr(name, "_MINI");

        ck->checked++;
        if (strchr(value, '/') || !strcmp(value, "..")) {
            if ((rc = dol_offender(ck, err, "%s (entity %ld): '%s' is not a file name", name,
                                   entity, value)))
                goto out;
            continue;
        }
        if ((rc = rst_dol_entity_root(run->data_root, entity, root, sizeof root, err))) goto out;
        snprintf(path, sizeof path, "%s/mycompany/logos/%s%s", root, thumb ? "thumbs/" : "", value);
        int e = stat(path, &st) ? errno : S_ISREG(st.st_mode) ? 0 : EINVAL;
        if (!e) continue;
        if ((rc = dol_offender(ck, err, "%s (entity %ld): %s %s", name, entity, path,
                               e == ENOENT ? "missing" : e == EINVAL ? "not a regular file"
                                                                      : strerror(e))))
            goto out;
    }
    if (ck->passed)
        rc = dol_detail(ck, err, "%llu logo file%s present", (unsigned long long)ck->checked,
                        ck->checked == 1 ? "" : "s");
    else
        rc = dol_detail(ck, err, "%llu of %llu logo files missing", (unsigned long long)ck->failed,
                        (unsigned long long)ck->checked);
out:
    mysql_free_result(res);
    buf_free(&sql);
    return rc;
}

/* ---- install.lock ---------------------------------------------------------------- */

int dol_check_install_lock(DolRun *run, Err *err)
{
    RstDolCheck *ck = dol_check_begin(run->rep, RST_DOL_CHECK_INSTALL_LOCK);
    char path[4096];
    struct stat st;

    ck->checked = 1;
    if ((size_t)snprintf(path, sizeof path, "%s/install.lock", run->data_root) >= sizeof path)
        return err_set(err, ERR_INVALID, "data root %s: path too long", run->data_root);
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
        return dol_detail(ck, err, "present: the install and upgrade pages are locked");
    int rc = dol_offender(ck, err, "%s: missing (the install and upgrade pages are open)", path);
    return rc ? rc : dol_detail(ck, err, "install.lock missing");
}

/* ---- row counts ----------------------------------------------------------------- */

/* Tables counted per statement (one UNION ALL). */
#define COUNT_BATCH 64

static int count_batch(DolRun *run, size_t from, size_t to, Err *err)
{
    RstDolReport *rep = run->rep;
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    Buf sql;
    size_t i = from;
    int rc = 0;

    buf_init(&sql, BUF_MAX_DEFAULT);
    /* each row names its table: UNION ALL promises no order */
    for (size_t k = from; k < to; k++) {
        const char *t = rep->tables[k].name;
        if ((rc = buf_append_str(&sql, k > from ? " UNION ALL SELECT '" : "SELECT '", err)) ||
            (rc = mdb_escape(&sql, t, strlen(t), err)) ||
            (rc = buf_append_str(&sql, "', COUNT(*) FROM ", err)) ||
            (rc = mdb_ident_quote(&sql, t, err)))
            goto out;
    }
    if ((rc = mdb_query(run->m, (const char *)sql.data, "count the rows of the tables", &res, err)))
        goto out;
    while ((row = mysql_fetch_row(res))) {
        for (i = from; i < to && (!row[0] || strcmp(row[0], rep->tables[i].name)); i++) {}
        if (i == to) continue;   /* not asked for: cannot happen */
        rep->tables[i].rows = row[1] ? strtoull(row[1], NULL, 10) : 0;
        rep->rows_total += rep->tables[i].rows;
    }
out:
    mysql_free_result(res);
    buf_free(&sql);
    return rc;
}

int dol_table_counts(DolRun *run, const char *dbname, Err *err)
{
    RstDolReport *rep = run->rep;
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    size_t plen = strlen(run->prefix);
    int rc;

    (void)dbname;
    if ((rc = mdb_query(run->m,
                        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
                        "DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
                        "list the tables", &res, err)))
        goto out;
    while ((row = mysql_fetch_row(res))) {
        if (!row[0] || strncmp(row[0], run->prefix, plen)) continue;
        if ((rc = buf_grow(&rep->tables, &rep->tables_cap, rep->ntables + 1, sizeof *rep->tables,
                           1u << 20, err)))
            goto out;
        if (!(rep->tables[rep->ntables].name = strdup(row[0]))) {
            rc = err_set(err, ERR_NOMEM, "out of memory listing the tables");
            goto out;
        }
        rep->tables[rep->ntables++].rows = 0;
    }
    for (size_t i = 0; i < rep->ntables; i += COUNT_BATCH)
        if ((rc = count_batch(run, i, i + COUNT_BATCH < rep->ntables ? i + COUNT_BATCH : rep->ntables,
                              err)))
            goto out;
out:
    mysql_free_result(res);
    return rc;
}
