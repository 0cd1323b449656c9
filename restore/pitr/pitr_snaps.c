/* pitr_snaps.c: the instance's snapshots that can start a replay (a
 * database item with binlog file, position and GTID), oldest first.
 * Invariant: snapshots without coordinates are left out, never guessed. */
#include <stdlib.h>
#include <string.h>

#include "restore/db/rst_db.h"
#include "restore/pitr/pitr_int.h"

static int collect(void *ctx, const Id *id, json_t *m, Err *err)
{
    PitrSnapList *l = ctx;
    const char *inst = json_string_value(json_object_get(m, "instance"));
    const json_t *item = rst_db_item(m), *bl;
    const char *f, *g, *t;
    PitrSnap s;
    Err e;
    if (!inst || strcmp(inst, l->instance) != 0 || !item) return 0;
    bl = json_object_get(item, "binlog");
    f = json_string_value(json_object_get(bl, "file"));
    g = json_string_value(json_object_get(bl, "gtid"));
    t = json_string_value(json_object_get(m, "time"));
    if (!f || !g || !t) return 0;   /* no binlog coordinates: cannot start a replay */
    memset(&s, 0, sizeof s);
    err_clear(&e);
    if (mdb_gtid_set_parse(g, &s.gtid, &e) || rst_pitr_time_parse(t, &s.time, NULL, 0, &e)) return 0;
    id_hex(id, s.hex);
    snprintf(s.time_s, sizeof s.time_s, "%s", t);
    snprintf(s.file, sizeof s.file, "%s", f);
    snprintf(s.gtid_s, sizeof s.gtid_s, "%s", g);
    s.pos = (uint64_t)json_integer_value(json_object_get(bl, "position"));
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 16;
        PitrSnap *nv = realloc(l->v, nc * sizeof *nv);
        if (!nv) return err_set(err, ERR_NOMEM, "snapshot list");
        l->v = nv;
        l->cap = nc;
    }
    s.m = json_incref(m);
    s.item = item;
    l->v[l->n++] = s;
    return 0;
}

void pitr_snaps_free(PitrSnapList *l)
{
    for (size_t i = 0; i < l->n; i++) json_decref(l->v[i].m);
    free(l->v);
}


int pitr_snaps_load(Repo *r, PitrSnapList *l, Err *err)
{
    return repo_snapshot_list(r, collect, l, err);
}

int pitr_snaps_find(Repo *r, const PitrSnapList *l, const char *ref, size_t *out, Err *err)
{
    Id id;
    json_t *m = NULL;
    char hex[ID_HEX_LEN + 1];
    int rc = repo_snapshot_find(r, ref, &(RepoSnapFilter){.instance = l->instance, .item_kind = "mariadb"}, &m, &id, err);
    if (rc) return rc;
    json_decref(m);
    id_hex(&id, hex);
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i].hex, hex)) {
            *out = i;
            return 0;
        }
    return err_set(err, ERR_NOTFOUND, "snapshot %.12s has no database item with binlog coordinates "
                   "for instance %s", hex, l->instance);
}
