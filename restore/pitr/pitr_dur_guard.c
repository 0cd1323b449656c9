/* pitr_dur_guard.c: SIGINT/SIGTERM during a restore (pitr_durability.c,
 * invariant 3): the handler only writes to a self-pipe; a guard thread
 * sets the flag rst_pitr_signal() reads, stops the replica, and on a second
 * signal puts relaxed settings back and exits 130. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/common/clock.h"
#include "restore/pitr/pitr_dur_int.h"
#include "restore/pitr/pitr_int.h"

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
                    if (pitr_dur_put_back_d(g->d, done, sizeof done, &e) == 0)
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

void pitr_dur_guard_stop(RstPitrDurability *d)
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

int pitr_dur_guard_start(RstPitrDurability *d, bool replica, Err *err)
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
    return pitr_dur_guard_start(d, replica, err);
}

