/* rst_proto.c: MySQL protocol packets on a blocking socket, server side:
 * 3-byte length + sequence id framing (16 MiB - 1 continuation rule), OK,
 * ERR, EOF and text result sets. Output is buffered; callers flush before
 * they wait for the peer. Invariant: c->seq is the id of the next packet. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "restore/replay/rst_replay_int.h"

#define PKT_MAX 0xffffffu
#define OUT_FLUSH_AT (256u * 1024u)

void rst_conn_init(RstConn *c, int fd)
{
    c->fd = fd;
    c->seq = 0;
    buf_init(&c->out, (size_t)1 << 31);
    buf_init(&c->in, (size_t)1 << 30);
}

void rst_conn_free(RstConn *c)
{
    if (!c) return;
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    buf_free(&c->out);
    buf_free(&c->in);
}

static int read_full(RstConn *c, uint8_t *p, size_t n, int timeout_ms, Err *err)
{
    while (n > 0) {
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        int pr = poll(&pfd, 1, timeout_ms);
        ssize_t r;
        if (pr < 0) {
            if (errno == EINTR) continue;
            return err_sys(err, errno, "poll replica connection");
        }
        if (pr == 0) return err_set(err, ERR_NET, "replica connection: no data for %d ms", timeout_ms);
        r = recv(c->fd, p, n, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            err_sys(err, errno, "read from replica connection");
            err->code = ERR_NET;
            return ERR_NET;
        }
        if (r == 0) return err_set(err, ERR_NET, "replica closed the connection");
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

int rst_conn_read(RstConn *c, int timeout_ms, Err *err)
{
    int rc;
    uint8_t h[4];
    buf_reset(&c->in);
    for (;;) {
        size_t len;
        rc = read_full(c, h, 4, timeout_ms, err);
        if (rc) return rc;
        len = (size_t)h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16;
        c->seq = (uint8_t)(h[3] + 1);
        rc = buf_reserve(&c->in, len + 1, err);
        if (rc) return err_wrap(err, "packet from replica (%zu bytes)", len);
        rc = read_full(c, c->in.data + c->in.len, len, timeout_ms, err);
        if (rc) return rc;
        c->in.len += len;
        c->in.data[c->in.len] = 0;   /* reserve(len + 1) keeps room for a terminator */
        if (len < PKT_MAX) return 0;
    }
}

int rst_conn_flush(RstConn *c, Err *err)
{
    size_t off = 0;
    while (off < c->out.len) {
        ssize_t w = send(c->fd, c->out.data + off, c->out.len - off, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            err_sys(err, errno, "write to replica connection");
            err->code = ERR_NET;
            buf_reset(&c->out);
            return ERR_NET;
        }
        off += (size_t)w;
    }
    buf_reset(&c->out);
    return 0;
}

/* Queue the payload made of `pre` (0 or 1 byte) then body, split at PKT_MAX. */
static int write_parts(RstConn *c, const uint8_t *pre, size_t npre, const uint8_t *body, size_t n,
                       Err *err)
{
    size_t total = npre + n, done = 0;
    int rc;
    for (;;) {
        size_t chunk = total - done;
        uint8_t h[4];
        if (chunk > PKT_MAX) chunk = PKT_MAX;
        h[0] = (uint8_t)chunk;
        h[1] = (uint8_t)(chunk >> 8);
        h[2] = (uint8_t)(chunk >> 16);
        h[3] = c->seq++;
        rc = buf_append(&c->out, h, 4, err);
        if (rc) return rc;
        for (size_t i = 0; i < chunk;) {
            size_t at = done + i, take;
            if (at < npre) {
                rc = buf_append(&c->out, pre + at, 1, err);
                take = 1;
            } else {
                take = chunk - i;
                rc = buf_append(&c->out, body + (at - npre), take, err);
            }
            if (rc) return rc;
            i += take;
        }
        done += chunk;
        if (c->out.len >= OUT_FLUSH_AT) {
            rc = rst_conn_flush(c, err);
            if (rc) return rc;
        }
        if (chunk < PKT_MAX) return 0; /* a full-size chunk needs a (maybe empty) follower */
    }
}

int rst_conn_write(RstConn *c, const void *payload, size_t n, Err *err)
{
    return write_parts(c, NULL, 0, payload, n, err);
}

int rst_conn_write2(RstConn *c, uint8_t prefix, const void *body, size_t n, Err *err)
{
    return write_parts(c, &prefix, 1, body, n, err);
}

static size_t put_lenenc(uint8_t *p, uint64_t v)
{
    if (v < 251) { p[0] = (uint8_t)v; return 1; }
    if (v < 65536) { p[0] = 0xfc; mdb_put_le16(p + 1, (uint16_t)v); return 3; }
    if (v < 16777216) {
        p[0] = 0xfd; p[1] = (uint8_t)v; p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)(v >> 16);
        return 4;
    }
    p[0] = 0xfe;
    mdb_put_le64(p + 1, v);
    return 9;
}

static int append_lenenc_str(Buf *b, const char *s, Err *err)
{
    uint8_t h[9];
    size_t n = strlen(s);
    int rc = buf_append(b, h, put_lenenc(h, n), err);
    return rc ? rc : buf_append(b, s, n, err);
}

int rst_conn_ok(RstConn *c, Err *err)
{
    static const uint8_t ok[] = {0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00};
    return rst_conn_write(c, ok, sizeof ok, err);
}

int rst_conn_eof(RstConn *c, Err *err)
{
    static const uint8_t eof[] = {0xfe, 0x00, 0x00, 0x02, 0x00};
    return rst_conn_write(c, eof, sizeof eof, err);
}

int rst_conn_errpkt(RstConn *c, uint16_t code, const char *state, const char *msg, Err *err)
{
    uint8_t p[512];
    size_t n = strlen(msg);
    if (n > sizeof p - 9) n = sizeof p - 9;
    p[0] = 0xff;
    mdb_put_le16(p + 1, code);
    p[3] = '#';
    memcpy(p + 4, state, 5);
    memcpy(p + 9, msg, n);
    return rst_conn_write(c, p, 9 + n, err);
}

int rst_conn_resultset(RstConn *c, const char *const *cols, size_t ncols,
                       const char *const *rows, size_t nrows, Err *err)
{
    Buf b;
    uint8_t h[9];
    int rc;
    buf_init(&b, (size_t)1 << 20);
    rc = rst_conn_write(c, h, put_lenenc(h, ncols), err);
    for (size_t i = 0; !rc && i < ncols; i++) {
        uint8_t fixed[13] = {0x0c, 45, 0, 0, 0, 1, 0, 253 /* VAR_STRING */, 0, 0, 0, 0, 0};
        mdb_put_le32(fixed + 3, 1024);
        buf_reset(&b);
        rc = append_lenenc_str(&b, "def", err);
        if (!rc) rc = append_lenenc_str(&b, "", err);
        if (!rc) rc = append_lenenc_str(&b, "", err);
        if (!rc) rc = append_lenenc_str(&b, "", err);
        if (!rc) rc = append_lenenc_str(&b, cols[i], err);
        if (!rc) rc = append_lenenc_str(&b, cols[i], err);
        if (!rc) rc = buf_append(&b, fixed, sizeof fixed, err);
        if (!rc) rc = rst_conn_write(c, b.data, b.len, err);
    }
    if (!rc) rc = rst_conn_eof(c, err);
    for (size_t r = 0; !rc && r < nrows; r++) {
        buf_reset(&b);
        for (size_t i = 0; !rc && i < ncols; i++) {
            const char *v = rows[r * ncols + i];
            if (!v) {
                uint8_t nul = 0xfb;
                rc = buf_append(&b, &nul, 1, err);
            } else {
                rc = append_lenenc_str(&b, v, err);
            }
        }
        if (!rc) rc = rst_conn_write(c, b.data, b.len, err);
    }
    if (!rc) rc = rst_conn_eof(c, err);
    buf_free(&b);
    return rc;
}
