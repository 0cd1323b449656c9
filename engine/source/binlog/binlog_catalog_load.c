/* binlog_catalog_load.c: loading an instance's catalog: list
 * "catalog/<instance>/", read the compact objects that cover the most
 * entries (widest first), then only the single entries no compact holds.
 * Invariant: the result holds each seq once, in seq order, and exactly the
 * entries a load of the single entries alone would give (a compact is a
 * copy of immutable entries; an unreadable compact is skipped with a
 * warning and its entries are read one by one).
 * Memory: an object is read into a buffer bounded by its size as listed
 * (a plaintext is never longer than its ciphertext), never by a fixed
 * limit: a day's level-2 compact is 16 MB, one segment of a huge
 * transaction an entry of over 1 MB. A compact's entries are parsed one at
 * a time (read_compact), so no JSON tree of the whole object is built. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/common/log.h"
#include "engine/source/binlog/binlog_int.h"

/* An object as listed: its range (first == last for a single entry) and
 * its stored size. */
typedef struct Listed {
    BinlogCompactRange r;
    uint64_t size;
} Listed;

typedef struct KeyList {
    Listed *seq;                   /* single entries */
    size_t n, cap;
    Listed *cmp;                   /* compact objects */
    size_t ncmp, capcmp;
    size_t listed;
} KeyList;

/* Bound of the buffer an object of `size` stored bytes is read into: its
 * plaintext is shorter than its ciphertext; the slack only matters when a
 * driver lists no size (then the object is small: a single entry). */
static size_t obj_bound(uint64_t size)
{
    uint64_t b = size + ((uint64_t)1 << 20);
    return b > (uint64_t)BUF_MAX_DEFAULT ? BUF_MAX_DEFAULT : (size_t)b;
}

static bool parse_seq(const char *s, size_t len, uint64_t *out)
{
    if (len != 12 || strspn(s, "0123456789") < 12)
        return false;
    *out = strtoull(s, NULL, 10);
    return true;
}

static int grow(void *v, size_t *cap, size_t n, size_t size, Err *err)
{
    int rc = buf_grow(v, cap, n + 1, size, (size_t)1 << 26, err);
    return rc ? err_wrap(err, "binlog catalog key list") : 0;
}

static int collect_key(void *ctx, const char *key, uint64_t size, Err *err)
{
    KeyList *kl = ctx;
    const char *base = strrchr(key, '/');
    size_t pl = strlen(BINLOG_COMPACT_PREFIX);
    uint64_t a, b;
    int rc;
    base = base ? base + 1 : key;
    kl->listed++;
    if (parse_seq(base, strlen(base), &a)) {
        if ((rc = grow(&kl->seq, &kl->cap, kl->n, sizeof *kl->seq, err)))
            return rc;
        kl->seq[kl->n].r.first = kl->seq[kl->n].r.last = a;
        kl->seq[kl->n++].size = size;
    } else if (strncmp(base, BINLOG_COMPACT_PREFIX, pl) == 0 && strlen(base) == pl + 25 &&
               base[pl + 12] == '-' && parse_seq(base + pl, 12, &a) &&
               parse_seq(base + pl + 13, 12, &b) && a >= 1 && a <= b) {
        if ((rc = grow(&kl->cmp, &kl->capcmp, kl->ncmp, sizeof *kl->cmp, err)))
            return rc;
        kl->cmp[kl->ncmp].r.first = a;
        kl->cmp[kl->ncmp].r.last = b;
        kl->cmp[kl->ncmp].size = size;
        kl->ncmp++;
    }
    /* anything else under the prefix (a newer format's object) is ignored */
    return 0;
}

/* Widest first among those that start together, so one sweep keeps the
 * fewest objects. */
static int cmp_range(const void *x, const void *y)
{
    const BinlogCompactRange *a = &((const Listed *)x)->r, *b = &((const Listed *)y)->r;
    if (a->first != b->first)
        return a->first < b->first ? -1 : 1;
    return a->last > b->last ? -1 : a->last < b->last;
}

static int cmp_first(const void *x, const void *y)
{
    uint64_t a = ((const Listed *)x)->r.first, b = ((const Listed *)y)->r.first;
    return a < b ? -1 : a > b;
}

static int cmp_seq(const void *a, const void *b)
{
    const BinlogSegInfo *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int add_entry(BinlogCatalog *c, const json_t *j, const char *key, Err *err)
{
    int rc = grow(&c->v, &c->cap, c->n, sizeof *c->v, err);
    if (rc)
        return rc;
    rc = binlog_seginfo_from_json(j, &c->v[c->n], err);
    if (rc)
        return err_wrap(err, "binlog catalog entry in %s", key);
    c->n++;
    return 0;
}

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* Decode the one JSON value at *p (any kind) and move *p past it. NULL
 * when it does not parse (je says why). */
static json_t *next_value(const char **p, const char *end, json_error_t *je)
{
    json_t *v = json_loadb(*p, (size_t)(end - *p), JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, je);
    if (v)
        *p += je->position;
    return v;
}

/* The entries array of a compact, one element at a time: each is decoded,
 * checked (in range, rising) and added to c, then its tree is dropped. */
static int read_entries(BinlogCatalog *c, const char *key, const BinlogCompactRange *cr,
                        size_t n0, const char **pp, const char *end, Err *err)
{
    const char *p = skip_ws(*pp, end);
    json_error_t je;
    int rc;

    if (p >= end || *p != '[')
        return err_set(err, ERR_CORRUPT, "binlog catalog compact %s: \"entries\" is not an array",
                       key);
    p = skip_ws(p + 1, end);
    if (p < end && *p == ']')
        return err_set(err, ERR_CORRUPT, "binlog catalog compact %s: no entries", key);
    for (;;) {
        json_t *e = next_value(&p, end, &je);
        if (!e)
            return err_set(err, ERR_CORRUPT, "binlog catalog compact %s, entry %zu: %s", key,
                           c->n - n0 + 1, je.text);
        rc = add_entry(c, e, key, err);
        json_decref(e);
        if (rc)
            return rc;
        uint64_t s = c->v[c->n - 1].seq;
        if (s < cr->first || s > cr->last || (c->n - 1 > n0 && s <= c->v[c->n - 2].seq))
            return err_set(err, ERR_CORRUPT, "binlog catalog compact %s holds entry %" PRIu64
                           " out of its range or order", key, s);
        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            p = skip_ws(p + 1, end);
            continue;
        }
        if (p < end && *p == ']')
            break;
        return err_set(err, ERR_CORRUPT, "binlog catalog compact %s: entries array is cut short",
                       key);
    }
    *pp = p + 1;
    return 0;
}

/* Read one compact object into c: {"v":1, ..., "entries":[...]}, its
 * members in any order; only "entries" is big, and it is never decoded
 * whole. On failure c is unchanged. */
static int read_compact(Repo *r, BinlogCatalog *c, const char *key, const Listed *lc, Err *err)
{
    const BinlogCompactRange *cr = &lc->r;
    json_error_t je;
    json_t *k = NULL, *v = NULL;
    size_t n0 = c->n;
    bool seen = false;
    Buf b;
    int rc = 0;

    buf_init(&b, obj_bound(lc->size));
    if ((rc = repo_obj_get(r, key, &b, err))) {
        err_wrap(err, "read binlog catalog compact %s", key);
        goto out;
    }
    const char *p = (const char *)b.data, *end = p + b.len;
    p = skip_ws(p, end);
    if (p >= end || *p != '{') {
        rc = err_set(err, ERR_CORRUPT, "binlog catalog compact %s is not a JSON object", key);
        goto out;
    }
    p = skip_ws(p + 1, end);
    while (p < end && *p != '}') {
        if (!(k = next_value(&p, end, &je)) || !json_is_string(k)) {
            rc = err_set(err, ERR_CORRUPT, "binlog catalog compact %s: %s", key,
                         k ? "a member name is not a string" : je.text);
            goto out;
        }
        p = skip_ws(p, end);
        if (p >= end || *p != ':') {
            rc = err_set(err, ERR_CORRUPT, "binlog catalog compact %s: no ':' after \"%s\"", key,
                         json_string_value(k));
            goto out;
        }
        p++;
        if (strcmp(json_string_value(k), "entries") == 0 && !seen) {
            seen = true;
            if ((rc = read_entries(c, key, cr, n0, &p, end, err)))
                goto out;
        } else {
            p = skip_ws(p, end);
            if (!(v = next_value(&p, end, &je))) {
                rc = err_set(err, ERR_CORRUPT, "binlog catalog compact %s, \"%s\": %s", key,
                             json_string_value(k), je.text);
                goto out;
            }
            if (strcmp(json_string_value(k), "v") == 0 &&
                (!json_is_integer(v) || json_integer_value(v) != 1)) {
                rc = err_set(err, ERR_VERSION, "binlog catalog compact %s has version %"
                             JSON_INTEGER_FORMAT "; this tidemark reads version 1", key,
                             json_integer_value(v));
                goto out;
            }
            json_decref(v);
            v = NULL;
        }
        json_decref(k);
        k = NULL;
        p = skip_ws(p, end);
        if (p < end && *p == ',')
            p = skip_ws(p + 1, end);
        else if (p >= end || *p != '}') {
            rc = err_set(err, ERR_CORRUPT, "binlog catalog compact %s is cut short", key);
            goto out;
        }
    }
    if (p >= end) {
        rc = err_set(err, ERR_CORRUPT, "binlog catalog compact %s is cut short", key);
        goto out;
    }
    if (!seen)
        rc = err_set(err, ERR_CORRUPT, "binlog catalog compact %s: no \"entries\" array", key);
out:
    if (rc) {
        while (c->n > n0)
            repo_streamref_free(&c->v[--c->n].stream);
    }
    json_decref(k);
    json_decref(v);
    buf_free(&b);
    return rc;
}

/* Read one single entry object (bounded by its listed size) into c. */
static int read_single(Repo *r, BinlogCatalog *c, const char *key, const Listed *ls, Err *err)
{
    json_error_t je;
    json_t *j = NULL;
    Buf b;
    int rc;

    buf_init(&b, obj_bound(ls->size));
    if ((rc = repo_obj_get(r, key, &b, err))) {
        err_wrap(err, "read binlog catalog entry %s", key);
        goto out;
    }
    if (!(j = json_loadb((const char *)b.data, b.len, 0, &je))) {
        rc = err_set(err, ERR_CORRUPT, "binlog catalog entry %s is not JSON: %s", key, je.text);
        goto out;
    }
    if ((rc = add_entry(c, j, key, err)))
        goto out;
    if (c->v[c->n - 1].seq != ls->r.first) {
        rc = err_set(err, ERR_CORRUPT, "binlog catalog entry %s says it is entry %" PRIu64, key,
                     c->v[c->n - 1].seq);
        repo_streamref_free(&c->v[--c->n].stream);
    }
out:
    json_decref(j);
    buf_free(&b);
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
    char prefix[300], key[400];
    int rc = 0;

    memset(&kl, 0, sizeof kl);
    snprintf(prefix, sizeof prefix, "catalog/%s/", instance);
    c = calloc(1, sizeof *c);
    if (!c) {
        rc = err_set(err, ERR_NOMEM, "binlog catalog");
        goto out;
    }
    rc = repo_list_objects(r, prefix, collect_key, &kl, err);
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
        const BinlogCompactRange *cr = &kl.cmp[i].r;
        if (cr->last <= covered)
            continue;
        snprintf(key, sizeof key, "%s" BINLOG_COMPACT_PREFIX "%012" PRIu64 "-%012" PRIu64, prefix,
                 cr->first, cr->last);
        Err e;
        err_clear(&e);
        if (read_compact(r, c, key, &kl.cmp[i], &e) != 0) {
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
        if ((rc = grow(&c->cover, &capcover, c->ncover, sizeof *c->cover, err)))
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
        qsort(kl.seq, kl.n, sizeof *kl.seq, cmp_first);
    for (size_t i = 0; i < kl.n; i++) {
        uint64_t seq = kl.seq[i].r.first;
        if ((i && seq == kl.seq[i - 1].r.first) || have_seq(c, from_compacts, seq))
            continue;
        binlog_catalog_key(instance, seq, key, sizeof key);
        if ((rc = read_single(r, c, key, &kl.seq[i], err)))
            goto out;
        c->objects_read++;
    }
    if (c->n)
        qsort(c->v, c->n, sizeof *c->v, cmp_seq);
    *out = c;
    c = NULL;
out:
    free(kl.seq);
    free(kl.cmp);
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
