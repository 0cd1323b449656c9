/* inst_conf.c: config -> the instance's options, built once: repository
 * options, S3 settings (no setenv), state and spool directories, the
 * database connection and the follower's settings.
 * Invariant: every string an accessor returns points into the Conf or the
 * Inst; the only secrets (db_password_file, --password-file) live in
 * sodium_malloc'd memory owned by the Inst and are wiped by inst_free. */
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/common/secret.h"
#include "engine/instance/inst_int.h"

const char *inst_pick(const Conf *conf, const char *local, const char *global, Err *err)
{
    const char *const *names;
    if (local) return local;
    if (global) return global;
    if (conf && conf_instances(conf, &names) == 1) return names[0];
    err_set(err, ERR_INVALID, "which instance? give --instance NAME");
    return NULL;
}

/* When the config declares instances, name must be one of them: a typo must
 * not read as "nothing archived, all is well" (inst.h). */
int inst_check_name(const Conf *conf, const char *name, Err *err)
{
    const char *const *names;
    size_t n = conf ? conf_instances(conf, &names) : 0;
    char known[600];
    size_t k = 0;
    if (!name || n == 0) return 0;
    known[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], name) == 0) return 0;
        if (k < sizeof known)
            k += (size_t)snprintf(known + k, sizeof known - k, "%s%s", i ? ", " : "", names[i]);
    }
    return err_set(err, ERR_INVALID, "instance '%s' is not in the config (its instances: %s)", name,
                   known);
}

size_t inst_names(const Conf *conf, const char *const **out)
{
    return conf_instances(conf, out);
}

static int repo_options_build(const Conf *conf, RepoOptions *o, Err *err)
{
    uint64_t v;
    int rc;
    repo_options_default(o);
    if ((rc = conf_get_uint(conf, NULL, "compression_level", &v, err))) return rc;
    if (v > 19) return err_set(err, ERR_INVALID, "compression_level must be 0..19");
    o->zstd_level = (int)v;
    if ((rc = conf_get_uint(conf, NULL, "workers", &v, err))) return rc;
    if (v < 1 || v > 64) return err_set(err, ERR_INVALID, "workers must be 1..64");
    o->workers = (unsigned)v;
    if ((rc = conf_get_size(conf, NULL, "pack_size", &v, err))) return rc;
    if (v < (1u << 20) || v > (256u << 20)) return err_set(err, ERR_INVALID, "pack_size must be 1M..256M");
    o->pack_size = (size_t)v;
    return 0;
}

/* A [repository] s3_* key as the driver's setting: its value when the file
 * gives it; NULL when its environment variable gives it (conf_get returns
 * that first), so the driver reads the variable as it always did and a
 * message names the variable, not the key. */
static const char *s3_value(const Conf *conf, const char *key)
{
    const char *v = conf_get(conf, NULL, key), *e;
    for (const ConfKey *k = conf_keys; k->name; k++) {
        if (k->section != CONF_SEC_REPOSITORY || strcmp(k->name, key) != 0 || !k->env) continue;
        e = getenv(k->env);
        if (v && e && strcmp(e, v) == 0) return NULL;
    }
    return v;
}

/* The [repository] s3_* keys as the driver's settings (no setenv). */
static void s3_options_build(const Conf *conf, StoS3Options *o)
{
#define S3KEY(field) o->field = s3_value(conf, "s3_" #field)
    memset(o, 0, sizeof *o);
    S3KEY(region);
    S3KEY(access_key_id);
    S3KEY(secret_access_key_file);
    S3KEY(session_token_file);
    S3KEY(credentials_file);
    S3KEY(profile);
    S3KEY(ca_file);
    S3KEY(virtual_host);
    S3KEY(connect_timeout);
    S3KEY(low_speed_time);
    S3KEY(low_speed_limit);
    S3KEY(max_retries);
    S3KEY(retry_budget);
    S3KEY(retry_base_ms);
    S3KEY(retry_max_ms);
    S3KEY(multipart_threshold);
    S3KEY(part_size);
    S3KEY(parallel);
    S3KEY(read_cache);
#undef S3KEY
}

static void spool_build(Inst *in)
{
    const char *v = conf_get(in->conf, in->name, "spool_dir");
    if (!v || !*v) v = getenv("TIDEMARK_SPOOL_DIR");
    if (v && *v) {
        snprintf(in->spool, sizeof in->spool, "%s", v);
        return;
    }
    v = conf_get(in->conf, NULL, "state_dir");
    snprintf(in->spool, sizeof in->spool, "%s/spool", v && *v ? v : "/var/lib/tidemark");
}

int inst_open(const Conf *conf, const char *name, Inst **out, Err *err)
{
    Inst *in = NULL;
    int rc;

    *out = NULL;
    if ((rc = inst_check_name(conf, name, err))) return rc;
    if (!(in = calloc(1, sizeof *in))) return err_set(err, ERR_NOMEM, "out of memory");
    in->conf = conf;
    in->name = name;
    if ((rc = repo_options_build(conf, &in->repo_opts, err))) goto out;
    s3_options_build(conf, &in->s3);
    if (name) spool_build(in);
    *out = in;
    in = NULL;
out:
    inst_free(in);
    return rc;
}

void inst_free(Inst *in)
{
    if (!in) return;
    secret_free(in->db_secret);
    secret_free(in->target_secret);
    secret_free(in->dol_secret);
    inst_dolconf_free(in->dol);
    free(in);
}

const char *inst_name(const Inst *in) { return in->name; }
const Conf *inst_conf(const Inst *in) { return in->conf; }
const RepoOptions *inst_repo_options(const Inst *in) { return &in->repo_opts; }
const StoS3Options *inst_s3_options(const Inst *in) { return &in->s3; }
const char *inst_repo_url(const Inst *in) { return conf_get(in->conf, NULL, "url"); }
const char *inst_spool_dir(const Inst *in) { return in->spool; }

const char *inst_state_dir(const Inst *in)
{
    const char *v = conf_get(in->conf, NULL, "state_dir");
    return v && *v ? v : NULL;
}

int inst_need_name(const Inst *in, Err *err)
{
    if (in->name) return 0;
    return err_set(err, ERR_INVALID, "which instance? give --instance NAME");
}

/* An instance key as an unsigned number, or def when unset. */
int inst_uint(const Inst *in, const char *key, uint64_t def, uint64_t *out, Err *err)
{
    *out = def;
    if (!conf_get(in->conf, in->name, key)) return 0;
    return conf_get_uint(in->conf, in->name, key, out, err);
}

int inst_size(const Inst *in, const char *key, uint64_t def, uint64_t *out, Err *err)
{
    *out = def;
    if (!conf_get(in->conf, in->name, key)) return 0;
    return conf_get_size(in->conf, in->name, key, out, err);
}

int inst_load_threads(const Inst *in, unsigned *out, Err *err)
{
    uint64_t u;
    int rc = inst_uint(in, "load_threads", 2, &u, err);
    if (!rc) *out = (unsigned)u;
    return rc;
}

static int get_flag(const Inst *in, const char *key, bool *out, Err *err)
{
    *out = false;
    if (!conf_get(in->conf, in->name, key)) return 0;
    return conf_get_bool(in->conf, in->name, key, out, err);
}

/* The db_password_file's secret, read once and kept. */
static int db_password(Inst *in, const char **out, Err *err)
{
    const char *pwfile = conf_get(in->conf, in->name, "db_password_file");
    int rc;
    *out = NULL;
    if (pwfile && *pwfile) {
        if (!in->db_secret && (rc = secret_file_read(pwfile, "password file", &in->db_secret, NULL, err)))
            return rc == ERR_INVALID ? conf_blame(in->conf, in->name, "db_password_file", err) : rc;
        *out = in->db_secret;
    } else {
        *out = conf_get(in->conf, in->name, "db_password");
    }
    return 0;
}

int inst_db_conn(Inst *in, const MdbConn **out, Err *err)
{
    const Conf *conf = in->conf;
    const char *name = in->name;
    MdbConn *c = &in->db;
    uint64_t port = 0;
    int rc;

    if (in->db_ready) {
        *out = c;
        return 0;
    }
    if ((rc = inst_need_name(in, err))) return rc;
    memset(c, 0, sizeof *c);
    c->host = conf_get(conf, name, "db_host");
    c->socket = conf_get(conf, name, "db_socket");
    c->user = conf_get(conf, name, "db_user");
    c->defaults_file = conf_get(conf, name, "db_defaults_file");
    c->defaults_group = conf_get(conf, name, "db_defaults_group");
    c->tls_ca = conf_get(conf, name, "db_tls_ca");
    c->tls_cert = conf_get(conf, name, "db_tls_cert");
    c->tls_key = conf_get(conf, name, "db_tls_key");
    if (conf_get(conf, name, "db_port")) {
        if ((rc = conf_get_uint(conf, name, "db_port", &port, err))) return rc;
        if (port > 65535)
            return err_set(err, ERR_INVALID, "db_port %llu out of range", (unsigned long long)port);
        c->port = (unsigned)port;
    }
    if ((rc = get_flag(in, "db_tls", &c->tls, err))) return rc;
    if ((rc = get_flag(in, "db_tls_verify", &c->tls_verify, err))) return rc;
    /* what the config leaves unset comes from conf_php */
    if ((rc = inst_dol_conn(in, c, err))) return rc;
    if (!c->host && !c->socket && !c->defaults_file)
        return err_set(err, ERR_INVALID,
                       "instance %s: no database connection configured (set db_socket, db_host, "
                       "db_defaults_file or conf_php)",
                       name);
    if (!c->password && (rc = db_password(in, &c->password, err))) return rc;
    in->db_ready = true;
    *out = c;
    return 0;
}

int inst_follow_options(Inst *in, BinlogFollowOpts *o, Err *err)
{
    const char *name = in->name;
    const MdbConn *db = NULL;
    uint64_t u;
    int rc;

    memset(o, 0, sizeof *o);
    if ((rc = inst_need_name(in, err))) return rc;
    o->instance = name;
    /* the dump's connection: socket/TCP, option file, TLS (one rule, mdb_connect) */
    if ((rc = inst_db_conn(in, &db, err))) return rc;
    o->db = *db;
    if ((rc = inst_uint(in, "binlog_server_id", 0, &u, err))) return rc;
    if (u == 0) {
        /* stable per instance, away from the small ids people hand out */
        unsigned char h[4];
        crypto_generichash(h, sizeof h, (const unsigned char *)name, strlen(name), NULL, 0);
        u = 1000000000u + ((uint32_t)h[0] << 16 | (uint32_t)h[1] << 8 | h[2]) % 1000000u;
    }
    o->server_id = (uint32_t)u;
    if ((rc = inst_uint(in, "binlog_flush_seconds", 5, &u, err))) return rc;
    o->flush_seconds = (unsigned)u;
    if ((rc = inst_size(in, "binlog_flush_bytes", 16u << 20, &o->flush_bytes, err))) return rc;
    if ((rc = inst_uint(in, "binlog_compact_entries", 256, &u, err))) return rc;
    if (u == 0 || u > 1000000)
        return err_set(err, ERR_INVALID, "binlog_compact_entries must be 1..1000000, got %" PRIu64, u);
    o->compact_entries = (unsigned)u;
    if ((rc = inst_size(in, "spool_max", 1ull << 30, &o->spool_max, err))) return rc;
    o->spool_dir = in->spool;
    return 0;
}
