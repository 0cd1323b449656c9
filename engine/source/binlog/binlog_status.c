/* binlog_status.c: reading a follower's status file and judging from it
 * whether the follower runs (for `binlog status`, the daemon, monitoring).
 * Invariant: a follower is called running only on positive evidence (a
 * live process, a non-final state, a fresh update); anything else is an
 * alarm, because a follower that does not run archives nothing and the
 * recoverable window silently stops growing. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "engine/source/binlog/binlog_int.h"

int binlog_status_read(const char *spool_dir, const char *instance, json_t **out, Err *err)
{
    char p[1100];
    json_error_t je;
    snprintf(p, sizeof p, "%s/%s/status.json", spool_dir, instance);
    json_t *j = json_load_file(p, 0, &je);
    if (!j) {
        struct stat st;
        if (stat(p, &st) != 0)
            return err_set(err, ERR_NOTFOUND, "no follower status for instance %s (%s)",
                           instance, p);
        return err_set(err, ERR_CORRUPT, "follower status %s: %s", p, je.text);
    }
    *out = j;
    return 0;
}

/* kill(pid, 0) fails with EPERM for a live process of another user (the
 * follower runs as tidemark, a monitoring check as nagios): alive too. */
static bool pid_alive(json_int_t pid)
{
    if (pid <= 0 || (json_int_t)(pid_t)pid != pid)
        return false;
    return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

bool binlog_follower_running(const json_t *st, const char *spool_dir, const char *instance,
                             time_t now, char *why, size_t cap)
{
    static const char how[] = "start it: tidemark binlog follow --instance %s (systemd: "
                              "tidemark-binlog@%s)";
    char start[600], t[32];
    snprintf(start, sizeof start, how, instance, instance);
    why[0] = '\0';
    if (!json_is_object(st)) {
        snprintf(why, cap, "no binlog follower runs for instance %s (no status file in %s/%s): "
                 "new transactions are not archived; %s", instance, spool_dir, instance, start);
        return false;
    }
    json_int_t pid = json_integer_value(json_object_get(st, "pid"));
    json_int_t updated = json_integer_value(json_object_get(st, "updated"));
    const char *state = json_string_value(json_object_get(st, "state"));
    const char *error = json_string_value(json_object_get(st, "error"));
    bool final = !state || strcmp(state, "stopped") == 0 || strcmp(state, "gap") == 0 ||
                 strcmp(state, "error") == 0;
    bool alive = pid_alive(pid);
    long long age = updated > 0 && now >= updated ? (long long)(now - updated) : -1;
    if (alive && !final && age >= 0 && age <= BINLOG_STATUS_STALE_S)
        return true;
    binlog_time_format((int64_t)updated, t, sizeof t);
    if (alive && !final)
        snprintf(why, cap, "binlog follower of instance %s is not running: its process %"
                 JSON_INTEGER_FORMAT " has not updated its status since %s UTC (%lld s; it "
                 "does every second): hung? transactions since then are not archived; "
                 "restart it (tidemark binlog follow --instance %s)", instance, pid, t, age,
                 instance);
    else
        snprintf(why, cap, "binlog follower of instance %s is not running (%s \"%s\"%s%s, last "
                 "update %s UTC, %lld s ago): transactions since then are not archived; %s",
                 instance, final ? "it ended in state" : "it died in state",
                 state ? state : "?", error ? ": " : "", error ? error : "", t, age, start);
    return false;
}

bool binlog_follower_connected(const json_t *st, const char *instance, time_t now, char *why,
                               size_t cap)
{
    char t[32];
    why[0] = '\0';
    json_int_t since = json_integer_value(json_object_get(st, "disconnected_since"));
    if (since <= 0 || now < since || now - since <= BINLOG_DISCONNECTED_ALARM_S)
        return true;
    const char *error = json_string_value(json_object_get(st, "error"));
    binlog_time_format((int64_t)since, t, sizeof t);
    snprintf(why, cap, "binlog follower of instance %s runs but has not been connected to its "
             "server for %lld s (since %s UTC%s%s): new transactions are not archived; check "
             "that the server is up and reachable and the follower's account (it keeps retrying)",
             instance, (long long)(now - since), t, error ? "; last error: " : "",
             error ? error : "");
    return false;
}
