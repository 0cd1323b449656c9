/* binlog_catalog_load.c: loading an instance's catalog: list
 * "catalog/<instance>/", read the compact objects that cover the most
 * entries (widest first), then only the single entries no compact holds.
 * Invariant: the result holds each seq once, in seq order, and exactly the
 * entries a load of the single entries alone would give (a compact is a
 * copy of immutable entries; an unreadable compact is skipped with a
 * warning and its entries are read one by one). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/common/log.h"
#include "engine/source/binlog/binlog_int.h"

typedef struct KeyList {
    uint64_t *seq;                 /* single entries */
    size_t n, cap;
    BinlogCompactRange *cmp;       /* compact objects */
    size_t ncmp, capcmp;
    size_t listed;
} KeyList;

static bool parse_seq(const char *s, size_t len, uint64_t *out)
{
    if (len != 12 || strspn(s, "0123456789") < 12)
        return false;
    *out = strtoull(s, NULL, 10);
    return true;
}

static int grow(void **v, size_t *cap, size_t n, size_t size, Err *err)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 256;
    void *nv = realloc(*v, nc * size);
    if (!nv)
        return err_set(err, ERR_NOMEM, "binlog catalog key list");
    *v = nv;
    *cap = nc;
    return 0;
}

static int collect_key(void *ctx, const char *key, uint64_t size, Err *err)
{
    KeyList *kl = ctx;
    const char *base = strrchr(key, '/');
    size_t pl = strlen(BINLOG_COMPACT_PREFIX);
    uint64_t a, b;
    int rc;
    (void)size;
    base = base ? base + 1 : key;
    kl->listed++;
    if (parse_seq(base, strlen(base), &a)) {
        if ((rc = grow((void **)&kl->seq, &kl->cap, kl->n, sizeof *kl->seq, err)))
            return rc;
        kl->seq[kl->n++] = a;
    } else if (strncmp(base, BINLOG_COMPACT_PREFIX, pl) == 0 && strlen(base) == pl + 25 &&
               base[pl + 12] == '-' && parse_seq(base + pl, 12, &a) &&
               parse_seq(base + pl + 13, 12, &b) && a >= 1 && a <= b) {
        if ((rc = grow((void **)&kl->cmp, &kl->capcmp, kl->ncmp, sizeof *kl->cmp, err)))
            return rc;
        kl->cmp[kl->ncmp].first = a;
        kl->cmp[kl->ncmp].last = b;
        kl->ncmp++;
    }
    /* anything else under the prefix (a newer format's object) is ignored */
    return 0;
}

/* Widest first among those that start together, so one sweep keeps the
 * fewest objects. */
static int cmp_range(const void *x, const void *y)
{
    const BinlogCompactRange *a = x, *b = y;
    if (a->first != b->first)
        return a->first < b->first ? -1 : 1;
    return a->last > b->last ? -1 : a->last < b->last;
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

static int cmp_seq(const void *a, const void *b)
{
    const BinlogSegInfo *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int add_entry(BinlogCatalog *c, const json_t *j, const char *key, Err *err)
{
    int rc = grow((void **)&c->v, &c->cap, c->n, sizeof *c->v, err);
    if (rc)
        return rc;
    rc = binlog_seginfo_from_json(j, &c->v[c->n], err);
    if (rc)
        return err_wrap(err, "binlog catalog entry in %s", key);
    c->n++;
    return 0;
}

/* Read one compact object into c. On failure c is unchanged. */
static int read_compact(Repo *r, BinlogCatalog *c, const char *key, const BinlogCompactRange *cr,
                        Buf *b, Err *err)
{
    json_error_t je;
    json_t *j = NULL, *arr;
    size_t n0 = c->n, i;
    int rc = 0;

    buf_reset(b);
    if ((rc = repo_obj_get(r, key, b, err)))
        return err_wrap(err, "read binlog catalog compact %s", key);
    j = json_loadb((const char *)b->data, b->len, 0, &je);
    arr = json_object_get(j, "entries");
    if (!j || !json_is_array(arr) || json_array_size(arr) == 0) {
        rc = err_set(err, ERR_CORRUPT, "binlog catalog compact %s: %s", key,
                     j ? "no \"entries\" array" : je.text);
        goto out;
    }
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        if ((rc = add_entry(c, e, key, err)))
            goto out;
        uint64_t s = c->v[c->n - 1].seq;
        if (s < cr->first || s > cr->last || (c->n - 1 > n0 && s <= c->v[c->n - 2].seq)) {
            rc = err_set(err, ERR_CORRUPT, "binlog catalog compact %s holds entry %" PRIu64
                         " out of its range or order", key, s);
            goto out;
        }
    }
out:
    if (rc) {
        while (c->n > n0)
            repo_streamref_free(&c->v[--c->n].stream);
    }
    json_decref(j);
    return rc;
}

static bool have_seq(const BinlogCatalog *c, size_t upto, uint64_t seq)
{
    size_t lo = 0, hi = upto;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->v[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < upto && c->v[lo].seq == seq;
}

int binlog_catalog_load(Repo *r, const char *instance, BinlogCatalog **out, Err *err)
{
    KeyList kl;
    BinlogCatalog *c = NULL;
    Buf b;
    char prefix[300], key[400];
    int rc = 0;

    memset(&kl, 0, sizeof kl);
    buf_init(&b, 1 << 20);
    snprintf(prefix, sizeof prefix, "catalog/%s/", instance);
    c = calloc(1, sizeof *c);
    if (!c) {
        rc = err_set(err, ERR_NOMEM, "binlog catalog");
        goto out;
    }
    rc = sto_list(repo_sto(r), prefix, collect_key, &kl, err);
    if (rc) {
        err_wrap(err, "list binlog catalog of instance %s", instance);
        goto out;
    }
    c->objects_listed = kl.listed;

    /* compacts: a sweep in seq order keeps every one that reaches past what
     * the kept ones cover */
    if (kl.ncmp)
        qsort(kl.cmp, kl.ncmp, sizeof *kl.cmp, cmp_range);
    uint64_t covered = 0;
    size_t capcover = 0;
    for (size_t i = 0; i < kl.ncmp; i++) {
        const BinlogCompactRange *cr = &kl.cmp[i];
        if (cr->last <= covered)
            continue;
        snprintf(key, sizeof key, "%s" BINLOG_COMPACT_PREFIX "%012" PRIu64 "-%012" PRIu64, prefix,
                 cr->first, cr->last);
        Err e;
        err_clear(&e);
        if (read_compact(r, c, key, cr, &b, &e) != 0) {
            if (e.code == ERR_NOMEM) {
                *err = e;
                rc = e.code;
                goto out;
            }
            log_warn("%s; reading its entries one by one", e.msg);
            continue;
        }
        c->objects_read++;
        covered = cr->last;
        if (cr->last > c->compacted_to)
            c->compacted_to = cr->last;
        if ((rc = grow((void **)&c->cover, &capcover, c->ncover, sizeof *c->cover, err)))
            goto out;
        c->cover[c->ncover++] = *cr;
    }
    /* compacts may overlap (a merged one over smaller ones that were read
     * before it was written is never chosen with them, but be exact) */
    if (c->n)
        qsort(c->v, c->n, sizeof *c->v, cmp_seq);
    size_t m = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (m && c->v[m - 1].seq == c->v[i].seq) {
            repo_streamref_free(&c->v[i].stream);
            continue;
        }
        c->v[m++] = c->v[i];
    }
    c->n = m;

    /* single entries no compact holds */
    size_t from_compacts = c->n;
    if (kl.n)
        qsort(kl.seq, kl.n, sizeof *kl.seq, cmp_u64);
    for (size_t i = 0; i < kl.n; i++) {
        if ((i && kl.seq[i] == kl.seq[i - 1]) || have_seq(c, from_compacts, kl.seq[i]))
            continue;
        binlog_catalog_key(instance, kl.seq[i], key, sizeof key);
        buf_reset(&b);
        rc = repo_obj_get(r, key, &b, err);
        if (rc) {
            err_wrap(err, "read binlog catalog entry %s", key);
            goto out;
        }
        c->objects_read++;
        json_error_t je;
        json_t *j = json_loadb((const char *)b.data, b.len, 0, &je);
        if (!j) {
            rc = err_set(err, ERR_CORRUPT, "binlog catalog entry %s is not JSON: %s", key, je.text);
            goto out;
        }
        rc = add_entry(c, j, key, err);
        json_decref(j);
        if (rc)
            goto out;
        if (c->v[c->n - 1].seq != kl.seq[i]) {
            rc = err_set(err, ERR_CORRUPT, "binlog catalog entry %s says it is entry %" PRIu64, key,
                         c->v[c->n - 1].seq);
            goto out;
        }
    }
    if (c->n)
        qsort(c->v, c->n, sizeof *c->v, cmp_seq);
    *out = c;
    c = NULL;
out:
    free(kl.seq);
    free(kl.cmp);
    buf_free(&b);
    binlog_catalog_free(c);
    return rc;
}

void binlog_catalog_load_stats(const BinlogCatalog *c, size_t *out_objects, size_t *out_compacts,
                               uint64_t *out_compacted_to)
{
    *out_objects = c ? c->objects_read : 0;
    *out_compacts = c ? c->ncover : 0;
    *out_compacted_to = c ? c->compacted_to : 0;
}
