/* db_verify.c: recompute every table's row count and content hash on the
 * loaded server and compare with the snapshot: the values hash (the values
 * as the server holds them, binary protocol) when the snapshot has one,
 * else, for older snapshots, the stream hash (text protocol, tsv1).
 * Invariant: a verdict of 0 means every table of the item matched; the
 * stats say which comparison was made; ERR_VERIFY names each table that
 * did not (first 20). */
#include <mysql.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "restore/db/db_int.h"

typedef struct VTask {
    const char *tdb, *table;
    const json_t *tinfo, *sinfo;
    uint64_t rows;
    char hash[65];
    bool by_values;
    bool has_float;          /* an old snapshot's table with FLOAT columns */
    bool bad;
    const char *warning;     /* the load's first warning, or NULL */
} VTask;

typedef struct VCtx {
    VTask *tasks;
} VCtx;

/* Does the table have FLOAT columns? Snapshots made before values hashes
 * hold those rounded to 6 significant digits, which their stream hash
 * cannot see: the verdict names such tables. */
static int has_float(MYSQL *m, VTask *t, Err *err)
{
    char *a = malloc(2 * strlen(t->tdb) + 1), *b = malloc(2 * strlen(t->table) + 1), *v = NULL;
    Buf sql;
    int rc = 0;

    buf_init(&sql, 1 << 16);
    if (!a || !b) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    mysql_real_escape_string(m, a, t->tdb, (unsigned long)strlen(t->tdb));
    mysql_real_escape_string(m, b, t->table, (unsigned long)strlen(t->table));
    if ((rc = buf_printf(&sql, err,
                         "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
                         "'%s' AND TABLE_NAME = '%s' AND DATA_TYPE = 'float'",
                         a, b)))
        goto out;
    if ((rc = mdb_value(m, (char *)sql.data, &v, err))) goto out;
    t->has_float = v && strcmp(v, "0") != 0;
out:
    free(v);
    free(a);
    free(b);
    buf_free(&sql);
    return rc;
}

static int verify_task(MYSQL *m, size_t i, void *vctx, Err *err)
{
    VCtx *ctx = vctx;
    VTask *t = &ctx->tasks[i];
    const char *want = json_string_value(json_object_get(t->tinfo, "values_hash"));
    uint64_t want_rows = (uint64_t)json_integer_value(json_object_get(t->tinfo, "rows"));
    const json_t *cols = json_object_get(t->sinfo, "columns");
    const json_t *order = json_object_get(t->sinfo, "order_by");
    int rc;

    t->by_values = want != NULL;
    if (t->by_values) {
        rc = src_dump_table_values_hash(m, t->tdb, t->table, cols,
                                        json_object_get(t->sinfo, "generated_columns"), order,
                                        t->sinfo, &t->rows, t->hash, err);
    } else {
        want = json_string_value(json_object_get(t->tinfo, "hash"));
        rc = src_dump_table_hash(m, t->tdb, t->table, cols, order, &t->rows, t->hash, err);
        if (!rc) rc = has_float(m, t, err);
    }
    if (rc) return err_wrap(err, "verify");
    t->bad = !want || strcmp(want, t->hash) || want_rows != t->rows;
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int db_verify_with(const json_t *item, json_t **schemas, const MdbConn *target,
                   const char *target_db, unsigned threads, const json_t *load_warnings,
                   RstDbStats *stats, Err *err)
{
    const json_t *dbs = json_object_get(item, "databases");
    size_t ndb = json_array_size(dbs), n = 0, cap = 0, bad = 0;
    VTask *tasks = NULL;
    VCtx ctx;
    double t0 = now_s();
    int rc = 0;

    for (size_t d = 0; d < ndb; d++) {
        const json_t *jd = json_array_get(dbs, d), *jt;
        const char *tdb = db_target_name(item, json_string_value(json_object_get(jd, "name")),
                                         target_db);
        size_t i;
        json_array_foreach(json_object_get(jd, "tables"), i, jt) {
            if ((rc = buf_grow(&tasks, &cap, n + 1, sizeof *tasks, (size_t)1 << 24, err)))
                goto out;
            memset(&tasks[n], 0, sizeof tasks[n]);
            tasks[n].tdb = tdb;
            tasks[n].table = json_string_value(json_object_get(jt, "name"));
            tasks[n].tinfo = jt;
            tasks[n].sinfo = db_schema_table(schemas[d], tasks[n].table);
            {
                char key[1200];
                snprintf(key, sizeof key, "%s\t%s", tdb, tasks[n].table);
                tasks[n].warning = json_string_value(json_object_get(load_warnings, key));
            }
            if (!tasks[n].sinfo) {
                rc = err_set(err, ERR_CORRUPT, "table %s missing from the schema document",
                             tasks[n].table);
                goto out;
            }
            n++;
        }
    }
    ctx.tasks = tasks;
    if ((rc = db_parallel(target, threads ? threads : 2, DB_SESS_VERIFY, n, verify_task, &ctx, err)))
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (tasks[i].warning) tasks[i].bad = true;
        bad += tasks[i].bad;
        if (stats && tasks[i].has_float) {
            size_t l = strlen(stats->float_tables);
            if (stats->float_count++ < 10)
                snprintf(stats->float_tables + l, sizeof stats->float_tables - l, "%s%s.%s",
                         l ? ", " : "", tasks[i].tdb, tasks[i].table);
        }
        if (stats && tasks[i].by_values) stats->by_values++;
        else if (stats) stats->by_stream++;
    }
    if (bad) {
        char list[2400] = "";
        size_t shown = 0;
        for (size_t i = 0; i < n && shown < 20; i++) {
            if (!tasks[i].bad) continue;
            size_t l = strlen(list);
            long long want_rows = json_integer_value(json_object_get(tasks[i].tinfo, "rows"));
            const char *want_hash = json_string_value(
                json_object_get(tasks[i].tinfo, tasks[i].by_values ? "values_hash" : "hash"));
            if ((long long)tasks[i].rows != want_rows)
                snprintf(list + l, sizeof list - l, "%s%s.%s (rows %llu, expected %lld)",
                         shown ? ", " : "", tasks[i].tdb, tasks[i].table,
                         (unsigned long long)tasks[i].rows, want_rows);
            else if (!want_hash || strcmp(want_hash, tasks[i].hash))
                snprintf(list + l, sizeof list - l, "%s%s.%s (%s hash differs, %llu rows)",
                         shown ? ", " : "", tasks[i].tdb, tasks[i].table,
                         tasks[i].by_values ? "values" : "stream",
                         (unsigned long long)tasks[i].rows);
            else
                snprintf(list + l, sizeof list - l, "%s%s.%s (hashes agree, %llu rows)",
                         shown ? ", " : "", tasks[i].tdb, tasks[i].table,
                         (unsigned long long)tasks[i].rows);
            /* what the load said about it: where a row went or changed */
            l = strlen(list);
            if (tasks[i].warning && l > 0 && l + 2 < sizeof list)
                snprintf(list + l - 1, sizeof list - l + 1, "; the load warned: %.200s)",
                         tasks[i].warning);
            shown++;
        }
        rc = err_set(err, ERR_VERIFY, "verification failed: %zu of %zu tables differ: %s%s", bad, n,
                     list, bad > shown ? ", ..." : "");
    }
    if (!rc) {   /* the sequences' state rows (db_sequence.c) */
        size_t sn = 0, sbad = 0;
        rc = db_sequences_verify(item, schemas, target, target_db, &sn, &sbad, err);
        bad += sbad;
    }
out:
    if (stats) {
        stats->verify_s = now_s() - t0;
        stats->mismatches = bad;
        if (!stats->tables) stats->tables = n;
    }
    free(tasks);
    return rc;
}

int rst_db_verify(Repo *r, const json_t *item, const MdbConn *target, const char *target_db,
                  unsigned threads, RstDbStats *stats, Err *err)
{
    const json_t *dbs = json_object_get(item, "databases");
    size_t ndb = json_array_size(dbs);
    json_t **schemas = calloc(ndb ? ndb : 1, sizeof *schemas);
    int rc = 0;

    if (stats) memset(stats, 0, sizeof *stats);
    if (!schemas) return err_set(err, ERR_NOMEM, "out of memory");
    for (size_t d = 0; d < ndb; d++)
        if ((rc = db_schema_load(r, json_object_get(json_array_get(dbs, d), "schema"), &schemas[d],
                                 err)))
            goto out;
    rc = db_verify_with(item, schemas, target, target_db, threads, NULL, stats, err);
out:
    for (size_t d = 0; d < ndb; d++) json_decref(schemas[d]);
    free(schemas);
    return rc;
}

const char *rst_db_comparison(const RstDbStats *st)
{
    if (st->by_values && st->by_stream)
        return "row counts; content hashes of the server-side values (binary protocol) for "
               "tables that have them, of the dump encoding for the others";
    if (st->by_stream)
        return "row counts and content hashes of the dump encoding (a snapshot made before "
               "values hashes: a lossy encoding would not be detected)";
    return "row counts and content hashes of the server-side values (binary protocol)";
}

const char *rst_db_comparison_id(const RstDbStats *st)
{
    if (st->by_values && st->by_stream) return "values-hash+stream-hash+rows";
    if (st->by_stream) return "stream-hash+rows";
    return "values-hash+rows";
}

const char *rst_db_item_comparison_id(const json_t *item)
{
    RstDbStats st;
    const json_t *jd, *jt;
    size_t d, i;

    memset(&st, 0, sizeof st);
    json_array_foreach(json_object_get(item, "databases"), d, jd) {
        json_array_foreach(json_object_get(jd, "tables"), i, jt) {
            if (json_object_get(jt, "values_hash")) st.by_values++;
            else st.by_stream++;
        }
    }
    return rst_db_comparison_id(&st);
}
