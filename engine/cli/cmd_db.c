/* cmd_db.c: `backup` (database + the instance's file trees in one
 * snapshot), `backup db`, `restore db`, `export sql`: argument parsing and
 * printing around engine/source/dump and restore/db.
 * Invariant: the snapshot is put only when the dump and every files item
 * succeeded; database passwords come from files or the config, never argv. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cli/commands.h"
#include "engine/common/log.h"
#include "engine/source/dump/src_dump.h"
#include "engine/source/files/src_files.h"
#include "restore/db/rst_db.h"

#define MAX_LIST 256

static int conf_uint(CliCtx *ctx, const char *inst, const char *key, uint64_t *out, Err *err)
{
    if (!conf_get(ctx->conf, inst, key)) return 0;   /* keep the caller's default */
    return conf_get_uint(ctx->conf, inst, key, out, err);
}

/* One files item (path from the config) into manifest. */
static int backup_path(CliCtx *ctx, Repo *r, const char *inst, const char *path, json_t *manifest,
                       Err *err)
{
    SrcFilesOptions fo = {.progress = ctx->progress};
    SrcFilesStats st = {0};
    json_t *parent = NULL, *item = NULL;
    char *abs = src_files_root_name(path);
    int rc;

    if (!abs) return err_sys(err, errno, "resolve %s", path);
    rc = src_files_find_parent(r, inst, abs, &parent, err);
    if (!rc) rc = src_files_backup(r, abs, path, &fo, parent, &item, &st, err);
    if (!rc) {
        json_array_append_new(json_object_get(manifest, "items"), item);
        if (!ctx->json && !ctx->quiet)
            fprintf(stderr, "%s: %llu files, %llu bytes (%llu read, %llu unchanged)\n", abs,
                    (unsigned long long)st.files, (unsigned long long)st.bytes,
                    (unsigned long long)st.files_read, (unsigned long long)st.files_cached);
    }
    json_decref(parent);
    free(abs);
    return rc;
}

static int backup_common(CliCtx *ctx, int argc, char **argv, bool with_files, Err *err)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},         {"json", no_argument, NULL, 'J'},
        {"instance", required_argument, NULL, 'i'}, {"tag", required_argument, NULL, 't'},
        {"with-grants", no_argument, NULL, 'G'},  {"threads", required_argument, NULL, 'T'},
        {"no-files", no_argument, NULL, 'F'},     {"force-lock", no_argument, NULL, 'L'},
        {NULL, 0, NULL, 0},
    };
    static const char usage[] =
        "usage: tidemark backup [--instance NAME] [--tag T]... [--with-grants] [--threads N]\n"
        "                       [--no-files] [--force-lock] [--json]\n"
        "       tidemark backup db [same options]\n"
        "One snapshot of the instance: a consistent dump of its database(s) (config key\n"
        "'databases', default all) with the binlog coordinates of the dump's point, plus its\n"
        "file trees (documents_dir, conf_php, custom_dir, extra_paths) unless --no-files or\n"
        "'backup db'. Nothing is committed unless every part succeeds. --force-lock takes\n"
        "the point under a short global lock (BACKUP STAGE BLOCK_COMMIT) even when the\n"
        "connections agree on it without one.\n";
    const char *inst = NULL, *tags[MAX_LIST];
    size_t ntags = 0;
    SrcDumpOptions o = {0};
    SrcDumpStats st = {0};
    SrcDbConn conn;
    char *secret = NULL, **dbs = NULL;
    size_t ndbs = 0;
    uint64_t u;
    Repo *r = NULL;
    json_t *manifest = NULL, *item = NULL;
    bool force_lock = false;
    long threads = 0;
    int rc = 0, c;

    while ((c = getopt_long(argc, argv, "hi:t:GT:F", opts, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(usage, stdout); return 0;
        case 'J': ctx->json = true; break;
        case 'i': inst = optarg; break;
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
        default: return err_set(err, ERR_INVALID, "bad option (see --help)");
        }
    }
    if (optind < argc) return err_set(err, ERR_INVALID, "unexpected argument %s", argv[optind]);
    if (!(inst = cli_instance(ctx, inst, err))) return err->code;
    if ((rc = src_db_conn_from_conf(ctx->conf, inst, &conn, &secret, err))) goto out;
    if (conf_get(ctx->conf, inst, "databases") &&
        (rc = conf_get_list(ctx->conf, inst, "databases", &dbs, &ndbs, err)))
        goto out;
    o.databases = (const char *const *)dbs;
    u = 2;
    if ((rc = conf_uint(ctx, inst, "dump_threads", &u, err))) goto out;
    o.threads = threads ? (unsigned)threads : (unsigned)u;
    u = 10;
    if ((rc = conf_uint(ctx, inst, "db_lock_wait_timeout", &u, err))) goto out;
    o.lock_wait_timeout = (unsigned)u;
    u = 256u << 20;
    if (conf_get(ctx->conf, inst, "dump_part_size") &&
        (rc = conf_get_size(ctx->conf, inst, "dump_part_size", &u, err)))
        goto out;
    o.part_size = u;
    o.force_lock = force_lock;
    o.progress = ctx->progress;

    if ((rc = cli_repo_open(ctx, &r, err))) goto out;
    if ((rc = cli_backup_begin(ctx, r, err))) goto out;
    manifest = repo_manifest_new(inst, tags, ntags);
    if (!manifest) {
        rc = err_set(err, ERR_NOMEM, "manifest");
        goto out;
    }
    if ((rc = src_dump_backup(r, &conn, &o, &item, &st, err))) goto out;
    json_array_append(json_object_get(manifest, "items"), item);
    if (!ctx->json && !ctx->quiet)
        fprintf(stderr,
                "database: %llu tables, %llu rows, %.1f MB in %.1f s (%.1f MB/s); point by %s, "
                "global lock held %.1f ms\n",
                (unsigned long long)st.tables, (unsigned long long)st.rows, (double)st.bytes / 1e6,
                st.seconds, st.seconds > 0 ? (double)st.bytes / 1e6 / st.seconds : 0.0, st.method,
                st.lock_ms);
    if (st.prepared_xa > 0 && !ctx->quiet)
        fprintf(stderr,
                "tidemark: warn: %d XA transaction(s) prepared at the dump's point (%s): their "
                "changes are not in this snapshot; a point-in-time restore from it past their XA "
                "COMMIT replays them only when the binlog archive holds their XA PREPARE (else it "
                "is refused): take the next backup once they have ended\n",
                st.prepared_xa, st.prepared_xa_ids);
    if (with_files) {
        static const char *keys[] = {"documents_dir", "conf_php", "custom_dir"};
        for (size_t i = 0; i < 3; i++) {
            const char *p = conf_get(ctx->conf, inst, keys[i]);
            if (p && *p && (rc = backup_path(ctx, r, inst, p, manifest, err))) goto out;
        }
        if (conf_get(ctx->conf, inst, "extra_paths")) {
            char **extra = NULL;
            size_t nextra = 0;
            if ((rc = conf_get_list(ctx->conf, inst, "extra_paths", &extra, &nextra, err)))
                goto out;
            for (size_t i = 0; i < nextra && !rc; i++)
                rc = backup_path(ctx, r, inst, extra[i], manifest, err);
            conf_list_free(extra);
            if (rc) goto out;
        }
    }
    Id id;
    char hex[ID_HEX_LEN + 1];
    if ((rc = repo_snapshot_put(r, manifest, &id, err))) goto out;
    id_hex(&id, hex);
    RepoStats rs;
    repo_stats_get(r, &rs);
    rc = repo_close(r, err);
    r = NULL;
    if (rc) goto out;
    if (ctx->json) {
        json_t *bl = json_object_get(item, "binlog");
        json_t *px = json_object_get(item, "prepared_xa");
        px = px ? json_incref(px) : json_array();
        cli_json_print(json_pack("{s:s,s:I,s:I,s:I,s:f,s:f,s:s,s:O,s:I,s:I,s:o}", "snapshot", hex,
                                 "tables", (json_int_t)st.tables, "rows", (json_int_t)st.rows,
                                 "dump_bytes", (json_int_t)st.bytes, "dump_seconds", st.seconds,
                                 "lock_ms", st.lock_ms, "method", st.method, "binlog",
                                 bl ? bl : json_null(), "bytes_new", (json_int_t)rs.bytes_new,
                                 "bytes_stored", (json_int_t)rs.bytes_stored, "prepared_xa", px));
    } else if (!ctx->quiet) {
        printf("snapshot %.12s saved (%llu new bytes, %llu stored)\n", hex,
               (unsigned long long)rs.bytes_new, (unsigned long long)rs.bytes_stored);
    }
out:
    if (rc) err_wrap(err, "nothing committed");
    repo_free(r);
    json_decref(item);
    json_decref(manifest);
    conf_list_free(dbs);
    src_db_secret_free(secret);
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

int cmd_restore_db(CliCtx *ctx, int argc, char **argv, Err *err)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {"json", no_argument, NULL, 'J'},
        {"instance", required_argument, NULL, 'i'},
        {"snapshot", required_argument, NULL, 's'},
        {"tag", required_argument, NULL, 't'},
        {"target-db", required_argument, NULL, 'd'},
        {"drop-existing", no_argument, NULL, 'D'},
        {"threads", required_argument, NULL, 'T'},
        {"with-grants", no_argument, NULL, 'G'},
        {"no-verify", no_argument, NULL, 'N'},
        {"write-binlog", no_argument, NULL, 'B'},
        {"host", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'P'},
        {"socket", required_argument, NULL, 'S'},
        {"user", required_argument, NULL, 'u'},
        {"password-file", required_argument, NULL, 'p'},
        {"defaults-file", required_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    static const char usage[] =
        "usage: tidemark restore db [--instance NAME] --snapshot ID [--tag T]... [--target-db NAME]\n"
        "                           [--drop-existing] [--threads N] [--with-grants] [--no-verify]\n"
        "                           [--write-binlog]\n"
        "                           [--host H] [--port P] [--socket S] [--user U]\n"
        "                           [--password-file F] [--defaults-file F] [--json]\n"
        "Load the snapshot's database(s) into the target server (default: the instance's own\n"
        "connection), rows through LOAD DATA LOCAL INFILE straight from the repository,\n"
        "tables in parallel, then recompute every table's content hash and compare (exit\n"
        "code 0 only when all match). A non-empty target database is refused unless\n"
        "--drop-existing. The load is kept out of the target's binlog (sql_log_bin=0, when\n"
        "the account may) unless --write-binlog.\n";
    const char *tags[MAX_LIST];
    size_t ntags = 0;
    const char *inst = NULL, *snap = NULL, *pwfile = NULL;
    RstDbOptions o = {0};
    RstDbStats st = {0};
    SrcDbConn conn;
    SrcDbConn over = {0};
    char *secret = NULL, *secret2 = NULL, hex[ID_HEX_LEN + 1];
    Repo *r = NULL;
    json_t *m = NULL;
    const json_t *item = NULL;
    bool have_conf_conn;
    uint64_t u;
    int rc = 0, c;
    Err e2;

    for (int k = 1; k < argc; k++)   /* point-in-time restore: cmd_pitr.c */
        if (!strncmp(argv[k], "--to", 4) || !strncmp(argv[k], "--before-gtid", 13) ||
            !strcmp(argv[k], "--plan"))
            return cmd_restore_pitr(ctx, argc, argv, err);
    while ((c = getopt_long(argc, argv, "hi:s:d:DT:GNt:", opts, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(usage, stdout); return 0;
        case 'J': ctx->json = true; break;
        case 'i': inst = optarg; break;
        case 's': snap = optarg; break;
        case 't':
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
        default: return err_set(err, ERR_INVALID, "bad option (see --help)");
        }
    }
    if (optind < argc) return err_set(err, ERR_INVALID, "unexpected argument %s", argv[optind]);
    if (!snap) return err_set(err, ERR_INVALID, "--snapshot ID is required (or \"latest\")");
    if (!(inst = cli_instance(ctx, inst, err))) return err->code;
    err_clear(&e2);
    have_conf_conn = src_db_conn_from_conf(ctx->conf, inst, &conn, &secret, &e2) == 0;
    if (!have_conf_conn) memset(&conn, 0, sizeof conn);
    if (over.host || over.socket || over.defaults_file) {
        /* an explicit target replaces the instance's address entirely */
        conn.host = over.host;
        conn.socket = over.socket;
        conn.port = over.port;
        conn.defaults_file = over.defaults_file;
        if (over.user) conn.user = over.user;
    } else if (!have_conf_conn) {
        *err = e2;
        return err->code;
    } else {
        if (over.port) conn.port = over.port;
        if (over.user) conn.user = over.user;
    }
    if (pwfile) {
        FILE *f = fopen(pwfile, "re");
        char buf[4096];
        size_t n;
        if (!f) {
            rc = err_sys(err, errno, "open --password-file %s", pwfile);
            goto out;
        }
        n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) n--;
        buf[n] = '\0';
        secret2 = strdup(buf);
        memset(buf, 0, sizeof buf);
        if (!secret2) {
            rc = err_set(err, ERR_NOMEM, "out of memory");
            goto out;
        }
        conn.password = secret2;
    }
    if (!o.threads) {
        u = 2;
        if ((rc = conf_uint(ctx, inst, "load_threads", &u, err))) goto out;
        o.threads = (unsigned)u;
    }
    o.progress = ctx->progress;
    if ((rc = open_item(ctx, inst, snap, tags, ntags, &r, &m, &item, hex, err))) goto out;
    rc = rst_db_load(r, item, &conn, &o, &st, err);
    if (ctx->json) {
        cli_json_print(json_pack("{s:s,s:s,s:I,s:I,s:I,s:f,s:f,s:I,s:s*,s:I}", "snapshot", hex,
                                 "verdict",
                                 o.skip_verify ? "not verified"
                                 : rc == 0     ? "verified"
                                               : "failed",
                                 "tables", (json_int_t)st.tables, "rows", (json_int_t)st.rows,
                                 "bytes", (json_int_t)st.bytes, "load_seconds", st.load_s,
                                 "verify_seconds", st.verify_s, "mismatches",
                                 (json_int_t)st.mismatches, "comparison",
                                 o.skip_verify ? NULL : rst_db_comparison_id(&st),
                                 "old_float_tables", (json_int_t)st.float_count));
    } else if (!ctx->quiet && (rc == 0 || rc == ERR_VERIFY)) {
        fprintf(stderr, "loaded %llu tables, %llu rows, %.1f MB in %.1f s (%.0f rows/s)\n",
                (unsigned long long)st.tables, (unsigned long long)st.rows, (double)st.bytes / 1e6,
                st.load_s, st.load_s > 0 ? (double)st.rows / st.load_s : 0.0);
        if (!o.skip_verify) {
            printf("verification: %s (%llu tables, %llu differ, %.1f s; compared: %s)\n",
                   rc == 0 ? "OK, every table's content hash matches the snapshot" : "FAILED",
                   (unsigned long long)st.tables, (unsigned long long)st.mismatches, st.verify_s,
                   rst_db_comparison(&st));
            print_float_note(&st);
        }
    }
    if (rc) goto out;
out:
    json_decref(m);
    repo_free(r);
    src_db_secret_free(secret);
    src_db_secret_free(secret2);
    return rc;
}

int cmd_export_sql(CliCtx *ctx, int argc, char **argv, Err *err)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {"instance", required_argument, NULL, 'i'},
        {"snapshot", required_argument, NULL, 's'},
        {"tag", required_argument, NULL, 't'},
        {"target-db", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    static const char usage[] =
        "usage: tidemark export sql [--instance NAME] --snapshot ID [--tag T]... [--target-db NAME] > dump.sql\n"
        "Write the snapshot's database(s) as plain SQL for the stock `mariadb` client.\n";
    const char *tags[MAX_LIST];
    size_t ntags = 0;
    const char *inst = NULL, *snap = NULL, *tdb = NULL;
    char hex[ID_HEX_LEN + 1];
    Repo *r = NULL;
    json_t *m = NULL;
    const json_t *item = NULL;
    int rc, c;

    while ((c = getopt_long(argc, argv, "hi:s:d:t:", opts, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(usage, stdout); return 0;
        case 'i': inst = optarg; break;
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
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {"json", no_argument, NULL, 'J'},
        {"instance", required_argument, NULL, 'i'},
        {"snapshot", required_argument, NULL, 's'},
        {"tag", required_argument, NULL, 't'},
        {"target-db", required_argument, NULL, 'd'},
        {"threads", required_argument, NULL, 'T'},
        {NULL, 0, NULL, 0},
    };
    static const char usage[] =
        "usage: tidemark verify db [--instance NAME] --snapshot ID [--tag T]... [--target-db NAME]\n"
        "                          [--threads N] [--json]\n"
        "Recompute the content hash of every table of the snapshot on the instance's server\n"
        "(in --target-db when given) and compare; exit 0 only when all match.\n";
    const char *tags[MAX_LIST];
    size_t ntags = 0;
    const char *inst = NULL, *snap = NULL, *tdb = NULL;
    unsigned threads = 2;
    char *secret = NULL, hex[ID_HEX_LEN + 1];
    SrcDbConn conn;
    RstDbStats st = {0};
    Repo *r = NULL;
    json_t *m = NULL;
    const json_t *item = NULL;
    int rc, c;

    while ((c = getopt_long(argc, argv, "hi:s:d:T:t:", opts, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(usage, stdout); return 0;
        case 'J': ctx->json = true; break;
        case 'i': inst = optarg; break;
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
    if ((rc = src_db_conn_from_conf(ctx->conf, inst, &conn, &secret, err))) return rc;
    if ((rc = open_item(ctx, inst, snap, tags, ntags, &r, &m, &item, hex, err))) goto out;
    rc = rst_db_verify(r, item, &conn, tdb, threads, &st, err);
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
    src_db_secret_free(secret);
    return rc;
}
