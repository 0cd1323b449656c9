/* rst_instance.h: restore a whole Dolibarr instance beside the original:
 * the database to a point (rst_pitr_restore) into a new database, the file
 * trees (documents, custom, conf.php) of the snapshot the database came
 * from into a new directory, conf.php rewritten for the copy, then the
 * Dolibarr checks (rst_dol_verify) on the copy. Not yet: --in-place,
 * fencing of the copy, rollback (issue 12, later steps).
 *
 * Invariants a user of this API relies on:
 *  1. Refusals come before anything is written: a target directory that
 *     exists and is not empty (ERR_EXISTS), a non-empty target database
 *     unless drop_existing (rst_pitr_restore's check, ERR_EXISTS).
 *  2. The verdict is OK only when every part was restored and verified: a
 *     part the snapshot lacks (documents, conf.php) is named in the report
 *     and the result is ERR_VERIFY, never 0.
 *  3. $dolibarr_main_instance_unique_id and $dolibarr_main_dolcrypt_key of
 *     the restored conf.php are the backed-up bytes (inst_dolconf_rewrite
 *     changes only the variables it is given).
 *  4. The repository's shared lock taken by rst_pitr_restore is held until
 *     r is closed, so the files of the plan's snapshot are read under it
 *     too (a prune cannot remove them in between). */
#ifndef TM_RESTORE_INSTANCE_RST_INSTANCE_H
#define TM_RESTORE_INSTANCE_RST_INSTANCE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "engine/common/err.h"
#include "engine/instance/inst.h"
#include "engine/repo/repo.h"
#include "restore/dolibarr/rst_dolibarr.h"
#include "restore/pitr/rst_pitr.h"

/* The parts of an instance, in the report's order. */
typedef enum RstInstPart {
    RST_INST_DOCUMENTS,   /* documents_dir ($dolibarr_main_data_root) */
    RST_INST_CUSTOM,      /* custom_dir ($dolibarr_main_document_root_alt) */
    RST_INST_CONF,        /* conf_php */
    RST_INST_PARTS
} RstInstPart;

/* The timed phases (seconds in RstInstReport.seconds). */
typedef enum RstInstPhase {
    RST_INST_PH_LOAD, RST_INST_PH_REPLAY, RST_INST_PH_FILES, RST_INST_PH_CONF, RST_INST_PH_VERIFY,
    RST_INST_PHASES
} RstInstPhase;

typedef struct RstInstRequest {
    RstPitrRestoreRequest pitr;   /* as for `restore db --to...`; pitr.run.target_db required,
                                     pitr.conn the target server (its host, port, user and
                                     password go into conf.php) */
    const char *target_dir;       /* the copy's directory (absent or empty) */
    const char *url_root;         /* $dolibarr_main_url_root of the copy; NULL keeps it */
} RstInstRequest;

typedef struct RstInstPartResult {
    bool configured;              /* the instance names this part */
    bool in_snapshot;             /* the snapshot holds its files item */
    bool restored;
    char path[1200];              /* where it is in the copy ("" when not restored) */
    uint64_t files, bytes;
} RstInstPartResult;

typedef struct RstInstReport {
    RstPitrRestoreReport pitr;    /* the database part (free with rst_inst_report_free) */
    RstInstPartResult parts[RST_INST_PARTS];
    bool conf_rewritten;
    InstDolPassEnc pass_enc;      /* how the rewritten password is stored */
    bool verified_ran;
    RstDolReport dol;             /* the Dolibarr checks of the copy */
    double seconds[RST_INST_PHASES];
    char missing[1024];           /* what the copy lacks, one line each ("" = nothing) */
    const char *verdict;          /* "verified", "incomplete", "failed", "refused" (static) */
} RstInstReport;

/* Restore instance in (its name, paths and db prefix) from r beside the
 * original, as req says. out is always initialised (free it with
 * rst_inst_report_free) and says how far the restore got. Returns 0 when
 * every part was restored and every check passed; ERR_VERIFY when a check
 * failed or a part is missing (out->missing names it); ERR_EXISTS for a
 * non-empty target directory or database (nothing written); ERR_INVALID
 * without a target database or directory; rst_pitr_restore's,
 * rst_files_restore's and rst_dol_verify's errors otherwise (the target
 * then holds what out says). */
int rst_inst_restore(Repo *r, Inst *in, const RstInstRequest *req, RstInstReport *out, Err *err);
void rst_inst_report_free(RstInstReport *rep);   /* accepts a zeroed report */

/* "documents", "custom", "conf_php"; "load", "replay", "files", "conf_php", "verify". */
const char *rst_inst_part_name(RstInstPart p);
const char *rst_inst_phase_name(RstInstPhase p);

/* The report as JSON (new reference): {"verdict","target_db","target_dir",
 * "snapshot","reached_gtid","parts":{name:{"in_snapshot","restored","path",
 * "files","bytes"}},"conf_php":{"rewritten","password"},"missing":[...],
 * "phases":{name:seconds},"database":<rst_pitr_report_json>,
 * "dolibarr":<rst_dol_report_json>}. */
json_t *rst_inst_report_json(const RstInstRequest *req, const RstInstReport *rep);
/* The report for a person: parts, phases, the checks, the verdict line. */
void rst_inst_report_print(const RstInstRequest *req, const RstInstReport *rep, FILE *f);

#endif
