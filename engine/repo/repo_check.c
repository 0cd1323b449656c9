/* repo_check.c: repository verification and index repair.
 * Structure check: snapshots -> chunks in index -> packs in storage.
 * Data check: every blob of a pack opens, expands and hashes to its id.
 * Findings go to the caller's callback; the check itself fails only when
 * it cannot run. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "engine/common/progress.h"
#include "engine/repo/repo_int.h"

typedef struct PackSeen {
    Id id;
    uint64_t size;
} PackSeen;

typedef struct Check {
    Repo *r;
    const RepoCheckOptions *opt;
    RepoCheckMsgFn fn;
    void *ctx;
    RepoCheckReport *rep;
    PackSeen *packs;
    size_t npacks, packs_cap;
    const char *snap;   /* current snapshot id (short) */
    uint64_t missing_in_snap;
} Check;

static void say(Check *c, bool is_error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(Check *c, bool is_error, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (is_error) c->rep->errors++;
    else c->rep->warnings++;
    if (c->fn) c->fn(c->ctx, is_error, msg);
}

static int cmp_pack(const void *a, const void *b) { return id_cmp(&((const PackSeen *)a)->id, &((const PackSeen *)b)->id); }

static int collect_pack(void *ctx, const char *key, uint64_t size, Err *err)
{
    Check *c = ctx;
    const char *slash = strrchr(key, '/');
    Id id;
    Err e;
    (void)err;
    if (!slash || id_parse(slash + 1, &id, &e) != 0) {
        say(c, false, "unexpected object %s under packs/", key);
        return 0;
    }
    int rc = buf_grow(&c->packs, &c->packs_cap, c->npacks + 1, sizeof *c->packs, (size_t)1 << 28, err);
    if (rc) return err_wrap(err, "list packs/");
    c->packs[c->npacks].id = id;
    c->packs[c->npacks].size = size;
    c->npacks++;
    return 0;
}

static const PackSeen *pack_find(const Check *c, const Id *id)
{
    PackSeen key = {*id, 0};
    if (!c->npacks) return NULL;
    return bsearch(&key, c->packs, c->npacks, sizeof key, cmp_pack);
}

/* ---- snapshot walk ---- */

static int walk_json(Check *c, const json_t *j, int depth, Err *err);

typedef struct LineCtx {
    Check *c;
    Buf line;
    int depth;
} LineCtx;

static int nested_line(LineCtx *lc, Err *err)
{
    json_t *j;
    int rc = 0;
    if (lc->line.len == 0) return 0;
    j = json_loadb((const char *)lc->line.data, lc->line.len, 0, NULL);
    if (!j) say(lc->c, true, "snapshot %s: a nested stream line is not valid JSON", lc->c->snap);
    else rc = walk_json(lc->c, j, lc->depth + 1, err);
    json_decref(j);
    buf_reset(&lc->line);
    return rc;
}

static int nested_chunk(void *ctx, const void *data, size_t len, Err *err)
{
    LineCtx *lc = ctx;
    const char *p = data, *end = p + len;
    int rc;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if ((rc = buf_append(&lc->line, p, n, err))) return rc;
        p += n;
        if (nl) {
            p++;
            if ((rc = nested_line(lc, err))) return rc;
        }
    }
    return 0;
}

static int walk_streamref(Check *c, const json_t *j, int depth, Err *err)
{
    RepoStreamRef s;
    uint64_t missing = 0;
    int rc;
    if (repo_streamref_from_json(j, &s, err) != 0) {
        say(c, true, "snapshot %s: malformed stream reference (%s)", c->snap, err->msg);
        err_clear(err);
        return 0;
    }
    for (size_t i = 0; i < s.nchunks; i++) {
        c->rep->chunks_referenced++;
        if (!repo_blob_known(c->r, &s.chunks[i])) {
            char hex[ID_HEX_LEN + 1];
            id_hex(&s.chunks[i], hex);
            if (missing++ < 5) say(c, true, "snapshot %s: chunk %s is not in the index", c->snap, hex);
        }
    }
    if (missing > 5) say(c, true, "snapshot %s: %llu more chunks of one stream are missing", c->snap, (unsigned long long)(missing - 5));
    rc = 0;
    if (!missing && json_is_string(json_object_get(j, "nested")) &&
        strcmp(json_string_value(json_object_get(j, "nested")), "jsonl") == 0 && depth < 8) {
        LineCtx lc = {c, {0}, depth};
        buf_init(&lc.line, 64u << 20);
        rc = repo_stream_read(c->r, &s, nested_chunk, &lc, err);
        if (!rc) rc = nested_line(&lc, err);
        buf_free(&lc.line);
        if (rc && rc != ERR_NOMEM) {
            say(c, true, "snapshot %s: nested stream unreadable: %s", c->snap, err->msg);
            err_clear(err);
            rc = 0;
        }
    }
    repo_streamref_free(&s);
    return rc;
}

static int walk_json(Check *c, const json_t *j, int depth, Err *err)
{
    int rc;
    if (json_is_object(j)) {
        const char *k;
        json_t *v;
        if (json_is_array(json_object_get(j, "chunks")) && json_is_integer(json_object_get(j, "size")))
            return walk_streamref(c, j, depth, err);
        json_object_foreach((json_t *)j, k, v)
            if ((rc = walk_json(c, v, depth, err))) return rc;
    } else if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v)
            if ((rc = walk_json(c, v, depth, err))) return rc;
    }
    return 0;
}

static int check_snapshot(void *ctx, const Id *id, json_t *m, Err *err)
{
    Check *c = ctx;
    char hex[ID_HEX_LEN + 1];
    id_hex(id, hex);
    hex[12] = '\0';
    c->snap = hex;
    c->rep->snapshots++;
    return walk_json(c, m, 0, err);
}

/* ---- packs ---- */

typedef struct PackIdx {
    uint32_t pack;
    IdxEntry e;
} PackIdx;

typedef struct Group {
    PackIdx *v;
    size_t n, cap;
} Group;

static int group_add(void *ctx, const IdxEntry *e, Err *err)
{
    Group *g = ctx;
    int rc = buf_grow(&g->v, &g->cap, g->n + 1, sizeof *g->v, (size_t)1 << 32, err);
    if (rc) return err_wrap(err, "group the index by pack");
    g->v[g->n].pack = e->pack;
    g->v[g->n].e = *e;
    g->n++;
    return 0;
}

static int cmp_pidx(const void *a, const void *b)
{
    const PackIdx *x = a, *y = b;
    if (x->pack != y->pack) return x->pack < y->pack ? -1 : 1;
    return x->e.offset < y->e.offset ? -1 : x->e.offset > y->e.offset;
}

/* Read one pack whole and verify its table and every blob the index
 * places in it. */
static int read_pack(Check *c, const Id *pack_id, const PackIdx *ents, size_t n, Err *err)
{
    char key[128], hex[ID_HEX_LEN + 1];
    Buf raw, plain;
    uint64_t toc_off;
    uint32_t toc_len;
    PackEntry *toc = NULL;
    size_t ntoc = 0, bad = 0;
    Err e;
    int rc = 0;

    repo_pack_key(pack_id, key, sizeof key);
    buf_init(&raw, PACK_MAX_SIZE);
    buf_init(&plain, 0);
    err_clear(&e);
    if (sto_get_all(c->r->sto, key, &raw, &e)) {
        say(c, true, "pack %s: cannot read: %s", key, e.msg);
        goto out;
    }
    c->rep->packs_read++;
    c->rep->bytes_read += raw.len;
    if (raw.len < PACK_MAGIC_LEN || memcmp(raw.data, PACK_MAGIC, PACK_MAGIC_LEN) != 0)
        say(c, true, "pack %s: header magic is damaged", key);
    if (pack_trailer_parse(raw.data, raw.len, raw.len, &toc_off, &toc_len, &e) ||
        pack_toc_open(c->r->keys, raw.data + toc_off, toc_len, toc_off, &toc, &ntoc, &e)) {
        say(c, true, "pack %s: table of contents unusable: %s", key, e.msg);
        toc = NULL;
        ntoc = 0;
    } else if (ntoc != n) {
        say(c, true, "pack %s: table lists %zu blobs, the index %zu", key, ntoc, n);
    }
    for (size_t i = 0; i < n; i++) {
        const IdxEntry *ie = &ents[i].e;
        uint8_t *dec = NULL;
        size_t dlen = 0, size = 0;
        CompCtx *cc = NULL;
        Id check;
        id_hex(&ie->id, hex);
        if ((uint64_t)ie->offset + ie->length > raw.len) {
            say(c, true, "pack %s: chunk %s lies past the end of the pack", key, hex);
            bad++;
            continue;
        }
        dec = malloc(ie->length);
        if (!dec) { rc = err_set(err, ERR_NOMEM, "out of memory"); goto out; }
        if (cry_open(c->r->keys, ie->id.b, ID_LEN, raw.data + ie->offset, ie->length, dec, ie->length, &dlen, &e)) {
            say(c, true, "pack %s: chunk %s failed authentication (damaged or tampered)", key, hex);
            bad++;
            free(dec);
            continue;
        }
        buf_reset(&plain);
        if (comp_blob_size(dec, dlen, &size, &e) || buf_reserve(&plain, size, &e) ||
            repo_comp_take(c->r, &cc, &e)) {
            say(c, true, "pack %s: chunk %s: %s", key, hex, e.msg);
            bad++;
            free(dec);
            continue;
        }
        if (comp_unblob(cc, dec, dlen, plain.data, size, &plain.len, &e)) {
            say(c, true, "pack %s: chunk %s does not expand: %s", key, hex, e.msg);
            bad++;
        } else {
            cry_id(c->r->keys, plain.data, plain.len, &check);
            if (id_cmp(&check, &ie->id) != 0) {
                say(c, true, "pack %s: chunk %s does not hash to its id", key, hex);
                bad++;
            } else {
                c->rep->blobs_verified++;
            }
        }
        repo_comp_give(c->r, cc);
        free(dec);
        if (toc) {
            bool listed = false;
            for (size_t t = 0; t < ntoc && !listed; t++)
                listed = id_cmp(&toc[t].id, &ie->id) == 0 && toc[t].offset == ie->offset && toc[t].length == ie->length;
            if (!listed) say(c, true, "pack %s: chunk %s is in the index but not in the pack's table", key, hex);
        }
    }
    if (bad) say(c, true, "pack %s: %zu of %zu chunks damaged", key, bad, n);
out:
    free(toc);
    buf_free(&raw);
    buf_free(&plain);
    return rc;
}

/* A pack chosen for --read-data: its entries g.v[from, to) and its size. */
typedef struct PackRun {
    size_t from, to;
    uint64_t size;
} PackRun;

int repo_check(Repo *r, const RepoCheckOptions *opt, RepoCheckMsgFn fn, void *ctx, RepoCheckReport *report, Err *err)
{
    PackRun *runs = NULL;
    size_t nruns = 0, cap_runs = 0;
    Progress *pg = NULL;
    Check c;
    Group g = {0};
    int rc;
    size_t i, j;

    memset(report, 0, sizeof *report);
    memset(&c, 0, sizeof c);
    c.r = r;
    c.opt = opt;
    c.fn = fn;
    c.ctx = ctx;
    c.rep = report;

    if ((rc = repo_flush(r, err))) return rc;
    if ((rc = sto_list(r->sto, "packs/", collect_pack, &c, err))) goto out;
    if (c.npacks) qsort(c.packs, c.npacks, sizeof *c.packs, cmp_pack);
    report->packs = c.npacks;

    /* index -> packs */
    pthread_mutex_lock(&r->mu);
    rc = idx_foreach(r->idx, group_add, &g, err);
    pthread_mutex_unlock(&r->mu);
    if (rc) goto out;
    report->chunks_indexed = g.n;
    if (g.n) qsort(g.v, g.n, sizeof *g.v, cmp_pidx);
    for (i = 0; i < g.n; i = j) {
        const Id *pid = idx_pack_id(r->idx, g.v[i].pack);
        char key[128];
        for (j = i; j < g.n && g.v[j].pack == g.v[i].pack; j++) {}
        repo_pack_key(pid, key, sizeof key);
        if (!pack_find(&c, pid)) say(&c, true, "pack %s is named by the index (%zu chunks) but missing from storage", key, j - i);
    }
    /* packs -> index */
    for (i = 0; i < c.npacks; i++) {
        bool known;
        char key[128];
        pthread_mutex_lock(&r->mu);
        known = idx_pack_lookup(r->idx, &c.packs[i].id, NULL);
        pthread_mutex_unlock(&r->mu);
        if (known) continue;
        repo_pack_key(&c.packs[i].id, key, sizeof key);
        say(&c, false, "pack %s is not in any index (left by an interrupted backup; 'tidemark repair index' adds it)", key);
    }

    if ((rc = repo_snapshot_list(r, check_snapshot, &c, err))) goto out;

    if (opt && opt->read_data) {
        /* choose the packs first: their listed sizes are the progress total */
        double pct = opt->subset_pct > 0 && opt->subset_pct < 100 ? opt->subset_pct : 100;
        uint64_t total = 0;
        for (i = 0; i < g.n; i = j) {
            const Id *pid = idx_pack_id(r->idx, g.v[i].pack);
            const PackSeen *ps;
            for (j = i; j < g.n && g.v[j].pack == g.v[i].pack; j++) {}
            if (pct < 100 && (double)(randombytes_uniform(1000000)) / 10000.0 >= pct) continue;
            if (!(ps = pack_find(&c, pid))) continue;   /* already reported */
            if ((rc = buf_grow(&runs, &cap_runs, nruns + 1, sizeof *runs, (size_t)1 << 28, err))) goto out;
            runs[nruns++] = (PackRun){i, j, ps->size};
            total += ps->size;
        }
        pg = progress_new("check", total, 0, opt->progress);
        for (size_t k = 0; k < nruns; k++) {
            const PackRun *pr = &runs[k];
            if ((rc = read_pack(&c, idx_pack_id(r->idx, g.v[pr->from].pack), &g.v[pr->from], pr->to - pr->from, err)))
                goto out;
            progress_add(pg, pr->size, 1);
        }
    }
out:
    progress_done(pg);
    free(runs);
    free(g.v);
    free(c.packs);
    return rc;
}
