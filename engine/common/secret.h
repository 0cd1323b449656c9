/* secret.h: the one reader of secret files (repository passphrase, database
 * and S3 passwords): small, in sodium_malloc'd memory, wiped when freed.
 * Invariant: no message here holds the content, only the file's name and
 * the config key or option that named it. */
#ifndef TM_COMMON_SECRET_H
#define TM_COMMON_SECRET_H

#include <stddef.h>

#include "engine/common/err.h"

/* The largest secret file accepted, in bytes. */
#define SECRET_MAX 4096

/* Read the secret in path; what names where the path came from (a config
 * key such as "db_password_file", an option such as "--password-file", an
 * environment variable) and appears in every message. One trailing newline
 * ("\n" or "\r\n") is dropped; the rest is the secret, byte for byte. Warns
 * (log_warn) when the file is readable by group or others.
 * *out: NUL-terminated, sodium_malloc'd, free with secret_free; *out_len
 * (may be NULL) its length. Errors (nothing allocated then): ERR_INVALID for
 * a file that cannot be opened (a config error: "<what> <path>: <reason>"),
 * an empty file or one over SECRET_MAX bytes; ERR_IO for a read error;
 * ERR_NOMEM. */
int secret_file_read(const char *path, const char *what, char **out, size_t *out_len, Err *err);

/* Wipe and free a secret from secret_file_read or secret_dup (accepts NULL). */
void secret_free(char *s);

/* A sodium_malloc'd copy of s (NULL when out of memory); free with secret_free. */
char *secret_dup(const char *s);

#endif
