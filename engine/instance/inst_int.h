/* inst_int.h: what the files of engine/instance share (no other module
 * includes it). */
#ifndef TM_INSTANCE_INST_INT_H
#define TM_INSTANCE_INST_INT_H

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
};

/* ERR_INVALID "which instance? ..." for an Inst without an instance. */
int inst_need_name(const Inst *in, Err *err);
/* An instance key as a number (inst_uint) or a size (inst_size), def when unset. */
int inst_uint(const Inst *in, const char *key, uint64_t def, uint64_t *out, Err *err);
int inst_size(const Inst *in, const char *key, uint64_t def, uint64_t *out, Err *err);

#endif
