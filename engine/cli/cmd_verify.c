/* cmd_verify.c: `verify instance`: the Dolibarr checks (restore/dolibarr)
 * on the instance's database and documents or on a target: parse, call,
 * print. Invariant: database passwords come from files or the config. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cli/cli_opts.h"
#include "engine/cli/commands.h"
#include "restore/dolibarr/rst_dolibarr.h"

/* The version constants snapshot ref recorded as ex's expectation (strings
 * borrowed from *manifest, the caller's). */
static int snapshot_expect(Inst *in, const char *ref, json_t **manifest, RstDolExpect *ex, Err *err)
{
    InstDolVersions v;
    Repo *r = NULL;
    int rc;

    if ((rc = inst_repo_open(in, cli_prompt, &r, err))) return rc;
    rc = repo_snapshot_get(r, ref, inst_name(in), manifest, NULL, err);
    repo_free(r);
    if (rc) return rc;
    if (inst_snapshot_dol_versions(*manifest, &v))
        return err_set(err, ERR_NOTFOUND, "snapshot %s recorded no Dolibarr version constants "
                       "(made before tidemark recorded them, or not a Dolibarr database)", ref);
    ex->first_install = v.first_install;
    ex->last_install = v.last_install;
    ex->last_upgrade = v.last_upgrade;
    return 0;
}

int cmd_verify_instance(CliCtx *ctx, int argc, char **argv, Err *err)
{
    InstTarget t = {0};
    RstDolExpect ex = {0};
    RstDolReport rep = {0};
    const char *tdb = NULL, *root = NULL, *prefix = NULL, *snap = NULL;
    json_t *manifest = NULL;
    char *db = NULL;
    MdbConn conn;
    Inst *in = NULL;
    int rc, c;

    while ((c = cli_getopt(ctx, argc, argv)) != -1) {
        switch (c) {
        case 'd': tdb = optarg; break;
        case 'D': root = optarg; break;
        case 'x': prefix = optarg; break;
        case 'V': ex.version = optarg; break;
        case 's': snap = optarg; break;
        case 'H': t.host = optarg; break;
        case 'P': t.port = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'S': t.socket = optarg; break;
        case 'u': t.user = optarg; break;
        case 'p': t.password_file = optarg; break;
        case 'f': t.defaults_file = optarg; break;
        default: return err_set(err, ERR_INVALID, "bad option (see --help)");
        }
    }
    if (optind < argc) return err_set(err, ERR_INVALID, "unexpected argument '%s'", argv[optind]);
    if ((rc = cli_inst_open(ctx, NULL, &in, err))) return rc;
    if (!prefix && (rc = inst_db_prefix(in, &prefix, err))) goto out;
    if (!root && (rc = inst_path(in, "documents_dir", &root, NULL, 0, err))) goto out;
    if (!root) {
        rc = err_set(err, ERR_INVALID, "no documents directory: give --data-root DIR or set "
                     "documents_dir of instance %s", inst_name(in));
        goto out;
    }
    if (!tdb) rc = inst_only_database(in, &db, err);
    else if (!(db = strdup(tdb))) rc = err_set(err, ERR_NOMEM, "out of memory");
    if (rc) goto out;
    if (snap && (rc = snapshot_expect(in, snap, &manifest, &ex, err))) goto out;
    if ((rc = inst_target_conn(in, &t, &conn, err))) goto out;
    rc = rst_dol_verify(&conn, db, prefix, root, ex.version || snap ? &ex : NULL, &rep, err);
    if (rc && rc != ERR_VERIFY) goto out;   /* a check could not run: the error says which */
    if (ctx->json) cli_json_print(rst_dol_report_json(&rep));
    else if (!ctx->quiet || rc) rst_dol_report_print(&rep, stdout);
out:
    rst_dol_report_free(&rep);
    json_decref(manifest);
    free(db);
    inst_free(in);
    return rc;
}
