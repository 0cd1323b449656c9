/* cmd_files.c: `backup files`, `restore files`, `export tar`: argument
 * parsing and printing around engine/source/files and restore/files.
 * One snapshot per `backup files` run, one files item per PATH (named by
 * its absolute path unless --name); the snapshot is put only when every
 * item succeeded (nothing is committed otherwise). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static const char *base_of(const char *p, char *buf, size_t cap)
{
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/') n--;
    const char *s = p + n;
    while (s > p && s[-1] != '/') s--;
    snprintf(buf, cap, "%.*s", (int)(p + n - s), s);
    return buf;
}

int cmd_backup_files(CliCtx *ctx, int argc, char **argv, Err *err)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'}, {"json", no_argument, NULL, 'J'},
        {"instance", required_argument, NULL, 'i'}, {"tag", required_argument, NULL, 't'},
        {"name", required_argument, NULL, 'n'}, {"skip-unreadable", no_argument, NULL, 'S'},
        {NULL, 0, NULL, 0},
    };
    static const char usage[] =
        "usage: tidemark backup files [--instance NAME] [--tag T]... [--name ITEM]\n"
        "                             [--skip-unreadable] [--json] PATH...\n"
        "Back up each PATH (directory, file or symlink, never followed) as one files item of\n"
        "one new snapshot. An item is named by the absolute PATH (or --name, with one PATH);\n"
        "its entries start with PATH's last component. The previous snapshot's item of the\n"
        "same name is the files cache: unchanged files are not read again.\n"
        "An unreadable file fails the backup (nothing is committed) unless --skip-unreadable.\n";
    const char *inst = NULL, *name = NULL, *tags[MAX_LIST];
    size_t ntags = 0;
    SrcFilesOptions fo = {0};
    Repo *r = NULL;
    json_t *manifest = NULL, *out = NULL, *parent = NULL;
    int rc = 0, c;

    while ((c = getopt_long(argc, argv, "hi:t:n:", opts, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(usage, stdout); return 0;
        case 'J': ctx->json = true; break;
        case 'i': inst = optarg; break;
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
    if (npaths < 1) return err_set(err, ERR_INVALID, "no PATH to back up (see --help)");
    if (name && npaths != 1) return err_set(err, ERR_INVALID, "--name needs exactly one PATH");
    if (!(inst = cli_instance(ctx, inst, err))) return err->code;
    for (int i = 0; i < npaths; i++)       /* two roots must not land on the same restore path */
        for (int j = 0; j < i; j++) {
            char a[512], b[512];
            if (!strcmp(base_of(paths[i], a, sizeof a), base_of(paths[j], b, sizeof b)))
                return err_set(err, ERR_INVALID, "%s and %s have the same last component '%s': "
                               "back them up in separate runs with --name", paths[j], paths[i], a);
        }
    fo.progress = ctx->progress;
    rc = cli_repo_open(ctx, &r, err);
    if (!rc) rc = cli_backup_begin(ctx, r, err);
    if (rc) goto out;
    manifest = repo_manifest_new(inst, tags, ntags);
    out = json_object();
    json_t *arr = json_array();
    if (!manifest || !out || !arr || json_object_set_new(out, "items", arr)) {
        rc = err_set(err, ERR_NOMEM, "manifest");
        goto out;
    }
    for (int i = 0; i < npaths && !rc; i++) {
        char *abs = NULL;
        json_t *item = NULL;
        SrcFilesStats st = {0};
        if (!name && !(abs = src_files_root_name(paths[i]))) {
            rc = err_sys(err, errno, "resolve %s", paths[i]);
            break;
        }
        const char *iname = name ? name : abs;
        rc = src_files_find_parent(r, inst, iname, &parent, err);
        if (!rc) rc = src_files_backup(r, iname, paths[i], &fo, parent, &item, &st, err);
        json_decref(parent);
        parent = NULL;
        if (!rc) {
            json_array_append_new(json_object_get(manifest, "items"), item);
            json_array_append_new(arr, stats_json(iname, &st));
            if (!ctx->json && !ctx->quiet)
                fprintf(stderr, "%s: %llu files, %llu dirs, %llu bytes; read %llu files (%llu bytes), "
                        "%llu unchanged from the files cache%s\n", iname,
                        (unsigned long long)st.files, (unsigned long long)st.dirs,
                        (unsigned long long)st.bytes, (unsigned long long)st.files_read,
                        (unsigned long long)st.bytes_read, (unsigned long long)st.files_cached,
                        st.skipped ? "; some skipped (see warnings)" : "");
        }
        free(abs);
    }
    if (rc) goto out;
    Id id;
    char hex[ID_HEX_LEN + 1];
    rc = repo_snapshot_put(r, manifest, &id, err);
    if (rc) goto out;
    id_hex(&id, hex);
    RepoStats rs;
    repo_stats_get(r, &rs);
    rc = repo_close(r, err);
    r = NULL;
    if (rc) goto out;
    if (ctx->json) {
        json_object_set_new(out, "snapshot", json_string(hex));
        json_object_set_new(out, "bytes_new", json_integer((json_int_t)rs.bytes_new));
        json_object_set_new(out, "bytes_stored", json_integer((json_int_t)rs.bytes_stored));
        cli_json_print(out);
        out = NULL;
    } else if (!ctx->quiet) {
        printf("snapshot %.12s saved (%llu new bytes, %llu stored)\n", hex,
               (unsigned long long)rs.bytes_new, (unsigned long long)rs.bytes_stored);
    }
out:
    if (rc) err_wrap(err, "nothing committed");
    repo_free(r);
    json_decref(manifest);
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
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'}, {"json", no_argument, NULL, 'J'},
        {"target", required_argument, NULL, 'T'}, {"include", required_argument, NULL, 'I'},
        {"snapshot", required_argument, NULL, 's'}, {"tag", required_argument, NULL, 't'},
        {"overwrite", no_argument, NULL, 'O'},
        {NULL, 0, NULL, 0},
    };
    static const char usage[] =
        "usage: tidemark restore files --snapshot ID --target DIR [--include PATH]... [--tag T]...\n"
        "                              [--overwrite] [--json]\n"
        "       tidemark restore files ID --target DIR ...   (the same, ID as an argument)\n"
        "Restore the files items of snapshot ID (an id, a unique id prefix, or \"latest\": the\n"
        "newest snapshot of the instance with every --tag T that holds a files item, and the\n"
        "top directory of every --include) under DIR (created if missing). --include restores\n"
        "only that entry path (e.g. documents/x.pdf or documents/invoices) and its subtree,\n"
        "reading only the chunks it needs. A file already in DIR that differs from the\n"
        "snapshot's (type, size or modification time) is refused, before anything is written,\n"
        "unless --overwrite; identical files and files the snapshot does not hold are left.\n"
        "Nothing is ever written outside DIR; damaged files are named and the exit is non-zero.\n";
    const char *target = NULL, *inc[MAX_LIST], *snap = NULL, *tags[MAX_LIST];
    size_t ninc = 0, ntags = 0;
    Repo *r = NULL;
    json_t *m = NULL;
    char hex[ID_HEX_LEN + 1];
    RstFilesStats st = {0};
    RstFilesOptions ro = {.progress = ctx->progress};
    int rc, c;

    while ((c = getopt_long(argc, argv, "hT:I:s:t:", opts, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(usage, stdout); return 0;
        case 'J': ctx->json = true; break;
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
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'}, {"json", no_argument, NULL, 'J'},
        {"snapshot", required_argument, NULL, 's'}, {"tag", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    static const char usage[] =
        "usage: tidemark export tar --snapshot ID [--tag T]... [--json] > file.tar\n"
        "       tidemark export tar ID > file.tar   (the same, ID as an argument)\n"
        "Write the files items of snapshot ID (an id, a unique id prefix, or \"latest\": the\n"
        "newest snapshot of the instance with every --tag T that holds a files item) as a pax\n"
        "tar on stdout (GNU tar and bsdtar read it).\n"
        "With --json, a summary goes to stderr instead of stdout.\n";
    const char *snap = NULL, *tags[MAX_LIST];
    size_t ntags = 0;
    Repo *r = NULL;
    json_t *m = NULL;
    char hex[ID_HEX_LEN + 1];
    RstFilesStats st = {0};
    int rc, c;

    while ((c = getopt_long(argc, argv, "hs:t:", opts, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(usage, stdout); return 0;
        case 'J': ctx->json = true; break;
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
