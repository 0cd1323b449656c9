/* repo_lock.c: advisory locks as plain JSON objects locks/<random id>:
 * {"host","pid","time" (unix seconds),"exclusive"}. Shared locks coexist;
 * an exclusive lock conflicts with every other live lock. A lock whose
 * time is older than REPO_LOCK_STALE seconds, or whose pid is gone on this
 * same host, is stale and ignored. A long-running holder rewrites its
 * object with the current time (repo_lock_refresh). Locks are never encrypted: they hold
 * nothing secret and must be readable by a process that only lists them. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "engine/repo/repo_int.h"

#define REPO_LOCK_STALE 1800

typedef struct LockScan {
    Repo *r;
    bool want_exclusive;
    char conflict[512];
    bool found;
} LockScan;

static int scan_lock(void *ctx, const char *key, uint64_t size, Err *err)
{
    LockScan *ls = ctx;
    Buf b;
    json_t *j;
    char host[256];
    (void)size;
    if (ls->r->lock_key && strcmp(key, ls->r->lock_key) == 0) return 0;
    buf_init(&b, 1 << 16);
    if (sto_get_all(ls->r->sto, key, &b, err)) { err_clear(err); buf_free(&b); return 0; }   /* vanished */
    j = json_loadb((const char *)b.data, b.len, 0, NULL);
    buf_free(&b);
    if (!j) return 0;
    {
        const char *lh = json_string_value(json_object_get(j, "host"));
        json_int_t pid = json_integer_value(json_object_get(j, "pid"));
        json_int_t t = json_integer_value(json_object_get(j, "time"));
        bool excl = json_is_true(json_object_get(j, "exclusive"));
        time_t now = time(NULL);
        bool stale = now - (time_t)t > REPO_LOCK_STALE;
        gethostname(host, sizeof host);
        host[sizeof host - 1] = 0;
        if (!stale && lh && strcmp(lh, host) == 0 && pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH) stale = true;
        if (!stale && (excl || ls->want_exclusive)) {
            snprintf(ls->conflict, sizeof ls->conflict, "%s lock held by %s pid %lld since %lld s ago (%s)",
                     excl ? "an exclusive" : "a", lh ? lh : "?", (long long)pid, (long long)(now - t), key);
            ls->found = true;
        }
    }
    json_decref(j);
    return 0;
}

/* The lock object's JSON text (malloc'd), or NULL when out of memory. */
static char *lock_text(bool exclusive)
{
    char host[256], *text;
    json_t *j;
    gethostname(host, sizeof host);
    host[sizeof host - 1] = 0;
    j = json_pack("{s:s, s:I, s:I, s:b}", "host", host, "pid", (json_int_t)getpid(), "time", (json_int_t)time(NULL),
                  "exclusive", exclusive);
    text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return text;
}

int repo_lock(Repo *r, bool exclusive, Err *err)
{
    char key[128], hex[ID_HEX_LEN + 1], *text = NULL;
    Id id;
    LockScan ls;
    int rc;

    if (r->lock_key) return 0;
    randombytes_buf(id.b, ID_LEN);
    id_hex(&id, hex);
    snprintf(key, sizeof key, "locks/%s", hex);
    text = lock_text(exclusive);
    if (!text) return err_set(err, ERR_NOMEM, "out of memory");
    r->lock_exclusive = exclusive;
    /* put first, then look for others: two racing exclusive takers both
     * see each other and both back off */
    rc = sto_put(r->sto, key, text, strlen(text), err);
    free(text);
    if (rc) return err_wrap(err, "take lock");
    r->lock_key = strdup(key);
    memset(&ls, 0, sizeof ls);
    ls.r = r;
    ls.want_exclusive = exclusive;
    rc = sto_list(r->sto, "locks/", scan_lock, &ls, err);
    if (!rc && ls.found) rc = err_set(err, ERR_LOCKED, "repository is locked: %s", ls.conflict);
    if (rc) {
        Err e2;
        sto_del(r->sto, r->lock_key, &e2);
        free(r->lock_key);
        r->lock_key = NULL;
    }
    return rc;
}

int repo_unlock(Repo *r, Err *err)
{
    int rc;
    if (!r->lock_key) return 0;
    rc = sto_del(r->sto, r->lock_key, err);
    free(r->lock_key);
    r->lock_key = NULL;
    return rc;
}

int repo_lock_refresh(Repo *r, Err *err)
{
    char *text;
    int rc;
    if (!r->lock_key) return err_set(err, ERR_INVALID, "refresh lock: this process holds no repository lock");
    text = lock_text(r->lock_exclusive);
    if (!text) return err_set(err, ERR_NOMEM, "out of memory");
    /* locks/ objects are the one kind the engine rewrites (storage.h 4) */
    rc = sto_put(r->sto, r->lock_key, text, strlen(text), err);
    free(text);
    if (rc) return err_wrap(err, "refresh lock %s", r->lock_key);
    return 0;
}
