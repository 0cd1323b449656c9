/* rst_dolibarr.h: the Dolibarr checks of a database and its documents
 * directory (a restored copy, a drill's throw-away instance or the live
 * instance): the version constants, an active admin user, every
 * llx_ecm_files row's file with its md5, the company logo files,
 * install.lock, and the row count of every table, as one report (text and
 * JSON). The base of `tidemark verify instance` and of the drills.
 *
 * Invariants a user of this API relies on:
 *  1. Nothing is written: the database is only read (SELECT), files are only
 *     opened for reading.
 *  2. Memory is bounded whatever the instance's size: llx_ecm_files is read
 *     in pages of RST_DOL_ECM_PAGE rows, files are hashed as a stream.
 *  3. A path built from the database never leaves the data root (absolute
 *     paths and ".." components are refused, the row counts as failed). */
#ifndef TM_RESTORE_DOLIBARR_RST_DOLIBARR_H
#define TM_RESTORE_DOLIBARR_RST_DOLIBARR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/common/err.h"
#include "engine/mariadb/mdb.h"

/* Offenders a check keeps by name (the count goes on). */
#define RST_DOL_OFFENDERS_MAX 10
/* llx_ecm_files rows read per query. */
#define RST_DOL_ECM_PAGE 1000
/* Characters of an md5 in hex. */
#define RST_DOL_MD5_HEX 32

/* The version constants of llx_const (entity 0). NULL: the row is absent. */
typedef struct RstDolVersions {
    char *first_install;   /* MAIN_VERSION_FIRST_INSTALL */
    char *last_install;    /* MAIN_VERSION_LAST_INSTALL */
    char *last_upgrade;    /* MAIN_VERSION_LAST_UPGRADE (absent when never upgraded) */
    bool not_installed;    /* MAIN_NOT_INSTALLED present: an unfinished install */
} RstDolVersions;

/* The schema version: last_upgrade when set, else last_install (borrowed;
 * NULL when neither is). */
const char *rst_dol_version_effective(const RstDolVersions *v);
void rst_dol_versions_free(RstDolVersions *v);   /* the strings; accepts NULL */

/* What the backed-up instance had (strings borrowed). Per field: NULL = not
 * compared; "" = the constant must be absent; else it must be equal. */
typedef struct RstDolExpect {
    const char *first_install, *last_install, *last_upgrade;
    const char *version;   /* the effective version (rst_dol_version_effective) */
} RstDolExpect;

typedef enum RstDolCheckId {
    RST_DOL_CHECK_VERSION,       /* "version" */
    RST_DOL_CHECK_ADMIN,         /* "admin": at least one llx_user with admin=1, statut=1 */
    RST_DOL_CHECK_ECM,           /* "ecm_files": every row's file exists, md5 == label */
    RST_DOL_CHECK_LOGOS,         /* "logos": the MAIN_INFO_SOCIETE_LOGO* files exist */
    RST_DOL_CHECK_INSTALL_LOCK,  /* "install_lock": DATA_ROOT/install.lock exists */
    RST_DOL_CHECKS
} RstDolCheckId;

/* One check's result. */
typedef struct RstDolCheck {
    const char *name;            /* static */
    bool ran;                    /* false: not reached (an error stopped the run) */
    bool passed;
    uint64_t checked;            /* items looked at (rows, files, constants) */
    uint64_t failed;             /* items that failed */
    char *detail;                /* malloc'd one-line summary, or NULL */
    size_t noffenders;           /* <= RST_DOL_OFFENDERS_MAX */
    char *offenders[RST_DOL_OFFENDERS_MAX];   /* malloc'd "what: why", the first ones */
} RstDolCheck;

/* llx_ecm_files per entity (multi-company: entity N > 1 under DATA_ROOT/N/). */
typedef struct RstDolEntity {
    long entity;
    uint64_t files, failed;
} RstDolEntity;

typedef struct RstDolTableCount {
    char *name;
    uint64_t rows;
} RstDolTableCount;

/* The whole report; zero it before rst_dol_verify, free with
 * rst_dol_report_free. */
typedef struct RstDolReport {
    char *database, *data_root, *db_prefix;   /* copies of the arguments */
    RstDolVersions versions;
    RstDolCheck checks[RST_DOL_CHECKS];
    RstDolEntity *entities;                   /* ascending entity */
    size_t nentities, entities_cap;
    RstDolTableCount *tables;                 /* the prefix's base tables, by name */
    size_t ntables, tables_cap;
    uint64_t rows_total;
    uint64_t ecm_bytes;                       /* bytes hashed */
    uint64_t ecm_unhashed;                    /* rows whose label holds no md5: existence only */
    double seconds;
} RstDolReport;

/* Run every check on database dbname of the server c (connected here,
 * read-only, utf8mb4) whose tables start with db_prefix (NULL: "llx_")
 * and on the documents directory data_root (DOL_DATA_ROOT). expect (may be
 * NULL): the version constants to compare. out (zeroed by the caller) is
 * filled as far as the run got, also on error; the caller frees it.
 * Returns 0 when every check passed; ERR_VERIFY when one failed, err naming
 * each failed check ("dolibarr checks failed: ecm_files (2 of 114 files
 * missing or altered), logos (...)"); ERR_NOTFOUND when a check cannot run
 * (the database, llx_const, llx_user or llx_ecm_files missing: "not a
 * Dolibarr database"), naming it; mdb_connect's codes; ERR_DB for a failed
 * query; ERR_INVALID for a missing argument. */
int rst_dol_verify(const MdbConn *c, const char *dbname, const char *db_prefix,
                   const char *data_root, const RstDolExpect *expect, RstDolReport *out,
                   Err *err);
/* Free what out holds and zero it (accepts NULL). */
void rst_dol_report_free(RstDolReport *out);

/* The report as JSON (new reference, NULL when out of memory):
 * {"database","data_root","db_prefix","verdict":"verified"|"failed",
 *  "failed":[names],"version":{...,"effective"},"checks":[{"name","status":
 *  "ok"|"failed"|"not run","checked","failed","detail","offenders":[...]}],
 *  "entities":[{"entity","files","failed"}],"tables":{name:rows},
 *  "rows_total","ecm_bytes","ecm_unhashed","seconds"}. */
json_t *rst_dol_report_json(const RstDolReport *r);
/* The report for a person: one line per check, its offenders indented, a
 * verdict line. */
void rst_dol_report_print(const RstDolReport *r, FILE *f);

/* ---- pure parts (dol_ecm.c), also used by restore and drills ------------- */

/* The root of entity's documents: data_root for entity <= 1, data_root/N
 * for entity N > 1. Writes into out (cap bytes). ERR_INVALID when it does
 * not fit. */
int rst_dol_entity_root(const char *data_root, long entity, char *out, size_t cap, Err *err);
/* The file of an llx_ecm_files row: Dolibarr stores filepath relative to
 * DOL_DATA_ROOT, so an entity N > 1 row's filepath starts with "N/"
 * (data_root/filepath/filename); a row of entity N > 1 whose filepath does
 * not is taken relative to that entity's root (data_root/N/filepath/
 * filename). Either way the file of entity N is under DATA_ROOT/N/.
 * ERR_INVALID for an absolute filepath, a ".." component, an empty
 * filename or one holding '/', or a path longer than cap. */
int rst_dol_ecm_path(const char *data_root, long entity, const char *filepath,
                     const char *filename, char *out, size_t cap, Err *err);
/* The md5 of a file's content (libcrypto EVP, streamed through a fixed
 * buffer) as 32 lowercase hex digits plus NUL in hex; *out_size: its
 * bytes (may be NULL). ERR_NOTFOUND when it does not exist, ERR_INVALID
 * when it is not a regular file, else err_sys's codes. */
int rst_dol_file_md5(const char *path, char hex[RST_DOL_MD5_HEX + 1], uint64_t *out_size,
                     Err *err);
/* Is label an md5 (32 hex digits, any case)? */
bool rst_dol_md5_valid(const char *label);
/* Do an md5 in hex and a label name the same digest (case-insensitive)? */
bool rst_dol_md5_equal(const char *hex, const char *label);

#endif
