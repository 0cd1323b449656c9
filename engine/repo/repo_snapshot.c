/* repo_snapshot.c: snapshot manifests. A manifest is JSON, sealed, stored
 * at snapshots/<keyed hash of the JSON>; writing it is the commit point of
 * a backup, so repo_snapshot_put flushes every pack and index first. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/repo/repo_int.h"

/* Snapshot times carry microseconds: two backups in the same second must
 * still order, or "latest" could pick the older one. The fixed width keeps
 * string order equal to time order. */
static void time_now_us(char *out, size_t cap)
{
    struct timespec ts;
    struct tm tm;
    size_t n;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, cap - n, ".%06uZ", (unsigned)(ts.tv_nsec / 1000) % 1000000u);
}

json_t *repo_manifest_new(const char *instance, const char *const *tags, size_t ntags)
{
    char now[40], host[256];
    json_t *t = json_array(), *m;
    time_now_us(now, sizeof now);
    if (gethostname(host, sizeof host) != 0) snprintf(host, sizeof host, "unknown");
    host[sizeof host - 1] = '\0';
    for (size_t i = 0; i < ntags; i++) json_array_append_new(t, json_string(tags[i]));
    m = json_pack("{s:i, s:s, s:s, s:s, s:o, s:[]}", "version", 1, "time", now, "host", host, "instance",
                  instance ? instance : "default", "tags", t, "items");
    return m;
}

int repo_snapshot_put(Repo *r, json_t *manifest, Id *out_id, Err *err)
{
    char *text;
    int rc;
    if ((rc = repo_flush(r, err))) return err_wrap(err, "snapshot not committed");
    text = json_dumps(manifest, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text) return err_set(err, ERR_NOMEM, "cannot serialise manifest");
    rc = repo_obj_put_hashed(r, "snapshots", text, strlen(text), out_id, err);
    free(text);
    if (rc) err_wrap(err, "write snapshot");
    return rc;
}

typedef struct SnapItem {
    Id id;
    json_t *m;
} SnapItem;

typedef struct SnapList {
    Repo *r;
    SnapItem *v;
    size_t n, cap;
    size_t skipped;
} SnapList;

static int load_snap(void *ctx, const char *key, uint64_t size, Err *err)
{
    SnapList *sl = ctx;
    Buf b;
    json_t *m;
    json_error_t je;
    Id id, check;
    int rc;
    (void)size;
    if ((rc = id_parse(key + strlen("snapshots/"), &id, err))) return 0;   /* not ours: ignore */
    buf_init(&b, 256u << 20);
    rc = repo_obj_get(sl->r, key, &b, err);
    if (rc) { buf_free(&b); return err_wrap(err, "read snapshot"); }
    cry_id(repo_keys(sl->r), b.data, b.len, &check);
    if (id_cmp(&check, &id) != 0) { buf_free(&b); return err_set(err, ERR_CORRUPT, "snapshot %s does not hash to its name", key); }
    m = json_loadb((const char *)b.data, b.len, 0, &je);
    buf_free(&b);
    if (!m) return err_set(err, ERR_CORRUPT, "snapshot %s is not valid JSON: %s", key, je.text);
    if ((rc = buf_grow(&sl->v, &sl->cap, sl->n + 1, sizeof *sl->v, (size_t)1 << 24, err))) {
        json_decref(m);
        return err_wrap(err, "snapshot list");
    }
    sl->v[sl->n].id = id;
    sl->v[sl->n].m = m;
    sl->n++;
    return 0;
}

static int cmp_time(const void *a, const void *b)
{
    const SnapItem *x = a, *y = b;
    const char *tx = json_string_value(json_object_get(x->m, "time"));
    const char *ty = json_string_value(json_object_get(y->m, "time"));
    int c = strcmp(tx ? tx : "", ty ? ty : "");
    return c ? c : id_cmp(&x->id, &y->id);
}

static void snaplist_free(SnapList *sl)
{
    for (size_t i = 0; i < sl->n; i++) json_decref(sl->v[i].m);
    free(sl->v);
}

static int snaplist_load(Repo *r, SnapList *sl, Err *err)
{
    int rc;
    memset(sl, 0, sizeof *sl);
    sl->r = r;
    rc = sto_list(r->sto, "snapshots/", load_snap, sl, err);
    if (rc) { snaplist_free(sl); return rc; }
    if (sl->n) qsort(sl->v, sl->n, sizeof *sl->v, cmp_time);
    return 0;
}

int repo_snapshot_list(Repo *r, RepoSnapFn fn, void *ctx, Err *err)
{
    SnapList sl;
    int rc = snaplist_load(r, &sl, err);
    if (rc) return rc;
    for (size_t i = 0; i < sl.n && !rc; i++) rc = fn(ctx, &sl.v[i].id, sl.v[i].m, err);
    snaplist_free(&sl);
    return rc;
}

static bool has_tag(const json_t *m, const char *tag)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(m, "tags"), i, v) {
        const char *t = json_string_value(v);
        if (t && !strcmp(t, tag)) return true;
    }
    return false;
}

/* Whether a files item's tree holds path: its entries start with the
 * basename of the backed-up root. */
static bool item_holds(const json_t *it, const char *path)
{
    const char *root = json_string_value(json_object_get(it, "root"));
    if (!root) return true;       /* older item or a non-UTF-8 root: cannot tell */
    while (*path == '/' || (path[0] == '.' && path[1] == '/')) path += path[0] == '.' ? 2 : 1;
    size_t n = strcspn(path, "/");
    size_t rl = strlen(root);
    while (rl > 1 && root[rl - 1] == '/') rl--;
    const char *base = root + rl;
    while (base > root && base[-1] != '/') base--;
    return (size_t)(root + rl - base) == n && !strncmp(base, path, n);
}

static bool has_item(const json_t *m, const char *kind, const char *path)
{
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(m, "items"), i, it) {
        const char *k = json_string_value(json_object_get(it, "kind"));
        if (k && !strcmp(k, kind) && (!path || item_holds(it, path))) return true;
    }
    return false;
}

bool repo_snapshot_matches(const json_t *m, const RepoSnapFilter *f)
{
    if (!f) return true;
    if (f->instance) {
        const char *inst = json_string_value(json_object_get(m, "instance"));
        if (!inst || strcmp(inst, f->instance)) return false;
    }
    for (size_t i = 0; i < f->ntags; i++)
        if (!has_tag(m, f->tags[i])) return false;
    if (f->item_kind) {
        if (!f->npaths && !has_item(m, f->item_kind, NULL)) return false;
        for (size_t i = 0; i < f->npaths; i++)
            if (!has_item(m, f->item_kind, f->paths[i])) return false;
    }
    return true;
}

/* " for instance X with tag T holding a files item with P" for messages. */
static void filter_text(const RepoSnapFilter *f, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    if (!f) return;
#define ADD(...) do { if (n < cap) n += (size_t)snprintf(out + n, cap - n, __VA_ARGS__); } while (0)
    if (f->instance) ADD(" for instance %s", f->instance);
    for (size_t i = 0; i < f->ntags; i++) ADD(" %s %s", i ? "and" : "with tag", f->tags[i]);
    if (f->item_kind) ADD(" holding a %s item", f->item_kind);
    for (size_t i = 0; i < f->npaths; i++) ADD(" %s %s", i ? "and" : "with", f->paths[i]);
#undef ADD
}

int repo_snapshot_find(Repo *r, const char *ref, const RepoSnapFilter *f, json_t **out, Id *out_id,
                       Err *err)
{
    SnapList sl;
    size_t found = SIZE_MAX, matches = 0, rl;
    int rc;

    if (!ref || !*ref) return err_set(err, ERR_INVALID, "no snapshot given");
    if ((rc = snaplist_load(r, &sl, err))) return rc;
    rl = strlen(ref);
    if (strcmp(ref, "latest") == 0) {
        for (size_t i = sl.n; i-- > 0;) {
            if (repo_snapshot_matches(sl.v[i].m, f)) { found = i; matches = 1; break; }
        }
    } else {
        if (rl < 4 || rl > ID_HEX_LEN) { rc = err_set(err, ERR_INVALID, "snapshot reference '%s' must be 4 to 64 hex digits or 'latest'", ref); goto out; }
        for (size_t i = 0; i < sl.n; i++) {
            char hex[ID_HEX_LEN + 1];
            id_hex(&sl.v[i].id, hex);
            if (strncasecmp(hex, ref, rl) == 0) { found = i; matches++; }
        }
    }
    if (matches == 0) {
        char what[1024];
        RepoSnapFilter inst_only = {.instance = f ? f->instance : NULL};
        filter_text(strcmp(ref, "latest") == 0 ? f : &inst_only, what, sizeof what);
        rc = err_set(err, ERR_NOTFOUND, "no snapshot '%s'%s in %s", ref, what, r->sto->location);
        goto out;
    }
    if (matches > 1) { rc = err_set(err, ERR_INVALID, "snapshot prefix '%s' is ambiguous (%zu matches)", ref, matches); goto out; }
    *out = json_incref(sl.v[found].m);
    if (out_id) *out_id = sl.v[found].id;
out:
    snaplist_free(&sl);
    return rc;
}

int repo_snapshot_get(Repo *r, const char *ref, const char *instance, json_t **out, Id *out_id, Err *err)
{
    RepoSnapFilter f = {.instance = instance};
    return repo_snapshot_find(r, ref, &f, out, out_id, err);
}
