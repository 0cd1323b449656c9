/* inst_binlog.c: the instance's binlog archive rebuilt as binlog files
 * between two points (binlog export), each point given as FILE:POS, a
 * GTID, a UTC time or @epoch.
 * Invariant: whole segments are written: the range covers at least the
 * points asked for, never less. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/instance/inst_int.h"

/* FILE:POS, a GTID (d-s-n), "YYYY-MM-DD HH:MM:SS" (UTC) or @epoch. */
static int locate(const BinlogCatalog *cat, const char *spec, bool is_to, size_t *out, Err *err)
{
    MdbGtid g;
    Err tmp;
    err_clear(&tmp);
    if (mdb_gtid_parse(spec, &g, &tmp) == 0) return binlog_catalog_find_gtid(cat, &g, out, err);
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *e = strptime(spec, "%Y-%m-%d %H:%M:%S", &tm);
    if ((e && !*e) || spec[0] == '@') {
        int64_t t = spec[0] == '@' ? (int64_t)strtoll(spec + 1, NULL, 10) : (int64_t)timegm(&tm);
        int rc = binlog_catalog_find_time(cat, t, out, err);
        if (rc == ERR_NOTFOUND && is_to && binlog_catalog_count(cat)) {
            err_clear(err);
            *out = binlog_catalog_count(cat) - 1;
            return 0;
        }
        /* --to T: every transaction committed at or before T, so also the
         * later segments that start within that second */
        while (rc == 0 && is_to && *out + 1 < binlog_catalog_count(cat) &&
               binlog_catalog_at(cat, *out + 1)->first_time <= t &&
               binlog_catalog_at(cat, *out + 1)->first_time > 0)
            (*out)++;
        return rc;
    }
    const char *colon = strrchr(spec, ':');
    if (colon) {
        char file[256];
        snprintf(file, sizeof file, "%.*s", (int)(colon - spec), spec);
        return binlog_catalog_find_pos(cat, file, strtoull(colon + 1, NULL, 10), out, err);
    }
    return err_set(err, ERR_INVALID, "cannot read '%s' as FILE:POS, a GTID or a time", spec);
}

int inst_binlog_export(Inst *in, Repo *r, const char *from, const char *to, const char *dir,
                       bool progress, InstBinlogExport *out, Err *err)
{
    BinlogCatalog *cat = NULL;
    size_t n, a = 0, b;
    int rc;

    memset(out, 0, sizeof *out);
    if ((rc = inst_need_name(in, err))) return rc;
    if ((rc = binlog_catalog_load(r, in->name, &cat, err))) goto out;
    n = binlog_catalog_count(cat);
    b = n ? n - 1 : 0;
    if (!n) {
        rc = err_set(err, ERR_NOTFOUND, "instance %s has no archived binlog", in->name);
        goto out;
    }
    if (from && (rc = locate(cat, from, false, &a, err))) goto out;
    if (to && (rc = locate(cat, to, true, &b, err))) goto out;
    if (a > b) {
        rc = err_set(err, ERR_INVALID, "--from is after --to");
        goto out;
    }
    if ((rc = binlog_export(r, cat, a, b, dir, progress, err))) goto out;
    const BinlogSegInfo *sa = binlog_catalog_at(cat, a), *sb = binlog_catalog_at(cat, b);
    snprintf(out->first_file, sizeof out->first_file, "%s", sa->file);
    out->first_start = sa->start;
    snprintf(out->last_file, sizeof out->last_file, "%s", sb->file);
    out->last_end = sb->end;
    out->segments = b - a + 1;
out:
    binlog_catalog_free(cat);
    return rc;
}
