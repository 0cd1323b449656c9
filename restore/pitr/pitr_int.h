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
#include "restore/pitr/rst_pitr.h"

#define PITR_HDR 19
enum {
    PITR_EV_QUERY = 2,
    PITR_EV_STOP = 3,
    PITR_EV_ROTATE = 4,
    PITR_EV_FORMAT_DESC = 15,
    PITR_EV_XID = 16,
    PITR_EV_TABLE_MAP = 19,
    PITR_EV_WRITE_V1 = 23,
    PITR_EV_UPDATE_V1 = 24,
    PITR_EV_DELETE_V1 = 25,
    PITR_EV_WRITE_V2 = 30,
    PITR_EV_UPDATE_V2 = 31,
    PITR_EV_DELETE_V2 = 32,
    PITR_EV_XA_PREPARE = 38,
    PITR_EV_ANNOTATE_ROWS = 160,
    PITR_EV_GTID = 162,
    PITR_EV_GTID_LIST = 163,
    /* MariaDB's order (sql/log_event.h): the v1 family first */
    PITR_EV_QUERY_COMPRESSED = 165,
    PITR_EV_WRITE_COMP_V1 = 166,
    PITR_EV_UPDATE_COMP_V1 = 167,
    PITR_EV_DELETE_COMP_V1 = 168,
    PITR_EV_WRITE_COMP_V2 = 169,
    PITR_EV_UPDATE_COMP_V2 = 170,
    PITR_EV_DELETE_COMP_V2 = 171,
};
#define PITR_GTID_FL_STANDALONE 0x01u

static inline uint32_t pitr_get16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static inline uint32_t pitr_get24(const uint8_t *p) { return pitr_get16(p) | (uint32_t)p[2] << 16; }
static inline uint32_t pitr_get32(const uint8_t *p) { return pitr_get16(p) | (uint32_t)pitr_get16(p + 2) << 16; }
static inline uint64_t pitr_get48(const uint8_t *p) { return pitr_get32(p) | (uint64_t)pitr_get16(p + 4) << 32; }
static inline uint64_t pitr_get64(const uint8_t *p) { return pitr_get32(p) | (uint64_t)pitr_get32(p + 4) << 32; }

/* Where a transaction (GTID group) ends, fed event by event. */
typedef struct PitrGroup {
    bool crc;                 /* events carry a CRC32 (from the Format_description) */
    bool in_group, standalone;
    BinlogGtid gtid;          /* the group in progress / last one */
    int64_t max_time;         /* highest event timestamp of the group so far */
    BinlogGtidSet state;      /* after the last *completed* group */
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
static inline size_t pitr_body_end(const PitrGroup *g, size_t len) { return g->crc && len >= PITR_HDR + 4 ? len - 4 : len; }
/* Query event text (and its database), pointers into ev; false when unparsable. */
bool pitr_query_text(const uint8_t *ev, size_t end, const char **db, size_t *dblen,
                     const char **q, size_t *qlen);

/* Merge b into a keeping the highest seq per domain. */
void pitr_gtid_set_merge(BinlogGtidSet *a, const BinlogGtidSet *b);
/* a <= b in every domain of a (a domain missing from b counts as 0). */
bool pitr_gtid_set_le(const BinlogGtidSet *a, const BinlogGtidSet *b);
bool pitr_gtid_set_eq(const BinlogGtidSet *a, const BinlogGtidSet *b);

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
    BinlogGtidSet gtid;
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

/* A Table_map's columns, for walking row images (pitr_rows.c). Pointers
 * borrow the Table_map bytes given to pitr_cols_parse. */
#define PITR_COLS_MAX 4096
typedef struct PitrCols {
    uint64_t table_id;
    const uint8_t *db, *table;        /* not NUL-terminated */
    size_t db_len, table_len;
    size_t cols_off, cols_end;        /* column count .. end of the NULL-able bitmap */
    uint64_t n;                       /* columns */
    const uint8_t *types;
    uint16_t meta[PITR_COLS_MAX];
} PitrCols;
/* Parse a Table_map event (len = without its checksum); -1 when it does
 * not parse or has more than PITR_COLS_MAX columns. */
int pitr_cols_parse(const uint8_t *tmap, size_t len, PitrCols *c);

/* One column inside a row image: offset from the image start and length;
 * len PITR_FIELD_NONE for a NULL or a column absent from the image. */
#define PITR_FIELD_NONE UINT32_MAX
typedef struct PitrField {
    uint32_t off, len;
} PitrField;
/* Walk one row image at *pp (NULL bitmap over the npresent columns set in
 * present, then their values); *pp moves past it. f (NULL or c->n slots)
 * gets each column's place. 0; -1 when it runs past end or npresent is 0
 * (an image of no bytes); -2 for a column type that cannot be sized. */
int pitr_row_image(const PitrCols *c, const uint8_t *present, uint64_t npresent,
                   const uint8_t **pp, const uint8_t *end, PitrField *f);
/* Packed integer (column counts); -1 when it runs past end. */
int pitr_packed(const uint8_t **p, const uint8_t *end, uint64_t *out);

/* Rows events: the number of rows in the body (ERR_UNSUPPORTED for a
 * column type it cannot size). table map body as stored. */
int pitr_rows_count(const uint8_t *tmap, size_t tmap_len, const uint8_t *rows, size_t rows_len,
                    uint8_t type, uint64_t *out, Err *err);

/* MariaDB compressed events (log_bin_compress): Query_compressed (165),
 * Write/Update/Delete_rows_compressed v1 (166-168) and v2 (169-171). */
static inline bool pitr_event_is_compressed(uint8_t type)
{
    return type >= PITR_EV_QUERY_COMPRESSED && type <= PITR_EV_DELETE_COMP_V2;
}
/* Largest uncompressed part accepted (the server's max_allowed_packet ceiling). */
#define PITR_UNCOMPRESS_MAX ((size_t)1 << 30)
/* Rebuild into out the plain event a compressed event ev (len bytes, CRC32
 * at its end when crc) stands for: same header except the type (*out_type:
 * Query 2, rows v1 23-25 or v2 30-32) and the length, the uncompressed part
 * copied, the zlib record inflated, a fresh CRC32 when crc. out is the
 * caller's (reset first; its max must allow the result). ERR_CORRUPT for a
 * record that does not parse, a length over PITR_UNCOMPRESS_MAX or one zlib
 * does not produce exactly; ERR_UNSUPPORTED for a compression algorithm
 * other than zlib; ERR_NOMEM. On failure out holds nothing usable. The
 * caller adds where the event is (file:pos). */
int pitr_event_uncompress(const uint8_t *ev, size_t len, bool crc, Buf *out, uint8_t *out_type,
                          Err *err);

#endif
