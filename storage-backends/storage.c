/* storage.c: checked wrappers around a driver's StoOps. The single place
 * that validates keys and words errors the same for every driver. */
#include "storage-backends/storage.h"

#include <stdlib.h>
#include <string.h>

#include "engine/common/log.h"

int sto_new(const StoOps *ops, void *self, const char *location, Sto **out, Err *err)
{
    Sto *s = calloc(1, sizeof *s);
    if (!s || !(s->location = strdup(location ? location : "?"))) {
        free(s);
        if (ops && ops->close) ops->close(self);
        return err_set(err, ERR_NOMEM, "out of memory opening storage");
    }
    s->ops = ops;
    s->self = self;
    *out = s;
    return 0;
}

void sto_close(Sto *sto)
{
    if (!sto) return;
    if (sto->ops && sto->ops->close) sto->ops->close(sto->self);
    free(sto->location);
    free(sto);
}

int sto_key_check(const char *key, Err *err)
{
    size_t n;
    if (!key || !*key) return err_set(err, ERR_INVALID, "empty storage key");
    n = strlen(key);
    if (key[0] == '/' || key[n - 1] == '/' || strstr(key, "//") || strstr(key, ".."))
        return err_set(err, ERR_INVALID, "invalid storage key '%.200s'", key);
    for (const char *p = key; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '/'))
            return err_set(err, ERR_INVALID, "invalid character in storage key '%.200s'", key);
    }
    return 0;
}

int sto_put(Sto *sto, const char *key, const void *buf, size_t len, Err *err)
{
    int rc = sto_key_check(key, err);
    if (rc) return rc;
    log_debug("put %s (%zu bytes)", key, len);
    rc = sto->ops->put(sto->self, key, buf, len, err);
    if (rc) err_wrap(err, "put %s", key);
    return rc;
}

int sto_get(Sto *sto, const char *key, uint64_t off, size_t len, Buf *out, Err *err)
{
    int rc = sto_key_check(key, err);
    if (rc) return rc;
    rc = sto->ops->get(sto->self, key, off, len, out, err);
    if (rc) err_wrap(err, "get %s", key);
    return rc;
}

int sto_get_all(Sto *sto, const char *key, Buf *out, Err *err)
{
    return sto_get(sto, key, 0, STO_LEN_ALL, out, err);
}

int sto_stat(Sto *sto, const char *key, StoStat *out, Err *err)
{
    int rc = sto_key_check(key, err);
    if (rc) return rc;
    rc = sto->ops->stat(sto->self, key, out, err);
    if (rc) err_wrap(err, "stat %s", key);
    return rc;
}

int sto_exists(Sto *sto, const char *key, int *out, Err *err)
{
    StoStat st;
    int rc = sto_stat(sto, key, &st, err);
    if (rc == ERR_NOTFOUND) { err_clear(err); *out = 0; return 0; }
    if (rc) return rc;
    *out = 1;
    return 0;
}

int sto_del(Sto *sto, const char *key, Err *err)
{
    int rc = sto_key_check(key, err);
    if (rc) return rc;
    log_debug("delete %s", key);
    rc = sto->ops->del(sto->self, key, err);
    if (rc) err_wrap(err, "delete %s", key);
    return rc;
}

int sto_del_many(Sto *sto, const char *const *keys, size_t n, Err *err)
{
    int rc;
    for (size_t i = 0; i < n; i++)
        if ((rc = sto_key_check(keys[i], err))) return rc;
    if (sto->ops->del_many) {
        rc = sto->ops->del_many(sto->self, keys, n, err);
        if (rc) err_wrap(err, "delete %zu objects", n);
        return rc;
    }
    for (size_t i = 0; i < n; i++)
        if ((rc = sto_del(sto, keys[i], err))) return rc;
    return 0;
}

int sto_list(Sto *sto, const char *prefix, StoListFn fn, void *ctx, Err *err)
{
    int rc;
    if (prefix && *prefix && strstr(prefix, ".."))
        return err_set(err, ERR_INVALID, "invalid list prefix '%.200s'", prefix);
    /* a callback may stop the listing without an error (non-zero, err untouched) */
    err_clear(err);
    rc = sto->ops->list(sto->self, prefix ? prefix : "", fn, ctx, err);
    if (rc && err->code != ERR_OK) err_wrap(err, "list %s", prefix && *prefix ? prefix : "/");
    return rc;
}
