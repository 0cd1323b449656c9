/* binlog_compact.c: catalog compaction. Loading reads one object per
 * entry (about 17,000 a day at 5 s seals); a compact object
 * "catalog/<instance>/compact-<first>-<last>" holds entries first..last in
 * one encrypted JSON {"v":1,"instance","first","last","entries":[...]}.
 * Two levels: every `every` new entries one compact, and every
 * BINLOG_COMPACT_MERGE small compacts in a row one that holds their union.
 * Invariant: compaction only adds objects; entries and older compacts are
 * never rewritten nor deleted, so a crash at any point leaves a catalog
 * that loads to the same entries (binlog_catalog_load.c). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/common/log.h"
#include "engine/source/binlog/binlog_int.h"

/* Put one compact of c's entries with first <= seq <= last. */
static int put_compact(Repo *r, const char *instance, const BinlogCatalog *c, uint64_t first,
                       uint64_t last, size_t *written, Err *err)
{
    char key[400];
    char *text = NULL;
    json_t *arr = json_array(), *j = NULL;
    size_t count = 0;
    int rc = 0;

    snprintf(key, sizeof key, "catalog/%s/" BINLOG_COMPACT_PREFIX "%012" PRIu64 "-%012" PRIu64,
             instance, first, last);
    if (!arr) {
        rc = err_set(err, ERR_NOMEM, "binlog catalog compact %s", key);
        goto out;
    }
    for (size_t i = 0; i < c->n; i++) {
        if (c->v[i].seq < first || c->v[i].seq > last)
            continue;
        json_t *e = binlog_seginfo_to_json(&c->v[i]);
        if (!e || json_array_append_new(arr, e) != 0) {
            rc = err_set(err, ERR_NOMEM, "binlog catalog compact %s", key);
            goto out;
        }
        count++;
    }
    if (!count)
        goto out;
    j = json_pack("{s:i, s:s, s:I, s:I, s:O}", "v", 1, "instance", instance, "first",
                  (json_int_t)first, "last", (json_int_t)last, "entries", arr);
    if (!j || !(text = json_dumps(j, JSON_COMPACT))) {
        rc = err_set(err, ERR_NOMEM, "binlog catalog compact %s", key);
        goto out;
    }
    rc = repo_obj_put(r, key, text, strlen(text), err);
    if (rc == ERR_EXISTS) {
        /* written before a crash: entries are immutable, so it is the same */
        err_clear(err);
        rc = 0;
    } else if (rc) {
        err_wrap(err, "write binlog catalog compact %s", key);
        goto out;
    } else {
        (*written)++;
        log_debug("catalog compact %s: %zu entries", key, count);
    }
out:
    free(text);
    json_decref(j);
    json_decref(arr);
    return rc;
}

int binlog_catalog_compact(Repo *r, const char *instance, const BinlogCatalog *c, unsigned every,
                           size_t *out_written, Err *err)
{
    size_t written = 0, tail = 0;
    int rc = 0;

    if (out_written)
        *out_written = 0;
    if (!every || !c->n)
        return 0;
    for (size_t i = c->n; i-- > 0 && c->v[i].seq > c->compacted_to;)
        tail++;

    /* the ranges read plus the one about to be written, in seq order */
    BinlogCompactRange *v = calloc(c->ncover + 1, sizeof *v);
    if (!v)
        return err_set(err, ERR_NOMEM, "binlog catalog compaction");
    size_t nv = c->ncover;
    if (nv)
        memcpy(v, c->cover, nv * sizeof *v);
    if (tail >= every) {
        uint64_t first = c->v[c->n - tail].seq, last = c->v[c->n - 1].seq;
        if ((rc = put_compact(r, instance, c, first, last, &written, err)))
            goto out;
        v[nv].first = first;
        v[nv].last = last;
        nv++;
    }
    /* second level: the small compacts at the end, once there are enough */
    uint64_t small = (uint64_t)every * BINLOG_COMPACT_MERGE;
    size_t run = 0;
    while (run < nv && v[nv - 1 - run].last - v[nv - 1 - run].first + 1 < small)
        run++;
    if (run >= BINLOG_COMPACT_MERGE &&
        (rc = put_compact(r, instance, c, v[nv - run].first, v[nv - 1].last, &written, err)))
        goto out;
out:
    free(v);
    if (out_written)
        *out_written = written;
    return rc;
}
