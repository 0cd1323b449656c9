/* cmd_instance_restore.c: `restore instance`: a whole Dolibarr instance
 * beside the original (restore/instance): parse, call, print.
 * Invariant: database passwords come from files or the config, never argv;
 * the report is printed whatever the outcome once the restore started. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cli/cli_opts.h"
#include "engine/cli/commands.h"
#include "engine/common/log.h"
#include "restore/instance/rst_instance.h"

/* What `restore instance` was given. */
typedef struct InstRestoreArgs {
    const char *to, *to_gtid, *before, *snap;
    InstTarget tgt;
    RstInstRequest req;
} InstRestoreArgs;

static int parse_args(CliCtx *ctx, int argc, char **argv, InstRestoreArgs *a, Err *err)
{
    int c;
    while ((c = cli_getopt(ctx, argc, argv)) != -1) {
        switch (c) {
        case 's': a->snap = optarg; break;
        case 't': a->to = optarg; break;
        case 'g': a->to_gtid = optarg; break;
        case 'b': a->before = optarg; break;
        case 'T': a->req.target_dir = optarg; break;
        case 'd': a->req.pitr.run.target_db = optarg; break;
        case 'D': a->req.pitr.run.drop_existing = true; break;
        case 'U': a->req.url_root = optarg; break;
        case 'H': a->tgt.host = optarg; break;
        case 'P': a->tgt.port = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'S': a->tgt.socket = optarg; break;
        case 'u': a->tgt.user = optarg; break;
        case 'p': a->tgt.password_file = optarg; break;
        case 'f': a->tgt.defaults_file = optarg; break;
        default: return err_set(err, ERR_INVALID, "bad option (see --help)");
        }
    }
    if (optind < argc) return err_set(err, ERR_INVALID, "unexpected argument '%s'", argv[optind]);
    if (!a->req.target_dir) return err_set(err, ERR_INVALID, "--target-dir DIR is required");
    if (!a->req.pitr.run.target_db) return err_set(err, ERR_INVALID, "--target-db NAME is required");
    return 0;
}

int cmd_restore_instance(CliCtx *ctx, int argc, char **argv, Err *err)
{
    InstRestoreArgs a;
    RstInstReport rep;
    MdbConn conn;
    Inst *in = NULL;
    Repo *r = NULL;
    char zone[120] = "";
    int rc;

    memset(&a, 0, sizeof a);
    memset(&rep, 0, sizeof rep);
    if ((rc = parse_args(ctx, argc, argv, &a, err))) return rc;
    if ((rc = rst_pitr_target_set(&a.req.pitr.target, a.to, a.to_gtid, a.before, a.snap, zone, sizeof zone,
                                  err)))
        return rc;
    if ((rc = cli_inst_open(ctx, NULL, &in, err))) return rc;
    a.req.pitr.target.instance = inst_name(in);
    a.req.pitr.target.spool_dir = inst_spool_dir(in);
    a.req.pitr.run.progress = ctx->progress;
    a.req.pitr.state_dir = inst_state_dir(in);
    if ((rc = inst_target_conn(in, &a.tgt, &conn, err))) goto out;
    a.req.pitr.conn = &conn;
    if ((rc = inst_repo_open(in, cli_prompt, &r, err))) goto out;
    rc = rst_inst_restore(r, in, &a.req, &rep, err);
    if (rep.pitr.not_put_back[0]) log_error("%s", rep.pitr.not_put_back);
    if (rep.pitr.incomplete[0]) log_error("%s", rep.pitr.incomplete);
    if (rc && !rep.pitr.ran) goto out;   /* refused or failed before the load: the error says why */
    if (ctx->json) cli_json_print(rst_inst_report_json(&a.req, &rep));
    else if (!ctx->quiet || rc) rst_inst_report_print(&a.req, &rep, stdout);
out:
    rst_inst_report_free(&rep);
    repo_free(r);
    inst_free(in);
    return rc;
}
