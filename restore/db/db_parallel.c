/* db_parallel.c: a small pool: n connections, each a thread taking the next
 * task index; the first error wins and stops the hand-out. */
#include <mysql.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "restore/db/db_int.h"

typedef struct Pool {
    const MdbConn *c;
    int mode;
    size_t ntasks;
    DbTaskFn fn;
    void *ctx;
    pthread_mutex_t mu;
    size_t next;
    bool failed;
    Err err;
} Pool;

static void pool_fail(Pool *p, const Err *e)
{
    pthread_mutex_lock(&p->mu);
    if (!p->failed) {
        p->failed = true;
        p->err = *e;
    }
    pthread_mutex_unlock(&p->mu);
}

static void *pool_run(void *arg)
{
    Pool *p = arg;
    MYSQL *m = NULL;
    Err e;

    err_clear(&e);
    if (p->mode == DB_SESS_VERIFY) {
        if (mdb_connect(p->c, MDB_CONNECT_CLIENT, MDB_CLIENT_TIMEOUT_S, &m, &e) || src_dump_session_setup(m, &e)) {
            pool_fail(p, &e);
            goto out;
        }
    } else if (db_load_session(p->c, p->mode == DB_SESS_LOAD_BINLOG, &m, &e)) {
        pool_fail(p, &e);
        goto out;
    }
    for (;;) {
        size_t i;
        pthread_mutex_lock(&p->mu);
        if (p->failed || p->next >= p->ntasks) {
            pthread_mutex_unlock(&p->mu);
            break;
        }
        i = p->next++;
        pthread_mutex_unlock(&p->mu);
        if (p->fn(m, i, p->ctx, &e)) {
            pool_fail(p, &e);
            break;
        }
    }
out:
    mdb_close(m);
    return NULL;
}

int db_parallel(const MdbConn *c, unsigned n, int mode, size_t ntasks, DbTaskFn fn, void *ctx,
                Err *err)
{
    Pool p;
    pthread_t *tids;
    bool *started;

    if (n == 0) n = 2;
    if (n > ntasks) n = ntasks ? (unsigned)ntasks : 1;
    memset(&p, 0, sizeof p);
    p.c = c;
    p.mode = mode;
    p.ntasks = ntasks;
    p.fn = fn;
    p.ctx = ctx;
    tids = calloc(n, sizeof *tids);
    started = calloc(n, sizeof *started);
    if (!tids || !started) {
        free(tids);
        free(started);
        return err_set(err, ERR_NOMEM, "out of memory");
    }
    pthread_mutex_init(&p.mu, NULL);
    for (unsigned i = 1; i < n; i++) started[i] = pthread_create(&tids[i], NULL, pool_run, &p) == 0;
    pool_run(&p);
    for (unsigned i = 1; i < n; i++)
        if (started[i]) pthread_join(tids[i], NULL);
    pthread_mutex_destroy(&p.mu);
    free(tids);
    free(started);
    if (p.failed) {
        *err = p.err;
        return err->code;
    }
    return 0;
}
