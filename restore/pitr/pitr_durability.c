/* pitr_durability.c: the target's commit durability around the replay
 * (`restore db --durability relaxed|keep`): decided in the plan phase,
 * innodb_flush_log_at_trx_commit=2 / sync_binlog=0 while the replay runs,
 * the originals put back and the logs flushed when it ends, fails, is
 * interrupted, or (after a kill -9) on the next restore against the server.
 *
 * Invariants:
 *  1. The state file (originals, 0600, fsynced) exists before the first SET
 *     GLOBAL and is removed only after every setting is back: a crash at any
 *     point leaves either nothing changed or a file naming what to put back.
 *  2. A setting is put back only while it still holds the value tidemark set
 *     (an operator's change in between wins).
 *  3. From rst_pitr_durability_guard (or relax) to rst_pitr_durability_restore,
 *     relaxed or not, SIGINT/SIGTERM only wake the guard thread (a self-pipe
 *     written by the handler): the first signal sets the flag
 *     rst_pitr_signal() reads (the net fold and apply stop at their next
 *     event or batch, roll back and unwind) and, when the guard was started
 *     for the SQL-thread path, stops the replica so the replay fails and
 *     unwinds; either way through rst_pitr_durability_restore. A second
 *     signal puts relaxed settings back from the guard thread and exits 130.
 * States: CHECKED -(rst_pitr_durability_relax)-> RELAXED
 *   -(rst_pitr_durability_restore | guard, second signal)-> RESTORED;
 *   LEFTOVER (file of a killed run) -(rst_pitr_durability_recover)-> CHECKED. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <mysql.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/common/clock.h"
#include "restore/pitr/pitr_int.h"

#define REPLAY_CONNECTION "tidemark_replay"   /* rst_replay's default connection name */
#define ER_SPECIFIC_ACCESS_DENIED 1227

struct PitrDurGuard {
    pthread_t th;
    pthread_mutex_t mu;        /* serialises putting back: main thread vs guard */
    atomic_int stop;
    atomic_int sig;            /* first signal taken (0 = none) */
    bool replica;              /* the SQL-thread path: the first signal stops the replica */
    int pipe_r;
    struct sigaction old_int, old_term;
    RstPitrDurability *d;
};

/* the handler's only state: one guarded window per process at a time */
static int g_sig_pipe = -1;
/* the first signal of the current (or last) guarded window, for rst_pitr_signal */
static atomic_int g_signal;

int rst_pitr_signal(void)
{
    return atomic_load(&g_signal);
}

static void on_signal(int s)
{
    int e = errno;
    unsigned char b = (unsigned char)s;
    if (write(g_sig_pipe, &b, 1) < 0) { /* nothing an async handler can do */ }
    errno = e;
}

/* One row of n columns into cols (each cap bytes, "" for NULL). */
static int fetch_row(MYSQL *m, const char *sql, char (*cols)[600], unsigned n, Err *err)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    if (mysql_query(m, sql) || !(res = mysql_store_result(m)))
        return mdb_err(m, err, "target server: read the durability settings");
    row = mysql_fetch_row(res);
    for (unsigned i = 0; i < n; i++)
        snprintf(cols[i], 600, "%s", row && i < mysql_num_fields(res) && row[i] ? row[i] : "");
    mysql_free_result(res);
    return 0;
}

/* FNV-1a: names the state file after the server (not a security boundary;
 * the file holds the identity and it is compared on read). */
static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static bool is_system_db(const char *n)
{
    return !strcmp(n, "information_schema") || !strcmp(n, "performance_schema") || !strcmp(n, "mysql") ||
           !strcmp(n, "sys");
}

static bool is_restored_db(const json_t *item, const char *target_db, const char *n)
{
    const json_t *jd;
    size_t i;
    if (target_db) return !strcmp(n, target_db);
    json_array_foreach(json_object_get(item, "databases"), i, jd) {
        const char *name = json_string_value(json_object_get(jd, "name"));
        if (name && !strcmp(name, n)) return true;
    }
    return false;
}

static int other_databases(MYSQL *m, const json_t *item, const char *target_db, char *out, size_t cap,
                           Err *err)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    size_t n = 0;
    out[0] = 0;
    if (mysql_query(m, "SHOW DATABASES") || !(res = mysql_store_result(m)))
        return mdb_err(m, err, "target server: SHOW DATABASES");
    while ((row = mysql_fetch_row(res))) {
        if (!row[0] || is_system_db(row[0]) || is_restored_db(item, target_db, row[0])) continue;
        if (n + strlen(row[0]) + 6 >= cap) {
            if (n + 4 < cap) snprintf(out + n, cap - n, ", ...");
            break;
        }
        n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? ", " : "", row[0]);
    }
    mysql_free_result(res);
    return 0;
}

/* *denied: the server refused for want of a privilege. The statements
 * change nothing: a variable set to its own value, a redo-log flush. */
static int probe(MYSQL *m, const char *sql, bool *denied, Err *err)
{
    *denied = false;
    if (!mysql_query(m, sql)) {
        mysql_free_result(mysql_store_result(m));
        return 0;
    }
    if (mysql_errno(m) == ER_SPECIFIC_ACCESS_DENIED || mysql_errno(m) == 1045 || mysql_errno(m) == 1142) {
        *denied = true;
        return 0;
    }
    return mdb_err(m, err, "target server: privilege check");
}

/* "'user'@'host'" from CURRENT_USER()'s "user@host". */
static void grantee(const char *cu, char *out, size_t cap)
{
    const char *at = strrchr(cu, '@');
    if (!at) snprintf(out, cap, "'%s'", cu);
    else snprintf(out, cap, "'%.*s'@'%s'", (int)(at - cu), cu, at + 1);
}

static void fsync_dir_of(const char *path)
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

static int state_write(const RstPitrDurability *d, Err *err)
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
    fsync_dir_of(d->state_file);
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

/* Read an interrupted run's file for this server into d->left_* (absent: no leftover). */
static int state_read(RstPitrDurability *d, Err *err)
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

/* ---- putting the settings back --------------------------------------------------- */

/* For each variable changed (orig >= 0): set it back when it still holds
 * `set`. Then make everything committed so far durable, and remove the file.
 *
 * Why these statements (checked with strace on MariaDB 10.11.19):
 *  - FLUSH NO_WRITE_TO_BINLOG ENGINE LOGS makes InnoDB write its log buffer
 *    and fdatasync ib_logfile0 up to the current LSN, but durably only when
 *    innodb_flush_log_at_trx_commit is 1 again (InnoDB's flush_logs uses the
 *    setting), hence after the SET. Plain FLUSH ENGINE LOGS would also write
 *    a statement (with a GTID) to the target's binlog; NO_WRITE_TO_BINLOG
 *    does not, but then does not sync the binlog either.
 *  - FLUSH BINARY LOGS closes the current binlog file with an fdatasync (and
 *    the index), opening the next one: every replayed transaction the binlog
 *    holds (log_slave_updates) is then on disk. It is never binlogged and
 *    runs only when sync_binlog was relaxed and log_bin is on.
 * Both need RELOAD, which the plan checked. */
static int put_back(const MdbConn *conn, int flush_orig, int flush_set, int sync_orig, int sync_set,
                    bool log_bin, const char *file, char *done, size_t cap, Err *err)
{
    MYSQL *m = NULL;
    char cols[2][600], sql[160];
    size_t n = 0;
    int rc;

    done[0] = 0;
    if ((rc = mdb_connect(conn, MDB_CONNECT_CLIENT, MDB_CLIENT_TIMEOUT_S, &m, err))) goto out;
    if ((rc = fetch_row(m, "SELECT @@global.innodb_flush_log_at_trx_commit, @@global.sync_binlog", cols, 2, err)))
        goto out;
    if (flush_orig >= 0) {
        if (atoi(cols[0]) == flush_set) {
            snprintf(sql, sizeof sql, "SET GLOBAL innodb_flush_log_at_trx_commit = %d", flush_orig);
            if ((rc = mdb_exec(m, sql, err))) goto out;
            n += (size_t)snprintf(done + n, cap - n, "innodb_flush_log_at_trx_commit=%d", flush_orig);
        } else {
            n += (size_t)snprintf(done + n, cap - n, "innodb_flush_log_at_trx_commit left at %.20s (changed "
                                  "since tidemark set it)", cols[0]);
        }
    }
    if (sync_orig >= 0 && n < cap) {
        if (atoi(cols[1]) == sync_set) {
            snprintf(sql, sizeof sql, "SET GLOBAL sync_binlog = %d", sync_orig);
            if ((rc = mdb_exec(m, sql, err))) goto out;
            n += (size_t)snprintf(done + n, cap - n, "%ssync_binlog=%d", n ? ", " : "", sync_orig);
        } else {
            n += (size_t)snprintf(done + n, cap - n, "%ssync_binlog left at %.20s (changed since tidemark set "
                                  "it)", n ? ", " : "", cols[1]);
        }
    }
    if ((rc = mdb_exec(m, "FLUSH NO_WRITE_TO_BINLOG ENGINE LOGS", err))) goto out;
    if (sync_orig >= 0 && log_bin && (rc = mdb_exec(m, "FLUSH BINARY LOGS", err))) goto out;
    if (file && file[0] && unlink(file) != 0 && errno != ENOENT) {
        rc = err_sys(err, errno, "remove durability state file %s", file);
        goto out;
    }
    if (file && file[0]) fsync_dir_of(file);
    rc = 0;
out:
    mdb_close(m);
    if (rc) {
        char fix[200];
        size_t k = 0;
        fix[0] = 0;
        if (flush_orig >= 0) k += (size_t)snprintf(fix, sizeof fix, "SET GLOBAL innodb_flush_log_at_trx_commit=%d; ", flush_orig);
        if (sync_orig >= 0 && k < sizeof fix) snprintf(fix + k, sizeof fix - k, "SET GLOBAL sync_binlog=%d; ", sync_orig);
        err_wrap(err, "put back the target's durability settings (%s%s; the next restore against this "
                 "server does it from %s)", fix, "then FLUSH ENGINE LOGS", file && file[0] ? file : "-");
    }
    return rc;
}

static int put_back_d(RstPitrDurability *d, char *done, size_t cap, Err *err)
{
    return put_back(d->conn, d->set_flush ? d->flush_orig : -1, 2, d->set_sync ? d->sync_orig : -1, 0,
                    d->log_bin, d->state_file, done, cap, err);
}

/* ---- the plan ---------------------------------------------------------------------- */

static void changes(const RstPitrDurability *d, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = 0;
    if (d->set_flush) n += (size_t)snprintf(out, cap, "innodb_flush_log_at_trx_commit %d -> 2", d->flush_orig);
    if (d->set_sync && n < cap) snprintf(out + n, cap - n, "%ssync_binlog %d -> 0", n ? ", " : "", d->sync_orig);
}

int rst_pitr_durability_check(const MdbConn *conn, const json_t *item, const char *target_db,
                              bool replay, RstPitrDurMode requested, const char *state_dir,
                              RstPitrDurability *out, Err *err)
{
    MYSQL *m = NULL;
    char cols[5][600], problem[1000] = "", who[260], ch[120];
    int rc;

    memset(out, 0, sizeof *out);
    out->requested = requested;
    out->flush_orig = out->sync_orig = -1;
    out->left_flush_orig = out->left_flush_set = out->left_sync_orig = out->left_sync_set = -1;
    if ((rc = mdb_connect(conn, MDB_CONNECT_CLIENT, MDB_CLIENT_TIMEOUT_S, &m, err))) {
        err_wrap(err, "target server");
        goto out;
    }
    rc = fetch_row(m, "SELECT @@global.innodb_flush_log_at_trx_commit, @@global.sync_binlog, @@global.log_bin, "
                   "CURRENT_USER(), CONCAT(@@hostname, ':', @@port, ':', @@datadir)", cols, 5, err);
    if (rc) goto out;
    out->flush_orig = atoi(cols[0]);
    out->sync_orig = atoi(cols[1]);
    out->log_bin = cols[2][0] == '1';
    snprintf(out->user, sizeof out->user, "%.199s", cols[3]);
    snprintf(out->identity, sizeof out->identity, "%.599s", cols[4]);
    if (state_dir && strlen(state_dir) > sizeof out->state_file - 48) state_dir = NULL;   /* too long: as none */
    if (state_dir) {
        snprintf(out->state_file, sizeof out->state_file, "%s/pitr-durability-%016" PRIx64 ".json", state_dir,
                 fnv1a(out->identity));
        if ((rc = state_read(out, err))) goto out;
        /* the values to decide on and to put back are the ones before that run */
        if (out->leftover && out->left_flush_orig >= 0 && out->flush_orig == out->left_flush_set)
            out->flush_orig = out->left_flush_orig;
        if (out->leftover && out->left_sync_orig >= 0 && out->sync_orig == out->left_sync_set)
            out->sync_orig = out->left_sync_orig;
    }
    if ((rc = other_databases(m, item, target_db, out->other_dbs, sizeof out->other_dbs, err))) goto out;

    /* stricter than 2/0: innodb 1 (and MariaDB's 3) flush at each commit; 0 is looser than 2 */
    out->set_flush = out->flush_orig == 1 || out->flush_orig == 3;
    out->set_sync = out->sync_orig > 0;
    if (!replay) {
        snprintf(out->reason, sizeof out->reason, "unchanged (no binlog replay)");
        goto decided;
    }
    if (requested == RST_PITR_DUR_KEEP) {
        snprintf(out->reason, sizeof out->reason, "kept (--durability keep)");
        goto decided;
    }
    if (!out->set_flush && !out->set_sync) {
        snprintf(out->reason, sizeof out->reason, "unchanged: the target already commits without a flush "
                 "(innodb_flush_log_at_trx_commit=%d, sync_binlog=%d)", out->flush_orig, out->sync_orig);
        goto decided;
    }
    if (requested == RST_PITR_DUR_DEFAULT && out->other_dbs[0]) {
        snprintf(out->reason, sizeof out->reason, "kept (the target holds other databases: %s; "
                 "--durability relaxed to override)", out->other_dbs);
        goto decided;
    }

    /* relaxing needs a place for the originals and the privileges */
    if (!state_dir) {
        snprintf(problem, sizeof problem, "no usable state_dir (unset, or its path is too long) to record the original settings in");
    } else if (mkdir(state_dir, 0700) != 0 && errno != EEXIST) {
        snprintf(problem, sizeof problem, "cannot create state_dir %s to record the original settings in: %s",
                 state_dir, strerror(errno));
    } else if (access(state_dir, W_OK) != 0) {
        snprintf(problem, sizeof problem, "state_dir %s is not writable (the original settings are recorded "
                 "there): %s", state_dir, strerror(errno));
    }
    if (!problem[0]) {
        char missing[100] = "";
        bool no;
        if (out->set_flush) {
            rc = probe(m, "SET GLOBAL innodb_flush_log_at_trx_commit = @@global.innodb_flush_log_at_trx_commit",
                       &no, err);
            if (rc) goto out;
            if (no) snprintf(missing, sizeof missing, "SUPER");
        }
        if (out->set_sync && !missing[0]) {
            if ((rc = probe(m, "SET GLOBAL sync_binlog = @@global.sync_binlog", &no, err))) goto out;
            if (no) snprintf(missing, sizeof missing, "%s", out->set_flush ? "SUPER" : "BINLOG ADMIN");
        }
        if ((rc = probe(m, "FLUSH NO_WRITE_TO_BINLOG ENGINE LOGS", &no, err))) goto out;
        if (no) snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%sRELOAD", missing[0] ? ", " : "");
        if (missing[0]) {
            grantee(out->user, who, sizeof who);
            snprintf(problem, sizeof problem, "the target user %s lacks %s (SET GLOBAL "
                     "innodb_flush_log_at_trx_commit needs SUPER, sync_binlog SUPER or BINLOG ADMIN, the final "
                     "log flush RELOAD): GRANT %s ON *.* TO %s", who, missing, missing, who);
        }
    }
    if (problem[0]) {
        if (requested == RST_PITR_DUR_RELAXED) {
            rc = err_set(err, strstr(problem, "GRANT") ? ERR_PERM : ERR_INVALID, "--durability relaxed: %s; "
                         "or --durability keep", problem);
            goto out;
        }
        snprintf(out->fallback, sizeof out->fallback, "%s", problem);
        snprintf(out->reason, sizeof out->reason, "kept, not relaxed for the replay: %s", problem);
        goto decided;
    }
    out->relax = true;
    changes(out, ch, sizeof ch);
    if (out->other_dbs[0])
        snprintf(out->reason, sizeof out->reason, "relaxed during replay (--durability relaxed, although the "
                 "target holds other databases: %s): %s, put back and flushed after the replay",
                 out->other_dbs, ch);
    else
        snprintf(out->reason, sizeof out->reason, "relaxed during replay (no other databases on the target): "
                 "%s, put back and flushed after the replay", ch);
decided:
    rc = 0;
out:
    mdb_close(m);
    return rc;
}

int rst_pitr_durability_recover(const MdbConn *conn, RstPitrDurability *d, char *msg, size_t cap,
                                Err *err)
{
    char done[300];
    int rc;
    msg[0] = 0;
    if (!d->leftover) return 0;
    rc = put_back(conn, d->left_flush_orig, d->left_flush_set, d->left_sync_orig, d->left_sync_set, d->log_bin,
                  d->state_file, done, sizeof done, err);
    if (rc) return err_wrap(err, "%s", d->leftover_note);
    snprintf(msg, cap, "%s: put back %s", d->leftover_note, done);
    d->leftover = false;
    return 0;
}

/* ---- while relaxed: the guard ------------------------------------------------------- */

static void stop_replica(const MdbConn *conn)
{
    MYSQL *m = NULL;
    Err e;
    err_clear(&e);
    if (mdb_connect(conn, MDB_CONNECT_CLIENT, MDB_CLIENT_TIMEOUT_S, &m, &e)) return;
    /* fails harmlessly when the connection is not there (yet, or any more) */
    mdb_exec(m, "STOP SLAVE '" REPLAY_CONNECTION "'", &e);
    mdb_close(m);
}

static void *guard_main(void *arg)
{
    PitrDurGuard *g = arg;
    double last_stop = 0;

    while (!atomic_load(&g->stop)) {
        struct pollfd pfd = {.fd = g->pipe_r, .events = POLLIN};
        unsigned char b;
        if (poll(&pfd, 1, 200) == 1 && read(g->pipe_r, &b, 1) == 1) {
            if (!atomic_load(&g->sig)) {
                atomic_store(&g->sig, (int)b);
                atomic_store(&g_signal, (int)b);
                fprintf(stderr, "tidemark: %s: stopping the %s%s (again to quit at once)\n",
                        b == SIGINT ? "SIGINT" : "SIGTERM", g->replica ? "replay" : "restore",
                        g->d->relaxed ? "; the target's durability settings are put back before exit" : "");
                if (g->replica) stop_replica(g->d->conn);
                last_stop = clock_mono_s();
                continue;
            }
            /* second signal: put back now and leave; when the main thread
             * is putting them back already, leave at once (the state file
             * stays until that finished, so the next restore completes it) */
            {
                char done[300];
                Err e;
                err_clear(&e);
                if (pthread_mutex_trylock(&g->mu) != 0) {
                    fprintf(stderr, "tidemark: interrupted while putting the durability settings back; if "
                            "%s remains, the next restore against this server puts them back\n",
                            g->d->state_file);
                } else if (g->d->relaxed) {
                    if (put_back_d(g->d, done, sizeof done, &e) == 0)
                        fprintf(stderr, "tidemark: interrupted: durability settings put back (%s)\n", done);
                    else
                        fprintf(stderr, "tidemark: interrupted: %s\n", e.msg);
                }
                fprintf(stderr, "tidemark: quit at once: the target holds an incomplete restore%s\n",
                        g->replica ? "; the next restore removes the replication connection '"
                                     REPLAY_CONNECTION "' if it is left" : "");
                _exit(130);
            }
        }
        /* START SLAVE may come after the first STOP: keep stopping it */
        if (g->replica && atomic_load(&g->sig) && clock_mono_s() - last_stop >= 1.0) {
            stop_replica(g->d->conn);
            last_stop = clock_mono_s();
        }
    }
    return NULL;
}

static void guard_stop(RstPitrDurability *d)
{
    PitrDurGuard *g = d->guard;
    if (!g) return;
    atomic_store(&g->stop, 1);
    pthread_join(g->th, NULL);
    sigaction(SIGINT, &g->old_int, NULL);
    sigaction(SIGTERM, &g->old_term, NULL);
    close(g->pipe_r);
    close(g_sig_pipe);
    g_sig_pipe = -1;
    d->signal = atomic_load(&g->sig);
    pthread_mutex_destroy(&g->mu);
    free(g);
    d->guard = NULL;
}

static int guard_start(RstPitrDurability *d, bool replica, Err *err)
{
    PitrDurGuard *g;
    struct sigaction sa;
    int fds[2];

    if (g_sig_pipe >= 0) return err_set(err, ERR_INVALID, "durability: a guarded window is already open");
    if (!(g = calloc(1, sizeof *g))) return err_set(err, ERR_NOMEM, "out of memory");
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
        free(g);
        return err_sys(err, errno, "durability: signal pipe");
    }
    g->pipe_r = fds[0];
    g_sig_pipe = fds[1];
    g->d = d;
    g->replica = replica;
    d->signal = 0;
    atomic_store(&g_signal, 0);
    pthread_mutex_init(&g->mu, NULL);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, &g->old_int);
    sigaction(SIGTERM, &sa, &g->old_term);
    d->guard = g;
    if (pthread_create(&g->th, NULL, guard_main, g) != 0) {
        sigaction(SIGINT, &g->old_int, NULL);
        sigaction(SIGTERM, &g->old_term, NULL);
        close(fds[0]);
        close(fds[1]);
        g_sig_pipe = -1;
        pthread_mutex_destroy(&g->mu);
        free(g);
        d->guard = NULL;
        return err_set(err, ERR_NOMEM, "durability: cannot start the signal guard thread");
    }
    return 0;
}

int rst_pitr_durability_guard(const MdbConn *conn, RstPitrDurability *d, bool replica, Err *err)
{
    if (d->guard) {
        d->guard->replica = d->guard->replica || replica;
        return 0;
    }
    d->conn = conn;
    return guard_start(d, replica, err);
}

int rst_pitr_durability_relax(const MdbConn *conn, RstPitrDurability *d, Err *err)
{
    MYSQL *m = NULL;
    Err e2;
    char done[300];
    bool own_guard = !d->guard;
    int rc;

    if (!d->relax) return 0;
    d->conn = conn;
    if ((rc = mdb_connect(conn, MDB_CONNECT_CLIENT, MDB_CLIENT_TIMEOUT_S, &m, err))) return err_wrap(err, "target server");
    if ((rc = state_write(d, err))) goto out;   /* invariant 1: the file first */
    if (own_guard && (rc = guard_start(d, true, err))) goto out;
    pthread_mutex_lock(&d->guard->mu);
    d->relaxed = true;
    if (d->set_flush) rc = mdb_exec(m, "SET GLOBAL innodb_flush_log_at_trx_commit = 2", err);
    if (!rc && d->set_sync) rc = mdb_exec(m, "SET GLOBAL sync_binlog = 0", err);
    pthread_mutex_unlock(&d->guard->mu);
    if (rc) {
        err_wrap(err, "relax the target's durability for the replay");
        err_clear(&e2);
        if (put_back_d(d, done, sizeof done, &e2) == 0) d->relaxed = false;   /* invariant 2 skips the unset one */
        else snprintf(d->restore_error, sizeof d->restore_error, "%.599s", e2.msg);
        if (own_guard) guard_stop(d);
    }
out:
    if (rc && !d->relaxed) unlink(d->state_file);
    mdb_close(m);
    return rc;
}

int rst_pitr_durability_restore(RstPitrDurability *d, Err *err)
{
    char done[300];
    int rc = 0;

    if (!d->guard) return 0;
    pthread_mutex_lock(&d->guard->mu);
    if (d->relaxed) {
        rc = put_back_d(d, done, sizeof done, err);
        if (!rc) {
            d->relaxed = false;
            d->restored = true;
        } else {
            snprintf(d->restore_error, sizeof d->restore_error, "%.599s", err->msg);
        }
    }
    pthread_mutex_unlock(&d->guard->mu);
    guard_stop(d);
    return rc;
}

json_t *rst_pitr_durability_json(const RstPitrDurability *d)
{
    static const char *const req[] = {"default", "relaxed", "keep"};
    json_t *j = json_object();
    json_t *dbs = json_array();
    char buf[sizeof d->other_dbs];

    if (!j || !dbs) {
        json_decref(j);
        json_decref(dbs);
        return NULL;
    }
    snprintf(buf, sizeof buf, "%s", d->other_dbs);
    for (char *w = buf; *w;) {   /* the list is ", "-separated */
        char *sep = strstr(w, ", ");
        if (sep) *sep = 0;
        json_array_append_new(dbs, json_string(w));
        if (!sep) break;
        w = sep + 2;
    }
    json_object_set_new(j, "mode", json_string(d->relax ? "relaxed" : "kept"));
    json_object_set_new(j, "requested", json_string(req[d->requested <= RST_PITR_DUR_KEEP ? d->requested : 0]));
    json_object_set_new(j, "reason", json_string(d->reason));
    json_object_set_new(j, "fallback", d->fallback[0] ? json_string(d->fallback) : json_null());
    json_object_set_new(j, "innodb_flush_log_at_trx_commit", json_integer(d->flush_orig));
    json_object_set_new(j, "sync_binlog", json_integer(d->sync_orig));
    json_object_set_new(j, "other_databases", dbs);
    json_object_set_new(j, "state_file", json_string(d->state_file));
    json_object_set_new(j, "restored", json_boolean(d->restored));
    if (d->restore_error[0]) json_object_set_new(j, "restore_error", json_string(d->restore_error));
    return j;
}
