/* fuzz_pitr_rows.c: libFuzzer harness of the row walk (mdb_cols_parse,
 * mdb_rows_count, mdb_row_image, mdb_packed) and of the event readers
 * the search uses on single events (mdb_query_text, pitr_group_feed).
 * Input: one byte picking the rows event type (23-25, 30-32; bit 7: the
 * group tracker reads CRC32s), a 2-byte
 * little-endian Table_map length, the Table_map, then the rows event.
 * Every column place mdb_row_image reports must lie inside the image it
 * walked, and the image inside the event.
 * Invariant: nothing reads past the bytes given. */
#include <stdbool.h>
#include <string.h>

#include "restore/pitr/pitr_int.h"
#include "tests/fuzz/fuzz_common.h"

static MdbCols g_cols;
static MdbField g_f[MDB_COLS_MAX];

static const uint8_t k_types[6] = {MDB_EV_WRITE_V1, MDB_EV_UPDATE_V1, MDB_EV_DELETE_V1,
                                   MDB_EV_WRITE_V2, MDB_EV_UPDATE_V2, MDB_EV_DELETE_V2};

/* Walk images of the rows body p..end with every column present. */
static void walk_images(const uint8_t *p, const uint8_t *end)
{
    static uint8_t ones[MDB_COLS_MAX / 8];
    memset(ones, 0xff, sizeof ones);
    for (int k = 0; k < 64 && p < end; k++) {
        const uint8_t *img = p;
        int w = mdb_row_image(&g_cols, ones, g_cols.n, &p, end, g_f);
        if (w) {
            FZ_CHECK(w == -1 || w == -2);
            FZ_CHECK(p == img);
            return;
        }
        FZ_CHECK(p > img && p <= end);
        for (uint64_t i = 0; i < g_cols.n; i++) {
            if (g_f[i].len == MDB_FIELD_NONE) continue;
            FZ_CHECK((uint64_t)g_f[i].off + g_f[i].len <= (uint64_t)(p - img));
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Err err;
    uint64_t rows, v;
    PitrGroup g;
    PitrFeed f;

    if (size < 3) return 0;
    uint8_t sel = data[0], type = k_types[sel % 6];
    size_t tl = mdb_le16(data + 1);
    data += 3;
    size -= 3;
    if (tl > size) tl = size;
    const uint8_t *tm = data, *ev = data + tl;
    size_t el = size - tl;

    /* the readers work on copies of exactly the bytes given, so that ASan
     * sees a read past them */
    uint8_t *tmc = malloc(tl ? tl : 1), *evc = malloc(el ? el : 1);
    FZ_CHECK(tmc && evc);
    memcpy(tmc, tm, tl);
    memcpy(evc, ev, el);

    err_clear(&err);
    (void)mdb_rows_count(tmc, tl, evc, el, type, &rows, &err);
    if (!mdb_cols_parse(tmc, tl, &g_cols)) {
        FZ_CHECK(g_cols.n <= MDB_COLS_MAX);
        FZ_CHECK(g_cols.cols_off <= g_cols.cols_end && g_cols.cols_end <= tl);
        FZ_CHECK(g_cols.db + g_cols.db_len <= tmc + tl && g_cols.table + g_cols.table_len <= tmc + tl);
        if (el > MDB_HDR_LEN + 8) walk_images(evc + MDB_HDR_LEN + 8, evc + el);
    }
    const uint8_t *p = evc;
    while (!mdb_packed(&p, evc + el, &v)) FZ_CHECK(p <= evc + el);

    const char *db, *q;
    size_t dl, ql;
    if (mdb_query_text(evc, el, &db, &dl, &q, &ql))
        FZ_CHECK(db + dl <= (const char *)evc + el && q + ql == (const char *)evc + el);
    memset(&g, 0, sizeof g);
    g.crc = sel & 0x80;
    if (tl >= MDB_HDR_LEN) (void)pitr_group_feed(&g, tmc, tl, &f, &err);
    if (el >= MDB_HDR_LEN) (void)pitr_group_feed(&g, evc, el, &f, &err);
    free(tmc);
    free(evc);
    return 0;
}
