/* faultproxy.c: a small HTTP/1.1 proxy for tests that sits between the S3
 * driver and a real S3 server on loopback and, per request and at given
 * rates, injects the failures a network and a busy store produce:
 *   --error R  answer 503 SlowDown / 500 InternalError / 503 ServiceUnavailable
 *              itself (the request never reaches the server)
 *   --reset R  reset the client connection (RST) after reading the request head
 *   --stall R  forward the request, then hold the answer back for --stall-ms
 *              and close (the client's low-speed timeout fires first)
 *   --cut R    forward the request, pass the answer's head and half its body,
 *              then close (a body cut short)
 * Usage: faultproxy --upstream 127.0.0.1:PORT [--listen PORT] [--port-file F]
 *          [--stats-file F] [--seed N] [--stall-ms MS] [rates...]
 * One thread, poll(); listens on 127.0.0.1 only. On SIGTERM/SIGINT it writes
 * "requests=N error=N reset=N stall=N cut=N" to --stats-file and stderr.
 * Invariant: requests are framed by Content-Length (the driver never sends
 * chunked bodies and never pipelines), so each request gets one decision. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXC 256
#define CIN_MAX (64 * 1024)
#define OUT_MAX (512 * 1024)

enum { F_NONE, F_ERROR, F_RESET, F_STALL, F_CUT };
enum { RS_HEAD, RS_BODY, RS_DISCARD };

typedef struct Conn {
    int cfd, ufd;
    char cin[CIN_MAX];
    size_t cin_len;
    char *uout, *cout;              /* to upstream, to client */
    size_t uout_len, cout_len;
    int rstate;
    uint64_t body_left;
    int fault;
    bool is_head;
    bool err_pending;               /* F_ERROR: answer once the body is discarded */
    /* F_CUT: the answer's head is gathered here until complete */
    char rhead[CIN_MAX];
    size_t rhead_len;
    bool rhead_done;
    int64_t allow;                  /* body bytes still passed; -1 = not yet known */
    bool close_after_flush;
    long stall_until;
} Conn;

static Conn *conns[MAXC];
static double rate[5];
static long stall_ms = 5000;
static uint64_t rng = 0x9E3779B97F4A7C15ull;
static unsigned long n_req, n_fault[5], n_cut_skipped;
static volatile sig_atomic_t stop;

static uint64_t next_rand(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ull;
}

static double uniform(void)
{
    return (double)(next_rand() >> 11) / 9007199254740992.0;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void set_nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void conn_free(Conn *c, bool rst)
{
    if (rst) {
        struct linger l = { 1, 0 };   /* close with RST */
        setsockopt(c->cfd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    close(c->cfd);
    if (c->ufd >= 0) close(c->ufd);
    free(c->uout);
    free(c->cout);
    free(c);
}

static const char *find_crlf2(const char *p, size_t n)
{
    for (size_t i = 0; i + 3 < n; i++)
        if (p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n') return p + i;
    return NULL;
}

/* Value of a header in a head (case-insensitive name), or NULL. */
static const char *header(const char *head, size_t n, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    const char *p = head, *end = head + n;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) break;
        if ((size_t)(eol - p) > nl + 1 && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (v < eol && *v == ' ') v++;
            *vlen = (size_t)(eol - v);
            if (*vlen && v[*vlen - 1] == '\r') (*vlen)--;
            return v;
        }
        p = eol + 1;
    }
    return NULL;
}

static uint64_t content_length(const char *head, size_t n, bool *has)
{
    size_t vl;
    const char *v = header(head, n, "Content-Length", &vl);
    *has = v != NULL;
    return v ? strtoull(v, NULL, 10) : 0;
}

static bool push(char *dst, size_t *len, const void *p, size_t n)
{
    if (*len + n > OUT_MAX) return false;
    memcpy(dst + *len, p, n);
    *len += n;
    return true;
}

static void queue_error(Conn *c)
{
    static const struct { int status; const char *reason, *code, *msg; } e[] = {
        { 503, "Slow Down", "SlowDown", "Please reduce your request rate." },
        { 500, "Internal Server Error", "InternalError", "We encountered an internal error. Please try again." },
        { 503, "Service Unavailable", "ServiceUnavailable", "Service is unable to handle request." },
    };
    char body[512], head[512];
    int k = (int)(next_rand() % 3), bl, hl;
    bl = snprintf(body, sizeof body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>%s</Code><Message>%s</Message>"
                  "<RequestId>faultproxy</RequestId></Error>", e[k].code, e[k].msg);
    hl = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Type: application/xml\r\nContent-Length: %d\r\n"
                  "Connection: keep-alive\r\n\r\n", e[k].status, e[k].reason, bl);
    push(c->cout, &c->cout_len, head, (size_t)hl);
    if (!c->is_head) push(c->cout, &c->cout_len, body, (size_t)bl);
}

static int decide(void)
{
    double u = uniform(), acc = 0;
    for (int f = F_ERROR; f <= F_CUT; f++) {
        acc += rate[f];
        if (u < acc) return f;
    }
    return F_NONE;
}

/* Consume client bytes: frame requests, decide a fault per request. Returns
 * false when the connection must go (reset). */
static bool client_input(Conn *c)
{
    for (;;) {
        if (c->rstate == RS_HEAD) {
            const char *e = find_crlf2(c->cin, c->cin_len);
            size_t hl;
            bool has;
            if (!e) return c->cin_len < CIN_MAX;
            hl = (size_t)(e - c->cin) + 4;
            n_req++;
            c->is_head = strncmp(c->cin, "HEAD ", 5) == 0;
            c->body_left = content_length(c->cin, hl, &has);
            c->fault = decide();
            if (c->fault == F_CUT && c->is_head) c->fault = F_NONE;   /* a HEAD answer has no body to cut */
            n_fault[c->fault]++;
            if (c->fault == F_RESET) return false;
            if (c->fault == F_ERROR) {
                c->rstate = RS_DISCARD;
                c->err_pending = true;
            } else {
                if (c->uout_len + hl > OUT_MAX) { n_req--; n_fault[c->fault]--; return true; }   /* retry later */
                push(c->uout, &c->uout_len, c->cin, hl);
                c->rstate = RS_BODY;
                c->rhead_len = 0;
                c->rhead_done = false;
                c->allow = -1;
                if (c->fault == F_STALL) c->stall_until = now_ms() + stall_ms;
            }
            memmove(c->cin, c->cin + hl, c->cin_len - hl);
            c->cin_len -= hl;
        }
        if (c->rstate == RS_BODY) {
            size_t n = c->cin_len, room = OUT_MAX - c->uout_len;
            if (n > c->body_left) n = (size_t)c->body_left;
            if (n > room) n = room;
            push(c->uout, &c->uout_len, c->cin, n);
            memmove(c->cin, c->cin + n, c->cin_len - n);
            c->cin_len -= n;
            c->body_left -= n;
            if (c->body_left == 0) c->rstate = RS_HEAD;
            else return true;
        }
        if (c->rstate == RS_DISCARD) {
            size_t n = c->cin_len < c->body_left ? c->cin_len : (size_t)c->body_left;
            memmove(c->cin, c->cin + n, c->cin_len - n);
            c->cin_len -= n;
            c->body_left -= n;
            if (c->body_left) return true;
            if (c->cout_len + 1024 > OUT_MAX) return true;
            queue_error(c);
            c->err_pending = false;
            c->rstate = RS_HEAD;
        }
        if (c->cin_len == 0) return true;
    }
}

/* Bytes from upstream for the client; F_CUT passes the head and half the body. */
static void upstream_input(Conn *c, const char *p, size_t n)
{
    if (c->fault != F_CUT) {
        push(c->cout, &c->cout_len, p, n);
        return;
    }
    if (!c->rhead_done) {
        const char *e;
        size_t take = n < CIN_MAX - c->rhead_len ? n : CIN_MAX - c->rhead_len;
        memcpy(c->rhead + c->rhead_len, p, take);
        c->rhead_len += take;
        e = find_crlf2(c->rhead, c->rhead_len);
        if (!e) return;
        {
            size_t hl = (size_t)(e - c->rhead) + 4, vl;
            bool has;
            uint64_t cl = content_length(c->rhead, hl, &has);
            bool chunked = header(c->rhead, hl, "Transfer-Encoding", &vl) != NULL;
            push(c->cout, &c->cout_len, c->rhead, hl);
            c->rhead_done = true;
            if (has && cl >= 2) c->allow = (int64_t)(cl / 2);
            else if (chunked) c->allow = -1;   /* half of what comes next */
            else {                              /* nothing to cut: pass it whole */
                n_cut_skipped++;
                c->fault = F_NONE;
                push(c->cout, &c->cout_len, c->rhead + hl, c->rhead_len - hl);
                return;
            }
            p = c->rhead + hl;
            n = c->rhead_len - hl;
        }
    }
    if (n == 0) return;
    if (c->allow < 0) c->allow = (int64_t)(n / 2);
    {
        size_t pass = (uint64_t)c->allow < n ? (size_t)c->allow : n;
        push(c->cout, &c->cout_len, p, pass);
        c->allow -= (int64_t)pass;
        if (c->allow == 0) c->close_after_flush = true;
    }
}

static bool flush(int fd, char *buf, size_t *len)
{
    while (*len) {
        ssize_t w = send(fd, buf, *len, MSG_NOSIGNAL);
        if (w < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
        memmove(buf, buf + w, *len - (size_t)w);
        *len -= (size_t)w;
    }
    return true;
}

static int connect_upstream(const struct sockaddr_in *up)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (fd < 0) return -1;
    if (connect(fd, (const struct sockaddr *)up, sizeof *up) != 0) {
        close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    set_nonblock(fd);
    return fd;
}

static void write_stats(const char *path)
{
    char line[256];
    snprintf(line, sizeof line, "requests=%lu error=%lu reset=%lu stall=%lu cut=%lu cut_skipped=%lu\n", n_req,
             n_fault[F_ERROR], n_fault[F_RESET], n_fault[F_STALL], n_fault[F_CUT], n_cut_skipped);
    fprintf(stderr, "faultproxy: %s", line);
    if (path) {
        FILE *f = fopen(path, "w");
        if (f) {
            fputs(line, f);
            fclose(f);
        }
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: faultproxy --upstream 127.0.0.1:PORT [--listen PORT] [--port-file F] [--stats-file F]\n"
                    "       [--seed N] [--stall-ms MS] [--error R] [--reset R] [--stall R] [--cut R]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct sockaddr_in up = { .sin_family = AF_INET }, me = { .sin_family = AF_INET };
    const char *port_file = NULL, *stats_file = NULL;
    int lfd, one = 1, listen_port = 0;
    socklen_t ml = sizeof me;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) usage();
        i++;
        if (strcmp(a, "--upstream") == 0) {
            const char *colon = strrchr(v, ':');
            char host[64];
            if (!colon || (size_t)(colon - v) >= sizeof host) usage();
            memcpy(host, v, (size_t)(colon - v));
            host[colon - v] = '\0';
            if (inet_pton(AF_INET, host, &up.sin_addr) != 1 || (ntohl(up.sin_addr.s_addr) >> 24) != 127) {
                fprintf(stderr, "faultproxy: upstream must be a 127.x.x.x address\n");
                return 2;
            }
            up.sin_port = htons((uint16_t)atoi(colon + 1));
        } else if (strcmp(a, "--listen") == 0) listen_port = atoi(v);
        else if (strcmp(a, "--port-file") == 0) port_file = v;
        else if (strcmp(a, "--stats-file") == 0) stats_file = v;
        else if (strcmp(a, "--seed") == 0) rng ^= strtoull(v, NULL, 10) * 0xD1B54A32D192ED03ull;
        else if (strcmp(a, "--stall-ms") == 0) stall_ms = atol(v);
        else if (strcmp(a, "--error") == 0) rate[F_ERROR] = atof(v);
        else if (strcmp(a, "--reset") == 0) rate[F_RESET] = atof(v);
        else if (strcmp(a, "--stall") == 0) rate[F_STALL] = atof(v);
        else if (strcmp(a, "--cut") == 0) rate[F_CUT] = atof(v);
        else usage();
    }
    if (!up.sin_port) usage();
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    me.sin_port = htons((uint16_t)listen_port);
    if (bind(lfd, (struct sockaddr *)&me, sizeof me) != 0 || listen(lfd, 128) != 0) {
        perror("faultproxy: bind/listen");
        return 1;
    }
    set_nonblock(lfd);
    getsockname(lfd, (struct sockaddr *)&me, &ml);
    if (port_file) {
        char tmp[4096];
        FILE *f;
        snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
        f = fopen(tmp, "w");
        if (!f) { perror("faultproxy: port file"); return 1; }
        fprintf(f, "%d\n", ntohs(me.sin_port));
        fclose(f);
        rename(tmp, port_file);   /* readers never see a half-written port */
    }
    while (!stop) {
        struct pollfd pfd[1 + 2 * MAXC];
        int idx[1 + 2 * MAXC], np = 0, timeout = 1000;
        long now = now_ms();
        pfd[np] = (struct pollfd){ lfd, POLLIN, 0 };
        idx[np++] = -1;
        for (int i = 0; i < MAXC; i++) {
            Conn *c = conns[i];
            short ce = 0, ue = 0;
            if (!c) continue;
            if (c->fault == F_STALL && c->stall_until) {
                long left = c->stall_until - now;
                if (left <= 0) { conn_free(c, false); conns[i] = NULL; continue; }
                if (left < timeout) timeout = (int)left;
            }
            if (c->cin_len < CIN_MAX) ce |= POLLIN;
            if (c->cout_len) ce |= POLLOUT;
            if (c->uout_len) ue |= POLLOUT;
            if (!(c->fault == F_STALL && c->stall_until) && !c->close_after_flush && c->cout_len < OUT_MAX / 2) ue |= POLLIN;
            pfd[np] = (struct pollfd){ c->cfd, ce, 0 };
            idx[np++] = i;
            pfd[np] = (struct pollfd){ c->ufd, ue, 0 };
            idx[np++] = i;
        }
        if (poll(pfd, (nfds_t)np, timeout) < 0) {
            if (errno == EINTR) continue;
            perror("faultproxy: poll");
            break;
        }
        if (pfd[0].revents & POLLIN) {
            int cfd;
            while ((cfd = accept(lfd, NULL, NULL)) >= 0) {
                int slot = -1;
                Conn *c;
                for (int i = 0; i < MAXC; i++) if (!conns[i]) { slot = i; break; }
                c = slot >= 0 ? calloc(1, sizeof *c) : NULL;
                if (c) {
                    c->uout = malloc(OUT_MAX);
                    c->cout = malloc(OUT_MAX);
                }
                if (!c || !c->uout || !c->cout || (c->ufd = connect_upstream(&up)) < 0) {
                    if (c) { free(c->uout); free(c->cout); free(c); }
                    close(cfd);
                    continue;
                }
                setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                set_nonblock(cfd);
                c->cfd = cfd;
                conns[slot] = c;
            }
        }
        for (int k = 1; k < np; k += 2) {
            int i = idx[k];
            Conn *c = conns[i];
            bool dead = false, rst = false;
            char tmp[64 * 1024];
            if (!c) continue;
            if (pfd[k].revents & (POLLIN | POLLHUP | POLLERR)) {   /* client side */
                ssize_t r = recv(c->cfd, c->cin + c->cin_len, CIN_MAX - c->cin_len, 0);
                if (r > 0) {
                    c->cin_len += (size_t)r;
                    if (!client_input(c)) dead = rst = true;
                } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                    dead = true;
                }
            }
            if (!dead && (pfd[k + 1].revents & (POLLIN | POLLHUP | POLLERR)) && !(c->fault == F_STALL && c->stall_until)) {
                ssize_t r = recv(c->ufd, tmp, sizeof tmp < OUT_MAX - c->cout_len ? sizeof tmp : OUT_MAX - c->cout_len, 0);
                if (r > 0) upstream_input(c, tmp, (size_t)r);
                else if (r == 0 || (errno != EAGAIN && errno != EINTR)) c->close_after_flush = true;
            }
            if (!dead && !flush(c->ufd, c->uout, &c->uout_len)) dead = true;
            if (!dead && !flush(c->cfd, c->cout, &c->cout_len)) dead = true;
            if (!dead && c->rstate != RS_HEAD && c->cin_len) {
                if (!client_input(c)) dead = rst = true;   /* room freed up: go on framing */
            }
            if (!dead && c->rstate == RS_HEAD && c->cin_len && !client_input(c)) dead = rst = true;
            if (!dead && c->close_after_flush && c->cout_len == 0) dead = true;
            if (dead) {
                conn_free(c, rst);
                conns[i] = NULL;
            }
        }
    }
    write_stats(stats_file);
    for (int i = 0; i < MAXC; i++)
        if (conns[i]) conn_free(conns[i], false);
    close(lfd);
    return 0;
}
