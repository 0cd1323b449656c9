/* net_int.h: the state of the net-change fold shared by the feed
 * (net_fold.c) and the emission (net_emit.c). No other file includes it.
 * Invariant: after rst_net_finish nothing here changes any more, so the
 * emission only reads it (pread on the image file) and may run on several
 * tables at once. */
#ifndef TM_RESTORE_NET_NET_INT_H
#define TM_RESTORE_NET_NET_INT_H

#include "engine/mariadb/mdb.h"
#include "restore/net/rst_net.h"

#define NET_NO_FK_F 0x0002u       /* rows event flag NO_FOREIGN_KEY_CHECKS_F */
#define NET_STMT_END_F 0x0001u    /* rows event flag STMT_END_F */

/* What emission does with a key (decided by rst_net_finish, which
 * compares the images' bytes where the kind depends on them). */
enum {
    NET_K_NONE = 0,    /* absent at both ends, or the same image: nothing */
    NET_K_DELETE,      /* present at the start only: Delete_rows (prepare) */
    NET_K_WRITE,       /* present at the end only: Write_rows (write) */
    NET_K_DW,          /* both, a unique-key column differs: Delete + Write */
    NET_K_UPDATE,      /* both, unique-key columns identical: Update_rows (prepare) */
};

/* One key of a fold table: where its first before-image (start) and last
 * after-image (end) are in the image file; len 0 = absent (an image holds
 * at least its NULL bitmap, so a present one is never empty). The hashes
 * tell identical images apart without reading them (confirmed by a
 * comparison before a key is left out). */
typedef struct NetEntry {
    uint64_t key_off;             /* in RstNet.keys */
    uint64_t start_off, end_off;
    uint64_t start_hash, end_hash;
    uint32_t key_len, start_len, end_len;
    uint32_t table;               /* index in RstNet.tabs */
    uint8_t kind;                 /* NET_K_*, set by rst_net_finish */
} NetEntry;

/* A row event of an ordered table, as kept in the image file (the plain
 * event without its checksum). */
typedef struct NetEvent {
    uint64_t off;
    uint32_t len;
    uint32_t rows;
} NetEvent;

typedef struct NetTable {
    RstNetTableInfo info;
    uint32_t index;               /* in RstNet.tabs */
    uint8_t *tmap;                /* latest Table_map, without checksum (restored tables) */
    size_t tmap_len;
    MdbCols *cols;               /* parsed from tmap */
    uint32_t *order;              /* fold: entry indexes, first touch first */
    size_t norder, cap_order;
    uint32_t *wlist;              /* fold: entries to write (NET_K_WRITE/DW), first touch first */
    size_t nwlist;
    NetEvent *evs;                /* ordered: row events in binlog order */
    size_t nevs, cap_evs;
} NetTable;

typedef struct NetDb {
    char name[RST_NET_NAME_MAX];
    bool restore;
} NetDb;

typedef struct NetId {
    uint64_t id;                  /* Table_map table id */
    uint32_t tab;                 /* index in tabs + 1; 0 = free slot */
} NetId;

struct RstNet {
    RstNetDefineFn define;
    void *ctx;
    int fd;                        /* the unlinked image file */
    uint8_t *wbuf;                 /* write buffer, NET_WBUF bytes */
    size_t wlen;
    uint64_t wpos;                 /* file offset of wbuf[0] */
    bool failed, finished, crc;
    bool tx_rows;                  /* the transaction in progress changed a restored table */
    uint8_t ctx_event;             /* an Intvar/Rand/User_var waiting for its Query (0: none) */
    uint8_t *fdesc;                /* the first Format_description, as fed */
    size_t fdesc_len;
    bool fdesc_crc;                /* that Format_description announces CRC32 */
    uint32_t server_id, timestamp;

    NetTable **tabs;               /* every (db, table) seen, restored or not */
    size_t ntabs, cap_tabs;
    uint32_t *names;               /* open addressing: tab index + 1 by "db\0table" */
    size_t names_cap;
    NetId *ids;                    /* open addressing: table id -> table */
    size_t ids_cap, nids;
    size_t *pub;                   /* restored tables: indexes in tabs */
    size_t npub, cap_pub;
    NetDb *dbs;                    /* Query default databases asked about */
    size_t ndbs, cap_dbs;

    NetEntry *ents;
    size_t nents, cap_ents;
    uint64_t *slots;               /* open addressing: key hash high 32 bits << 32 | entry + 1 */
    size_t slots_cap;
    uint8_t *keys;                 /* key bytes of every entry */
    size_t keys_len, keys_cap;

    Buf unz;                       /* an uncompressed event */
    Buf key;                       /* the key being built */
    MdbField *fa, *fb;            /* MDB_COLS_MAX columns each */
    RstNetStats st;
};

/* Make room for need elements of elem bytes in *v (capacity *cap). */
int net_grow(void **v, size_t *cap, size_t need, size_t elem, Err *err);
/* net_map.c: a Table_map (end = without checksum) binds its id. */
int net_on_table_map(RstNet *n, const uint8_t *ev, size_t end, Err *err);
/* The table a table id is bound to; NULL when none. */
NetTable *net_table_by_id(const RstNet *n, uint64_t id);
/* Whether statements under default database db (dl bytes) apply to the
 * restored databases (the define callback, asked once per database). */
int net_db_restored(RstNet *n, const char *db, size_t dl, bool *out, Err *err);

/* 64-bit hash of n bytes (keys, images). */
uint64_t net_hash(const void *p, size_t n);
/* Read exactly len bytes at off of the image file into dst. */
int net_pread(const RstNet *n, uint64_t off, void *dst, size_t len, Err *err);

#endif
