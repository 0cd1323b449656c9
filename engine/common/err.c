/* err.c: Err helpers. Invariant: msg is always NUL-terminated, never grows
 * past ERR_MSG_MAX, and writing it never allocates. */
#include "engine/common/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void err_clear(Err *err)
{
    if (!err) return;
    err->code = ERR_OK;
    err->sys_errno = 0;
    err->retryable = false;
    err->msg[0] = '\0';
}

int err_set(Err *err, int code, const char *fmt, ...)
{
    va_list ap;
    if (!err) return code;
    err->code = code;
    err->sys_errno = 0;
    err->retryable = false;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

static int code_from_errno(int e)
{
    switch (e) {
    case ENOENT: case ENOTDIR: return ERR_NOTFOUND;
    case ENOSPC: case EDQUOT: case EFBIG: return ERR_NOSPACE;
    case EACCES: case EPERM: case EROFS: return ERR_PERM;
    case ENOMEM: return ERR_NOMEM;
    case EEXIST: return ERR_EXISTS;
    case EINTR: return ERR_INTERRUPTED;
    default: return ERR_IO;
    }
}

int err_sys(Err *err, int errnum, const char *fmt, ...)
{
    va_list ap;
    size_t n;
    int code = code_from_errno(errnum);
    if (!err) return code;
    err->code = code;
    err->sys_errno = errnum;
    err->retryable = (errnum == EINTR || errnum == EAGAIN);
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    n = strlen(err->msg);
    if (n < sizeof err->msg)
        snprintf(err->msg + n, sizeof err->msg - n, ": %s", strerror(errnum));
    return code;
}

int err_wrap(Err *err, const char *fmt, ...)
{
    char ctx[512];
    size_t cl, ml;
    va_list ap;
    if (!err) return ERR_IO;
    if (err->code == ERR_OK) err->code = ERR_IO;
    va_start(ap, fmt);
    vsnprintf(ctx, sizeof ctx, fmt, ap);
    va_end(ap);
    cl = strlen(ctx);
    ml = strlen(err->msg);
    if (cl + 2 >= sizeof err->msg) return err->code;
    if (cl + 2 + ml >= sizeof err->msg) ml = sizeof err->msg - cl - 3;
    memmove(err->msg + cl + 2, err->msg, ml);
    err->msg[cl + 2 + ml] = '\0';
    memcpy(err->msg, ctx, cl);
    err->msg[cl] = ':';
    err->msg[cl + 1] = ' ';
    return err->code;
}

static const char *const names[ERR__COUNT] = {
    [ERR_OK] = "ok", [ERR_INVALID] = "invalid", [ERR_IO] = "io",
    [ERR_NOTFOUND] = "notfound", [ERR_EXISTS] = "exists", [ERR_AUTH] = "auth",
    [ERR_CORRUPT] = "corrupt", [ERR_NET] = "net", [ERR_DB] = "db",
    [ERR_NOMEM] = "nomem", [ERR_NOSPACE] = "nospace", [ERR_LOCKED] = "locked",
    [ERR_VERSION] = "version", [ERR_UNSUPPORTED] = "unsupported",
    [ERR_INTERRUPTED] = "interrupted", [ERR_PERM] = "perm", [ERR_GAP] = "gap",
    [ERR_VERIFY] = "verify",
};

const char *err_code_name(int code)
{
    if (code < 0 || code >= ERR__COUNT || !names[code]) return "unknown";
    return names[code];
}

/* Exit codes: 0 ok, 1 generic failure, 2 usage/config (and a refusal to
 * overwrite: a non-empty target without --drop-existing / --overwrite), 3 repository or data
 * problem (corrupt, auth, version), 4 source or target unreachable (net, db),
 * 5 lock held, 6 verification failed / gap, 7 no space, 8 refused because the
 * result could not be exact (unsupported: the message names what and the ways
 * on), 130 interrupted. */
int err_exit_code(int code)
{
    switch (code) {
    case ERR_OK: return 0;
    case ERR_INVALID: case ERR_EXISTS: return 2;
    case ERR_AUTH: case ERR_CORRUPT: case ERR_VERSION: case ERR_NOTFOUND: return 3;
    case ERR_NET: case ERR_DB: return 4;
    case ERR_LOCKED: return 5;
    case ERR_VERIFY: case ERR_GAP: return 6;
    case ERR_NOSPACE: return 7;
    case ERR_UNSUPPORTED: return 8;
    case ERR_INTERRUPTED: return 130;
    default: return 1;
    }
}
