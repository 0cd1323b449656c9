/* pitr_restore.c: carry out a plan: load the snapshot (sql_log_bin=0,
 * verified by content hash; when the net path may run, the archive is read
 * and folded on its own thread while that verification runs, and joined
 * before anything else is written), bring it to the target GTID either as
 * the net change per primary key in bulk (restore/net, read by pitr_fold.c) or transaction by
 * transaction through the target's own replica SQL thread (restore/replay),
 * check the position reached, and prove the result against a later
 * snapshot when the target is exactly its coordinates.
 * Invariant: the replay connection is removed from the target whatever
 * happens (rst_replay_run guarantees it), and durability settings relaxed
 * for the replay or the apply are put back before rst_pitr_run returns (or,
 * when the server cannot be reached, recorded for the next run:
 * pitr_durability.c); a failed step ends the run; with --apply net nothing
 * beyond the load is written unless the net path is possible. From the end
 * of the load's verification to the end of the replay or apply the
 * durability guard takes SIGINT/SIGTERM (relaxed or not): the fold, the
 * apply and the replay stop, clean up and the run fails ERR_INTERRUPTED
 * (exit 130) saying where (docs/OPERATIONS.md "Interrupting a restore"). */
#include <mysql.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/common/clock.h"
#include "engine/common/log.h"
#include "restore/db/rst_db.h"
#include "restore/pitr/pitr_fold.h"
#include "restore/pitr/pitr_int.h"
#include "restore/pitr/pitr_qfilter.h"
#include "restore/replay/rst_replay.h"

/* "db1,db2" of the item's databases (through target_db). */
static int db_list(const json_t *item, const char *target_db, char *out, size_t cap, Err *err)
{
    const json_t *jd;
    size_t i, n = 0;
    out[0] = 0;
    json_array_foreach(json_object_get(item, "databases"), i, jd) {
        const char *name = target_db ? target_db : json_string_value(json_object_get(jd, "name"));
        if (!name) continue;
        if (n + strlen(name) + 2 > cap) return err_set(err, ERR_INVALID, "too many databases to replay");
        n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? "," : "", name);
        if (target_db) break;
    }
    return 0;
}

static const char *single_db(const json_t *item)
{
    const json_t *dbs = json_object_get(item, "databases");
    if (json_array_size(dbs) != 1) return NULL;
    return json_string_value(json_object_get(json_array_get(dbs, 0), "name"));
}

/* Test hook (tests/integration/pitr_durability.sh): with
 * TIDEMARK_TEST_PAUSE_REPLAY="EVENTS:MS" the event source sleeps MS once
 * after EVENTS events, so a test can kill tidemark in the middle of a replay
 * deterministically. */
typedef struct PausedSource {
    RstPitrSource *src;
    unsigned long long events, after;
    long ms;
    bool paused;
} PausedSource;

static int next_paused(void *ctx, const uint8_t **ev, size_t *len, Err *err)
{
    PausedSource *p = ctx;
    if (!p->paused && p->events++ == p->after) {
        p->paused = true;
        for (long left = p->ms; left > 0 && !rst_pitr_signal(); left -= 50) {   /* a signal ends it */
            struct timespec ts = {0, (left < 50 ? left : 50) * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    return rst_pitr_source_next(p->src, ev, len, err);
}

/* The guarded stage a signal interrupts. */
typedef enum Stage { STAGE_NONE, STAGE_FOLD, STAGE_NET, STAGE_TX } Stage;

/* End the guarded window: put relaxed durability settings back whatever
 * happened and stop the guard; a failure to put them back fails the run
 * (its message names the SQL), unless the step failed first: then
 * dur->restore_error says it and the CLI prints both. A signal the guard
 * took makes the run ERR_INTERRUPTED, saying in which stage and where. */
static int guard_end(RstPitrDurability *dur, int rc, Stage stage, const RstPitrPlan *plan,
                     const RstPitrResult *res, Err *err)
{
    char msg[ERR_MSG_MAX], put[700] = "";
    const char *sig;
    bool relaxed;
    Err e2;
    int rc2;
    if (!dur || !dur->guard) return rc;
    relaxed = dur->relaxed;
    err_clear(&e2);
    rc2 = rst_pitr_durability_restore(dur, &e2);
    if (rc2) snprintf(put, sizeof put, "; %.680s", e2.msg);
    else if (relaxed) snprintf(put, sizeof put, "; durability settings put back");
    if (!dur->signal) {
        if (rc2 && !rc) rc = err_set(err, rc2, "%s", e2.msg);
        return rc;
    }
    sig = dur->signal == SIGINT ? "SIGINT" : "SIGTERM";
    snprintf(msg, sizeof msg, "%s", rc ? err->msg : "");
    if (stage == STAGE_TX)
        rc = err_set(err, ERR_INTERRUPTED, "interrupted by %s during the replay (the target server stopped "
                     "at %s, short of %s)%s", sig, res->reached_gtid[0] ? res->reached_gtid : "?",
                     plan->target_gtid, put);
    else if (rc == ERR_INTERRUPTED)
        rc = err_set(err, ERR_INTERRUPTED, "interrupted by %s during the %s: %s%s", sig,
                     stage == STAGE_NET ? "bulk apply" : "read+fold of the archive", msg, put);
    else
        rc = err_set(err, ERR_INTERRUPTED, "interrupted by %s during the %s (%s%s)%s", sig,
                     stage == STAGE_NET ? "bulk apply" : "read+fold of the archive",
                     rc ? "it failed: " : "it had finished at ",
                     rc ? msg : (res->reached_gtid[0] ? res->reached_gtid : "?"), put);
    return rc;
}

#define ER_XAER_NOTA 1397

/* Whether the GTID "d-s-n" is at or before the position at (in its domain). */
static bool applied_at(const MdbGtidSet *at, const char *gtid)
{
    MdbGtid g;
    Err e;
    if (mdb_gtid_parse(gtid, &g, &e)) return false;
    for (size_t k = 0; k < at->n; k++)
        if (at->g[k].domain == g.domain && at->g[k].seq >= g.seq) return true;
    return false;
}

/* After a replay that stopped between an XA PREPARE and its XA COMMIT: the
 * target holds the prepared transaction (and its locks), which at the target
 * point was not committed. Roll it back (unlogged) so the target holds
 * exactly what was committed, and say so. After a failed replay (failed
 * set) the same, so the next --drop-existing does not wait on its locks.
 * Only transactions whose XA PREPARE the target applied (gtid_slave_pos) are
 * rolled back; one the server does not list within 10 s is an error, unless
 * the replay failed. */
static int rollback_open_xa(PitrQFilter *qf, const MdbConn *conn, bool failed, Err *err)
{
    MYSQL *m = NULL;
    const char *xid, *gtid, *ended;
    char sql[RST_NET_SQL_XID_MAX + 40], *pos = NULL;
    MdbGtidSet at;
    int rc = 0;
    if (!pitr_qfilter_xa(qf, 0, &xid, &gtid, &ended)) return 0;
    if ((rc = mdb_connect(conn, MDB_CONNECT_CLIENT, MDB_CLIENT_TIMEOUT_S, &m, err))) return err_wrap(err, "roll back the prepared XA transactions");
    rc = mdb_value(m, "SELECT @@global.gtid_slave_pos", &pos, err);
    if (!rc) rc = mdb_gtid_set_parse(pos ? pos : "", &at, err);
    free(pos);
    if (rc) {
        err_wrap(err, "roll back the prepared XA transactions: the position the replay reached");
        goto out;
    }
    if (mysql_query(m, "SET SESSION sql_log_bin = 0")) {
        rc = mdb_err(m, err, "roll back the prepared XA transactions: SET sql_log_bin = 0");
        goto out;
    }
    for (size_t i = 0; pitr_qfilter_xa(qf, i, &xid, &gtid, &ended); i++) {
        if (strspn(xid, "Xx'0123456789abcdefABCDEF,-") != strlen(xid)) {
            rc = err_set(err, ERR_UNSUPPORTED, "the target point lies after the XA PREPARE of %s (GTID %s) "
                         "and before its XA COMMIT: the target holds it prepared; its id is not one "
                         "tidemark can roll back safely (XA ROLLBACK it by hand)", xid, gtid);
            goto out;
        }
        if (!applied_at(&at, gtid) || (ended[0] && applied_at(&at, ended)))
            continue;   /* the target did not prepare it, or also ended it */
        snprintf(sql, sizeof sql, "XA ROLLBACK %s", xid);
        /* the stopped SQL thread hands its prepared transaction over to the
         * server (XA RECOVER lists it) a moment after STOP SLAVE returns */
        for (int tries = 0; mysql_query(m, sql) && mysql_errno(m) == ER_XAER_NOTA && tries < 100; tries++) {
            struct timespec ts = {0, 100 * 1000000L};
            nanosleep(&ts, NULL);
        }
        if (mysql_errno(m) == ER_XAER_NOTA && failed) continue;
        if (mysql_errno(m)) {
            rc = err_set(err, ERR_DB, "target server: XA ROLLBACK %s (prepared by the replay at GTID %s, the "
                         "target point lies before its XA COMMIT): %s (error %u)", xid, gtid, mysql_error(m),
                         mysql_errno(m));
            goto out;
        }
        if (failed)
            log_warn("replay: the XA transaction %s the failed replay prepared (GTID %s) was rolled back on "
                     "the target", xid, gtid);
        else
            log_warn("replay: the target point lies between the XA PREPARE of %s (GTID %s) and its XA COMMIT: "
                     "not committed at that point, so the prepared transaction was rolled back on the target",
                     xid, gtid);
    }
out:
    mdb_close(m);
    return rc;
}

/* The SQL-thread path: the archive streamed to the target's replica
 * through the statement filter (pitr_qfilter.h). */
static int run_transactions(Repo *r, const BinlogCatalog *c, const RstPitrPlan *plan, const MdbConn *conn,
                            const RstPitrRunOptions *opt, RstPitrResult *res, Err *err)
{
    RstReplayTarget t;
    RstReplayStats st;
    RstPitrSource *src = NULL;
    PitrQFilter *qf = NULL;
    RstNetDbs adbs;
    char dbs[600], from_db[200];
    const BinlogSegInfo *first = binlog_catalog_at(c, plan->seg_from);
    int rc;

    memset(&t, 0, sizeof t);
    memset(&st, 0, sizeof st);
    res->applied = RST_PITR_APPLY_TRANSACTIONS;
    if (!conn->host && !conn->socket)
        return err_set(err, ERR_INVALID, "the replay needs the target's --host or --socket (an "
                       "option file alone is not enough)");
    t.db = *conn;
    t.start_gtid = plan->snap_gtid;
    if (opt->target_db) {
        const char *d = single_db(plan->item);
        if (!d) return err_set(err, ERR_INVALID, "--target-db needs a snapshot of a single database");
        snprintf(from_db, sizeof from_db, "%s", d);
        if (strcmp(from_db, opt->target_db) != 0) {
            t.rewrite_db_from = from_db;
            t.rewrite_db_to = opt->target_db;
        }
    }
    rc = db_list(plan->item, opt->target_db, dbs, sizeof dbs, err);
    if (rc) return rc;
    t.do_db = dbs;
    t.first_log_name = first->file;
    t.listen_host = opt->listen_host;
    t.advertise_host = opt->advertise_host;
    t.timeout_s = opt->timeout_s;
    t.progress = opt->progress;
    RstPitrDurability *dur = opt->durability && opt->durability->relax ? opt->durability : NULL;
    const char *pause = getenv("TIDEMARK_TEST_PAUSE_REPLAY");
    PausedSource ps;
    memset(&ps, 0, sizeof ps);
    if (pause) {
        ps.after = strtoull(pause, NULL, 10);
        ps.ms = strchr(pause, ':') ? strtol(strchr(pause, ':') + 1, NULL, 10) : 0;
    }
    if (rst_pitr_signal()) return err_set(err, ERR_INTERRUPTED, "stopped before the replay started");
    if ((rc = rst_net_dbs(plan->item, opt->target_db, &adbs, err))) return err_wrap(err, "replay");
    if (dur && (rc = rst_pitr_durability_relax(conn, dur, err))) return err_wrap(err, "replay");
    rc = rst_pitr_source_open(r, c, plan->seg_from, plan->seg_to, plan->snap_pos, &src, err);
    if (!rc) {
        ps.src = src;
        rc = pitr_qfilter_open(&adbs, plan->snap_gtid, plan->target_gtid, pause ? next_paused : rst_pitr_source_next,
                               pause ? (void *)&ps : src, &qf, err);
        if (!rc) pitr_qfilter_xa_noop(qf, plan->range.xa_noop);
    }
    if (rc) {
        err_wrap(err, "replay");
        rst_pitr_source_close(src);
    } else {
        rc = rst_replay_run(&t, pitr_qfilter_next, qf, plan->target_gtid, &st, err);
        if (!rc) {
            rc = rollback_open_xa(qf, conn, false, err);
        } else {
            Err e2;
            if (rollback_open_xa(qf, conn, true, &e2)) log_warn("replay: %s", e2.msg);
        }
        pitr_qfilter_close(qf);
        rst_pitr_source_close(src);
        res->transactions = st.transactions;
        res->replay_bytes = st.bytes;
        res->replay_s = st.seconds;
        snprintf(res->reached_gtid, sizeof res->reached_gtid, "%s", st.reached_gtid);
        if (rc) err_wrap(err, "replay to %s", plan->target_gtid);
    }
    return rc;
}

/* The read + fold of the archive on its own thread (its own connection for
 * the define callback), started right after the tables are loaded so that
 * it runs while the load is verified. */
typedef struct FoldJob {
    Repo *r;
    const BinlogCatalog *c;
    const RstPitrPlan *plan;
    const MdbConn *conn;
    const RstNetDbs *dbs;
    const char *tmpdir;
    bool progress;
    RstNet *net;             /* the result (rc 0) */
    PitrFoldStats st;
    double t0, t1;            /* monotonic start and end */
    int rc;
    Err err;
    pthread_t th;
    bool started;
} FoldJob;

static void *fold_main(void *arg)
{
    FoldJob *j = arg;
    j->t0 = clock_mono_s();
    j->rc = pitr_apply_fold(j->r, j->c, j->plan, j->conn, j->dbs, j->tmpdir, j->progress, &j->net, &j->st, &j->err);
    j->t1 = clock_mono_s();
    return NULL;
}

/* After the fold thread ended: whether the net path may run: *ok, or the
 * reason in res->apply_reason. On success with *ok, *out holds the folded
 * range (taken from the job). */
static int net_prepare(FoldJob *j, const MdbConn *conn, RstPitrResult *res, RstNet **out, bool *ok, Err *err)
{
    int rc = j->rc;

    *ok = false;
    *out = NULL;
    res->fold_s = j->st.seconds;
    res->transactions = j->st.transactions;
    res->replay_bytes = j->st.bytes;
    if (rc == ERR_UNSUPPORTED) {
        snprintf(res->apply_reason, sizeof res->apply_reason, "%.1150s", j->err.msg);
        return 0;
    }
    if (rc) {
        *err = j->err;
        return err_wrap(err, "read and fold the archive");
    }
    rc = rst_net_check_packet(conn, j->st.max_rows_event, ok, res->apply_reason, sizeof res->apply_reason, err);
    if (!rc && *ok) {
        *out = j->net;
        j->net = NULL;
    }
    return rc;
}

/* The load's verification, with the fold running beside it when fold is
 * set (rst_net_check_fks allowed it). The fold is joined before this
 * returns; a failed verification fails the run and the fold's result is
 * left in the job for the caller to close. *verify_end: when the
 * verification ended (the start of what remains on the critical path). */
static int verify_with_fold(Repo *r, const RstPitrPlan *plan, const MdbConn *conn, const RstPitrRunOptions *opt,
                            FoldJob *j, bool fold, RstPitrResult *res, double *verify_end, Err *err)
{
    RstDbStats vs;
    double v0;
    Err ge;
    int rc, grc = 0;

    memset(&vs, 0, sizeof vs);
    if (fold) {
        if (pthread_create(&j->th, NULL, fold_main, j))
            return err_set(err, ERR_NOMEM, "net apply: cannot start the fold thread");
        j->started = true;
    }
    v0 = clock_mono_s();
    rc = rst_db_verify(r, plan->item, conn, opt->target_db, opt->threads ? opt->threads : 2, &vs, err);
    *verify_end = clock_mono_s();
    res->verify_s = vs.verify_s;
    /* what the fold has left stops on a signal (during the verification a
     * signal ends tidemark: nothing is relaxed or configured yet) */
    if (!rc && j->started && opt->durability) grc = rst_pitr_durability_guard(conn, opt->durability, false, &ge);
    if (j->started) {
        pthread_join(j->th, NULL);
        j->started = false;
        double a = j->t0 > v0 ? j->t0 : v0, b = j->t1 < *verify_end ? j->t1 : *verify_end;
        res->fold_overlapped_s = b > a ? b - a : 0;
    }
    if (rc) return err_wrap(err, "load snapshot %.12s", plan->snap_hex);
    res->load_verified = true;
    if (grc) {
        *err = ge;
        return err_wrap(err, "net apply");
    }
    return 0;
}

/* The net path: the folded range applied in bulk, durability relaxed around it. */
static int run_net(RstNet *n, const RstPitrPlan *plan, const MdbConn *conn, const RstPitrRunOptions *opt,
                   RstPitrResult *res, Err *err)
{
    RstPitrDurability *dur = opt->durability && opt->durability->relax ? opt->durability : NULL;
    RstNetApplyStats as;
    int rc;

    memset(&as, 0, sizeof as);
    res->applied = RST_PITR_APPLY_NET;
    if (rst_pitr_signal()) return err_set(err, ERR_INTERRUPTED, "stopped before the bulk apply started");
    if (dur && (rc = rst_pitr_durability_relax(conn, dur, err))) return err_wrap(err, "net apply");
    rc = rst_net_send(n, conn, plan->target_gtid, opt->progress, rst_pitr_signal, &as, err);
    res->apply_s = as.seconds;
    res->net_rows_written = as.rows_written;
    res->net_rows_deleted = as.rows_deleted;
    res->net_rows_updated = as.rows_updated;
    res->net_split_tables = as.split_tables;
    res->net_rows_applied = as.rows_applied;
    res->net_rows_total = as.rows_total;
    res->net_tables = as.tables;
    res->net_ordered_rows = as.ordered_rows;
    res->net_ordered_tables = as.ordered_tables;
    snprintf(res->reached_gtid, sizeof res->reached_gtid, "%s", as.reached);
    if (!rc) {
        MdbGtidSet want, got;
        Err e;
        if (mdb_gtid_set_parse(plan->target_gtid, &want, &e) || mdb_gtid_set_parse(as.reached, &got, &e) ||
            !mdb_gtid_set_eq(&want, &got))
            rc = err_set(err, ERR_VERIFY, "net apply: gtid_slave_pos reads %s after setting it to %s",
                         as.reached[0] ? as.reached : "''", plan->target_gtid);
    }
    return rc;
}

int rst_pitr_run(Repo *r, const BinlogCatalog *c, const RstPitrPlan *plan, const MdbConn *conn,
                 const RstPitrRunOptions *opt, RstPitrResult *res, Err *err)
{
    RstDbOptions lo;
    RstDbStats ls;
    RstNetDbs dbs;
    RstNet *net = NULL;
    FoldJob fj;
    json_t *later = NULL;
    bool try_net = plan->replay && opt->apply != RST_PITR_APPLY_TRANSACTIONS, ok = false;
    double verify_end = 0;
    Stage stage = STAGE_FOLD;   /* what a guard started by verify_with_fold interrupts */
    int rc;

    memset(res, 0, sizeof *res);
    memset(&lo, 0, sizeof lo);
    memset(&ls, 0, sizeof ls);
    memset(&fj, 0, sizeof fj);
    rc = rst_pitr_range_check(conn, plan, opt->target_db, opt->apply != RST_PITR_APPLY_NET, err);
    if (rc) return err_wrap(err, "refused (nothing was touched)");
    if (try_net) {
        /* before the load: --apply net without the privilege is refused untouched */
        rc = rst_net_dbs(plan->item, opt->target_db, &dbs, err);
        if (!rc) rc = rst_net_check_privileges(conn, &ok, res->apply_reason, sizeof res->apply_reason, err);
        if (rc) return rc;
        if (!ok && opt->apply == RST_PITR_APPLY_NET) {
            res->refused = true;
            return err_set(err, ERR_INVALID, "--apply net refused (nothing was touched): %s", res->apply_reason);
        }
        try_net = ok;
    }
    lo.target_db = opt->target_db;
    lo.drop_existing = opt->drop_existing;
    lo.threads = opt->threads;
    lo.progress = opt->progress;
    lo.skip_verify = try_net;   /* verified below, beside the fold */
    rc = rst_db_load(r, plan->item, conn, &lo, &ls, err);
    res->tables = ls.tables;
    res->rows = ls.rows;
    res->load_bytes = ls.bytes;
    res->load_s = ls.load_s;
    res->verify_s = ls.verify_s;
    if (rc) return err_wrap(err, "load snapshot %.12s", plan->snap_hex);
    if (try_net) {
        /* no cascading foreign key: fold while the load is verified */
        rc = rst_net_check_fks(conn, &dbs, &ok, res->apply_reason, sizeof res->apply_reason, err);
        if (rc) return rc;
        fj = (FoldJob){.r = r, .c = c, .plan = plan, .conn = conn, .dbs = &dbs, .tmpdir = opt->tmpdir,
                       .progress = opt->progress};
        rc = verify_with_fold(r, plan, conn, opt, &fj, ok, res, &verify_end, err);
        if (rc) goto out;
        if (ok) {
            rc = net_prepare(&fj, conn, res, &net, &ok, err);
            if (rc) goto out;
        }
    }
    res->load_verified = true;

    if (plan->replay) {
        if (try_net && !ok && opt->apply == RST_PITR_APPLY_NET) {
            res->refused = true;
            rc = err_set(err, ERR_INVALID, "--apply net refused after the load (nothing else was "
                         "written): %s", res->apply_reason);
            goto out;
        }
        /* signals are the guard's from here to guard_end (opt->durability
         * NULL, verify-chain: they keep their default action) */
        if (opt->durability && (rc = rst_pitr_durability_guard(conn, opt->durability, !net, err))) {
            err_wrap(err, "replay");
            goto out;
        }
        if (net) {
            stage = STAGE_NET;
            rc = run_net(net, plan, conn, opt, res, err);
            res->replay_s = clock_mono_s() - verify_end;   /* what the fold left on the critical path + the apply */
        } else {
            stage = STAGE_TX;
            if (opt->progress && res->apply_reason[0])
                fprintf(stderr, "apply: transaction by transaction: %s\n", res->apply_reason);
            res->transactions = 0;   /* a fold that gave up counted its own */
            res->replay_bytes = 0;
            rc = run_transactions(r, c, plan, conn, opt, res, err);
        }
        rc = guard_end(opt->durability, rc, stage, plan, res, err);
        if (rc) goto out;
        res->reached = true;
    } else {
        snprintf(res->reached_gtid, sizeof res->reached_gtid, "%s", plan->snap_gtid);
        res->reached = true;
    }

    if (plan->later_snapshot[0]) {
        Id id;
        RstDbStats vs;
        const json_t *item;
        memset(&vs, 0, sizeof vs);
        rc = repo_snapshot_get(r, plan->later_snapshot, NULL, &later, &id, err);
        if (rc) goto out;
        item = rst_db_item(later);
        if (!item) {
            rc = err_set(err, ERR_NOTFOUND, "snapshot %.12s has no database item", plan->later_snapshot);
            goto out;
        }
        rc = rst_db_verify(r, item, conn, opt->target_db, opt->threads ? opt->threads : 2, &vs, err);
        res->later_verify_s = vs.verify_s;
        res->later_mismatches = vs.mismatches;
        res->later_tables = vs.tables;
        if (rc) {
            err_wrap(err, "the replayed database differs from snapshot %.12s, taken at exactly the target "
                     "position", plan->later_snapshot);
            goto out;
        }
        res->later_verified = true;
    }
    rc = 0;
out:
    rc = guard_end(opt->durability, rc, stage, plan, res, err);   /* a failure between the guard's start and the replay */
    rst_net_close(net);
    rst_net_close(fj.net);
    json_decref(later);
    return rc;
}
