/* repo_key.c: key objects: list, add, remove, change passphrase. The
 * master keys never change, so no data is re-encrypted. Invariant: the
 * repository always keeps at least one key object. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "engine/repo/repo_int.h"

const char *repo_key_current(Repo *r) { return r->key_used; }

typedef struct KeyList {
    Repo *r;
    RepoKeyFn fn;
    void *ctx;
    char **ids;
    size_t n, cap;
} KeyList;

static int collect(void *vctx, const char *key, uint64_t size, Err *err)
{
    KeyList *kl = vctx;
    (void)size;
    int rc = buf_grow(&kl->ids, &kl->cap, kl->n + 1, sizeof *kl->ids, 1u << 16, err);
    if (rc) return err_wrap(err, "list keys/");
    kl->ids[kl->n] = strdup(key + strlen("keys/"));
    if (!kl->ids[kl->n]) return err_set(err, ERR_NOMEM, "out of memory");
    kl->n++;
    return 0;
}

static void keylist_free(KeyList *kl)
{
    for (size_t i = 0; i < kl->n; i++) free(kl->ids[i]);
    free(kl->ids);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int keylist_load(Repo *r, KeyList *kl, Err *err)
{
    int rc;
    memset(kl, 0, sizeof *kl);
    kl->r = r;
    rc = sto_list(r->sto, "keys/", collect, kl, err);
    if (rc) { keylist_free(kl); return rc; }
    if (kl->n) qsort(kl->ids, kl->n, sizeof *kl->ids, cmp_str);
    return 0;
}

int repo_key_list(Repo *r, RepoKeyFn fn, void *ctx, Err *err)
{
    KeyList kl;
    int rc = keylist_load(r, &kl, err);
    if (rc) return rc;
    for (size_t i = 0; i < kl.n && !rc; i++) {
        char key[128];
        Buf b;
        json_t *j, *info;
        buf_init(&b, 1 << 20);
        snprintf(key, sizeof key, "keys/%s", kl.ids[i]);
        if ((rc = sto_get_all(r->sto, key, &b, err))) { buf_free(&b); break; }
        j = json_loadb((const char *)b.data, b.len, 0, NULL);
        buf_free(&b);
        info = json_object();
        if (j) {
            const char *fields[] = {"created", "host", "label", "kdf", "opslimit", "memlimit"};
            for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
                json_t *v = json_object_get(j, fields[f]);
                if (v) json_object_set(info, fields[f], v);
            }
        }
        rc = fn(ctx, kl.ids[i], info, strcmp(kl.ids[i], r->key_used) == 0, err);
        json_decref(info);
        json_decref(j);
    }
    keylist_free(&kl);
    return rc;
}

int repo_key_add(Repo *r, const char *pass, size_t passlen, const char *label, char out_id[ID_HEX_LEN + 1], Err *err)
{
    char *json = NULL, key[128], hex[ID_HEX_LEN + 1];
    Id id;
    int rc;
    if (passlen == 0) return err_set(err, ERR_INVALID, "empty passphrase refused");
    if ((rc = cry_keyobj_wrap(r->keys, pass, passlen, &r->opt.kdf, label, &json, err))) return rc;
    randombytes_buf(id.b, ID_LEN);
    id_hex(&id, hex);
    snprintf(key, sizeof key, "keys/%s", hex);
    rc = sto_put(r->sto, key, json, strlen(json), err);
    sodium_memzero(json, strlen(json));
    free(json);
    if (!rc && out_id) memcpy(out_id, hex, ID_HEX_LEN + 1);
    return rc;
}

int repo_key_remove(Repo *r, const char *id_prefix, Err *err)
{
    KeyList kl;
    size_t match = SIZE_MAX, nm = 0, pl = strlen(id_prefix);
    char key[128];
    int rc = keylist_load(r, &kl, err);
    if (rc) return rc;
    for (size_t i = 0; i < kl.n; i++)
        if (pl >= 4 && strncmp(kl.ids[i], id_prefix, pl) == 0) { match = i; nm++; }
    if (nm == 0) rc = err_set(err, ERR_NOTFOUND, "no key '%s' (ids have at least 4 hex digits; see 'tidemark key list')", id_prefix);
    else if (nm > 1) rc = err_set(err, ERR_INVALID, "key prefix '%s' is ambiguous", id_prefix);
    else if (kl.n == 1) rc = err_set(err, ERR_INVALID, "refusing to remove the last key: the repository would become unreadable");
    else if (strcmp(kl.ids[match], r->key_used) == 0)
        rc = err_set(err, ERR_INVALID, "refusing to remove the key in use; open the repository with another passphrase to remove it");
    else {
        snprintf(key, sizeof key, "keys/%s", kl.ids[match]);
        rc = sto_del(r->sto, key, err);
    }
    keylist_free(&kl);
    return rc;
}

int repo_key_passwd(Repo *r, const char *newpass, size_t newlen, char out_id[ID_HEX_LEN + 1], Err *err)
{
    char old[ID_HEX_LEN + 1], key[128];
    int rc;
    memcpy(old, r->key_used, sizeof old);
    if ((rc = repo_key_add(r, newpass, newlen, "changed passphrase", out_id, err))) return rc;
    /* the new key exists before the old one goes: never zero keys */
    snprintf(key, sizeof key, "keys/%s", old);
    if ((rc = sto_del(r->sto, key, err))) return err_wrap(err, "new key %s added but old key not removed", out_id);
    memcpy(r->key_used, out_id, ID_HEX_LEN + 1);
    return 0;
}
