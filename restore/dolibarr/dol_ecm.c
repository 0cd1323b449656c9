/* dol_ecm.c: the llx_ecm_files check: every row's file exists under the
 * documents directory of its entity and its md5 equals the row's label.
 * Invariant: bounded memory: rows are read in pages of RST_DOL_ECM_PAGE by
 * rowid (no long-lived result set holds the server while files are hashed),
 * files are hashed as a stream (rst_dol_file_md5). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restore/dolibarr/dol_int.h"

typedef struct EcmTally {
    uint64_t missing, altered, other;
} EcmTally;

/* The entity's counters, inserted in order when new. */
static RstDolEntity *entity_slot(RstDolReport *rep, long entity, Err *err)
{
    size_t i = 0;

    while (i < rep->nentities && rep->entities[i].entity < entity) i++;
    if (i < rep->nentities && rep->entities[i].entity == entity) return &rep->entities[i];
    if (buf_grow(&rep->entities, &rep->entities_cap, rep->nentities + 1, sizeof *rep->entities,
                 1u << 16, err))
        return NULL;
    memmove(&rep->entities[i + 1], &rep->entities[i], (rep->nentities - i) * sizeof *rep->entities);
    rep->nentities++;
    rep->entities[i] = (RstDolEntity){.entity = entity};
    return &rep->entities[i];
}

/* Check one row; a problem with the file is an offender, not an error. */
static int ecm_row(DolRun *run, RstDolCheck *ck, EcmTally *t, long entity, const char *filepath,
                   const char *filename, const char *label, Err *err)
{
    char path[8192], hex[RST_DOL_MD5_HEX + 1], ent[32] = "";
    uint64_t size = 0;
    Err ferr = {0};
    RstDolEntity *es = entity_slot(run->rep, entity, err);
    uint64_t before = ck->failed;
    int rc = 0;

    if (!es) return err->code;
    ck->checked++;
    es->files++;
    if (entity > 1) snprintf(ent, sizeof ent, " (entity %ld)", entity);
    if (rst_dol_ecm_path(run->data_root, entity, filepath, filename, path, sizeof path, &ferr)) {
        t->other++;
        rc = dol_offender(ck, err, "%s/%s%s: %s", filepath, filename, ent, ferr.msg);
    } else if (rst_dol_file_md5(path, hex, &size, &ferr)) {
        if (ferr.code == ERR_NOTFOUND) t->missing++;
        else t->other++;
        rc = dol_offender(ck, err, "%s/%s%s: %s", filepath, filename, ent,
                          ferr.code == ERR_NOTFOUND ? "missing" : ferr.msg);
    } else {
        run->rep->ecm_bytes += size;
        if (!rst_dol_md5_valid(label)) {
            run->rep->ecm_unhashed++;   /* no md5 recorded: existence is all we can check */
        } else if (!rst_dol_md5_equal(hex, label)) {
            t->altered++;
            rc = dol_offender(ck, err, "%s/%s%s: md5 %s, label %s", filepath, filename, ent, hex,
                              label);
        }
    }
    if (ck->failed > before) es->failed++;
    return rc;
}

int dol_check_ecm(DolRun *run, Err *err)
{
    RstDolCheck *ck = dol_check_begin(run->rep, RST_DOL_CHECK_ECM);
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    unsigned long long last = 0;
    EcmTally t = {0};
    char after[160];
    Buf sql;
    int rc = 0;

    buf_init(&sql, 4096);
    for (;;) {
        size_t n = 0;
        snprintf(after, sizeof after, " WHERE rowid > %llu ORDER BY rowid LIMIT %d", last,
                 RST_DOL_ECM_PAGE);
        if ((rc = dol_sql(run, &sql, "SELECT rowid, entity, filepath, filename, label FROM ",
                          "ecm_files", after, err)) ||
            (rc = mdb_query(run->m, (const char *)sql.data, "read llx_ecm_files", &res, err)))
            goto out;
        while ((row = mysql_fetch_row(res))) {
            n++;
            last = strtoull(row[0], NULL, 10);
            if ((rc = ecm_row(run, ck, &t, row[1] ? strtol(row[1], NULL, 10) : 1,
                              row[2] ? row[2] : "", row[3] ? row[3] : "", row[4] ? row[4] : "",
                              err)))
                goto out;
        }
        mysql_free_result(res);
        res = NULL;
        if (n < RST_DOL_ECM_PAGE) break;
    }
    if (ck->passed)
        rc = dol_detail(ck, err, "%llu file%s, each with the md5 of its row%s",
                        (unsigned long long)ck->checked, ck->checked == 1 ? "" : "s",
                        run->rep->ecm_unhashed ? " (rows without an md5: existence only)" : "");
    else {
        char parts[160] = "";
        size_t len = 0;
        const uint64_t nums[] = {t.missing, t.altered, t.other};
        static const char *const what[] = {"missing", "md5 mismatch", "unreadable or bad path"};
        for (int i = 0; i < 3; i++)
            if (nums[i] && len < sizeof parts)
                len += (size_t)snprintf(parts + len, sizeof parts - len, "%s%llu %s",
                                        len ? ", " : "", (unsigned long long)nums[i], what[i]);
        rc = dol_detail(ck, err, "%llu of %llu files missing or altered: %s",
                        (unsigned long long)ck->failed, (unsigned long long)ck->checked, parts);
    }
out:
    mysql_free_result(res);
    buf_free(&sql);
    return rc;
}
