/* mdb_conn.c: opening MariaDB connections (host/port or socket, option
 * files, TLS) and translating libmariadb errors into Err once.
 * Invariant: the password never reaches an Err, a log line or argv. */
#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mariadb/mdb.h"

static bool has_host(const MdbConn *c)
{
    return c->host && *c->host;
}

/* libmariadb's rule, as the mariadb client's: the socket when there is no
 * host or the host is "localhost", else TCP. */
static bool uses_socket(const MdbConn *c)
{
    return c->socket && *c->socket && (!has_host(c) || strcmp(c->host, "localhost") == 0);
}

const char *mdb_conn_where(const MdbConn *c, char *buf, size_t cap)
{
    const char *u = c->user ? c->user : "(default user)";
    if (uses_socket(c))
        snprintf(buf, cap, "%s@unix:%s", u, c->socket);
    else if (has_host(c))
        snprintf(buf, cap, "%s@%s:%u", u, c->host, c->port ? c->port : 3306);
    else
        snprintf(buf, cap, "%s@(option file defaults)", u);
    return buf;
}

int mdb_err(MYSQL *m, Err *err, const char *what)
{
    unsigned no = mysql_errno(m);
    int code = ERR_DB;

    switch (no) {
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_UNKNOWN_HOST:
    case ER_CONNECTION_KILLED:
    case ER_SERVER_SHUTDOWN:
        code = ERR_NET;
        break;
    case ER_LOCK_WAIT_TIMEOUT:
        code = ERR_LOCKED;
        break;
    case ER_ACCESS_DENIED_ERROR:
        code = ERR_AUTH;
        break;
    case ER_DBACCESS_DENIED_ERROR:
    case ER_TABLEACCESS_DENIED_ERROR:
    case ER_COLUMNACCESS_DENIED_ERROR:
    case ER_SPECIFIC_ACCESS_DENIED_ERROR:
    case ER_PROCACCESS_DENIED_ERROR:
        code = ERR_PERM;
        break;
    default:
        break;
    }
    err_set(err, code, "%s: %s (mariadb error %u)", what, mysql_error(m), no);
    if (code == ERR_NET) err->retryable = true;
    return code;
}

int mdb_exec(MYSQL *m, const char *sql, Err *err)
{
    MYSQL_RES *res;

    if (mysql_real_query(m, sql, strlen(sql))) {
        char what[96];
        snprintf(what, sizeof what, "%.80s", sql);
        return mdb_err(m, err, what);
    }
    do {
        res = mysql_store_result(m);
        mysql_free_result(res);
    } while (mysql_next_result(m) == 0);
    if (mysql_errno(m)) {
        char what[96];
        snprintf(what, sizeof what, "%.80s", sql);
        return mdb_err(m, err, what);
    }
    return 0;
}

int mdb_query(MYSQL *m, const char *sql, const char *what, MYSQL_RES **out, Err *err)
{
    char w[120];

    *out = NULL;
    if (!what) {
        snprintf(w, sizeof w, "%.100s", sql);
        what = w;
    }
    if (mysql_real_query(m, sql, strlen(sql))) return mdb_err(m, err, what);
    *out = mysql_store_result(m);
    if (!*out) return mdb_err(m, err, what);
    return 0;
}

int mdb_value(MYSQL *m, const char *sql, char **out, Err *err)
{
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    int rc = 0;
    char what[96];

    *out = NULL;
    snprintf(what, sizeof what, "%.80s", sql);
    if (mysql_real_query(m, sql, strlen(sql))) return mdb_err(m, err, what);
    res = mysql_store_result(m);
    if (!res) return mdb_err(m, err, what);
    row = mysql_fetch_row(res);
    if (row && row[0]) {
        unsigned long *lens = mysql_fetch_lengths(res);
        *out = malloc(lens[0] + 1);
        if (!*out) {
            rc = err_set(err, ERR_NOMEM, "out of memory reading %s", what);
            goto out;
        }
        memcpy(*out, row[0], lens[0]);
        (*out)[lens[0]] = '\0';
    }
out:
    mysql_free_result(res);
    return rc;
}

int mdb_connect(const MdbConn *c, unsigned flags, unsigned rw_timeout_s, MYSQL **out, Err *err)
{
    MYSQL *m = NULL;
    char w[256];
    unsigned timeout = c->connect_timeout ? c->connect_timeout : 10;
    unsigned long maxpkt = 1ul << 30;   /* events up to the server's 1 GiB limit */
    my_bool on = 1, off = 0;
    int rc = 0;

    *out = NULL;
    m = mysql_init(NULL);
    if (!m) return err_set(err, ERR_NOMEM, "mysql_init failed");
    if (c->defaults_file) mysql_optionsv(m, MYSQL_READ_DEFAULT_FILE, c->defaults_file);
    if (c->defaults_group) mysql_optionsv(m, MYSQL_READ_DEFAULT_GROUP, c->defaults_group);
    mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    if (rw_timeout_s) {
        mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &rw_timeout_s);
        mysql_optionsv(m, MYSQL_OPT_WRITE_TIMEOUT, &rw_timeout_s);
    }
    if (flags & MDB_CONNECT_CLIENT) {
        mysql_optionsv(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
        mysql_optionsv(m, MYSQL_OPT_LOCAL_INFILE, &on);   /* only our own handler answers */
    }
    if (flags & MDB_CONNECT_BIG_PACKETS) mysql_optionsv(m, MYSQL_OPT_MAX_ALLOWED_PACKET, &maxpkt);
    mysql_optionsv(m, MYSQL_OPT_RECONNECT, &off);   /* a reconnect would lose the session */
    if (c->tls || c->tls_ca || c->tls_cert) {
        mysql_optionsv(m, MYSQL_OPT_SSL_ENFORCE, &on);
        if (c->tls_ca) mysql_optionsv(m, MYSQL_OPT_SSL_CA, c->tls_ca);
        if (c->tls_cert) mysql_optionsv(m, MYSQL_OPT_SSL_CERT, c->tls_cert);
        if (c->tls_key) mysql_optionsv(m, MYSQL_OPT_SSL_KEY, c->tls_key);
        mysql_optionsv(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, c->tls_verify ? &on : &off);
    }
    if (!mysql_real_connect(m, has_host(c) ? c->host : NULL, c->user, c->password, NULL, c->port,
                            c->socket && *c->socket ? c->socket : NULL,
                            (flags & MDB_CONNECT_CLIENT) ? CLIENT_MULTI_RESULTS : 0)) {
        char what[300];
        snprintf(what, sizeof what, "connect to %s", mdb_conn_where(c, w, sizeof w));
        rc = mdb_err(m, err, what);
        if (rc == ERR_DB && mysql_errno(m) >= 2000 && mysql_errno(m) < 3000) {
            err->code = ERR_NET;   /* client-side errors: unreachable, TLS, socket */
            err->retryable = true;
            rc = ERR_NET;
        }
        goto out;
    }
    *out = m;
    m = NULL;
out:
    if (m) mysql_close(m);
    return rc;
}

void mdb_close(MYSQL *m)
{
    if (m) mysql_close(m);
}
