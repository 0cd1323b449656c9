/* inst_backup.c: the instance backup: a consistent dump of its databases
 * plus its file trees (documents_dir, conf_php, custom_dir, extra_paths)
 * in one snapshot; and a snapshot of given trees only (backup files).
 * Invariant: the snapshot (the commit point) is put only when the dump and
 * every files item succeeded; on error nothing refers to what was written. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/instance/inst_int.h"

static void tell(const InstBackupOptions *o, const InstBackupItem *it)
{
    if (o->on_item) o->on_item(o->ctx, it);
}

/* One files item into manifest: the tree at path, named name (NULL: its
 * absolute path); the same item of the instance's newest snapshot that has
 * one is the files cache. */
static int backup_path(Inst *in, Repo *r, const InstBackupOptions *o, const char *path,
                       const char *name, json_t *manifest, json_t **out_item, Err *err)
{
    SrcFilesOptions fo = {.progress = o->progress, .skip_unreadable = o->skip_unreadable};
    SrcFilesStats st = {0};
    json_t *parent = NULL, *item = NULL;
    char *abs = NULL;
    int rc;

    if (!name && !(name = abs = src_files_root_name(path))) return err_sys(err, errno, "resolve %s", path);
    rc = src_files_find_parent(r, in->name, name, &parent, err);
    if (!rc) rc = src_files_backup(r, name, path, &fo, parent, &item, &st, err);
    if (!rc) {
        json_array_append_new(json_object_get(manifest, "items"), item);
        if (out_item) *out_item = item;   /* borrowed: the manifest holds it */
        tell(o, &(InstBackupItem){.kind = INST_BACKUP_FILES, .path = name, .files = &st});
    }
    json_decref(parent);
    free(abs);
    return rc;
}

/* The configured trees, in the order of the keys, then extra_paths. */
static int backup_trees(Inst *in, Repo *r, const InstBackupOptions *o, json_t *manifest, Err *err)
{
    static const char *keys[] = {"documents_dir", "conf_php", "custom_dir"};
    char **extra = NULL;
    size_t nextra = 0;
    int rc = 0;

    for (size_t i = 0; i < 3; i++) {
        const char *p = NULL;
        /* documents_dir and custom_dir may come from conf_php */
        if ((rc = inst_path(in, keys[i], &p, NULL, 0, err))) return rc;
        if (p && *p && (rc = backup_path(in, r, o, p, NULL, manifest, NULL, err))) return rc;
    }
    if (!conf_get(in->conf, in->name, "extra_paths")) return 0;
    if ((rc = conf_get_list(in->conf, in->name, "extra_paths", &extra, &nextra, err))) return rc;
    for (size_t i = 0; i < nextra && !rc; i++) rc = backup_path(in, r, o, extra[i], NULL, manifest, NULL, err);
    conf_list_free(extra);
    return rc;
}

/* Whether this backup takes the application code: --with-app or the tag
 * pre-upgrade. */
static bool wants_app(const InstBackupOptions *o)
{
    if (o->with_app) return true;
    for (size_t i = 0; i < o->ntags; i++)
        if (!strcmp(o->tags[i], INST_TAG_PRE_UPGRADE)) return true;
    return false;
}

/* app_dir's tree as the files item marked "app": true. A symlink (a
 * releases/ layout's `current`) is followed: the tree is its target's, and
 * "app_link" records the link and its target as read. */
static int backup_app(Inst *in, Repo *r, const InstBackupOptions *o, json_t *manifest, Err *err)
{
    const char *dir = conf_get(in->conf, in->name, "app_dir");
    char link[4096], *real = NULL;
    json_t *item = NULL;
    ssize_t n;
    struct stat st;
    int rc;

    if (!dir || !*dir) return 0;
    if (lstat(dir, &st) != 0) return err_sys(err, errno, "app_dir %s", dir);
    if (!(real = realpath(dir, NULL))) return err_sys(err, errno, "app_dir %s", dir);
    rc = backup_path(in, r, o, real, NULL, manifest, &item, err);
    if (!rc) {
        json_object_set_new(item, "app", json_true());
        if (S_ISLNK(st.st_mode) && (n = readlink(dir, link, sizeof link - 1)) >= 0) {
            link[n] = '\0';
            json_object_set_new(item, "app_link", json_pack("{s:s,s:s}", "path", dir, "target", link));
        }
    }
    free(real);
    if (rc) err_wrap(err, "app_dir %s", dir);
    return rc;
}

/* The Dolibarr version constants of the first of dbs that is a Dolibarr
 * database into manifest "dolibarr" (nothing when none is, or the prefix is
 * not a literal in conf.php). */
static int record_versions(Inst *in, MYSQL *m, char **dbs, json_t *manifest, Err *err)
{
    const char *prefix = NULL;
    json_t *v = NULL;
    Err e2 = {0};
    int rc;

    if (inst_db_prefix(in, &prefix, &e2)) return 0;   /* no literal prefix: nothing to compare */
    for (size_t i = 0; dbs && dbs[i] && !v; i++)
        if ((rc = inst_dol_versions_read(m, dbs[i], prefix, &v, err))) return rc;
    if (v) json_object_set_new(manifest, "dolibarr", v);
    return 0;
}

/* The dump's options from the config (databases: *out_dbs, freed by the
 * caller with conf_list_free). */
static int dump_options(Inst *in, const InstBackupOptions *o, SrcDumpOptions *d, char ***out_dbs,
                        Err *err)
{
    uint64_t u;
    size_t ndbs = 0;
    int rc;

    memset(d, 0, sizeof *d);
    *out_dbs = NULL;
    if ((rc = inst_databases(in, out_dbs, &ndbs, NULL, 0, err))) return rc;
    d->databases = (const char *const *)*out_dbs;
    if ((rc = inst_uint(in, "dump_threads", 2, &u, err))) return rc;
    d->threads = o->threads ? o->threads : (unsigned)u;
    if ((rc = inst_uint(in, "db_lock_wait_timeout", 10, &u, err))) return rc;
    d->lock_wait_timeout = (unsigned)u;
    if ((rc = inst_size(in, "dump_part_size", 256u << 20, &u, err))) return rc;
    d->part_size = u;
    d->with_grants = o->with_grants;
    d->force_lock = o->force_lock;
    d->progress = o->progress;
    return 0;
}

int inst_backup(Inst *in, Repo *r, const InstBackupOptions *o, InstBackupResult *out, Err *err)
{
    const MdbConn *conn = NULL;
    SrcDumpOptions d;
    char **dbs = NULL;
    json_t *manifest = NULL, *item = NULL, *px, *start = NULL, *end = NULL;
    MYSQL *meta = NULL;
    uint64_t adopted = 0;
    Id id;
    int rc;

    memset(out, 0, sizeof *out);
    if (o->with_app && !o->with_files)
        return err_set(err, ERR_INVALID, "--with-app needs the file trees (not with backup db or --no-files)");
    if (o->with_app && !conf_get(in->conf, in->name, "app_dir"))
        return err_set(err, ERR_INVALID, "--with-app: instance %s has no app_dir", in->name);
    if ((rc = inst_db_conn(in, &conn, err))) goto out;
    if ((rc = dump_options(in, o, &d, &dbs, err))) goto out;
    if ((rc = inst_backup_begin(r, &adopted, err))) goto out;
    if (adopted) tell(o, &(InstBackupItem){.kind = INST_BACKUP_ADOPTED, .adopted = adopted});
    if (!(manifest = repo_manifest_new(in->name, o->tags, o->ntags))) {
        rc = err_set(err, ERR_NOMEM, "manifest");
        goto out;
    }
    if ((rc = src_dump_backup(r, conn, &d, &item, &out->db, err))) goto out;
    json_array_append(json_object_get(manifest, "items"), item);
    tell(o, &(InstBackupItem){.kind = INST_BACKUP_DB, .db = &out->db});
    /* a connection of its own for the short queries around the trees */
    if ((rc = mdb_connect(conn, MDB_CONNECT_CLIENT, MDB_CLIENT_TIMEOUT_S, &meta, err))) goto out;
    if ((rc = record_versions(in, meta, dbs, manifest, err))) goto out;
    if (o->with_files) {
        if ((rc = inst_binlog_point(meta, &start, err))) goto out;
        if ((rc = backup_trees(in, r, o, manifest, err))) goto out;
        if (wants_app(o) && (rc = backup_app(in, r, o, manifest, err))) goto out;
        if ((rc = inst_binlog_point(meta, &end, err))) goto out;
        json_object_set_new(manifest, "files_window", json_pack("{s:O,s:O}", "start", start, "end", end));
    }
    if ((rc = repo_snapshot_put(r, manifest, &id, err))) goto out;
    id_hex(&id, out->snapshot);
    repo_stats_get(r, &out->repo);
    out->binlog = json_incref(json_object_get(item, "binlog"));
    px = json_object_get(item, "prepared_xa");
    out->prepared_xa = px ? json_incref(px) : json_array();
out:
    if (rc) memset(out, 0, sizeof *out);
    json_decref(item);
    json_decref(start);
    json_decref(end);
    json_decref(manifest);
    mdb_close(meta);
    conf_list_free(dbs);
    return rc;
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

/* Two roots must not land on the same restore path. */
static int roots_check(const char *const *paths, size_t npaths, const char *name, Err *err)
{
    if (npaths < 1) return err_set(err, ERR_INVALID, "no PATH to back up (see --help)");
    if (name && npaths != 1) return err_set(err, ERR_INVALID, "--name needs exactly one PATH");
    for (size_t i = 0; i < npaths; i++)
        for (size_t j = 0; j < i; j++) {
            char a[512], b[512];
            if (!strcmp(base_of(paths[i], a, sizeof a), base_of(paths[j], b, sizeof b)))
                return err_set(err, ERR_INVALID, "%s and %s have the same last component '%s': "
                               "back them up in separate runs with --name", paths[j], paths[i], a);
        }
    return 0;
}

int inst_backup_files_check(const char *const *paths, size_t npaths, const char *name, Err *err)
{
    return roots_check(paths, npaths, name, err);
}

int inst_backup_files(Inst *in, Repo *r, const InstBackupOptions *o, const char *const *paths,
                      size_t npaths, const char *name, InstBackupResult *out, Err *err)
{
    json_t *manifest = NULL;
    uint64_t adopted = 0;
    Id id;
    int rc;

    memset(out, 0, sizeof *out);
    if ((rc = inst_need_name(in, err))) return rc;
    if ((rc = roots_check(paths, npaths, name, err))) return rc;
    if ((rc = inst_backup_begin(r, &adopted, err))) goto out;
    if (adopted) tell(o, &(InstBackupItem){.kind = INST_BACKUP_ADOPTED, .adopted = adopted});
    if (!(manifest = repo_manifest_new(in->name, o->tags, o->ntags))) {
        rc = err_set(err, ERR_NOMEM, "manifest");
        goto out;
    }
    for (size_t i = 0; i < npaths && !rc; i++) rc = backup_path(in, r, o, paths[i], name, manifest, NULL, err);
    if (rc) goto out;
    if ((rc = repo_snapshot_put(r, manifest, &id, err))) goto out;
    id_hex(&id, out->snapshot);
    repo_stats_get(r, &out->repo);
out:
    if (rc) memset(out, 0, sizeof *out);
    json_decref(manifest);
    return rc;
}

void inst_backup_result_free(InstBackupResult *res)
{
    if (!res) return;
    json_decref(res->binlog);
    json_decref(res->prepared_xa);
    res->binlog = res->prepared_xa = NULL;
}
