/* rst_inst_report.c: the instance restore's report as JSON and as text.
 * Invariant: the verdict line never says OK when a part is missing or a
 * check failed (rst_inst_restore sets the verdict; this only prints it). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "restore/instance/rst_instance.h"

const char *rst_inst_part_name(RstInstPart p)
{
    static const char *const n[RST_INST_PARTS] = {"documents", "custom", "conf_php"};
    return (unsigned)p < RST_INST_PARTS ? n[p] : "?";
}

const char *rst_inst_phase_name(RstInstPhase p)
{
    static const char *const n[RST_INST_PHASES] = {"load", "replay", "files", "conf_php", "verify"};
    return (unsigned)p < RST_INST_PHASES ? n[p] : "?";
}

static json_t *parts_json(const RstInstReport *rep)
{
    json_t *o = json_object();
    for (int p = 0; o && p < RST_INST_PARTS; p++) {
        const RstInstPartResult *pr = &rep->parts[p];
        if (!pr->configured) continue;
        json_object_set_new(o, rst_inst_part_name((RstInstPart)p),
                            json_pack("{s:b, s:b, s:s?, s:I, s:I}", "in_snapshot", pr->in_snapshot, "restored",
                                      pr->restored, "path", pr->restored ? pr->path : NULL,
                                      "files", (json_int_t)pr->files, "bytes", (json_int_t)pr->bytes));
    }
    return o;
}

static json_t *missing_json(const RstInstReport *rep)
{
    json_t *a = json_array();
    for (const char *s = rep->missing; a && *s;) {
        size_t n = strcspn(s, "\n");
        json_array_append_new(a, json_stringn(s, n));
        s += n + (s[n] ? 1 : 0);
    }
    return a;
}

json_t *rst_inst_report_json(const RstInstRequest *req, const RstInstReport *rep)
{
    json_t *ph = json_object(), *o;
    for (int p = 0; ph && p < RST_INST_PHASES; p++)
        json_object_set_new(ph, rst_inst_phase_name((RstInstPhase)p), json_real(rep->seconds[p]));
    o = json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:o, s:{s:b, s:s}, s:o, s:o}", "verdict",
                  rep->verdict ? rep->verdict : "failed", "target_db", req->pitr.run.target_db,
                  "target_dir", req->target_dir, "snapshot", rep->pitr.have_plan ? rep->pitr.plan.snap_hex : NULL,
                  "reached_gtid", rep->pitr.ran ? rep->pitr.result.reached_gtid : NULL, "parts", parts_json(rep),
                  "conf_php", "rewritten", rep->conf_rewritten, "password",
                  inst_dol_pass_enc_name(rep->pass_enc), "missing", missing_json(rep), "phases", ph);
    if (!o) return NULL;
    if (rep->pitr.ran) json_object_set_new(o, "database", rst_pitr_report_json(&req->pitr, &rep->pitr));
    if (rep->verified_ran) json_object_set_new(o, "dolibarr", rst_dol_report_json(&rep->dol));
    return o;
}

void rst_inst_report_print(const RstInstRequest *req, const RstInstReport *rep, FILE *f)
{
    const RstPitrResult *res = &rep->pitr.result;
    if (rep->pitr.ran)
        fprintf(f, "database: snapshot %.12s into %s: %" PRIu64 " tables, %" PRIu64 " rows, %" PRIu64
                " transactions replayed, position %s (%s)\n", rep->pitr.plan.snap_hex, req->pitr.run.target_db,
                res->tables, res->rows, res->transactions, res->reached_gtid[0] ? res->reached_gtid : "-",
                rep->pitr.verdict ? rep->pitr.verdict : "failed");
    for (int p = 0; p < RST_INST_PARTS; p++) {
        const RstInstPartResult *pr = &rep->parts[p];
        if (!pr->configured) continue;
        if (pr->restored)
            fprintf(f, "%s: %s (%" PRIu64 " files, %" PRIu64 " bytes)\n", rst_inst_part_name((RstInstPart)p),
                    pr->path, pr->files, pr->bytes);
        else
            fprintf(f, "%s: NOT restored%s\n", rst_inst_part_name((RstInstPart)p),
                    pr->in_snapshot ? "" : " (not in the snapshot)");
    }
    if (rep->conf_rewritten)
        fprintf(f, "conf_php: rewritten for database %s, password stored %s; unique id and dolcrypt key kept\n",
                req->pitr.run.target_db, inst_dol_pass_enc_name(rep->pass_enc));
    for (const char *s = rep->missing; *s;) {
        size_t n = strcspn(s, "\n");
        fprintf(f, "missing: %.*s\n", (int)n, s);
        s += n + (s[n] ? 1 : 0);
    }
    if (rep->verified_ran) rst_dol_report_print(&rep->dol, f);
    fprintf(f, "phases:");
    for (int p = 0; p < RST_INST_PHASES; p++)
        fprintf(f, " %s %.1f s%s", rst_inst_phase_name((RstInstPhase)p), rep->seconds[p],
                p + 1 < RST_INST_PHASES ? "," : "\n");
    if (rep->verdict && !strcmp(rep->verdict, "verified"))
        fprintf(f, "restore verdict: OK, the database, the files and conf.php restored and every check passed\n");
    else
        fprintf(f, "restore verdict: %s; the copy (database %s, directory %s) is left as it is for inspection: "
                "drop the database and remove the directory before restoring there again\n",
                rep->verdict && !strcmp(rep->verdict, "incomplete") ? "INCOMPLETE, a part is missing" : "FAILED",
                req->pitr.run.target_db, req->target_dir);
}
