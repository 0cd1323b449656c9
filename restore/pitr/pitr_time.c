/* pitr_time.c: recovery targets: times (ISO 8601 with an offset, local
 * time, the process's TZ stated back to the operator, or @EPOCH), and the
 * one target an operator names (rst_pitr_target_set).
 * Invariant: the result is whole seconds (binlog timestamps are); a
 * fraction is dropped, never rounded up. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "restore/pitr/rst_pitr.h"

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i])) return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

int rst_pitr_time_parse(const char *s, int64_t *out, char *zone, size_t zcap, Err *err)
{
    const char *p = s;
    struct tm tm;
    int y, mo, d, h, mi, sec = 0, off_h = 0, off_m = 0, sign = 0;
    bool has_off = false;
    char zbuf[96];

    if (!s || !*s) return err_set(err, ERR_INVALID, "empty time");
    if (s[0] == '@') {
        char *end;
        long long v = strtoll(s + 1, &end, 10);
        if (*end || end == s + 1) return err_set(err, ERR_INVALID, "bad epoch time '%s'", s);
        *out = v;
        if (zone) snprintf(zone, zcap, "seconds since the epoch (UTC)");
        return 0;
    }
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d) ||
        (*p != 'T' && *p != 't' && *p != ' '))
        goto bad;
    p++;
    if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi)) goto bad;
    if (*p == ':') {
        p++;
        if (digits(&p, 2, &sec)) goto bad;
        if (*p == '.' || *p == ',') {
            p++;
            if (!isdigit((unsigned char)*p)) goto bad;
            while (isdigit((unsigned char)*p)) p++;
        }
    }
    while (*p == ' ') p++;
    if (*p == 'Z' || *p == 'z' || !strcmp(p, "UTC")) {
        has_off = true;
        p += (*p == 'U') ? 3 : 1;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        p++;
        if (digits(&p, 2, &off_h)) goto bad;
        if (*p == ':') p++;
        if (*p && digits(&p, 2, &off_m)) goto bad;
        has_off = true;
    }
    if (*p) goto bad;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || off_h > 14 || off_m > 59)
        goto bad;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    if (has_off) {
        *out = (int64_t)timegm(&tm) - sign * (off_h * 3600 + off_m * 60);
        if (sign) snprintf(zbuf, sizeof zbuf, "UTC offset %c%02d:%02d", sign < 0 ? '-' : '+', off_h, off_m);
        else snprintf(zbuf, sizeof zbuf, "UTC");
    } else {
        struct tm lt;
        time_t t;
        char abbr[16];
        long gmtoff;
        tm.tm_isdst = -1;
        t = mktime(&tm);
        if (t == (time_t)-1) goto bad;
        *out = (int64_t)t;
        localtime_r(&t, &lt);
        strftime(abbr, sizeof abbr, "%Z", &lt);
        gmtoff = lt.tm_gmtoff;
        snprintf(zbuf, sizeof zbuf, "local time %s (UTC%c%02ld:%02ld)", abbr, gmtoff < 0 ? '-' : '+',
                 labs(gmtoff) / 3600, labs(gmtoff) % 3600 / 60);
    }
    if (zone) snprintf(zone, zcap, "%s", zbuf);
    return 0;
bad:
    return err_set(err, ERR_INVALID,
                   "cannot read time '%s': use ISO 8601 'YYYY-MM-DD HH:MM:SS' with an optional offset "
                   "(Z, +02:00) or local time, or @EPOCH", s);
}

void rst_pitr_time_format(int64_t t, char *out, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm u, l;
    char a[32], b[48];
    if (!gmtime_r(&tt, &u) || !localtime_r(&tt, &l)) {
        snprintf(out, cap, "@%lld", (long long)t);
        return;
    }
    strftime(a, sizeof a, "%Y-%m-%d %H:%M:%S", &u);
    strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S %Z", &l);
    if (l.tm_gmtoff == 0) snprintf(out, cap, "%s UTC", a);
    else snprintf(out, cap, "%s UTC (%s)", a, b);
}

int rst_pitr_target_set(RstPitrRequest *q, const char *to, const char *to_gtid, const char *before_gtid,
                        const char *snapshot, char *zone, size_t zcap, Err *err)
{
    int n = (to != NULL) + (to_gtid != NULL) + (before_gtid != NULL);
    int rc;
    if (n > 1) return err_set(err, ERR_INVALID, "give one of --to, --to-gtid, --before-gtid");
    if (!n && !snapshot)
        return err_set(err, ERR_INVALID, "give a target: --to TIME, --to-gtid G, --before-gtid G or --snapshot ID");
    q->snapshot = snapshot;
    if (to) {
        q->kind = RST_PITR_TIME;
        return rst_pitr_time_parse(to, &q->time, zone, zcap, err);
    }
    if (to_gtid || before_gtid) {
        q->kind = to_gtid ? RST_PITR_GTID : RST_PITR_BEFORE_GTID;
        if ((rc = mdb_gtid_parse(to_gtid ? to_gtid : before_gtid, &q->gtid, err)))
            return err_wrap(err, "%s", to_gtid ? "--to-gtid" : "--before-gtid");
        return 0;
    }
    q->kind = RST_PITR_SNAPSHOT;
    return 0;
}
