/* rst_srcserver.c: the replication source listener. Accepts one replica
 * connection at a time on a loopback TCP port, greets it with a v10
 * handshake, checks mysql_native_password against the one-time password,
 * answers the few queries a MariaDB replica's I/O thread sends before it
 * asks for the binlog (sql/slave.cc get_master_version_and_clock), and hands
 * COM_BINLOG_DUMP to rst_srcdump.c. Anything else is refused with an error
 * packet naming the statement, so an unexpected replica shows up clearly. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "engine/common/log.h"
#include "restore/replay/rst_srcserver_int.h"

#define VERSION_BARE "10.11.99-MariaDB-tidemark"
/* the handshake carries the "5.5.5-" prefix MariaDB servers send */
#define SERVER_VERSION "5.5.5-" VERSION_BARE
#define CMD_QUIT 0x01
#define CMD_INIT_DB 0x02
#define CMD_QUERY 0x03
#define CMD_PING 0x0e
#define CMD_BINLOG_DUMP 0x12
#define CMD_REGISTER_SLAVE 0x15
#define CMD_BINLOG_DUMP_GTID 0x1e

/* Capabilities: 4.1 protocol, secure connection, plugin auth (+lenenc data),
 * connect attributes, multi results. No SSL (loopback only), no compression,
 * no DEPRECATE_EOF (classic EOF packets), and CLIENT_MYSQL (bit 0) clear so
 * a MariaDB client reads the extended capability bytes (zero). */
#define CAP_CONNECT_WITH_DB 0x8u
#define CAP_PROTOCOL_41 0x200u
#define CAP_SSL 0x800u
#define CAP_SECURE 0x8000u
#define CAP_PLUGIN_AUTH 0x80000u
#define CAP_CONNECT_ATTRS 0x100000u
#define CAP_LENENC_AUTH 0x200000u
#define SERVER_CAPS (0x2u | 0x4u | CAP_CONNECT_WITH_DB | CAP_PROTOCOL_41 | 0x2000u | CAP_SECURE | \
                     0x10000u | 0x20000u | CAP_PLUGIN_AUTH | CAP_CONNECT_ATTRS | CAP_LENENC_AUTH)

static char *dup_or(const char *s, const char *dflt)
{
    return strdup(s ? s : dflt);
}

int rst_srcserver_open(const RstSrcConfig *cfg, RstEventNext next, void *next_ctx,
                       RstSrcServer **out, Err *err)
{
    RstSrcServer *s = NULL;
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    int one = 1, rc = 0;

    *out = NULL;
    if (!cfg->password || !cfg->password[0])
        return err_set(err, ERR_INVALID, "replay source: a password is required");
    if (cfg->server_id == 0)
        return err_set(err, ERR_INVALID, "replay source: server_id must not be 0");
    if (sodium_init() < 0) return err_set(err, ERR_IO, "libsodium failed to initialise");
    s = calloc(1, sizeof *s);
    if (!s) return err_set(err, ERR_NOMEM, "replay source: out of memory");
    s->lfd = -1;
    s->cur_fd = -1;
    pthread_mutex_init(&s->mu, NULL);
    buf_init(&s->fd_ev, 1 << 20);
    s->cfg = *cfg;
    s->next = next;
    s->next_ctx = next_ctx;
    s->user = dup_or(cfg->user, "tidemark_replay");
    s->password = strdup(cfg->password);
    s->first_log_name = dup_or(cfg->first_log_name, "tidemark-bin.000001");
    s->listen_host = dup_or(cfg->listen_host, "127.0.0.1");
    if (!s->user || !s->password || !s->first_log_name || !s->listen_host) {
        rc = err_set(err, ERR_NOMEM, "replay source: out of memory");
        goto out;
    }
    s->cfg.user = s->user;
    s->cfg.password = s->password;
    s->cfg.first_log_name = s->first_log_name;
    s->cfg.listen_host = s->listen_host;
    snprintf(s->log_name, sizeof s->log_name, "%s", s->first_log_name);

    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(cfg->listen_port);
    if (inet_pton(AF_INET, s->listen_host, &sa.sin_addr) != 1) {
        rc = err_set(err, ERR_INVALID, "replay source: listen address '%s' is not a numeric IPv4 address",
                     s->listen_host);
        goto out;
    }
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->lfd < 0) {
        rc = err_sys(err, errno, "replay source: socket");
        goto out;
    }
    setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(s->lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(s->lfd, 4) < 0 ||
        getsockname(s->lfd, (struct sockaddr *)&sa, &sl) < 0) {
        rc = err_sys(err, errno, "replay source: listen on %s:%u", s->listen_host,
                     (unsigned)cfg->listen_port);
        goto out;
    }
    s->port = ntohs(sa.sin_port);
out:
    if (rc) {
        rst_srcserver_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

uint16_t rst_srcserver_port(const RstSrcServer *s) { return s->port; }

void rst_srcserver_stats(RstSrcServer *s, RstSrcStats *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->stats;
    pthread_mutex_unlock(&s->mu);
}

int rst_srcserver_error(RstSrcServer *s, Err *out)
{
    int code;
    pthread_mutex_lock(&s->mu);
    *out = s->err;
    code = s->err.code;
    pthread_mutex_unlock(&s->mu);
    return code;
}

/* ---- handshake --------------------------------------------------------- */

static int send_handshake(RstSrcServer *s, RstConn *c, const uint8_t salt[20], Err *err)
{
    uint8_t p[256];
    size_t n = 0;
    const char *plugin = "mysql_native_password";
    p[n++] = 10;
    memcpy(p + n, SERVER_VERSION, sizeof SERVER_VERSION);
    n += sizeof SERVER_VERSION;
    mdb_put_le32(p + n, ++s->conn_id);
    n += 4;
    memcpy(p + n, salt, 8);
    n += 8;
    p[n++] = 0;
    mdb_put_le16(p + n, (uint16_t)(SERVER_CAPS & 0xffff));
    n += 2;
    p[n++] = 45; /* utf8mb4_general_ci */
    mdb_put_le16(p + n, 2); /* SERVER_STATUS_AUTOCOMMIT */
    n += 2;
    mdb_put_le16(p + n, (uint16_t)(SERVER_CAPS >> 16));
    n += 2;
    p[n++] = 21;
    memset(p + n, 0, 10); /* 6 reserved + 4 MariaDB extended capabilities (none) */
    n += 10;
    memcpy(p + n, salt + 8, 12);
    n += 12;
    p[n++] = 0;
    memcpy(p + n, plugin, strlen(plugin) + 1);
    n += strlen(plugin) + 1;
    c->seq = 0;
    return rst_conn_write(c, p, n, err);
}

static int check_scramble(RstSrcServer *s, const uint8_t salt[20], const uint8_t *resp, size_t n)
{
    uint8_t want[20];
    int ok;
    if (n != 20) return 0;
    if (!rst_native_scramble(salt, s->password, want)) return 0;
    ok = sodium_memcmp(want, resp, 20) == 0;
    sodium_memzero(want, sizeof want);
    return ok;
}

/* Read the client's handshake response; authenticate; OK or ERR. Returns 0
 * when authenticated, ERR_AUTH when refused (an error packet was sent). */
static int authenticate(RstSrcServer *s, RstConn *c, Err *err)
{
    uint8_t salt[20];
    const uint8_t *p, *end, *resp = NULL;
    const char *user = NULL, *plugin = NULL;
    size_t resp_len = 0;
    uint32_t caps;
    int rc, ok;

    randombytes_buf(salt, sizeof salt);
    for (int i = 0; i < 20; i++) /* the scramble is sent NUL-terminated: keep bytes printable */
        salt[i] = (uint8_t)(salt[i] % 94 + 33);
    rc = send_handshake(s, c, salt, err);
    if (!rc) rc = rst_conn_flush(c, err);
    if (!rc) rc = rst_conn_read(c, 10000, err);
    if (rc) return err_wrap(err, "replica handshake");
    p = c->in.data;
    end = p + c->in.len;
    if (c->in.len < 32) return err_set(err, ERR_NET, "replica handshake: short response (%zu bytes)", c->in.len);
    caps = mdb_le32(p);
    if (!(caps & CAP_PROTOCOL_41)) return err_set(err, ERR_UNSUPPORTED, "replica handshake: pre-4.1 client");
    if (caps & CAP_SSL)
        return err_set(err, ERR_UNSUPPORTED, "replica asked for TLS, which the loopback replay source does not offer (MASTER_SSL=0)");
    p += 32;
    user = (const char *)p;
    p += strnlen(user, (size_t)(end - p)) + 1;
    if (p > end) return err_set(err, ERR_NET, "replica handshake: truncated user name");
    if (caps & CAP_LENENC_AUTH) {
        if (p < end && *p < 251) { resp_len = *p++; }
        else return err_set(err, ERR_NET, "replica handshake: bad auth data length");
    } else if (caps & CAP_SECURE) {
        if (p < end) resp_len = *p++;
    } else {
        resp_len = strnlen((const char *)p, (size_t)(end - p));
    }
    if (p + resp_len > end) return err_set(err, ERR_NET, "replica handshake: truncated auth data");
    resp = p;
    p += resp_len;
    if ((caps & CAP_CONNECT_WITH_DB) && p < end) p += strnlen((const char *)p, (size_t)(end - p)) + 1;
    if ((caps & CAP_PLUGIN_AUTH) && p < end) plugin = (const char *)p;

    if (plugin && strcmp(plugin, "mysql_native_password") != 0) {
        /* Auth switch: ask for mysql_native_password with the same scramble. */
        uint8_t sw[64];
        size_t n = 0;
        char user_copy[256];
        snprintf(user_copy, sizeof user_copy, "%s", user);
        sw[n++] = 0xfe;
        memcpy(sw + n, "mysql_native_password", 22);
        n += 22;
        memcpy(sw + n, salt, 20);
        n += 20;
        sw[n++] = 0;
        rc = rst_conn_write(c, sw, n, err);
        if (!rc) rc = rst_conn_flush(c, err);
        if (!rc) rc = rst_conn_read(c, 10000, err);
        if (rc) return err_wrap(err, "replica auth switch");
        ok = strcmp(user_copy, s->user) == 0 && check_scramble(s, salt, c->in.data, c->in.len);
        user = NULL;
        if (!ok) log_warn("replay source: refused replica login as '%s'", user_copy);
    } else {
        ok = strcmp(user, s->user) == 0 && check_scramble(s, salt, resp, resp_len);
        if (!ok) log_warn("replay source: refused replica login as '%s'", user);
    }
    if (!ok) {
        rc = rst_conn_errpkt(c, 1045, "28000", "Access denied for the tidemark replay source", err);
        if (!rc) rst_conn_flush(c, err);
        return err_set(err, ERR_AUTH, "replica presented a wrong user or password");
    }
    rc = rst_conn_ok(c, err);
    if (!rc) rc = rst_conn_flush(c, err);
    return rc;
}

/* ---- queries ------------------------------------------------------------ */

/* Lower-case copy with surrounding blanks and a trailing ';' removed. */
static void normalize(const char *q, size_t n, char *out, size_t cap)
{
    size_t i = 0, o = 0;
    while (i < n && isspace((unsigned char)q[i])) i++;
    while (n > i && (isspace((unsigned char)q[n - 1]) || q[n - 1] == ';')) n--;
    for (; i < n && o + 1 < cap; i++) out[o++] = (char)tolower((unsigned char)q[i]);
    out[o] = 0;
}

/* Value of a global variable we are willing to report, or NULL. */
static const char *global_var(RstSrcServer *s, const char *name, char *tmp, size_t cap)
{
    if (!strcmp(name, "server_id")) {
        snprintf(tmp, cap, "%u", s->cfg.server_id);
        return tmp;
    }
    if (!strcmp(name, "gtid_domain_id")) return "0";
    if (!strcmp(name, "version")) return VERSION_BARE;
    if (!strcmp(name, "version_comment")) return "tidemark replay source";
    if (!strcmp(name, "binlog_checksum")) return "CRC32";
    if (!strcmp(name, "gtid_strict_mode")) return "1";
    if (!strcmp(name, "log_bin")) return "1";
    if (!strcmp(name, "max_allowed_packet")) return "1073741824";
    if (!strcmp(name, "time_zone")) return "SYSTEM";
    if (!strcmp(name, "system_time_zone")) return "UTC";
    if (!strcmp(name, "binlog_format")) return "ROW";
    return NULL;
}

/* Strip quotes from a SET value into out. */
static void set_value(const char *v, char *out, size_t cap)
{
    size_t n;
    while (*v == ' ') v++;
    n = strlen(v);
    if (n >= 2 && (v[0] == '\'' || v[0] == '"') && v[n - 1] == v[0]) {
        v++;
        n -= 2;
    }
    if (n >= cap) n = cap - 1;
    memcpy(out, v, n);
    out[n] = 0;
}

static int answer_set(RstConn *c, const char *q, RstSlaveVars *vars, Err *err)
{
    /* q is normalized: "set @name= value" (one assignment per statement here) */
    const char *p = q + 4, *eq;
    char name[64];
    size_t n;
    while (*p == ' ') p++;
    if (*p == '@' && p[1] != '@') {
        p++;
        eq = strchr(p, '=');
        if (!eq) return rst_conn_errpkt(c, 1064, "42000", "tidemark replay source: bad SET", err);
        n = (size_t)(eq - p);
        while (n > 0 && p[n - 1] == ' ') n--;
        if (n >= sizeof name) n = sizeof name - 1;
        memcpy(name, p, n);
        name[n] = 0;
        eq++;
        if (!strcmp(name, "master_binlog_checksum")) {
            vars->checksum_aware = true;
        } else if (!strcmp(name, "master_heartbeat_period")) {
            vars->heartbeat_ns = strtoull(eq, NULL, 10);
        } else if (!strcmp(name, "mariadb_slave_capability")) {
            vars->capability = atoi(eq);
        } else if (!strcmp(name, "slave_connect_state")) {
            vars->has_connect_state = true;
            set_value(eq, vars->connect_state, sizeof vars->connect_state);
        } else if (!strcmp(name, "slave_gtid_strict_mode")) {
            vars->strict = atoi(eq) != 0;
        } else if (!strcmp(name, "slave_until_gtid")) {
            vars->has_until = true;
            set_value(eq, vars->until, sizeof vars->until);
        }
    }
    return rst_conn_ok(c, err);
}

static int answer_query(RstSrcServer *s, RstConn *c, RstSlaveVars *vars, Err *err)
{
    char q[2048], tmp[64];
    const char *orig = (const char *)c->in.data + 1;
    size_t olen = c->in.len - 1;
    normalize(orig, olen, q, sizeof q);
    log_debug("replay source: replica query: %s", q);

    if (!strncmp(q, "set ", 4)) return answer_set(c, q, vars, err);
    if (!strcmp(q, "select unix_timestamp()")) {
        const char *col = "UNIX_TIMESTAMP()";
        const char *row;
        snprintf(tmp, sizeof tmp, "%lld", (long long)time(NULL));
        row = tmp;
        return rst_conn_resultset(c, &col, 1, &row, 1, err);
    }
    if (!strncmp(q, "show variables like '", 21) || !strncmp(q, "show global variables like '", 28)) {
        const char *cols[2] = {"Variable_name", "Value"};
        const char *row[2];
        char name[64];
        const char *v = strchr(q, '\'') + 1;
        set_value(v - 1, name, sizeof name);
        row[0] = name;
        row[1] = global_var(s, name, tmp, sizeof tmp);
        return rst_conn_resultset(c, cols, 2, row, row[1] ? 1 : 0, err);
    }
    if (!strncmp(q, "select @@", 9)) {
        const char *name = q + 9, *v;
        char col[128];
        const char *colp = col, *row;
        if (!strncmp(name, "global.", 7)) name += 7;
        else if (!strncmp(name, "session.", 8)) name += 8;
        v = global_var(s, name, tmp, sizeof tmp);
        if (!v) {
            char msg[160];
            snprintf(msg, sizeof msg, "Unknown system variable '%.100s'", name);
            return rst_conn_errpkt(c, 1193, "HY000", msg, err);
        }
        {
            const char *at = memmem(orig, olen, "@@", 2);
            size_t left = at ? olen - (size_t)(at - orig) : 0;
            snprintf(col, sizeof col, "%.*s", (int)(left < 100 ? left : 100), at ? at : "");
        }
        row = v;
        return rst_conn_resultset(c, &colp, 1, &row, 1, err);
    }
    if (!strcmp(q, "select @master_binlog_checksum")) {
        const char *col = "@master_binlog_checksum";
        const char *row = vars->checksum_aware ? "CRC32" : NULL;
        return rst_conn_resultset(c, &col, 1, &row, 1, err);
    }
    {
        char msg[256];
        log_warn("replay source: replica sent an unexpected query, refused: %.200s", q);
        snprintf(msg, sizeof msg, "tidemark replay source does not answer: %.180s", q);
        return rst_conn_errpkt(c, 1064, "42000", msg, err);
    }
}

/* Serve one accepted replica connection until it closes. Returns a fatal
 * error only when the stream can no longer continue. */
static int serve_conn(RstSrcServer *s, int fd, Err *err)
{
    RstConn c;
    RstSlaveVars vars;
    int rc, one = 1;
    Err cerr;

    err_clear(&cerr);
    memset(&vars, 0, sizeof vars);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    rst_conn_init(&c, fd);
    rc = authenticate(s, &c, &cerr);
    if (rc) {
        log_info("replay source: replica connection closed: %s", cerr.msg);
        rc = 0;
        goto out;
    }
    pthread_mutex_lock(&s->mu);
    s->stats.connections++;
    pthread_mutex_unlock(&s->mu);
    while (!s->stop) {
        uint8_t cmd;
        rc = rst_conn_read(&c, 200, &cerr);
        if (rc) {
            if (strstr(cerr.msg, "no data")) { rc = 0; continue; }
            rc = 0; /* the replica went away */
            break;
        }
        if (c.in.len == 0) continue;
        cmd = c.in.data[0];
        switch (cmd) {
        case CMD_QUIT:
            goto out;
        case CMD_QUERY:
            rc = answer_query(s, &c, &vars, &cerr);
            break;
        case CMD_PING:
        case CMD_REGISTER_SLAVE:
        case CMD_INIT_DB:
            rc = rst_conn_ok(&c, &cerr);
            break;
        case CMD_BINLOG_DUMP:
            rc = rst_srcdump_serve(s, &c, &vars, err);
            goto out;  /* a dump ends the connection */
        case CMD_BINLOG_DUMP_GTID:
        default: {
            char msg[96];
            snprintf(msg, sizeof msg, "tidemark replay source: command 0x%02x not supported", cmd);
            rc = rst_conn_errpkt(&c, 1047, "08S01", msg, &cerr);
            break;
        }
        }
        if (!rc) rc = rst_conn_flush(&c, &cerr);
        if (rc) { rc = 0; break; }
    }
out:
    pthread_mutex_lock(&s->mu);
    s->cur_fd = -1;
    pthread_mutex_unlock(&s->mu);
    rst_conn_free(&c);
    return rc;
}

static void *serve_thread(void *arg)
{
    RstSrcServer *s = arg;
    while (!s->stop) {
        struct pollfd pfd = {.fd = s->lfd, .events = POLLIN};
        int fd, pr = poll(&pfd, 1, 200);
        Err e;
        if (pr <= 0) continue;
        fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) continue;
        pthread_mutex_lock(&s->mu);
        s->cur_fd = fd;
        pthread_mutex_unlock(&s->mu);
        err_clear(&e);
        if (serve_conn(s, fd, &e)) {
            pthread_mutex_lock(&s->mu);
            if (s->err.code == 0) s->err = e;
            pthread_mutex_unlock(&s->mu);
            break;
        }
    }
    return NULL;
}

int rst_srcserver_start(RstSrcServer *s, Err *err)
{
    int rc = pthread_create(&s->thr, NULL, serve_thread, s);
    if (rc) return err_sys(err, rc, "replay source: start thread");
    s->started = true;
    return 0;
}

void rst_srcserver_close(RstSrcServer *s)
{
    if (!s) return;
    s->stop = 1;
    pthread_mutex_lock(&s->mu);
    if (s->cur_fd >= 0) shutdown(s->cur_fd, SHUT_RDWR); /* unblocks a send to a stalled replica */
    pthread_mutex_unlock(&s->mu);
    if (s->started) pthread_join(s->thr, NULL);
    if (s->lfd >= 0) close(s->lfd);
    if (s->password) sodium_memzero(s->password, strlen(s->password));
    free(s->password);
    free(s->user);
    free(s->first_log_name);
    free(s->listen_host);
    buf_free(&s->fd_ev);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
