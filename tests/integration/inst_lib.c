/* inst_lib.c: the instance module called as a library, without the CLI
 * (issue 11 acceptance 2: the entry points the daemon and the drills use).
 * Driven by inst_lib.sh against a real MariaDB sandbox and a local
 * repository. Steps (argv[2]):
 *   backup CONF INST DOCS    inst_open + inst_repo_open + inst_backup; then
 *                            the snapshot holds the mariadb item and one files
 *                            item per configured tree (DOCS among them), and
 *                            the per-item callback saw each; prints the id
 *   status-none CONF INST    inst_binlog_status before any follower: nothing
 *                            archived, not running -> ERR_GAP (exit 6's code)
 *   follow CONF INST         inst_follow_options + binlog_follow until idle
 *   status CONF INST GTID    the window ends at GTID, the JSON form agrees,
 *                            the stopped follower is an alarm (ERR_GAP)
 *   target CONF INST SOCK    inst_target_conn: the instance's own, an explicit
 *                            socket (its password not sent), a scratch server
 *                            required, a missing --password-file (ERR_INVALID)
 *   typo CONF                inst_open of an unknown instance: ERR_INVALID
 *                            naming the configured ones
 * Exit 0 when every check holds, 1 naming the first that does not. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/common/conf.h"
#include "engine/instance/inst.h"

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define OK(call)                                                                                   \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        CHECK(rc_ == 0, "%s: %s (%s)", #call, err.msg, err_code_name(rc_));                        \
    } while (0)

typedef struct Seen {
    int db, files, adopted;
} Seen;

static void on_item(void *ctx, const InstBackupItem *it)
{
    Seen *s = ctx;
    if (it->kind == INST_BACKUP_DB) s->db++;
    else if (it->kind == INST_BACKUP_FILES) s->files++;
    else s->adopted++;
}

static int count_kind(const json_t *items, const char *kind, const char *name)
{
    size_t i;
    const json_t *it;
    int n = 0;
    json_array_foreach(items, i, it) {
        if (strcmp(json_string_value(json_object_get(it, "kind")), kind) != 0) continue;
        if (name && strcmp(json_string_value(json_object_get(it, "name")), name) != 0) continue;
        n++;
    }
    return n;
}

static void step_backup(Inst *in, const char *docs)
{
    Err err;
    Repo *r = NULL;
    Seen seen = {0};
    InstBackupOptions o = {.with_files = true, .on_item = on_item, .ctx = &seen};
    InstBackupResult res;
    json_t *m = NULL;
    Id id;
    const char *tags[] = {"libtest"};

    err_clear(&err);
    o.tags = tags;
    o.ntags = 1;
    OK(inst_repo_open(in, NULL, &r, &err));
    OK(inst_backup(in, r, &o, &res, &err));
    OK(repo_close(r, &err));
    CHECK(strlen(res.snapshot) == ID_HEX_LEN, "snapshot id '%s'", res.snapshot);
    CHECK(res.db.tables >= 1 && res.db.rows >= 3, "dump stats: %llu tables, %llu rows",
          (unsigned long long)res.db.tables, (unsigned long long)res.db.rows);
    CHECK(json_is_object(res.binlog), "no binlog coordinates in the result");
    CHECK(json_is_array(res.prepared_xa), "prepared_xa is not an array");
    CHECK(seen.db == 1 && seen.files == 3, "callback saw %d db and %d files items", seen.db,
          seen.files);

    OK(inst_repo_open(in, NULL, &r, &err));
    OK(repo_snapshot_get(r, res.snapshot, inst_name(in), &m, &id, &err));
    const json_t *items = json_object_get(m, "items");
    CHECK(count_kind(items, "mariadb", NULL) == 1, "snapshot lacks the mariadb item");
    CHECK(count_kind(items, "files", NULL) == 3, "snapshot holds %d files items, not 3",
          count_kind(items, "files", NULL));
    CHECK(count_kind(items, "files", docs) == 1, "snapshot lacks the files item %s", docs);
    CHECK(json_array_size(json_object_get(m, "tags")) == 1, "tags not kept");
    json_decref(m);
    repo_free(r);
    printf("%s\n", res.snapshot);
    inst_backup_result_free(&res);
}

static void status_load(Inst *in, InstBinlogStatus *st)
{
    Err err;
    Repo *r = NULL;
    err_clear(&err);
    OK(inst_repo_open(in, NULL, &r, &err));
    OK(inst_binlog_status(in, r, st, &err));
    repo_free(r);
}

static void step_status_none(Inst *in)
{
    InstBinlogStatus st;
    Err err;
    err_clear(&err);
    status_load(in, &st);
    CHECK(!st.running && st.segments == 0 && !st.has_window, "status before any follower: running %d, %zu segments",
          st.running, st.segments);
    CHECK(inst_binlog_status_verdict(&st, &err) == ERR_GAP, "verdict %s, not ERR_GAP", err_code_name(err.code));
    CHECK(strstr(err.msg, "no binlog follower runs for instance shop"), "verdict message: %s", err.msg);
    CHECK(st.nalarms == 1 && st.problem == st.alarms[0], "%zu alarms", st.nalarms);
    inst_binlog_status_free(&st);
}

static void step_follow(Inst *in)
{
    BinlogFollowOpts o;
    volatile sig_atomic_t stop = 0;
    Repo *r = NULL;
    Err err;
    err_clear(&err);
    OK(inst_follow_options(in, &o, &err));
    CHECK(o.server_id == 4711 && o.flush_seconds == 1, "follower options: server_id %u, flush %u",
          o.server_id, o.flush_seconds);
    CHECK(strcmp(o.spool_dir, inst_spool_dir(in)) == 0, "spool %s", o.spool_dir);
    o.until_idle = true;
    o.stop = &stop;
    OK(inst_repo_open(in, NULL, &r, &err));
    OK(binlog_follow(r, &o, &err));
    OK(repo_close(r, &err));
}

static void step_status(Inst *in, const char *gtid)
{
    InstBinlogStatus st;
    Err err;
    json_t *j;
    err_clear(&err);
    status_load(in, &st);
    CHECK(st.segments >= 1 && st.has_window, "%zu segments, window %d", st.segments, st.has_window);
    CHECK(strcmp(st.window.to_gtid, gtid) == 0, "window ends at '%s', not '%s'", st.window.to_gtid, gtid);
    CHECK(strcmp(st.last_gtid, gtid) == 0, "last archived '%s', not '%s'", st.last_gtid, gtid);
    CHECK(!st.is_gap && !st.gap[0], "a gap: %s", st.gap);
    CHECK(st.window.from <= st.window.to && st.window.to > 0, "window times %lld..%lld",
          (long long)st.window.from, (long long)st.window.to);
    j = inst_binlog_status_json(&st);
    CHECK(j && strcmp(json_string_value(json_object_get(json_object_get(j, "window"), "to_gtid")), gtid) == 0,
          "JSON window");
    CHECK(json_integer_value(json_object_get(j, "segments")) == (json_int_t)st.segments, "JSON segments");
    CHECK(json_is_object(json_object_get(j, "follower")), "JSON lacks the follower's status file");
    json_decref(j);
    /* the follower stopped at the server's end: nothing new is archived */
    CHECK(!st.running, "the stopped follower is called running");
    CHECK(inst_binlog_status_verdict(&st, &err) == ERR_GAP, "verdict %s, not ERR_GAP", err_code_name(err.code));
    inst_binlog_status_free(&st);
}

static void step_target(Inst *in, const char *sock)
{
    const MdbConn *own = NULL;
    MdbConn c;
    Err err;
    err_clear(&err);
    OK(inst_db_conn(in, &own, &err));
    CHECK(own->password && strcmp(own->password, "not-the-root-password") == 0, "db_password_file not read");
    OK(inst_target_conn(in, &(InstTarget){.port = 0, .user = "other"}, &c, &err));
    CHECK(c.socket && strcmp(c.socket, own->socket) == 0 && strcmp(c.user, "other") == 0 && c.password == own->password,
          "the instance's own target");
    OK(inst_target_conn(in, &(InstTarget){.socket = sock}, &c, &err));
    CHECK(strcmp(c.socket, sock) == 0 && !c.host && !c.password && strcmp(c.user, "root") == 0,
          "explicit socket: socket %s, password %s", c.socket, c.password ? "sent" : "none");
    CHECK(inst_target_conn(in, &(InstTarget){.require_explicit = true}, &c, &err) == ERR_INVALID &&
              strstr(err.msg, "scratch server"),
          "require_explicit: %s", err.msg);
    err_clear(&err);
    CHECK(inst_target_conn(in, &(InstTarget){.socket = sock, .password_file = "/nonexistent/pw"}, &c, &err) ==
                  ERR_INVALID &&
              strstr(err.msg, "--password-file /nonexistent/pw"),
          "missing --password-file: %s", err.msg);
}

int main(int argc, char **argv)
{
    Conf *conf = NULL;
    Inst *in = NULL;
    Err err;
    const char *step = argc > 2 ? argv[1] : "";

    err_clear(&err);
    if (argc < 3) {
        fprintf(stderr, "usage: inst_lib STEP CONF [INST [ARG]]\n");
        return 2;
    }
    OK(conf_load(argv[2], true, &conf, &err));
    if (strcmp(step, "typo") == 0) {
        CHECK(inst_open(conf, "shpo", &in, &err) == ERR_INVALID, "inst_open of a typo succeeded");
        CHECK(strstr(err.msg, "instance 'shpo' is not in the config (its instances: shop)"), "message: %s", err.msg);
        conf_free(conf);
        return 0;
    }
    CHECK(argc > 3, "give the instance");
    OK(inst_open(conf, argv[3], &in, &err));
    if (strcmp(step, "backup") == 0 && argc > 4) step_backup(in, argv[4]);
    else if (strcmp(step, "status-none") == 0) step_status_none(in);
    else if (strcmp(step, "follow") == 0) step_follow(in);
    else if (strcmp(step, "status") == 0 && argc > 4) step_status(in, argv[4]);
    else if (strcmp(step, "target") == 0 && argc > 4) step_target(in, argv[4]);
    else CHECK(0, "unknown step %s", step);
    inst_free(in);
    conf_free(conf);
    return 0;
}
