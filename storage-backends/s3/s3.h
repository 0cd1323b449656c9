/* s3.h: the S3-compatible storage driver (AWS SigV4 over libcurl). */
#ifndef TM_STORAGE_S3_H
#define TM_STORAGE_S3_H

#include "storage-backends/storage.h"

/* url: "s3:https://ENDPOINT/BUCKET[/PREFIX]" (or http:// for loopback tests).
 * Credentials and other settings come from the environment (see
 * docs/OPERATIONS.md), never from the URL. */
int sto_s3_open_url(const char *url, unsigned flags, Sto **out, Err *err);

#endif
