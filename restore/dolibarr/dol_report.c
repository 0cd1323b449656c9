/* dol_report.c: the Dolibarr checks' report: its JSON form (--json, drill
 * reports), its text form, and its release.
 * Invariant: the verdict printed is the one rst_dol_verify returned: failed
 * exactly when a check that ran did not pass. */
#include <stdlib.h>
#include <string.h>

#include "restore/dolibarr/rst_dolibarr.h"

void rst_dol_report_free(RstDolReport *r)
{
    if (!r) return;
    free(r->database);
    free(r->data_root);
    free(r->db_prefix);
    rst_dol_versions_free(&r->versions);
    for (int i = 0; i < RST_DOL_CHECKS; i++) {
        free(r->checks[i].detail);
        for (size_t k = 0; k < r->checks[i].noffenders; k++) free(r->checks[i].offenders[k]);
    }
    free(r->entities);
    for (size_t i = 0; i < r->ntables; i++) free(r->tables[i].name);
    free(r->tables);
    memset(r, 0, sizeof *r);
}

static bool all_passed(const RstDolReport *r)
{
    for (int i = 0; i < RST_DOL_CHECKS; i++)
        if (!r->checks[i].ran || !r->checks[i].passed) return false;
    return true;
}

static const char *status(const RstDolCheck *ck)
{
    return !ck->ran ? "not run" : ck->passed ? "ok" : "failed";
}

/* json_string that accepts NULL (-> null) and bytes that are not UTF-8. */
static json_t *jstr(const char *s)
{
    return s ? json_stringn_nocheck(s, strlen(s)) : json_null();
}

static json_t *check_json(const RstDolCheck *ck)
{
    json_t *offs = json_array();

    for (size_t k = 0; offs && k < ck->noffenders; k++)
        json_array_append_new(offs, jstr(ck->offenders[k]));
    return json_pack("{s:s, s:s, s:I, s:I, s:o, s:o}", "name", ck->name, "status", status(ck),
                     "checked", (json_int_t)ck->checked, "failed", (json_int_t)ck->failed,
                     "detail", jstr(ck->detail), "offenders", offs ? offs : json_array());
}

json_t *rst_dol_report_json(const RstDolReport *r)
{
    json_t *checks = json_array(), *failed = json_array(), *ents = json_array(),
           *tabs = json_object();

    if (!checks || !failed || !ents || !tabs) goto fail;
    for (int i = 0; i < RST_DOL_CHECKS; i++) {
        if (json_array_append_new(checks, check_json(&r->checks[i]))) goto fail;
        if (r->checks[i].ran && !r->checks[i].passed)
            json_array_append_new(failed, json_string(r->checks[i].name));
    }
    for (size_t i = 0; i < r->nentities; i++)
        json_array_append_new(ents, json_pack("{s:I, s:I, s:I}", "entity",
                                              (json_int_t)r->entities[i].entity, "files",
                                              (json_int_t)r->entities[i].files, "failed",
                                              (json_int_t)r->entities[i].failed));
    for (size_t i = 0; i < r->ntables; i++)
        json_object_set_new(tabs, r->tables[i].name, json_integer((json_int_t)r->tables[i].rows));
    return json_pack("{s:o, s:o, s:o, s:s, s:o, s:{s:o, s:o, s:o, s:o, s:b}, s:o, s:o, s:o, "
                     "s:I, s:I, s:I, s:f}",
                     "database", jstr(r->database), "data_root", jstr(r->data_root), "db_prefix",
                     jstr(r->db_prefix), "verdict", all_passed(r) ? "verified" : "failed",
                     "failed", failed, "version", "first_install", jstr(r->versions.first_install),
                     "last_install", jstr(r->versions.last_install), "last_upgrade",
                     jstr(r->versions.last_upgrade), "effective",
                     jstr(rst_dol_version_effective(&r->versions)), "not_installed",
                     r->versions.not_installed, "checks", checks, "entities", ents, "tables", tabs,
                     "rows_total", (json_int_t)r->rows_total, "ecm_bytes",
                     (json_int_t)r->ecm_bytes, "ecm_unhashed", (json_int_t)r->ecm_unhashed,
                     "seconds", r->seconds);
fail:
    json_decref(checks);
    json_decref(failed);
    json_decref(ents);
    json_decref(tabs);
    return NULL;
}

void rst_dol_report_print(const RstDolReport *r, FILE *f)
{
    bool ok = all_passed(r);

    fprintf(f, "dolibarr: database %s (prefix %s), documents %s\n", r->database ? r->database : "-",
            r->db_prefix ? r->db_prefix : "-", r->data_root ? r->data_root : "-");
    for (int i = 0; i < RST_DOL_CHECKS; i++) {
        const RstDolCheck *ck = &r->checks[i];
        fprintf(f, "  %-13s %-7s %s\n", ck->name, !ck->ran ? "NOT RUN" : ck->passed ? "OK" : "FAILED",
                ck->detail ? ck->detail : "");
        for (size_t k = 0; k < ck->noffenders; k++) fprintf(f, "      %s\n", ck->offenders[k]);
        if (ck->failed > ck->noffenders)
            fprintf(f, "      ... and %llu more\n", (unsigned long long)(ck->failed - ck->noffenders));
    }
    if (r->nentities > 1 || (r->nentities == 1 && r->entities[0].entity > 1))
        for (size_t i = 0; i < r->nentities; i++)
            fprintf(f, "  entity %ld: %llu files, %llu failed\n", r->entities[i].entity,
                    (unsigned long long)r->entities[i].files,
                    (unsigned long long)r->entities[i].failed);
    fprintf(f, "  tables: %zu, %llu rows (--json lists each)\n", r->ntables,
            (unsigned long long)r->rows_total);
    fprintf(f, "verdict: %s (%.1f s)\n", ok ? "OK, every Dolibarr check passed" : "FAILED", r->seconds);
}
