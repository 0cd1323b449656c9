/* bench_micro.c: throughput of the pure pipeline steps on this machine:
 * chunking (three parameter sets), cry_id, seal/open, zstd per blob on SQL
 * text and on random data. Not a test: nothing here asserts a speed.
 *   bench_micro [text-file]   (default text: generated SQL INSERT lines)
 * Build a release tree for meaningful figures (-DCMAKE_BUILD_TYPE=Release). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/chunk/chunk.h"
#include "engine/compress/compress.h"
#include "engine/crypto/crypto.h"
#include "tests/support/tst_util.h"

#define MIB ((size_t)1 << 20)
#define DATA_LEN (64 * MIB)
#define MIN_SECONDS 0.5

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void report(const char *what, size_t bytes, double secs, const char *extra)
{
    printf("%-36s %8.0f MB/s  %s\n", what, (double)bytes / secs / 1e6, extra ? extra : "");
}

static uint8_t *sql_text(size_t len, const char *path)
{
    uint8_t *p = malloc(len);
    size_t pos = 0;
    if (path) {   /* repeat the file's content up to len */
        FILE *f = fopen(path, "rb");
        size_t n;
        if (!f) { perror(path); exit(2); }
        while (pos < len && (n = fread(p + pos, 1, len - pos, f)) > 0) pos += n;
        if (pos == 0) { fprintf(stderr, "%s is empty\n", path); exit(2); }
        fclose(f);
        for (size_t src = 0; pos < len; pos++, src++) p[pos] = p[src];
        return p;
    }
    for (unsigned i = 0; pos < len; i++) {
        char line[256];
        int n = snprintf(line, sizeof line,
                         "INSERT INTO `llx_facture` VALUES (%u,'FA%04u-%04u',1,'2024-%02u-%02u 10:%02u:00',"
                         "%u.%02u,%u.%02u,'%s',%u,NULL,'Invoice for customer %u');\n",
                         i, 2400 + i % 12, i % 9999, 1 + i % 12, 1 + i % 28, i % 60, (i * 37) % 5000,
                         i % 100, (i * 53) % 9000, (i * 7) % 100, i % 3 ? "paid" : "draft", i % 1000,
                         (i * 7919) % 4000);
        size_t take = (size_t)n < len - pos ? (size_t)n : len - pos;
        memcpy(p + pos, line, take);
        pos += take;
    }
    return p;
}

static void bench_chunk(const char *name, ChkParams p, const uint8_t *seed, const uint8_t *data)
{
    ChkChunker *c = NULL;
    Err err;
    size_t done = 0, chunks = 0;
    double t0, t;
    char extra[64];
    if (chk_new(&p, seed, &c, &err)) { fprintf(stderr, "%s\n", err.msg); exit(1); }
    t0 = now();
    do {
        for (size_t pos = 0; pos < DATA_LEN; chunks++) pos += chk_cut(c, data + pos, DATA_LEN - pos, true);
        done += DATA_LEN;
    } while ((t = now() - t0) < MIN_SECONDS);
    snprintf(extra, sizeof extra, "(mean chunk %zu KiB)", done / chunks / 1024);
    report(name, done, t, extra);
    chk_free(c);
}

static void bench_id(const CryKeys *k, const uint8_t *data, size_t blob)
{
    Id id;
    size_t done = 0;
    double t0 = now(), t;
    char name[64];
    do {
        for (size_t pos = 0; pos + blob <= DATA_LEN; pos += blob) cry_id(k, data + pos, blob, &id);
        done += DATA_LEN / blob * blob;
    } while ((t = now() - t0) < MIN_SECONDS);
    snprintf(name, sizeof name, "cry_id, %zu KiB blobs", blob / 1024);
    report(name, done, t, NULL);
}

static void bench_seal_open(const CryKeys *k, const uint8_t *data, size_t blob)
{
    uint8_t *sealed = malloc(blob + CRY_OVERHEAD), *back = malloc(blob);
    uint8_t ad[32] = {0};
    size_t slen = 0, olen = 0, done = 0;
    double t0, t;
    char name[64];
    Err err;
    t0 = now();
    do {
        for (size_t pos = 0; pos + blob <= DATA_LEN; pos += blob)
            cry_seal(k, ad, sizeof ad, data + pos, blob, sealed, blob + CRY_OVERHEAD, &slen, &err);
        done += DATA_LEN / blob * blob;
    } while ((t = now() - t0) < MIN_SECONDS);
    snprintf(name, sizeof name, "cry_seal, %zu KiB blobs", blob / 1024);
    report(name, done, t, NULL);
    done = 0;
    t0 = now();
    do {
        for (size_t pos = 0; pos + blob <= DATA_LEN; pos += blob)
            if (cry_open(k, ad, sizeof ad, sealed, slen, back, blob, &olen, &err)) exit(1);
        done += DATA_LEN / blob * blob;
    } while ((t = now() - t0) < MIN_SECONDS);
    snprintf(name, sizeof name, "cry_open, %zu KiB blobs", blob / 1024);
    report(name, done, t, NULL);
    free(sealed);
    free(back);
}

static void bench_zstd(const char *kind, const uint8_t *data, size_t blob, int level)
{
    CompCtx *c = NULL;
    Err err;
    size_t cap = comp_bound(blob), blen = 0, olen = 0, done = 0, out_total = 0;
    uint8_t *out = malloc(cap), *back = malloc(blob);
    double t0, t;
    char name[64], extra[64];
    if (comp_ctx_new(level, &c, &err)) { fprintf(stderr, "%s\n", err.msg); exit(1); }
    t0 = now();
    do {
        out_total = 0;
        for (size_t pos = 0; pos + blob <= DATA_LEN; pos += blob) {
            if (comp_blob(c, data + pos, blob, out, cap, &blen, &err)) exit(1);
            out_total += blen;
        }
        done += DATA_LEN / blob * blob;
    } while ((t = now() - t0) < MIN_SECONDS);
    snprintf(name, sizeof name, "zstd-%d %s, %zu KiB blobs", level, kind, blob / 1024);
    snprintf(extra, sizeof extra, "(ratio %.3f, type %s)", (double)out_total / (double)(DATA_LEN / blob * blob),
             out[0] == COMP_ZSTD ? "zstd" : "raw");
    report(name, done, t, extra);
    /* Decompress the last blob repeatedly (representative of its kind). */
    done = 0;
    t0 = now();
    do {
        for (int i = 0; i < 64; i++) {
            if (comp_unblob(c, out, blen, back, blob, &olen, &err)) exit(1);
            done += blob;
        }
    } while ((t = now() - t0) < MIN_SECONDS);
    snprintf(name, sizeof name, "unzstd %s, %zu KiB blobs", kind, blob / 1024);
    report(name, done, t, NULL);
    comp_ctx_free(c);
    free(out);
    free(back);
}

int main(int argc, char **argv)
{
    Err err;
    CryKeys *k = NULL;
    uint8_t *rnd = malloc(DATA_LEN), *text = sql_text(DATA_LEN, argc > 1 ? argv[1] : NULL);

    if (cry_init(&err) || cry_keys_generate(&k, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    tst_fill_random(rnd, DATA_LEN, 1);
    printf("%zu MiB buffers, each figure over >= %.1f s, one thread\n", DATA_LEN / MIB, MIN_SECONDS);
    bench_chunk("chunk files (512K/1M/4M), random", CHK_PARAMS_FILES, cry_keys_chunker_seed(k), rnd);
    bench_chunk("chunk dump (4K/16K/64K), random", CHK_PARAMS_DUMP, cry_keys_chunker_seed(k), rnd);
    bench_chunk("chunk dump (4K/16K/64K), SQL text", CHK_PARAMS_DUMP, cry_keys_chunker_seed(k), text);
    bench_chunk("chunk binlog (16K/64K/256K), random", CHK_PARAMS_BINLOG, cry_keys_chunker_seed(k), rnd);
    bench_id(k, rnd, 16 * 1024);
    bench_id(k, rnd, MIB);
    bench_seal_open(k, rnd, 16 * 1024);
    bench_seal_open(k, rnd, MIB);
    bench_zstd("SQL text", text, 16 * 1024, 3);
    bench_zstd("SQL text", text, MIB, 3);
    bench_zstd("random", rnd, 16 * 1024, 3);
    bench_zstd("random", rnd, MIB, 3);
    cry_keys_free(k);
    free(rnd);
    free(text);
    return 0;
}
