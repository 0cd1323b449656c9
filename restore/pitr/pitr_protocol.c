/* pitr_protocol.c: the point-in-time restore of one instance from start to
 * verdict (rst_pitr_restore): catalog, plan, target checks, durability,
 * leftover recovery, run, measured rates; what the CLI, a drill and the
 * daemon call alike.
 * Invariant: nothing is written to the target before every check passed and
 * the durability_decided hook returned (the CLI prints the plan there). */
#include <stdio.h>
#include <string.h>

#include "engine/common/log.h"
#include "restore/db/rst_db.h"
#include "restore/pitr/pitr_int.h"

const char *rst_pitr_apply_name(RstPitrApply a)
{
    return a == RST_PITR_APPLY_NET ? "net" : a == RST_PITR_APPLY_TRANSACTIONS ? "transactions" : "auto";
}

const char *rst_pitr_apply_plan_text(RstPitrApply a)
{
    switch (a) {
    case RST_PITR_APPLY_NET:
        return "net change per primary key (--apply net: refused after the load, before anything else is "
               "written, when an event or the target does not allow it)";
    case RST_PITR_APPLY_TRANSACTIONS:
        return "transaction by transaction through the target's replica SQL thread (--apply transactions)";
    default:
        return "net change per primary key when every event allows it (decided after the load), else "
               "transaction by transaction";
    }
}

/* After a failure past the start of the load: say what the target holds
 * now and how to start again (the restore refuses a non-empty database). */
static void incomplete_hint(const json_t *item, const char *target_db, char *out, size_t cap)
{
    char names[512] = "";
    size_t i, n = 0;
    const json_t *jd;
    json_array_foreach(json_object_get(item, "databases"), i, jd) {
        const char *name = target_db ? target_db : json_string_value(json_object_get(jd, "name"));
        if (!name || n >= sizeof names - 1) continue;
        n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", n ? ", " : "", name);
        if (target_db) break;
    }
    snprintf(out, cap, "the target database%s %s now hold%s an incomplete restore: drop %s, or rerun the same "
             "command with --drop-existing", strchr(names, ',') ? "s" : "", names, strchr(names, ',') ? "" : "s",
             strchr(names, ',') ? "them" : "it");
}

/* Fold what this run measured into the rates file (the next plan's estimate). */
static void rates_note(const char *state_dir, const RstPitrResult *res)
{
    RstPitrRates m = {0};
    if (!(res->load_s > 0 || res->replay_s > 0)) return;
    /* small runs measure start-up costs, not rates: keep only meaningful ones */
    if (res->load_s > 0 && res->load_bytes >= (10u << 20)) m.load_bytes_s = (double)res->load_bytes / res->load_s;
    if (res->verify_s > 0 && res->load_bytes >= (10u << 20)) m.verify_bytes_s = (double)res->load_bytes / res->verify_s;
    /* the net path's time is not a per-transaction rate of the SQL thread */
    if (res->applied == RST_PITR_APPLY_TRANSACTIONS && res->replay_s > 1 && res->transactions >= 5000) {
        m.replay_tx_s = (double)res->transactions / res->replay_s;
        m.replay_bytes_s = (double)res->replay_bytes / res->replay_s;
    }
    if (res->applied == RST_PITR_APPLY_NET && res->replay_s > 0.5 && res->replay_bytes >= (10u << 20))
        m.net_bytes_s = (double)res->replay_bytes / res->replay_s;
    rst_pitr_rates_save(state_dir, &m);
}

static void hook(void (*fn)(void *, const RstPitrRestoreReport *), const RstPitrRestoreHooks *h,
                 const RstPitrRestoreReport *rep)
{
    if (fn) fn(h->ctx, rep);
}

int rst_pitr_restore(Repo *r, const RstPitrRestoreRequest *req, const RstPitrRestoreHooks *hooks,
                     RstPitrRestoreReport *out, Err *err)
{
    static const RstPitrRestoreHooks none = {0};
    const RstPitrRequest *q = &req->target;
    RstPitrRunOptions ro = req->run;
    BinlogCatalog *cat = NULL;
    RstPitrRates rates;
    uint32_t sid;
    int rc;

    memset(out, 0, sizeof *out);
    if (!hooks) hooks = &none;
    if (!ro.threads) ro.threads = 2;
    if ((rc = repo_lock(r, false, err))) goto out;
    if ((rc = binlog_catalog_load(r, q->instance, &cat, err))) goto out;
    rst_pitr_rates_load(req->state_dir, &rates);
    if ((rc = rst_pitr_plan(r, cat, q, &rates, &out->plan, err))) goto refused;
    out->have_plan = true;
    hook(hooks->plan_ready, hooks, out);
    sid = out->plan.replay ? binlog_catalog_at(cat, out->plan.seg_from)->server_id : 0;
    rc = rst_pitr_target_check(req->conn, out->plan.item, ro.target_db, ro.drop_existing, out->plan.replay, sid,
                               &out->target, err);
    if (rc) goto refused;
    hook(hooks->target_checked, hooks, out);
    if (req->plan_only &&
        (rc = rst_pitr_range_check(req->conn, &out->plan, ro.target_db, ro.apply != RST_PITR_APPLY_NET, err)))
        goto refused;
    rc = rst_pitr_durability_check(req->conn, out->plan.item, ro.target_db, out->plan.replay, req->durability,
                                   req->state_dir, &out->durability, err);
    if (rc) goto refused;
    hook(hooks->durability_decided, hooks, out);
    if (req->plan_only) goto out;
    if (out->durability.leftover) {
        char msg[800];
        if ((rc = rst_pitr_durability_recover(req->conn, &out->durability, msg, sizeof msg, err))) goto out;
        log_warn("%s", msg);
    }
    ro.durability = &out->durability;
    hook(hooks->run_starting, hooks, out);
    out->ran = true;
    rc = rst_pitr_run(r, cat, &out->plan, req->conn, &ro, &out->result, err);
    if (rc && out->durability.restore_error[0] && !strstr(err->msg, out->durability.restore_error))
        snprintf(out->not_put_back, sizeof out->not_put_back, "durability settings NOT put back: %s",
                 out->durability.restore_error);
    if (rc && out->result.tables > 0)
        incomplete_hint(out->plan.item, ro.target_db, out->incomplete, sizeof out->incomplete);
    rates_note(req->state_dir, &out->result);
    out->verdict = out->result.refused                             ? "refused"
                   : rc                                            ? "failed"
                   : out->plan.archive_end == RST_PITR_END_ACCEPTED ? "verified up to the archive's end (loss accepted)"
                                                                   : "verified";
    goto out;
refused:
    err_wrap(err, "refused (nothing was touched)");
out:
    binlog_catalog_free(cat);
    return rc;
}

void rst_pitr_restore_report_free(RstPitrRestoreReport *rep)
{
    if (rep && rep->have_plan) rst_pitr_plan_free(&rep->plan);
    if (rep) rep->have_plan = false;
}

/* {"requested","path","reason","rows_written","rows_deleted","rows_updated","tables","ordered_rows",
 *  "ordered_tables","split_tables","fold_seconds","fold_overlapped_seconds","apply_seconds"}
 * fold_overlapped_seconds: the part of fold_seconds that ran beside the load's verification
 * (the run's replay_seconds holds only the rest, with the apply) */
static json_t *apply_json(const RstPitrRunOptions *ro, const RstPitrResult *res)
{
    const char *path = res->applied == RST_PITR_APPLY_NET            ? "net"
                       : res->applied == RST_PITR_APPLY_TRANSACTIONS ? "transactions"
                                                                     : "none";
    return json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:f,s:f}", "requested",
                     rst_pitr_apply_name(ro->apply), "path", path, "reason", res->apply_reason, "rows_written",
                     (json_int_t)res->net_rows_written, "rows_deleted", (json_int_t)res->net_rows_deleted,
                     "rows_updated", (json_int_t)res->net_rows_updated, "tables", (json_int_t)res->net_tables,
                     "ordered_rows", (json_int_t)res->net_ordered_rows, "ordered_tables",
                     (json_int_t)res->net_ordered_tables, "split_tables", (json_int_t)res->net_split_tables,
                     "fold_seconds", res->fold_s, "fold_overlapped_seconds", res->fold_overlapped_s,
                     "apply_seconds", res->apply_s);
}

json_t *rst_pitr_report_json(const RstPitrRestoreRequest *req, const RstPitrRestoreReport *rep)
{
    const RstPitrPlan *p = &rep->plan;
    const RstPitrResult *res = &rep->result;
    json_t *j;
    if (req->plan_only) {
        j = rst_pitr_plan_json(p);
        json_object_set_new(j, "plan_only", json_true());
        json_object_set_new(j, "target_server", json_string(rep->target.version));
        json_object_set_new(j, "target_notes", json_string(rep->target.notes));
        json_object_set_new(j, "durability", rst_pitr_durability_json(&rep->durability));
        json_object_set_new(j, "apply", json_pack("{s:s,s:s}", "requested", rst_pitr_apply_name(req->run.apply),
                                                  "plan", p->replay ? rst_pitr_apply_plan_text(req->run.apply)
                                                                    : "no replay"));
        return j;
    }
    j = json_pack("{s:o,s:s,s:I,s:I,s:f,s:f,s:I,s:I,s:f,s:s,s:b,s:b,s:b}", "plan", rst_pitr_plan_json(p),
                  "verdict", rep->verdict ? rep->verdict : "failed", "tables", (json_int_t)res->tables, "rows",
                  (json_int_t)res->rows, "load_seconds", res->load_s, "verify_seconds", res->verify_s,
                  "transactions", (json_int_t)res->transactions, "replay_bytes", (json_int_t)res->replay_bytes,
                  "replay_seconds", res->replay_s, "reached_gtid", res->reached_gtid, "load_verified",
                  res->load_verified, "reached", res->reached, "later_snapshot_verified", res->later_verified);
    if (j) json_object_set_new(j, "tx_per_second", json_real(res->replay_s > 0 ? (double)res->transactions / res->replay_s : 0));
    if (j) json_object_set_new(j, "durability", rst_pitr_durability_json(&rep->durability));
    if (j && p->replay) json_object_set_new(j, "apply", apply_json(&req->run, res));
    if (j) json_object_set_new(j, "comparison", json_string(rst_db_item_comparison_id(p->item)));
    return j;
}
