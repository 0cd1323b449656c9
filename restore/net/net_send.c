/* rst_net_send.c: the bulk apply of a folded range over two connections
 * to the target, in two phases (rst_net.h RstNetPhase): first every
 * table's PREPARE (deletes, then updates; ordered tables whole), tables
 * dealt by size; after both connections finish, the WRITE shards (a table
 * holding over a quarter of the write bytes is split in two shards, one per
 * connection). Each unit is sent as BINLOG statements in transactions of
 * ~64 MiB, committed at its end. Then the AUTO_INCREMENT counters the range
 * went past and gtid_slave_pos = the target, as the SQL-thread replay
 * leaves them.
 * Invariants: every apply session has sql_log_bin=0 and foreign_key_checks=0
 * before its first write and sends the range's Format_description before
 * any batch; a table's PREPARE is committed before any of its WRITE shards
 * starts (the phase barrier); a unit's batches go in emission order on one
 * connection; once the caller's stop function says so no batch is sent: each worker
 * rolls its open transaction back and the apply fails ERR_INTERRUPTED
 * naming where it stopped; a batch in flight is ended by KILL QUERY from
 * a third connection (a 16 MiB batch of 65,792 rows took 1-2 s, 4.6-5.5 s
 * on a loaded 2-core host: too long to wait for; docs/OPERATIONS.md
 * "Interrupting a restore"). */
#include <inttypes.h>
#include <mysql.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/common/clock.h"
#include "engine/common/log.h"
#include "engine/source/binlog/src_binlog.h"
#include "restore/net/rst_net.h"

#define NCONN 2
#define BATCH_MAX ((size_t)16 << 20)
#define TX_BYTES ((uint64_t)64 << 20)
#define RETRIES 3                /* runs of a unit that hit a deadlock */
#define ER_LOCK_WAIT_TIMEOUT 1205
#define ER_LOCK_DEADLOCK 1213

/* "apply: 412,000 / 640,000 rows (52,000 rows/s) ETA 0:04" at most twice a second. */
typedef struct ApplyProgress {
    pthread_mutex_t mu;
    bool enabled, drawn;
    uint64_t rows, total;     /* rows: sent, less those of rolled-back transactions */
    double start, last;
    /* test hook (tests/integration/pitr_interrupt.sh): with
     * TIDEMARK_TEST_PAUSE_APPLY="BATCHES:MS" the apply sleeps MS once after
     * BATCHES batches of both connections (ending early on a signal) */
    atomic_ullong batches;
    unsigned long long pause_after;
    long pause_ms;
    atomic_int paused;
    RstNetStopFn stop;        /* the caller's "stop now" (NULL = never) */
} ApplyProgress;

static bool stopped(const ApplyProgress *p) { return p->stop && p->stop(); }

static void progress_draw(ApplyProgress *p, bool final)
{
    char line[200], eta[40] = "";
    double el = clock_mono_s() - p->start, rate = el > 0 ? (double)p->rows / el : 0;
    int n;
    if (!final && rate > 0 && p->total > p->rows) {
        unsigned s = (unsigned)((double)(p->total - p->rows) / rate);
        snprintf(eta, sizeof eta, " ETA %u:%02u", s / 60, s % 60);
    }
    n = snprintf(line, sizeof line, "\rapply: %" PRIu64 " / %" PRIu64 " rows (%.0f rows/s)%s\033[K%s", p->rows,
                 p->total, rate, eta, final ? "\n" : "");
    if (n > 0) {
        ssize_t w = write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
        (void)w;
    }
    p->drawn = true;
}

static void progress_rows(ApplyProgress *p, uint64_t rows)
{
    pthread_mutex_lock(&p->mu);
    p->rows += rows;
    if (p->enabled && clock_mono_s() - p->last >= 0.5) {
        p->last = clock_mono_s();
        progress_draw(p, false);
    }
    pthread_mutex_unlock(&p->mu);
}

/* One piece of work for a connection: a table's PREPARE (deletes, then
 * updates; all events of an ordered table) or one WRITE shard of it. */
typedef struct Unit {
    size_t table;
    RstNetPhase phase;
    unsigned shard, nshards;
    uint64_t bytes;
} Unit;

typedef struct Worker {
    RstNet *n;
    MYSQL *m;
    Unit *units;              /* this phase's units, in order */
    size_t nunits;
    uint64_t load;
    size_t max_bytes;
    uint64_t max_packet;
    ApplyProgress *pg;
    char *sql;                /* "BINLOG '<base64>'" */
    size_t sqlcap;
    /* the unit in progress */
    const RstNetTableInfo *ti;
    char what[64];            /* "prepare" / "write shard 2/2" */
    uint64_t batch, tx_bytes, tx_rows;
    uint64_t committed, skip; /* batches of the unit committed; to skip on a retry */
    bool interrupted;         /* stopped by a signal at stop_batch (not applied) */
    uint64_t stop_batch;
    unsigned long thread_id;  /* the connection's id on the target, for KILL QUERY */
    atomic_int running;       /* worker_main has not returned */
    pthread_t th;
    bool started;
    int rc;
    Err err;
} Worker;

static int exec_in(Worker *w, const char *sql, const char *what, Err *err)
{
    if (mysql_query(w->m, sql)) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s %s.%s (%s)", what, w->ti->def.target_db, w->ti->table, w->what);
        return mdb_err(w->m, err, msg);
    }
    mysql_free_result(mysql_store_result(w->m));
    return 0;
}

/* Send bytes as one BINLOG statement. */
static int send_binlog(Worker *w, const uint8_t *ev, size_t len, Err *err)
{
    size_t need = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL) + 10;
    if (need > w->sqlcap) {
        char *p = realloc(w->sql, need);
        if (!p) return err_set(err, ERR_NOMEM, "out of memory for a %zu-byte BINLOG statement", need);
        w->sql = p;
        w->sqlcap = need;
    }
    memcpy(w->sql, "BINLOG '", 8);
    sodium_bin2base64(w->sql + 8, w->sqlcap - 8, ev, len, sodium_base64_VARIANT_ORIGINAL);
    size_t n = 8 + strlen(w->sql + 8);
    w->sql[n++] = '\'';
    w->sql[n] = 0;
    if ((uint64_t)n > w->max_packet)
        return err_set(err, ERR_UNSUPPORTED, "a BINLOG statement of %zu bytes is over the target's "
                       "max_allowed_packet (%" PRIu64 ")", n, w->max_packet);
    if (mysql_real_query(w->m, w->sql, (unsigned long)n)) return mdb_err(w->m, err, "BINLOG");
    mysql_free_result(mysql_store_result(w->m));
    return 0;
}

static void test_pause(ApplyProgress *p)
{
    unsigned long long n = atomic_fetch_add(&p->batches, 1) + 1;
    if (!p->pause_ms || n != p->pause_after || atomic_exchange(&p->paused, 1)) return;
    fprintf(stderr, "tidemark: test: apply paused after batch %llu for %ld ms\n", n, p->pause_ms);
    for (long left = p->pause_ms; left > 0 && !stopped(p); left -= 50) {
        struct timespec ts = {0, (left < 50 ? left : 50) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static int on_batch(void *ctx, const uint8_t *events, size_t len, uint64_t rows, Err *err)
{
    Worker *w = ctx;
    double t0;
    int rc;
    if (++w->batch <= w->skip) return 0;   /* committed before a retried deadlock */
    if (stopped(w->pg)) {
        w->interrupted = true;
        w->stop_batch = w->batch;
        return err_set(err, ERR_INTERRUPTED, "stopped at batch %" PRIu64 " of %s.%s (%s)", w->batch,
                       w->ti->def.target_db, w->ti->table, w->what);
    }
    t0 = clock_mono_s();
    rc = send_binlog(w, events, len, err);
    if (rc)
        return err_wrap(err, "apply %s.%s (%s) batch %" PRIu64 " (%" PRIu64 " rows, %zu bytes)",
                        w->ti->def.target_db, w->ti->table, w->what, w->batch, rows, len);
    log_debug("net apply: %s.%s (%s) batch %" PRIu64 ": %" PRIu64 " rows, %zu bytes in %.3f s", w->ti->def.target_db,
              w->ti->table, w->what, w->batch, rows, len, clock_mono_s() - t0);
    progress_rows(w->pg, rows);
    w->tx_rows += rows;
    w->tx_bytes += len;
    if (w->tx_bytes >= TX_BYTES) {
        if ((rc = exec_in(w, "COMMIT", "commit", err)))
            return err_wrap(err, "after batch %" PRIu64, w->batch);
        w->committed = w->batch;
        w->tx_bytes = 0;
        w->tx_rows = 0;
        if ((rc = exec_in(w, "START TRANSACTION", "begin", err)))
            return err_wrap(err, "after batch %" PRIu64, w->batch);
    }
    test_pause(w->pg);
    return 0;
}

/* Undo the open transaction of an interrupted unit: its rows leave the count. */
static void roll_back(Worker *w)
{
    if (mysql_query(w->m, "ROLLBACK"))
        log_warn("net apply: %s.%s (%s): ROLLBACK after the interruption: %s (closing the connection rolls "
                 "it back)", w->ti->def.target_db, w->ti->table, w->what, mysql_error(w->m));
    pthread_mutex_lock(&w->pg->mu);
    w->pg->rows -= w->tx_rows < w->pg->rows ? w->tx_rows : w->pg->rows;
    pthread_mutex_unlock(&w->pg->mu);
    w->tx_rows = 0;
}

/* Errors after which InnoDB rolled the transaction back and running it
 * again may succeed: two shards of one table can lock each other through a
 * unique secondary key's duplicate check. */
static bool is_retryable(MYSQL *m)
{
    unsigned e = mysql_errno(m);
    return e == ER_LOCK_DEADLOCK || e == ER_LOCK_WAIT_TIMEOUT;
}

/* One unit, in transactions of about TX_BYTES committed at its end. A
 * deadlock runs the unit's emission again, skipping the batches committed
 * before (emission is deterministic: the same batches in the same order). */
static int run_unit(Worker *w, const Unit *u, Err *err)
{
    int rc;
    w->committed = 0;
    for (unsigned attempt = 1;; attempt++) {
        w->batch = 0;
        w->skip = w->committed;
        w->tx_bytes = 0;
        w->tx_rows = 0;
        rc = exec_in(w, "START TRANSACTION", "begin", err);
        if (!rc) rc = rst_net_emit_phase(w->n, u->table, u->phase, u->shard, u->nshards, w->max_bytes, on_batch, w, err);
        if (!rc) rc = exec_in(w, "COMMIT", "commit", err);
        if (rc && stopped(w->pg)) {   /* stopped before a batch, or the batch killed (KILL QUERY) */
            if (!w->interrupted) {
                w->interrupted = true;
                w->stop_batch = w->batch ? w->batch : 1;
            }
            roll_back(w);
            return err_set(err, ERR_INTERRUPTED, "stopped at batch %" PRIu64 " of %s.%s (%s)", w->stop_batch,
                           w->ti->def.target_db, w->ti->table, w->what);
        }
        if (!rc || attempt == RETRIES || !is_retryable(w->m)) return rc;
        log_warn("net apply: %s.%s (%s): %s; running it again after batch %" PRIu64 " (attempt %u of %u)",
                 w->ti->def.target_db, w->ti->table, w->what, err->msg, w->committed, attempt + 1, RETRIES);
        mysql_query(w->m, "ROLLBACK");
        pthread_mutex_lock(&w->pg->mu);
        w->pg->rows -= w->tx_rows < w->pg->rows ? w->tx_rows : w->pg->rows;
        pthread_mutex_unlock(&w->pg->mu);
        err_clear(err);
    }
}

/* The worker's units one after the other. */
static void *worker_main(void *arg)
{
    Worker *w = arg;
    for (size_t k = 0; k < w->nunits && !w->rc; k++) {
        const Unit *u = &w->units[k];
        w->ti = rst_net_table(w->n, u->table);
        if (u->phase == RST_NET_PHASE_PREPARE)
            snprintf(w->what, sizeof w->what, "prepare");
        else
            snprintf(w->what, sizeof w->what, "write shard %u/%u", u->shard + 1, u->nshards);
        w->rc = run_unit(w, u, &w->err);
    }
    atomic_store(&w->running, 0);
    return NULL;
}

/* On a signal: end the BINLOG statements in flight (the workers then roll
 * back); from a third connection, as a connection cannot kill its own. */
static void kill_queries(const MdbConn *conn, Worker *w)
{
    MYSQL *m = NULL;
    Err e;
    err_clear(&e);
    if (mdb_connect(conn, MDB_CONNECT_CLIENT, MDB_CLIENT_TIMEOUT_S, &m, &e)) {
        log_warn("net apply: cannot connect to stop the statements in flight (%s): the apply stops after them", e.msg);
        return;
    }
    for (size_t i = 0; i < NCONN; i++) {
        char sql[64];
        if (!atomic_load(&w[i].running)) continue;
        snprintf(sql, sizeof sql, "KILL QUERY %lu", w[i].thread_id);
        if (mysql_query(m, sql) && mysql_errno(m) != 1094)   /* 1094: the thread is gone */
            log_warn("net apply: %s: %s", sql, mysql_error(m));
    }
    mdb_close(m);
}

/* A connection ready for BINLOG statements: no binlog, no FK checks, the
 * range's Format_description sent. */
static int session_open(const MdbConn *conn, RstNet *n, Worker *w, Err *err)
{
    const uint8_t *fd;
    size_t fdlen = 0;
    char *v = NULL;
    int rc = mdb_connect(conn, MDB_CONNECT_CLIENT, MDB_CLIENT_TIMEOUT_S, &w->m, err);
    if (rc) return err_wrap(err, "net apply: connect");
    w->thread_id = mysql_thread_id(w->m);
    /* READ COMMITTED: two connections write shards of one table; no gap
     * locks between their inserts */
    rc = mdb_exec(w->m, "SET SESSION sql_log_bin = 0, foreign_key_checks = 0, "
                           "net_read_timeout = 3600, net_write_timeout = 3600", err);
    if (!rc) rc = mdb_exec(w->m, "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", err);
    if (rc) return err_wrap(err, "net apply: set up the session");
    rc = mdb_value(w->m, "SELECT @@max_allowed_packet", &v, err);
    if (rc) return err_wrap(err, "net apply: read max_allowed_packet");
    w->max_packet = v ? strtoull(v, NULL, 10) : 0;
    free(v);
    w->max_bytes = w->max_packet > 8192 ? (size_t)((w->max_packet - 4096) * 3 / 4) : 4096;
    if (w->max_bytes > BATCH_MAX) w->max_bytes = BATCH_MAX;
    fd = rst_net_format_desc(n, &fdlen);
    if (!fd) return err_set(err, ERR_CORRUPT, "net apply: the range has no Format_description event");
    rc = send_binlog(w, fd, fdlen, err);
    if (rc) return err_wrap(err, "net apply: send the Format_description");
    return 0;
}

static int cmp_unit(const void *a, const void *b)
{
    const Unit *x = a, *y = b;
    if (x->bytes != y->bytes) return x->bytes < y->bytes ? 1 : -1;
    if (x->table != y->table) return x->table < y->table ? -1 : 1;
    return x->shard < y->shard ? -1 : x->shard > y->shard;
}

static void give(Worker *w, const Unit *u)
{
    w->units[w->nunits++] = *u;
    w->load += u->bytes + 1;
}

/* Deal one phase's units: largest first to the less loaded connection,
 * except the two shards of a split table, which go to different ones (they
 * are the phase's largest units, dealt first). */
static void deal(Unit *units, size_t nu, Worker *w)
{
    qsort(units, nu, sizeof *units, cmp_unit);
    for (size_t i = 0; i < NCONN; i++) {
        w[i].nunits = 0;
        w[i].load = 0;
    }
    for (size_t i = 0; i < nu; i++) {
        Worker *less = w[1].load < w[0].load ? &w[1] : &w[0], *more = less == &w[0] ? &w[1] : &w[0];
        if (units[i].nshards == 2) {
            for (size_t j = i + 1; j < nu; j++) {
                if (units[j].table != units[i].table) continue;
                Unit t = units[j];   /* the other shard: right after, to the other connection */
                memmove(&units[i + 2], &units[i + 1], (j - i - 1) * sizeof *units);
                units[i + 1] = t;
                break;
            }
            give(less, &units[i]);
            if (i + 1 < nu && units[i + 1].table == units[i].table) give(more, &units[++i]);
            continue;
        }
        give(less, &units[i]);
    }
}

/* Run one phase on both connections and wait for both (the barrier: every
 * PREPARE is committed before any WRITE starts). */
static int run_phase(const MdbConn *conn, Worker *w, Err *err)
{
    bool killed = false;
    int rc = 0;
    for (size_t i = 0; i < NCONN; i++) {
        if (!w[i].nunits) continue;
        atomic_store(&w[i].running, 1);
        if (pthread_create(&w[i].th, NULL, worker_main, &w[i])) {
            atomic_store(&w[i].running, 0);
            rc = err_set(err, ERR_NOMEM, "net apply: cannot start an apply thread");
            break;
        }
        w[i].started = true;
    }
    /* wait for both, ending their statements in flight on a signal */
    while (atomic_load(&w[0].running) || atomic_load(&w[1].running)) {
        struct timespec ts = {0, 50 * 1000000L};
        if (!killed && stopped(w[0].pg)) {
            kill_queries(conn, w);
            killed = true;
        }
        nanosleep(&ts, NULL);
    }
    for (size_t i = 0; i < NCONN; i++) {
        if (!w[i].started) continue;
        pthread_join(w[i].th, NULL);
        w[i].started = false;
        if (w[i].rc && !rc) {
            rc = w[i].rc;
            *err = w[i].err;
        }
    }
    return rc;
}

/* err after an interrupted phase: where each connection stopped and how
 * many rows are applied (committed) of the range's. */
static void interrupted_at(const Worker *w, const ApplyProgress *pg, Err *err)
{
    char where[600];
    size_t n = 0;
    where[0] = 0;
    for (size_t i = 0; i < NCONN && n < sizeof where; i++) {
        if (!w[i].interrupted) continue;
        n += (size_t)snprintf(where + n, sizeof where - n, "%s%s.%s (%s, batch %" PRIu64 " not applied)",
                              n ? " and " : "", w[i].ti->def.target_db, w[i].ti->table, w[i].what, w[i].stop_batch);
    }
    err_set(err, ERR_INTERRUPTED, "net apply stopped at %s: %" PRIu64 " of %" PRIu64 " rows applied, the open "
            "transactions rolled back", where[0] ? where : "a unit boundary", pg->rows, pg->total);
}

/* Raise AUTO_INCREMENT where the range wrote a higher value than the
 * counter holds now (rows inserted at the top and deleted again). */
static int raise_autoinc(MYSQL *m, RstNet *n, RstNetApplyStats *st, Err *err)
{
    for (size_t i = 0; i < rst_net_table_count(n); i++) {
        const RstNetTableInfo *ti = rst_net_table(n, i);
        char edb[2 * RST_NET_NAME_MAX + 1], etb[2 * RST_NET_NAME_MAX + 1], sql[600], *v = NULL;
        uint64_t cur;
        int rc;
        if (!ti->def.restore || !ti->autoinc_seen || ti->autoinc_max == UINT64_MAX) continue;
        mysql_real_escape_string(m, edb, ti->def.target_db, strlen(ti->def.target_db));
        mysql_real_escape_string(m, etb, ti->table, strlen(ti->table));
        snprintf(sql, sizeof sql, "SELECT AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = '%s' "
                 "AND TABLE_NAME = '%s'", edb, etb);
        rc = mdb_value(m, sql, &v, err);
        if (rc) return err_wrap(err, "net apply: AUTO_INCREMENT of %s.%s", ti->def.target_db, ti->table);
        cur = v ? strtoull(v, NULL, 10) : 0;
        free(v);
        if (cur > ti->autoinc_max) continue;
        {
            Buf q;
            buf_init(&q, 1 << 12);
            if (!(rc = buf_append_str(&q, "ALTER TABLE ", err)) && !(rc = mdb_ident_quote(&q, ti->def.target_db, err)) &&
                !(rc = buf_append_str(&q, ".", err)) && !(rc = mdb_ident_quote(&q, ti->table, err)) &&
                !(rc = buf_printf(&q, err, " AUTO_INCREMENT = %" PRIu64, ti->autoinc_max + 1)))
                rc = mdb_exec(m, (const char *)q.data, err);
            buf_free(&q);
        }
        if (rc) return err_wrap(err, "net apply: raise AUTO_INCREMENT of %s.%s", ti->def.target_db, ti->table);
        st->autoinc_raised++;
    }
    return 0;
}

static uint64_t domain_seq(const char *pos, uint32_t domain)
{
    MdbGtidSet s;
    Err e;
    if (mdb_gtid_set_parse(pos, &s, &e)) return 0;
    for (size_t i = 0; i < s.n; i++)
        if (s.g[i].domain == domain) return s.g[i].seq;
    return 0;
}

/* SET GLOBAL gtid_slave_pos = target, as the SQL thread would leave it. With
 * gtid_strict_mode on, a target binlog already past the target in a domain
 * refuses the SET: strict mode is off for that statement only (as the
 * replay does, restore/replay/rst_replay.c). */
static int set_position(MYSQL *m, const char *target, char *reached, size_t cap, Err *err)
{
    MdbGtidSet t;
    char *strict = NULL, *binpos = NULL, *v = NULL, sql[RST_NET_GTID_MAX + 64];
    bool relax = false;
    int rc = mdb_gtid_set_parse(target, &t, err);
    if (rc) return rc;
    rc = mdb_value(m, "SELECT @@global.gtid_strict_mode", &strict, err);
    if (!rc) rc = mdb_value(m, "SELECT @@global.gtid_binlog_pos", &binpos, err);
    if (rc) goto out;
    if (strict && !strcmp(strict, "1"))
        for (size_t i = 0; i < t.n; i++)
            relax |= domain_seq(binpos ? binpos : "", t.g[i].domain) > t.g[i].seq;
    if (relax && (rc = mdb_exec(m, "SET GLOBAL gtid_strict_mode = 0", err))) goto out;
    snprintf(sql, sizeof sql, "SET GLOBAL gtid_slave_pos = '%s'", target);
    rc = mdb_exec(m, sql, err);
    if (relax) {
        Err e2;
        if (mdb_exec(m, "SET GLOBAL gtid_strict_mode = 1", &e2) && !rc)
            rc = err_set(err, e2.code, "%s (gtid_strict_mode is off on the target: SET GLOBAL "
                         "gtid_strict_mode = 1)", e2.msg);
    }
    if (rc) goto out;
    rc = mdb_value(m, "SELECT @@global.gtid_slave_pos", &v, err);
    if (rc) goto out;
    snprintf(reached, cap, "%s", v ? v : "");
out:
    free(strict);
    free(binpos);
    free(v);
    if (rc) err_wrap(err, "net apply: set gtid_slave_pos to %s", target);
    return rc;
}

int rst_net_send(RstNet *n, const MdbConn *conn, const char *target_gtid, bool progress, RstNetStopFn stop,
                 RstNetApplyStats *st, Err *err)
{
    Worker w[NCONN];
    ApplyProgress pg;
    size_t nt = rst_net_table_count(n), np = 0, nw = 0;
    Unit *prep = NULL, *wr = NULL;
    uint64_t write_total = 0;
    double t0 = clock_mono_s();
    int rc = 0;

    memset(w, 0, sizeof w);
    memset(st, 0, sizeof *st);
    memset(&pg, 0, sizeof pg);
    pthread_mutex_init(&pg.mu, NULL);
    pg.enabled = progress;
    pg.stop = stop;
    pg.start = pg.last = clock_mono_s();
    if (getenv("TIDEMARK_TEST_PAUSE_APPLY")) {
        const char *v = getenv("TIDEMARK_TEST_PAUSE_APPLY"), *colon = strchr(v, ':');
        pg.pause_after = strtoull(v, NULL, 10);
        pg.pause_ms = colon ? strtol(colon + 1, NULL, 10) : 0;
    }
    prep = calloc(nt ? nt : 1, sizeof *prep);
    wr = calloc(2 * (nt ? nt : 1), sizeof *wr);
    for (size_t i = 0; i < NCONN; i++) w[i].units = calloc(2 * (nt ? nt : 1), sizeof *w[i].units);
    if (!prep || !wr || !w[0].units || !w[1].units) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < nt; i++) {
        const RstNetTableInfo *ti = rst_net_table(n, i);
        uint64_t rows = ti->def.fold ? ti->rows_write + ti->rows_delete + ti->rows_update : ti->ordered_rows;
        if (!ti->def.restore || (!rows && !ti->ordered_events)) continue;
        pg.total += rows;
        st->tables++;
        if (ti->def.fold) {
            st->rows_written += ti->rows_write;
            st->rows_deleted += ti->rows_delete;
            st->rows_updated += ti->rows_update;
            if (ti->rows_delete || ti->rows_update)
                prep[np++] = (Unit){i, RST_NET_PHASE_PREPARE, 0, 1, ti->prepare_bytes};
            if (ti->rows_write) {
                wr[nw++] = (Unit){i, RST_NET_PHASE_WRITE, 0, 1, ti->write_bytes};
                write_total += ti->write_bytes;
            }
        } else {
            st->ordered_rows += ti->ordered_rows;
            st->ordered_tables++;
            prep[np++] = (Unit){i, RST_NET_PHASE_PREPARE, 0, 1, ti->prepare_bytes ? ti->prepare_bytes
                                                                                   : ti->emit_bytes};
        }
    }
    /* a table holding over a quarter of the writes: two shards, one per
     * connection, so that it does not end the apply alone */
    for (size_t i = 0, k = nw; i < k; i++) {
        if (wr[i].bytes <= write_total / 4 || wr[i].bytes < 2) continue;
        const RstNetTableInfo *ti = rst_net_table(n, wr[i].table);
        wr[i].nshards = 2;
        wr[i].bytes = ti->write_bytes / 2;
        wr[nw++] = (Unit){wr[i].table, RST_NET_PHASE_WRITE, 1, 2, ti->write_bytes - wr[i].bytes};
        st->split_tables++;
        log_debug("net apply: %s.%s written in 2 shards (%" PRIu64 " of %" PRIu64 " write bytes)",
                  ti->def.target_db, ti->table, ti->write_bytes, write_total);
    }
    for (size_t i = 0; i < NCONN; i++) {
        w[i].n = n;
        w[i].pg = &pg;
        if ((rc = session_open(conn, n, &w[i], err))) goto out;
    }
    deal(prep, np, w);
    rc = run_phase(conn, w, err);
    if (!rc) {
        deal(wr, nw, w);
        rc = run_phase(conn, w, err);
    }
    if (pg.enabled && pg.drawn) progress_draw(&pg, true);
    st->rows_applied = pg.rows;
    st->rows_total = pg.total;
    if (rc == ERR_INTERRUPTED) {
        interrupted_at(w, &pg, err);
        goto out;
    }
    if (rc) goto out;
    rc = raise_autoinc(w[0].m, n, st, err);
    if (!rc) rc = set_position(w[0].m, target_gtid, st->reached, sizeof st->reached, err);
out:
    for (size_t i = 0; i < NCONN; i++) {
        if (w[i].started) pthread_join(w[i].th, NULL);
        mdb_close(w[i].m);
        free(w[i].sql);
        free(w[i].units);
    }
    free(prep);
    free(wr);
    pthread_mutex_destroy(&pg.mu);
    st->seconds = clock_mono_s() - t0;
    return rc;
}
