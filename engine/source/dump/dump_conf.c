/* dump_conf.c: connection settings of an [instance NAME] section (keys in
 * engine/common/conf_keys.c, each also settable as TIDEMARK_DB_*).
 * Invariant: a password read from db_password_file lives only in the
 * returned secret, wiped by src_db_secret_free. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/source/dump/src_dump.h"

static int read_secret(const char *path, char **out, Err *err)
{
    FILE *f = NULL;
    char *s = NULL;
    size_t cap = 4096, n = 0;
    int rc = 0;

    f = fopen(path, "re");
    if (!f) return err_sys(err, errno, "open db_password_file %s", path);
    s = malloc(cap);
    if (!s) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    n = fread(s, 1, cap - 1, f);
    if (ferror(f)) {
        rc = err_sys(err, errno, "read db_password_file %s", path);
        goto out;
    }
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r')) n--;
    s[n] = '\0';
    *out = s;
    s = NULL;
out:
    if (s) {
        sodium_memzero(s, cap);
        free(s);
    }
    if (f) fclose(f);
    return rc;
}

void src_db_secret_free(char *secret)
{
    if (!secret) return;
    sodium_memzero(secret, strlen(secret));
    free(secret);
}

static int get_flag(const Conf *conf, const char *inst, const char *key, bool *out, Err *err)
{
    *out = false;
    if (!conf_get(conf, inst, key)) return 0;
    return conf_get_bool(conf, inst, key, out, err);
}

int src_db_conn_from_conf(const Conf *conf, const char *instance, MdbConn *out,
                          char **out_secret, Err *err)
{
    const char *pwfile;
    uint64_t port = 0;
    int rc;

    memset(out, 0, sizeof *out);
    *out_secret = NULL;
    out->host = conf_get(conf, instance, "db_host");
    out->socket = conf_get(conf, instance, "db_socket");
    out->user = conf_get(conf, instance, "db_user");
    out->defaults_file = conf_get(conf, instance, "db_defaults_file");
    out->defaults_group = conf_get(conf, instance, "db_defaults_group");
    out->tls_ca = conf_get(conf, instance, "db_tls_ca");
    out->tls_cert = conf_get(conf, instance, "db_tls_cert");
    out->tls_key = conf_get(conf, instance, "db_tls_key");
    if (conf_get(conf, instance, "db_port")) {
        rc = conf_get_uint(conf, instance, "db_port", &port, err);
        if (rc) return rc;
        if (port > 65535) return err_set(err, ERR_INVALID, "db_port %llu out of range",
                                         (unsigned long long)port);
        out->port = (unsigned)port;
    }
    if ((rc = get_flag(conf, instance, "db_tls", &out->tls, err))) return rc;
    if ((rc = get_flag(conf, instance, "db_tls_verify", &out->tls_verify, err))) return rc;
    pwfile = conf_get(conf, instance, "db_password_file");
    if (pwfile && *pwfile) {
        rc = read_secret(pwfile, out_secret, err);
        if (rc) return rc;
        out->password = *out_secret;
    } else {
        out->password = conf_get(conf, instance, "db_password");
    }
    if (!out->host && !out->socket && !out->defaults_file)
        return err_set(err, ERR_INVALID,
                       "instance %s: no database connection configured (set db_socket, db_host "
                       "or db_defaults_file)",
                       instance ? instance : "(none)");
    return 0;
}
