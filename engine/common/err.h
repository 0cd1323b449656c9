/* err.h: the error value every fallible function fills.
 * Set once where it happens (err_set/err_sys), each layer on the way up adds
 * what it was doing (err_wrap), printed once at the top. No allocation on the
 * error path: the message lives in a fixed buffer, oldest context last. */
#ifndef TM_COMMON_ERR_H
#define TM_COMMON_ERR_H

#include <stdbool.h>
#include <stddef.h>

typedef enum ErrCode {
    ERR_OK = 0,
    ERR_INVALID,     /* bad argument, bad config, bad user input */
    ERR_IO,          /* local I/O failed */
    ERR_NOTFOUND,    /* object, file, snapshot, key does not exist */
    ERR_EXISTS,      /* refusing to overwrite */
    ERR_AUTH,        /* wrong passphrase, failed authentication tag, bad credentials */
    ERR_CORRUPT,     /* data does not parse or does not hash to its id */
    ERR_NET,         /* network or remote service error */
    ERR_DB,          /* database server error */
    ERR_NOMEM,       /* allocation failed or a hard buffer limit was reached */
    ERR_NOSPACE,     /* disk full / quota */
    ERR_LOCKED,      /* repository locked by someone else */
    ERR_VERSION,     /* format newer than this binary understands */
    ERR_UNSUPPORTED, /* refused: the result could not be exact; exit 8 */
    ERR_INTERRUPTED, /* signal / user cancel */
    ERR_PERM,        /* permission denied */
    ERR_GAP,         /* binlog chain broken */
    ERR_VERIFY,      /* verification found a mismatch */
    ERR__COUNT
} ErrCode;

#define ERR_MSG_MAX 2048

typedef struct Err {
    int code;          /* ErrCode; ERR_OK when clear */
    int sys_errno;     /* errno at the origin, 0 if none */
    bool retryable;    /* a retry may succeed (network hiccup, 503, ...) */
    char msg[ERR_MSG_MAX];
} Err;

/* Clear *err to ERR_OK. */
void err_clear(Err *err);

/* Set the error (replacing any previous one). Returns code, so callers can
 * write `return err_set(err, ERR_INVALID, "bad value %s", v);`. */
int err_set(Err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Set the error from an errno value: the code is derived from errnum
 * (ENOENT -> ERR_NOTFOUND, ENOSPC/EDQUOT -> ERR_NOSPACE, EACCES/EPERM ->
 * ERR_PERM, ENOMEM -> ERR_NOMEM, else ERR_IO) and ": strerror" is appended. */
int err_sys(Err *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepend context ("what I was doing: ") to the current message. Returns the
 * current code (never ERR_OK: wrapping a clear Err sets ERR_IO, a caller bug
 * made visible). */
int err_wrap(Err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Short stable name of a code ("notfound", "auth", ...), for --json output. */
const char *err_code_name(int code);

/* Process exit code for an error code; see docs/OPERATIONS.md "Exit codes". */
int err_exit_code(int code);

#endif
