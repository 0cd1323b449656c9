/* pitr_dur_int.h: what the durability files share (pitr_durability.c,
 * pitr_dur_state.c, pitr_dur_server.c, pitr_dur_guard.c); inside
 * restore/pitr only. The design block is in pitr_durability.c. */
#ifndef TM_RESTORE_PITR_DUR_INT_H
#define TM_RESTORE_PITR_DUR_INT_H

#include <mysql.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

#include "restore/pitr/rst_pitr.h"

#define REPLAY_CONNECTION "tidemark_replay"   /* rst_replay's default connection name */
#define ER_SPECIFIC_ACCESS_DENIED 1227

struct PitrDurGuard {
    pthread_t th;
    pthread_mutex_t mu;        /* serialises putting back: main thread vs guard */
    atomic_int stop;
    atomic_int sig;            /* first signal taken (0 = none) */
    bool replica;              /* the SQL-thread path: the first signal stops the replica */
    int pipe_r;
    struct sigaction old_int, old_term;
    RstPitrDurability *d;
};

/* One row of n columns into cols (each 600 bytes, "" for NULL). */
int pitr_dur_fetch_row(MYSQL *m, const char *sql, char (*cols)[600], unsigned n, Err *err);
/* fsync the directory holding path (best effort). */
void pitr_dur_fsync_dir_of(const char *path);
/* Write d's originals to d->state_file (invariant 1). */
int pitr_dur_state_write(const RstPitrDurability *d, Err *err);
/* Read an interrupted run's file for this server into d->left_* (absent: no leftover). */
int pitr_dur_state_read(RstPitrDurability *d, Err *err);
/* Put back each changed variable (orig >= 0) still holding `set`, flush,
 * remove file; done gets what was done. pitr_dur_server.c */
int pitr_dur_put_back(const MdbConn *conn, int flush_orig, int flush_set, int sync_orig, int sync_set,
                      bool log_bin, const char *file, char *done, size_t cap, Err *err);
/* The same for what d relaxed. */
int pitr_dur_put_back_d(RstPitrDurability *d, char *done, size_t cap, Err *err);
/* Start / stop the signal guard of d (pitr_dur_guard.c). */
int pitr_dur_guard_start(RstPitrDurability *d, bool replica, Err *err);
void pitr_dur_guard_stop(RstPitrDurability *d);

#endif
