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

/* Put one compact of c's entries with first <= seq <= last. The text is
 * built entry by entry (a level-2 compact holds a day of entries: no JSON
 * tree of all of them); it is what json_dumps(JSON_COMPACT) of the whole
 * object would give. */
static int put_compact(Repo *r, const char *instance, const BinlogCatalog *c, uint64_t first,
                       uint64_t last, size_t *written, Err *err)
{
    char key[400];
    char *name = NULL, *text = NULL;
    json_t *jn = json_string(instance);
    size_t count = 0;
    Buf b;
    int rc = 0;

    buf_init(&b, 0);
    snprintf(key, sizeof key, "catalog/%s/" BINLOG_COMPACT_PREFIX "%012" PRIu64 "-%012" PRIu64,
             instance, first, last);
    if (!jn || !(name = json_dumps(jn, JSON_ENCODE_ANY))) {
        rc = err_set(err, ERR_NOMEM, "binlog catalog compact %s", key);
        goto out;
    }
    if ((rc = buf_printf(&b, err, "{\"v\":1,\"instance\":%s,\"first\":%" PRIu64 ",\"last\":%" PRIu64
                         ",\"entries\":[", name, first, last)))
        goto out;
    for (size_t i = 0; i < c->n; i++) {
        if (c->v[i].seq < first || c->v[i].seq > last)
            continue;
        json_t *e = binlog_seginfo_to_json(&c->v[i]);
        text = e ? json_dumps(e, JSON_COMPACT) : NULL;
        json_decref(e);
        if (!text) {
            rc = err_set(err, ERR_NOMEM, "binlog catalog compact %s", key);
            goto out;
        }
        if ((count && (rc = buf_append(&b, ",", 1, err))) ||
            (rc = buf_append_str(&b, text, err)))
            goto out;
        free(text);
        text = NULL;
        count++;
    }
    if (!count)
        goto out;
    if ((rc = buf_append(&b, "]}", 2, err)))
        goto out;
    rc = repo_obj_put(r, key, b.data, b.len, err);
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
    free(name);
    json_decref(jn);
    buf_free(&b);
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
