/* cmd_binlog.c: `binlog follow|status|list|export`: argument parsing,
 * configuration and printing around engine/source/binlog. The follower
 * runs in the foreground (systemd, daemon); SIGTERM/SIGINT seal what is
 * complete, upload, and exit 0. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "engine/cli/commands.h"
#include "engine/common/log.h"
#include "engine/source/binlog/src_binlog.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/* A config value, or the TIDEMARK_<KEY> environment variable while the key
 * is not declared (the db_* keys belong to the dump module). */
static const char *cval(CliCtx *ctx, const char *inst, const char *key)
{
    const char *v = conf_get(ctx->conf, inst, key);
    if (v) return v;
    char env[96];
    size_t i = 0;
    i = (size_t)snprintf(env, sizeof env, "TIDEMARK_");
    for (const char *p = key; *p && i + 1 < sizeof env; p++) env[i++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    env[i] = '\0';
    v = getenv(env);
    return v && *v ? v : NULL;
}

static int read_secret_file(const char *path, char *out, size_t cap, Err *err)
{
    FILE *f = fopen(path, "r");
    if (!f) return err_sys(err, errno, "open db_password_file %s", path);
    size_t n = fread(out, 1, cap - 1, f);
    fclose(f);
    while (n && (out[n - 1] == '\n' || out[n - 1] == '\r')) n--;
    out[n] = '\0';
    return 0;
}

static int uint_opt(CliCtx *ctx, const char *inst, const char *key, uint64_t def, uint64_t *out,
                    bool size, Err *err)
{
    const char *v = cval(ctx, inst, key);
    *out = def;
    if (!v) return 0;
    if (size) {
        if (conf_parse_size(v, out)) return err_set(err, ERR_INVALID, "bad value '%s' for %s", v, key);
        return 0;
    }
    char *end;
    errno = 0;
    unsigned long long u = strtoull(v, &end, 10);
    if (errno || *end || end == v) return err_set(err, ERR_INVALID, "bad value '%s' for %s", v, key);
    *out = u;
    return 0;
}

/* The instance a binlog command works on: cli_instance, and when the config
 * declares instances, one of them (a typo must not read as "nothing
 * archived, all is well"). Without a config (environment only) any name. */
static const char *binlog_instance(CliCtx *ctx, const char *local, Err *err)
{
    const char *inst = cli_instance(ctx, local, err);
    const char *const *names;
    size_t n = ctx->conf ? conf_instances(ctx->conf, &names) : 0;
    if (!inst || n == 0) return inst;
    char known[600];
    size_t k = 0;
    known[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], inst) == 0) return inst;
        if (k < sizeof known)
            k += (size_t)snprintf(known + k, sizeof known - k, "%s%s", i ? ", " : "", names[i]);
    }
    err_set(err, ERR_INVALID, "instance '%s' is not in the config (its instances: %s)", inst,
            known);
    return NULL;
}

int cmd_binlog_follow(CliCtx *ctx, int argc, char **argv, Err *err)
{
    static const struct option opts[] = {
        {"instance", required_argument, NULL, 'i'}, {"start", required_argument, NULL, 's'},
        {"start-gtid", required_argument, NULL, 'g'}, {"until-idle", no_argument, NULL, 'u'},
        {"non-blocking", no_argument, NULL, 'u'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char usage[] =
        "usage: tidemark binlog follow [--instance NAME] [--start FILE:POS | --start-gtid G]\n"
        "                              [--until-idle]\n";
    const char *inst_opt = NULL, *start = NULL, *gtid = NULL;
    bool idle = false;
    char secret[512] = "", spool[1024], file[256] = "";
    Repo *repo = NULL;
    int c, rc = 0;

    while ((c = getopt_long(argc, argv, "i:s:g:uh", opts, NULL)) != -1) {
        switch (c) {
        case 'i': inst_opt = optarg; break;
        case 's': start = optarg; break;
        case 'g': gtid = optarg; break;
        case 'u': idle = true; break;
        case 'h': fputs(usage, stdout); return 0;
        default: fputs(usage, stderr); return err_set(err, ERR_INVALID, "bad arguments");
        }
    }
    const char *inst = binlog_instance(ctx, inst_opt, err);
    if (!inst) return err->code;

    BinlogFollowOpts o;
    memset(&o, 0, sizeof o);
    o.instance = inst;
    o.until_idle = idle;
    o.stop = &stop_flag;
    o.db.host = cval(ctx, inst, "db_host");
    o.db.socket = cval(ctx, inst, "db_socket");
    o.db.user = cval(ctx, inst, "db_user");
    const char *port = cval(ctx, inst, "db_port");
    o.db.port = port ? (unsigned)strtoul(port, NULL, 10) : 0;
    const char *pwf = cval(ctx, inst, "db_password_file");
    if (pwf) {
        if ((rc = read_secret_file(pwf, secret, sizeof secret, err))) goto out;
        o.db.password = secret;
    } else {
        o.db.password = conf_get(ctx->conf, inst, "db_password");
    }
    if (!o.db.socket && !o.db.host) {
        rc = err_set(err, ERR_INVALID, "instance %s: no database connection configured (set "
                     "db_socket or db_host)", inst);
        goto out;
    }
    uint64_t u;
    if ((rc = uint_opt(ctx, inst, "binlog_server_id", 0, &u, false, err))) goto out;
    if (u == 0) {
        /* stable per instance, away from the small ids people hand out */
        unsigned char h[4];
        crypto_generichash(h, sizeof h, (const unsigned char *)inst, strlen(inst), NULL, 0);
        u = 1000000000u + ((uint32_t)h[0] << 16 | (uint32_t)h[1] << 8 | h[2]) % 1000000u;
    }
    o.server_id = (uint32_t)u;
    if ((rc = uint_opt(ctx, inst, "binlog_flush_seconds", 5, &u, false, err))) goto out;
    o.flush_seconds = (unsigned)u;
    if ((rc = uint_opt(ctx, inst, "binlog_flush_bytes", 16u << 20, &o.flush_bytes, true, err))) goto out;
    if ((rc = uint_opt(ctx, inst, "binlog_compact_entries", 256, &u, false, err))) goto out;
    if (u == 0 || u > 1000000) {
        rc = err_set(err, ERR_INVALID, "binlog_compact_entries must be 1..1000000, got %" PRIu64, u);
        goto out;
    }
    o.compact_entries = (unsigned)u;
    if ((rc = uint_opt(ctx, inst, "spool_max", 1ull << 30, &o.spool_max, true, err))) goto out;
    cli_spool_dir(ctx, inst, spool, sizeof spool);
    o.spool_dir = spool;
    if (start) {
        const char *colon = strrchr(start, ':');
        if (!colon || colon == start || (size_t)(colon - start) >= sizeof file) {
            rc = err_set(err, ERR_INVALID, "--start wants FILE:POS, got '%s'", start);
            goto out;
        }
        snprintf(file, sizeof file, "%.*s", (int)(colon - start), start);
        o.start_file = file;
        o.start_pos = strtoull(colon + 1, NULL, 10);
        if (o.start_pos < 4) o.start_pos = 4;
    }
    o.start_gtid = gtid;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    if ((rc = cli_repo_open(ctx, &repo, err))) goto out;
    if (!ctx->quiet)
        log_info("following %s for instance %s (server_id %u, seal every %u s, spool %s)",
                 o.db.socket ? o.db.socket : o.db.host, inst, o.server_id, o.flush_seconds, spool);
    rc = binlog_follow(repo, &o, err);
    if (rc == 0) {
        Err e2;
        err_clear(&e2);
        rc = repo_close(repo, err);
        repo = NULL;
    }
out:
    repo_free(repo);
    sodium_memzero(secret, sizeof secret);
    return rc;
}

/* ---- status / list ------------------------------------------------------- */

static json_t *window_json(const BinlogCatalog *cat, char *gap, size_t gcap)
{
    size_t n = binlog_catalog_count(cat);
    gap[0] = '\0';
    if (!n) return json_null();
    /* the recoverable window ends at the last entry; it starts after the
     * last break in the chain */
    size_t from = 0;
    char why[400];
    for (size_t i = 1; i < n; i++) {
        if (!binlog_catalog_connects(cat, i, why, sizeof why)) {
            from = i;
            Err e;
            err_clear(&e);
            BinlogCatalog *dummy = NULL;
            (void)dummy;
            const BinlogSegInfo *p = binlog_catalog_at(cat, i - 1), *s = binlog_catalog_at(cat, i);
            char t1[32], t2[32];
            binlog_time_format(p->last_time, t1, sizeof t1);
            binlog_time_format(s->first_time, t2, sizeof t2);
            snprintf(gap, gcap, "point-in-time recovery broken between %s UTC (%s:%" PRIu64
                     ") and %s UTC (%s:%" PRIu64 "): %s", t1, p->file, p->end, t2, s->file,
                     s->start, why);
        }
    }
    const BinlogSegInfo *a = binlog_catalog_at(cat, from), *b = binlog_catalog_at(cat, n - 1);
    char t1[32], t2[32], g[1100];
    binlog_time_format(a->first_time, t1, sizeof t1);
    binlog_time_format(b->last_time, t2, sizeof t2);
    size_t k = 0;
    for (size_t d = 0; d < b->gtid_state.n && k < sizeof g; d++)
        k += (size_t)snprintf(g + k, sizeof g - k, "%s%u-%u-%" PRIu64, d ? "," : "",
                              b->gtid_state.g[d].domain, b->gtid_state.g[d].server,
                              b->gtid_state.g[d].seq);
    if (k == 0) g[0] = '\0';
    char fg[1100];
    binlog_gtid_set_format(&a->gtid_first, fg, sizeof fg);
    return json_pack("{s:s, s:s, s:I, s:I, s:s, s:I, s:s, s:s, s:s, s:I}", "from_utc", t1,
                     "to_utc", t2, "from", (json_int_t)a->first_time, "to",
                     (json_int_t)b->last_time, "from_position", a->file, "from_start",
                     (json_int_t)a->start, "from_gtid", fg, "to_position", b->file, "to_gtid", g,
                     "to_end", (json_int_t)b->end);
}

int cmd_binlog_status(CliCtx *ctx, int argc, char **argv, Err *err)
{
    static const struct option opts[] = {
        {"instance", required_argument, NULL, 'i'}, {"json", no_argument, NULL, 'J'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    const char *inst_opt = NULL;
    bool json = ctx->json;
    char spool[1024], gap[1400];
    Repo *repo = NULL;
    BinlogCatalog *cat = NULL;
    json_t *st = NULL, *out = NULL, *win = NULL;
    int c, rc = 0;

    while ((c = getopt_long(argc, argv, "i:h", opts, NULL)) != -1) {
        switch (c) {
        case 'i': inst_opt = optarg; break;
        case 'J': json = true; break;
        case 'h': puts("usage: tidemark binlog status [--instance NAME] [--json]"); return 0;
        default: return err_set(err, ERR_INVALID, "bad arguments");
        }
    }
    const char *inst = binlog_instance(ctx, inst_opt, err);
    if (!inst) return err->code;
    cli_spool_dir(ctx, inst, spool, sizeof spool);
    Err se;
    err_clear(&se);
    if (binlog_status_read(spool, inst, &st, &se) != 0) st = json_null();
    if ((rc = cli_repo_open(ctx, &repo, err))) goto out;
    if ((rc = binlog_catalog_load(repo, inst, &cat, err))) goto out;

    char down[1600], cut[2800];
    time_t now = time(NULL);
    bool running = binlog_follower_running(st, spool, inst, now, down, sizeof down);
    bool reaches = !running || binlog_follower_connected(st, inst, now, cut, sizeof cut);
    bool connected = running && json_is_true(json_object_get(st, "connected"));
    const char *alarm = json_string_value(json_object_get(st, "alarm"));
    win = window_json(cat, gap, sizeof gap);   /* owned; "out" takes its own reference */
    size_t n = binlog_catalog_count(cat);
    const BinlogSegInfo *last = n ? binlog_catalog_at(cat, n - 1) : NULL;
    char lastg[1100] = "";
    if (last)
        binlog_gtid_set_format(&last->gtid_state, lastg, sizeof lastg);
    const char *problem = alarm ? alarm : gap[0] ? gap : !running ? down : !reaches ? cut : NULL;
    /* every alarm: the follower's (gap, spool full), the chain's, and a
     * follower that does not run (nothing new is archived) */
    json_t *alarms = json_array();
    if (alarm) json_array_append_new(alarms, json_string(alarm));
    if (gap[0] && (!alarm || strcmp(alarm, gap) != 0)) json_array_append_new(alarms, json_string(gap));
    if (!running) json_array_append_new(alarms, json_string(down));
    if (!reaches) json_array_append_new(alarms, json_string(cut));
    bool is_gap = gap[0] || (alarm && strstr(alarm, "point-in-time recovery broken"));

    out = json_pack("{s:s, s:b, s:b, s:I, s:O, s:s?}", "instance", inst, "running", running,
                    "connected", connected, "segments", (json_int_t)n, "window", win, "alarm",
                    problem);
    json_object_set_new(out, "lag_seconds", json_is_object(st) && running ? json_incref(json_object_get(st, "lag_seconds")) : json_null());
    json_object_set_new(out, "lag_bytes", json_is_object(st) && running ? json_incref(json_object_get(st, "lag_bytes")) : json_null());
    json_object_set_new(out, "spool_bytes", json_is_object(st) ? json_incref(json_object_get(st, "spool_bytes")) : json_null());
    json_object_set_new(out, "spool_max", json_is_object(st) ? json_incref(json_object_get(st, "spool_max")) : json_null());
    json_object_set_new(out, "last_archived_gtid", json_string(lastg));
    json_object_set_new(out, "last_archived_time", json_integer(last ? last->last_time : 0));
    json_object_set_new(out, "alarms", alarms);
    size_t objs, ncmp;
    uint64_t cto;
    binlog_catalog_load_stats(cat, &objs, &ncmp, &cto);
    json_object_set_new(out, "catalog", json_pack("{s:I, s:I, s:I}", "objects_read",
                                                  (json_int_t)objs, "compacts", (json_int_t)ncmp,
                                                  "compacted_to", (json_int_t)cto));
    json_object_set_new(out, "follower", json_incref(st));
    if (json) {
        cli_json_print(json_incref(out));
    } else {
        char t[32];
        printf("instance:          %s\n", inst);
        printf("follower:          %s%s\n", running ? "running" : "not running",
               running ? (connected ? ", connected" : ", not connected") : "");
        if (running)
            printf("lag:               %" JSON_INTEGER_FORMAT " s, %" JSON_INTEGER_FORMAT " bytes\n",
                   json_integer_value(json_object_get(st, "lag_seconds")),
                   json_integer_value(json_object_get(st, "lag_bytes")));
        binlog_time_format(last ? last->last_time : 0, t, sizeof t);
        printf("last archived:     %s UTC, GTID %s\n", t, lastg[0] ? lastg : "-");
        if (json_is_object(win))
            printf("recoverable:       %s .. %s UTC\n",
                   json_string_value(json_object_get(win, "from_utc")),
                   json_string_value(json_object_get(win, "to_utc")));
        else
            printf("recoverable:       nothing archived yet\n");
        printf("segments:          %zu\n", n);
        if (json_is_object(st))
            printf("spool:             %" JSON_INTEGER_FORMAT " / %" JSON_INTEGER_FORMAT " bytes\n",
                   json_integer_value(json_object_get(st, "spool_bytes")),
                   json_integer_value(json_object_get(st, "spool_max")));
        const char *ue = json_string_value(json_object_get(st, "upload_error"));
        if (ue) printf("upload error:      %s\n", ue);
        for (size_t i = 0; i < json_array_size(alarms); i++)
            printf("ALARM:             %s\n", json_string_value(json_array_get(alarms, i)));
    }
    /* non-zero for monitoring: a broken chain and a follower that does not
     * run are ERR_GAP (exit 6: the archive does not reach the present); a
     * running follower cut from its server for long is ERR_NET (4); another
     * alarm of a running follower (spool full) is ERR_NOSPACE (7) */
    if (is_gap)
        rc = err_set(err, ERR_GAP, "%s", gap[0] ? gap : alarm);
    else if (!running)
        rc = err_set(err, ERR_GAP, "%s", down);
    else if (!reaches)
        rc = err_set(err, ERR_NET, "%s", cut);
    else if (problem)
        rc = err_set(err, ERR_NOSPACE, "%s", problem);
out:
    json_decref(win);
    json_decref(st);
    json_decref(out);
    binlog_catalog_free(cat);
    repo_free(repo);
    return rc;
}

int cmd_binlog_list(CliCtx *ctx, int argc, char **argv, Err *err)
{
    static const struct option opts[] = {
        {"instance", required_argument, NULL, 'i'}, {"json", no_argument, NULL, 'J'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    const char *inst_opt = NULL;
    bool json = ctx->json;
    Repo *repo = NULL;
    BinlogCatalog *cat = NULL;
    int c, rc = 0;

    while ((c = getopt_long(argc, argv, "i:h", opts, NULL)) != -1) {
        switch (c) {
        case 'i': inst_opt = optarg; break;
        case 'J': json = true; break;
        case 'h': puts("usage: tidemark binlog list [--instance NAME] [--json]"); return 0;
        default: return err_set(err, ERR_INVALID, "bad arguments");
        }
    }
    const char *inst = binlog_instance(ctx, inst_opt, err);
    if (!inst) return err->code;
    if ((rc = cli_repo_open(ctx, &repo, err))) goto out;
    if ((rc = binlog_catalog_load(repo, inst, &cat, err))) goto out;
    size_t n = binlog_catalog_count(cat);
    json_t *arr = json ? json_array() : NULL;
    if (!json)
        printf("%-8s %-10s %-18s %10s %10s %-19s %-19s %6s %7s %s\n", "SEQ", "LINK", "FILE",
               "START", "END", "FIRST (UTC)", "LAST (UTC)", "TRX", "EVENTS", "LAST GTID");
    for (size_t i = 0; i < n; i++) {
        const BinlogSegInfo *s = binlog_catalog_at(cat, i);
        char t1[32], t2[32], g[1100] = "";
        binlog_time_format(s->first_time, t1, sizeof t1);
        binlog_time_format(s->last_time, t2, sizeof t2);
        for (size_t d = 0, k = 0; d < s->gtid_last.n && k < sizeof g; d++)
            k += (size_t)snprintf(g + k, sizeof g - k, "%s%u-%u-%" PRIu64, d ? "," : "",
                                  s->gtid_last.g[d].domain, s->gtid_last.g[d].server,
                                  s->gtid_last.g[d].seq);
        char why[400];
        bool ok = binlog_catalog_connects(cat, i, why, sizeof why);
        if (json) {
            json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:s, "
                                                 "s:I, s:I, s:I, s:b, s:s}",
                                                 "seq", (json_int_t)s->seq, "link",
                                                 binlog_link_name(s->link), "identity", s->identity,
                                                 "file", s->file, "start", (json_int_t)s->start,
                                                 "end", (json_int_t)s->end, "first_time",
                                                 (json_int_t)s->first_time, "last_time",
                                                 (json_int_t)s->last_time, "last_gtid", g, "trx",
                                                 (json_int_t)s->trx_count, "events",
                                                 (json_int_t)s->event_count, "size",
                                                 (json_int_t)s->size, "connects", ok, "break",
                                                 ok ? "" : why));
        } else {
            printf("%-8" PRIu64 " %-10s %-18s %10" PRIu64 " %10" PRIu64 " %-19s %-19s %6" PRIu64
                   " %7" PRIu64 " %s%s%s\n", s->seq, binlog_link_name(s->link), s->file, s->start,
                   s->end, t1, t2, s->trx_count, s->event_count, g, ok ? "" : "  BREAK: ",
                   ok ? "" : why);
        }
    }
    if (json) cli_json_print(arr);
out:
    binlog_catalog_free(cat);
    repo_free(repo);
    return rc;
}

/* ---- export ------------------------------------------------------------- */

/* FILE:POS, a GTID (d-s-n), "YYYY-MM-DD HH:MM:SS" (UTC) or @epoch. */
static int locate(const BinlogCatalog *cat, const char *spec, bool is_to, size_t *out, Err *err)
{
    BinlogGtid g;
    Err tmp;
    err_clear(&tmp);
    if (binlog_gtid_parse(spec, &g, &tmp) == 0) return binlog_catalog_find_gtid(cat, &g, out, err);
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

int cmd_binlog_export(CliCtx *ctx, int argc, char **argv, Err *err)
{
    static const struct option opts[] = {
        {"instance", required_argument, NULL, 'i'}, {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char usage[] = "usage: tidemark binlog export [--instance NAME] [--from X] "
                                "[--to Y] DIR\n  X, Y: FILE:POS, a GTID, 'YYYY-MM-DD HH:MM:SS' "
                                "(UTC) or @EPOCH; whole segments are written\n";
    const char *inst_opt = NULL, *from = NULL, *to = NULL;
    Repo *repo = NULL;
    BinlogCatalog *cat = NULL;
    int c, rc = 0;

    while ((c = getopt_long(argc, argv, "i:f:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'i': inst_opt = optarg; break;
        case 'f': from = optarg; break;
        case 't': to = optarg; break;
        case 'h': fputs(usage, stdout); return 0;
        default: fputs(usage, stderr); return err_set(err, ERR_INVALID, "bad arguments");
        }
    }
    if (optind + 1 != argc) {
        fputs(usage, stderr);
        return err_set(err, ERR_INVALID, "give one output DIR");
    }
    const char *inst = binlog_instance(ctx, inst_opt, err);
    if (!inst) return err->code;
    if ((rc = cli_repo_open(ctx, &repo, err))) goto out;
    if ((rc = binlog_catalog_load(repo, inst, &cat, err))) goto out;
    size_t n = binlog_catalog_count(cat), a = 0, b = n ? n - 1 : 0;
    if (!n) {
        rc = err_set(err, ERR_NOTFOUND, "instance %s has no archived binlog", inst);
        goto out;
    }
    if (from && (rc = locate(cat, from, false, &a, err))) goto out;
    if (to && (rc = locate(cat, to, true, &b, err))) goto out;
    if (a > b) {
        rc = err_set(err, ERR_INVALID, "--from is after --to");
        goto out;
    }
    rc = binlog_export(repo, cat, a, b, argv[optind], ctx->progress, err);
    if (rc == 0 && !ctx->quiet) {
        const BinlogSegInfo *sa = binlog_catalog_at(cat, a), *sb = binlog_catalog_at(cat, b);
        fprintf(stderr, "exported %s:%" PRIu64 " .. %s:%" PRIu64 " (%zu segments) to %s\n",
                sa->file, sa->start, sb->file, sb->end, b - a + 1, argv[optind]);
    }
out:
    binlog_catalog_free(cat);
    repo_free(repo);
    return rc;
}
