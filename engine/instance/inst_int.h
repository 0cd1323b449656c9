/* inst_int.h: what the files of engine/instance share (no other module
 * includes it). */
#ifndef TM_INSTANCE_INST_INT_H
#define TM_INSTANCE_INST_INT_H

#include <mysql.h>

#include "engine/instance/inst.h"

struct Inst {
    const Conf *conf;        /* borrowed */
    const char *name;        /* borrowed; NULL: repository-only */
    RepoOptions repo_opts;
    StoS3Options s3;         /* strings borrowed from conf */
    char spool[1024];
    MdbConn db;            /* built by inst_db_conn */
    bool db_ready;
    char *db_secret;         /* db_password_file's content (sodium_malloc'd) */
    char *target_secret;     /* --password-file's content (sodium_malloc'd) */
    InstDolConf *dol;        /* conf_php's content, read on first use (inst_dolconf) */
    char *dol_secret;        /* its database password, decoded (sodium_malloc'd) */
    char from[8][1100];      /* where each INST_FROM_* value came from ("" unset) */
    char dol_alt[1024];      /* a single $dolibarr_main_document_root_alt */
};

/* The settings whose origin inst_sources reports (index of Inst.from). */
enum { INST_FROM_HOST, INST_FROM_PORT, INST_FROM_SOCKET, INST_FROM_USER, INST_FROM_PASSWORD,
       INST_FROM_DEFAULTS };

/* Fill what the config leaves unset of c from conf_php (inst_dolconf_use.c):
 * the address when no db_host, db_socket or db_defaults_file is set, the
 * account (user and its password) when no db_user is; records the origins
 * in in->from. */
int inst_dol_conn(Inst *in, MdbConn *c, Err *err);

/* ERR_INVALID "which instance? ..." for an Inst without an instance. */
int inst_need_name(const Inst *in, Err *err);
/* An instance key as a number (inst_uint) or a size (inst_size), def when unset. */
int inst_uint(const Inst *in, const char *key, uint64_t def, uint64_t *out, Err *err);
int inst_size(const Inst *in, const char *key, uint64_t def, uint64_t *out, Err *err);

/* ---- conf.php (inst_dolconf_scan.c) ---- */

/* One assignment found in a PHP file. var "" marks an include/require
 * (val_off/val_len: the keyword) that may assign anything. */
typedef struct InstDolAssign {
    char var[64];            /* the variable's name without '$' */
    size_t var_off;          /* offset of its '$' */
    size_t val_off, val_len; /* the value: the literal token, else the expression */
    unsigned line;           /* 1-based line of the '$' */
    char quote;              /* the literal's quote ('\'', '"'), 0 for a bare word or number */
    bool is_literal;         /* an unconditional top-level `$v = LITERAL;` */
} InstDolAssign;
typedef int (*InstDolAssignFn)(void *ctx, const InstDolAssign *a, Err *err);
/* Call fn for every assignment (and include) of the PHP text s[0..n),
 * in order; fn's non-zero return stops the scan and is returned. */
int inst_dol_scan(const char *s, size_t n, InstDolAssignFn fn, void *ctx, Err *err);
/* A literal token (as InstDolAssign gives it) decoded as PHP reads it:
 * *out malloc'd, NUL-terminated (*out_len without the NUL). */
int inst_dol_literal_decode(const char *s, size_t n, char quote, char **out, size_t *out_len, Err *err);

/* ---- conf.php password encodings (inst_dolconf_pass.c) ---- */

/* PHP's empty() of a string: "" and "0". */
bool inst_dol_php_empty(const char *s);
/* dol_decode(s) (key '1'): PHP's lenient base64, then every byte - 17. */
int inst_dol_decode(const char *s, char **out, Err *err);
/* dol_encode(s): every byte + 17, then base64. ERR_UNSUPPORTED unless s is
 * ASCII (Dolibarr counts characters with mb_strlen). */
int inst_dol_encode(const char *s, char **out, Err *err);
/* dolDecrypt("dolcrypt:CIPHER:IV:B64", key): ERR_AUTH when the result is not
 * ASCII (the wrong key), ERR_UNSUPPORTED for an unknown cipher. */
int inst_dol_decrypt(const char *s, const char *key, char **out, Err *err);
/* dolEncrypt(s, key) with AES-256-CTR and a random IV of 16 hex digits. */
int inst_dol_encrypt(const char *s, const char *key, char **out, Err *err);

/* ---- snapshot metadata (inst_backmeta.c) ---- */

/* The server's binlog point now (SHOW STATUS LIKE 'binlog_snapshot_%' outside
 * a transaction: no privilege needed): {"file","position","gtid"} (gtid:
 * BINLOG_GTID_POS of that position), or json null when log_bin is off.
 * *out a new reference. ERR_DB when a query fails. */
int inst_binlog_point(MYSQL *m, json_t **out, Err *err);
/* The Dolibarr version constants of db (PREFIXconst, entity 0, else the lowest):
 * {"database","prefix","first_install","last_install","last_upgrade"}, a
 * constant absent -> null. *out NULL (and 0) when db or the table does not
 * exist: not a Dolibarr database. */
int inst_dol_versions_read(MYSQL *m, const char *db, const char *prefix, json_t **out, Err *err);
#endif
