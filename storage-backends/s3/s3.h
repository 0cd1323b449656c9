/* s3.h: the S3-compatible storage driver (AWS SigV4 over libcurl).
 * Settings come from the caller (StoS3Options: the config's [repository]
 * s3_* keys) and, for each one the caller leaves unset, from the environment
 * (docs/OPERATIONS.md, "S3-compatible storage"): AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_SHARED_CREDENTIALS_FILE +
 * AWS_PROFILE, AWS_REGION/AWS_DEFAULT_REGION, and the TIDEMARK_S3_* knobs
 * (CA file, virtual-host style, timeouts, retries, multipart threshold). */
#ifndef TM_STORAGE_S3_H
#define TM_STORAGE_S3_H

#include <stdint.h>

#include "storage-backends/storage.h"

/* The caller's settings, as text (the driver checks ranges): each field is
 * a value or NULL, and NULL (or "") means "read the environment variable
 * named beside it", as the driver always did. Secrets pass only as the names
 * of files holding them. All strings borrowed for the open call. */
typedef struct StoS3Options {
    const char *region;                 /* TIDEMARK_S3_REGION, AWS_REGION, AWS_DEFAULT_REGION */
    const char *access_key_id;          /* TIDEMARK_S3_ACCESS_KEY_ID, AWS_ACCESS_KEY_ID */
    const char *secret_access_key_file; /* TIDEMARK_S3_SECRET_ACCESS_KEY_FILE */
    const char *session_token_file;     /* TIDEMARK_S3_SESSION_TOKEN_FILE */
    const char *credentials_file;       /* AWS_SHARED_CREDENTIALS_FILE */
    const char *profile;                /* AWS_PROFILE */
    const char *ca_file;                /* TIDEMARK_S3_CA_FILE */
    const char *virtual_host;           /* TIDEMARK_S3_VIRTUAL_HOST (1/true/yes/on) */
    const char *connect_timeout;        /* TIDEMARK_S3_CONNECT_TIMEOUT */
    const char *low_speed_time;         /* TIDEMARK_S3_LOW_SPEED_TIME */
    const char *low_speed_limit;        /* TIDEMARK_S3_LOW_SPEED_LIMIT */
    const char *max_retries;            /* TIDEMARK_S3_MAX_RETRIES */
    const char *retry_budget;           /* TIDEMARK_S3_RETRY_BUDGET */
    const char *retry_base_ms;          /* TIDEMARK_S3_RETRY_BASE_MS */
    const char *retry_max_ms;           /* TIDEMARK_S3_RETRY_MAX_MS */
    const char *multipart_threshold;    /* TIDEMARK_S3_MULTIPART_THRESHOLD */
    const char *part_size;              /* TIDEMARK_S3_PART_SIZE */
    const char *parallel;               /* TIDEMARK_S3_PARALLEL */
    const char *read_cache;             /* TIDEMARK_S3_READ_CACHE */
} StoS3Options;

/* sto_s3_open: url "s3:https://ENDPOINT/BUCKET[/PREFIX]" (or http:// for loopback
 * tests). Credentials and other settings come from o, else the environment (see
 * docs/OPERATIONS.md), never from the URL. Opening sends one signed
 * ListObjectsV2 to the bucket, so a wrong secret (ERR_AUTH), a missing bucket
 * (ERR_NOTFOUND), clock skew (ERR_AUTH, "clock skew"), an unreachable endpoint
 * (ERR_NET) or a server that is not S3 (ERR_INVALID) fail here. flags are
 * ignored: the bucket must exist (tidemark never creates buckets). o may
 * be NULL (environment only); a bad value given in o is ERR_INVALID naming
 * its config key (s3_parallel). */
int sto_s3_open(const char *url, unsigned flags, const StoS3Options *o, Sto **out, Err *err);

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
