/* pitr_report.c: the plan as the operator reads it (the first lines of
 * every restore, all of --plan) and as JSON; measured rates kept in the
 * state directory for the next estimate.
 * Invariant: the text always says which transactions the target includes
 * and what one-second timestamp resolution means for a time target. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "restore/pitr/pitr_int.h"

static const char *kind_name(RstPitrKind k)
{
    switch (k) {
    case RST_PITR_TIME: return "time";
    case RST_PITR_GTID: return "gtid";
    case RST_PITR_BEFORE_GTID: return "before-gtid";
    default: return "snapshot";
    }
}

static void fmt_dur(double s, char *out, size_t cap)
{
    if (s < 1) snprintf(out, cap, "< 1 s");
    else if (s < 120) snprintf(out, cap, "%.0f s", s);
    else snprintf(out, cap, "%d min %02d s", (int)s / 60, (int)s % 60);
}

/* Each line of a multi-line text, after prefix. */
static void print_lines(FILE *f, const char *prefix, const char *text)
{
    while (*text) {
        const char *nl = strchr(text, '\n');
        size_t len = nl ? (size_t)(nl - text) : strlen(text);
        if (len) fprintf(f, "%s%.*s\n", prefix, (int)len, text);
        text += len + (nl ? 1 : 0);
    }
}

static const char *archive_end_name(RstPitrArchiveEnd e)
{
    return e == RST_PITR_END_PROVEN ? "proven" : e == RST_PITR_END_ACCEPTED ? "accepted" : "inside";
}

void rst_pitr_plan_print(const RstPitrPlan *p, FILE *f)
{
    char t[100], d1[32], d2[32], d3[32], d4[32];
    fprintf(f, "plan: snapshot %.12s taken %s at %s:%" PRIu64 " (GTID %s), %.1f MB of tables\n",
            p->snap_hex, p->snap_time, p->snap_file, p->snap_pos, p->snap_gtid[0] ? p->snap_gtid : "-",
            (double)p->db_bytes / 1e6);
    if (!p->replay) {
        fprintf(f, "plan: no binlog replay: the snapshot itself is the target (GTID %s)\n",
                p->target_gtid[0] ? p->target_gtid : "-");
    } else {
        fprintf(f, "plan: replay %" PRIu64 " transactions from %zu archived segment%s (%.1f MB to fetch"
                   " and stream)\n", p->transactions, p->segments, p->segments == 1 ? "" : "s",
                (double)p->seg_bytes / 1e6);
        rst_pitr_time_format(p->last_time, t, sizeof t);
        fprintf(f, "plan: last transaction applied: %s, stamped %s, ends at %s:%" PRIu64 "\n",
                p->last_gtid, t, p->last_file, p->last_end_pos);
        fprintf(f, "plan: target GTID position: %s\n", p->target_gtid);
    }
    if (p->next_gtid[0]) {
        rst_pitr_time_format(p->next_time, t, sizeof t);
        fprintf(f, "plan: first transaction NOT applied: %s, stamped %s\n", p->next_gtid, t);
    }
    if (p->kind == RST_PITR_TIME)
        fprintf(f, "plan: time target: binlog timestamps are whole seconds: every transaction stamped "
                   "up to the end of the target's second is applied (a prefix in commit order, "
                   "stopping before the first later stamp); use --to-gtid for an exact point\n");
    if (p->kind == RST_PITR_BEFORE_GTID)
        fprintf(f, "plan: before-gtid: every transaction committed before %s, none from it on\n",
                p->next_gtid);
    if (p->later_snapshot[0])
        fprintf(f, "plan: the target equals snapshot %.12s's coordinates: the result will be checked "
                   "against its table hashes\n", p->later_snapshot);
    fmt_dur(p->est_load_s, d1, sizeof d1);
    fmt_dur(p->est_verify_s, d2, sizeof d2);
    fmt_dur(p->est_replay_s, d3, sizeof d3);
    fmt_dur(p->est_load_s + p->est_verify_s + p->est_replay_s, d4, sizeof d4);
    if (p->replay) {
        char d5[32], d6[32];
        fmt_dur(p->est_net_s, d5, sizeof d5);
        fmt_dur(p->est_load_s + p->est_verify_s + p->est_net_s, d6, sizeof d6);
        fprintf(f, "plan: estimate: load %s + verify %s + replay %s as a net change = %s; transaction by "
                   "transaction: replay %s = %s (%s rates: load %.0f MB/s, net %.0f MB/s of binlog, "
                   "%.0f tx/s)\n", d1, d2, d5, d6, d3, d4, p->rates.measured ? "measured" : "default",
                p->rates.load_bytes_s / 1e6, p->rates.net_bytes_s / 1e6, p->rates.replay_tx_s);
    } else {
        fprintf(f, "plan: estimate: load %s + verify %s = %s (%s rates: load %.0f MB/s)\n", d1, d2, d4,
                p->rates.measured ? "measured" : "default", p->rates.load_bytes_s / 1e6);
    }
    print_lines(f, "plan: note: ", p->notes);
    /* last, set apart: what the operator must not miss among the lines above */
    print_lines(f, "plan: WARNING: ", p->warnings);
}

json_t *rst_pitr_plan_json(const RstPitrPlan *p)
{
    json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:I,s:s,s:b,s:I,s:I,s:s,s:I,s:{s:f,s:f,s:f,s:b}}",
                          "kind", kind_name(p->kind), "snapshot", p->snap_hex, "snapshot_time",
                          p->snap_time, "snapshot_file", p->snap_file, "snapshot_position",
                          (json_int_t)p->snap_pos, "snapshot_gtid", p->snap_gtid, "replay", p->replay,
                          "segments", (json_int_t)p->segments, "bytes_to_fetch",
                          (json_int_t)p->seg_bytes, "target_gtid", p->target_gtid, "transactions",
                          (json_int_t)p->transactions, "estimate", "load_s", p->est_load_s,
                          "verify_s", p->est_verify_s, "replay_s", p->est_replay_s, "measured_rates",
                          p->rates.measured);
    if (!j) return NULL;
    json_object_set_new(json_object_get(j, "estimate"), "replay_net_s", json_real(p->est_net_s));
    json_object_set_new(j, "last_gtid", json_string(p->last_gtid));
    json_object_set_new(j, "last_time", json_integer(p->last_time));
    json_object_set_new(j, "next_gtid", json_string(p->next_gtid));
    json_object_set_new(j, "next_time", json_integer(p->next_time));
    json_object_set_new(j, "later_snapshot", p->later_snapshot[0] ? json_string(p->later_snapshot) : json_null());
    json_object_set_new(j, "notes", json_string(p->notes));
    json_object_set_new(j, "warnings", json_string(p->warnings));
    /* a time target past the last archived transaction: "proven" complete by
     * the follower's status, or "accepted" as the archive's end; "inside" otherwise */
    json_object_set_new(j, "archive_end", json_pack("{s:s,s:s,s:I,s:s}", "target", archive_end_name(p->archive_end),
                                                    "why", p->archive_end_why, "time",
                                                    (json_int_t)p->archive_end_time, "gtid", p->archive_end_gtid));
    return j;
}

/* ---- rates ------------------------------------------------------------- */

static void defaults(RstPitrRates *r)
{
    /* bench/README.md on this kind of machine: LOAD DATA ~30 MB/s of tsv,
     * replay through the SQL thread ~10,000 row transactions/s, ~7 MB/s */
    r->load_bytes_s = 30e6;
    r->verify_bytes_s = 60e6;
    r->replay_tx_s = 10000;
    r->replay_bytes_s = 7e6;
    /* the net change: 972 MiB of ERP binlog in ~9 s after the verification */
    r->net_bytes_s = 100e6;
    r->measured = false;
}

static void path_of(const char *dir, char *out, size_t cap)
{
    snprintf(out, cap, "%s/pitr-rates.json", dir);
}

void rst_pitr_rates_load(const char *state_dir, RstPitrRates *out)
{
    char path[1200];
    json_t *j;
    defaults(out);
    if (!state_dir) return;
    path_of(state_dir, path, sizeof path);
    j = json_load_file(path, 0, NULL);
    if (!j) return;
    double v;
    if ((v = json_number_value(json_object_get(j, "load_bytes_s"))) > 0) out->load_bytes_s = v, out->measured = true;
    if ((v = json_number_value(json_object_get(j, "verify_bytes_s"))) > 0) out->verify_bytes_s = v;
    if ((v = json_number_value(json_object_get(j, "replay_tx_s"))) > 0) out->replay_tx_s = v, out->measured = true;
    if ((v = json_number_value(json_object_get(j, "replay_bytes_s"))) > 0) out->replay_bytes_s = v;
    if ((v = json_number_value(json_object_get(j, "net_bytes_s"))) > 0) out->net_bytes_s = v;
    json_decref(j);
}

void rst_pitr_rates_save(const char *state_dir, const RstPitrRates *m)
{
    char path[1200], tmp[1300];
    RstPitrRates cur;
    json_t *j;
    if (!state_dir) return;
    rst_pitr_rates_load(state_dir, &cur);
    /* keep the newest measurement of each rate that was measured this time */
    if (m->load_bytes_s > 0) cur.load_bytes_s = m->load_bytes_s;
    if (m->verify_bytes_s > 0) cur.verify_bytes_s = m->verify_bytes_s;
    if (m->replay_tx_s > 0) cur.replay_tx_s = m->replay_tx_s;
    if (m->replay_bytes_s > 0) cur.replay_bytes_s = m->replay_bytes_s;
    if (m->net_bytes_s > 0) cur.net_bytes_s = m->net_bytes_s;
    if (mkdir(state_dir, 0700) != 0 && errno != EEXIST) return;
    path_of(state_dir, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    j = json_pack("{s:f,s:f,s:f,s:f,s:f}", "load_bytes_s", cur.load_bytes_s, "verify_bytes_s",
                  cur.verify_bytes_s, "replay_tx_s", cur.replay_tx_s, "replay_bytes_s", cur.replay_bytes_s,
                  "net_bytes_s", cur.net_bytes_s);
    if (j && json_dump_file(j, tmp, 0) == 0) rename(tmp, path);
    json_decref(j);
}
