/* pitr_library.c: a point-in-time restore through the library entry point
 * (rst_pitr_restore), without the tidemark binary: what a drill or the
 * daemon will call (issue 11, acceptance 2). Driven by pitr_library.sh.
 *
 *   pitr_library URL PASSWORD_FILE INSTANCE TARGET_SOCKET STATE_DIR SPOOL_DIR gtid|time|plan VALUE
 *
 * Opens the repository, restores INSTANCE onto the server at TARGET_SOCKET
 * (user root, --drop-existing) to the GTID or time VALUE ("plan": the plan
 * and checks only, to GTID VALUE), checks what the report says (the hooks
 * in order, the verdict, the position reached, the snapshot's hashes) and
 * prints rst_pitr_report_json on stdout. Exit 0 when all holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/repo/repo.h"
#include "restore/pitr/rst_pitr.h"
#include "storage-backends/storage.h"

typedef struct Seen {
    char order[8];   /* p(lan) t(arget) d(urability) r(un), in call order */
    size_t n;
} Seen;

static void seen(Seen *s, char c)
{
    if (s->n < sizeof s->order - 1) s->order[s->n++] = c;
}
static void on_plan(void *ctx, const RstPitrRestoreReport *rep)
{
    seen(ctx, rep->have_plan ? 'p' : '?');
}
static void on_target(void *ctx, const RstPitrRestoreReport *rep)
{
    seen(ctx, rep->target.version[0] ? 't' : '?');
}
static void on_durability(void *ctx, const RstPitrRestoreReport *rep)
{
    seen(ctx, rep->durability.reason[0] ? 'd' : '?');
}
static void on_run(void *ctx, const RstPitrRestoreReport *rep)
{
    seen(ctx, rep->ran ? '?' : 'r');
}

static int fail(const char *what, const Err *err)
{
    fprintf(stderr, "pitr_library: %s%s%s\n", what, err && err->msg[0] ? ": " : "", err ? err->msg : "");
    return 1;
}

static int read_password(const char *path, char *out, size_t cap, size_t *len)
{
    FILE *f = fopen(path, "re");
    size_t n;
    if (!f) return -1;
    n = fread(out, 1, cap - 1, f);
    fclose(f);
    while (n && (out[n - 1] == '\n' || out[n - 1] == '\r')) n--;
    out[n] = 0;
    *len = n;
    return 0;
}

int main(int argc, char **argv)
{
    Sto *sto = NULL;
    Repo *r = NULL;
    RepoOptions ro;
    RstPitrRestoreRequest req;
    RstPitrRestoreReport rep;
    Seen s = {{0}, 0};
    RstPitrRestoreHooks hooks = {&s, on_plan, on_target, on_durability, on_run};
    MdbConn conn;
    Err err;
    char pw[1024];
    size_t pwlen = 0;
    bool plan = argc == 9 && !strcmp(argv[7], "plan");
    json_t *j;
    int rc, bad = 0;

    if (argc != 9) {
        fprintf(stderr, "usage: pitr_library URL PASSWORD_FILE INSTANCE TARGET_SOCKET STATE_DIR SPOOL_DIR "
                        "gtid|time|plan VALUE\n");
        return 2;
    }
    err_clear(&err);
    memset(&req, 0, sizeof req);
    memset(&rep, 0, sizeof rep);
    memset(&conn, 0, sizeof conn);
    conn.socket = argv[4];
    conn.user = "root";
    req.target.instance = argv[3];
    req.target.spool_dir = argv[6];
    if (!strcmp(argv[7], "time")) {
        req.target.kind = RST_PITR_TIME;
        if (rst_pitr_time_parse(argv[8], &req.target.time, NULL, 0, &err)) return fail("time", &err);
    } else {
        req.target.kind = RST_PITR_GTID;
        if (mdb_gtid_parse(argv[8], &req.target.gtid, &err)) return fail("gtid", &err);
    }
    req.run.drop_existing = true;
    req.state_dir = argv[5];
    req.conn = &conn;
    req.plan_only = plan;

    repo_options_default(&ro);
    if (read_password(argv[2], pw, sizeof pw, &pwlen)) return fail("read the password file", NULL);
    if (sto_open_url(argv[1], 0, &sto, &err)) return fail("open the repository", &err);
    if (repo_open(sto, pw, pwlen, &ro, &r, &err)) return fail("open the repository", &err);

    rc = rst_pitr_restore(r, &req, &hooks, &rep, &err);
    if (rc) {
        fprintf(stderr, "pitr_library: restore failed (%s): %s\n", err_code_name(rc), err.msg);
        bad = 1;
    }
    if (strcmp(s.order, plan ? "ptd" : "ptdr")) {
        fprintf(stderr, "pitr_library: hooks called as '%s', not '%s'\n", s.order, plan ? "ptd" : "ptdr");
        bad = 1;
    }
    if (plan && rep.ran) bad = !!fprintf(stderr, "pitr_library: the plan ran the restore\n");
    if (!plan && !rc) {
        if (!rep.verdict || strcmp(rep.verdict, "verified"))
            bad = !!fprintf(stderr, "pitr_library: verdict %s\n", rep.verdict ? rep.verdict : "(none)");
        if (!rep.result.reached || strcmp(rep.result.reached_gtid, rep.plan.target_gtid))
            bad = !!fprintf(stderr, "pitr_library: reached %s, not the target %s\n", rep.result.reached_gtid,
                            rep.plan.target_gtid);
        if (!rep.result.load_verified) bad = !!fprintf(stderr, "pitr_library: the load is not verified\n");
        if (rep.not_put_back[0] || rep.incomplete[0])
            bad = !!fprintf(stderr, "pitr_library: %s%s\n", rep.not_put_back, rep.incomplete);
    }
    j = rst_pitr_report_json(&req, &rep);
    if (!j) {
        bad = !!fprintf(stderr, "pitr_library: no JSON report\n");
    } else {
        json_dumpf(j, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(j);
    }
    rst_pitr_restore_report_free(&rep);
    repo_free(r);   /* closes sto */
    return bad;
}
