/* rst_srcserver_int.h: the source server's state, shared by the connection
 * code (rst_srcserver.c: listener, handshake, queries) and the binlog
 * sender (rst_srcdump.c). Only these two files include it.
 *
 * Invariants:
 *  1. The event stream is consumed once, in order, by the serving thread;
 *     stream state (current file, FD copy, sent position) survives a replica
 *     reconnect, so a new dump continues where the last one stopped.
 *  2. sent_state holds, per domain, the last GTID group fully queued to a
 *     replica; a reconnecting replica must present exactly that state.
 *  3. stats/err are read by other threads only under mu. */
#ifndef TM_RESTORE_RST_SRCSERVER_INT_H
#define TM_RESTORE_RST_SRCSERVER_INT_H

#include <pthread.h>

#include "restore/replay/rst_replay.h"
#include "restore/replay/rst_replay_int.h"

/* What one replica connection told us with SET @... before COM_BINLOG_DUMP. */
typedef struct RstSlaveVars {
    bool checksum_aware;       /* SET @master_binlog_checksum seen */
    uint64_t heartbeat_ns;     /* @master_heartbeat_period */
    int capability;            /* @mariadb_slave_capability */
    bool has_connect_state;
    char connect_state[1024];  /* @slave_connect_state */
    bool has_until;
    char until[1024];          /* @slave_until_gtid */
    bool strict;               /* @slave_gtid_strict_mode */
} RstSlaveVars;

struct RstSrcServer {
    RstSrcConfig cfg;          /* strings below are owned copies */
    char *user, *password, *first_log_name, *listen_host;
    RstEventNext next;
    void *next_ctx;
    int lfd;
    uint16_t port;
    pthread_t thr;
    bool started;
    volatile int stop;         /* set by rst_srcserver_close */
    int cur_fd;                /* the replica socket being served, -1 if none (under mu) */
    pthread_mutex_t mu;
    RstSrcStats stats;
    Err err;                   /* first fatal error of the serving thread */
    uint32_t conn_id;

    /* stream state (invariant 1) */
    bool stream_begun;         /* the first Format_description was read */
    bool stream_end;           /* next() returned the end */
    Buf fd_ev;                 /* copy of the current file's Format_description */
    char log_name[512];        /* current file name */
    uint64_t log_pos;          /* end position of the last event sent in this file */
    bool crc;                  /* current file's events carry CRC32 */
    bool in_group;             /* inside a GTID group (between GTID and its end) */
    MdbGtidSet binlog_state;   /* source binlog state: file Gtid_list + GTIDs seen */
    MdbGtidSet sent_state;     /* invariant 2 */
    bool until_done;           /* the until-reached marker was sent */
};

/* rst_srcdump.c: serve one COM_BINLOG_DUMP (payload in c->in after the
 * command byte). Returns 0 when the replica went away normally or the server
 * is stopping, else a fatal error (the stream cannot continue). */
int rst_srcdump_serve(RstSrcServer *s, RstConn *c, const RstSlaveVars *vars, Err *err);

#endif
