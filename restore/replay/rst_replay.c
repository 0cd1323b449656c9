/* rst_replay.c: point-in-time replay through the target server's own
 * replica SQL thread. tidemark starts its replication-source listener
 * (rst_srcserver), points a *named* replication connection of the target at
 * it (existing replication of the target is left alone), runs START SLAVE
 * UNTIL master_gtid_pos, watches SHOW SLAVE STATUS, and removes the
 * connection again whatever happens.
 *
 * States (rst_replay_run):  CONNECT -(configure)-> CONFIGURED -(start_replica)->
 * RUNNING -(watch: SQL thread stopped, no error)-> REACHED -(verify_reached)->
 * DONE; any failure -> CLEANUP (cleanup_target) -> return. CLEANUP always runs
 * once the connection exists, so the target never keeps our connection. */
#include <mysql.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/common/clock.h"
#include "engine/common/log.h"
#include "restore/replay/rst_replay.h"
#include "restore/replay/rst_replay_int.h"

#define REPLAY_USER "tidemark_replay"
#define CONNECT_GRACE_S 20

typedef struct Replay {
    const RstReplayTarget *t;
    MYSQL *db;
    const char *conn;          /* connection name */
    RstSrcServer *src;
    bool configured;
    bool strict_relaxed;       /* we turned gtid_strict_mode off; cleanup turns it on */
    uint32_t target_server_id;
    MdbGtidSet start, until;
} Replay;

static int db_err(Replay *r, Err *err, const char *what)
{
    return err_set(err, ERR_DB, "target server: %s: %s (error %u)", what, mysql_error(r->db),
                   mysql_errno(r->db));
}

/* Run a statement; `what` names it in errors (never the text: it may hold
 * the one-time password). */
static int exec(Replay *r, const char *sql, const char *what, Err *err)
{
    if (mysql_query(r->db, sql)) return db_err(r, err, what);
    mysql_free_result(mysql_store_result(r->db));
    return 0;
}

/* First column of the first row of a query, into out. */
static int query_value(Replay *r, const char *sql, char *out, size_t cap, Err *err)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    out[0] = 0;
    if (mysql_query(r->db, sql) || !(res = mysql_store_result(r->db))) return db_err(r, err, sql);
    row = mysql_fetch_row(res);
    if (row && row[0]) snprintf(out, cap, "%s", row[0]);
    mysql_free_result(res);
    return 0;
}

typedef struct SlaveStatus {
    bool present;
    char io_running[16], sql_running[16];
    unsigned io_errno, sql_errno;
    char io_error[1024], sql_error[1024];
    char gtid_io_pos[256];
} SlaveStatus;


/* The SQL thread applies on the target itself: its error is a server that
 * ran out of room or was stopped (exit 7 or 4), else an event of the range
 * the target cannot apply as the source did, so the restore cannot be exact
 * (ERR_UNSUPPORTED, exit 8). */
static int sql_stopped(unsigned sql_errno, const char *sql_error, const char *pos, Err *err)
{
    switch (sql_errno) {
    case 1021: case 1114:   /* ER_DISK_FULL, ER_RECORD_FILE_FULL */
        return err_set(err, ERR_NOSPACE, "the target's replica SQL thread stopped at %s: error %u: %s",
                       pos, sql_errno, sql_error);
    case 1037: case 1041: case 1053: case 1205: case 1213: case 1927: case 2006: case 2013:
        /* out of memory or resources, shutdown, lock wait, deadlock, killed, gone */
        return err_set(err, ERR_DB, "the target's replica SQL thread stopped at %s: error %u: %s",
                       pos, sql_errno, sql_error);
    default:
        return err_set(err, ERR_UNSUPPORTED, "the target's replica SQL thread stopped at %s: error %u: %s; "
                       "the event cannot be applied to this target as on the source: restore to a point "
                       "before it, or restore together the databases it names (`databases = a b`)",
                       pos, sql_errno, sql_error);
    }
}
static int slave_status(Replay *r, SlaveStatus *st, Err *err)
{
    char sql[160];
    MYSQL_RES *res;
    MYSQL_ROW row;
    MYSQL_FIELD *f;
    unsigned nf;
    memset(st, 0, sizeof *st);
    snprintf(sql, sizeof sql, "SHOW SLAVE '%s' STATUS", r->conn);
    if (mysql_query(r->db, sql) || !(res = mysql_store_result(r->db)))
        return db_err(r, err, "SHOW SLAVE STATUS");
    row = mysql_fetch_row(res);
    f = mysql_fetch_fields(res);
    nf = mysql_num_fields(res);
    if (row) {
        st->present = true;
        for (unsigned i = 0; i < nf; i++) {
            const char *v = row[i] ? row[i] : "";
            const char *n = f[i].name;
            if (!strcmp(n, "Slave_IO_Running")) snprintf(st->io_running, sizeof st->io_running, "%s", v);
            else if (!strcmp(n, "Slave_SQL_Running")) snprintf(st->sql_running, sizeof st->sql_running, "%s", v);
            else if (!strcmp(n, "Last_IO_Errno")) st->io_errno = (unsigned)atoi(v);
            else if (!strcmp(n, "Last_SQL_Errno")) st->sql_errno = (unsigned)atoi(v);
            else if (!strcmp(n, "Last_IO_Error")) snprintf(st->io_error, sizeof st->io_error, "%s", v);
            else if (!strcmp(n, "Last_SQL_Error")) snprintf(st->sql_error, sizeof st->sql_error, "%s", v);
            else if (!strcmp(n, "Gtid_IO_Pos")) snprintf(st->gtid_io_pos, sizeof st->gtid_io_pos, "%s", v);
        }
    }
    mysql_free_result(res);
    return 0;
}

static uint64_t domain_seq(const char *pos, uint32_t domain);

static bool valid_name(const char *s)
{
    if (!s || !*s || strlen(s) > 64) return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

static int connect_target(Replay *r, Err *err)
{
    const RstReplayTarget *t = r->t;
    char v[64];
    int rc;
    if ((rc = mdb_connect(&t->db, 0, 0, &r->db, err))) return err_wrap(err, "target server");
    rc = query_value(r, "SELECT @@server_id", v, sizeof v, err);
    if (rc) return rc;
    r->target_server_id = (uint32_t)strtoul(v, NULL, 10);
    return 0;
}

/* Remove the named connection (best effort: it may not exist). */
static void cleanup_target(Replay *r)
{
    char sql[200];
    if (!r->db) return;
    snprintf(sql, sizeof sql, "STOP SLAVE '%s'", r->conn);
    mysql_query(r->db, sql);
    mysql_free_result(mysql_store_result(r->db));
    /* Replication filters outlive RESET SLAVE ALL (they are kept per
     * connection name in memory): clear ours so nothing of the replay stays. */
    snprintf(sql, sizeof sql, "SET GLOBAL %s.replicate_rewrite_db = ''", r->conn);
    mysql_query(r->db, sql);
    mysql_free_result(mysql_store_result(r->db));
    snprintf(sql, sizeof sql, "SET GLOBAL %s.replicate_do_db = ''", r->conn);   /* set by older versions */
    mysql_query(r->db, sql);
    mysql_free_result(mysql_store_result(r->db));
    snprintf(sql, sizeof sql, "SET GLOBAL %s.replicate_wild_do_table = ''", r->conn);
    mysql_query(r->db, sql);
    mysql_free_result(mysql_store_result(r->db));
    snprintf(sql, sizeof sql, "RESET SLAVE '%s' ALL", r->conn);
    if (mysql_query(r->db, sql) && r->configured)
        log_warn("replay: could not remove replication connection '%s' from the target: %s", r->conn,
                 mysql_error(r->db));
    mysql_free_result(mysql_store_result(r->db));
    if (r->strict_relaxed) {
        if (mysql_query(r->db, "SET GLOBAL gtid_strict_mode = 1"))
            log_warn("replay: could not turn gtid_strict_mode back on: %s", mysql_error(r->db));
        r->strict_relaxed = false;
    }
}

/* When the target's own binlog is already past the start position in a
 * replayed domain (its binlog holds the snapshot load, or it is the original
 * server), gtid_strict_mode refuses both setting gtid_slave_pos and binlogging
 * the replayed GTIDs (out of order). Turn strict mode off for the replay only
 * then; cleanup_target turns it back on. */
static int relax_strict_mode(Replay *r, Err *err)
{
    char strict[16], binpos[1024];
    bool conflict = false;
    int rc = query_value(r, "SELECT @@global.gtid_strict_mode", strict, sizeof strict, err);
    if (!rc) rc = query_value(r, "SELECT @@global.gtid_binlog_pos", binpos, sizeof binpos, err);
    if (rc) return rc;
    if (strcmp(strict, "1") != 0) return 0;
    for (size_t i = 0; i < r->until.n; i++) {
        MdbGtid *s0 = mdb_gtid_set_find(&r->start, r->until.g[i].domain);
        if (domain_seq(binpos, r->until.g[i].domain) > (s0 ? s0->seq : 0)) conflict = true;
    }
    if (!conflict) return 0;
    rc = exec(r, "SET GLOBAL gtid_strict_mode = 0", "turn gtid_strict_mode off for the replay", err);
    if (rc) return rc;
    r->strict_relaxed = true;
    log_info("replay: the target's binlog is past the start position (%s): gtid_strict_mode is off "
             "during the replay", binpos);
    return 0;
}

/* "a,b" -> "a.%,b.%" with the pattern characters of each name (_ % \\)
 * escaped: replicate_wild_do_table keeps the events of the tables of those
 * databases and, unlike replicate_do_db, judges a statement by the tables
 * it names, not by its default database (DDL included). */
static int wild_patterns(const char *dbs, char *out, size_t cap, Err *err)
{
    size_t k = 0;
    for (const char *p = dbs;; p++) {
        if (*p == ',' || !*p) {
            if (k + 3 > cap) break;
            out[k++] = '.';
            out[k++] = '%';
            if (!*p) {
                out[k] = 0;
                return 0;
            }
            out[k++] = ',';
            continue;
        }
        if (k + 6 > cap) break;
        if (*p == '_' || *p == '%' || *p == '\\') out[k++] = '\\';
        out[k++] = *p;
    }
    return err_set(err, ERR_INVALID, "replay: database list too long for replicate_wild_do_table");
}

static int configure(Replay *r, const char *password, Err *err)
{
    const RstReplayTarget *t = r->t;
    const char *host = t->advertise_host ? t->advertise_host : (t->listen_host ? t->listen_host : "127.0.0.1");
    char sql[3000], esc_host[512];
    int rc;

    cleanup_target(r); /* a leftover from an interrupted run */
    rc = relax_strict_mode(r, err);
    if (rc) return rc;
    if (t->start_gtid) {
        char g[300];
        mdb_gtid_set_format(&r->start, g, sizeof g);
        snprintf(sql, sizeof sql, "SET GLOBAL gtid_slave_pos = '%s'", g);
        rc = exec(r, sql, "set gtid_slave_pos to the snapshot position (all replication threads of "
                          "the target must be stopped)", err);
        if (rc) return rc;
    }
    if (strlen(host) > 200) return err_set(err, ERR_INVALID, "replay: advertise host too long");
    mysql_real_escape_string(r->db, esc_host, host, strlen(host));
    snprintf(sql, sizeof sql,
             "CHANGE MASTER '%s' TO master_host='%s', master_port=%u, master_user='%s', "
             "master_password='%s', master_use_gtid=slave_pos, master_connect_retry=1, "
             "master_heartbeat_period=5, master_ssl=0",
             r->conn, esc_host, (unsigned)rst_srcserver_port(r->src), REPLAY_USER, password);
    rc = exec(r, sql, "CHANGE MASTER to the tidemark replay source", err);
    sodium_memzero(sql, sizeof sql);
    if (rc) return rc;
    r->configured = true;
    if (t->rewrite_db_from || t->rewrite_db_to) {
        char a[200], b[200];
        if (!t->rewrite_db_from || !t->rewrite_db_to || strlen(t->rewrite_db_from) > 64 ||
            strlen(t->rewrite_db_to) > 64 || strstr(t->rewrite_db_from, "->") || strchr(t->rewrite_db_to, ','))
            return err_set(err, ERR_INVALID, "replay: --target-db needs both database names (at most 64 bytes)");
        mysql_real_escape_string(r->db, a, t->rewrite_db_from, strlen(t->rewrite_db_from));
        mysql_real_escape_string(r->db, b, t->rewrite_db_to, strlen(t->rewrite_db_to));
        snprintf(sql, sizeof sql, "SET GLOBAL %s.replicate_rewrite_db = '%s->%s'", r->conn, a, b);
        rc = exec(r, sql, "set replicate_rewrite_db for the replay connection (MariaDB 10.11+)", err);
        if (rc) return rc;
    }
    if (t->do_db && *t->do_db) {
        char pat[1400], d[2801];
        rc = wild_patterns(t->do_db, pat, sizeof pat, err);
        if (rc) return rc;
        mysql_real_escape_string(r->db, d, pat, strlen(pat));
        snprintf(sql, sizeof sql, "SET GLOBAL %s.replicate_wild_do_table = '%s'", r->conn, d);
        rc = exec(r, sql, "set replicate_wild_do_table for the replay connection", err);
        if (rc) return rc;
    }
    return 0;
}

static uint64_t domain_seq(const char *pos, uint32_t domain)
{
    MdbGtidSet p;
    Err e;
    MdbGtid *g;
    if (mdb_gtid_set_parse(pos, &p, &e)) return 0;
    g = mdb_gtid_set_find(&p, domain);
    return g ? g->seq : 0;
}

/* Transactions the target applied since the start, summed over the until domains. */
static uint64_t applied_since_start(Replay *r, const char *slave_pos)
{
    uint64_t n = 0;
    for (size_t i = 0; i < r->until.n; i++) {
        MdbGtid *s0 = mdb_gtid_set_find(&r->start, r->until.g[i].domain);
        uint64_t now_seq = domain_seq(slave_pos, r->until.g[i].domain);
        uint64_t from = s0 ? s0->seq : 0;
        if (now_seq > from) n += now_seq - from;
    }
    return n;
}

static uint64_t total_to_apply(Replay *r)
{
    uint64_t n = 0;
    for (size_t i = 0; i < r->until.n; i++) {
        MdbGtid *s0 = mdb_gtid_set_find(&r->start, r->until.g[i].domain);
        uint64_t from = s0 ? s0->seq : 0;
        if (r->until.g[i].seq > from) n += r->until.g[i].seq - from;
    }
    return n;
}

static int verify_reached(Replay *r, const char *pos, Err *err);

static int watch(Replay *r, double t0, RstReplayStats *st, Err *err)
{
    const RstReplayTarget *t = r->t;
    double last_progress = clock_mono_s(), last_line = 0, timeout = t->timeout_s ? t->timeout_s : 600;
    uint64_t last_applied = 0, total = total_to_apply(r);
    char pos[256];
    int rc;

    for (;;) {
        SlaveStatus ss;
        RstSrcStats src;
        Err serr;
        uint64_t applied;
        double now;

        usleep(100 * 1000);
        now = clock_mono_s();
        rc = slave_status(r, &ss, err);
        if (!rc) rc = query_value(r, "SELECT @@gtid_slave_pos", pos, sizeof pos, err);
        if (rc) return rc;
        rst_srcserver_stats(r->src, &src);
        applied = applied_since_start(r, pos);
        st->transactions = applied;
        st->bytes = src.bytes_sent;
        if (applied != last_applied) {
            last_applied = applied;
            last_progress = now;
        }
        if (t->progress && now - last_line >= 2.0) {
            double el = now - t0, rate = el > 0 ? (double)applied / el : 0;
            last_line = now;
            if (rate > 0 && total >= applied)
                fprintf(stderr, "replay: %llu/%llu transactions, %.0f tx/s, at %s, ETA %.0f s\n",
                        (unsigned long long)applied, (unsigned long long)total, rate, pos,
                        (double)(total - applied) / rate);
            else
                fprintf(stderr, "replay: %llu/%llu transactions, at %s\n", (unsigned long long)applied,
                        (unsigned long long)total, pos);
        }
        if (rst_srcserver_error(r->src, &serr))
            return err_set(err, serr.code, "replay source failed: %s", serr.msg);
        if (ss.sql_errno)
            return sql_stopped(ss.sql_errno, ss.sql_error, pos, err);
        if (ss.io_errno && src.connections == 0 && now - t0 > 2)
            return err_set(err, ERR_NET,
                           "the target server cannot connect back to tidemark's replay source "
                           "(%s port %u): %s; fallback: `tidemark binlog export` the range and apply it "
                           "with `mariadb-binlog ... | mariadb` (docs/OPERATIONS.md, Point-in-time replay)",
                           t->advertise_host ? t->advertise_host : (t->listen_host ? t->listen_host : "127.0.0.1"),
                           (unsigned)rst_srcserver_port(r->src), ss.io_error);
        if (src.connections == 0 && now - t0 > CONNECT_GRACE_S)
            return err_set(err, ERR_NET,
                           "the target server did not connect to tidemark's replay source within %d s "
                           "(IO thread: %s); fallback: `tidemark binlog export` + `mariadb-binlog | mariadb`",
                           CONNECT_GRACE_S, ss.io_running);
        if (ss.io_errno == 1236)
            return err_set(err, ERR_DB, "the replay source refused the target's request: %s", ss.io_error);
        if (!strcmp(ss.sql_running, "No") && (!ss.io_errno || verify_reached(r, pos, err) == 0))
            break; /* stopped by UNTIL */
        if (ss.io_errno && !strcmp(ss.io_running, "No"))
            /* the IO thread gave up (e.g. 1153, an event over slave_max_allowed_packet):
             * nothing more will arrive */
            return err_set(err, ERR_DB, "the target's replica IO thread stopped at %s: error %u: %s",
                           pos, ss.io_errno, ss.io_error);
        if (src.source_done && !src.until_reached && !strcmp(ss.sql_running, "Yes") &&
            src.last_gtid[0] && now - last_progress > 3) {
            return err_set(err, ERR_NOTFOUND,
                           "the binlog stream ended at %s before the target GTID was reached "
                           "(target at %s)", src.last_gtid, pos);
        }
        if (now - last_progress > timeout)
            return err_set(err, ERR_INTERRUPTED, "replay made no progress for %.0f s (at %s, IO thread %s, "
                           "SQL thread %s)", timeout, pos, ss.io_running, ss.sql_running);
    }
    st->seconds = clock_mono_s() - t0;
    snprintf(st->reached_gtid, sizeof st->reached_gtid, "%s", pos);
    if (t->progress)
        fprintf(stderr, "replay: done, %llu transactions in %.1f s (%.0f tx/s), at %s\n",
                (unsigned long long)st->transactions, st->seconds,
                st->seconds > 0 ? (double)st->transactions / st->seconds : 0, pos);
    return 0;
}

/* Every until domain must be exactly at its target seq_no. */
static int verify_reached(Replay *r, const char *pos, Err *err)
{
    char want[300];
    mdb_gtid_set_format(&r->until, want, sizeof want);
    for (size_t i = 0; i < r->until.n; i++) {
        uint64_t got = domain_seq(pos, r->until.g[i].domain);
        if (got != r->until.g[i].seq)
            return err_set(err, ERR_VERIFY, "replay stopped at %s, not at the target %s", pos, want);
    }
    return 0;
}

int rst_replay_run(const RstReplayTarget *t, RstEventNext next, void *next_ctx,
                   const char *until_gtid, RstReplayStats *out_stats, Err *err)
{
    Replay r;
    RstSrcConfig cfg;
    RstReplayStats st;
    char password[33], sql[700];
    uint8_t rnd[24];
    int rc;
    double t0;

    memset(&r, 0, sizeof r);
    memset(&st, 0, sizeof st);
    r.t = t;
    r.conn = t->connection_name ? t->connection_name : "tidemark_replay";
    if (!valid_name(r.conn))
        return err_set(err, ERR_INVALID, "replay: connection name '%s' must be [A-Za-z0-9_]", r.conn);
    if (!until_gtid || mdb_gtid_set_parse(until_gtid, &r.until, err) || r.until.n == 0)
        return err_set(err, ERR_INVALID, "replay: the target GTID '%s' is not a GTID position",
                       until_gtid ? until_gtid : "");
    if (t->start_gtid && mdb_gtid_set_parse(t->start_gtid, &r.start, err))
        return err_wrap(err, "replay: start position");
    if (sodium_init() < 0) return err_set(err, ERR_IO, "libsodium failed to initialise");

    /* one-time password for the replica's login: 32 chars of [a-zA-Z0-9] */
    randombytes_buf(rnd, sizeof rnd);
    for (size_t i = 0; i < 32; i++) {
        static const char al[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        password[i] = al[(rnd[i % 24] + (i / 24) * 7) % 62];
    }
    password[32] = 0;

    rc = connect_target(&r, err);
    if (rc) goto out;
    if (!t->start_gtid) {
        rc = query_value(&r, "SELECT @@gtid_slave_pos", sql, sizeof sql, err);
        if (!rc) rc = mdb_gtid_set_parse(sql, &r.start, err);
        if (rc) goto out;
    }
    memset(&cfg, 0, sizeof cfg);
    cfg.listen_host = t->listen_host;
    cfg.user = REPLAY_USER;
    cfg.password = password;
    /* Our id must differ from the target's, and a replica ignores events
     * carrying its own server_id: those go out as our id instead. */
    cfg.server_id = r.target_server_id == 4294967000u ? 4294967001u : 4294967000u;
    cfg.rewrite_from_id = r.target_server_id;
    cfg.rewrite_to_id = cfg.server_id;
    cfg.verify_checksums = true;
    cfg.first_log_name = t->first_log_name;
    rc = rst_srcserver_open(&cfg, next, next_ctx, &r.src, err);
    if (!rc) rc = rst_srcserver_start(r.src, err);
    if (rc) goto out;

    rc = configure(&r, password, err);
    if (rc) goto out;
    mdb_gtid_set_format(&r.until, sql + 400, 300);
    {
        char start_sql[400];
        snprintf(start_sql, sizeof start_sql, "START SLAVE '%s' UNTIL master_gtid_pos = '%s'", r.conn, sql + 400);
        t0 = clock_mono_s();
        rc = exec(&r, start_sql, "START SLAVE UNTIL the target GTID", err);
    }
    if (rc) goto out;
    rc = watch(&r, t0, &st, err);
    if (!rc) rc = verify_reached(&r, st.reached_gtid, err);
out:
    if (r.db) cleanup_target(&r);
    rst_srcserver_close(r.src);
    sodium_memzero(password, sizeof password);
    if (r.db) mysql_close(r.db);
    if (out_stats) *out_stats = st;
    return rc;
}
