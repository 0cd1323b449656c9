/* pitr_int.h: helpers shared inside restore/pitr (event bytes, the
 * transaction tracker used by the plan and the search). No other module
 * includes this file.
 * Invariant: everything here reads event bytes as they are in a binlog
 * file (19-byte v4 header, body, 4-byte CRC32 when the file says so). */
#ifndef TM_RESTORE_PITR_INT_H
#define TM_RESTORE_PITR_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/common/buf.h"
#include "engine/mariadb/mdb.h"
#include "restore/pitr/rst_pitr.h"

/* Where a transaction (GTID group) ends, fed event by event. */
typedef struct PitrGroup {
    bool crc;                 /* events carry a CRC32 (from the Format_description) */
    bool in_group, standalone;
    MdbGtid gtid;          /* the group in progress / last one */
    int64_t max_time;         /* highest event timestamp of the group so far */
    MdbGtidSet state;      /* after the last *completed* group */
} PitrGroup;

typedef enum PitrFeed {
    PITR_FEED_OTHER = 0,      /* outside any group (FD, Rotate, Gtid_list...) */
    PITR_FEED_BEGIN,          /* a GTID event opened a group */
    PITR_FEED_INSIDE,
    PITR_FEED_END,            /* this event closed the group (state updated) */
} PitrFeed;

/* Feed one event; ERR_CORRUPT for a short GTID event. */
int pitr_group_feed(PitrGroup *g, const uint8_t *ev, size_t len, PitrFeed *out, Err *err);
/* Length of ev without its checksum. */
static inline size_t pitr_body_end(const PitrGroup *g, size_t len) { return g->crc && len >= MDB_HDR_LEN + 4 ? len - 4 : len; }
/* A snapshot usable as a replay start (a database item with binlog
 * coordinates), from pitr_snaps.c. */
typedef struct PitrSnap {
    char hex[ID_HEX_LEN + 1];
    json_t *m;                 /* owned reference */
    const json_t *item;        /* borrowed from m */
    int64_t time;
    char time_s[40];
    char file[BINLOG_FILE_MAX];
    uint64_t pos;
    MdbGtidSet gtid;
    char gtid_s[RST_PITR_GTID_MAX];
} PitrSnap;

typedef struct PitrSnapList {
    const char *instance;
    PitrSnap *v;               /* oldest first */
    size_t n, cap;
} PitrSnapList;

int pitr_snaps_load(Repo *r, PitrSnapList *l, Err *err);
void pitr_snaps_free(PitrSnapList *l);
/* Index of the snapshot named by ref (id, prefix, "latest"); ERR_NOTFOUND. */
int pitr_snaps_find(Repo *r, const PitrSnapList *l, const char *ref, size_t *out, Err *err);

/* A time target past the last archived transaction (the plan's scan found
 * none stamped later; p's snapshot, last_gtid and archive_end_* filled):
 * 0 with p->archive_end PROVEN (the follower's status shows the server had
 * nothing more after the target) or ACCEPTED (q->accept_archive_end), and
 * p->archive_end_why; else ERR_GAP naming the archive's end, the follower's
 * state and the ways on. newer_snap: a snapshot at or before the target
 * whose position is past the archive (NULL = none). pitr_archive_end.c */
int pitr_archive_end_check(const BinlogCatalog *c, const RstPitrRequest *q, RstPitrPlan *p,
                           const char *newer_snap, Err *err);

/* Row images (MdbCols, mdb_row_image, mdb_rows_count) and compressed
 * events (mdb_event_inflate) are in engine/mariadb/mdb.h. */

#endif
