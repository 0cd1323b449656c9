/* s3_conf.c: the S3 driver's settings: the repository URL
 * ("s3:https://ENDPOINT/BUCKET[/PREFIX]"), the caller's settings
 * (StoS3Options: the config file's [repository] s3_* keys) and, for each
 * one the caller leaves unset, the environment (AWS_* and TIDEMARK_S3_*,
 * documented in docs/OPERATIONS.md), then the shared AWS credentials file.
 * Invariant: secrets live only in sodium_malloc'd memory, are wiped by
 * s3_conf_free, and no message here ever prints one (nor the URL's userinfo,
 * which is refused). */
#include <errno.h>
#include <ini.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/common/secret.h"
#include "storage-backends/s3/s3_int.h"
#include "storage-backends/storage.h"

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static const char *env2(const char *a, const char *b)
{
    const char *v = env(a);
    return v ? v : env(b);
}

/* One setting: the caller's value (named by its config key in messages),
 * else the environment variable (named by itself). */
typedef struct Setting {
    const char *v;
    const char *name;
} Setting;

static Setting pick(const char *given, const char *key, const char *var)
{
    Setting s = {NULL, var};
    if (given && *given) {
        s.v = given;
        s.name = key;
    } else {
        s.v = env(var);
    }
    return s;
}

#define OPT(o, field) ((o) ? (o)->field : NULL)
#define SET(o, field, var) pick(OPT(o, field), "s3_" #field, var)

static int set_long(Setting s, long lo, long hi, long def, long *out, Err *err)
{
    char *end;
    long x;
    if (!s.v) {
        *out = def;
        return 0;
    }
    errno = 0;
    x = strtol(s.v, &end, 10);
    if (errno || end == s.v || *end || x < lo || x > hi)
        return err_set(err, ERR_INVALID, "%s='%.40s': expected a whole number from %ld to %ld", s.name, s.v, lo, hi);
    *out = x;
    return 0;
}

/* Sizes accept a K, M or G suffix (powers of 1024). */
static int set_size(Setting s, size_t lo, size_t hi, size_t def, size_t *out, Err *err)
{
    char *end;
    unsigned long long x;
    if (!s.v) {
        *out = def;
        return 0;
    }
    errno = 0;
    x = strtoull(s.v, &end, 10);
    if (*end == 'K' || *end == 'k') { x <<= 10; end++; }
    else if (*end == 'M' || *end == 'm') { x <<= 20; end++; }
    else if (*end == 'G' || *end == 'g') { x <<= 30; end++; }
    if (errno || end == s.v || *end || x < lo || x > hi)
        return err_set(err, ERR_INVALID, "%s='%.40s': expected a size from %zu to %zu bytes (K, M, G suffixes allowed)",
                       s.name, s.v, lo, hi);
    *out = (size_t)x;
    return 0;
}

static bool set_flag(Setting s)
{
    return s.v && (strcmp(s.v, "1") == 0 || strcmp(s.v, "true") == 0 || strcmp(s.v, "yes") == 0 || strcmp(s.v, "on") == 0);
}

typedef struct CredFile {
    const char *profile;
    char *id, *secret, *token;   /* secret and token sodium_malloc'd */
    bool oom;
} CredFile;

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
    CredFile *cf = user;
    char **slot = NULL;
    bool secret = true;
    if (strcmp(section, cf->profile) != 0) return 1;
    if (strcmp(name, "aws_access_key_id") == 0) { slot = &cf->id; secret = false; }
    else if (strcmp(name, "aws_secret_access_key") == 0) slot = &cf->secret;
    else if (strcmp(name, "aws_session_token") == 0) slot = &cf->token;
    if (!slot) return 1;
    if (secret) secret_free(*slot);
    else free(*slot);
    *slot = secret ? secret_dup(value) : strdup(value);
    if (!*slot) cf->oom = true;
    return 1;
}

/* A secret kept in a file (the config's s3_secret_access_key_file): the
 * one secret reader; a missing or empty file is a config error naming the
 * file and the key or variable, never the content. */
static int secret_from_file(Setting s, char **out, Err *err)
{
    int rc = secret_file_read(s.v, s.name, out, NULL, err);
    if (rc) err_wrap(err, "S3 credentials");
    return rc;
}

/* Credentials: TIDEMARK_S3_* first (a secret either in the variable or in
 * the file TIDEMARK_S3_SECRET_ACCESS_KEY_FILE names), then AWS_* variables,
 * then the shared credentials file. */
static int load_credentials(S3 *s3, const StoS3Options *o, Err *err)
{
    const char *id = OPT(o, access_key_id) && *o->access_key_id ? o->access_key_id
                                                                 : env2("TIDEMARK_S3_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID");
    const char *sec = env("TIDEMARK_S3_SECRET_ACCESS_KEY");
    Setting sec_file = sec ? (Setting){NULL, NULL}
                           : SET(o, secret_access_key_file, "TIDEMARK_S3_SECRET_ACCESS_KEY_FILE");
    const char *tok = env("TIDEMARK_S3_SESSION_TOKEN");
    Setting tok_file = tok ? (Setting){NULL, NULL} : SET(o, session_token_file, "TIDEMARK_S3_SESSION_TOKEN_FILE");
    Setting profile = SET(o, profile, "AWS_PROFILE");
    CredFile cf = { 0 };
    char path[4096];
    const char *file = SET(o, credentials_file, "AWS_SHARED_CREDENTIALS_FILE").v, *home = env("HOME");
    FILE *f;
    int rc = 0;

    if (!sec && !sec_file.v) sec = env("AWS_SECRET_ACCESS_KEY");
    if (!tok && !tok_file.v) tok = env("AWS_SESSION_TOKEN");
    if (id || sec || sec_file.v) {
        if (!id)
            return err_set(err, ERR_AUTH, "S3 credentials: a secret key is set but AWS_ACCESS_KEY_ID is not "
                           "(nor s3_access_key_id in the config)");
        if (!sec && !sec_file.v)
            return err_set(err, ERR_AUTH, "S3 credentials: access key id %s is set but AWS_SECRET_ACCESS_KEY is not "
                           "(nor s3_secret_access_key_file in the config)", id);
        if (!(s3->access_key = strdup(id))) return err_set(err, ERR_NOMEM, "out of memory");
        if (sec_file.v) {
            if ((rc = secret_from_file(sec_file, &s3->secret_key, err))) return rc;
        } else if (!(s3->secret_key = secret_dup(sec))) {
            return err_set(err, ERR_NOMEM, "out of memory");
        }
        if (tok_file.v) return secret_from_file(tok_file, &s3->session_token, err);
        if (tok && !(s3->session_token = secret_dup(tok))) return err_set(err, ERR_NOMEM, "out of memory");
        return 0;
    }
    if (file) snprintf(path, sizeof path, "%s", file);
    else if (home) snprintf(path, sizeof path, "%s/.aws/credentials", home);
    else path[0] = '\0';
    cf.profile = profile.v ? profile.v : "default";
    f = path[0] ? fopen(path, "r") : NULL;
    if (!f) {
        if (file) return err_sys(err, errno, "S3 credentials file %s (AWS_SHARED_CREDENTIALS_FILE)", path);
        return err_set(err, ERR_AUTH, "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                       "or write them to %s (profile [%s])", path[0] ? path : "~/.aws/credentials", cf.profile);
    }
    if (ini_parse_file(f, on_ini, &cf) < 0) rc = err_set(err, ERR_INVALID, "S3 credentials file %s: cannot parse it", path);
    fclose(f);
    if (rc) goto out;
    if (cf.oom) { rc = err_set(err, ERR_NOMEM, "out of memory"); goto out; }
    if (!cf.id || !cf.secret) {
        rc = err_set(err, ERR_AUTH, "S3 credentials file %s: profile [%s] lacks aws_access_key_id or aws_secret_access_key",
                     path, cf.profile);
        goto out;
    }
    s3->access_key = cf.id;
    s3->secret_key = cf.secret;
    s3->session_token = cf.token;
    cf.id = cf.secret = cf.token = NULL;
out:
    free(cf.id);
    secret_free(cf.secret);
    secret_free(cf.token);
    return rc;
}

static bool bucket_name_ok(const char *b)
{
    size_t n = strlen(b);
    if (n < 3 || n > 63) return false;
    for (const char *p = b; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
              *p == '-' || *p == '_'))
            return false;
    return true;
}

static int parse_url(S3 *s3, const char *url, Err *err)
{
    const char *p = url + 3, *auth, *slash, *bend;   /* after "s3:" */
    size_t alen;
    char prefix[1024];

    if (strncmp(url, "s3:", 3) != 0) return err_set(err, ERR_INVALID, "not an s3: repository URL");
    if (strncmp(p, "https://", 8) == 0) s3->scheme = strdup("https");
    else if (strncmp(p, "http://", 7) == 0) s3->scheme = strdup("http");
    else
        return err_set(err, ERR_INVALID, "repository URL must look like s3:https://ENDPOINT/BUCKET[/PREFIX] "
                       "(s3:http:// for a local test endpoint)");
    if (!s3->scheme) return err_set(err, ERR_NOMEM, "out of memory");
    auth = strstr(p, "://") + 3;
    slash = strchr(auth, '/');
    alen = slash ? (size_t)(slash - auth) : strlen(auth);
    if (memchr(auth, '@', alen))
        return err_set(err, ERR_INVALID, "s3 repository URL: credentials in the URL are not accepted; "
                       "use AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a credentials file");
    if (alen == 0) return err_set(err, ERR_INVALID, "s3 repository URL has no endpoint host");
    if (strpbrk(url, "?#")) return err_set(err, ERR_INVALID, "s3 repository URL must not carry a query or fragment");
    if (!slash || !slash[1])
        return err_set(err, ERR_INVALID, "s3 repository URL names no bucket: expected s3:%s://%.*s/BUCKET[/PREFIX]",
                       s3->scheme, (int)alen, auth);
    s3->authority = strndup(auth, alen);
    bend = strchr(slash + 1, '/');
    s3->bucket = bend ? strndup(slash + 1, (size_t)(bend - slash - 1)) : strdup(slash + 1);
    if (!s3->authority || !s3->bucket) return err_set(err, ERR_NOMEM, "out of memory");
    if (!bucket_name_ok(s3->bucket))
        return err_set(err, ERR_INVALID, "s3 bucket name '%.80s' is not valid (3 to 63 of a-z 0-9 . -)", s3->bucket);
    prefix[0] = '\0';
    if (bend) {
        const char *b = bend, *e;
        Err kerr;
        while (*b == '/') b++;
        e = b + strlen(b);
        while (e > b && e[-1] == '/') e--;
        if ((size_t)(e - b) >= sizeof prefix - 1) return err_set(err, ERR_INVALID, "s3 prefix too long");
        memcpy(prefix, b, (size_t)(e - b));
        prefix[e - b] = '\0';
        if (prefix[0] && sto_key_check(prefix, &kerr))
            return err_set(err, ERR_INVALID, "s3 prefix '%.200s' is not valid: use [A-Za-z0-9._-] separated by '/'", prefix);
        if (prefix[0]) strcat(prefix, "/");
    }
    s3->prefix = strdup(prefix);
    if (!s3->prefix) return err_set(err, ERR_NOMEM, "out of memory");
    {
        size_t pl = strlen(s3->prefix);
        if (asprintf(&s3->location, "s3:%s://%s/%s%s%.*s", s3->scheme, s3->authority, s3->bucket, pl ? "/" : "",
                     pl ? (int)(pl - 1) : 0, s3->prefix) < 0) {
            s3->location = NULL;
            return err_set(err, ERR_NOMEM, "out of memory");
        }
    }
    return 0;
}

int s3_conf_load(S3 *s3, const char *url, const StoS3Options *o, Err *err)
{
    const char *region;
    Setting ca;
    long v;
    int rc;

    if ((rc = parse_url(s3, url, err))) return rc;
    region = SET(o, region, "TIDEMARK_S3_REGION").v;
    if (!region) region = env2("AWS_REGION", "AWS_DEFAULT_REGION");
    s3->region = strdup(region ? region : "us-east-1");
    if (!s3->region) return err_set(err, ERR_NOMEM, "out of memory");
    for (const char *p = s3->region; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return err_set(err, ERR_INVALID, "S3 region '%.40s' is not valid (like us-east-1)", s3->region);
    s3->virtual_host = set_flag(SET(o, virtual_host, "TIDEMARK_S3_VIRTUAL_HOST"));
    ca = SET(o, ca_file, "TIDEMARK_S3_CA_FILE");
    if (ca.v) {
        FILE *f = fopen(ca.v, "r");
        if (!f) return err_sys(err, errno, "%s %s", ca.name, ca.v);
        fclose(f);
        if (!(s3->ca_file = strdup(ca.v))) return err_set(err, ERR_NOMEM, "out of memory");
    }
    if ((rc = set_long(SET(o, connect_timeout, "TIDEMARK_S3_CONNECT_TIMEOUT"), 1, 600, 10, &s3->connect_timeout_s, err))) return rc;
    if ((rc = set_long(SET(o, low_speed_time, "TIDEMARK_S3_LOW_SPEED_TIME"), 1, 3600, 30, &s3->low_speed_time_s, err))) return rc;
    if ((rc = set_long(SET(o, low_speed_limit, "TIDEMARK_S3_LOW_SPEED_LIMIT"), 1, 1L << 30, 1024, &s3->low_speed_limit, err))) return rc;
    if ((rc = set_long(SET(o, max_retries, "TIDEMARK_S3_MAX_RETRIES"), 0, 100, 8, &v, err))) return rc;
    s3->max_tries = (int)v + 1;
    if ((rc = set_long(SET(o, retry_budget, "TIDEMARK_S3_RETRY_BUDGET"), 1, 86400, 300, &v, err))) return rc;
    s3->retry_budget_ms = v * 1000;
    if ((rc = set_long(SET(o, retry_base_ms, "TIDEMARK_S3_RETRY_BASE_MS"), 1, 60000, 250, &s3->backoff_base_ms, err))) return rc;
    if ((rc = set_long(SET(o, retry_max_ms, "TIDEMARK_S3_RETRY_MAX_MS"), 1, 600000, 20000, &s3->backoff_max_ms, err))) return rc;
    if (s3->backoff_max_ms < s3->backoff_base_ms) s3->backoff_max_ms = s3->backoff_base_ms;
    if ((rc = set_size(SET(o, multipart_threshold, "TIDEMARK_S3_MULTIPART_THRESHOLD"), 5u << 20, (size_t)5 << 30, 64u << 20, &s3->mp_threshold, err)))
        return rc;
    if ((rc = set_size(SET(o, part_size, "TIDEMARK_S3_PART_SIZE"), 5u << 20, (size_t)5 << 30, 16u << 20, &s3->mp_part_size, err))) return rc;
    if ((rc = set_long(SET(o, parallel, "TIDEMARK_S3_PARALLEL"), 1, 64, 4, &v, err))) return rc;
    s3->mp_parallel = (int)v;
    if ((rc = set_size(SET(o, read_cache, "TIDEMARK_S3_READ_CACHE"), 0, (size_t)4 << 30, 32u << 20, &s3->read_cache, err))) return rc;
    if ((rc = set_long(pick(NULL, NULL, "TIDEMARK_S3_CLOCK_OFFSET"), -86400 * 365, 86400 * 365, 0, &s3->clock_offset_s, err))) return rc;
    return load_credentials(s3, o, err);
}

void s3_conf_free(S3 *s3)
{
    free(s3->scheme);
    free(s3->authority);
    free(s3->bucket);
    free(s3->prefix);
    free(s3->region);
    free(s3->access_key);
    secret_free(s3->secret_key);
    secret_free(s3->session_token);
    free(s3->ca_file);
    free(s3->location);
}
