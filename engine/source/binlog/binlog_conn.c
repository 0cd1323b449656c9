/* binlog_conn.c: the replication connection: connect, read the server's
 * identity, check privileges, start COM_BINLOG_DUMP through libmariadb's
 * mariadb_rpl_open(), and hand out raw events read as packets.
 * Invariant: events are passed on exactly as received (the packet's OK
 * byte stripped); the connector's own event parser (mariadb_rpl_fetch) is
 * not used (see binlog_conn_fetch). */
#include <stddef.h>
#include <stdio.h>

#include <errmsg.h>
#include <mysql.h>
#include <mariadb_rpl.h>
#include <mysqld_error.h>
#include <stdlib.h>
#include <string.h>

#include "engine/source/binlog/binlog_int.h"

struct BinlogConn {
    MYSQL *my;
    MARIADB_RPL *rpl;
    char identity[BINLOG_IDENTITY_MAX];
    char account[200];      /* CURRENT_USER() as 'user'@'host' for GRANT hints */
    char where[300];        /* user@unix:SOCKET or user@host:port, for messages */
    uint32_t server_id;
    unsigned checksum;
};

static bool is_net_errno(unsigned e)
{
    return e == CR_SERVER_LOST || e == CR_SERVER_GONE_ERROR || e == CR_CONN_HOST_ERROR ||
           e == CR_CONNECTION_ERROR || e == CR_UNKNOWN_HOST || e == ER_CONNECTION_KILLED ||
           e == ER_SERVER_SHUTDOWN || e == CR_SERVER_LOST_EXTENDED || e == ER_NET_READ_ERROR ||
           e == ER_NET_READ_INTERRUPTED || e == ER_QUERY_INTERRUPTED || e == CR_ERR_NET_READ;
}

static int db_err(BinlogConn *c, Err *err, const char *what)
{
    unsigned e = mysql_errno(c->my);
    const char *m = mysql_error(c->my);
    int code = ERR_DB;
    if (is_net_errno(e) || e == 0)
        code = ERR_NET;
    else if (e == ER_ACCESS_DENIED_ERROR || e == ER_DBACCESS_DENIED_ERROR)
        code = ERR_AUTH;
    else if (e == ER_SPECIFIC_ACCESS_DENIED_ERROR)
        code = ERR_PERM;
    err_set(err, code, "%s on %s: %s (errno %u)", what, c->where, m && *m ? m : "connection lost",
            e);
    if (code == ERR_NET)
        err->retryable = true;
    return code;
}

static int query_row(BinlogConn *c, const char *sql, MYSQL_RES **res, MYSQL_ROW *row, Err *err)
{
    if (mysql_query(c->my, sql))
        return db_err(c, err, sql);
    *res = mysql_store_result(c->my);
    if (!*res)
        return db_err(c, err, sql);
    *row = mysql_fetch_row(*res);
    if (!*row) {
        mysql_free_result(*res);
        *res = NULL;
        return err_set(err, ERR_DB, "%s on %s returned no row", sql, c->where);
    }
    return 0;
}

int binlog_conn_open(const MdbConn *o, unsigned read_timeout_s, BinlogConn **out, Err *err)
{
    BinlogConn *c = calloc(1, sizeof *c);
    MYSQL_RES *res = NULL;
    MYSQL_ROW row = NULL;
    int rc = 0;

    if (!c)
        return err_set(err, ERR_NOMEM, "replication connection");
    mdb_conn_where(o, c->where, sizeof c->where);   /* user@unix:SOCKET, user@host:port */
    /* the option file and TLS settings apply as for the dump */
    if ((rc = mdb_connect(o, MDB_CONNECT_BIG_PACKETS, read_timeout_s, &c->my, err))) {
        err_wrap(err, "connect for replication");
        goto out;
    }
    if ((rc = query_row(c, "SELECT @@hostname, @@port, @@server_id, @@global.binlog_checksum, "
                           "@@log_bin, CURRENT_USER()", &res, &row, err)))
        goto out;
    snprintf(c->identity, sizeof c->identity, "%s:%s/%s", row[0] ? row[0] : "?",
             row[1] ? row[1] : "?", row[2] ? row[2] : "?");
    c->server_id = row[2] ? (uint32_t)strtoul(row[2], NULL, 10) : 0;
    c->checksum = row[3] && strcmp(row[3], "CRC32") == 0;
    bool log_bin = row[4] && strcmp(row[4], "1") == 0;
    if (row[5]) {
        const char *at = strrchr(row[5], '@');
        if (at)
            snprintf(c->account, sizeof c->account, "'%.*s'@'%s'", (int)(at - row[5]), row[5],
                     at + 1);
        else
            snprintf(c->account, sizeof c->account, "'%s'", row[5]);
    }
    mysql_free_result(res);
    res = NULL;
    if (!log_bin) {
        rc = err_set(err, ERR_INVALID, "the server at %s has no binary log (log_bin is off)",
                     c->where);
        goto out;
    }
    /* BINLOG MONITOR (10.5+) or REPLICATION CLIENT lets us list binlogs */
    if (mysql_query(c->my, "SHOW BINARY LOGS")) {
        unsigned e = mysql_errno(c->my);
        if (e == ER_SPECIFIC_ACCESS_DENIED_ERROR || e == ER_ACCESS_DENIED_ERROR ||
            e == ER_DBACCESS_DENIED_ERROR) {
            rc = err_set(err, ERR_PERM,
                         "the account %s may not read the binlog list on %s; fix with: "
                         "GRANT BINLOG MONITOR ON *.* TO %s;",
                         c->account, c->where, c->account);
            goto out;
        }
        rc = db_err(c, err, "SHOW BINARY LOGS");
        goto out;
    }
    res = mysql_store_result(c->my);
    mysql_free_result(res);
    res = NULL;
    *out = c;
    c = NULL;
out:
    if (res)
        mysql_free_result(res);
    binlog_conn_close(c);
    return rc;
}

void binlog_conn_close(BinlogConn *c)
{
    if (!c)
        return;
    if (c->rpl)
        mariadb_rpl_close(c->rpl);
    if (c->my)
        mysql_close(c->my);
    free(c);
}

const char *binlog_conn_identity(const BinlogConn *c)
{
    return c->identity;
}

uint32_t binlog_conn_server_id(const BinlogConn *c)
{
    return c->server_id;
}

unsigned binlog_conn_checksum(const BinlogConn *c)
{
    return c->checksum;
}

int binlog_conn_files(BinlogConn *c, BinlogServerFile **out, size_t *n, Err *err)
{
    MYSQL_RES *res = NULL;
    BinlogServerFile *v = NULL;
    size_t cnt = 0;
    if (mysql_query(c->my, "SHOW BINARY LOGS") || !(res = mysql_store_result(c->my)))
        return db_err(c, err, "SHOW BINARY LOGS");
    size_t rows = (size_t)mysql_num_rows(res);
    v = calloc(rows ? rows : 1, sizeof *v);
    if (!v) {
        mysql_free_result(res);
        return err_set(err, ERR_NOMEM, "binlog list");
    }
    for (MYSQL_ROW row; (row = mysql_fetch_row(res)) && cnt < rows;) {
        snprintf(v[cnt].name, sizeof v[cnt].name, "%s", row[0] ? row[0] : "");
        v[cnt].size = row[1] ? strtoull(row[1], NULL, 10) : 0;
        cnt++;
    }
    mysql_free_result(res);
    *out = v;
    *n = cnt;
    return 0;
}

int binlog_conn_dump(BinlogConn *c, const char *file, uint64_t pos, const char *gtid,
                     uint32_t our_id, unsigned heartbeat_ms, bool nonblock, Err *err)
{
    char sql[1200];
    int rc = 0;

    if (mysql_query(c->my, "SET @master_binlog_checksum = @@global.binlog_checksum") ||
        mysql_query(c->my, "SET @mariadb_slave_capability = 4"))
        return db_err(c, err, "prepare replication session");
    snprintf(sql, sizeof sql, "SET @master_heartbeat_period = %llu",
             (unsigned long long)heartbeat_ms * 1000000ull);
    if (mysql_query(c->my, sql))
        return db_err(c, err, "set heartbeat period");
    if (gtid) {
        if (strspn(gtid, "0123456789-, ") != strlen(gtid))
            return err_set(err, ERR_INVALID, "bad GTID state '%s'", gtid);
        snprintf(sql, sizeof sql, "SET @slave_connect_state = '%s'", gtid);
        if (mysql_query(c->my, sql) || mysql_query(c->my, "SET @slave_gtid_strict_mode = 1"))
            return db_err(c, err, "set GTID start state");
        file = "";
        pos = 4;
    }
    c->rpl = mariadb_rpl_init(c->my);
    if (!c->rpl)
        return db_err(c, err, "init replication");
    uint32_t flags = MARIADB_RPL_BINLOG_SEND_ANNOTATE_ROWS;
    if (nonblock)
        flags |= MARIADB_RPL_BINLOG_DUMP_NON_BLOCK;
    mariadb_rpl_optionsv(c->rpl, MARIADB_RPL_FILENAME, file, strlen(file));
    mariadb_rpl_optionsv(c->rpl, MARIADB_RPL_START, (unsigned long)pos);
    mariadb_rpl_optionsv(c->rpl, MARIADB_RPL_SERVER_ID, our_id);
    mariadb_rpl_optionsv(c->rpl, MARIADB_RPL_FLAGS, flags);
    if (mariadb_rpl_open(c->rpl)) {
        unsigned e = mysql_errno(c->my);
        if (e == ER_SPECIFIC_ACCESS_DENIED_ERROR || e == ER_ACCESS_DENIED_ERROR)
            return err_set(err, ERR_PERM,
                           "the account %s may not read the binlog stream on %s; fix with: "
                           "GRANT REPLICATION SLAVE ON *.* TO %s;",
                           c->account, c->where, c->account);
        return db_err(c, err, "start binlog dump");
    }
    return rc;
}

int binlog_conn_fetch(BinlogConn *c, const uint8_t **ev, size_t *len, Err *err)
{
    /* Raw packets, not mariadb_rpl_fetch(): the connector's parser fails on
     * compressed row events (log_bin_compress: CR_ERR_BINLOG_UNCOMPRESS)
     * and misreads Rotate events when checksums are on, and we need none of
     * its parsing. mysql_net_read_packet() is its public packet reader. */
    *ev = NULL;
    *len = 0;
    unsigned long n = mysql_net_read_packet(c->my);
    if (n == 0 || n >= 0xFFFFFFFFul) {   /* packet_error is (unsigned int)-1 */
        unsigned no = mysql_errno(c->my);
        if (no == ER_MASTER_FATAL_ERROR_READING_BINLOG) {
            const char *m = mysql_error(c->my);
            if (strstr(m, "purged") || strstr(m, "Could not find first log") ||
                strstr(m, "could not find"))
                return err_set(err, ERR_GAP, "the server at %s no longer has the binlog the "
                               "archive needs: %s", c->where, m);
            if (strstr(m, "same server_id") || strstr(m, "same server_uuid"))
                return err_set(err, ERR_INVALID, "another replica uses our server_id on %s (set "
                               "binlog_server_id to a unique value): %s", c->where, m);
            return err_set(err, ERR_DB, "binlog dump on %s: %s", c->where, m);
        }
        if (no == ER_SPECIFIC_ACCESS_DENIED_ERROR || no == ER_ACCESS_DENIED_ERROR)
            /* the server refuses COM_BINLOG_DUMP in its first answer */
            return err_set(err, ERR_PERM,
                           "the account %s may not read the binlog stream on %s (%s); fix with: "
                           "GRANT REPLICATION SLAVE ON *.* TO %s;",
                           c->account, c->where, mysql_error(c->my), c->account);
        return db_err(c, err, "binlog dump");
    }
    const uint8_t *p = c->my->net.read_pos;
    if (n < 9 && p[0] == 0xFE)
        return 0;   /* EOF: end of a non-blocking dump */
    if (p[0] != 0x00 || n < 1 + MDB_HDR_LEN)
        return err_set(err, ERR_CORRUPT, "unexpected replication packet (%lu bytes, first byte "
                       "%u) from %s", n, p[0], c->where);
    *ev = p + 1;
    *len = n - 1;
    return 0;
}
