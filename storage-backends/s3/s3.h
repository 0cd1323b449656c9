/* s3.h: the S3-compatible storage driver (AWS SigV4 over libcurl).
 * Settings come from the environment (docs/OPERATIONS.md, "S3-compatible
 * storage"): AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
 * AWS_SHARED_CREDENTIALS_FILE + AWS_PROFILE, AWS_REGION/AWS_DEFAULT_REGION,
 * and the TIDEMARK_S3_* knobs (CA file, virtual-host style, timeouts,
 * retries, multipart threshold). */
#ifndef TM_STORAGE_S3_H
#define TM_STORAGE_S3_H

#include <stdint.h>

#include "storage-backends/storage.h"

/* url: "s3:https://ENDPOINT/BUCKET[/PREFIX]" (or http:// for loopback tests).
 * Credentials and other settings come from the environment (see
 * docs/OPERATIONS.md), never from the URL. Opening sends one signed
 * ListObjectsV2 to the bucket, so a wrong secret (ERR_AUTH), a missing bucket
 * (ERR_NOTFOUND), clock skew (ERR_AUTH, "clock skew"), an unreachable endpoint
 * (ERR_NET) or a server that is not S3 (ERR_INVALID) fail here. flags are
 * ignored: the bucket must exist (tidemark never creates buckets). */
int sto_s3_open_url(const char *url, unsigned flags, Sto **out, Err *err);

/* Counters of one open S3 storage, for reports and tests. */
typedef struct StoS3Stats {
    uint64_t requests;    /* HTTP exchanges tried, retries included */
    uint64_t retries;     /* exchanges repeated after a retryable failure */
    uint64_t failures;    /* operations that gave up after retrying */
    uint64_t bytes_up;    /* request bodies accepted by the server */
    uint64_t bytes_down;  /* response bodies received */
} StoS3Stats;

/* ERR_INVALID when sto is not an S3 storage. */
int sto_s3_stats(const Sto *sto, StoS3Stats *out);
/* Retries so far (0 for a storage of another kind). */
uint64_t sto_s3_retry_count(const Sto *sto);

#endif
