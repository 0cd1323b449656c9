/* pitr_dur_state.c: the durability state file: the originals recorded
 * before the first SET GLOBAL (0600, fsynced, renamed into place), read back
 * by the next restore against the same server, and the recovery that puts
 * back what an interrupted restore left relaxed (pitr_durability.c,
 * invariant 1). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "restore/pitr/pitr_dur_int.h"
#include "restore/pitr/pitr_int.h"

void pitr_dur_fsync_dir_of(const char *path)
{
    char dir[600];
    char *slash;
    int fd;
    snprintf(dir, sizeof dir, "%s", path);
    slash = strrchr(dir, '/');
    if (!slash) return;
    *slash = 0;
    fd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* ---- the state file ------------------------------------------------------------ */

static json_t *pair(int orig, int set)
{
    return orig < 0 ? json_null() : json_pack("{s:i,s:i}", "original", orig, "set", set);
}

int pitr_dur_state_write(const RstPitrDurability *d, Err *err)
{
    char tmp[640];
    json_t *j;
    char *text = NULL;
    int fd = -1, rc = 0;
    size_t len;

    j = json_pack("{s:s,s:I,s:I,s:o,s:o,s:b}", "identity", d->identity, "pid", (json_int_t)getpid(),
                  "started", (json_int_t)time(NULL), "innodb_flush_log_at_trx_commit",
                  pair(d->set_flush ? d->flush_orig : -1, 2), "sync_binlog",
                  pair(d->set_sync ? d->sync_orig : -1, 0), "log_bin", d->log_bin);
    if (!j || !(text = json_dumps(j, JSON_INDENT(2)))) {
        json_decref(j);
        return err_set(err, ERR_NOMEM, "out of memory");
    }
    json_decref(j);
    len = strlen(text);
    snprintf(tmp, sizeof tmp, "%s.tmp", d->state_file);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = err_sys(err, errno, "record the original durability settings in %s", tmp);
        goto out;
    }
    if (write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 || fsync(fd) != 0) {
        rc = err_sys(err, errno, "write %s", tmp);
        goto out;
    }
    close(fd);
    fd = -1;
    if (rename(tmp, d->state_file) != 0) {
        rc = err_sys(err, errno, "rename %s", tmp);
        goto out;
    }
    pitr_dur_fsync_dir_of(d->state_file);
out:
    if (fd >= 0) close(fd);
    if (rc) unlink(tmp);
    free(text);
    return rc;
}

static int pair_get(const json_t *j, const char *key, int *orig, int *set)
{
    const json_t *p = json_object_get(j, key);
    *orig = *set = -1;
    if (!p || json_is_null(p)) return 0;
    if (!json_is_integer(json_object_get(p, "original")) || !json_is_integer(json_object_get(p, "set")))
        return -1;
    *orig = (int)json_integer_value(json_object_get(p, "original"));
    *set = (int)json_integer_value(json_object_get(p, "set"));
    return 0;
}

int pitr_dur_state_read(RstPitrDurability *d, Err *err)
{
    json_error_t je;
    json_t *j;
    const char *id;
    char when[64] = "?";
    time_t started;
    struct tm tm;

    if (access(d->state_file, F_OK) != 0) return 0;
    j = json_load_file(d->state_file, 0, &je);
    if (!j)
        return err_set(err, ERR_CORRUPT, "durability state file %s is unreadable (%s): check the target's "
                       "innodb_flush_log_at_trx_commit and sync_binlog, then remove it", d->state_file, je.text);
    id = json_string_value(json_object_get(j, "identity"));
    if (!id || strcmp(id, d->identity) != 0) {   /* another server with the same file name: not ours */
        json_decref(j);
        return 0;
    }
    if (pair_get(j, "innodb_flush_log_at_trx_commit", &d->left_flush_orig, &d->left_flush_set) ||
        pair_get(j, "sync_binlog", &d->left_sync_orig, &d->left_sync_set)) {
        json_decref(j);
        return err_set(err, ERR_CORRUPT, "durability state file %s: bad setting entry", d->state_file);
    }
    started = (time_t)json_integer_value(json_object_get(j, "started"));
    if (localtime_r(&started, &tm)) strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(d->leftover_note, sizeof d->leftover_note, "an interrupted restore (pid %" JSON_INTEGER_FORMAT
             ", started %s) left this server's durability relaxed", json_integer_value(json_object_get(j, "pid")),
             when);
    d->leftover = true;
    json_decref(j);
    return 0;
}

int rst_pitr_durability_recover(const MdbConn *conn, RstPitrDurability *d, char *msg, size_t cap,
                                Err *err)
{
    char done[300];
    int rc;
    msg[0] = 0;
    if (!d->leftover) return 0;
    rc = pitr_dur_put_back(conn, d->left_flush_orig, d->left_flush_set, d->left_sync_orig, d->left_sync_set, d->log_bin,
                  d->state_file, done, sizeof done, err);
    if (rc) return err_wrap(err, "%s", d->leftover_note);
    snprintf(msg, cap, "%s: put back %s", d->leftover_note, done);
    d->leftover = false;
    return 0;
}

