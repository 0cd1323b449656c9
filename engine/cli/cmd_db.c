/* cmd_db.c: `backup` (database + the instance's file trees in one
 * snapshot), `backup db`, `restore db`, `export sql`, `verify db`: argument
 * parsing and printing around engine/instance (inst_backup,
 * inst_target_conn) and restore/db.
 * Invariant: database passwords come from files or the config, never argv. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cli/cli_opts.h"
#include "engine/cli/commands.h"
#include "engine/common/log.h"
#include "engine/source/dump/src_dump.h"
#include "engine/source/files/src_files.h"
#include "restore/db/rst_db.h"

#define MAX_LIST 256

/* What the backup says as each part ends (stderr, unless quiet or --json). */
static void on_backup_item(void *arg, const InstBackupItem *it)
{
    CliCtx *ctx = arg;
    const SrcDumpStats *st = it->db;
    const SrcFilesStats *fs = it->files;

    if (it->kind == INST_BACKUP_ADOPTED) {
        cli_adopted_print(ctx, it->adopted);
    } else if (it->kind == INST_BACKUP_FILES) {
        if (!ctx->json && !ctx->quiet)
            fprintf(stderr, "%s: %llu files, %llu bytes (%llu read, %llu unchanged)\n", it->path,
                    (unsigned long long)fs->files, (unsigned long long)fs->bytes,
                    (unsigned long long)fs->files_read, (unsigned long long)fs->files_cached);
    } else {
        if (!ctx->json && !ctx->quiet)
            fprintf(stderr,
                    "database: %llu tables, %llu rows, %.1f MB in %.1f s (%.1f MB/s); point by %s, "
                    "global lock held %.1f ms\n",
                    (unsigned long long)st->tables, (unsigned long long)st->rows,
                    (double)st->bytes / 1e6, st->seconds,
                    st->seconds > 0 ? (double)st->bytes / 1e6 / st->seconds : 0.0, st->method,
                    st->lock_ms);
        if (st->prepared_xa > 0 && !ctx->quiet)
            fprintf(stderr,
                    "tidemark: warn: %d XA transaction(s) prepared at the dump's point (%s): their "
                    "changes are not in this snapshot; a point-in-time restore from it past their XA "
                    "COMMIT replays them only when the binlog archive holds their XA PREPARE (else it "
                    "is refused): take the next backup once they have ended\n",
                    st->prepared_xa, st->prepared_xa_ids);
    }
}

static void print_backup(CliCtx *ctx, const InstBackupResult *res)
{
    const SrcDumpStats *st = &res->db;
    if (ctx->json) {
        cli_json_print(json_pack("{s:s,s:I,s:I,s:I,s:f,s:f,s:s,s:O,s:I,s:I,s:O}", "snapshot",
                                 res->snapshot, "tables", (json_int_t)st->tables, "rows",
                                 (json_int_t)st->rows, "dump_bytes", (json_int_t)st->bytes,
                                 "dump_seconds", st->seconds, "lock_ms", st->lock_ms, "method",
                                 st->method, "binlog", res->binlog ? res->binlog : json_null(),
                                 "bytes_new", (json_int_t)res->repo.bytes_new, "bytes_stored",
                                 (json_int_t)res->repo.bytes_stored, "prepared_xa",
                                 res->prepared_xa));
    } else if (!ctx->quiet) {
        printf("snapshot %.12s saved (%llu new bytes, %llu stored)\n", res->snapshot,
               (unsigned long long)res->repo.bytes_new, (unsigned long long)res->repo.bytes_stored);
    }
}

static int backup_common(CliCtx *ctx, int argc, char **argv, bool with_files, Err *err)
{
    const char *inst = NULL, *tags[MAX_LIST];
    size_t ntags = 0;
    SrcDumpOptions o = {0};
    const MdbConn *conn = NULL;
    InstBackupOptions bo;
    InstBackupResult res = {0};
    Inst *in = NULL;
    Repo *r = NULL;
    bool force_lock = false, with_app = false;
    long threads = 0;
    int rc = 0, c;

    while ((c = cli_getopt(ctx, argc, argv)) != -1) {
        switch (c) {
        case 't':
            if (ntags == MAX_LIST) return err_set(err, ERR_INVALID, "too many --tag");
            tags[ntags++] = optarg;
            break;
        case 'G': o.with_grants = true; break;
        case 'T':
            threads = strtol(optarg, NULL, 10);
            if (threads < 1 || threads > 64)
                return err_set(err, ERR_INVALID, "--threads wants 1..64, not %s", optarg);
            break;
        case 'F': with_files = false; break;
        case 'L': force_lock = true; break;
        case 'A': with_app = true; break;
        default: return err_set(err, ERR_INVALID, "bad option (see --help)");
        }
    }
    if (optind < argc) return err_set(err, ERR_INVALID, "unexpected argument %s", argv[optind]);
    if (!(inst = cli_instance(ctx, inst, err))) return err->code;
    if ((rc = inst_open(ctx->conf, inst, &in, err))) goto out;
    if ((rc = inst_db_conn(in, &conn, err))) goto out;   /* before the passphrase is asked */
    bo = (InstBackupOptions){.tags = tags, .ntags = ntags, .with_files = with_files,
                             .with_grants = o.with_grants, .with_app = with_app,
                             .threads = (unsigned)threads,
                             .force_lock = force_lock, .progress = ctx->progress,
                             .on_item = on_backup_item, .ctx = ctx};
    if ((rc = inst_repo_open(in, cli_prompt, &r, err))) goto out;
    if ((rc = inst_backup(in, r, &bo, &res, err))) goto out;
    rc = repo_close(r, err);
    r = NULL;
    if (!rc) print_backup(ctx, &res);
out:
    if (rc) err_wrap(err, "nothing committed");
    repo_free(r);
    inst_backup_result_free(&res);
    inst_free(in);
    return rc;
}

int cmd_backup(CliCtx *ctx, int argc, char **argv, Err *err)
{
    return backup_common(ctx, argc, argv, true, err);
}

int cmd_backup_db(CliCtx *ctx, int argc, char **argv, Err *err)
{
    return backup_common(ctx, argc, argv, false, err);
}

/* Old snapshots stored FLOATs rounded to 6 significant digits, which their
 * encoding's hash cannot see: say so, naming the tables. */
static void print_float_note(const RstDbStats *st)
{
    if (!st->float_count) return;
    printf("verification: note: %llu table(s) with FLOAT columns (%s%s) come from a snapshot "
           "made before values hashes, which stored FLOAT values rounded to 6 significant "
           "digits: they match the snapshot, not necessarily the source\n",
           (unsigned long long)st->float_count, st->float_tables,
           st->float_count > 10 ? ", ..." : "");
}

/* "latest": the newest snapshot of inst with every tag that holds a database item. */
static int open_item(CliCtx *ctx, const char *inst, const char *ref, const char *const *tags,
                     size_t ntags, Repo **out_r, json_t **out_m, const json_t **out_item,
                     char hex[ID_HEX_LEN + 1], Err *err)
{
    Repo *r = NULL;
    Id id;
    RepoSnapFilter f = {.instance = inst, .tags = tags, .ntags = ntags, .item_kind = "mariadb"};
    int rc = cli_repo_open(ctx, &r, err);
    if (!rc) rc = repo_lock(r, false, err);
    if (!rc) rc = repo_snapshot_find(r, ref, &f, out_m, &id, err);
    if (rc) {
        repo_free(r);
        return rc;
    }
    id_hex(&id, hex);
    *out_item = rst_db_item(*out_m);
    if (!*out_item) {
        json_decref(*out_m);
        *out_m = NULL;
        repo_free(r);
        return err_set(err, ERR_NOTFOUND, "snapshot %.12s has no database item", hex);
    }
    *out_r = r;
    return 0;
}

static void print_restore(CliCtx *ctx, const RstDbOptions *o, const RstDbStats *st, const char *hex,
                          int rc)
{
    if (ctx->json) {
        cli_json_print(json_pack("{s:s,s:s,s:I,s:I,s:I,s:f,s:f,s:I,s:s*,s:I}", "snapshot", hex,
                                 "verdict",
                                 o->skip_verify ? "not verified"
                                 : rc == 0      ? "verified"
                                                : "failed",
                                 "tables", (json_int_t)st->tables, "rows", (json_int_t)st->rows,
                                 "bytes", (json_int_t)st->bytes, "load_seconds", st->load_s,
                                 "verify_seconds", st->verify_s, "mismatches",
                                 (json_int_t)st->mismatches, "comparison",
                                 o->skip_verify ? NULL : rst_db_comparison_id(st),
                                 "old_float_tables", (json_int_t)st->float_count));
    } else if (!ctx->quiet && (rc == 0 || rc == ERR_VERIFY)) {
        fprintf(stderr, "loaded %llu tables, %llu rows, %.1f MB in %.1f s (%.0f rows/s)\n",
                (unsigned long long)st->tables, (unsigned long long)st->rows, (double)st->bytes / 1e6,
                st->load_s, st->load_s > 0 ? (double)st->rows / st->load_s : 0.0);
        if (!o->skip_verify) {
            printf("verification: %s (%llu tables, %llu differ, %.1f s; compared: %s)\n",
                   rc == 0 ? "OK, every table's content hash matches the snapshot" : "FAILED",
                   (unsigned long long)st->tables, (unsigned long long)st->mismatches, st->verify_s,
                   rst_db_comparison(st));
            print_float_note(st);
        }
    }
}

int cmd_restore_db(CliCtx *ctx, int argc, char **argv, Err *err)
{
    static const char *const pitr_opts[] = {"to", "to-gtid", "before-gtid", "plan", NULL};
    const char *tags[MAX_LIST];
    size_t ntags = 0;
    const char *inst = NULL, *snap = NULL, *pwfile = NULL;
    RstDbOptions o = {0};
    RstDbStats st = {0};
    MdbConn conn;
    MdbConn over = {0};
    InstTarget tgt;
    char hex[ID_HEX_LEN + 1];
    Inst *in = NULL;
    Repo *r = NULL;
    json_t *m = NULL;
    const json_t *item = NULL;
    int rc = 0, c;

    if (cli_opt_given(ctx, argc, argv, pitr_opts))   /* point-in-time restore: cmd_pitr.c */
        return cmd_restore_pitr(ctx, argc, argv, err);
    while ((c = cli_getopt(ctx, argc, argv)) != -1) {
        switch (c) {
        case 's': snap = optarg; break;
        case CLI_KEY_TAG:
            if (ntags == MAX_LIST) return err_set(err, ERR_INVALID, "too many --tag");
            tags[ntags++] = optarg;
            break;
        case 'd': o.target_db = optarg; break;
        case 'D': o.drop_existing = true; break;
        case 'T': o.threads = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'G': o.with_grants = true; break;
        case 'N': o.skip_verify = true; break;
        case 'B': o.write_binlog = true; break;
        case 'H': over.host = optarg; break;
        case 'P': over.port = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'S': over.socket = optarg; break;
        case 'u': over.user = optarg; break;
        case 'p': pwfile = optarg; break;
        case 'f': over.defaults_file = optarg; break;
        default: return cli_opt_refuse(ctx, c, "needs a point in time (--to, --to-gtid, --before-gtid) or --plan", err);
        }
    }
    if (optind < argc) return err_set(err, ERR_INVALID, "unexpected argument %s", argv[optind]);
    if (!snap) return err_set(err, ERR_INVALID, "--snapshot ID is required (or \"latest\")");
    if (!(inst = cli_instance(ctx, inst, err))) return err->code;
    if ((rc = inst_open(ctx->conf, inst, &in, err))) goto out;
    tgt = (InstTarget){.host = over.host, .socket = over.socket, .defaults_file = over.defaults_file,
                       .port = over.port, .user = over.user, .password_file = pwfile};
    if ((rc = inst_target_conn(in, &tgt, &conn, err))) goto out;
    if (!o.threads && (rc = inst_load_threads(in, &o.threads, err))) goto out;
    o.progress = ctx->progress;
    if ((rc = open_item(ctx, inst, snap, tags, ntags, &r, &m, &item, hex, err))) goto out;
    rc = rst_db_load(r, item, &conn, &o, &st, err);
    print_restore(ctx, &o, &st, hex, rc);
out:
    json_decref(m);
    repo_free(r);
    inst_free(in);
    return rc;
}

int cmd_export_sql(CliCtx *ctx, int argc, char **argv, Err *err)
{
    const char *tags[MAX_LIST];
    size_t ntags = 0;
    const char *inst = NULL, *snap = NULL, *tdb = NULL;
    char hex[ID_HEX_LEN + 1];
    Repo *r = NULL;
    json_t *m = NULL;
    const json_t *item = NULL;
    int rc, c;

    while ((c = cli_getopt(ctx, argc, argv)) != -1) {
        switch (c) {
        case 's': snap = optarg; break;
        case 't':
            if (ntags == MAX_LIST) return err_set(err, ERR_INVALID, "too many --tag");
            tags[ntags++] = optarg;
            break;
        case 'd': tdb = optarg; break;
        default: return err_set(err, ERR_INVALID, "bad option (see --help)");
        }
    }
    if (!snap) return err_set(err, ERR_INVALID, "--snapshot ID is required (or \"latest\")");
    if (!inst) inst = ctx->instance;
    if ((rc = open_item(ctx, inst, snap, tags, ntags, &r, &m, &item, hex, err))) return rc;
    rc = rst_db_export_sql(r, item, tdb, stdout, err);
    json_decref(m);
    repo_free(r);
    return rc;
}

int cmd_verify_db(CliCtx *ctx, int argc, char **argv, Err *err)
{
    const char *tags[MAX_LIST];
    size_t ntags = 0;
    const char *inst = NULL, *snap = NULL, *tdb = NULL;
    unsigned threads = 2;
    char hex[ID_HEX_LEN + 1];
    const MdbConn *conn = NULL;
    Inst *in = NULL;
    RstDbStats st = {0};
    Repo *r = NULL;
    json_t *m = NULL;
    const json_t *item = NULL;
    int rc, c;

    while ((c = cli_getopt(ctx, argc, argv)) != -1) {
        switch (c) {
        case 's': snap = optarg; break;
        case 't':
            if (ntags == MAX_LIST) return err_set(err, ERR_INVALID, "too many --tag");
            tags[ntags++] = optarg;
            break;
        case 'd': tdb = optarg; break;
        case 'T': threads = (unsigned)strtoul(optarg, NULL, 10); break;
        default: return err_set(err, ERR_INVALID, "bad option (see --help)");
        }
    }
    if (!snap) return err_set(err, ERR_INVALID, "--snapshot ID is required (or \"latest\")");
    if (!(inst = cli_instance(ctx, inst, err))) return err->code;
    if ((rc = inst_open(ctx->conf, inst, &in, err))) goto out;
    if ((rc = inst_db_conn(in, &conn, err))) goto out;
    if ((rc = open_item(ctx, inst, snap, tags, ntags, &r, &m, &item, hex, err))) goto out;
    rc = rst_db_verify(r, item, conn, tdb, threads, &st, err);
    if (ctx->json)
        cli_json_print(json_pack("{s:s,s:s,s:I,s:I,s:f,s:s,s:I}", "snapshot", hex, "verdict",
                                 rc == 0 ? "verified" : "failed", "tables", (json_int_t)st.tables,
                                 "mismatches", (json_int_t)st.mismatches, "seconds", st.verify_s,
                                 "comparison", rst_db_comparison_id(&st), "old_float_tables",
                                 (json_int_t)st.float_count));
    else if (!ctx->quiet && (rc == 0 || rc == ERR_VERIFY))
    {
        printf("verification: %s (%llu tables, %llu differ, %.1f s; compared: %s)\n",
               rc == 0 ? "OK, every table's content hash matches the snapshot" : "FAILED",
               (unsigned long long)st.tables, (unsigned long long)st.mismatches, st.verify_s,
               rst_db_comparison(&st));
        print_float_note(&st);
    }
out:
    json_decref(m);
    repo_free(r);
    inst_free(in);
    return rc;
}
