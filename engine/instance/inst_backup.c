/* inst_backup.c: the instance backup: a consistent dump of its databases
 * plus its file trees (documents_dir, conf_php, custom_dir, extra_paths)
 * in one snapshot; and a snapshot of given trees only (backup files).
 * Invariant: the snapshot (the commit point) is put only when the dump and
 * every files item succeeded; on error nothing refers to what was written. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/instance/inst_int.h"

static void tell(const InstBackupOptions *o, const InstBackupItem *it)
{
    if (o->on_item) o->on_item(o->ctx, it);
}

/* One files item into manifest: the tree at path, named name (NULL: its
 * absolute path); the same item of the instance's newest snapshot that has
 * one is the files cache. */
static int backup_path(Inst *in, Repo *r, const InstBackupOptions *o, const char *path,
                       const char *name, json_t *manifest, Err *err)
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
        if (p && *p && (rc = backup_path(in, r, o, p, NULL, manifest, err))) return rc;
    }
    if (!conf_get(in->conf, in->name, "extra_paths")) return 0;
    if ((rc = conf_get_list(in->conf, in->name, "extra_paths", &extra, &nextra, err))) return rc;
    for (size_t i = 0; i < nextra && !rc; i++) rc = backup_path(in, r, o, extra[i], NULL, manifest, err);
    conf_list_free(extra);
    return rc;
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
    json_t *manifest = NULL, *item = NULL, *px;
    uint64_t adopted = 0;
    Id id;
    int rc;

    memset(out, 0, sizeof *out);
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
    if (o->with_files && (rc = backup_trees(in, r, o, manifest, err))) goto out;
    if ((rc = repo_snapshot_put(r, manifest, &id, err))) goto out;
    id_hex(&id, out->snapshot);
    repo_stats_get(r, &out->repo);
    out->binlog = json_incref(json_object_get(item, "binlog"));
    px = json_object_get(item, "prepared_xa");
    out->prepared_xa = px ? json_incref(px) : json_array();
out:
    if (rc) memset(out, 0, sizeof *out);
    json_decref(item);
    json_decref(manifest);
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
    for (size_t i = 0; i < npaths && !rc; i++) rc = backup_path(in, r, o, paths[i], name, manifest, err);
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
