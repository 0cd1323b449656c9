/* repo.c: repository life cycle (init, open, close), config and key
 * objects, sealed small objects, loading the index.
 * Layout: config (plain JSON), keys/<id> (key objects), packs/xx/<id>,
 * index/<id>, snapshots/<id>, locks/<id>, plus what sources add (catalog/,
 * reports/). See docs/FORMAT.md. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "engine/common/log.h"
#include "engine/repo/repo_int.h"

static int repo_index_load(Repo *r, Err *err);   /* below: the index load */

#define CONFIG_KEY "config"

void repo_options_default(RepoOptions *o)
{
    const char *kdf = getenv("TIDEMARK_KDF");
    memset(o, 0, sizeof *o);
    o->zstd_level = 3;
    o->workers = 2;
    o->pack_size = 16u << 20;
    o->kdf = (kdf && strcmp(kdf, "fast") == 0) ? CRY_KDF_FAST : CRY_KDF_DEFAULT;
}

/* ISO 8601 UTC with seconds: "2026-11-21T14:03:00Z" */
static void repo_time_now(char *out, size_t cap)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void repo_pack_key(const Id *pack_id, char *out, size_t cap)
{
    char hex[ID_HEX_LEN + 1];
    id_hex(pack_id, hex);
    snprintf(out, cap, "packs/%.2s/%s", hex, hex);
}

static void random_id(Id *id) { randombytes_buf(id->b, ID_LEN); }

int repo_sealed_put(Repo *r, const char *key, const char *ad, const void *data, size_t len, Err *err)
{
    uint8_t *sealed = malloc(len + CRY_OVERHEAD);
    size_t slen = 0;
    int rc;
    if (!sealed) return err_set(err, ERR_NOMEM, "out of memory sealing %s", key);
    rc = cry_seal(r->keys, ad, strlen(ad), data, len, sealed, len + CRY_OVERHEAD, &slen, err);
    if (!rc) rc = sto_put(r->sto, key, sealed, slen, err);
    if (!rc) {
        pthread_mutex_lock(&r->mu);
        r->stats.bytes_stored += slen;
        pthread_mutex_unlock(&r->mu);
    }
    free(sealed);
    return rc;
}

static int repo_sealed_get(Repo *r, const char *key, const char *ad, Buf *out, Err *err)
{
    Buf raw;
    size_t plen = 0;
    int rc;
    buf_init(&raw, 0);
    if ((rc = sto_get_all(r->sto, key, &raw, err))) goto out;
    if (raw.len < CRY_OVERHEAD) { rc = err_set(err, ERR_CORRUPT, "object %s is truncated (%zu bytes)", key, raw.len); goto out; }
    if ((rc = buf_reserve(out, raw.len, err))) goto out;
    rc = cry_open(r->keys, ad, strlen(ad), raw.data, raw.len, out->data + out->len, raw.len, &plen, err);
    if (rc) { err_wrap(err, "object %s", key); goto out; }
    out->len += plen;
    out->data[out->len] = 0;
out:
    buf_free(&raw);
    return rc;
}

int repo_obj_put(Repo *r, const char *key, const void *data, size_t len, Err *err)
{
    return repo_sealed_put(r, key, key, data, len, err);
}

int repo_obj_get(Repo *r, const char *key, Buf *out, Err *err)
{
    return repo_sealed_get(r, key, key, out, err);
}

int repo_obj_put_hashed(Repo *r, const char *dir, const void *data, size_t len, Id *out_id, Err *err)
{
    char key[256], hex[ID_HEX_LEN + 1];
    Id id;
    int rc;
    cry_id(r->keys, data, len, &id);
    id_hex(&id, hex);
    snprintf(key, sizeof key, "%s/%s", dir, hex);
    /* objects are authenticated with the directory as AD, so the id can be
     * recomputed and checked by readers */
    rc = repo_sealed_put(r, key, key, data, len, err);
    if (!rc && out_id) *out_id = id;
    return rc;
}

Sto *repo_sto(Repo *r) { return r->sto; }

int repo_list_objects(Repo *r, const char *prefix, StoListFn fn, void *ctx, Err *err)
{
    return sto_list(r->sto, prefix, fn, ctx, err);
}

int repo_obj_size(Repo *r, const char *key, uint64_t *out, Err *err)
{
    StoStat st;
    int rc = sto_stat(r->sto, key, &st, err);
    if (!rc) *out = st.size;
    return rc;
}
const CryKeys *repo_keys(Repo *r) { return r->keys; }
const char *repo_id_hex(Repo *r) { return r->id_hex; }

/* ---- config ---- */

static int config_read(Sto *sto, char *id_hex_out, Err *err)
{
    Buf b;
    json_t *j = NULL;
    json_error_t je;
    int rc;
    json_int_t ver;
    const char *id;

    buf_init(&b, 1 << 20);
    rc = sto_get_all(sto, CONFIG_KEY, &b, err);
    if (rc == ERR_NOTFOUND) {
        rc = err_set(err, ERR_NOTFOUND, "no repository at %s (run 'tidemark init' first)", sto->location);
        goto out;
    }
    if (rc) goto out;
    j = json_loadb((const char *)b.data, b.len, 0, &je);
    if (!j || !json_is_object(j)) { rc = err_set(err, ERR_CORRUPT, "repository config at %s is not valid JSON", sto->location); goto out; }
    ver = json_integer_value(json_object_get(j, "format"));
    if (ver > REPO_FORMAT_VERSION) {
        rc = err_set(err, ERR_VERSION, "repository at %s has format %lld; this tidemark reads format %d at most: upgrade tidemark",
                     sto->location, (long long)ver, REPO_FORMAT_VERSION);
        goto out;
    }
    if (ver < 1) { rc = err_set(err, ERR_CORRUPT, "repository config at %s has no valid format version", sto->location); goto out; }
    id = json_string_value(json_object_get(j, "id"));
    if (!id || strlen(id) != ID_HEX_LEN) { rc = err_set(err, ERR_CORRUPT, "repository config at %s has no valid id", sto->location); goto out; }
    memcpy(id_hex_out, id, ID_HEX_LEN + 1);
out:
    json_decref(j);
    buf_free(&b);
    return rc;
}

static int has_any(void *ctx, const char *key, uint64_t size, Err *err)
{
    (void)key; (void)size; (void)err;
    *(int *)ctx = 1;
    return 1;   /* stop at the first */
}

int repo_init(Sto *sto, const char *pass, size_t passlen, const RepoOptions *opt, Err *err)
{
    RepoOptions o;
    CryKeys *keys = NULL;
    char *keyjson = NULL, *cfg = NULL;
    char key[128], hex[ID_HEX_LEN + 1], now[32];
    json_t *j = NULL;
    Id rid, kid;
    int exists = 0, rc, any = 0;

    if (opt) o = *opt;
    else repo_options_default(&o);
    if ((rc = cry_init(err))) return rc;
    if ((rc = sto_exists(sto, CONFIG_KEY, &exists, err))) goto out;
    if (exists) { rc = err_set(err, ERR_EXISTS, "a repository already exists at %s; refusing to initialise over it", sto->location); goto out; }
    err_clear(err);
    rc = sto_list(sto, "keys/", has_any, &any, err);
    if (rc < 0 || (rc && err->code)) goto out;
    rc = 0;
    if (any) { rc = err_set(err, ERR_EXISTS, "%s already holds key objects but no config; refusing to initialise over it", sto->location); goto out; }
    if (passlen == 0) { rc = err_set(err, ERR_INVALID, "empty passphrase refused"); goto out; }

    if ((rc = cry_keys_generate(&keys, err))) goto out;
    if ((rc = cry_keyobj_wrap(keys, pass, passlen, &o.kdf, "initial key", &keyjson, err))) goto out;
    random_id(&kid);
    id_hex(&kid, hex);
    snprintf(key, sizeof key, "keys/%s", hex);
    if ((rc = sto_put(sto, key, keyjson, strlen(keyjson), err))) goto out;

    random_id(&rid);
    id_hex(&rid, hex);
    repo_time_now(now, sizeof now);
    j = json_pack("{s:i, s:s, s:s}", "format", REPO_FORMAT_VERSION, "id", hex, "created", now);
    cfg = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    if (!cfg) { rc = err_set(err, ERR_NOMEM, "out of memory"); goto out; }
    /* config last: a crash before it leaves a location init can retry */
    rc = sto_put(sto, CONFIG_KEY, cfg, strlen(cfg), err);
out:
    if (keyjson) { sodium_memzero(keyjson, strlen(keyjson)); free(keyjson); }
    free(cfg);
    json_decref(j);
    cry_keys_free(keys);
    return rc;
}

/* ---- open ---- */

typedef struct KeyTry {
    Repo *r;
    const char *pass;
    size_t passlen;
    int tried;
    bool found;
    Err last;
} KeyTry;

static int try_key(void *ctx, const char *key, uint64_t size, Err *err)
{
    KeyTry *kt = ctx;
    Buf b;
    int rc;
    (void)size;
    buf_init(&b, 1 << 20);
    kt->tried++;
    rc = sto_get_all(kt->r->sto, key, &b, err);
    if (rc) { buf_free(&b); return rc; }
    rc = cry_keyobj_unwrap((const char *)b.data, b.len, kt->pass, kt->passlen, &kt->r->keys, &kt->last);
    buf_free(&b);
    if (rc == 0) {
        const char *slash = strrchr(key, '/');
        snprintf(kt->r->key_used, sizeof kt->r->key_used, "%s", slash ? slash + 1 : key);
        kt->found = true;
        return 1;   /* stop listing */
    }
    if (rc != ERR_AUTH) log_warn("key object %s: %s", key, kt->last.msg);
    return 0;
}

int repo_open(Sto *sto, const char *pass, size_t passlen, const RepoOptions *opt, Repo **out, Err *err)
{
    Repo *r = NULL;
    KeyTry kt;
    int rc;

    if ((rc = cry_init(err))) { sto_close(sto); return rc; }
    r = calloc(1, sizeof *r);
    if (!r) { sto_close(sto); return err_set(err, ERR_NOMEM, "out of memory"); }
    r->sto = sto;
    if (opt) r->opt = *opt;
    else repo_options_default(&r->opt);
    if (r->opt.workers == 0) r->opt.workers = 1;
    if (r->opt.pack_size < (1u << 20)) r->opt.pack_size = 1u << 20;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv_job, NULL);
    pthread_cond_init(&r->cv_space, NULL);
    pthread_cond_init(&r->cv_idle, NULL);
    pthread_cond_init(&r->cv_ids, NULL);
    pthread_cond_init(&r->cv_up, NULL);

    if ((rc = config_read(sto, r->id_hex, err))) goto fail;
    memset(&kt, 0, sizeof kt);
    kt.r = r;
    kt.pass = pass;
    kt.passlen = passlen;
    rc = sto_list(sto, "keys/", try_key, &kt, err);
    if (rc && !kt.found) goto fail;
    if (!kt.found) {
        rc = kt.tried ? err_set(err, ERR_AUTH, "wrong passphrase for repository %s (tried %d key%s)", sto->location,
                                kt.tried, kt.tried == 1 ? "" : "s")
                      : err_set(err, ERR_CORRUPT, "repository %s has no key objects", sto->location);
        goto fail;
    }
    err_clear(err);
    {
        const ChkParams params[3] = {CHK_PARAMS_FILES, CHK_PARAMS_DUMP, CHK_PARAMS_BINLOG};
        for (int i = 0; i < 3; i++)
            if ((rc = chk_new(&params[i], cry_keys_chunker_seed(r->keys), &r->chunkers[i], err))) goto fail;
    }
    if ((rc = idx_new(&r->idx, err))) goto fail;
    if ((rc = repo_index_load(r, err))) goto fail;
    *out = r;
    return 0;
fail:
    repo_free(r);
    return rc;
}

void repo_free(Repo *r)
{
    if (!r) return;
    repo_pipeline_stop(r);
    if (r->lock_key) {
        Err e;
        sto_del(r->sto, r->lock_key, &e);
        free(r->lock_key);
    }
    for (size_t i = 0; i < r->ndelta; i++) free(r->delta[i].entries);
    free(r->delta);
    for (int i = 0; i < 3; i++) chk_free(r->chunkers[i]);
    idx_free(r->idx);
    repo_comp_pool_free(r);
    cry_keys_free(r->keys);
    sto_close(r->sto);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv_job);
    pthread_cond_destroy(&r->cv_space);
    pthread_cond_destroy(&r->cv_idle);
    pthread_cond_destroy(&r->cv_ids);
    pthread_cond_destroy(&r->cv_up);
    free(r);
}

int repo_close(Repo *r, Err *err)
{
    int rc;
    if (!r) return 0;
    rc = repo_flush(r, err);
    repo_free(r);
    return rc;
}

/* ---- index load ---- */

typedef struct LoadCtx {
    Repo *r;
    size_t objects;
} LoadCtx;

static int load_pack(void *ctx, const Id *pack_id, const PackEntry *e, size_t n, Err *err)
{
    Repo *r = ctx;
    uint32_t p;
    int rc = idx_pack_intern(r->idx, pack_id, &p, err);
    if (rc) return rc;
    for (size_t i = 0; i < n; i++)
        if ((rc = idx_add(r->idx, &e[i].id, p, e[i].offset, e[i].length, err))) return rc;
    return 0;
}

static int load_one(void *ctx, const char *key, uint64_t size, Err *err)
{
    LoadCtx *lc = ctx;
    Buf b;
    int rc;
    (void)size;
    buf_init(&b, 0);
    rc = repo_sealed_get(lc->r, key, REPO_INDEX_AD, &b, err);
    if (!rc) rc = idx_file_decode(b.data, b.len, load_pack, lc->r, err);
    if (rc) err_wrap(err, "load index %s", key);
    buf_free(&b);
    lc->objects++;
    /* compact in batches so the recent table stays small */
    if (!rc && lc->objects % 64 == 0) rc = idx_compact(lc->r->idx, err);
    return rc;
}

static int repo_index_load(Repo *r, Err *err)
{
    LoadCtx lc = {r, 0};
    int rc = sto_list(r->sto, "index/", load_one, &lc, err);
    if (rc) return rc;
    rc = idx_compact(r->idx, err);
    log_debug("index: %zu chunks in %zu packs from %zu objects, %zu bytes of memory", idx_count(r->idx),
              idx_pack_count(r->idx), lc.objects, idx_memory(r->idx));
    return rc;
}

void repo_stats_get(Repo *r, RepoStats *out)
{
    pthread_mutex_lock(&r->mu);
    *out = r->stats;
    pthread_mutex_unlock(&r->mu);
}
