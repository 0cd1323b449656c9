/* s3_ops.c: drives the S3 driver against a real S3 server (Ceph RGW from
 * ../shared/tools/s3-real, started by s3_ops.sh) through the sto_* wrappers.
 *   s3_ops cache URL count|any  ranged reads through the block cache (count:
 *                               check the number of requests too)
 *   s3_ops ops URL              every op: round trip, ranges, stat, missing
 *                               keys, list over >1000 keys, del_many,
 *                               multipart, prefixes, threads
 *   s3_ops expect-error URL CODE FRAGMENT
 *                               opening (then a put) must fail with ERR_CODE
 *                               (an err_code_name) and a message holding FRAGMENT
 *   s3_ops stress URL N THREADS put+get+verify N objects; prints the counters
 *   s3_ops bench URL MIB RUNS   PUT/GET throughput of one MIB-sized object
 * Credentials and knobs come from the environment, as for tidemark itself.
 * Exit 0 when every check passed; failures print "FAIL ..." lines. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "storage-backends/s3/s3.h"
#include "storage-backends/storage.h"
#include "tests/support/tst_util.h"

static int nfail;

#define CHECK(cond, ...)                                   \
    do {                                                   \
        if (!(cond)) {                                     \
            nfail++;                                       \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);    \
            printf(__VA_ARGS__);                           \
            printf("\n");                                  \
        }                                                  \
    } while (0)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static Sto *open_or_die(const char *url)
{
    Sto *s = NULL;
    Err err;
    err_clear(&err);
    if (sto_open_url(url, STO_OPEN_CREATE, &s, &err) != 0) {
        printf("FAIL open %s: %s\n", url, err.msg);
        exit(1);
    }
    return s;
}

static void put_ok(Sto *s, const char *key, const void *p, size_t n)
{
    Err err;
    err_clear(&err);
    int rc = sto_put(s, key, p, n, &err);
    CHECK(rc == 0, "put %s: %s", key, err.msg);
}

static void get_eq(Sto *s, const char *key, uint64_t off, size_t len, const void *want, size_t wlen)
{
    Buf b;
    Err err;
    buf_init(&b, 0);
    err_clear(&err);
    int rc = sto_get(s, key, off, len, &b, &err);
    CHECK(rc == 0, "get %s @%llu+%zu: %s", key, (unsigned long long)off, len, err.msg);
    if (rc == 0) CHECK(b.len == wlen && (wlen == 0 || memcmp(b.data, want, wlen) == 0),
                       "get %s @%llu: %zu bytes, want %zu, or content differs", key, (unsigned long long)off, b.len, wlen);
    buf_free(&b);
}

typedef struct Count {
    size_t n;
    char prev[256];
    bool sorted;
    uint64_t bytes;
} Count;

static int count_key(void *ctx, const char *key, uint64_t size, Err *err)
{
    Count *c = ctx;
    (void)err;
    if (c->n && strcmp(c->prev, key) >= 0) c->sorted = false;
    snprintf(c->prev, sizeof c->prev, "%s", key);
    c->n++;
    c->bytes += size;
    return 0;
}

static Count list_count(Sto *s, const char *prefix)
{
    Count c = { 0, "", true, 0 };
    Err err;
    err_clear(&err);
    int rc = sto_list(s, prefix, count_key, &c, &err);
    CHECK(rc == 0, "list %s: %s", prefix, err.msg);
    return c;
}

typedef struct PutJob {
    Sto *sto;
    const char *prefix;
    int n, nthreads, id;
} PutJob;

static void *put_many(void *arg)
{
    PutJob *j = arg;
    for (int i = j->id; i < j->n; i += j->nthreads) {
        char key[64], body[64];
        snprintf(key, sizeof key, "%s%05d", j->prefix, i);
        snprintf(body, sizeof body, "object %d", i);
        put_ok(j->sto, key, body, strlen(body));
    }
    return NULL;
}

static void run_threads(Sto *s, const char *prefix, int n, int nthreads)
{
    pthread_t th[16];
    PutJob jobs[16];
    for (int t = 0; t < nthreads; t++) {
        jobs[t] = (PutJob){ s, prefix, n, nthreads, t };
        pthread_create(&th[t], NULL, put_many, &jobs[t]);
    }
    for (int t = 0; t < nthreads; t++) pthread_join(th[t], NULL);
}

static void expect_code(int rc, const Err *err, int code, const char *fragment, const char *what)
{
    CHECK(rc == code, "%s: want %s, got %s: %s", what, err_code_name(code), err_code_name(rc), err->msg);
    CHECK(strstr(err->msg, fragment) != NULL, "%s: message '%s' lacks '%s'", what, err->msg, fragment);
}

static int cmd_ops(const char *url)
{
    Sto *s = open_or_die(url);
    Err err;
    Buf b;
    StoStat st;
    StoS3Stats s0, s1;
    int rc, ex = -1;
    const char *hello = "hello, object storage";

    /* round trip, stat, ranges */
    put_ok(s, "a/one", hello, strlen(hello));
    get_eq(s, "a/one", 0, STO_LEN_ALL, hello, strlen(hello));
    get_eq(s, "a/one", 7, 6, hello + 7, 6);
    get_eq(s, "a/one", 7, STO_LEN_ALL, hello + 7, strlen(hello) - 7);
    get_eq(s, "a/one", strlen(hello), STO_LEN_ALL, "", 0);
    err_clear(&err);
    rc = sto_stat(s, "a/one", &st, &err);
    CHECK(rc == 0 && st.size == strlen(hello) && st.mtime > 1600000000, "stat a/one: rc %d size %llu mtime %lld %s", rc,
          (unsigned long long)st.size, (long long)st.mtime, err.msg);
    buf_init(&b, 0);
    err_clear(&err);
    rc = sto_get(s, "a/one", 10, 100, &b, &err);
    expect_code(rc, &err, ERR_INVALID, "past the end", "range past the end");
    err_clear(&err);
    rc = sto_get(s, "a/one", 1000, STO_LEN_ALL, &b, &err);
    expect_code(rc, &err, ERR_INVALID, "past the end", "offset past the end");
    CHECK(b.len == 0, "failed gets left %zu bytes in the buffer", b.len);
    /* empty object, overwrite of a lock-like object */
    put_ok(s, "a/empty", "", 0);
    get_eq(s, "a/empty", 0, STO_LEN_ALL, "", 0);
    put_ok(s, "locks/x", "1", 1);
    put_ok(s, "locks/x", "22", 2);
    get_eq(s, "locks/x", 0, STO_LEN_ALL, "22", 2);
    /* missing keys */
    err_clear(&err);
    rc = sto_get(s, "a/missing", 0, STO_LEN_ALL, &b, &err);
    expect_code(rc, &err, ERR_NOTFOUND, "a/missing", "get of a missing key");
    err_clear(&err);
    rc = sto_stat(s, "a/missing", &st, &err);
    expect_code(rc, &err, ERR_NOTFOUND, "a/missing", "stat of a missing key");
    err_clear(&err);
    rc = sto_exists(s, "a/missing", &ex, &err);
    CHECK(rc == 0 && ex == 0, "exists a/missing: rc %d ex %d %s", rc, ex, err.msg);
    rc = sto_exists(s, "a/one", &ex, &err);
    CHECK(rc == 0 && ex == 1, "exists a/one: rc %d ex %d", rc, ex);
    /* delete, twice */
    err_clear(&err);
    CHECK(sto_del(s, "a/one", &err) == 0, "del a/one: %s", err.msg);
    CHECK(sto_del(s, "a/one", &err) == 0, "second del a/one: %s", err.msg);
    rc = sto_exists(s, "a/one", &ex, &err);
    CHECK(rc == 0 && ex == 0, "a/one still there after del");

    /* >1000 keys from 8 threads: listing needs continuation tokens */
    run_threads(s, "many/", 1100, 8);
    {
        Count c = list_count(s, "many/");
        CHECK(c.n == 1100 && c.sorted, "list many/: %zu keys (want 1100), sorted %d", c.n, c.sorted);
        c = list_count(s, "many/001");
        CHECK(c.n == 100, "list many/001: %zu keys (want 100)", c.n);
        c = list_count(s, "");
        CHECK(c.n == 1100 + 2, "list of the whole prefix: %zu keys (want 1102)", c.n);
        c = list_count(s, "nothing/");
        CHECK(c.n == 0, "list nothing/: %zu keys", c.n);
    }
    /* del_many in batches of 1000, with keys that do not exist mixed in */
    {
        char **keys = calloc(1102, sizeof *keys);
        for (int i = 0; i < 1100; i++) {
            keys[i] = malloc(32);
            snprintf(keys[i], 32, "many/%05d", i);
        }
        keys[1100] = strdup("many/not-there");
        keys[1101] = strdup("a/empty");
        err_clear(&err);
        rc = sto_del_many(s, (const char *const *)keys, 1102, &err);
        CHECK(rc == 0, "del_many: %s", err.msg);
        Count c = list_count(s, "many/");
        CHECK(c.n == 0, "after del_many, %zu keys remain under many/", c.n);
        for (int i = 0; i < 1102; i++) free(keys[i]);
        free(keys);
    }
    /* multipart: s3_ops.sh sets the threshold to 6 MiB and parts of 5 MiB */
    {
        size_t n = (17u << 20) + 3;
        uint8_t *big = malloc(n);
        tst_fill_random(big, n, 7);
        sto_s3_stats(s, &s0);
        put_ok(s, "packs/big", big, n);
        sto_s3_stats(s, &s1);
        CHECK(s1.requests - s0.requests >= 6, "a %zu-byte put took %llu requests: not multipart", n,
              (unsigned long long)(s1.requests - s0.requests));
        err_clear(&err);
        rc = sto_stat(s, "packs/big", &st, &err);
        CHECK(rc == 0 && st.size == n, "stat packs/big: %llu bytes (want %zu) %s", (unsigned long long)st.size, n, err.msg);
        get_eq(s, "packs/big", 0, STO_LEN_ALL, big, n);
        get_eq(s, "packs/big", (5u << 20) - 10, 20, big + (5u << 20) - 10, 20);   /* across a part boundary */
        get_eq(s, "packs/big", n - 5, STO_LEN_ALL, big + n - 5, 5);
        err_clear(&err);
        CHECK(sto_del(s, "packs/big", &err) == 0, "del packs/big: %s", err.msg);
        free(big);
    }
    /* a buffer limit is honoured, not overrun */
    {
        Buf small;
        uint8_t blob[4096];
        tst_fill_random(blob, sizeof blob, 3);
        put_ok(s, "a/blob", blob, sizeof blob);
        buf_init(&small, 1000);
        err_clear(&err);
        rc = sto_get(s, "a/blob", 0, STO_LEN_ALL, &small, &err);
        CHECK(rc == ERR_NOMEM, "get into a 1000-byte buffer: rc %s %s", err_code_name(rc), err.msg);
        buf_free(&small);
    }
    buf_free(&b);
    sto_s3_stats(s, &s1);
    printf("ops: %llu requests, %llu retries, %llu bytes up, %llu down\n", (unsigned long long)s1.requests,
           (unsigned long long)s1.retries, (unsigned long long)s1.bytes_up, (unsigned long long)s1.bytes_down);
    sto_close(s);

    /* another prefix does not see these keys; the repository prefix is not visible */
    {
        char other[1024];
        snprintf(other, sizeof other, "%s-other", url);
        Sto *o = open_or_die(other);
        Count c = list_count(o, "");
        CHECK(c.n == 0, "prefix %s sees %zu keys of its neighbour", other, c.n);
        sto_close(o);
        s = open_or_die(url);
        c = list_count(s, "");
        CHECK(c.n == 2, "reopened: %zu keys (want 2: a/blob locks/x)", c.n);
        CHECK(strcmp(c.prev, "locks/x") == 0, "last key '%s' (want locks/x, without the repository prefix)", c.prev);
        sto_close(s);
    }
    printf("%s\n", nfail ? "ops: FAILED" : "ops: all checks passed");
    return nfail ? 1 : 0;
}

static int cmd_expect_error(const char *url, const char *code, const char *fragment)
{
    Sto *s = NULL;
    Err err;
    int rc;
    err_clear(&err);
    rc = sto_open_url(url, STO_OPEN_CREATE, &s, &err);
    if (rc == 0) {
        rc = sto_put(s, "probe/x", "x", 1, &err);
        sto_close(s);
    }
    printf("error: %s: %s\n", err_code_name(rc), err.msg);
    CHECK(rc != 0, "no error");
    CHECK(strcmp(err_code_name(rc), code) == 0, "code %s, want %s", err_code_name(rc), code);
    CHECK(strstr(err.msg, fragment) != NULL, "message lacks '%s'", fragment);
    CHECK(strchr(err.msg, '\n') == NULL, "message is not one line");
    {
        const char *secrets[] = { getenv("AWS_SECRET_ACCESS_KEY"), getenv("AWS_SESSION_TOKEN") };
        for (int i = 0; i < 2; i++)
            CHECK(!secrets[i] || strlen(secrets[i]) < 4 || !strstr(err.msg, secrets[i]), "a secret leaked into the message");
    }
    return nfail ? 1 : 0;
}

/* The ranged-read block cache (s3_cache.c): the first ranged read of an
 * object is a plain GET; later ones go through 4 MiB blocks: a range across
 * a block boundary, one in the short last block, a block read again from
 * memory, a range past the end, then several threads at once. */
#define CACHE_OBJ_LEN ((size_t)10 * 1024 * 1024 + 12345)
#define MIB4 ((uint64_t)4 << 20)

typedef struct CacheJob {
    Sto *sto;
    const uint8_t *data;
    unsigned seed;
} CacheJob;

static void *cache_reader(void *arg)
{
    CacheJob *j = arg;
    unsigned x = j->seed;
    for (int i = 0; i < 40; i++) {
        x = x * 1103515245u + 12345u;
        size_t len = 1 + (x >> 8) % (1024 * 1024);
        x = x * 1103515245u + 12345u;
        uint64_t off = ((uint64_t)x << 8 ^ x) % (CACHE_OBJ_LEN - len + 1);
        get_eq(j->sto, "cache/obj", off, len, j->data + off, len);
    }
    return NULL;
}

static int cmd_cache(const char *url, bool count_requests)
{
    Sto *s = open_or_die(url);
    uint8_t *data = malloc(CACHE_OBJ_LEN);
    StoS3Stats s0, s1;
    Buf b;
    Err err;
    int rc;

    tst_fill_random(data, CACHE_OBJ_LEN, 42);
    put_ok(s, "cache/obj", data, CACHE_OBJ_LEN);
    get_eq(s, "cache/obj", 100, 1000, data + 100, 1000);   /* first ranged read: direct */
    sto_s3_stats(s, &s0);
    get_eq(s, "cache/obj", MIB4 - 500, 1000, data + MIB4 - 500, 1000);   /* blocks 0 and 1 */
    get_eq(s, "cache/obj", CACHE_OBJ_LEN - 700, 700, data + CACHE_OBJ_LEN - 700, 700);   /* short block 2 */
    get_eq(s, "cache/obj", 2 * MIB4 - 3, 6, data + 2 * MIB4 - 3, 6);   /* blocks 1 and 2, cached */
    get_eq(s, "cache/obj", 12, 50, data + 12, 50);   /* block 0 again */
    sto_s3_stats(s, &s1);
    if (count_requests)
        CHECK(s1.requests - s0.requests == 3, "cache: %llu requests for 5 ranged reads in 3 blocks (want 3)",
              (unsigned long long)(s1.requests - s0.requests));
    buf_init(&b, 0);
    err_clear(&err);
    rc = sto_get(s, "cache/obj", CACHE_OBJ_LEN - 10, 20, &b, &err);
    CHECK(rc == ERR_INVALID && strstr(err.msg, "past the end") && b.len == 0,
          "cache: a range past the end gave rc %d '%s' (%zu bytes)", rc, err.msg, b.len);
    buf_free(&b);
    {
        pthread_t th[6];
        CacheJob jobs[6];
        for (int i = 0; i < 6; i++) {
            jobs[i] = (CacheJob){ s, data, (unsigned)i * 7 + 1 };
            pthread_create(&th[i], NULL, cache_reader, &jobs[i]);
        }
        for (int i = 0; i < 6; i++) pthread_join(th[i], NULL);
    }
    sto_s3_stats(s, &s1);
    printf("cache: %llu requests in all, %llu bytes down for a %zu-byte object\n", (unsigned long long)s1.requests,
           (unsigned long long)s1.bytes_down, CACHE_OBJ_LEN);
    err_clear(&err);
    CHECK(sto_del(s, "cache/obj", &err) == 0, "del cache/obj: %s", err.msg);
    sto_close(s);
    free(data);
    printf("%s\n", nfail ? "cache: FAILED" : "cache: all checks passed");
    return nfail ? 1 : 0;
}

typedef struct StressJob {
    Sto *sto;
    int n, nthreads, id;
    atomic_int *failed;
} StressJob;

static void *stress_one(void *arg)
{
    StressJob *j = arg;
    uint8_t *buf = malloc(256 * 1024);
    for (int i = j->id; i < j->n; i += j->nthreads) {
        char key[64];
        size_t n = 1000 + (size_t)(i * 7919) % (200 * 1024);
        Buf b;
        Err err;
        snprintf(key, sizeof key, "stress/%04d", i);
        tst_fill_random(buf, n, (uint64_t)i + 1);
        err_clear(&err);
        if (sto_put(j->sto, key, buf, n, &err) != 0) {
            printf("FAIL put %s: %s\n", key, err.msg);
            atomic_fetch_add(j->failed, 1);
            continue;
        }
        buf_init(&b, 0);
        if (sto_get(j->sto, key, 0, STO_LEN_ALL, &b, &err) != 0) {
            printf("FAIL get %s: %s\n", key, err.msg);
            atomic_fetch_add(j->failed, 1);
        } else if (b.len != n || memcmp(b.data, buf, n) != 0) {
            printf("FAIL get %s: %zu bytes back, want %zu, or content differs\n", key, b.len, n);
            atomic_fetch_add(j->failed, 1);
        }
        buf_reset(&b);
        if (sto_get(j->sto, key, 100, 500, &b, &err) != 0 || b.len != 500 || memcmp(b.data, buf + 100, 500) != 0) {
            printf("FAIL range get %s: %s\n", key, err.msg);
            atomic_fetch_add(j->failed, 1);
        }
        buf_free(&b);
    }
    free(buf);
    return NULL;
}

static int cmd_stress(const char *url, int n, int nthreads)
{
    Sto *s = open_or_die(url);
    pthread_t th[16];
    StressJob jobs[16];
    atomic_int failed = 0;
    StoS3Stats st;
    double t0 = now_s();
    if (nthreads > 16) nthreads = 16;
    for (int t = 0; t < nthreads; t++) {
        jobs[t] = (StressJob){ s, n, nthreads, t, &failed };
        pthread_create(&th[t], NULL, stress_one, &jobs[t]);
    }
    for (int t = 0; t < nthreads; t++) pthread_join(th[t], NULL);
    {
        Count c = list_count(s, "stress/");
        CHECK(c.n == (size_t)n, "list stress/: %zu keys, want %d", c.n, n);
    }
    sto_s3_stats(s, &st);
    printf("stress: %d objects put+get+range-get in %.1f s: %llu requests, %llu retries (sto_s3_retry_count %llu), "
           "%llu operations failed, %d verification failures\n",
           n, now_s() - t0, (unsigned long long)st.requests, (unsigned long long)st.retries,
           (unsigned long long)sto_s3_retry_count(s), (unsigned long long)st.failures, atomic_load(&failed));
    CHECK(atomic_load(&failed) == 0, "%d operations failed", atomic_load(&failed));
    sto_close(s);
    return nfail ? 1 : 0;
}

static int cmd_bench(const char *url, int mib, int runs)
{
    Sto *s = open_or_die(url);
    size_t n = (size_t)mib << 20;
    uint8_t *buf = malloc(n);
    tst_fill_random(buf, n, 11);
    for (int r = 0; r < runs; r++) {
        Buf b;
        Err err;
        double t0 = now_s(), t1, t2;
        put_ok(s, "bench/obj", buf, n);
        t1 = now_s();
        buf_init(&b, 0);
        CHECK(sto_get(s, "bench/obj", 0, STO_LEN_ALL, &b, &err) == 0 && b.len == n && memcmp(b.data, buf, n) == 0,
              "bench get: %s", err.msg);
        t2 = now_s();
        printf("run %d: PUT %d MiB %.3f s (%.0f MiB/s)   GET %.3f s (%.0f MiB/s)\n", r + 1, mib, t1 - t0,
               mib / (t1 - t0), t2 - t1, mib / (t2 - t1));
        buf_free(&b);
    }
    {
        Err err;
        sto_del(s, "bench/obj", &err);
    }
    free(buf);
    sto_close(s);
    return nfail ? 1 : 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && strcmp(argv[1], "ops") == 0) return cmd_ops(argv[2]);
    if (argc == 4 && strcmp(argv[1], "cache") == 0) return cmd_cache(argv[2], strcmp(argv[3], "count") == 0);
    if (argc == 5 && strcmp(argv[1], "expect-error") == 0) return cmd_expect_error(argv[2], argv[3], argv[4]);
    if (argc == 5 && strcmp(argv[1], "stress") == 0) return cmd_stress(argv[2], atoi(argv[3]), atoi(argv[4]));
    if (argc == 5 && strcmp(argv[1], "bench") == 0) return cmd_bench(argv[2], atoi(argv[3]), atoi(argv[4]));
    fprintf(stderr, "usage: s3_ops ops URL | expect-error URL CODE FRAGMENT | stress URL N THREADS | bench URL MIB RUNS\n");
    return 2;
}
