/* net_target.c: what the target must allow for the net-change path
 * (privileges, cascading foreign keys, packet size) and the define callback
 * the fold asks about each table (from the target's information_schema,
 * after the load).
 * Invariant: nothing here writes to the target. */
#include <inttypes.h>
#include <mysql.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "restore/net/rst_net.h"

#define ER_SPECIFIC_ACCESS_DENIED 1227
#define ER_PARSE_ERROR 1064
#define ER_SYNTAX_ERROR 1149

int rst_net_dbs(const json_t *item, const char *target_db, RstNetDbs *out, Err *err)
{
    const json_t *dbs = json_object_get(item, "databases"), *jd;
    size_t i;
    memset(out, 0, sizeof *out);
    if (target_db && json_array_size(dbs) != 1)
        return err_set(err, ERR_INVALID, "--target-db needs a snapshot of a single database");
    json_array_foreach(dbs, i, jd) {
        const char *name = json_string_value(json_object_get(jd, "name"));
        const char *to = target_db ? target_db : name;
        if (!name) continue;
        if (out->n == 16) return err_set(err, ERR_INVALID, "more than 16 databases in the snapshot");
        if (strlen(name) >= RST_NET_NAME_MAX || strlen(to) >= RST_NET_NAME_MAX)
            return err_set(err, ERR_INVALID, "database name %s is longer than 64 bytes", name);
        snprintf(out->from[out->n], RST_NET_NAME_MAX, "%s", name);
        snprintf(out->to[out->n], RST_NET_NAME_MAX, "%s", to);
        out->n++;
    }
    return 0;
}

/* ---- eligibility ------------------------------------------------------------ */

/* "'user'@'host'" of CURRENT_USER(). */
static void current_grantee(MYSQL *m, char *out, size_t cap)
{
    char *cu = NULL;
    Err e;
    const char *at;
    snprintf(out, cap, "<the restore's account>");
    if (mdb_value(m, "SELECT CURRENT_USER()", &cu, &e) || !cu) return;
    at = strrchr(cu, '@');
    if (at) snprintf(out, cap, "'%.*s'@'%s'", (int)(at - cu), cu, at + 1);
    free(cu);
}

int rst_net_check_privileges(const MdbConn *conn, bool *ok, char *reason, size_t cap, Err *err)
{
    MYSQL *m = NULL;
    char who[300];
    int rc;

    *ok = false;
    reason[0] = 0;
    rc = mdb_connect(conn, MDB_CONNECT_CLIENT, MDB_CLIENT_TIMEOUT_S, &m, err);
    if (rc) return err_wrap(err, "target server: privilege check for the net apply");
    /* BINLOG with an empty string fails after the privilege check: a syntax
     * error says the account may, 1227 says it may not; nothing runs */
    if (mysql_query(m, "BINLOG ''") == 0) {
        mysql_free_result(mysql_store_result(m));
    } else if (mysql_errno(m) == ER_SPECIFIC_ACCESS_DENIED) {
        current_grantee(m, who, sizeof who);
        snprintf(reason, cap, "the target account lacks the BINLOG REPLAY privilege the BINLOG statement "
                 "needs (GRANT BINLOG REPLAY ON *.* TO %s)", who);
        goto out;
    } else if (mysql_errno(m) != ER_SYNTAX_ERROR && mysql_errno(m) != ER_PARSE_ERROR) {
        rc = mdb_err(m, err, "target server: BINLOG privilege probe");
        goto out;
    }
    /* setting sql_log_bin to its own value: the same privilege as turning it off */
    if (mysql_query(m, "SET SESSION sql_log_bin = @@session.sql_log_bin")) {
        if (mysql_errno(m) == ER_SPECIFIC_ACCESS_DENIED) {
            current_grantee(m, who, sizeof who);
            snprintf(reason, cap, "the target account may not turn sql_log_bin off for the bulk apply "
                     "(GRANT BINLOG ADMIN ON *.* TO %s)", who);
            goto out;
        }
        rc = mdb_err(m, err, "target server: sql_log_bin privilege probe");
        goto out;
    }
    *ok = true;
out:
    mdb_close(m);
    return rc;
}

/* "'a','b'" of the target names, escaped. */
static void in_list(MYSQL *m, const RstNetDbs *dbs, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = 0;
    for (size_t i = 0; i < dbs->n && n + 2 * RST_NET_NAME_MAX + 4 < cap; i++) {
        char esc[2 * RST_NET_NAME_MAX + 1];
        mysql_real_escape_string(m, esc, dbs->to[i], strlen(dbs->to[i]));
        n += (size_t)snprintf(out + n, cap - n, "%s'%s'", i ? "," : "", esc);
    }
}

int rst_net_check_fks(const MdbConn *conn, const RstNetDbs *dbs, bool *ok, char *reason,
                      size_t cap, Err *err)
{
    MYSQL *m = NULL;
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    char list[2400], sql[5200];
    int rc;

    *ok = false;
    reason[0] = 0;
    rc = mdb_connect(conn, MDB_CONNECT_CLIENT, MDB_CLIENT_TIMEOUT_S, &m, err);
    if (rc) return err_wrap(err, "target server: foreign key check for the net apply");
    in_list(m, dbs, list, sizeof list);
    snprintf(sql, sizeof sql,
             "SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, DELETE_RULE, UPDATE_RULE, "
             "UNIQUE_CONSTRAINT_SCHEMA, REFERENCED_TABLE_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS "
             "WHERE (CONSTRAINT_SCHEMA IN (%s) OR UNIQUE_CONSTRAINT_SCHEMA IN (%s)) AND "
             "(DELETE_RULE NOT IN ('RESTRICT','NO ACTION') OR UPDATE_RULE NOT IN ('RESTRICT','NO ACTION')) "
             "ORDER BY 1, 2, 3 LIMIT 1", list, list);
    if (mysql_query(m, sql) || !(res = mysql_store_result(m))) {
        rc = mdb_err(m, err, "target server: read information_schema.REFERENTIAL_CONSTRAINTS");
        goto out;
    }
    if ((row = mysql_fetch_row(res))) {
        bool del = strcmp(row[3], "RESTRICT") && strcmp(row[3], "NO ACTION");
        snprintf(reason, cap, "foreign key %s.%s.%s references %s.%s ON %s %s: the server makes those "
                 "changes itself without logging them, so only a transaction-by-transaction replay "
                 "reproduces them", row[0], row[1], row[2], row[5], row[6], del ? "DELETE" : "UPDATE",
                 del ? row[3] : row[4]);
        goto out;
    }
    *ok = true;
out:
    mysql_free_result(res);
    mdb_close(m);
    return rc;
}

int rst_net_check_packet(const MdbConn *conn, size_t max_rows_event, bool *ok, char *reason,
                         size_t cap, Err *err)
{
    MYSQL *m = NULL;
    char *v = NULL;
    uint64_t pkt, need;
    int rc;

    *ok = false;
    reason[0] = 0;
    rc = mdb_connect(conn, MDB_CONNECT_CLIENT, MDB_CLIENT_TIMEOUT_S, &m, err);
    if (!rc) rc = mdb_value(m, "SELECT @@global.max_allowed_packet", &v, err);
    if (rc) {
        err_wrap(err, "target server: read max_allowed_packet");
        goto out;
    }
    pkt = v ? strtoull(v, NULL, 10) : 0;
    /* the event, a Table_map, base64 (4/3) and the statement around it */
    need = (uint64_t)sodium_base64_ENCODED_LEN(max_rows_event + (64u << 10), sodium_base64_VARIANT_ORIGINAL) + 64;
    if (need > pkt) {
        snprintf(reason, cap, "a rows event of %.1f MiB needs a BINLOG statement of %.1f MiB, over the target's "
                 "max_allowed_packet (%.1f MiB; SET GLOBAL max_allowed_packet = %" PRIu64 " allows it)",
                 (double)max_rows_event / 1048576.0, (double)need / 1048576.0, (double)pkt / 1048576.0,
                 (need + 1048575) / 1048576 * 1048576);
        goto out;
    }
    *ok = true;
out:
    free(v);
    mdb_close(m);
    return rc;
}

/* ---- the define callback ---------------------------------------------------- */

struct RstNetDescriber {
    MYSQL *m;
    RstNetDbs dbs;
};

/* Primary key types whose row-image bytes are equal exactly when the
 * values are (no collation, no -0.0/0.0): rst_net.h's "byte-comparable". */
static bool byte_comparable(const char *t)
{
    static const char *const ok[] = {"tinyint", "smallint", "mediumint", "int", "bigint", "decimal",
                                     "date", "datetime", "timestamp", "time", "year", "binary",
                                     "varbinary", "bit", "enum"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (!strcasecmp(t, ok[i])) return true;
    return false;
}

/* def->uniq: the union of the columns of every UNIQUE index other than the
 * primary key, as positions in the row image (ORDINAL_POSITION - 1, the
 * order the columns were counted in). Anything unclear makes the table
 * uniq_unknown (always Delete + Write, the safe emission): a column the
 * index names that the table does not list, a position past the columns,
 * more columns than RST_NET_UNIQ_MAX. A prefix key (SUB_PART) still counts
 * its whole column: equal column bytes imply equal prefixes. */
static int unique_columns(MYSQL *m, const char *edb, const char *etb, RstNetTableDef *out, const char *what,
                          Err *err)
{
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    char sql[1400];
    int rc;

    snprintf(sql, sizeof sql, "SELECT s.INDEX_NAME, s.COLUMN_NAME, c.ORDINAL_POSITION FROM "
             "information_schema.STATISTICS s LEFT JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = "
             "s.TABLE_SCHEMA AND c.TABLE_NAME = s.TABLE_NAME AND c.COLUMN_NAME = s.COLUMN_NAME WHERE "
             "s.TABLE_SCHEMA = '%s' AND s.TABLE_NAME = '%s' AND s.NON_UNIQUE = 0 AND s.INDEX_NAME <> 'PRIMARY' "
             "ORDER BY s.INDEX_NAME, s.SEQ_IN_INDEX", edb, etb);
    if ((rc = mdb_query(m, sql, what, &res, err))) return rc;
    while ((row = mysql_fetch_row(res)) && !out->uniq_unknown) {
        char *end = NULL;
        unsigned long long pos = row[2] ? strtoull(row[2], &end, 10) : 0;
        bool seen = false;
        if (!row[1] || !row[2] || !end || *end || pos < 1 || pos > out->ncols) {
            out->uniq_unknown = true;
            break;
        }
        for (uint32_t k = 0; k < out->nuniq && !seen; k++) seen = out->uniq[k] == (uint32_t)(pos - 1);
        if (seen) continue;
        if (out->nuniq == RST_NET_UNIQ_MAX) {
            out->uniq_unknown = true;
            break;
        }
        out->uniq[out->nuniq++] = (uint32_t)(pos - 1);
    }
    if (mysql_errno(m)) rc = mdb_err(m, err, what);
    mysql_free_result(res);
    if (out->uniq_unknown) {
        out->nuniq = 0;
        memset(out->uniq, 0, sizeof out->uniq);
    }
    return rc;
}

int rst_net_describe(void *vctx, const char *db, const char *table, RstNetTableDef *out, Err *err)
{
    RstNetDescriber *x = vctx;
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    char edb[2 * RST_NET_NAME_MAX + 1], etb[2 * RST_NET_NAME_MAX + 1], sql[1200], what[300];
    char pkname[RST_NET_PK_MAX][RST_NET_NAME_MAX];
    const char *to = NULL;
    bool fold = true, versioned = false;
    uint32_t col = 0;
    int rc = 0;

    memset(out, 0, sizeof *out);
    out->autoinc = -1;
    for (size_t i = 0; i < x->dbs.n && !to; i++)
        if (!strcmp(db, x->dbs.from[i])) to = x->dbs.to[i];
    if (!to) return 0;   /* not restored: skipped, as replicate_do_db skips it */
    out->restore = true;
    snprintf(out->target_db, sizeof out->target_db, "%s", to);
    if (!*table) return 0;   /* a Query's default database: only restore is read */
    if (strlen(table) >= RST_NET_NAME_MAX)
        return err_set(err, ERR_CORRUPT, "table name %.80s is longer than 64 bytes", table);
    snprintf(what, sizeof what, "target server: describe %s.%s", to, table);
    mysql_real_escape_string(x->m, edb, to, strlen(to));
    mysql_real_escape_string(x->m, etb, table, strlen(table));

    snprintf(sql, sizeof sql, "SELECT TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = '%s' "
             "AND TABLE_NAME = '%s'", edb, etb);
    if ((rc = mdb_query(x->m, sql, what, &res, err))) goto out;
    if (!(row = mysql_fetch_row(res))) {
        rc = err_set(err, ERR_UNSUPPORTED, "table %s.%s of the range does not exist on the target after "
                     "the load", to, table);
        goto out;
    }
    versioned = row[0] && !strcmp(row[0], "SYSTEM VERSIONED");
    mysql_free_result(res);
    res = NULL;

    snprintf(sql, sizeof sql, "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, EXTRA FROM information_schema.COLUMNS "
             "WHERE TABLE_SCHEMA = '%s' AND TABLE_NAME = '%s' ORDER BY ORDINAL_POSITION", edb, etb);
    if ((rc = mdb_query(x->m, sql, what, &res, err))) goto out;
    /* the PK's names first (below) would need a second pass; keep the
     * columns' names and types in order while counting */
    {
        MYSQL_RES *pk = NULL;
        MYSQL_ROW pr;
        snprintf(sql, sizeof sql, "SELECT COLUMN_NAME, SUB_PART FROM information_schema.STATISTICS WHERE "
                 "TABLE_SCHEMA = '%s' AND TABLE_NAME = '%s' AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX",
                 edb, etb);
        if ((rc = mdb_query(x->m, sql, what, &pk, err))) goto out;
        while ((pr = mysql_fetch_row(pk))) {
            if (out->npk == RST_NET_PK_MAX) {
                fold = false;
                break;
            }
            if (pr[1]) fold = false;   /* a prefix key: equal prefixes are one row */
            snprintf(pkname[out->npk++], RST_NET_NAME_MAX, "%s", pr[0] ? pr[0] : "");
        }
        mysql_free_result(pk);
    }
    if (!out->npk) fold = false;
    while ((row = mysql_fetch_row(res))) {
        const char *name = row[0] ? row[0] : "", *dtype = row[1] ? row[1] : "",
                   *ctype = row[2] ? row[2] : "", *extra = row[3] ? row[3] : "";
        for (uint32_t k = 0; k < out->npk && k < RST_NET_PK_MAX; k++) {
            if (strcmp(pkname[k], name)) continue;
            out->pk[k] = col;
            if (!byte_comparable(dtype)) fold = false;
        }
        if (strstr(extra, "auto_increment")) {
            out->autoinc = (int32_t)col;
            out->autoinc_unsigned = strstr(ctype, "unsigned") != NULL;
        }
        col++;
    }
    out->ncols = col;
    out->fold = fold && !versioned;
    if (!out->fold) {
        out->npk = 0;   /* kept in order: the key is not used */
        memset(out->pk, 0, sizeof out->pk);
    } else {
        rc = unique_columns(x->m, edb, etb, out, what, err);
    }
out:
    mysql_free_result(res);
    return rc;
}

int rst_net_describer_open(const MdbConn *conn, const RstNetDbs *dbs, RstNetDescriber **out, Err *err)
{
    RstNetDescriber *d = calloc(1, sizeof *d);
    int rc;
    *out = NULL;
    if (!d) return err_set(err, ERR_NOMEM, "out of memory");
    d->dbs = *dbs;
    if ((rc = mdb_connect(conn, MDB_CONNECT_CLIENT, MDB_CLIENT_TIMEOUT_S, &d->m, err))) {
        free(d);
        return err_wrap(err, "net apply: connect to read the tables' definitions");
    }
    *out = d;
    return 0;
}

void rst_net_describer_close(RstNetDescriber *d)
{
    if (!d) return;
    mdb_close(d->m);
    free(d);
}
