/* pitr_apply.c: the net-change path's decisions and its fold: whether the
 * target allows it (privileges, cascading foreign keys, packet size), the
 * define callback pitr_net asks about each table (from the target's
 * information_schema, after the load), and the read of the archived range
 * into pitr_net with the transaction tracking that decides where it ends.
 * Invariant: nothing here writes to the target; a range stops exactly after
 * the transaction whose completion makes the GTID state plan->target_gtid,
 * and groups at or before the snapshot's state are skipped as a replica
 * connecting at that state skips them. The read stops at the next event
 * once rst_pitr_signal() is set. */
#include <inttypes.h>
#include <mysql.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "engine/common/clock.h"
#include "engine/common/progress.h"
#include "restore/pitr/pitr_apply.h"
#include "restore/pitr/pitr_int.h"

#define ER_SPECIFIC_ACCESS_DENIED 1227
#define ER_PARSE_ERROR 1064
#define ER_SYNTAX_ERROR 1149

int pitr_apply_dbs(const json_t *item, const char *target_db, PitrApplyDbs *out, Err *err)
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
        if (strlen(name) >= PITR_NET_NAME_MAX || strlen(to) >= PITR_NET_NAME_MAX)
            return err_set(err, ERR_INVALID, "database name %s is longer than 64 bytes", name);
        snprintf(out->from[out->n], PITR_NET_NAME_MAX, "%s", name);
        snprintf(out->to[out->n], PITR_NET_NAME_MAX, "%s", to);
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

int pitr_apply_check_privileges(const MdbConn *conn, bool *ok, char *reason, size_t cap, Err *err)
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
static void in_list(MYSQL *m, const PitrApplyDbs *dbs, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = 0;
    for (size_t i = 0; i < dbs->n && n + 2 * PITR_NET_NAME_MAX + 4 < cap; i++) {
        char esc[2 * PITR_NET_NAME_MAX + 1];
        mysql_real_escape_string(m, esc, dbs->to[i], strlen(dbs->to[i]));
        n += (size_t)snprintf(out + n, cap - n, "%s'%s'", i ? "," : "", esc);
    }
}

int pitr_apply_check_fks(const MdbConn *conn, const PitrApplyDbs *dbs, bool *ok, char *reason,
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

int pitr_apply_check_packet(const MdbConn *conn, size_t max_rows_event, bool *ok, char *reason,
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

typedef struct DefineCtx {
    MYSQL *m;
    const PitrApplyDbs *dbs;
} DefineCtx;

/* Primary key types whose row-image bytes are equal exactly when the
 * values are (no collation, no -0.0/0.0): pitr_net.h's "byte-comparable". */
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
 * more columns than PITR_NET_UNIQ_MAX. A prefix key (SUB_PART) still counts
 * its whole column: equal column bytes imply equal prefixes. */
static int unique_columns(MYSQL *m, const char *edb, const char *etb, PitrNetTableDef *out, const char *what,
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
        if (out->nuniq == PITR_NET_UNIQ_MAX) {
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

static int define(void *vctx, const char *db, const char *table, PitrNetTableDef *out, Err *err)
{
    DefineCtx *x = vctx;
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    char edb[2 * PITR_NET_NAME_MAX + 1], etb[2 * PITR_NET_NAME_MAX + 1], sql[1200], what[300];
    char pkname[PITR_NET_PK_MAX][PITR_NET_NAME_MAX];
    const char *to = NULL;
    bool fold = true, versioned = false;
    uint32_t col = 0;
    int rc = 0;

    memset(out, 0, sizeof *out);
    out->autoinc = -1;
    for (size_t i = 0; i < x->dbs->n && !to; i++)
        if (!strcmp(db, x->dbs->from[i])) to = x->dbs->to[i];
    if (!to) return 0;   /* not restored: skipped, as replicate_do_db skips it */
    out->restore = true;
    snprintf(out->target_db, sizeof out->target_db, "%s", to);
    if (!*table) return 0;   /* a Query's default database: only restore is read */
    if (strlen(table) >= PITR_NET_NAME_MAX)
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
            if (out->npk == PITR_NET_PK_MAX) {
                fold = false;
                break;
            }
            if (pr[1]) fold = false;   /* a prefix key: equal prefixes are one row */
            snprintf(pkname[out->npk++], PITR_NET_NAME_MAX, "%s", pr[0] ? pr[0] : "");
        }
        mysql_free_result(pk);
    }
    if (!out->npk) fold = false;
    while ((row = mysql_fetch_row(res))) {
        const char *name = row[0] ? row[0] : "", *dtype = row[1] ? row[1] : "",
                   *ctype = row[2] ? row[2] : "", *extra = row[3] ? row[3] : "";
        for (uint32_t k = 0; k < out->npk && k < PITR_NET_PK_MAX; k++) {
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

/* ---- the fold ---------------------------------------------------------------- */

static bool is_rows_event(uint8_t t)
{
    return (t >= MDB_EV_WRITE_V1 && t <= MDB_EV_DELETE_V1) || (t >= MDB_EV_WRITE_V2 && t <= MDB_EV_DELETE_V2) ||
           (t >= MDB_EV_WRITE_COMP_V1 && t <= MDB_EV_DELETE_COMP_V2);
}

static uint64_t seq_in(const MdbGtidSet *s, uint32_t domain)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->g[i].domain == domain) return s->g[i].seq;
    return 0;
}

int pitr_apply_fold(Repo *r, const BinlogCatalog *c, const RstPitrPlan *plan, const MdbConn *conn,
                    const PitrApplyDbs *dbs, const char *tmpdir, bool progress, PitrNet **out,
                    PitrFoldStats *st, Err *err)
{
    RstPitrSource *src = NULL;
    PitrNet *n = NULL;
    Progress *pg = NULL;
    DefineCtx dx = {.dbs = dbs};
    PitrGroup g;
    MdbGtidSet state, target;
    char file[BINLOG_FILE_MAX];
    bool skip = false, reached;
    double t0 = clock_mono_s();
    int rc;

    *out = NULL;
    memset(st, 0, sizeof st[0]);
    memset(&g, 0, sizeof g);
    rc = mdb_gtid_set_parse(plan->snap_gtid, &state, err);
    if (!rc) rc = mdb_gtid_set_parse(plan->target_gtid, &target, err);
    if (rc) return err_wrap(err, "net apply: GTID positions of the plan");
    reached = mdb_gtid_set_eq(&state, &target);
    snprintf(file, sizeof file, "%s", binlog_catalog_at(c, plan->seg_from)->file);

    rc = mdb_connect(conn, MDB_CONNECT_CLIENT, MDB_CLIENT_TIMEOUT_S, &dx.m, err);
    if (rc) {
        err_wrap(err, "net apply: connect to read the tables' definitions");
        goto out;
    }
    rc = pitr_net_open(tmpdir, define, &dx, &n, err);
    if (rc) goto out;
    rc = rst_pitr_source_open(r, c, plan->seg_from, plan->seg_to, plan->snap_pos, &src, err);
    if (rc) {
        err_wrap(err, "net apply: read the archive");
        goto out;
    }
    pg = progress_new("read+fold", plan->seg_bytes, 0, progress);
    while (!reached) {
        const uint8_t *ev = NULL;
        size_t len = 0;
        PitrFeed f;
        uint64_t pos;
        if (rst_pitr_signal()) {   /* docs/OPERATIONS.md "Interrupting a restore" */
            rc = err_set(err, ERR_INTERRUPTED, "read+fold stopped in %s after %" PRIu64 " transactions "
                         "(%.1f of %.1f MB of the range read); nothing beyond the load was written", file,
                         st->transactions, (double)st->bytes / 1e6, (double)plan->seg_bytes / 1e6);
            goto out;
        }
        rc = rst_pitr_source_next(src, &ev, &len, err);
        if (rc) {
            err_wrap(err, "net apply: read the archive");
            goto out;
        }
        if (!ev) {
            rc = err_set(err, ERR_CORRUPT, "net apply: the archive ended before the target %s", plan->target_gtid);
            goto out;
        }
        st->bytes += len;
        if (len < MDB_HDR_LEN) {
            rc = err_set(err, ERR_CORRUPT, "net apply: short event (%zu bytes) in %s", len, file);
            goto out;
        }
        pos = mdb_le32(ev + 13) >= len ? mdb_le32(ev + 13) - len : 0;
        rc = pitr_group_feed(&g, ev, len, &f, err);
        if (rc) {
            err_wrap(err, "%s:%" PRIu64, file, pos);
            goto out;
        }
        if (f == PITR_FEED_BEGIN) skip = g.gtid.seq <= seq_in(&state, g.gtid.domain);
        if (!(skip && f != PITR_FEED_OTHER)) {
            if (is_rows_event(ev[4]) && len > st->max_rows_event) st->max_rows_event = len;
            rc = pitr_net_feed(n, file, pos, ev, len, err);
            if (rc) goto out;
        }
        if (ev[4] == MDB_EV_ROTATE) {
            size_t end = pitr_body_end(&g, len);
            if (end > MDB_HDR_LEN + 8 && end - MDB_HDR_LEN - 8 < sizeof file)
                snprintf(file, sizeof file, "%.*s", (int)(end - MDB_HDR_LEN - 8), (const char *)ev + MDB_HDR_LEN + 8);
        }
        if (f == PITR_FEED_END && !skip) {
            mdb_gtid_set_update(&state, &g.gtid);
            st->transactions++;
            reached = mdb_gtid_set_eq(&state, &target);
        }
        if (f == PITR_FEED_END) skip = false;
        progress_add(pg, len, f == PITR_FEED_END ? 1 : 0);
    }
    rc = pitr_net_finish(n, err);
    if (rc) goto out;
    *out = n;
    n = NULL;
out:
    progress_done(pg);
    rst_pitr_source_close(src);
    pitr_net_close(n);
    mdb_close(dx.m);
    st->seconds = clock_mono_s() - t0;
    return rc;
}
