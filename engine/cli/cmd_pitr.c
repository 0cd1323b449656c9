/* cmd_pitr.c: `restore db --to/--to-gtid/--before-gtid/--plan` (routed here
 * from cmd_db.c), `binlog search`, `verify-chain`: argument parsing and
 * printing around restore/pitr.
 * Invariant: the plan is printed (and every refusal made) before anything
 * is written to the target server; database passwords come from files or
 * the config, never argv. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/cli/cli_opts.h"
#include "engine/cli/commands.h"
#include "engine/common/log.h"
#include "restore/db/rst_db.h"
#include "restore/pitr/rst_pitr.h"

/* Target connection: the instance's own unless --host/--socket/--defaults-file
 * (inst_target_conn). */
typedef struct TargetOpts {
    MdbConn over;
    const char *pwfile;
    Inst *in;
} TargetOpts;

static int target_conn(CliCtx *ctx, const char *inst, TargetOpts *t, bool require_explicit,
                       MdbConn *conn, Err *err)
{
    InstTarget it = {.host = t->over.host, .socket = t->over.socket,
                     .defaults_file = t->over.defaults_file, .port = t->over.port,
                     .user = t->over.user, .password_file = t->pwfile,
                     .require_explicit = require_explicit};
    int rc = t->in ? 0 : inst_open(ctx->conf, inst, &t->in, err);
    return rc ? rc : inst_target_conn(t->in, &it, conn, err);
}

static void target_free(TargetOpts *t)
{
    inst_free(t->in);
}

static bool target_opt(int c, TargetOpts *t)
{
    switch (c) {
    case 'H': t->over.host = optarg; return true;
    case 'P': t->over.port = (unsigned)strtoul(optarg, NULL, 10); return true;
    case 'S': t->over.socket = optarg; return true;
    case 'u': t->over.user = optarg; return true;
    case 'p': t->pwfile = optarg; return true;
    case 'f': t->over.defaults_file = optarg; return true;
    default: return false;
    }
}

/* ---- restore db --to ... ---------------------------------------------------- */

/* What the restore prints as it goes (text mode), between its steps. */
typedef struct RestorePrint {
    const char *target_db;
    RstPitrApply apply;
    bool plan_only;
} RestorePrint;

static void on_plan_ready(void *vp, const RstPitrRestoreReport *rep)
{
    (void)vp;
    rst_pitr_plan_print(&rep->plan, stdout);
    fflush(stdout);
}

static void on_target_checked(void *vp, const RstPitrRestoreReport *rep)
{
    const RestorePrint *pr = vp;
    const RstPitrTargetInfo *ti = &rep->target;
    printf("target: server %s (server_id %u)%s%s\n", ti->version, ti->server_id,
           pr->target_db ? ", database " : "", pr->target_db ? pr->target_db : "");
    for (const char *s = ti->notes; *s;) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        printf("target: note: %.*s\n", (int)len, s);
        s += len + (nl ? 1 : 0);
    }
}

static void on_durability_decided(void *vp, const RstPitrRestoreReport *rep)
{
    const RestorePrint *pr = vp;
    const RstPitrDurability *dur = &rep->durability;
    if (rep->plan.replay) printf("apply: %s\n", rst_pitr_apply_plan_text(pr->apply));
    printf("durability: %s\n", dur->reason);
    if (dur->leftover)
        printf("durability: note: %s; %s\n", dur->leftover_note,
               pr->plan_only ? "a restore puts the original settings back first"
                             : "putting the original settings back first");
}

static void on_run_starting(void *vp, const RstPitrRestoreReport *rep)
{
    (void)vp;
    (void)rep;
    fflush(stdout);
}

/* The lines after a run (text mode): what was loaded, replayed, verified. */
static void print_summary(const RstPitrRestoreReport *rep, RstPitrApply apply, int rc)
{
    const RstPitrPlan *plan = &rep->plan;
    const RstPitrResult *res = &rep->result;
    const RstPitrDurability *dur = &rep->durability;
    if (res->refused) {
        /* nothing was replayed: a refusal (the reason on stderr), not a verdict */
        if (res->tables)
            printf("summary: snapshot %.12s loaded: %" PRIu64 " tables, %" PRIu64 " rows, content hashes %s\n",
                   plan->snap_hex, res->tables, res->rows, res->load_verified ? "verified" : "NOT verified");
        printf("refused: --apply %s: nothing was replayed%s (the reason is on stderr); rerun with --apply auto "
               "or --apply transactions\n", rst_pitr_apply_name(apply),
               res->tables ? ", the target holds the snapshot only" : ", nothing was touched");
        return;
    }
    printf("summary: snapshot %.12s loaded: %" PRIu64 " tables, %" PRIu64 " rows in %.1f s, "
           "content hashes %s (%s)\n", plan->snap_hex, res->tables, res->rows,
           res->load_s + res->verify_s, res->load_verified ? "verified" : "NOT verified",
           rst_db_item_comparison_id(plan->item));
    if (plan->replay && res->applied == RST_PITR_APPLY_NET && rc) {
        printf("summary: the net apply stopped after %" PRIu64 " of %" PRIu64 " rows of the net change of %"
               PRIu64 " transactions (the error says where)\n", res->net_rows_applied, res->net_rows_total,
               res->transactions);
    } else if (plan->replay && res->applied == RST_PITR_APPLY_NET) {
        char kept[200] = "";
        if (res->net_ordered_tables)
            snprintf(kept, sizeof kept, " (%" PRIu64 " rows of %" PRIu64 " table%s without a usable key kept "
                     "in order)", res->net_ordered_rows, res->net_ordered_tables,
                     res->net_ordered_tables == 1 ? "" : "s");
        printf("summary: applied the net change of %" PRIu64 " transactions: %" PRIu64 " rows written, %"
               PRIu64 " updated, %" PRIu64 " deleted over %" PRIu64 " tables%s in %.1f s after the verification "
               "(read+fold %.1f s, of which %.1f s during the verification; apply %.1f s); position set to %s%s\n",
               res->transactions, res->net_rows_written, res->net_rows_updated, res->net_rows_deleted,
               res->net_tables, kept, res->replay_s, res->fold_s, res->fold_overlapped_s, res->apply_s,
               res->reached_gtid[0] ? res->reached_gtid : "-", res->reached ? " = the target" : "");
    } else if (plan->replay) {
        printf("summary: replayed %" PRIu64 " transactions (%.1f MB) in %.1f s (%.0f tx/s); "
               "position reached %s%s\n", res->transactions, (double)res->replay_bytes / 1e6,
               res->replay_s, res->replay_s > 0 ? (double)res->transactions / res->replay_s : 0.0,
               res->reached_gtid[0] ? res->reached_gtid : "-",
               res->reached ? " = the target" : "");
        if (res->apply_reason[0]) printf("summary: transaction by transaction because %s\n", res->apply_reason);
    }
    if (dur->restored)
        printf("summary: durability put back (innodb_flush_log_at_trx_commit=%d, sync_binlog=%d), "
               "redo log and binlog flushed\n", dur->flush_orig, dur->sync_orig);
    if (plan->later_snapshot[0])
        printf("summary: compared with snapshot %.12s (taken at exactly this position): %s\n",
               plan->later_snapshot, res->later_verified ? "every table's content hash matches" : "FAILED");
    if (!rc && plan->archive_end == RST_PITR_END_ACCEPTED)
        printf("verification: OK up to the archive's end ONLY (--accept-archive-end): %s; transactions "
               "committed after the archive's end (%s) are NOT in the result\n",
               plan->replay ? "snapshot hashes verified and the archive's last GTID reached"
                           : "every table's content hash matches the snapshot",
               plan->archive_end_gtid);
    else
        printf("verification: %s\n", rc ? "FAILED" :
               plan->later_snapshot[0] ? "OK, point-in-time restore proven against a later snapshot's hashes" :
               plan->replay ? "OK, snapshot hashes verified and the exact target GTID reached"
                           : "OK, every table's content hash matches the snapshot");
}

/* What `restore db --to...` was given. */
typedef struct PitrArgs {
    const char *to, *to_gtid, *before, *snap;
    RstPitrRequest q;
    RstPitrRunOptions ro;
    RstPitrDurMode dmode;
    bool plan_only;
    TargetOpts tgt;
} PitrArgs;

static int restore_args(CliCtx *ctx, int argc, char **argv, PitrArgs *a, Err *err)
{
    int c;
    while ((c = cli_getopt(ctx, argc, argv)) != -1) {
        if (target_opt(c, &a->tgt)) continue;
        switch (c) {
        case 't': a->to = optarg; break;
        case 'g': a->to_gtid = optarg; break;
        case 'b': a->before = optarg; break;
        case 's': a->snap = optarg; break;
        case 'd': a->ro.target_db = optarg; break;
        case 'D': a->ro.drop_existing = true; break;
        case 'T': a->ro.threads = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'n': a->plan_only = true; break;
        case 'L': a->ro.listen_host = optarg; break;
        case 'A': a->ro.advertise_host = optarg; break;
        case 'W': a->ro.timeout_s = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'Y':
            if (!strcmp(optarg, "relaxed")) a->dmode = RST_PITR_DUR_RELAXED;
            else if (!strcmp(optarg, "keep")) a->dmode = RST_PITR_DUR_KEEP;
            else return err_set(err, ERR_INVALID, "--durability wants relaxed or keep, not '%s'", optarg);
            break;
        case 'E': a->q.accept_archive_end = true; break;
        case 'M':
            if (!strcmp(optarg, "auto")) a->ro.apply = RST_PITR_APPLY_AUTO;
            else if (!strcmp(optarg, "net")) a->ro.apply = RST_PITR_APPLY_NET;
            else if (!strcmp(optarg, "transactions")) a->ro.apply = RST_PITR_APPLY_TRANSACTIONS;
            else return err_set(err, ERR_INVALID, "--apply wants auto, net or transactions, not '%s'", optarg);
            break;
        default: return cli_opt_refuse(ctx, c, "applies only to a snapshot load (without --to, --to-gtid, --before-gtid and --plan)", err);
        }
    }
    if (optind < argc) return err_set(err, ERR_INVALID, "unexpected argument %s", argv[optind]);
    return 0;
}

int cmd_restore_pitr(CliCtx *ctx, int argc, char **argv, Err *err)
{
    PitrArgs a;
    RstPitrRestoreRequest req;
    RstPitrRestoreReport rep;
    RestorePrint pr;
    RstPitrRestoreHooks hooks = {&pr, on_plan_ready, on_target_checked, on_durability_decided, on_run_starting};
    MdbConn conn;
    Repo *r = NULL;
    char zone[120] = "", tstr[100];
    int rc;

    memset(&a, 0, sizeof a);
    memset(&rep, 0, sizeof rep);
    a.dmode = RST_PITR_DUR_DEFAULT;
    if ((rc = restore_args(ctx, argc, argv, &a, err))) return rc;
    if ((rc = rst_pitr_target_set(&a.q, a.to, a.to_gtid, a.before, a.snap, zone, sizeof zone, err))) return rc;
    if ((rc = cli_inst_open(ctx, NULL, &a.tgt.in, err))) return rc;
    a.q.instance = inst_name(a.tgt.in);
    a.q.spool_dir = inst_spool_dir(a.tgt.in);
    if ((rc = target_conn(ctx, a.q.instance, &a.tgt, false, &conn, err))) goto out;
    a.ro.progress = ctx->progress;
    req = (RstPitrRestoreRequest){a.q, a.ro, a.dmode, inst_state_dir(a.tgt.in), &conn, a.plan_only};
    pr = (RestorePrint){a.ro.target_db, a.ro.apply, a.plan_only};

    if (a.q.kind == RST_PITR_TIME && !ctx->json) {
        rst_pitr_time_format(a.q.time, tstr, sizeof tstr);
        printf("target: %s read as %s = %s\n", a.to, zone, tstr);
    }
    if ((rc = inst_repo_open(a.tgt.in, cli_prompt, &r, err))) goto out;
    rc = rst_pitr_restore(r, &req, ctx->json ? NULL : &hooks, &rep, err);
    if (rep.not_put_back[0]) log_error("%s", rep.not_put_back);
    if (rep.incomplete[0]) log_error("%s", rep.incomplete);
    if (rc && !rep.ran) goto out;
    if (ctx->json)
        cli_json_print(rst_pitr_report_json(&req, &rep));
    else if (a.plan_only)
        printf("plan only: nothing was touched\n");
    else if (!ctx->quiet)
        print_summary(&rep, a.ro.apply, rc);
out:
    rst_pitr_restore_report_free(&rep);
    repo_free(r);
    target_free(&a.tgt);
    return rc;
}

/* ---- binlog search ------------------------------------------------------------ */

typedef struct SearchOut {
    bool json;
    json_t *arr;
    size_t n, limit;
} SearchOut;

static int on_tx(void *ctx, const json_t *tx, Err *err)
{
    SearchOut *o = ctx;
    (void)err;
    o->n++;
    if (o->json) {
        json_array_append(o->arr, (json_t *)tx);
    } else {
        const json_t *t, *s;
        size_t i;
        printf("%-16s %s UTC  %-6s", json_string_value(json_object_get(tx, "gtid")),
               json_string_value(json_object_get(tx, "time_utc")), "");
        json_array_foreach(json_object_get(tx, "types"), i, t) printf("%s%s", i ? "," : "", json_string_value(t));
        printf("  %s:%" JSON_INTEGER_FORMAT "\n", json_string_value(json_object_get(tx, "file")),
               json_integer_value(json_object_get(tx, "pos")));
        json_array_foreach(json_object_get(tx, "tables"), i, t) {
            if (json_is_true(json_object_get(t, "rows_unknown")))
                printf("    %s: rows not decoded\n", json_string_value(json_object_get(t, "name")));
            else
                printf("    %s: %" JSON_INTEGER_FORMAT " inserted, %" JSON_INTEGER_FORMAT " updated, %"
                       JSON_INTEGER_FORMAT " deleted\n", json_string_value(json_object_get(t, "name")),
                       json_integer_value(json_object_get(t, "insert")),
                       json_integer_value(json_object_get(t, "update")),
                       json_integer_value(json_object_get(t, "delete")));
        }
        json_array_foreach(json_object_get(tx, "statements"), i, s) {
            const char *txt = json_string_value(s);
            printf("    > %.300s%s\n", txt, strlen(txt) > 300 ? "..." : "");
        }
    }
    return o->limit && o->n >= o->limit;
}

int cmd_binlog_search(CliCtx *ctx, int argc, char **argv, Err *err)
{
    const char *inst = NULL, *since = NULL, *until = NULL;
    RstSearchQuery q;
    SearchOut o;
    Repo *r = NULL;
    uint64_t scanned = 0;
    int rc = 0, c;

    memset(&q, 0, sizeof q);
    memset(&o, 0, sizeof o);
    while ((c = cli_getopt(ctx, argc, argv)) != -1) {
        switch (c) {
        case 't': q.table = optarg; break;
        case 'y': {
            char *dup = strdup(optarg), *save = NULL;
            if (!dup) return err_set(err, ERR_NOMEM, "out of memory");
            for (char *w = strtok_r(dup, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
                if (!strcasecmp(w, "insert")) q.types |= RST_SEARCH_INSERT;
                else if (!strcasecmp(w, "update")) q.types |= RST_SEARCH_UPDATE;
                else if (!strcasecmp(w, "delete")) q.types |= RST_SEARCH_DELETE;
                else if (!strcasecmp(w, "ddl")) q.types |= RST_SEARCH_DDL;
                else {
                    rc = err_set(err, ERR_INVALID, "--type wants insert, update, delete or ddl, not '%s'", w);
                    free(dup);
                    return rc;
                }
            }
            free(dup);
            break;
        }
        case 's': since = optarg; break;
        case 'u': until = optarg; break;
        case 'g': q.grep = optarg; break;
        case 'l': o.limit = (size_t)strtoul(optarg, NULL, 10); break;
        default: return err_set(err, ERR_INVALID, "bad option (see --help)");
        }
    }
    if (optind < argc) return err_set(err, ERR_INVALID, "unexpected argument %s", argv[optind]);
    if (!(inst = cli_instance(ctx, inst, err))) return err->code;
    if (since && (rc = rst_pitr_time_parse(since, &q.since, NULL, 0, err))) return err_wrap(err, "--since");
    if (until && (rc = rst_pitr_time_parse(until, &q.until, NULL, 0, err))) return err_wrap(err, "--until");
    o.json = ctx->json;
    if (o.json) o.arr = json_array();
    if ((rc = cli_repo_open(ctx, &r, err))) goto out;
    if ((rc = rst_pitr_search(r, inst, &q, on_tx, &o, &scanned, err))) goto out;
    if (o.json) {
        cli_json_print(o.arr);
        o.arr = NULL;
    } else if (!ctx->quiet) {
        fprintf(stderr, "%zu matching transaction%s (%" PRIu64 " read)\n", o.n, o.n == 1 ? "" : "s", scanned);
    }
out:
    json_decref(o.arr);
    repo_free(r);
    return rc;
}

/* ---- verify-chain ----------------------------------------------------------------- */

typedef struct ChainOut {
    bool json;
    json_t *arr;
} ChainOut;

static void on_pair(void *ctx, const RstChainPair *p)
{
    ChainOut *o = ctx;
    if (o->json) {
        json_array_append_new(o->arr, json_pack("{s:s,s:s,s:s,s:s,s:b,s:s,s:I,s:f}", "from", p->from_hex,
                                                "to", p->to_hex, "from_time", p->from_time, "to_time",
                                                p->to_time, "ok", p->rc == 0, "verdict", p->verdict,
                                                "transactions", (json_int_t)p->transactions, "seconds",
                                                p->seconds));
    } else {
        printf("%.12s (%s) -> %.12s (%s): %s%s (%.1f s)\n", p->from_hex, p->from_time, p->to_hex,
               p->to_time, p->rc ? "FAIL " : "OK ", p->verdict, p->seconds);
        fflush(stdout);
    }
}

int cmd_verify_chain(CliCtx *ctx, int argc, char **argv, Err *err)
{
    const char *inst = NULL, *from = NULL;
    TargetOpts tgt;
    MdbConn conn;
    RstPitrRunOptions ro;
    ChainOut o;
    Repo *r = NULL;
    size_t pairs = SIZE_MAX;   /* stays so when the chain never started: no document then */
    int rc = 0, c;

    memset(&tgt, 0, sizeof tgt);
    memset(&ro, 0, sizeof ro);
    memset(&o, 0, sizeof o);
    while ((c = cli_getopt(ctx, argc, argv)) != -1) {
        if (target_opt(c, &tgt)) continue;
        switch (c) {
        case 'F': from = optarg; break;
        case 'T': ro.threads = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'W': ro.timeout_s = (unsigned)strtoul(optarg, NULL, 10); break;
        default: return err_set(err, ERR_INVALID, "bad option (see --help)");
        }
    }
    if (optind < argc) return err_set(err, ERR_INVALID, "unexpected argument %s", argv[optind]);
    if (!(inst = cli_instance(ctx, inst, err))) return err->code;
    if ((rc = target_conn(ctx, inst, &tgt, true, &conn, err))) goto out;
    ro.progress = ctx->progress;
    o.json = ctx->json;
    if (o.json) o.arr = json_array();
    if ((rc = cli_repo_open(ctx, &r, err))) goto out;
    rc = rst_pitr_verify_chain(r, inst, from, &conn, &ro, on_pair, &o, &pairs, err);
    if (o.json && pairs != SIZE_MAX) {
        cli_json_print(json_pack("{s:o,s:I,s:b}", "pairs", o.arr, "count", (json_int_t)pairs, "ok", rc == 0));
        o.arr = NULL;
    } else if (rc == 0) {
        printf("verify-chain: all %zu pair%s verified\n", pairs, pairs == 1 ? "" : "s");
    }
out:
    json_decref(o.arr);
    repo_free(r);
    target_free(&tgt);
    return rc;
}
