/* dol_int.h: what the files of restore/dolibarr share: the run of the
 * checks (connection, names) and the helpers that fill a check. */
#ifndef TM_RESTORE_DOLIBARR_DOL_INT_H
#define TM_RESTORE_DOLIBARR_DOL_INT_H

#include <mysql.h>

#include "engine/common/buf.h"
#include "restore/dolibarr/rst_dolibarr.h"

typedef struct DolRun {
    MYSQL *m;               /* connected, the database selected */
    const char *prefix;     /* table prefix ("llx_") */
    const char *data_root;
    RstDolReport *rep;
} DolRun;

/* Append the quoted table name `<prefix><name>` to sql. */
int dol_table(const DolRun *run, Buf *sql, const char *name, Err *err);
/* Build "<before>`<prefix><name>`<after>" in sql (reset first). */
int dol_sql(const DolRun *run, Buf *sql, const char *before, const char *name, const char *after,
            Err *err);

/* Start check id (ran, passed until an offender says otherwise). */
RstDolCheck *dol_check_begin(RstDolReport *rep, RstDolCheckId id);
/* One more failed item: counted, and kept by name among the first
 * RST_DOL_OFFENDERS_MAX. ERR_NOMEM only. */
int dol_offender(RstDolCheck *ck, Err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Set the check's one-line summary (replacing any). ERR_NOMEM only. */
int dol_detail(RstDolCheck *ck, Err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The checks (dol_checks.c, dol_ecm.c). Each fills its RstDolCheck; a
 * non-zero return means it could not run (database error). */
int dol_check_version(DolRun *run, const RstDolExpect *expect, Err *err);
int dol_check_admin(DolRun *run, Err *err);
int dol_check_logos(DolRun *run, Err *err);
int dol_check_install_lock(DolRun *run, Err *err);
int dol_check_ecm(DolRun *run, Err *err);
/* Row counts of the prefix's base tables into rep->tables. */
int dol_table_counts(DolRun *run, const char *dbname, Err *err);

#endif
