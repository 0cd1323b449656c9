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
 *   LEFTOVER (file of a killed run) -(rst_pitr_durability_recover)-> CHECKED.
 * This file: the plan phase's decision (rst_pitr_durability_check) and its
 * JSON; the state file is pitr_dur_state.c, setting and putting back on the
 * server pitr_dur_server.c, the signal guard pitr_dur_guard.c. */
#include <errno.h>
#include <inttypes.h>
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "restore/pitr/pitr_dur_int.h"
#include "restore/pitr/pitr_int.h"

/* One row of n columns into cols (each cap bytes, "" for NULL). */
int pitr_dur_fetch_row(MYSQL *m, const char *sql, char (*cols)[600], unsigned n, Err *err)
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
    rc = pitr_dur_fetch_row(m, "SELECT @@global.innodb_flush_log_at_trx_commit, @@global.sync_binlog, @@global.log_bin, "
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
        if ((rc = pitr_dur_state_read(out, err))) goto out;
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
