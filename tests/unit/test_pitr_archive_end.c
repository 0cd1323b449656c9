/* test_pitr_archive_end.c: the proof a time target past the archive's end
 * needs (pitr_archive_end.c), over a real local repository's catalog and a
 * follower status.json written the way binlog_follow.c writes it: proven
 * only by a heartbeat at the archive's exact end (server, file, position)
 * heard at least 2 s after the target's second began; refused (ERR_GAP,
 * naming the follower's state and the ways on) at 1 s, at another position
 * or server, without the record (an older follower), without a status or a
 * spool; accepted only when asked, saying so. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/source/binlog/binlog_int.h"
#include "restore/pitr/pitr_int.h"
#include "tests/support/tst_catalog.h"
#include "tests/support/tst_util.h"

static const char PASS[] = "correct horse";
#define INST "shop"
#define END_TIME 1700000003      /* the last archived event */
#define TARGET (END_TIME + 100)  /* the time asked for, past it */

typedef struct Fx {
    char *dir;
    char spool[4200];
    Repo *r;
    BinlogCatalog *c;
} Fx;

static int setup(void **state)
{
    Fx *fx = calloc(1, sizeof *fx);
    char url[4096], d[4300];
    Sto *sto;
    Err err;
    RepoOptions o;
    repo_options_default(&o);
    o.kdf = CRY_KDF_FAST;
    fx->dir = tst_tempdir("pend");
    snprintf(url, sizeof url, "%s/r", fx->dir);
    assert_int_equal(sto_open_url(url, STO_OPEN_CREATE, &sto, &err), 0);
    assert_int_equal(repo_init(sto, PASS, strlen(PASS), &o, &err), 0);
    sto_close(sto);
    assert_int_equal(sto_open_url(url, 0, &sto, &err), 0);
    assert_int_equal(repo_open(sto, PASS, strlen(PASS), &o, &fx->r, &err), 0);
    for (uint64_t s = 1; s <= 3; s++) tst_catalog_entry_put(fx->r, INST, s, 0, 0);   /* ends at binlog.000001:304 */
    assert_int_equal(binlog_catalog_load(fx->r, INST, &fx->c, &err), 0);
    snprintf(fx->spool, sizeof fx->spool, "%s/spool", fx->dir);
    snprintf(d, sizeof d, "%s/" INST, fx->spool);
    assert_int_equal(mkdir(fx->spool, 0700), 0);
    assert_int_equal(mkdir(d, 0700), 0);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    Fx *fx = *state;
    binlog_catalog_free(fx->c);
    repo_free(fx->r);
    tst_rmtree(fx->dir);
    free(fx->dir);
    free(fx);
    return 0;
}

/* status.json as the follower writes it; hb_time 0 = no "heartbeat" key
 * (an older follower); alive: our own pid, streaming, just updated. */
static void status(const Fx *fx, bool alive, int64_t hb_time, const char *file, uint64_t pos,
                   const char *identity)
{
    char p[4400];
    json_t *j = json_pack("{s:s,s:I,s:s,s:b,s:I}", "instance", INST, "pid",
                          (json_int_t)(alive ? getpid() : 999999999), "state",
                          alive ? "streaming" : "stopped", "connected", alive, "updated",
                          (json_int_t)(alive ? time(NULL) : TARGET - 50));
    if (hb_time)
        json_object_set_new(j, "heartbeat", json_pack("{s:I,s:s,s:I,s:s}", "time", (json_int_t)hb_time,
                                                      "file", file, "position", (json_int_t)pos,
                                                      "identity", identity));
    snprintf(p, sizeof p, "%s/" INST "/status.json", fx->spool);
    assert_int_equal(json_dump_file(j, p, 0), 0);
    json_decref(j);
}

/* The plan as rst_pitr_plan has it when it calls the check. */
static int check(const Fx *fx, bool accept, const char *spool, const char *newer, RstPitrPlan *p,
                 Err *err)
{
    RstPitrRequest q;
    memset(&q, 0, sizeof q);
    memset(p, 0, sizeof *p);
    q.instance = INST;
    q.kind = RST_PITR_TIME;
    q.time = TARGET;
    q.spool_dir = spool;
    q.accept_archive_end = accept;
    snprintf(p->snap_hex, sizeof p->snap_hex, "%s", "ab12cd34ef56ab12cd34ef56");
    snprintf(p->last_gtid, sizeof p->last_gtid, "0-1-3");
    p->archive_end_time = END_TIME;
    snprintf(p->archive_end_gtid, sizeof p->archive_end_gtid, "0-1-3");
    err_clear(err);
    return pitr_archive_end_check(fx->c, &q, p, newer, err);
}

static void test_heartbeat_at_the_end_two_seconds_later_proves_it(void **state)
{
    Fx *fx = *state;
    RstPitrPlan p;
    Err err;
    status(fx, true, TARGET + 2, "binlog.000001", 304, "db1:3306/1");
    assert_int_equal(check(fx, false, fx->spool, NULL, &p, &err), 0);
    assert_int_equal(p.archive_end, RST_PITR_END_PROVEN);
    assert_non_null(strstr(p.archive_end_why, "nothing past the archive's end binlog.000001:304"));
    /* the follower's state does not matter, only what it heard and when */
    status(fx, false, TARGET + 60, "binlog.000001", 304, "db1:3306/1");
    assert_int_equal(check(fx, false, fx->spool, NULL, &p, &err), 0);
    assert_int_equal(p.archive_end, RST_PITR_END_PROVEN);
}

static void test_heartbeat_one_second_after_is_not_enough(void **state)
{
    Fx *fx = *state;
    RstPitrPlan p;
    Err err;
    status(fx, true, TARGET + 1, "binlog.000001", 304, "db1:3306/1");
    assert_int_equal(check(fx, false, fx->spool, NULL, &p, &err), ERR_GAP);
    assert_int_equal(p.archive_end, RST_PITR_END_NONE);
    assert_non_null(strstr(err.msg, "is past the end of the binlog archive of instance shop"));
    assert_non_null(strstr(err.msg, "the follower is running (state streaming"));
    assert_non_null(strstr(err.msg, "before the target"));
    assert_non_null(strstr(err.msg, "--to-gtid 0-1-3"));
    assert_non_null(strstr(err.msg, "--accept-archive-end"));
}

static void test_heartbeat_elsewhere_proves_nothing(void **state)
{
    Fx *fx = *state;
    RstPitrPlan p;
    Err err;
    status(fx, true, TARGET + 30, "binlog.000001", 404, "db1:3306/1");   /* not archived yet */
    assert_int_equal(check(fx, false, fx->spool, NULL, &p, &err), ERR_GAP);
    assert_non_null(strstr(err.msg, "was binlog.000001:404"));
    assert_non_null(strstr(err.msg, "not the archive's end binlog.000001:304"));
    status(fx, true, TARGET + 30, "binlog.000002", 304, "db1:3306/1");   /* another file */
    assert_int_equal(check(fx, false, fx->spool, NULL, &p, &err), ERR_GAP);
    status(fx, true, TARGET + 30, "binlog.000001", 304, "db2:3306/2");   /* another server */
    assert_int_equal(check(fx, false, fx->spool, NULL, &p, &err), ERR_GAP);
    assert_non_null(strstr(err.msg, "on db2:3306/2"));
}

static void test_no_record_no_status_no_spool_refused(void **state)
{
    Fx *fx = *state;
    RstPitrPlan p;
    Err err;
    status(fx, false, 0, NULL, 0, NULL);   /* a status from an older follower */
    assert_int_equal(check(fx, false, fx->spool, NULL, &p, &err), ERR_GAP);
    assert_non_null(strstr(err.msg, "the follower is not running (state stopped"));
    assert_non_null(strstr(err.msg, "recorded no heartbeat"));
    char other[4300];
    snprintf(other, sizeof other, "%s/none", fx->dir);
    assert_int_equal(check(fx, false, other, NULL, &p, &err), ERR_GAP);
    assert_non_null(strstr(err.msg, "no follower status for instance shop"));
    assert_int_equal(check(fx, false, NULL, NULL, &p, &err), ERR_GAP);
    assert_non_null(strstr(err.msg, "no follower spool is configured here"));
}

static void test_ways_on_name_a_newer_snapshot(void **state)
{
    Fx *fx = *state;
    RstPitrPlan p;
    Err err;
    status(fx, false, TARGET - 10, "binlog.000001", 304, "db1:3306/1");
    assert_int_equal(check(fx, false, fx->spool, "99887766554433221100aabb", &p, &err), ERR_GAP);
    assert_non_null(strstr(err.msg, "--snapshot 998877665544"));
}

static void test_accepted_only_when_asked_and_said(void **state)
{
    Fx *fx = *state;
    RstPitrPlan p;
    Err err;
    status(fx, false, TARGET - 10, "binlog.000001", 304, "db1:3306/1");
    assert_int_equal(check(fx, true, fx->spool, NULL, &p, &err), 0);
    assert_int_equal(p.archive_end, RST_PITR_END_ACCEPTED);
    assert_non_null(strstr(p.archive_end_why, "--accept-archive-end"));
    assert_non_null(strstr(p.archive_end_why, "is NOT restored"));
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test_setup_teardown(test_heartbeat_at_the_end_two_seconds_later_proves_it, setup, teardown),
        cmocka_unit_test_setup_teardown(test_heartbeat_one_second_after_is_not_enough, setup, teardown),
        cmocka_unit_test_setup_teardown(test_heartbeat_elsewhere_proves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_record_no_status_no_spool_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ways_on_name_a_newer_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accepted_only_when_asked_and_said, setup, teardown),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
