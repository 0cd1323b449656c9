/* cmd_files.c: `backup files`, `restore files`, `export tar`: argument
 * parsing and printing around engine/instance (inst_backup_files) and
 * restore/files.
 * One snapshot per `backup files` run, one files item per PATH (named by
 * its absolute path unless --name); the snapshot is put only when every
 * item succeeded (nothing is committed otherwise). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/cli/cli_opts.h"
#include "engine/cli/commands.h"
#include "engine/common/log.h"
#include "engine/source/files/src_files.h"
#include "restore/files/rst_files.h"

#define MAX_LIST 256

static json_t *stats_json(const char *name, const SrcFilesStats *s)
{
    return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "name", name,
                     "entries", (json_int_t)s->entries, "files", (json_int_t)s->files, "dirs",
                     (json_int_t)s->dirs, "symlinks", (json_int_t)s->symlinks, "hardlinks",
                     (json_int_t)s->hardlinks, "bytes", (json_int_t)s->bytes, "files_read",
                     (json_int_t)s->files_read, "bytes_read", (json_int_t)s->bytes_read,
                     "files_cached", (json_int_t)s->files_cached, "skipped", (json_int_t)s->skipped);
}

typedef struct FilesOut {
    CliCtx *ctx;
    json_t *arr;   /* --json: one stats object per item */
} FilesOut;

/* What backup files says as each item ends (and the packs adopted). */
static void on_files_item(void *arg, const InstBackupItem *it)
{
    FilesOut *fo = arg;
    const SrcFilesStats *st = it->files;
    if (it->kind == INST_BACKUP_ADOPTED) {
        cli_adopted_print(fo->ctx, it->adopted);
        return;
    }
    if (it->kind != INST_BACKUP_FILES) return;
    json_array_append_new(fo->arr, stats_json(it->path, st));
    if (!fo->ctx->json && !fo->ctx->quiet)
        fprintf(stderr, "%s: %llu files, %llu dirs, %llu bytes; read %llu files (%llu bytes), "
                "%llu unchanged from the files cache%s\n", it->path,
                (unsigned long long)st->files, (unsigned long long)st->dirs,
                (unsigned long long)st->bytes, (unsigned long long)st->files_read,
                (unsigned long long)st->bytes_read, (unsigned long long)st->files_cached,
                st->skipped ? "; some skipped (see warnings)" : "");
}

int cmd_backup_files(CliCtx *ctx, int argc, char **argv, Err *err)
{
    const char *inst = NULL, *name = NULL, *tags[MAX_LIST];
    size_t ntags = 0;
    SrcFilesOptions fo = {0};
    FilesOut fout = {.ctx = ctx};
    InstBackupOptions bo;
    InstBackupResult res;
    Inst *in = NULL;
    Repo *r = NULL;
    json_t *out = NULL;
    int rc = 0, c;

    while ((c = cli_getopt(ctx, argc, argv)) != -1) {
        switch (c) {
        case 't':
            if (ntags == MAX_LIST) return err_set(err, ERR_INVALID, "too many --tag");
            tags[ntags++] = optarg;
            break;
        case 'n': name = optarg; break;
        case 'S': fo.skip_unreadable = true; break;
        default: return err_set(err, ERR_INVALID, "bad option (see --help)");
        }
    }
    int npaths = argc - optind;
    char **paths = argv + optind;
    if ((rc = inst_backup_files_check((const char *const *)paths, (size_t)npaths, name, err))) return rc;
    if (!(inst = cli_instance(ctx, inst, err))) return err->code;
    if (!(fout.arr = json_array()) || !(out = json_object()) || json_object_set(out, "items", fout.arr)) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    bo = (InstBackupOptions){.tags = tags, .ntags = ntags, .progress = ctx->progress,
                             .skip_unreadable = fo.skip_unreadable, .on_item = on_files_item,
                             .ctx = &fout};
    if ((rc = inst_open(ctx->conf, inst, &in, err))) goto out;
    if ((rc = inst_repo_open(in, cli_prompt, &r, err))) goto out;
    if ((rc = inst_backup_files(in, r, &bo, (const char *const *)paths, (size_t)npaths, name, &res, err)))
        goto out;
    rc = repo_close(r, err);
    r = NULL;
    if (rc) goto out;
    if (ctx->json) {
        json_object_set_new(out, "snapshot", json_string(res.snapshot));
        json_object_set_new(out, "bytes_new", json_integer((json_int_t)res.repo.bytes_new));
        json_object_set_new(out, "bytes_stored", json_integer((json_int_t)res.repo.bytes_stored));
        cli_json_print(out);
        out = NULL;
    } else if (!ctx->quiet) {
        printf("snapshot %.12s saved (%llu new bytes, %llu stored)\n", res.snapshot,
               (unsigned long long)res.repo.bytes_new, (unsigned long long)res.repo.bytes_stored);
    }
out:
    if (rc) err_wrap(err, "nothing committed");
    repo_free(r);
    inst_free(in);
    json_decref(fout.arr);
    json_decref(out);
    return rc;
}

/* Open the repository (shared lock) and find the snapshot: "latest" is the
 * newest of the instance with every tag that holds a files item (with the
 * includes' top directories). */
static int open_snapshot(CliCtx *ctx, const char *ref, const char *const *tags, size_t ntags,
                         const char *const *inc, size_t ninc, Repo **out_r, json_t **out_m,
                         char hex[ID_HEX_LEN + 1], Err *err)
{
    Repo *r = NULL;
    Id id;
    RepoSnapFilter f = {ctx->instance, tags, ntags, SRC_FILES_ITEM_TYPE, inc, ninc};
    int rc = cli_repo_open(ctx, &r, err);
    if (!rc) rc = repo_lock(r, false, err);
    if (!rc) rc = repo_snapshot_find(r, ref, &f, out_m, &id, err);
    if (rc) {
        repo_free(r);
        return rc;
    }
    id_hex(&id, hex);
    *out_r = r;
    return 0;
}

/* The snapshot: --snapshot ID or the one positional argument (the older
 * form, kept as an alias); exactly one of them. */
static const char *snapshot_arg(const char *opt, int argc, char **argv, Err *err)
{
    if (optind < argc - 1 || (opt && optind < argc)) {
        err_set(err, ERR_INVALID, "give the snapshot once: --snapshot ID or one SNAPSHOT argument (see --help)");
        return NULL;
    }
    if (!opt && optind == argc) {
        err_set(err, ERR_INVALID, "which snapshot? give --snapshot ID (or \"latest\") (see --help)");
        return NULL;
    }
    return opt ? opt : argv[optind];
}

int cmd_restore_files(CliCtx *ctx, int argc, char **argv, Err *err)
{
    const char *target = NULL, *inc[MAX_LIST], *snap = NULL, *tags[MAX_LIST];
    size_t ninc = 0, ntags = 0;
    Repo *r = NULL;
    json_t *m = NULL;
    char hex[ID_HEX_LEN + 1];
    RstFilesStats st = {0};
    RstFilesOptions ro = {.progress = ctx->progress};
    int rc, c;

    while ((c = cli_getopt(ctx, argc, argv)) != -1) {
        switch (c) {
        case 'T': target = optarg; break;
        case 'I':
            if (ninc == MAX_LIST) return err_set(err, ERR_INVALID, "too many --include");
            inc[ninc++] = optarg;
            break;
        case 's': snap = optarg; break;
        case 't':
            if (ntags == MAX_LIST) return err_set(err, ERR_INVALID, "too many --tag");
            tags[ntags++] = optarg;
            break;
        case 'O': ro.overwrite = true; break;
        default: return err_set(err, ERR_INVALID, "bad option (see --help)");
        }
    }
    if (!(snap = snapshot_arg(snap, argc, argv, err))) return err->code;
    if (!target) return err_set(err, ERR_INVALID, "--target DIR is required");
    rc = open_snapshot(ctx, snap, tags, ntags, inc, ninc, &r, &m, hex, err);
    if (rc) return rc;
    rc = rst_files_restore(r, m, target, inc, ninc, &ro, &st, err);
    if (rc) err_wrap(err, "snapshot %.12s", hex);
    if (ctx->json && (!rc || st.entries))
        cli_json_print(json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:b}", "snapshot", hex, "target", target,
                                 "entries", (json_int_t)st.entries, "files", (json_int_t)st.files, "bytes",
                                 (json_int_t)st.bytes, "failed", (json_int_t)st.failed, "ok", rc == 0));
    else if (!rc && !ctx->quiet)
        printf("restored %llu entries (%llu files, %llu bytes) from snapshot %.12s to %s\n",
               (unsigned long long)st.entries, (unsigned long long)st.files,
               (unsigned long long)st.bytes, hex, target);
    json_decref(m);
    repo_free(r);
    return rc;
}

int cmd_export_tar(CliCtx *ctx, int argc, char **argv, Err *err)
{
    const char *snap = NULL, *tags[MAX_LIST];
    size_t ntags = 0;
    Repo *r = NULL;
    json_t *m = NULL;
    char hex[ID_HEX_LEN + 1];
    RstFilesStats st = {0};
    int rc, c;

    while ((c = cli_getopt(ctx, argc, argv)) != -1) {
        switch (c) {
        case 's': snap = optarg; break;
        case 't':
            if (ntags == MAX_LIST) return err_set(err, ERR_INVALID, "too many --tag");
            tags[ntags++] = optarg;
            break;
        default: return err_set(err, ERR_INVALID, "bad option (see --help)");
        }
    }
    if (!(snap = snapshot_arg(snap, argc, argv, err))) return err->code;
    if (isatty(STDOUT_FILENO)) return err_set(err, ERR_INVALID, "refusing to write a tar to a terminal; redirect stdout");
    rc = open_snapshot(ctx, snap, tags, ntags, NULL, 0, &r, &m, hex, err);
    if (rc) return rc;
    fflush(stdout);
    RstFilesOptions to = {.progress = ctx->progress};
    rc = rst_files_export_tar(r, m, STDOUT_FILENO, &to, &st, err);
    if (rc) err_wrap(err, "snapshot %.12s", hex);
    else if (ctx->json) {
        /* stdout carries the tar: the summary goes to stderr */
        json_t *j = json_pack("{s:s, s:I, s:I, s:I}", "snapshot", hex, "entries", (json_int_t)st.entries,
                              "files", (json_int_t)st.files, "bytes", (json_int_t)st.bytes);
        char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
        if (s) fprintf(stderr, "%s\n", s);
        free(s);
        json_decref(j);
    }
    json_decref(m);
    repo_free(r);
    return rc;
}
