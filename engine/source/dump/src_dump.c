/* src_dump.c: src_dump_backup: connections, privileges, the consistent
 * point, the catalog, parallel table dumps, schema streams, the manifest
 * item.
 *
 * Invariants:
 *  1. All workers dump inside snapshots of the same point (dump_point.c);
 *     the item records that point's binlog coordinates.
 *  2. Tables are handed out biggest first; each table's rows go to its own
 *     streams from one worker, so the encoding never depends on scheduling.
 *  3. Any error stops the remaining work and returns no item. */
#include <mysql.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/common/clock.h"
#include "engine/common/progress.h"
#include "engine/source/dump/dump_int.h"

typedef struct Job {
    Repo *r;
    DumpCatalog *cat;
    size_t *order;
    size_t n;
    uint64_t part_size;
    Progress *prog;
    pthread_mutex_t mu;
    size_t next;
    bool failed;
    Err err;
} Job;

typedef struct Worker {
    Job *job;
    MYSQL *m;
    pthread_t tid;
    bool started;
} Worker;

static void *worker_run(void *arg)
{
    Worker *w = arg;
    Job *j = w->job;

    for (;;) {
        DumpTable *t;
        Err e;
        pthread_mutex_lock(&j->mu);
        if (j->failed || j->next >= j->n) {
            pthread_mutex_unlock(&j->mu);
            break;
        }
        t = &j->cat->tables[j->order[j->next++]];
        pthread_mutex_unlock(&j->mu);
        if (t->done) continue;
        err_clear(&e);
        if (dump_rows_table(j->r, w->m, t, j->part_size, &e)) {
            pthread_mutex_lock(&j->mu);
            if (!j->failed) {
                j->failed = true;
                j->err = e;
            }
            pthread_mutex_unlock(&j->mu);
            break;
        }
        t->done = true;
        progress_add(j->prog, t->bytes, 1);
    }
    return NULL;
}

static const DumpCatalog *sort_cat;
static int by_size_desc(const void *a, const void *b)
{
    const DumpTable *x = &sort_cat->tables[*(const size_t *)a];
    const DumpTable *y = &sort_cat->tables[*(const size_t *)b];
    if (x->est_bytes != y->est_bytes) return x->est_bytes > y->est_bytes ? -1 : 1;
    return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static int put_text_stream(Repo *r, const void *data, size_t len, json_t **out, Err *err)
{
    RepoStream *s = NULL;
    RepoStreamRef ref = {0};

    *out = NULL;
    if (repo_stream_begin(r, REPO_CHUNK_DUMP, &s, err)) return err->code;
    if (len && repo_stream_write(s, data, len, err)) {
        repo_stream_abort(s);
        return err->code;
    }
    if (repo_stream_end(s, &ref, err)) return err->code;
    *out = repo_streamref_to_json(&ref);
    repo_streamref_free(&ref);
    if (!*out) return err_set(err, ERR_NOMEM, "out of memory");
    return 0;
}

/* Any non-transactional base table, or any sequence (its row is not
 * versioned by the snapshot: dump_sequence.c), in the databases to dump?
 * Then the consistent point's lock is held while the catalog is read. */
static int any_nontx(MYSQL *m, const char *const *dbs, bool *out, Err *err)
{
    Buf sql;
    char *v = NULL;
    int rc;

    buf_init(&sql, 1 << 20);
    rc = buf_append_str(&sql, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_TYPE "
                              "<> 'VIEW' AND (ENGINE NOT IN ('InnoDB', 'RocksDB', 'TokuDB') OR "
                              "TABLE_TYPE = 'SEQUENCE') AND ",
                        err);
    if (!rc && dbs && dbs[0]) {
        rc = buf_append_str(&sql, "TABLE_SCHEMA IN (", err);
        for (size_t i = 0; !rc && dbs[i]; i++) {
            char *e = malloc(2 * strlen(dbs[i]) + 1);
            if (!e) {
                rc = err_set(err, ERR_NOMEM, "out of memory");
                break;
            }
            mysql_real_escape_string(m, e, dbs[i], (unsigned long)strlen(dbs[i]));
            rc = buf_printf(&sql, err, "%s'%s'", i ? "," : "", e);
            free(e);
        }
        if (!rc) rc = buf_append_str(&sql, ")", err);
    } else if (!rc) {
        rc = buf_append_str(&sql, "TABLE_SCHEMA NOT IN ('information_schema', "
                                  "'performance_schema', 'mysql', 'sys')",
                            err);
    }
    if (!rc) rc = mdb_value(m, (char *)sql.data, &v, err);
    *out = v && strcmp(v, "0") != 0;
    free(v);
    buf_free(&sql);
    return rc;
}

static json_t *server_info(MYSQL *m, Err *err)
{
    char *ver = NULL, *sid = NULL, *hn = NULL;
    json_t *j = NULL;

    if (mdb_value(m, "SELECT @@version", &ver, err) ||
        mdb_value(m, "SELECT @@server_id", &sid, err) ||
        mdb_value(m, "SELECT @@hostname", &hn, err))
        goto out;
    j = json_pack("{s:s,s:I,s:s}", "version", ver ? ver : "", "server_id",
                  (json_int_t)(sid ? strtoll(sid, NULL, 10) : 0), "hostname", hn ? hn : "");
    if (!j) err_set(err, ERR_NOMEM, "out of memory");
out:
    free(ver);
    free(sid);
    free(hn);
    return j;
}

int src_dump_backup(Repo *r, const MdbConn *conn, const SrcDumpOptions *opt,
                    json_t **out_item, SrcDumpStats *stats, Err *err)
{
    unsigned n = opt->threads ? opt->threads : 2;
    MYSQL **conns = NULL;
    Worker *ws = NULL;
    DumpCatalog cat = {0};
    DumpPoint pt = {0};
    Job job;
    json_t *item = NULL, *dbs = NULL, *server = NULL, *ref = NULL, *xa = NULL;
    Buf text;
    bool nontx = false, job_init = false, any_values_hash = false;
    double t0 = clock_mono_s();
    uint64_t total_rows = 0, total_bytes = 0;
    int rc = 0;

    *out_item = NULL;
    memset(&job, 0, sizeof job);
    buf_init(&text, BUF_MAX_DEFAULT);
    conns = calloc(n, sizeof *conns);
    ws = calloc(n, sizeof *ws);
    if (!conns || !ws) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    for (unsigned i = 0; i < n; i++) {
        if ((rc = mdb_connect(conn, MDB_CONNECT_CLIENT, MDB_CLIENT_TIMEOUT_S, &conns[i], err))) goto out;
        if ((rc = src_dump_session_setup(conns[i], err))) goto out;
    }
    if (!(server = server_info(conns[0], err))) {
        rc = err->code;
        goto out;
    }
    if ((rc = any_nontx(conns[0], opt->databases, &nontx, err))) goto out;
    if ((rc = dump_privs_check(conns[0], opt->databases, n > 1 || nontx || opt->force_lock, err)))
        goto out;
    if ((rc = dump_point_take(conn, conns, n, nontx, opt->force_lock, opt->lock_wait_timeout, &pt, err)))
        goto out;
    if ((rc = dump_prepared_xa(conns[0], &xa, err))) goto out;
    if ((rc = dump_catalog_read(conns[0], opt->databases, &cat, err))) goto out;

    /* non-transactional tables: dumped now, while their writes are blocked */
    for (size_t i = 0; pt.locked && i < cat.ntables; i++) {
        DumpTable *t = &cat.tables[i];
        if (t->transactional) continue;
        if ((rc = dump_rows_table(r, conns[0], t, opt->part_size ? opt->part_size : 256u << 20,
                                  err)))
            goto out;
        t->done = true;
    }
    if ((rc = dump_point_release(&pt, err))) goto out;
    {
        /* test hook (tests/integration/db_failures.sh): a window after the
         * point is taken in which tests break things deterministically */
        const char *pause = getenv("TIDEMARK_TEST_PAUSE_AFTER_POINT_MS");
        if (pause) {
            long ms = strtol(pause, NULL, 10);
            struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
    }

    /* the parallel part */
    job.r = r;
    job.cat = &cat;
    job.n = cat.ntables;
    job.part_size = opt->part_size ? opt->part_size : 256u << 20;
    job.order = calloc(cat.ntables ? cat.ntables : 1, sizeof *job.order);
    if (!job.order) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < cat.ntables; i++) job.order[i] = i;
    sort_cat = &cat;
    qsort(job.order, cat.ntables, sizeof *job.order, by_size_desc);
    {
        uint64_t est = 0;
        for (size_t i = 0; i < cat.ntables; i++) est += cat.tables[i].est_bytes;
        job.prog = progress_new("dump", est, cat.ntables, opt->progress);
    }
    pthread_mutex_init(&job.mu, NULL);
    job_init = true;
    for (unsigned i = 0; i < n; i++) {
        ws[i].job = &job;
        ws[i].m = conns[i];
    }
    for (unsigned i = 1; i < n; i++) {
        if (pthread_create(&ws[i].tid, NULL, worker_run, &ws[i]) == 0) ws[i].started = true;
    }
    worker_run(&ws[0]);
    for (unsigned i = 1; i < n; i++)
        if (ws[i].started) pthread_join(ws[i].tid, NULL);
    if (job.failed) {
        *err = job.err;
        rc = err->code;
        goto out;
    }

    /* schema streams and the item */
    dbs = json_array();
    for (size_t d = 0; d < cat.ndbs; d++) {
        DumpDb *db = &cat.dbs[d];
        json_t *tabs = json_array(), *jd;
        char *s;
        if (getenv("TIDEMARK_TEST_DUMP_WITHOUT_VALUES_HASH")) {
            /* test hook (db_exact.sh, see dump_rows_table): schemas then had
             * no text_columns or generated_columns either */
            size_t k;
            json_t *st;
            json_array_foreach(json_object_get(db->schema, "tables"), k, st)
            {
                json_object_del(st, "text_columns");
                json_object_del(st, "generated_columns");
                json_object_del(st, "index_columns");
            }
        }
        s = json_dumps(db->schema, JSON_INDENT(1) | JSON_SORT_KEYS);
        if (!s || !tabs) {
            free(s);
            json_decref(tabs);
            rc = err_set(err, ERR_NOMEM, "out of memory");
            goto out;
        }
        rc = put_text_stream(r, s, strlen(s), &ref, err);
        total_bytes += strlen(s);
        free(s);
        if (rc) {
            json_decref(tabs);
            goto out;
        }
        for (size_t i = db->first; i < db->first + db->count; i++) {
            DumpTable *t = &cat.tables[i];
            json_array_append_new(tabs, json_pack("{s:s,s:I,s:I,s:s,s:s*,s:O}", "name", t->name,
                                                  "rows", (json_int_t)t->rows, "bytes",
                                                  (json_int_t)t->bytes, "hash", t->hash,
                                                  "values_hash",
                                                  t->values_hash[0] ? t->values_hash : NULL,
                                                  "parts", t->parts));
            if (t->values_hash[0]) any_values_hash = true;
            total_rows += t->rows;
            total_bytes += t->bytes;
        }
        jd = json_pack("{s:s,s:o,s:o}", "name", db->name, "schema", ref, "tables", tabs);
        ref = NULL;
        if (!jd) {
            rc = err_set(err, ERR_NOMEM, "out of memory");
            goto out;
        }
        json_array_append_new(dbs, jd);
    }
    item = json_pack("{s:s,s:s,s:s,s:s*,s:O,s:{s:s,s:f,s:i},s:O,s:I,s:I,s:O}", "kind", "mariadb",
                     "encoding", "tsv1", "hash", "blake2b-256", "values_hash",
                     any_values_hash ? "tm-values-1" : NULL, "server", server, "consistency",
                     "method", pt.method, "lock_ms", pt.lock_ms, "connections", (int)n,
                     "nontransactional", cat.nontx, "rows", (json_int_t)total_rows, "bytes",
                     (json_int_t)total_bytes, "databases", dbs);
    if (!item) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    if (pt.has_binlog)
        json_object_set_new(item, "binlog",
                            json_pack("{s:s,s:I,s:s}", "file", pt.file, "position",
                                      (json_int_t)pt.pos, "gtid", pt.gtid ? pt.gtid : ""));
    else
        json_object_set_new(item, "binlog", json_null());
    /* XA transactions prepared at the point (docs/FORMAT.md): their changes
     * are not in the snapshot; present only when there are some */
    if (json_array_size(xa)) json_object_set(item, "prepared_xa", xa);
    if (opt->with_grants) {
        if ((rc = dump_grants_read(conns[0], &text, err))) goto out;
        if ((rc = put_text_stream(r, text.data, text.len, &ref, err))) goto out;
        json_object_set_new(item, "grants", ref);
        ref = NULL;
    }
    for (unsigned i = 0; i < n; i++) mdb_exec(conns[i], "ROLLBACK", &(Err){0});
    if (stats) {
        memset(stats, 0, sizeof *stats);
        stats->tables = cat.ntables;
        stats->rows = total_rows;
        stats->bytes = total_bytes;
        stats->lock_ms = pt.lock_ms;
        stats->seconds = clock_mono_s() - t0;
        snprintf(stats->method, sizeof stats->method, "%s", pt.method);
        stats->prepared_xa = xa ? (int)json_array_size(xa) : -1;
        for (size_t i = 0; i < json_array_size(xa); i++) {
            size_t l = strlen(stats->prepared_xa_ids);
            snprintf(stats->prepared_xa_ids + l, sizeof stats->prepared_xa_ids - l, "%s%s",
                     i ? ", " : "", json_string_value(json_array_get(xa, i)));
        }
    }
    json_object_set_new(item, "duration_ms", json_integer((json_int_t)((clock_mono_s() - t0) * 1000)));
    *out_item = item;
    item = NULL;
out:
    json_decref(xa);
    if (rc) {
        Err e2;
        dump_point_release(&pt, &e2);
    }
    if (job.prog) progress_done(job.prog);
    if (job_init) pthread_mutex_destroy(&job.mu);
    free(job.order);
    for (unsigned i = 0; conns && i < n; i++) mdb_close(conns[i]);
    free(conns);
    free(ws);
    json_decref(ref);
    json_decref(item);
    json_decref(dbs);
    json_decref(server);
    dump_catalog_free(&cat);
    dump_point_clear(&pt);
    buf_free(&text);
    if (rc) err_wrap(err, "dump");
    return rc;
}
