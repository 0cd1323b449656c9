/* inst_dolconf_use.c: an instance described by its conf.php: what the
 * config leaves unset (database address and account, the databases to
 * dump, documents_dir, custom_dir) is read from conf_php, and where every
 * value came from is kept so that status and `instance show` can say it.
 * Invariant: an explicit key of the config always wins; conf.php's password
 * is only ever sent with conf.php's user. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/common/secret.h"
#include "engine/instance/inst_int.h"

int inst_dolconf(Inst *in, const InstDolConf **out, Err *err)
{
    const char *path = in->name ? conf_get(in->conf, in->name, "conf_php") : NULL;
    int rc;
    *out = NULL;
    if (!path || !*path) return 0;
    if (!in->dol && (rc = inst_dolconf_read(path, &in->dol, err)))
        return rc == ERR_NOMEM ? rc : conf_blame(in->conf, in->name, "conf_php", err);
    *out = in->dol;
    return 0;
}

/* A conf.php value (NULL: unset, or no conf_php); its origin in from. */
static int dol_value(Inst *in, InstDolVar v, const char **out, char *from, size_t cap, Err *err)
{
    const InstDolConf *d = NULL;
    unsigned line = 0;
    int rc;
    *out = NULL;
    if ((rc = inst_dolconf(in, &d, err)) || !d) return rc;
    if ((rc = inst_dolconf_get(d, v, out, &line, err))) return rc;
    if (*out && from) snprintf(from, cap, "%s:%u", d->path, line);
    return 0;
}

static void mark_config(Inst *in, int which, const char *key)
{
    if (conf_get(in->conf, in->name, key)) snprintf(in->from[which], sizeof in->from[which], "config %s", key);
}

int inst_dol_conn(Inst *in, MdbConn *c, Err *err)
{
    const char *host = NULL, *port = NULL, *user = NULL;
    int rc;

    for (int i = 0; i < 8; i++) in->from[i][0] = '\0';
    mark_config(in, INST_FROM_HOST, "db_host");
    mark_config(in, INST_FROM_PORT, "db_port");
    mark_config(in, INST_FROM_SOCKET, "db_socket");
    mark_config(in, INST_FROM_USER, "db_user");
    mark_config(in, INST_FROM_PASSWORD, "db_password");
    mark_config(in, INST_FROM_PASSWORD, "db_password_file");
    mark_config(in, INST_FROM_DEFAULTS, "db_defaults_file");
    /* an option file says where and who itself */
    if (c->defaults_file) return 0;
    if (!c->host && !c->socket) {
        if ((rc = dol_value(in, INST_DOL_DB_HOST, &host, in->from[INST_FROM_HOST], sizeof in->from[0], err)))
            return rc;
        if (host && *host) c->host = host;
        else in->from[INST_FROM_HOST][0] = '\0';
        if (c->host && !conf_get(in->conf, in->name, "db_port")) {
            if ((rc = dol_value(in, INST_DOL_DB_PORT, &port, in->from[INST_FROM_PORT], sizeof in->from[0], err)))
                return rc;
            if (port && *port) {
                char *end;
                unsigned long p = strtoul(port, &end, 10);
                if (*end || p == 0 || p > 65535)
                    return err_set(err, ERR_INVALID, "%s: $dolibarr_main_db_port '%s' is not a TCP port",
                                   in->from[INST_FROM_PORT], port);
                c->port = (unsigned)p;
            } else {
                in->from[INST_FROM_PORT][0] = '\0';
            }
        }
    }
    if (!c->user) {
        if ((rc = dol_value(in, INST_DOL_DB_USER, &user, in->from[INST_FROM_USER], sizeof in->from[0], err)))
            return rc;
        if (!user || !*user) {
            in->from[INST_FROM_USER][0] = '\0';
            return 0;
        }
        c->user = user;
        /* the account is a pair: conf.php's password goes with conf.php's user only */
        if (!conf_get(in->conf, in->name, "db_password_file") && !conf_get(in->conf, in->name, "db_password")) {
            InstDolPassEnc enc;
            InstDolVar var;
            if (!in->dol_secret && (rc = inst_dolconf_password(in->dol, &in->dol_secret, &enc, &var, err)))
                return rc;
            if (in->dol_secret) {
                c->password = in->dol_secret;
                snprintf(in->from[INST_FROM_PASSWORD], sizeof in->from[0], "%s:%u (%s)", in->dol->path,
                         in->dol->v[var].line, inst_dol_pass_enc_name(enc));
            }
        }
    }
    return 0;
}

/* documents_dir: $dolibarr_main_data_root. custom_dir:
 * $dolibarr_main_document_root_alt when it names one existing directory
 * (a list of several is a developer's setup: give custom_dir). */
int inst_path(Inst *in, const char *key, const char **out, char *from, size_t cap, Err *err)
{
    const char *v = in->name ? conf_get(in->conf, in->name, key) : NULL;
    struct stat st;
    int rc;

    *out = NULL;
    if (from && cap) from[0] = '\0';
    if (v && *v) {
        if (from) snprintf(from, cap, "config %s", key);
        *out = v;
        return 0;
    }
    if (strcmp(key, "documents_dir") == 0)
        return dol_value(in, INST_DOL_DATA_ROOT, out, from, cap, err);
    if (strcmp(key, "custom_dir") != 0) return 0;
    if ((rc = dol_value(in, INST_DOL_DOCUMENT_ROOT_ALT, &v, from, cap, err))) return rc;
    if (!v || !*v || strchr(v, ',') || stat(v, &st) != 0 || !S_ISDIR(st.st_mode)) {
        if (from && cap) from[0] = '\0';
        return 0;
    }
    snprintf(in->dol_alt, sizeof in->dol_alt, "%s", v);
    *out = in->dol_alt;
    return 0;
}

int inst_databases(Inst *in, char ***out, size_t *n, char *from, size_t cap, Err *err)
{
    const char *name = NULL;
    int rc;
    *out = NULL;
    *n = 0;
    if (from && cap) from[0] = '\0';
    if (conf_get(in->conf, in->name, "databases")) {
        if (from) snprintf(from, cap, "config databases");
        return conf_get_list(in->conf, in->name, "databases", out, n, err);
    }
    if ((rc = dol_value(in, INST_DOL_DB_NAME, &name, from, cap, err)) || !name || !*name) {
        if (from && cap) from[0] = '\0';
        return rc;
    }
    if (!(*out = calloc(2, sizeof **out)) || !((*out)[0] = strdup(name))) {
        free(*out);
        *out = NULL;
        return err_set(err, ERR_NOMEM, "out of memory");
    }
    *n = 1;
    return 0;
}

static void add(InstSource *s, size_t *n, const char *setting, const char *value, const char *from)
{
    InstSource *x = &s[(*n)++];
    x->setting = setting;
    snprintf(x->value, sizeof x->value, "%s", value ? value : "");
    snprintf(x->from, sizeof x->from, "%s", from ? from : "");
}

/* A secret as "(N bytes)": enough to see it is there, nothing of it. */
static const char *masked(const char *v, char *buf, size_t cap)
{
    if (!v) return NULL;
    snprintf(buf, cap, "(secret, %zu bytes)", strlen(v));
    return buf;
}

int inst_sources(Inst *in, InstSource **out, size_t *nout, Err *err)
{
    static const struct { InstDolVar v; const char *setting; bool secret; } facts[] = {
        {INST_DOL_DB_TYPE, "db_type", false},           {INST_DOL_DB_PREFIX, "db_prefix", false},
        {INST_DOL_DOCUMENT_ROOT, "document_root", false}, {INST_DOL_URL_ROOT, "url_root", false},
        {INST_DOL_INSTANCE_UNIQUE_ID, "instance_unique_id", true},
        {INST_DOL_DOLCRYPT_KEY, "dolcrypt_key", true},
    };
    const MdbConn *c = NULL;
    const InstDolConf *d = NULL;
    InstSource *s = NULL;
    char from[1100], port[16], mask[64], **dbs = NULL;
    const char *v;
    size_t n = 0, ndbs = 0;
    int rc;

    *out = NULL;
    *nout = 0;
    if ((rc = inst_need_name(in, err))) return rc;
    if (!(s = calloc(24, sizeof *s))) return err_set(err, ERR_NOMEM, "out of memory");
    if ((rc = inst_dolconf(in, &d, err))) goto out;
    add(s, &n, "conf_php", d ? d->path : NULL, d ? "config conf_php" : NULL);
    if ((rc = inst_db_conn(in, &c, err))) goto out;
    add(s, &n, "db_host", c->host, in->from[INST_FROM_HOST]);
    snprintf(port, sizeof port, "%u", c->port);
    add(s, &n, "db_port", c->port ? port : NULL, in->from[INST_FROM_PORT]);
    add(s, &n, "db_socket", c->socket, in->from[INST_FROM_SOCKET]);
    add(s, &n, "db_defaults_file", c->defaults_file, in->from[INST_FROM_DEFAULTS]);
    add(s, &n, "db_user", c->user, in->from[INST_FROM_USER]);
    add(s, &n, "db_password", masked(c->password, mask, sizeof mask), in->from[INST_FROM_PASSWORD]);
    if ((rc = inst_databases(in, &dbs, &ndbs, from, sizeof from, err))) goto out;
    char list[1024] = "";
    for (size_t i = 0, k = 0; i < ndbs && k < sizeof list; i++)
        k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", i ? " " : "", dbs[i]);
    add(s, &n, "databases", ndbs ? list : "(every non-system database)", ndbs ? from : "default");
    for (int i = 0; i < 2; i++) {
        const char *key = i ? "custom_dir" : "documents_dir";
        if ((rc = inst_path(in, key, &v, from, sizeof from, err))) goto out;
        add(s, &n, key, v, from);
    }
    for (size_t i = 0; d && i < sizeof facts / sizeof facts[0]; i++) {
        unsigned line = 0;
        Err e2;
        err_clear(&e2);
        if (inst_dolconf_get(d, facts[i].v, &v, &line, &e2)) {
            add(s, &n, facts[i].setting, "(not a literal)", NULL);
            snprintf(s[n - 1].from, sizeof s[n - 1].from, "%s:%u", d->path, line);
            continue;
        }
        if (!v) continue;
        snprintf(from, sizeof from, "%s:%u", d->path, line);
        add(s, &n, facts[i].setting, facts[i].secret ? masked(v, mask, sizeof mask) : v, from);
    }
    if (d && d->include_line) {
        snprintf(from, sizeof from, "%s:%u", d->path, d->include_line);
        add(s, &n, "include", "(not followed: it may set more)", from);
    }
    *out = s;
    *nout = n;
    s = NULL;
out:
    conf_list_free(dbs);
    free(s);
    return rc;
}

int inst_only_database(Inst *in, char **out, Err *err)
{
    char **dbs = NULL;
    size_t n = 0;
    int rc;

    *out = NULL;
    if ((rc = inst_databases(in, &dbs, &n, NULL, 0, err))) return rc;
    if (n == 1) {
        if (!(*out = strdup(dbs[0]))) rc = err_set(err, ERR_NOMEM, "out of memory");
    } else {
        rc = err_set(err, ERR_INVALID, "which database? give --target-db NAME (instance %s names %zu: set "
                     "'databases' or conf_php)", inst_name(in) ? inst_name(in) : "-", n);
    }
    conf_list_free(dbs);
    return rc;
}

int inst_db_prefix(Inst *in, const char **out, Err *err)
{
    const InstDolConf *c = NULL;
    const char *v = NULL;
    unsigned line = 0;
    int rc;

    *out = "llx_";
    if ((rc = inst_dolconf(in, &c, err))) return rc;
    if (!c) return 0;
    if ((rc = inst_dolconf_get(c, INST_DOL_DB_PREFIX, &v, &line, err))) return rc;
    if (v && *v) *out = v;
    return 0;
}
