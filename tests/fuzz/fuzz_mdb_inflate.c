/* fuzz_mdb_inflate.c: libFuzzer harness of mdb_event_inflate
 * (MariaDB compressed events back to plain ones).
 * Input: one flags byte (bit 0: the event carries a CRC32; bits 1-3 pick
 * the compressed type 165..171; bit 4: the length field is left as given),
 * then the event. A success must give a whole plain event: the length in
 * its header equals the bytes produced, the plain type matches, the CRC32
 * is right, and a plain Query still parses.
 * Invariant: any input gives an error or such an event; nothing else. */
#include <stdbool.h>
#include <string.h>

#include <zlib.h>

#include "engine/mariadb/mdb.h"
#include "tests/fuzz/fuzz_common.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static Buf out;
    static bool init;
    Err err;
    uint8_t type = 0;

    if (size < 1) return 0;
    if (!init) {
        buf_init(&out, MDB_INFLATE_MAX + 4096);
        init = true;
    }
    uint8_t fl = data[0];
    bool crc = fl & 1;
    data++;
    size--;
    /* an exact-size copy, so that ASan sees any read past the event */
    uint8_t *g_ev = malloc(size ? size : 1);
    FZ_CHECK(g_ev);
    memcpy(g_ev, data, size);
    if (size >= 13 && !(fl & 0x10)) {
        g_ev[4] = (uint8_t)(MDB_EV_QUERY_COMPRESSED + (fl >> 1 & 7) % 7);
        mdb_put_le32(g_ev + 9, (uint32_t)size);
    }
    err_clear(&err);
    int rc = mdb_event_inflate(g_ev, size, crc, &out, &type, &err);
    if (rc) {
        FZ_CHECK(err.code == rc);
        free(g_ev);
        return 0;
    }
    FZ_CHECK(out.len >= MDB_HDR_LEN + (crc ? 4 : 0));
    FZ_CHECK(mdb_le32(out.data + 9) == out.len);
    FZ_CHECK(out.data[4] == type);
    FZ_CHECK(type == MDB_EV_QUERY || (type >= MDB_EV_WRITE_V1 && type <= MDB_EV_DELETE_V1) ||
             (type >= MDB_EV_WRITE_V2 && type <= MDB_EV_DELETE_V2));
    FZ_CHECK(!memcmp(out.data, g_ev, 4) && !memcmp(out.data + 5, g_ev + 5, 4));
    if (crc) FZ_CHECK(mdb_le32(out.data + out.len - 4) == (uint32_t)crc32(0L, out.data, (uInt)(out.len - 4)));
    if (type == MDB_EV_QUERY) {
        const char *db, *q;
        size_t dl, ql;
        FZ_CHECK(mdb_query_text(out.data, out.len - (crc ? 4 : 0), &db, &dl, &q, &ql));
        FZ_CHECK(q + ql <= (const char *)out.data + out.len);
    }
    free(g_ev);
    return 0;
}
