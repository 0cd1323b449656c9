/* test_binlog.c: the pure parts of the binlog follower: event header and
 * CRC parsing, the segmenter's boundaries, positions, GTIDs and gap
 * detection, over a binlog file captured from a real server
 * (binlog_sample.inc); and when a follower's status file means it runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/source/binlog/binlog_int.h"
#include "tests/unit/binlog_sample.inc"


static void test_every_captured_event_parses_and_passes_crc(void **state)
{
    (void)state;
    Err e;
    size_t pos = 4, n = 0;
    assert_memory_equal(binlog_sample, MDB_BINLOG_MAGIC, 4);
    while (pos < sizeof binlog_sample) {
        MdbEventHdr h;
        size_t len = mdb_le32(binlog_sample + pos + 9);
        err_clear(&e);
        assert_int_equal(mdb_event_header(binlog_sample + pos, len, &h, &e), 0);
        assert_true(mdb_event_is_real(&h));
        assert_int_equal(h.next_pos, pos + len);
        assert_int_equal(mdb_event_crc_check(binlog_sample + pos, len, &e), 0);
        pos += len;
        n++;
    }
    assert_int_equal(pos, sizeof binlog_sample);
    assert_int_equal(n, 22);
}

static void test_flipped_byte_fails_crc_naming_the_event(void **state)
{
    (void)state;
    uint8_t ev[64];
    Err e;
    size_t at = 379, len = 42;   /* the first GTID event */
    memcpy(ev, binlog_sample + at, len);
    ev[25] ^= 1;
    err_clear(&e);
    assert_int_equal(mdb_event_crc_check(ev, len, &e), ERR_CORRUPT);
    assert_non_null(strstr(e.msg, "fails its CRC32"));
    MdbEventHdr h;
    assert_int_equal(mdb_event_header(ev, len - 1, &h, &e), ERR_CORRUPT);
}

static void test_fd_gtid_and_rotate_fields(void **state)
{
    (void)state;
    Err e;
    unsigned alg = 9;
    err_clear(&e);
    assert_int_equal(mdb_event_fd_checksum(binlog_sample + 4, 252, &alg, &e), 0);
    assert_int_equal(alg, 1);
    MdbGtid g;
    uint8_t fl = 0;
    assert_int_equal(mdb_event_gtid(binlog_sample + 379, 42, &g, &fl, &e), 0);
    assert_int_equal(g.domain, 0);
    assert_int_equal(g.server, 1);
    assert_true(fl & MDB_GTID_FL_STANDALONE);   /* the CREATE TABLE */
    char name[64];
    uint64_t p = 0;
    assert_int_equal(mdb_event_rotate(binlog_sample + 1317, 44, 4, name, sizeof name, &p, &e), 0);
    assert_string_equal(name, "binlog.000008");
    assert_int_equal(p, 4);
    assert_true(mdb_event_query_is(binlog_sample + 421, 137, 4, "COMMIT") == false);
}

/* Feed the whole file; record where boundaries are reported. */
static void test_segmenter_cuts_only_between_transactions(void **state)
{
    (void)state;
    BinlogSegmenter s;
    BinlogFeed f;
    Err e;
    uint64_t boundaries[32];
    size_t nb = 0, pos = 4;
    bool file_end = false;

    binlog_seg_init(&s, "binlog.000007", 4, NULL);
    s.csum_len = 4;
    while (pos < sizeof binlog_sample) {
        size_t len = mdb_le32(binlog_sample + pos + 9);
        err_clear(&e);
        assert_int_equal(binlog_seg_feed(&s, binlog_sample + pos, len, &f, &e), 0);
        assert_int_equal(f.kind, BINLOG_FEED_APPEND);
        pos += len;
        if (f.boundary) boundaries[nb++] = pos;
        file_end = f.file_end;
    }
    assert_true(file_end);
    /* never inside GTID..XID: 600..942 and 984..1159 are transactions */
    const uint64_t want[] = {256, 299, 339, 379, 558, 942, 1159, 1317, 1361};
    assert_int_equal(nb, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < nb; i++) assert_int_equal(boundaries[i], want[i]);

    BinlogSegInfo si;
    assert_true(binlog_seg_take(&s, &si));
    assert_string_equal(si.file, "binlog.000007");
    assert_int_equal(si.start, 4);
    assert_int_equal(si.end, 1361);
    assert_int_equal(si.size, 1357);
    assert_int_equal(si.event_count, 22);
    assert_int_equal(si.trx_count, 4);
    assert_int_equal(si.link, BINLOG_LINK_START);
    assert_int_equal(si.gtid_first.n, 1);
    assert_int_equal(si.gtid_last.g[0].seq, si.gtid_first.g[0].seq + 3);
    assert_int_equal(si.fd_len, 0);   /* the FD is inside the segment */
    /* the Rotate moved the segmenter to the next file */
    assert_string_equal(s.file, "binlog.000008");
    assert_int_equal(s.pos, 4);
}

static void test_missing_event_is_a_gap(void **state)
{
    (void)state;
    BinlogSegmenter s;
    BinlogFeed f;
    Err e;
    binlog_seg_init(&s, "binlog.000007", 379, NULL);
    s.csum_len = 4;
    err_clear(&e);
    assert_int_equal(binlog_seg_feed(&s, binlog_sample + 379, 42, &f, &e), 0);
    /* skip the DDL query at 421: the next GTID at 558 must be refused */
    assert_int_equal(binlog_seg_feed(&s, binlog_sample + 558, 42, &f, &e), ERR_GAP);
    assert_non_null(strstr(e.msg, "binlog gap in binlog.000007"));
    assert_non_null(strstr(e.msg, "421"));
}

static void test_artificial_events_are_not_archived(void **state)
{
    (void)state;
    BinlogSegmenter s;
    BinlogFeed f;
    Err e;
    uint8_t fd[256], rot[64];
    /* the FD the server sends when a dump starts mid-file: next_pos 0 */
    memcpy(fd, binlog_sample + 4, 252);
    mdb_put_le32(fd + 13, 0);
    /* an artificial Rotate: flag 0x20, timestamp 0 */
    memcpy(rot, binlog_sample + 1317, 44);
    mdb_put_le32(rot, 0);
    mdb_put_le32(rot + 13, 0);
    rot[17] |= MDB_FLAG_ARTIFICIAL;
    memcpy(rot + 27, "binlog.000007", 13);
    mdb_put_le32(rot + 19, 559 - 1);
    binlog_seg_init(&s, "binlog.000007", 558, NULL);
    s.csum_len = 4;
    err_clear(&e);
    assert_int_equal(binlog_seg_feed(&s, rot, 44, &f, &e), 0);
    assert_int_equal(f.kind, BINLOG_FEED_SKIP);
    assert_int_equal(binlog_seg_feed(&s, fd, 252, &f, &e), 0);
    assert_int_equal(f.kind, BINLOG_FEED_SKIP);
    assert_true(f.fd_saved);
    assert_int_equal(binlog_seg_feed(&s, binlog_sample + 558, 42, &f, &e), 0);
    assert_int_equal(f.kind, BINLOG_FEED_APPEND);
    assert_false(f.boundary);
    BinlogSegInfo si;
    assert_true(binlog_seg_take(&s, &si));
    assert_int_equal(si.start, 558);
    assert_int_equal(si.fd_len, 252);   /* kept for the export of a partial file */
}

static void test_gtid_set_roundtrip(void **state)
{
    (void)state;
    MdbGtidSet set;
    Err e;
    char out[256];
    err_clear(&e);
    assert_int_equal(mdb_gtid_set_parse("0-1-5,1-2-9", &set, &e), 0);
    MdbGtid g = {0, 3, 7};
    mdb_gtid_set_update(&set, &g);
    mdb_gtid_set_format(&set, out, sizeof out);
    assert_string_equal(out, "0-3-7,1-2-9");
    assert_int_equal(mdb_gtid_parse("0-1", &g, &e), ERR_INVALID);
}

static json_t *status_of(long long pid, const char *state, time_t updated)
{
    return json_pack("{s:I, s:s, s:I, s:n}", "pid", (json_int_t)pid, "state", state, "updated",
                     (json_int_t)updated, "error");
}

/* Issue 10 item 7: only a live process with a fresh, non-final status runs. */
static void test_follower_running_only_on_evidence(void **state)
{
    (void)state;
    char why[1600];
    time_t now = time(NULL);
    json_t *st;

    st = status_of(getpid(), "streaming", now - 2);
    assert_true(binlog_follower_running(st, "/sp", "erp", now, why, sizeof why));
    assert_string_equal(why, "");
    json_decref(st);

    assert_false(binlog_follower_running(NULL, "/sp", "erp", now, why, sizeof why));
    assert_non_null(strstr(why, "no binlog follower runs for instance erp (no status file in /sp/erp)"));
    assert_non_null(strstr(why, "tidemark-binlog@erp"));

    st = status_of(getpid(), "stopped", now);
    assert_false(binlog_follower_running(st, "/sp", "erp", now, why, sizeof why));
    assert_non_null(strstr(why, "is not running (it ended in state \"stopped\""));
    json_decref(st);

    st = json_pack("{s:I, s:s, s:I, s:s}", "pid", (json_int_t)getpid(), "state", "error",
                   "updated", (json_int_t)now, "error", "access denied");
    assert_false(binlog_follower_running(st, "/sp", "erp", now, why, sizeof why));
    assert_non_null(strstr(why, "state \"error\": access denied"));
    json_decref(st);

    /* hung: alive, not final, but no update for longer than allowed */
    st = status_of(getpid(), "streaming", now - BINLOG_STATUS_STALE_S - 1);
    assert_false(binlog_follower_running(st, "/sp", "erp", now, why, sizeof why));
    assert_non_null(strstr(why, "has not updated its status"));
    json_decref(st);

    /* died (SIGKILL leaves "streaming" behind): a reaped child's pid */
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0)
        _exit(0);
    assert_int_equal(waitpid(child, NULL, 0), child);
    st = status_of(child, "streaming", now);
    assert_false(binlog_follower_running(st, "/sp", "erp", now, why, sizeof why));
    assert_non_null(strstr(why, "it died in state \"streaming\""));
    json_decref(st);

    /* no pid or a pid that is no pid */
    st = status_of(0, "streaming", now);
    assert_false(binlog_follower_running(st, "/sp", "erp", now, why, sizeof why));
    json_decref(st);
    st = status_of(-1, "streaming", now);
    assert_false(binlog_follower_running(st, "/sp", "erp", now, why, sizeof why));
    json_decref(st);
}

static void test_follower_disconnected_alarm_after_a_minute(void **state)
{
    (void)state;
    char why[2800];
    time_t now = time(NULL);
    json_t *st = json_pack("{s:I, s:s}", "disconnected_since", (json_int_t)0, "error", "x");
    assert_true(binlog_follower_connected(st, "erp", now, why, sizeof why));
    json_object_set_new(st, "disconnected_since",
                        json_integer((json_int_t)(now - BINLOG_DISCONNECTED_ALARM_S)));
    assert_true(binlog_follower_connected(st, "erp", now, why, sizeof why));
    json_object_set_new(st, "disconnected_since",
                        json_integer((json_int_t)(now - BINLOG_DISCONNECTED_ALARM_S - 1)));
    json_object_set_new(st, "error", json_string("connect to /run/db.sock: no such file"));
    assert_false(binlog_follower_connected(st, "erp", now, why, sizeof why));
    assert_non_null(strstr(why, "has not been connected to its server for 61 s"));
    assert_non_null(strstr(why, "last error: connect to /run/db.sock: no such file"));
    json_decref(st);
    /* an older follower's status file has no such field: no evidence */
    st = json_pack("{s:s}", "state", "reconnecting");
    assert_true(binlog_follower_connected(st, "erp", now, why, sizeof why));
    json_decref(st);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_every_captured_event_parses_and_passes_crc),
        cmocka_unit_test(test_flipped_byte_fails_crc_naming_the_event),
        cmocka_unit_test(test_fd_gtid_and_rotate_fields),
        cmocka_unit_test(test_segmenter_cuts_only_between_transactions),
        cmocka_unit_test(test_missing_event_is_a_gap),
        cmocka_unit_test(test_artificial_events_are_not_archived),
        cmocka_unit_test(test_gtid_set_roundtrip),
        cmocka_unit_test(test_follower_running_only_on_evidence),
        cmocka_unit_test(test_follower_disconnected_alarm_after_a_minute),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
