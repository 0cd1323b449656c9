/* dump_point.c: one commit point shared by every dump connection, and the
 * exact binlog coordinates of that point.
 *
 * Invariants:
 *  1. Lock-free first (MariaDB with binlog): each connection runs START
 *     TRANSACTION WITH CONSISTENT SNAPSHOT and reads Binlog_snapshot_file/
 *     _position, which MariaDB takes under the same mutex as the InnoDB
 *     read view. Equal positions on every connection mean equal sets of
 *     committed binlogged transactions: the point is shared without any
 *     lock. The GTID position is BINLOG_GTID_POS(file, pos).
 *  2. Otherwise (writes kept moving the point, MySQL, non-transactional
 *     tables, force_lock) a global lock blocks commits for the few
 *     milliseconds it takes to start every snapshot: BACKUP STAGE
 *     BLOCK_COMMIT on MariaDB (running statements are not waited for),
 *     FLUSH TABLES WITH READ LOCK elsewhere. Its hold time is measured.
 *  3. With non-transactional tables (hold): the lock also blocks their
 *     writes (BACKUP STAGE FLUSH + BLOCK_DDL) and stays held until the
 *     caller has dumped them and calls dump_point_release.
 *  4. The lock lives on a connection of its own: BACKUP STAGE END commits
 *     the transaction of the session that runs it, which would silently
 *     end a dump connection's snapshot. */
#include <mysql.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "engine/common/clock.h"
#include "engine/source/dump/dump_int.h"

static double now_ms(void) { return clock_mono_s() * 1e3; }

/* Two-column result (name, value) rows: fill file/pos from SHOW STATUS or
 * SHOW MASTER STATUS. */
static int binlog_status(MYSQL *m, bool master, char file[256], uint64_t *pos, Err *err)
{
    const char *sql = master ? "SHOW MASTER STATUS" : "SHOW STATUS LIKE 'binlog_snapshot_%'";
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;

    file[0] = '\0';
    *pos = 0;
    if (mysql_query(m, sql) || !(res = mysql_store_result(m)))
        return mdb_err(m, err, master ? "read binlog position (SHOW MASTER STATUS)"
                                         : "read binlog snapshot position");
    while ((row = mysql_fetch_row(res))) {
        if (master) {
            snprintf(file, 256, "%s", row[0] ? row[0] : "");
            *pos = row[1] ? strtoull(row[1], NULL, 10) : 0;
            break;
        }
        if (!strcasecmp(row[0], "Binlog_snapshot_file")) snprintf(file, 256, "%s", row[1]);
        if (!strcasecmp(row[0], "Binlog_snapshot_position")) *pos = strtoull(row[1], NULL, 10);
    }
    mysql_free_result(res);
    if (!file[0])
        return err_set(err, ERR_DB, "server reported no binlog position (is log_bin on?)");
    return 0;
}

static int start_snapshot(MYSQL *m, Err *err)
{
    if (mdb_exec(m, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", err))
        return err->code;
    return mdb_exec(m, "START TRANSACTION WITH CONSISTENT SNAPSHOT", err);
}

void dump_point_clear(DumpPoint *p)
{
    mdb_close(p->lockc);
    free(p->gtid);
    memset(p, 0, sizeof *p);
}

int dump_point_release(DumpPoint *p, Err *err)
{
    int rc = 0;
    if (p->locked) {
        rc = mdb_exec(p->lockc, p->lock_is_ftwrl ? "UNLOCK TABLES" : "BACKUP STAGE END", err);
        p->locked = false;
        p->lock_ms = now_ms() - p->lock_ms;   /* lock_ms held the start time while locked */
    }
    mdb_close(p->lockc);
    p->lockc = NULL;
    if (rc) return err_wrap(err, "release the global lock");
    return 0;
}

static int take_lock_free(MYSQL **conns, unsigned n, DumpPoint *out, bool *ok, Err *err)
{
    char f0[256], f[256];
    uint64_t p0 = 0, p = 0;
    int rc;

    *ok = false;
    for (unsigned i = 0; i < n; i++)
        if ((rc = start_snapshot(conns[i], err))) return rc;
    if ((rc = binlog_status(conns[0], false, f0, &p0, err))) return rc;
    for (unsigned i = 1; i < n; i++) {
        if ((rc = binlog_status(conns[i], false, f, &p, err))) return rc;
        if (strcmp(f, f0) || p != p0) {
            for (unsigned k = 0; k < n; k++)
                if ((rc = mdb_exec(conns[k], "ROLLBACK", err))) return rc;
            return 0;
        }
    }
    snprintf(out->file, sizeof out->file, "%s", f0);
    out->pos = p0;
    *ok = true;
    return 0;
}

int dump_point_take(const MdbConn *c, MYSQL **conns, unsigned n, bool hold, bool force_lock,
                    unsigned lock_wait_timeout, DumpPoint *out, Err *err)
{
    MYSQL *m0 = conns[0], *lk = NULL;
    char *v = NULL, sql[400];
    bool mariadb = strstr(mysql_get_server_info(m0), "MariaDB") != NULL;
    double t_lock = 0;
    int rc = 0;

    memset(out, 0, sizeof *out);
    if ((rc = mdb_value(m0, "SELECT @@log_bin", &v, err))) goto out;
    out->has_binlog = v && !strcmp(v, "1");
    free(v);
    v = NULL;

    if (out->has_binlog && mariadb && !hold && !force_lock) {
        for (int attempt = 0; attempt < 5; attempt++) {
            bool ok = false;
            if ((rc = take_lock_free(conns, n, out, &ok, err))) goto out;
            if (!ok) continue;
            snprintf(sql, sizeof sql, "SELECT BINLOG_GTID_POS('%s', %llu)", out->file,
                     (unsigned long long)out->pos);
            if (strchr(out->file, '\'')) {
                rc = err_set(err, ERR_DB, "unexpected binlog file name %s", out->file);
                goto out;
            }
            if ((rc = mdb_value(m0, sql, &out->gtid, err))) goto out;
            if (!out->gtid) out->gtid = strdup("");
            snprintf(out->method, sizeof out->method, "%s", n == 1 ? "snapshot" : "snapshot-match");
            goto out;
        }
    }

    /* the short global lock, on a connection of its own */
    if ((rc = mdb_connect(c, MDB_CONNECT_CLIENT, MDB_CLIENT_TIMEOUT_S, &out->lockc, err))) goto out;
    lk = out->lockc;
    snprintf(sql, sizeof sql, "SET SESSION lock_wait_timeout = %u",
             lock_wait_timeout ? lock_wait_timeout : 10);
    if ((rc = mdb_exec(lk, sql, err))) goto out;
    if (mariadb) {
        rc = mdb_exec(lk, "BACKUP STAGE START", err);
        if (!rc && hold) rc = mdb_exec(lk, "BACKUP STAGE FLUSH", err);
        if (!rc && hold) rc = mdb_exec(lk, "BACKUP STAGE BLOCK_DDL", err);
        if (!rc) rc = mdb_exec(lk, "BACKUP STAGE BLOCK_COMMIT", err);
        if (rc) {
            Err e2;
            mdb_exec(lk, "BACKUP STAGE END", &e2);
            goto lock_failed;
        }
        snprintf(out->method, sizeof out->method, "backup-stage");
    } else {
        if ((rc = mdb_exec(lk, "FLUSH TABLES WITH READ LOCK", err))) goto lock_failed;
        out->lock_is_ftwrl = true;
        snprintf(out->method, sizeof out->method, "ftwrl");
    }
    out->locked = true;
    t_lock = now_ms();
    out->lock_ms = t_lock;   /* start time while held (see dump_point_release) */
    for (unsigned i = 0; i < n; i++)
        if ((rc = start_snapshot(conns[i], err))) goto out;
    if (out->has_binlog) {
        if ((rc = binlog_status(m0, !mariadb, out->file, &out->pos, err))) goto out;
        rc = mdb_value(m0, mariadb ? "SELECT @@gtid_binlog_pos" : "SELECT @@gtid_executed",
                          &out->gtid, err);
        if (rc) goto out;
    }
    if (!out->gtid) out->gtid = strdup("");
    if (!hold) rc = dump_point_release(out, err);
    goto out;

lock_failed:
    if (err->code == ERR_LOCKED)
        err_wrap(err, "global lock not granted within %u s (a long DDL or commit is running; "
                      "raise db_lock_wait_timeout or retry)",
                 lock_wait_timeout ? lock_wait_timeout : 10);
    else if (err->code == ERR_PERM)
        err_wrap(err, "taking the global lock needs the RELOAD privilege");
out:
    if (rc) {
        Err e2;
        dump_point_release(out, &e2);
        free(out->gtid);
        out->gtid = NULL;
        return err_wrap(err, "establish the consistent point");
    }
    return 0;
}
