/* tst_catalog.h: binlog catalog entries for unit tests, put into a real
 * repository the way the uploader writes them. Include after cmocka.h and
 * engine/source/binlog/binlog_int.h (header-only: the tests that use it
 * already link the binlog module). */
#ifndef TM_TESTS_TST_CATALOG_H
#define TM_TESTS_TST_CATALOG_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Entry seq of a chain in binlog.000001: 100 bytes each, one trx each;
 * with fd_len bytes of Format_description and a stream of nchunks chunks
 * (a real entry carries both: about 1 KB of JSON). */
static inline void tst_catalog_entry_put(Repo *r, const char *inst, uint64_t seq, size_t fd_len,
                                         size_t nchunks)
{
    BinlogSegInfo si;
    char key[300];
    Err err;
    memset(&si, 0, sizeof si);
    si.seq = seq;
    si.link = seq == 1 ? BINLOG_LINK_START : BINLOG_LINK_CONTINUE;
    snprintf(si.identity, sizeof si.identity, "db1:3306/1");
    si.server_id = 1;
    snprintf(si.file, sizeof si.file, "binlog.000001");
    si.start = 4 + (seq - 1) * 100;
    si.end = si.start + 100;
    si.size = 100;
    si.first_time = si.last_time = 1700000000 + (int64_t)seq;
    MdbGtid g = {0, 1, seq};
    mdb_gtid_set_update(&si.gtid_first, &g);
    mdb_gtid_set_update(&si.gtid_last, &g);
    mdb_gtid_set_update(&si.gtid_state, &g);
    si.trx_count = 1;
    si.event_count = 4;
    si.hash[0] = (uint8_t)seq;
    si.last_type = 16;
    si.fd_len = fd_len;
    memset(si.fd, 0xab, fd_len);
    if (nchunks) {
        si.stream.size = si.size;
        si.stream.nchunks = nchunks;
        si.stream.chunks = calloc(nchunks, sizeof *si.stream.chunks);
        assert_non_null(si.stream.chunks);
        for (size_t i = 0; i < nchunks; i++)
            memset(si.stream.chunks[i].b, (int)((seq + i) & 0xff), sizeof si.stream.chunks[i].b);
    }
    json_t *j = binlog_seginfo_to_json(&si);
    char *text = json_dumps(j, JSON_COMPACT);
    binlog_catalog_key(inst, seq, key, sizeof key);
    assert_int_equal(repo_obj_put(r, key, text, strlen(text), &err), 0);
    free(text);
    json_decref(j);
    repo_streamref_free(&si.stream);
}

#endif
