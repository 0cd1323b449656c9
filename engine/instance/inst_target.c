/* inst_target.c: the server a restore writes to: the instance's own, or
 * the one the command line names (restore db, verify-chain's scratch server).
 * Invariant: an explicit address replaces the instance's address entirely,
 * and the instance's password is never sent to it. */
#include <string.h>

#include "engine/common/secret.h"
#include "engine/instance/inst_int.h"

int inst_target_conn(Inst *in, const InstTarget *t, MdbConn *out, Err *err)
{
    const MdbConn *own = NULL;
    Err e2;
    bool have;
    int rc;

    err_clear(&e2);
    have = inst_db_conn(in, &own, &e2) == 0;
    if (have) *out = *own;
    else memset(out, 0, sizeof *out);
    if (t->host || t->socket || t->defaults_file) {
        /* an explicit target replaces the instance's address entirely */
        out->host = t->host;
        out->socket = t->socket;
        out->port = t->port;
        out->defaults_file = t->defaults_file;
        out->password = NULL;
        if (t->user) out->user = t->user;
    } else if (t->require_explicit) {
        return err_set(err, ERR_INVALID, "give the scratch server with --socket or --host (never the "
                       "production server: the replay may write to its binlog)");
    } else if (!have) {
        *err = e2;
        return err->code;
    } else {
        if (t->port) out->port = t->port;
        if (t->user) out->user = t->user;
    }
    if (t->password_file) {
        secret_free(in->target_secret);
        in->target_secret = NULL;
        if ((rc = secret_file_read(t->password_file, "--password-file", &in->target_secret, NULL, err)))
            return rc;
        out->password = in->target_secret;
    }
    return 0;
}
