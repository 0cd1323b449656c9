/* cmd_repo.c: repository-level commands: init, snapshots, check, repair
 * index, version. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cli/cli_opts.h"
#include "engine/cli/commands.h"
#include "engine/common/log.h"

/* A command without options of its own (the global ones are parsed in
 * main): no operands either. */
static int simple_opts(CliCtx *ctx, int argc, char **argv, Err *err)
{
    while (cli_getopt(ctx, argc, argv) != -1)
        return err_set(err, ERR_INVALID, "bad option (see --help)");   /* none in its table */
    if (optind < argc) return err_set(err, ERR_INVALID, "unexpected argument '%s' (see --help)", argv[optind]);
    return 0;
}

int cmd_init(CliCtx *ctx, int argc, char **argv, Err *err)
{
    Repo *r = NULL;
    int rc = simple_opts(ctx, argc, argv, err);
    if (rc) return rc;
    if ((rc = cli_repo_init(ctx, NULL, err))) return rc;
    if ((rc = cli_repo_open(ctx, &r, err))) return err_wrap(err, "repository created but cannot be opened");
    if (ctx->json) cli_json_print(json_pack("{s:s, s:s}", "repository", repo_sto(r)->location, "id", repo_id_hex(r)));
    else if (!ctx->quiet) printf("created repository %.12s at %s\n", repo_id_hex(r), repo_sto(r)->location);
    repo_free(r);
    return 0;
}

typedef struct SnapPrint {
    CliCtx *ctx;
    json_t *arr;
    size_t n;
    RepoSnapFilter f;
} SnapPrint;

static int print_snap(void *vctx, const Id *id, json_t *m, Err *err)
{
    SnapPrint *sp = vctx;
    char hex[ID_HEX_LEN + 1], tags[256] = "", kinds[256] = "";
    const char *inst = json_string_value(json_object_get(m, "instance"));
    size_t i;
    json_t *v;
    (void)err;
    if (!repo_snapshot_matches(m, &sp->f)) return 0;
    id_hex(id, hex);
    sp->n++;
    if (sp->ctx->json) {
        json_t *o = json_deep_copy(m);
        json_object_set_new(o, "id", json_string(hex));
        json_object_del(o, "items");
        json_t *ks = json_array();
        json_array_foreach(json_object_get(m, "items"), i, v) {
            json_t *k = json_object_get(v, "kind"), *nm = json_object_get(v, "name");
            json_t *ki = json_pack("{s:O?, s:O?}", "kind", k, "name", nm);
            if (json_is_true(json_object_get(v, "app"))) json_object_set_new(ki, "app", json_true());
            if (json_object_get(v, "app_link")) json_object_set(ki, "app_link", json_object_get(v, "app_link"));
            json_array_append_new(ks, ki);
        }
        json_object_set_new(o, "items", ks);
        json_array_append_new(sp->arr, o);
        return 0;
    }
    json_array_foreach(json_object_get(m, "tags"), i, v) {
        size_t l = strlen(tags);
        snprintf(tags + l, sizeof tags - l, "%s%s", l ? "," : "", json_string_value(v));
    }
    json_array_foreach(json_object_get(m, "items"), i, v) {
        size_t l = strlen(kinds);
        const char *k = json_string_value(json_object_get(v, "kind"));
        const char *nm = json_string_value(json_object_get(v, "name"));
        snprintf(kinds + l, sizeof kinds - l, "%s%s%s%s%s", l ? " " : "", k ? k : "?", nm ? ":" : "", nm ? nm : "",
                 json_is_true(json_object_get(v, "app")) ? "(app)" : "");
    }
    if ((v = json_object_get(m, "dolibarr"))) {   /* the schema version: last upgrade, else install */
        json_t *ver = json_object_get(v, "last_upgrade");
        if (!json_is_string(ver)) ver = json_object_get(v, "last_install");
        size_t l = strlen(kinds);
        if (json_is_string(ver)) snprintf(kinds + l, sizeof kinds - l, " dolibarr=%s", json_string_value(ver));
    }
    const char *tm = json_string_value(json_object_get(m, "time"));
    printf("%.12s  %.19s   %-12s  %-16s  %s\n", hex, tm ? tm : "-", inst ? inst : "-",
           tags[0] ? tags : "-", kinds);
    return 0;
}

int cmd_snapshots(CliCtx *ctx, int argc, char **argv, Err *err)
{
    Repo *r = NULL;
    SnapPrint sp = {ctx, NULL, 0, {0}};
    const char *tags[256];
    int rc, c;
    while ((c = cli_getopt(ctx, argc, argv)) != -1) {
        if (c != 't') return err_set(err, ERR_INVALID, "bad option (see --help)");
        if (sp.f.ntags == 256) return err_set(err, ERR_INVALID, "too many --tag");
        tags[sp.f.ntags++] = optarg;
    }
    if (optind < argc) return err_set(err, ERR_INVALID, "unexpected argument '%s' (see --help)", argv[optind]);
    sp.f.instance = ctx->instance;
    sp.f.tags = tags;
    if ((rc = cli_repo_open(ctx, &r, err))) return rc;
    sp.arr = json_array();
    if (!ctx->json) printf("%-12s  %-20s  %-12s  %-16s  %s\n", "ID", "TIME (UTC)", "INSTANCE", "TAGS", "ITEMS");
    rc = repo_snapshot_list(r, print_snap, &sp, err);
    if (!rc && ctx->json) { cli_json_print(sp.arr); sp.arr = NULL; }
    else if (!rc && !ctx->quiet) printf("%zu snapshot%s\n", sp.n, sp.n == 1 ? "" : "s");
    json_decref(sp.arr);
    repo_free(r);
    return rc;
}

typedef struct CheckOut {
    CliCtx *ctx;
    json_t *findings;
} CheckOut;

static void on_finding(void *vctx, bool is_error, const char *msg)
{
    CheckOut *co = vctx;
    if (co->ctx->json) {
        json_array_append_new(co->findings, json_pack("{s:s, s:s}", "level", is_error ? "error" : "warning", "message", msg));
        return;
    }
    fprintf(is_error ? stdout : stderr, "%s: %s\n", is_error ? "error" : "warning", msg);
}

int cmd_check(CliCtx *ctx, int argc, char **argv, Err *err)
{
    RepoCheckOptions opt = {false, 0, ctx->progress};
    RepoCheckReport rep;
    CheckOut co = {ctx, NULL};
    Repo *r = NULL;
    int c, rc;
    while ((c = cli_getopt(ctx, argc, argv)) != -1) {
        switch (c) {
        case 'd': opt.read_data = true; break;
        case 's': {
            char *end;
            double p = strtod(optarg, &end);
            if (end == optarg || (*end && strcmp(end, "%") != 0) || p <= 0 || p > 100)
                return err_set(err, ERR_INVALID, "--read-data-subset takes a percentage in (0, 100], e.g. 10%%");
            opt.read_data = true;
            opt.subset_pct = p;
            break;
        }
        default: return err_set(err, ERR_INVALID, "bad option (see --help)");
        }
    }
    if ((rc = cli_repo_open(ctx, &r, err))) return rc;
    if ((rc = repo_lock(r, false, err))) goto out;
    co.findings = json_array();
    rc = repo_check(r, &opt, on_finding, &co, &rep, err);
    if (rc) goto out;
    if (ctx->json) {
        cli_json_print(json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:O}", "ok", rep.errors == 0, "errors",
                                 (json_int_t)rep.errors, "warnings", (json_int_t)rep.warnings, "snapshots",
                                 (json_int_t)rep.snapshots, "packs", (json_int_t)rep.packs, "packs_read",
                                 (json_int_t)rep.packs_read, "chunks_indexed", (json_int_t)rep.chunks_indexed,
                                 "chunks_referenced", (json_int_t)rep.chunks_referenced, "blobs_verified",
                                 (json_int_t)rep.blobs_verified, "findings", co.findings));
    } else if (!ctx->quiet || rep.errors) {
        printf("%llu snapshots, %llu packs, %llu chunks indexed, %llu chunk references%s",
               (unsigned long long)rep.snapshots, (unsigned long long)rep.packs, (unsigned long long)rep.chunks_indexed,
               (unsigned long long)rep.chunks_referenced, opt.read_data ? "" : "\n");
        if (opt.read_data) printf(", %llu packs read, %llu blobs verified\n", (unsigned long long)rep.packs_read,
                                  (unsigned long long)rep.blobs_verified);
        printf("%s: %llu error%s, %llu warning%s\n", rep.errors ? "check FAILED" : "check passed",
               (unsigned long long)rep.errors, rep.errors == 1 ? "" : "s", (unsigned long long)rep.warnings,
               rep.warnings == 1 ? "" : "s");
    }
    if (rep.errors) rc = err_set(err, ERR_CORRUPT, "%llu error%s found in repository %s", (unsigned long long)rep.errors,
                                 rep.errors == 1 ? "" : "s", repo_sto(r)->location);
out:
    json_decref(co.findings);
    repo_free(r);
    return rc;
}

int cmd_repair_index(CliCtx *ctx, int argc, char **argv, Err *err)
{
    Repo *r = NULL;
    uint64_t added = 0;
    int rc = simple_opts(ctx, argc, argv, err);
    if (rc) return rc;
    if ((rc = cli_repo_open(ctx, &r, err))) return rc;
    if (!(rc = repo_lock(r, false, err))) rc = repo_repair_index(r, &added, err);
    if (!rc) {
        if (ctx->json) cli_json_print(json_pack("{s:I}", "packs_added", (json_int_t)added));
        else if (!ctx->quiet) printf("%llu pack%s added to the index\n", (unsigned long long)added, added == 1 ? "" : "s");
    }
    if (rc) repo_free(r);
    else rc = repo_close(r, err);
    return rc;
}

int cmd_version(CliCtx *ctx, int argc, char **argv, Err *err)
{
    int rc = simple_opts(ctx, argc, argv, err);
    if (rc) return rc;
    if (ctx->json) cli_json_print(json_pack("{s:s, s:i}", "version", TM_VERSION, "format", REPO_FORMAT_VERSION));
    else printf("tidemark %s (repository format %d)\n", TM_VERSION, REPO_FORMAT_VERSION);
    return 0;
}
