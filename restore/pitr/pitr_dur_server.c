/* pitr_dur_server.c: the durability settings on the target server: relax
 * them for the replay, put them back (only while they still hold the value
 * tidemark set: pitr_durability.c, invariant 2) and flush the logs. */
#include <errno.h>
#include <mysql.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore/pitr/pitr_dur_int.h"
#include "restore/pitr/pitr_int.h"

/* ---- putting the settings back --------------------------------------------------- */

/* For each variable changed (orig >= 0): set it back when it still holds
 * `set`. Then make everything committed so far durable, and remove the file.
 *
 * Why these statements (checked with strace on MariaDB 10.11.19):
 *  - FLUSH NO_WRITE_TO_BINLOG ENGINE LOGS makes InnoDB write its log buffer
 *    and fdatasync ib_logfile0 up to the current LSN, but durably only when
 *    innodb_flush_log_at_trx_commit is 1 again (InnoDB's flush_logs uses the
 *    setting), hence after the SET. Plain FLUSH ENGINE LOGS would also write
 *    a statement (with a GTID) to the target's binlog; NO_WRITE_TO_BINLOG
 *    does not, but then does not sync the binlog either.
 *  - FLUSH BINARY LOGS closes the current binlog file with an fdatasync (and
 *    the index), opening the next one: every replayed transaction the binlog
 *    holds (log_slave_updates) is then on disk. It is never binlogged and
 *    runs only when sync_binlog was relaxed and log_bin is on.
 * Both need RELOAD, which the plan checked. */
int pitr_dur_put_back(const MdbConn *conn, int flush_orig, int flush_set, int sync_orig, int sync_set,
                    bool log_bin, const char *file, char *done, size_t cap, Err *err)
{
    MYSQL *m = NULL;
    char cols[2][600], sql[160];
    size_t n = 0;
    int rc;

    done[0] = 0;
    if ((rc = mdb_connect(conn, MDB_CONNECT_CLIENT, MDB_CLIENT_TIMEOUT_S, &m, err))) goto out;
    if ((rc = pitr_dur_fetch_row(m, "SELECT @@global.innodb_flush_log_at_trx_commit, @@global.sync_binlog", cols, 2, err)))
        goto out;
    if (flush_orig >= 0) {
        if (atoi(cols[0]) == flush_set) {
            snprintf(sql, sizeof sql, "SET GLOBAL innodb_flush_log_at_trx_commit = %d", flush_orig);
            if ((rc = mdb_exec(m, sql, err))) goto out;
            n += (size_t)snprintf(done + n, cap - n, "innodb_flush_log_at_trx_commit=%d", flush_orig);
        } else {
            n += (size_t)snprintf(done + n, cap - n, "innodb_flush_log_at_trx_commit left at %.20s (changed "
                                  "since tidemark set it)", cols[0]);
        }
    }
    if (sync_orig >= 0 && n < cap) {
        if (atoi(cols[1]) == sync_set) {
            snprintf(sql, sizeof sql, "SET GLOBAL sync_binlog = %d", sync_orig);
            if ((rc = mdb_exec(m, sql, err))) goto out;
            n += (size_t)snprintf(done + n, cap - n, "%ssync_binlog=%d", n ? ", " : "", sync_orig);
        } else {
            n += (size_t)snprintf(done + n, cap - n, "%ssync_binlog left at %.20s (changed since tidemark set "
                                  "it)", n ? ", " : "", cols[1]);
        }
    }
    if ((rc = mdb_exec(m, "FLUSH NO_WRITE_TO_BINLOG ENGINE LOGS", err))) goto out;
    if (sync_orig >= 0 && log_bin && (rc = mdb_exec(m, "FLUSH BINARY LOGS", err))) goto out;
    if (file && file[0] && unlink(file) != 0 && errno != ENOENT) {
        rc = err_sys(err, errno, "remove durability state file %s", file);
        goto out;
    }
    if (file && file[0]) pitr_dur_fsync_dir_of(file);
    rc = 0;
out:
    mdb_close(m);
    if (rc) {
        char fix[200];
        size_t k = 0;
        fix[0] = 0;
        if (flush_orig >= 0) k += (size_t)snprintf(fix, sizeof fix, "SET GLOBAL innodb_flush_log_at_trx_commit=%d; ", flush_orig);
        if (sync_orig >= 0 && k < sizeof fix) snprintf(fix + k, sizeof fix - k, "SET GLOBAL sync_binlog=%d; ", sync_orig);
        err_wrap(err, "put back the target's durability settings (%s%s; the next restore against this "
                 "server does it from %s)", fix, "then FLUSH ENGINE LOGS", file && file[0] ? file : "-");
    }
    return rc;
}

int pitr_dur_put_back_d(RstPitrDurability *d, char *done, size_t cap, Err *err)
{
    return pitr_dur_put_back(d->conn, d->set_flush ? d->flush_orig : -1, 2, d->set_sync ? d->sync_orig : -1, 0,
                    d->log_bin, d->state_file, done, cap, err);
}

int rst_pitr_durability_relax(const MdbConn *conn, RstPitrDurability *d, Err *err)
{
    MYSQL *m = NULL;
    Err e2;
    char done[300];
    bool own_guard = !d->guard;
    int rc;

    if (!d->relax) return 0;
    d->conn = conn;
    if ((rc = mdb_connect(conn, MDB_CONNECT_CLIENT, MDB_CLIENT_TIMEOUT_S, &m, err))) return err_wrap(err, "target server");
    if ((rc = pitr_dur_state_write(d, err))) goto out;   /* invariant 1: the file first */
    if (own_guard && (rc = pitr_dur_guard_start(d, true, err))) goto out;
    pthread_mutex_lock(&d->guard->mu);
    d->relaxed = true;
    if (d->set_flush) rc = mdb_exec(m, "SET GLOBAL innodb_flush_log_at_trx_commit = 2", err);
    if (!rc && d->set_sync) rc = mdb_exec(m, "SET GLOBAL sync_binlog = 0", err);
    pthread_mutex_unlock(&d->guard->mu);
    if (rc) {
        err_wrap(err, "relax the target's durability for the replay");
        err_clear(&e2);
        if (pitr_dur_put_back_d(d, done, sizeof done, &e2) == 0) d->relaxed = false;   /* invariant 2 skips the unset one */
        else snprintf(d->restore_error, sizeof d->restore_error, "%.599s", e2.msg);
        if (own_guard) pitr_dur_guard_stop(d);
    }
out:
    if (rc && !d->relaxed) unlink(d->state_file);
    mdb_close(m);
    return rc;
}

int rst_pitr_durability_restore(RstPitrDurability *d, Err *err)
{
    char done[300];
    int rc = 0;

    if (!d->guard) return 0;
    pthread_mutex_lock(&d->guard->mu);
    if (d->relaxed) {
        rc = pitr_dur_put_back_d(d, done, sizeof done, err);
        if (!rc) {
            d->relaxed = false;
            d->restored = true;
        } else {
            snprintf(d->restore_error, sizeof d->restore_error, "%.599s", err->msg);
        }
    }
    pthread_mutex_unlock(&d->guard->mu);
    pitr_dur_guard_stop(d);
    return rc;
}

