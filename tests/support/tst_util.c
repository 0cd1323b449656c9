/* tst_util.c: test helpers; aborting is fine here. */
#define _XOPEN_SOURCE 700
#include "tests/support/tst_util.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void tst_fill_random(uint8_t *buf, size_t len, uint64_t seed)
{
    uint64_t x = seed ? seed : 0x9E3779B97F4A7C15ull;
    size_t i = 0;
    while (i < len) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        uint64_t v = x * 0x2545F4914F6CDD1Dull;
        for (int k = 0; k < 8 && i < len; k++, i++) buf[i] = (uint8_t)(v >> (8 * k));
    }
}

char *tst_tempdir(const char *tag)
{
    const char *t = getenv("TMPDIR");
    char *p = malloc(4096);
    if (!p) abort();
    snprintf(p, 4096, "%s/tm-%s-XXXXXX", t && *t ? t : "/tmp", tag);
    if (!mkdtemp(p)) abort();
    return p;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    remove(path);
    return 0;
}

void tst_rmtree(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
