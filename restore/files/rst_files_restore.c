/* rst_files_restore.c: files items -> target directory through
 * archive_write_disk. The restore runs with the working directory set to
 * the target (restored on return), so libarchive sees the entry paths as
 * they are and its SECURE_NOABSOLUTEPATHS / SECURE_NODOTDOT /
 * SECURE_SYMLINKS checks apply to exactly the part the manifest controls.
 * Invariants: see rst_files.h (nothing outside the target; hard links only
 * to files restored in this run; damaged files removed, restore fails).
 * Not reentrant: the working directory is process-wide. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/common/log.h"
#include "engine/common/progress.h"
#include "restore/files/rst_files_int.h"

/* A set of strings (paths of restored files that have hard links). */
typedef struct StrSet {
    char **v;
    size_t cap, n;
} StrSet;

static size_t str_hash(const char *s)
{
    size_t h = 1469598103934665603ULL;
    while (*s) h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return h;
}

static char **set_slot(StrSet *s, const char *k)
{
    for (size_t i = str_hash(k) & (s->cap - 1);; i = (i + 1) & (s->cap - 1))
        if (!s->v[i] || !strcmp(s->v[i], k)) return &s->v[i];
}

static bool set_has(StrSet *s, const char *k)
{
    return s->cap && *set_slot(s, k) != NULL;
}

static int set_add(StrSet *s, const char *k, Err *err)
{
    if ((s->n + 1) * 2 > s->cap) {
        StrSet ns = {calloc(s->cap ? 2 * s->cap : 64, sizeof(char *)), s->cap ? 2 * s->cap : 64, s->n};
        if (!ns.v) return err_set(err, ERR_NOMEM, "hard link set");
        for (size_t i = 0; i < s->cap; i++)
            if (s->v[i]) *set_slot(&ns, s->v[i]) = s->v[i];
        free(s->v);
        *s = ns;
    }
    char **slot = set_slot(s, k);
    if (*slot) return 0;
    if (!(*slot = strdup(k))) return err_set(err, ERR_NOMEM, "hard link set");
    s->n++;
    return 0;
}

static void set_free(StrSet *s)
{
    for (size_t i = 0; i < s->cap; i++) free(s->v[i]);
    free(s->v);
}

/* One archive_write_disk per writer: the main thread's (directories,
 * links, specials, hard-linked files; its close applies directory
 * metadata last) and one per pool thread (regular files). */
typedef struct Writer {
    struct Rst *x;
    struct archive *aw;
    struct archive_entry *ae;
} Writer;

#define RST_THREADS 4
#define RST_QUEUE 64

typedef struct Rst {
    Repo *repo;
    int flags;             /* ARCHIVE_EXTRACT_* */
    Writer main;
    char **inc;
    size_t ninc;
    bool *inc_hit;
    StrSet links;          /* main thread only */
    Progress *prog;
    pthread_mutex_t mu;    /* guards st, first, the queue and fatal */
    pthread_cond_t can_pop, can_push;
    RstFilesStats st;
    Err first;             /* first damaged file, when st.failed > 0 */
    SrcFilesEntry *q;      /* ring of RST_QUEUE entries, owned while queued */
    size_t qhead, qlen;
    bool closing;
    int fatal;             /* first error of a pool thread; stops everything */
    Err fatal_err;
    pthread_t th[RST_THREADS];
    Writer tw[RST_THREADS];
    unsigned nth;
} Rst;

static int writer_open(Writer *w, Rst *x, Err *err)
{
    w->x = x;
    w->aw = archive_write_disk_new();
    w->ae = archive_entry_new();
    if (!w->aw || !w->ae) return err_set(err, ERR_NOMEM, "restore");
    if (archive_write_disk_set_options(w->aw, x->flags) != ARCHIVE_OK ||
        archive_write_disk_set_standard_lookup(w->aw) != ARCHIVE_OK)
        return err_set(err, ERR_IO, "set up archive_write_disk: %s", archive_error_string(w->aw));
    return 0;
}

static void writer_close(Writer *w)
{
    if (w->aw) archive_write_free(w->aw);   /* also closes (fixups) when not yet closed */
    archive_entry_free(w->ae);
    w->aw = NULL;
    w->ae = NULL;
}

static int disk_write(void *ctx, const void *p, size_t n, uint64_t off, Err *err)
{
    Writer *w = ctx;
    la_ssize_t r = archive_write_data_block(w->aw, p, n, (la_int64_t)off);
    if (r < ARCHIVE_OK) {
        int en = archive_errno(w->aw);
        if (en > 0) return err_sys(err, en, "write: %s", archive_error_string(w->aw));
        return err_set(err, ERR_IO, "write: %s", archive_error_string(w->aw));
    }
    pthread_mutex_lock(&w->x->mu);
    w->x->st.bytes += n;
    pthread_mutex_unlock(&w->x->mu);
    progress_add(w->x->prog, n, 0);
    return 0;
}

static int archive_fail(struct archive *aw, const char *what, const char *path, Err *err)
{
    char pp[512];
    int en = archive_errno(aw);
    const char *m = archive_error_string(aw) ? archive_error_string(aw) : "unknown error";
    if (en > 0) return err_sys(err, en, "%s %s: %s", what, src_files_path_print(path, pp, sizeof(pp)), m);
    /* no system error: libarchive refused the entry (secure flags: a path
     * through a symlink, "..", absolute) */
    return err_set(err, ERR_CORRUPT, "refusing to %s %s: %s", what, src_files_path_print(path, pp, sizeof(pp)), m);
}

/* Write one checked, selected entry with w. as_link: make a hard link to
 * e->link instead of writing data. Damaged data is counted, not returned. */
static int write_entry(Writer *w, SrcFilesEntry *e, bool as_link, Err *err)
{
    Rst *x = w->x;
    char pp[512];
    int rc;

    archive_entry_clear(w->ae);
    rc = rst_files_entry_to_archive(e, w->ae, err);
    if (rc) return rc;
    if (as_link) {
        archive_entry_set_hardlink(w->ae, e->link);
        archive_entry_set_size(w->ae, 0);
    }
    int ar = archive_write_header(w->aw, w->ae);
    if (ar < ARCHIVE_WARN) return archive_fail(w->aw, "restore", e->path, err);
    if (ar == ARCHIVE_WARN)
        log_warn("restore %s: %s", src_files_path_print(e->path, pp, sizeof(pp)), archive_error_string(w->aw));
    bool damaged = false;
    if (!as_link && (e->type == SRC_FILES_FILE || e->type == SRC_FILES_HARDLINK)) {
        rc = rst_files_feed(x->repo, e, disk_write, w, err);
        if (rc == ERR_AUTH || rc == ERR_CORRUPT || rc == ERR_NOTFOUND) {
            err_wrap(err, "restore %s", src_files_path_print(e->path, pp, sizeof(pp)));
            log_error("%s", err->msg);
            pthread_mutex_lock(&x->mu);
            if (!x->st.failed) x->first = *err;
            x->st.failed++;
            pthread_mutex_unlock(&x->mu);
            err_clear(err);
            damaged = true;
        } else if (rc) {
            return err_wrap(err, "restore %s", src_files_path_print(e->path, pp, sizeof(pp)));
        }
    }
    ar = archive_write_finish_entry(w->aw);
    if (ar < ARCHIVE_WARN) return archive_fail(w->aw, "finish", e->path, err);
    if (ar == ARCHIVE_WARN)
        log_warn("restore %s: %s", src_files_path_print(e->path, pp, sizeof(pp)), archive_error_string(w->aw));
    if (damaged) {
        if (unlink(e->path) != 0 && errno != ENOENT)
            log_warn("remove damaged %s: %s", src_files_path_print(e->path, pp, sizeof(pp)), strerror(errno));
        return 0;
    }
    pthread_mutex_lock(&x->mu);
    x->st.entries++;
    if (e->type == SRC_FILES_FILE || e->type == SRC_FILES_HARDLINK) x->st.files++;
    pthread_mutex_unlock(&x->mu);
    if (e->type == SRC_FILES_FILE || e->type == SRC_FILES_HARDLINK) progress_add(x->prog, 0, 1);
    return 0;
}

/* ---- the writer pool: regular files in parallel ------------------------
 * Safe because an entry's parent directories come before it in tree order
 * and are created by the main thread before the entry is queued, and no
 * later entry can replace an ancestor (paths are strictly increasing). */

static void *pool_main(void *arg)
{
    Writer *w = arg;
    Rst *x = w->x;
    Err err;
    for (;;) {
        SrcFilesEntry e;
        pthread_mutex_lock(&x->mu);
        while (!x->qlen && !x->closing) pthread_cond_wait(&x->can_pop, &x->mu);
        if (!x->qlen) {
            pthread_mutex_unlock(&x->mu);
            return NULL;
        }
        e = x->q[x->qhead];
        x->qhead = (x->qhead + 1) % RST_QUEUE;
        x->qlen--;
        bool stop = x->fatal != 0;
        pthread_cond_signal(&x->can_push);
        pthread_mutex_unlock(&x->mu);
        err_clear(&err);
        int rc = stop ? 0 : write_entry(w, &e, false, &err);
        src_files_entry_clear(&e);
        if (rc) {
            pthread_mutex_lock(&x->mu);
            if (!x->fatal) {
                x->fatal = rc;
                x->fatal_err = err;
            }
            pthread_mutex_unlock(&x->mu);
        }
    }
}

/* Queue e (moved: *e is zeroed). Returns a pool thread's fatal error. */
static int pool_push(Rst *x, SrcFilesEntry *e, Err *err)
{
    int rc;
    pthread_mutex_lock(&x->mu);
    while (x->qlen == RST_QUEUE && !x->fatal) pthread_cond_wait(&x->can_push, &x->mu);
    rc = x->fatal;
    if (rc) *err = x->fatal_err;
    else {
        x->q[(x->qhead + x->qlen) % RST_QUEUE] = *e;
        x->qlen++;
        memset(e, 0, sizeof(*e));
        pthread_cond_signal(&x->can_pop);
    }
    pthread_mutex_unlock(&x->mu);
    return rc;
}

static int pool_start(Rst *x, Err *err)
{
    x->q = calloc(RST_QUEUE, sizeof(*x->q));
    if (!x->q) return err_set(err, ERR_NOMEM, "restore queue");
    for (unsigned i = 0; i < RST_THREADS; i++) {
        int rc = writer_open(&x->tw[i], x, err);
        if (rc) return rc;
        if (pthread_create(&x->th[i], NULL, pool_main, &x->tw[i]) != 0)
            return err_set(err, ERR_NOMEM, "start restore thread");
        x->nth++;
    }
    return 0;
}

/* Drain and join; returns the first fatal error of a pool thread. */
static int pool_stop(Rst *x, Err *err)
{
    pthread_mutex_lock(&x->mu);
    x->closing = true;
    pthread_cond_broadcast(&x->can_pop);
    pthread_mutex_unlock(&x->mu);
    for (unsigned i = 0; i < x->nth; i++) pthread_join(x->th[i], NULL);
    x->nth = 0;
    for (unsigned i = 0; i < RST_THREADS; i++) writer_close(&x->tw[i]);
    while (x->qlen) {      /* only when no thread ever started */
        src_files_entry_clear(&x->q[x->qhead]);
        x->qhead = (x->qhead + 1) % RST_QUEUE;
        x->qlen--;
    }
    free(x->q);
    x->q = NULL;
    if (x->fatal && err) *err = x->fatal_err;
    return x->fatal;
}

static int restore_entry(Rst *x, SrcFilesEntry *e, Err *err)
{
    int rc = 0;
    char pp[512];
    size_t which = 0;

    rc = rst_files_path_check(e->path, err);
    if (!rc && e->type == SRC_FILES_HARDLINK) {
        rc = rst_files_path_check(e->link, err);
        if (rc) err_wrap(err, "hard link %s", src_files_path_print(e->path, pp, sizeof(pp)));
    }
    if (rc) return rc;
    int sel = rst_files_path_select(e->path, (const char *const *)x->inc, x->ninc, &which);
    if (sel == RST_SEL_NONE || (sel == RST_SEL_PARENT && e->type != SRC_FILES_DIR)) return 0;
    if (sel == RST_SEL_ALL && x->ninc) x->inc_hit[which] = true;

    /* Plain files go to the pool; files with other names (hard links) are
     * written here, so they are complete before a later link() to them. */
    if (x->nth && e->type == SRC_FILES_FILE && e->nlink <= 1) return pool_push(x, e, err);
    bool as_link = e->type == SRC_FILES_HARDLINK && set_has(&x->links, e->link);
    rc = write_entry(&x->main, e, as_link, err);
    if (!rc && e->type == SRC_FILES_FILE && e->nlink > 1) rc = set_add(&x->links, e->path, err);
    return rc;
}

static int restore_item(Rst *x, const json_t *item, Err *err)
{
    SrcFilesTree *t = NULL;
    SrcFilesEntry e = {0};
    int rc = src_files_tree_open(x->repo, item, &t, err);
    while (!rc) {
        int n = src_files_tree_next(t, &e, err);
        if (n == 0) break;
        if (n != 1) {
            rc = n;
            break;
        }
        rc = restore_entry(x, &e, err);
    }
    src_files_entry_clear(&e);
    src_files_tree_close(t);
    if (rc) {
        const char *name = json_string_value(json_object_get(item, "name"));
        err_wrap(err, "files item %s", name ? name : "?");
    }
    return rc;
}

/* Copy of an include without leading "/" or "./" and trailing "/". */
static char *norm_include(const char *s)
{
    for (;;) {
        if (s[0] == '/') s++;
        else if (s[0] == '.' && s[1] == '/') s += 2;
        else break;
    }
    size_t n = strlen(s);
    while (n && s[n - 1] == '/') n--;
    return strndup(s, n);
}

int rst_files_restore(Repo *r, const json_t *what, const char *target_dir,
                      const char *const *includes, size_t ninc, const RstFilesOptions *opt,
                      RstFilesStats *stats, Err *err)
{
    int rc = 0, saved_cwd = -1;
    char pp[512];
    Rst x = {0};
    const json_t **items = NULL;
    pthread_mutex_init(&x.mu, NULL);
    pthread_cond_init(&x.can_pop, NULL);
    pthread_cond_init(&x.can_push, NULL);
    size_t nitems = 0;
    bool moved = false;

    x.repo = r;
    err_clear(&x.first);
    rc = rst_files_items(what, &items, &nitems, err);
    if (rc) goto out;
    if (ninc) {
        x.inc = calloc(ninc, sizeof(char *));
        x.inc_hit = calloc(ninc, sizeof(bool));
        if (!x.inc || !x.inc_hit) {
            rc = err_set(err, ERR_NOMEM, "includes");
            goto out;
        }
        x.ninc = ninc;
        for (size_t i = 0; i < ninc; i++) {
            if (!(x.inc[i] = norm_include(includes[i]))) {
                rc = err_set(err, ERR_NOMEM, "includes");
                goto out;
            }
            if (!*x.inc[i]) {
                rc = err_set(err, ERR_INVALID, "include %s names no path", includes[i]);
                goto out;
            }
        }
    }
    bool check = !(opt && opt->overwrite) && !rst_files_dir_is_empty(target_dir);
    if ((rc = rst_files_target_make(target_dir, err))) goto out;
    saved_cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (saved_cwd < 0) {
        rc = err_sys(err, errno, "open the current directory");
        goto out;
    }
    if (chdir(target_dir) != 0) {
        rc = err_sys(err, errno, "enter target %s", src_files_path_print(target_dir, pp, sizeof(pp)));
        goto out;
    }
    moved = true;
    if (check && (rc = rst_files_conflicts(r, items, nitems, (const char *const *)x.inc, x.ninc,
                                           target_dir, err)))
        goto out;
    x.flags = ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
              ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_PERM |
              ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_ACL |
              ARCHIVE_EXTRACT_FFLAGS;
    /* No ARCHIVE_EXTRACT_SPARSE: holes come from the entry's sparse map
     * (data written at its offsets, the size set at the end), so sparse
     * files are restored sparse and others byte for byte as they were;
     * the flag would split every write into 4 KiB pieces to look for zeros
     * (measured: 267k write calls for a 1 GiB tree). */
    if (geteuid() == 0) x.flags |= ARCHIVE_EXTRACT_OWNER;
    rc = writer_open(&x.main, &x, err);
    if (!rc) rc = pool_start(&x, err);
    if (rc) goto out;
    uint64_t total = 0;
    for (size_t i = 0; !ninc && i < nitems; i++)
        total += (uint64_t)json_integer_value(json_object_get(items[i], "bytes"));
    x.prog = progress_new("restore", total, 0, opt && opt->progress);
    for (size_t i = 0; i < nitems && !rc; i++) rc = restore_item(&x, items[i], err);
    if (!rc) rc = pool_stop(&x, err);
    else {
        pthread_mutex_lock(&x.mu);    /* queued files are dropped, not written */
        if (!x.fatal) x.fatal = rc;
        pthread_mutex_unlock(&x.mu);
        pool_stop(&x, NULL);
    }
    if (rc) goto out;
    /* Directory times and restrictive permissions are applied here, after
     * their contents, all files being written (libarchive's fixup list). */
    if (archive_write_close(x.main.aw) != ARCHIVE_OK) {
        rc = err_set(err, ERR_IO, "set directory metadata: %s", archive_error_string(x.main.aw));
        goto out;
    }
    for (size_t i = 0; i < x.ninc; i++) {
        if (!x.inc_hit[i]) {
            rc = err_set(err, ERR_NOTFOUND, "include %s matches nothing in the snapshot",
                         src_files_path_print(includes[i], pp, sizeof(pp)));
            goto out;
        }
    }
    if (x.st.failed) {
        rc = err_set(err, ERR_CORRUPT, "%llu file(s) could not be restored (damaged data); first: %s",
                     (unsigned long long)x.st.failed, x.first.msg);
        goto out;
    }
out:
    if (x.q) pool_stop(&x, NULL);
    writer_close(&x.main);
    progress_done(x.prog);
    if (moved && fchdir(saved_cwd) != 0 && !rc)
        rc = err_sys(err, errno, "return to the previous working directory");
    if (saved_cwd >= 0) close(saved_cwd);
    if (stats) *stats = x.st;
    for (size_t i = 0; i < x.ninc; i++) free(x.inc[i]);
    free(x.inc);
    free(x.inc_hit);
    set_free(&x.links);
    free(items);
    pthread_mutex_destroy(&x.mu);
    pthread_cond_destroy(&x.can_pop);
    pthread_cond_destroy(&x.can_push);
    return rc;
}
