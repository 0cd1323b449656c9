/* binlog_load.c: the write workload and server sampler of bench/binlog-lag.sh.
 *
 *   binlog_load SOCKET SECONDS RATE THREADS OUT.tsv
 *
 * THREADS connections each commit small transactions on a fixed schedule
 * (RATE transactions per second in total, paced per thread so a slow second
 * is caught up, never exceeded in advance): 3 of 4 are one autocommit
 * INSERT of a ~100-byte row, 1 of 4 is BEGIN; INSERT; UPDATE; COMMIT.
 * A sampler connection reads the server's binlog coordinates every 200 ms
 * and writes "<unix time, ns precision> <gtid seq> <file> <pos>" lines to
 * OUT.tsv (single GTID domain 0). At the end it prints one line:
 * "committed N in S s = R tx/s". Root over the unix socket, database
 * benchlag (created). Not a test: no assertions, just figures. */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mysql.h>

static const char *g_socket;
static double g_seconds, g_rate_per_thread;
static atomic_uint_fast64_t g_committed;
static atomic_int g_failed;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
    double d = t - now_s();
    if (d <= 0)
        return;
    struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
    nanosleep(&ts, NULL);
}

static MYSQL *connect_db(const char *db)
{
    MYSQL *my = mysql_init(NULL);
    if (!my || !mysql_real_connect(my, NULL, "root", NULL, db, 0, g_socket, 0)) {
        fprintf(stderr, "binlog_load: connect %s: %s\n", g_socket, my ? mysql_error(my) : "init");
        return NULL;
    }
    return my;
}

static int run_sql(MYSQL *my, const char *sql)
{
    if (mysql_query(my, sql)) {
        fprintf(stderr, "binlog_load: %s: %s\n", sql, mysql_error(my));
        return -1;
    }
    return 0;
}

static void *writer(void *arg)
{
    long id = (long)arg;
    MYSQL *my = connect_db("benchlag");
    char sql[512];
    if (!my) {
        atomic_store(&g_failed, 1);
        return NULL;
    }
    double start = now_s(), period = 1.0 / g_rate_per_thread;
    for (uint64_t i = 0;; i++) {
        double due = start + (double)i * period;
        if (due - start >= g_seconds || atomic_load(&g_failed))
            break;
        sleep_until(due);
        if (i % 4 == 3) {
            snprintf(sql, sizeof sql, "UPDATE t SET n = n + 1, note = 'u%" PRIu64 "' WHERE id = "
                     "(SELECT MAX(id) FROM t WHERE w = %ld)", i, id);
            if (run_sql(my, "BEGIN") ||
                run_sql(my, "INSERT INTO t (w, n, note) VALUES (1000, 0, 'pair')") ||
                run_sql(my, sql) || run_sql(my, "COMMIT"))
                goto fail;
        } else {
            snprintf(sql, sizeof sql, "INSERT INTO t (w, n, note) VALUES (%ld, %" PRIu64
                     ", 'row %" PRIu64 " of writer %ld, some text to reach about a hundred "
                     "bytes')", id, i, i, id);
            if (run_sql(my, sql))
                goto fail;
        }
        atomic_fetch_add(&g_committed, 1);
    }
    mysql_close(my);
    return NULL;
fail:
    atomic_store(&g_failed, 1);
    mysql_close(my);
    return NULL;
}

static void *sampler(void *arg)
{
    FILE *out = arg;
    MYSQL *my = connect_db(NULL);
    if (!my)
        return NULL;
    double end = now_s() + g_seconds + 15;   /* keep sampling while the follower catches up */
    for (double t = now_s(); t < end; t += 0.2) {
        sleep_until(t);
        if (mysql_query(my, "SELECT @@gtid_binlog_pos")) {
            fprintf(stderr, "binlog_load: sampler: %s\n", mysql_error(my));
            break;
        }
        MYSQL_RES *r = mysql_store_result(my);
        MYSQL_ROW row = r ? mysql_fetch_row(r) : NULL;
        const char *g = row && row[0] ? strrchr(row[0], '-') : NULL;
        unsigned long long seq = g ? strtoull(g + 1, NULL, 10) : 0;
        mysql_free_result(r);
        if (mysql_query(my, "SHOW MASTER STATUS")) {
            fprintf(stderr, "binlog_load: sampler: %s\n", mysql_error(my));
            break;
        }
        r = mysql_store_result(my);
        row = r ? mysql_fetch_row(r) : NULL;
        fprintf(out, "%.3f %llu %s %s\n", now_s(), seq, row && row[0] ? row[0] : "-",
                row && row[1] ? row[1] : "0");
        fflush(out);
        mysql_free_result(r);
    }
    mysql_close(my);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: binlog_load SOCKET SECONDS RATE THREADS OUT.tsv\n");
        return 2;
    }
    g_socket = argv[1];
    g_seconds = atof(argv[2]);
    double rate = atof(argv[3]);
    long threads = atol(argv[4]);
    if (g_seconds <= 0 || rate <= 0 || threads < 1 || threads > 64) {
        fprintf(stderr, "binlog_load: bad SECONDS, RATE or THREADS\n");
        return 2;
    }
    g_rate_per_thread = rate / (double)threads;
    FILE *out = fopen(argv[5], "w");
    if (!out) {
        perror(argv[5]);
        return 1;
    }
    MYSQL *my = connect_db(NULL);
    if (!my || run_sql(my, "CREATE DATABASE IF NOT EXISTS benchlag") ||
        run_sql(my, "CREATE TABLE IF NOT EXISTS benchlag.t (id BIGINT PRIMARY KEY "
                    "AUTO_INCREMENT, w INT, n BIGINT, note VARCHAR(200), KEY (w)) ENGINE=InnoDB"))
        return 1;
    mysql_close(my);

    pthread_t sth, th[64];
    pthread_create(&sth, NULL, sampler, out);
    double t0 = now_s();
    for (long i = 0; i < threads; i++)
        pthread_create(&th[i], NULL, writer, (void *)i);
    for (long i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    double dt = now_s() - t0;
    uint64_t n = atomic_load(&g_committed);
    printf("committed %" PRIu64 " in %.1f s = %.0f tx/s\n", n, dt, (double)n / dt);
    fflush(stdout);
    pthread_join(sth, NULL);
    fclose(out);
    return atomic_load(&g_failed) ? 1 : 0;
}
