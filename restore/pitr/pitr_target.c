/* pitr_target.c: is the target server fit for a restore (and a replay)?
 * Checked before anything is loaded, so a refusal leaves it untouched.
 * Invariant: read-only: SELECTs and SHOW statements only. */
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restore/db/rst_db.h"
#include "restore/pitr/pitr_int.h"

static void tnote(RstPitrTargetInfo *t, const char *s)
{
    size_t n = strlen(t->notes);
    snprintf(t->notes + n, sizeof t->notes - n, "%s\n", s);
}

static int count_tables(MYSQL *m, const char *db, long *out, Err *err)
{
    char esc[300], sql[400], *v = NULL;
    int rc;
    if (strlen(db) > 128) return err_set(err, ERR_INVALID, "database name too long: %s", db);
    mysql_real_escape_string(m, esc, db, strlen(db));
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '%s'", esc);
    rc = mdb_value(m, sql, &v, err);
    if (rc) return rc;
    *out = v ? atol(v) : 0;
    free(v);
    return 0;
}

int rst_pitr_target_check(const MdbConn *conn, const json_t *item, const char *target_db,
                          bool drop_existing, bool replay, uint32_t archive_server_id,
                          RstPitrTargetInfo *out, Err *err)
{
    MYSQL *m = NULL;
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    char *v = NULL;
    const json_t *dbs = json_object_get(item, "databases"), *jd;
    size_t i;
    int rc;

    memset(out, 0, sizeof *out);
    rc = mdb_connect(conn, MDB_CONNECT_CLIENT, MDB_CLIENT_TIMEOUT_S, &m, err);
    if (rc) {
        err_wrap(err, "target server");
        goto out;
    }
    if ((rc = mdb_value(m, "SELECT @@version", &v, err))) goto out;
    snprintf(out->version, sizeof out->version, "%s", v ? v : "?");
    free(v);
    v = NULL;
    if ((rc = mdb_value(m, "SELECT @@server_id", &v, err))) goto out;
    out->server_id = v ? (uint32_t)strtoul(v, NULL, 10) : 0;
    free(v);
    v = NULL;
    if ((rc = mdb_value(m, "SELECT CONCAT(@@log_bin, @@log_slave_updates)", &v, err))) goto out;
    out->log_bin = v && v[0] == '1';
    out->log_slave_updates = v && v[0] && v[1] == '1';
    free(v);
    v = NULL;

    if (replay) {
        unsigned maj = 0, min = 0;
        if (!strstr(out->version, "MariaDB")) {
            rc = err_set(err, ERR_UNSUPPORTED, "target server %s is not MariaDB: the replay needs MariaDB "
                         "GTID replication (fallback: `tidemark binlog export` + mariadb-binlog)", out->version);
            goto out;
        }
        sscanf(out->version, "%u.%u", &maj, &min);
        if (target_db && (maj < 10 || (maj == 10 && min < 11))) {
            rc = err_set(err, ERR_UNSUPPORTED, "target server %s: --target-db needs MariaDB 10.11 or later "
                         "(a dynamic replicate_rewrite_db per connection)", out->version);
            goto out;
        }
        if (mysql_query(m, "SHOW ALL SLAVES STATUS") || !(res = mysql_store_result(m))) {
            rc = mdb_err(m, err, "target server: SHOW ALL SLAVES STATUS (the account needs the "
                            "REPLICATION SLAVE ADMIN / SUPER and SLAVE MONITOR privileges to drive a replay)");
            goto out;
        }
        MYSQL_FIELD *f = mysql_fetch_fields(res);
        unsigned nf = mysql_num_fields(res);
        while ((row = mysql_fetch_row(res))) {
            const char *name = "", *io = "", *sql = "";
            for (unsigned k = 0; k < nf; k++) {
                if (!strcmp(f[k].name, "Connection_name") && row[k]) name = row[k];
                if (!strcmp(f[k].name, "Slave_IO_Running") && row[k]) io = row[k];
                if (!strcmp(f[k].name, "Slave_SQL_Running") && row[k]) sql = row[k];
            }
            if (strcmp(name, "tidemark_replay") != 0 && (!strcmp(io, "Yes") || !strcmp(sql, "Yes"))) {
                rc = err_set(err, ERR_INVALID, "target server runs replication connection '%s': the "
                             "replay sets the global gtid_slave_pos, which needs every replication "
                             "thread stopped (STOP ALL SLAVES), or restore to another server", name);
                goto out;
            }
        }
        if (out->server_id == archive_server_id) {
            char s[300];
            snprintf(s, sizeof s, "the archived events carry the target's own server_id %u: they are "
                     "sent with server id 4294967000 (a replica skips events with its own id)",
                     out->server_id);
            tnote(out, s);
        }
        if (out->log_bin && out->log_slave_updates)
            tnote(out, "the target has log_bin and log_slave_updates on: the replayed transactions "
                       "are also written to its binlog");
    }
    if ((rc = rst_db_names_check(m, item, NULL, target_db, err))) goto out;   /* Dup and dup */
    json_array_foreach(dbs, i, jd) {
        const char *name = json_string_value(json_object_get(jd, "name"));
        const char *tdb = target_db ? target_db : name;
        long nt = 0;
        if (!tdb) continue;
        if ((rc = count_tables(m, tdb, &nt, err))) goto out;
        if (nt > 0 && !drop_existing) {
            rc = err_set(err, ERR_EXISTS, "target database %s is not empty (%ld tables): give "
                         "--target-db NEW_NAME, or --drop-existing to replace it", tdb, nt);
            goto out;
        }
        if (nt > 0) {
            char s[300];
            snprintf(s, sizeof s, "database %s (%ld tables) will be dropped and replaced (--drop-existing)", tdb, nt);
            tnote(out, s);
        }
    }
    rc = 0;
out:
    if (res) mysql_free_result(res);
    free(v);
    mdb_close(m);
    return rc;
}
