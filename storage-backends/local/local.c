/* local.c: storage driver for a local directory.
 * Invariants: (1) an object is either absent or complete: put writes
 * "<key>.tmp-<pid>-<n>", fsyncs it, renames it over the key and fsyncs the
 * directory; (2) a missing key is ERR_NOTFOUND; (3) directories 0700, files
 * 0600; (4) temp files left by a crash are never listed as objects, and a
 * listing that meets one last written over TEMP_STALE_S ago removes it: a
 * put renames its temp file within seconds of the last write, and a put
 * held up longer than that fails at its rename (ENOENT), never half-done. */
#include "storage-backends/local/local.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct Local {
    char *root;
    int rootfd;
} Local;

static atomic_uint tmp_counter;

static int mkdirs_at(int dirfd, const char *rel, Err *err)
{
    char path[PATH_MAX];
    size_t n = strlen(rel);
    if (n >= sizeof path) return err_set(err, ERR_INVALID, "path too long");
    memcpy(path, rel, n + 1);
    for (char *p = path; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdirat(dirfd, path, 0700) != 0 && errno != EEXIST) return err_sys(err, errno, "mkdir %s", path);
        *p = '/';
    }
    if (mkdirat(dirfd, path, 0700) != 0 && errno != EEXIST) return err_sys(err, errno, "mkdir %s", path);
    return 0;
}

static int fsync_parent(int rootfd, const char *key, Err *err)
{
    const char *slash = strrchr(key, '/');
    int fd, rc = 0;
    if (!slash) {
        if (fsync(rootfd) != 0) return err_sys(err, errno, "fsync repository directory");
        return 0;
    }
    char dir[PATH_MAX];
    size_t n = (size_t)(slash - key);
    memcpy(dir, key, n);
    dir[n] = '\0';
    fd = openat(rootfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return err_sys(err, errno, "open directory %s", dir);
    if (fsync(fd) != 0) rc = err_sys(err, errno, "fsync directory %s", dir);
    close(fd);
    return rc;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static int local_put(void *self, const char *key, const void *buf, size_t len, Err *err)
{
    Local *l = self;
    char tmp[PATH_MAX];
    int fd = -1, rc = 0;
    bool tmp_made = false;

    snprintf(tmp, sizeof tmp, "%s.tmp-%d-%u", key, (int)getpid(), atomic_fetch_add(&tmp_counter, 1));
    fd = openat(l->rootfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == ENOENT) {
        const char *slash = strrchr(key, '/');
        if (slash) {
            char dir[PATH_MAX];
            memcpy(dir, key, (size_t)(slash - key));
            dir[slash - key] = '\0';
            if ((rc = mkdirs_at(l->rootfd, dir, err))) goto out;
        }
        fd = openat(l->rootfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    }
    if (fd < 0) { rc = err_sys(err, errno, "create %s/%s", l->root, tmp); goto out; }
    tmp_made = true;
    if (write_all(fd, buf, len) != 0) { rc = err_sys(err, errno, "write %s/%s", l->root, tmp); goto out; }
    if (fsync(fd) != 0) { rc = err_sys(err, errno, "fsync %s/%s", l->root, tmp); goto out; }
    if (close(fd) != 0) { fd = -1; rc = err_sys(err, errno, "close %s/%s", l->root, tmp); goto out; }
    fd = -1;
    if (renameat(l->rootfd, tmp, l->rootfd, key) != 0) { rc = err_sys(err, errno, "rename to %s", key); goto out; }
    tmp_made = false;
    rc = fsync_parent(l->rootfd, key, err);
out:
    if (fd >= 0) close(fd);
    if (tmp_made) unlinkat(l->rootfd, tmp, 0);
    return rc;
}

static int local_get(void *self, const char *key, uint64_t off, size_t len, Buf *out, Err *err)
{
    Local *l = self;
    struct stat st;
    int fd, rc = 0;
    size_t want;

    fd = openat(l->rootfd, key, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return err_set(err, ERR_NOTFOUND, "object %s not found in %s", key, l->root);
        return err_sys(err, errno, "open %s/%s", l->root, key);
    }
    if (fstat(fd, &st) != 0) { rc = err_sys(err, errno, "stat %s/%s", l->root, key); goto out; }
    if (!S_ISREG(st.st_mode)) {   /* a directory is not an object */
        rc = err_set(err, ERR_NOTFOUND, "object %s not found in %s (not a file)", key, l->root);
        goto out;
    }
    if (off > (uint64_t)st.st_size) {
        rc = err_set(err, ERR_INVALID, "range %llu past the end of %s (%lld bytes)", (unsigned long long)off, key, (long long)st.st_size);
        goto out;
    }
    if (len == STO_LEN_ALL) {
        want = (size_t)((uint64_t)st.st_size - off);
    } else {
        /* storage.h: a range past the end is ERR_INVALID; written so that
         * off + len cannot wrap around. */
        if (len > (uint64_t)st.st_size - off) {
            rc = err_set(err, ERR_INVALID, "range %llu+%zu past the end of %s (%lld bytes)",
                         (unsigned long long)off, len, key, (long long)st.st_size);
            goto out;
        }
        want = len;
    }
    if ((rc = buf_reserve(out, want, err))) goto out;
    {
        size_t got = 0;
        while (got < want) {
            ssize_t r = pread(fd, out->data + out->len + got, want - got, (off_t)(off + got));
            if (r < 0) {
                if (errno == EINTR) continue;
                rc = err_sys(err, errno, "read %s/%s", l->root, key);
                goto out;
            }
            if (r == 0) { rc = err_set(err, ERR_CORRUPT, "object %s shrank while reading", key); goto out; }
            got += (size_t)r;
        }
        out->len += want;
        out->data[out->len] = 0;
    }
out:
    close(fd);
    return rc;
}

static int local_stat(void *self, const char *key, StoStat *out, Err *err)
{
    Local *l = self;
    struct stat st;
    if (fstatat(l->rootfd, key, &st, 0) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) return err_set(err, ERR_NOTFOUND, "object %s not found in %s", key, l->root);
        return err_sys(err, errno, "stat %s/%s", l->root, key);
    }
    if (!S_ISREG(st.st_mode)) return err_set(err, ERR_NOTFOUND, "object %s not found in %s (not a file)", key, l->root);
    out->size = (uint64_t)st.st_size;
    out->mtime = st.st_mtim.tv_sec;
    return 0;
}

static int local_del(void *self, const char *key, Err *err)
{
    Local *l = self;
    if (unlinkat(l->rootfd, key, 0) != 0 && errno != ENOENT) return err_sys(err, errno, "unlink %s/%s", l->root, key);
    return 0;
}

static bool is_temp_name(const char *name)
{
    return strstr(name, ".tmp-") != NULL;
}

#define TEMP_STALE_S 3600

/* A temp file a crashed put left (dir/name relative to root): removed once
 * stale; errors are ignored (a read-only repository simply keeps it). */
static void sweep_temp(Local *l, const char *dir, const char *name)
{
    char path[PATH_MAX];
    struct stat st;
    if (*dir) snprintf(path, sizeof path, "%s/%s", dir, name);
    else snprintf(path, sizeof path, "%s", name);
    if (fstatat(l->rootfd, path, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) return;
    if (time(NULL) - st.st_mtime > TEMP_STALE_S) unlinkat(l->rootfd, path, 0);
}

/* Walk dir (relative to root; "" for the root) depth-first; keys that start
 * with prefix are reported. Directories are entered only when they can hold
 * such keys. */
static int walk(Local *l, const char *dir, const char *prefix, StoListFn fn, void *ctx, Err *err)
{
    DIR *d = NULL;
    int fd, rc = 0;
    struct dirent *de;
    size_t plen = strlen(prefix);

    /* A fresh open of the root, not dup(rootfd): a dup shares the file
     * offset, so nested or concurrent listings of the root disturbed each other. */
    fd = openat(l->rootfd, *dir ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return 0;
        return err_sys(err, errno, "open directory %s/%s", l->root, dir);
    }
    d = fdopendir(fd);
    if (!d) { close(fd); return err_sys(err, errno, "open directory %s/%s", l->root, dir); }
    while ((errno = 0, de = readdir(d)) != NULL) {
        char key[PATH_MAX];
        struct stat st;
        size_t kl, cmp;
        if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2]))) continue;
        if (is_temp_name(de->d_name)) {
            sweep_temp(l, dir, de->d_name);
            continue;
        }
        if (*dir) snprintf(key, sizeof key, "%s/%s", dir, de->d_name);
        else snprintf(key, sizeof key, "%s", de->d_name);
        kl = strlen(key);
        cmp = kl < plen ? kl : plen;
        if (strncmp(key, prefix, cmp) != 0) continue;   /* cannot hold keys under prefix */
        if (fstatat(l->rootfd, key, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT) continue;   /* deleted meanwhile */
            rc = err_sys(err, errno, "stat %s/%s", l->root, key);
            goto out;
        }
        if (S_ISDIR(st.st_mode)) {
            if ((rc = walk(l, key, prefix, fn, ctx, err))) goto out;
        } else if (S_ISREG(st.st_mode) && kl >= plen) {
            if ((rc = fn(ctx, key, (uint64_t)st.st_size, err))) goto out;
        }
    }
    if (errno) rc = err_sys(err, errno, "read directory %s/%s", l->root, dir);
out:
    closedir(d);
    return rc;
}

static int local_list(void *self, const char *prefix, StoListFn fn, void *ctx, Err *err)
{
    return walk(self, "", prefix, fn, ctx, err);
}

static void local_close(void *self)
{
    Local *l = self;
    if (!l) return;
    if (l->rootfd >= 0) close(l->rootfd);
    free(l->root);
    free(l);
}

static const StoOps local_ops = {
    .version = STO_OPS_V1,
    .features = STO_FEAT_RANGE_GET,
    .kind = "local",
    .put = local_put,
    .get = local_get,
    .stat = local_stat,
    .del = local_del,
    .list = local_list,
    .close = local_close,
    .del_many = NULL,
};

int sto_local_open(const char *root, unsigned flags, Sto **out, Err *err)
{
    Local *l = NULL;
    struct stat st;

    if (stat(root, &st) != 0) {
        if (errno != ENOENT) return err_sys(err, errno, "repository %s", root);
        if (!(flags & STO_OPEN_CREATE)) return err_set(err, ERR_NOTFOUND, "no repository at %s (directory does not exist)", root);
        /* create the path, parents 0700 too */
        char tmp[PATH_MAX];
        snprintf(tmp, sizeof tmp, "%s", root);
        for (char *p = tmp + 1; *p; p++) {
            if (*p != '/') continue;
            *p = '\0';
            if (mkdir(tmp, 0700) != 0 && errno != EEXIST) return err_sys(err, errno, "create %s", tmp);
            *p = '/';
        }
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST) return err_sys(err, errno, "create repository directory %s", root);
    } else if (!S_ISDIR(st.st_mode)) {
        return err_set(err, ERR_INVALID, "repository %s is not a directory", root);
    }
    l = calloc(1, sizeof *l);
    if (!l) return err_set(err, ERR_NOMEM, "out of memory");
    l->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (l->rootfd < 0) {
        int e = errno;
        free(l);
        return err_sys(err, e, "open repository directory %s", root);
    }
    l->root = strdup(root);
    if (!l->root) { local_close(l); return err_set(err, ERR_NOMEM, "out of memory"); }
    return sto_new(&local_ops, l, root, out, err);
}
