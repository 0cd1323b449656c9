/* rst_inst_restore.c: a whole instance beside the original: refuse a
 * non-empty target directory, the database to the point, the files items
 * of the plan's snapshot, conf.php rewritten, the Dolibarr checks.
 * Invariant: nothing is written before both targets were checked empty
 * (the directory here, the database by rst_pitr_restore's target check). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/common/clock.h"
#include "engine/source/files/src_files.h"
#include "restore/files/rst_files.h"
#include "restore/instance/rst_instance.h"

/* The instance keys of the parts, in RstInstPart order. */
static const char *const part_keys[RST_INST_PARTS] = {"documents_dir", "custom_dir", "conf_php"};

/* ERR_EXISTS when dir exists and holds anything. */
static int check_dir_empty(const char *dir, Err *err)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int rc = 0;

    if (!d) return errno == ENOENT ? 0 : err_sys(err, errno, "target directory %s", dir);
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            rc = err_set(err, ERR_EXISTS, "target directory %s is not empty (%s): refused, nothing was "
                         "written; give an absent or empty directory", dir, e->d_name);
            break;
        }
    closedir(d);
    return rc;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s && s[1] ? s + 1 : p;
}

/* The files item of manifest m backed up from path (its "root" is the
 * resolved path), or NULL. */
static const json_t *find_item(const json_t *m, const char *path)
{
    char real[PATH_MAX];
    const char *want = realpath(path, real) ? real : path;
    const json_t *it;
    size_t i;

    json_array_foreach(json_object_get(m, "items"), i, it) {
        const char *k = json_string_value(json_object_get(it, "kind"));
        const char *root = json_string_value(json_object_get(it, "root"));
        if (k && root && !strcmp(k, SRC_FILES_ITEM_TYPE) && !strcmp(root, want)) return it;
    }
    return NULL;
}

/* One line "what: why" of out->missing. */
static void add_missing(RstInstReport *out, const char *what, const char *why)
{
    size_t len = strlen(out->missing);
    snprintf(out->missing + len, sizeof out->missing - len, "%s: %s\n", what, why);
}

/* Each configured part's files item into dir (conf.php under dir/conf). */
static int restore_parts(Repo *r, Inst *in, const RstInstRequest *req, RstInstReport *out, Err *err)
{
    const json_t *m = out->pitr.plan.manifest;
    RstFilesOptions fo = {.progress = req->pitr.run.progress};
    char sub[1200];
    int rc;

    for (int p = 0; p < RST_INST_PARTS; p++) {
        RstInstPartResult *pr = &out->parts[p];
        RstFilesStats st = {0};
        const char *path = NULL;
        const json_t *it;

        if ((rc = inst_path(in, part_keys[p], &path, NULL, 0, err))) return rc;
        if (!path || !*path) continue;
        pr->configured = true;
        if (!(it = find_item(m, path))) {
            add_missing(out, path, "the snapshot holds no files item of it");
            continue;
        }
        pr->in_snapshot = true;
        if (snprintf(sub, sizeof sub, "%s%s", req->target_dir, p == RST_INST_CONF ? "/conf" : "") >= (int)sizeof sub)
            return err_set(err, ERR_INVALID, "target directory %s: path too long", req->target_dir);
        if ((rc = rst_files_restore(r, it, sub, NULL, 0, &fo, &st, err)))
            return err_wrap(err, "restore %s of snapshot %.12s", rst_inst_part_name((RstInstPart)p),
                            out->pitr.plan.snap_hex);
        pr->restored = true;
        pr->files = st.files;
        pr->bytes = st.bytes;
        if (snprintf(pr->path, sizeof pr->path, "%s/%s", sub,
                     base_name(json_string_value(json_object_get(it, "root")))) >= (int)sizeof pr->path)
            return err_set(err, ERR_INVALID, "target directory %s: path too long", req->target_dir);
    }
    return 0;
}

/* Read path whole: *out malloc'd, NUL-terminated. */
static int read_all(const char *path, char **out, size_t *len, Err *err)
{
    FILE *f = fopen(path, "rb");
    char *b = NULL;
    long n;
    int rc = 0;

    if (!f) return err_sys(err, errno, "open %s", path);
    if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
        rc = err_sys(err, errno, "read %s", path);
    } else if (!(b = malloc((size_t)n + 1))) {
        rc = err_set(err, ERR_NOMEM, "out of memory reading %s", path);
    } else if (fread(b, 1, (size_t)n, f) != (size_t)n) {
        rc = err_sys(err, errno ? errno : EIO, "read %s", path);
    } else {
        b[n] = '\0';
        *out = b;
        *len = (size_t)n;
        b = NULL;
    }
    free(b);
    fclose(f);
    return rc;
}

/* Replace path with text through a temp file (mode 0600: it holds the password). */
static int write_all(const char *path, const char *text, size_t len, Err *err)
{
    char tmp[1300];
    int fd, rc = 0;

    snprintf(tmp, sizeof tmp, "%s.tidemark-tmp", path);
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
        return err_sys(err, errno, "create %s", tmp);
    if (write(fd, text, len) != (ssize_t)len || fsync(fd)) rc = err_sys(err, errno ? errno : EIO, "write %s", tmp);
    if (close(fd) && !rc) rc = err_sys(err, errno, "close %s", tmp);
    if (!rc && rename(tmp, path)) rc = err_sys(err, errno, "rename %s to %s", tmp, path);
    if (rc) unlink(tmp);
    return rc;
}

/* conf.php of the copy: the target's database and account, the copy's
 * data root and custom directory, --url; every other byte kept. */
static int rewrite_conf(const RstInstRequest *req, RstInstReport *out, Err *err)
{
    const MdbConn *c = req->pitr.conn;
    const char *conf = out->parts[RST_INST_CONF].path;
    char port[16] = "", *text = NULL, *nt = NULL;
    size_t len = 0, nlen = 0;
    InstDolConfNew nv = {0};
    int rc;

    if (c->port) snprintf(port, sizeof port, "%u", c->port);
    nv.db_host = c->host && *c->host ? c->host : (c->socket ? "localhost" : NULL);
    nv.db_port = port[0] ? port : NULL;
    nv.db_name = req->pitr.run.target_db;
    nv.db_user = c->user;
    nv.db_pass = c->password;
    if (out->parts[RST_INST_DOCUMENTS].restored) nv.data_root = out->parts[RST_INST_DOCUMENTS].path;
    if (out->parts[RST_INST_CUSTOM].restored) nv.document_root_alt = out->parts[RST_INST_CUSTOM].path;
    nv.url_root = req->url_root;
    if ((rc = read_all(conf, &text, &len, err))) goto out;
    if ((rc = inst_dolconf_rewrite(text, len, &nv, &nt, &nlen, &out->pass_enc, err))) goto out;
    if ((rc = write_all(conf, nt, nlen, err))) goto out;
    out->conf_rewritten = true;
out:
    if (rc) err_wrap(err, "rewrite %s", conf);
    if (nt) memset(nt, 0, nlen);
    if (text) memset(text, 0, len);
    free(nt);
    free(text);
    return rc;
}

static int verify_copy(const RstInstRequest *req, Inst *in, RstInstReport *out, Err *err)
{
    const char *prefix = NULL;
    int rc;

    if (!out->parts[RST_INST_DOCUMENTS].restored)
        return err_set(err, ERR_VERIFY, "the copy has no documents directory: the Dolibarr checks cannot run");
    if ((rc = inst_db_prefix(in, &prefix, err))) return rc;
    out->verified_ran = true;
    return rst_dol_verify(req->pitr.conn, req->pitr.run.target_db, prefix,
                          out->parts[RST_INST_DOCUMENTS].path, NULL, &out->dol, err);
}

/* ERR_VERIFY naming the missing parts when the checks passed over them. */
static int verdict(RstInstReport *out, int rc, Err *err)
{
    if (!rc && out->missing[0]) {
        char first[300];
        snprintf(first, sizeof first, "%.*s", (int)strcspn(out->missing, "\n"), out->missing);
        rc = err_set(err, ERR_VERIFY, "the copy is incomplete: %s", first);
    }
    out->verdict = !rc ? "verified" : rc == ERR_EXISTS || rc == ERR_INVALID ? "refused"
                 : out->missing[0] ? "incomplete" : "failed";
    return rc;
}

int rst_inst_restore(Repo *r, Inst *in, const RstInstRequest *req, RstInstReport *out, Err *err)
{
    double t;
    int rc;

    memset(out, 0, sizeof *out);
    if (!req->target_dir || !*req->target_dir || !req->pitr.run.target_db || !*req->pitr.run.target_db)
        return verdict(out, err_set(err, ERR_INVALID, "a target directory and a target database are required "
                                    "(restore beside the original)"), err);
    if ((rc = check_dir_empty(req->target_dir, err))) return verdict(out, rc, err);
    rc = rst_pitr_restore(r, &req->pitr, NULL, &out->pitr, err);
    out->seconds[RST_INST_PH_LOAD] = out->pitr.result.load_s + out->pitr.result.verify_s;
    out->seconds[RST_INST_PH_REPLAY] = out->pitr.result.replay_s;
    if (rc) return verdict(out, rc, err);
    t = clock_mono_s();
    rc = restore_parts(r, in, req, out, err);
    out->seconds[RST_INST_PH_FILES] = clock_mono_s() - t;
    if (rc) return verdict(out, rc, err);
    t = clock_mono_s();
    if (out->parts[RST_INST_CONF].restored) rc = rewrite_conf(req, out, err);
    else if (!out->parts[RST_INST_CONF].configured) add_missing(out, "conf.php", "the instance names no conf_php");
    out->seconds[RST_INST_PH_CONF] = clock_mono_s() - t;
    if (rc) return verdict(out, rc, err);
    t = clock_mono_s();
    rc = verify_copy(req, in, out, err);
    out->seconds[RST_INST_PH_VERIFY] = clock_mono_s() - t;
    return verdict(out, rc, err);
}

void rst_inst_report_free(RstInstReport *rep)
{
    if (!rep) return;
    rst_pitr_restore_report_free(&rep->pitr);
    rst_dol_report_free(&rep->dol);
    memset(rep, 0, sizeof *rep);
}
