/* pitr_chain.c: verify-chain: for each consecutive pair of snapshots, load
 * N into a throw-away database, replay the archive to N+1's coordinates,
 * and compare every table with N+1's recorded content hashes: the proof
 * that the chain snapshot + binlog replays to the exact bytes. N+1's
 * coordinates are its full GTID position, every domain included.
 * Invariant: the throw-away database is dropped whatever the verdict (it
 * is created under a fresh name, never an existing one). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/common/clock.h"
#include "restore/pitr/pitr_int.h"

static uint64_t gtid_seq(const MdbGtidSet *s, uint32_t domain)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->g[i].domain == domain) return s->g[i].seq;
    return 0;
}

static void drop_db(const MdbConn *conn, const char *db)
{
    MYSQL *m = NULL;
    Err e;
    char sql[200];
    if (mdb_connect(conn, MDB_CONNECT_CLIENT, MDB_CLIENT_TIMEOUT_S, &m, &e)) return;
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS `%s`", db);
    mdb_exec(m, "SET SESSION sql_log_bin = 0", &e);
    mdb_exec(m, sql, &e);
    mdb_close(m);
}

static int one_pair(Repo *r, const BinlogCatalog *c, const PitrSnapList *l, size_t k,
                    const MdbConn *conn, const RstPitrRunOptions *opt, RstChainPair *pr)
{
    const PitrSnap *a = &l->v[k], *b = &l->v[k + 1];
    RstPitrRequest q;
    RstPitrPlan plan;
    RstPitrRates rates;
    RstPitrResult res;
    RstPitrRunOptions o = *opt;
    char db[64];
    Err e;
    bool advanced = false;
    int rc;

    memset(&plan, 0, sizeof plan);
    err_clear(&e);
    if (json_array_size(json_object_get(a->item, "databases")) != 1) {
        snprintf(pr->verdict, sizeof pr->verdict, "not checked: snapshot %.12s holds several databases "
                 "(verify-chain restores one database under a throw-away name)", a->hex);
        return ERR_UNSUPPORTED;
    }
    if (!b->gtid.n) {
        snprintf(pr->verdict, sizeof pr->verdict, "not checked: snapshot %.12s has no GTID position", b->hex);
        return ERR_UNSUPPORTED;
    }
    /* N+1's position is a full GTID state; the transaction right before it is
     * the last of one of its domains: the plan to that GTID whose target is
     * N+1's whole position (every domain) is the one to replay. Domains N+1
     * did not advance over N cannot hold it (unless none advanced). */
    for (size_t i = 0; i < b->gtid.n; i++)
        advanced |= gtid_seq(&a->gtid, b->gtid.g[i].domain) < b->gtid.g[i].seq;
    rc = ERR_VERIFY;
    if (mdb_gtid_set_eq(&a->gtid, &b->gtid)) {
        /* no transaction between them: N loaded alone must hash as N+1 (its
         * GTID need not be archived: the follower may start at N) */
        memset(&q, 0, sizeof q);
        q.instance = l->instance;
        q.kind = RST_PITR_SNAPSHOT;
        q.snapshot = a->hex;
        rst_pitr_rates_load(NULL, &rates);
        rc = rst_pitr_plan(r, c, &q, &rates, &plan, &e);
        if (rc) {
            snprintf(pr->verdict, sizeof pr->verdict, "plan failed: %s", e.msg);
            return rc;
        }
        snprintf(plan.later_snapshot, sizeof plan.later_snapshot, "%s", b->hex);
    }
    for (size_t i = 0; rc && i < b->gtid.n; i++) {
        const MdbGtid *g = &b->gtid.g[i];
        if (advanced && gtid_seq(&a->gtid, g->domain) >= g->seq) continue;
        memset(&q, 0, sizeof q);
        q.instance = l->instance;
        q.kind = RST_PITR_GTID;
        q.gtid = *g;
        q.snapshot = a->hex;
        rst_pitr_rates_load(NULL, &rates);
        err_clear(&e);
        rc = rst_pitr_plan(r, c, &q, &rates, &plan, &e);
        if (rc) {
            snprintf(pr->verdict, sizeof pr->verdict, "plan failed: %s", e.msg);
            continue;
        }
        MdbGtidSet tg;
        if (!mdb_gtid_set_parse(plan.target_gtid, &tg, &e) && mdb_gtid_set_eq(&tg, &b->gtid)) {
            /* several snapshots may share N+1's position: compare with N+1's own hashes */
            snprintf(plan.later_snapshot, sizeof plan.later_snapshot, "%s", b->hex);
            break;
        }
        /* N+1's position is the target by construction: say so if the sets differ */
        snprintf(pr->verdict, sizeof pr->verdict, "the replay target %s does not equal snapshot %.12s's "
                 "position %s", plan.target_gtid, b->hex, b->gtid_s);
        rst_pitr_plan_free(&plan);
        rc = ERR_VERIFY;
    }
    if (rc) return rc;
    snprintf(db, sizeof db, "tidemark_vc_%.8s_%ld", a->hex, (long)getpid());
    o.target_db = db;
    o.drop_existing = false;
    rc = rst_pitr_run(r, c, &plan, conn, &o, &res, &e);
    drop_db(conn, db);
    pr->transactions = res.transactions;
    if (rc)
        snprintf(pr->verdict, sizeof pr->verdict, "FAILED: %s", e.msg);
    else
        snprintf(pr->verdict, sizeof pr->verdict, "verified: %" PRIu64 " tables equal snapshot %.12s's "
                 "hashes after replaying %" PRIu64 " transactions%s to %s", res.later_tables, b->hex,
                 res.transactions, res.applied == RST_PITR_APPLY_NET ? " (their net change)"
                                   : res.applied == RST_PITR_APPLY_TRANSACTIONS ? " (one by one)" : "",
                 plan.target_gtid);
    rst_pitr_plan_free(&plan);
    return rc;
}

static int verify_chain(Repo *r, const BinlogCatalog *c, const char *instance, const char *from,
                        const MdbConn *conn, const RstPitrRunOptions *opt, RstChainFn fn, void *ctx,
                        size_t *out_pairs, Err *err)
{
    PitrSnapList l = {.instance = instance};
    size_t k0 = 0, pairs = 0, failed = 0;
    int rc = pitr_snaps_load(r, &l, err);
    if (rc) goto out;
    if (from && (rc = pitr_snaps_find(r, &l, from, &k0, err))) goto out;
    if (l.n < k0 + 2) {
        rc = err_set(err, ERR_NOTFOUND, "instance %s has %zu snapshot%s with binlog coordinates%s: "
                     "verify-chain needs two", instance, l.n - k0, l.n - k0 == 1 ? "" : "s",
                     from ? " from the one given on" : "");
        goto out;
    }
    for (size_t k = k0; k + 1 < l.n; k++) {
        RstChainPair pr;
        double t0 = clock_mono_s();
        memset(&pr, 0, sizeof pr);
        snprintf(pr.from_hex, sizeof pr.from_hex, "%s", l.v[k].hex);
        snprintf(pr.to_hex, sizeof pr.to_hex, "%s", l.v[k + 1].hex);
        snprintf(pr.from_time, sizeof pr.from_time, "%s", l.v[k].time_s);
        snprintf(pr.to_time, sizeof pr.to_time, "%s", l.v[k + 1].time_s);
        pr.rc = one_pair(r, c, &l, k, conn, opt, &pr);
        pr.seconds = clock_mono_s() - t0;
        pairs++;
        if (pr.rc) failed++;
        if (fn) fn(ctx, &pr);
    }
    if (failed) rc = err_set(err, ERR_VERIFY, "verify-chain: %zu of %zu pairs failed", failed, pairs);
out:
    if (out_pairs) *out_pairs = pairs;
    pitr_snaps_free(&l);
    return rc;
}

int rst_pitr_verify_chain(Repo *r, const char *instance, const char *from, const MdbConn *conn,
                          const RstPitrRunOptions *opt, RstChainFn fn, void *ctx, size_t *out_pairs, Err *err)
{
    BinlogCatalog *c = NULL;
    RstPitrRunOptions o = *opt;
    int rc;
    if (!o.threads) o.threads = 2;
    if ((rc = repo_lock(r, false, err))) return rc;
    if ((rc = binlog_catalog_load(r, instance, &c, err))) return rc;
    rc = verify_chain(r, c, instance, from, conn, &o, fn, ctx, out_pairs, err);
    binlog_catalog_free(c);
    return rc;
}
