/* cmd_binlog.c: `binlog follow|status|list|export`: argument parsing and
 * printing around engine/instance (the follower's options, the status) and
 * engine/source/binlog. The follower
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

#include "engine/cli/cli_opts.h"
#include "engine/cli/commands.h"
#include "engine/common/log.h"
#include "engine/source/binlog/src_binlog.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

int cmd_binlog_follow(CliCtx *ctx, int argc, char **argv, Err *err)
{
    const char *inst_opt = NULL, *start = NULL, *gtid = NULL;
    bool idle = false;
    char file[256] = "";
    BinlogFollowOpts o;
    Inst *in = NULL;
    Repo *repo = NULL;
    int c, rc = 0;

    while ((c = cli_getopt(ctx, argc, argv)) != -1) {
        switch (c) {
        case 's': start = optarg; break;
        case 'g': gtid = optarg; break;
        case 'u': idle = true; break;
        default: return err_set(err, ERR_INVALID, "bad arguments");
        }
    }
    if ((rc = cli_inst_open(ctx, inst_opt, &in, err))) return rc;
    if ((rc = inst_follow_options(in, &o, err))) goto out;
    o.until_idle = idle;
    o.stop = &stop_flag;
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

    if ((rc = inst_repo_open(in, cli_prompt, &repo, err))) goto out;
    if (!ctx->quiet)
        log_info("following %s for instance %s (server_id %u, seal every %u s, spool %s)",
                 o.db.socket ? o.db.socket : o.db.host, o.instance, o.server_id, o.flush_seconds,
                 o.spool_dir);
    rc = binlog_follow(repo, &o, err);
    if (rc == 0) {
        rc = repo_close(repo, err);
        repo = NULL;
    }
out:
    repo_free(repo);
    inst_free(in);
    return rc;
}

/* ---- status / list ------------------------------------------------------- */

static void print_status(const InstBinlogStatus *bs)
{
    const json_t *st = bs->follower;
    const char *ue = json_string_value(json_object_get(st, "upload_error"));
    char t[32];
    printf("instance:          %s\n", bs->instance);
    printf("follower:          %s%s\n", bs->running ? "running" : "not running",
           bs->running ? (bs->connected ? ", connected" : ", not connected") : "");
    if (bs->running)
        printf("lag:               %" JSON_INTEGER_FORMAT " s, %" JSON_INTEGER_FORMAT " bytes\n",
               json_integer_value(json_object_get(st, "lag_seconds")),
               json_integer_value(json_object_get(st, "lag_bytes")));
    binlog_time_format(bs->last_time, t, sizeof t);
    printf("last archived:     %s UTC, GTID %s\n", t, bs->last_gtid[0] ? bs->last_gtid : "-");
    if (bs->has_window)
        printf("recoverable:       %s .. %s UTC\n", bs->window.from_utc, bs->window.to_utc);
    else
        printf("recoverable:       nothing archived yet\n");
    printf("segments:          %zu\n", bs->segments);
    if (json_is_object(st))
        printf("spool:             %" JSON_INTEGER_FORMAT " / %" JSON_INTEGER_FORMAT " bytes\n",
               json_integer_value(json_object_get(st, "spool_bytes")),
               json_integer_value(json_object_get(st, "spool_max")));
    if (ue) printf("upload error:      %s\n", ue);
    for (size_t i = 0; i < bs->nalarms; i++) printf("ALARM:             %s\n", bs->alarms[i]);
}

int cmd_binlog_status(CliCtx *ctx, int argc, char **argv, Err *err)
{
    const char *inst_opt = NULL;
    InstBinlogStatus bs;
    Inst *in = NULL;
    Repo *repo = NULL;
    int c, rc = 0;

    while ((c = cli_getopt(ctx, argc, argv)) != -1) return err_set(err, ERR_INVALID, "bad arguments");
    if (optind < argc) return err_set(err, ERR_INVALID, "unexpected argument %s", argv[optind]);
    memset(&bs, 0, sizeof bs);
    if ((rc = cli_inst_open(ctx, inst_opt, &in, err))) return rc;
    if ((rc = inst_repo_open(in, cli_prompt, &repo, err))) goto out;
    if ((rc = inst_binlog_status(in, repo, &bs, err))) goto out;
    if (ctx->json)
        cli_json_print(inst_binlog_status_json(&bs));
    else
        print_status(&bs);
    /* non-zero for monitoring (exit 6, 4 or 7: see inst_binlog_status_verdict) */
    rc = inst_binlog_status_verdict(&bs, err);
out:
    inst_binlog_status_free(&bs);
    repo_free(repo);
    inst_free(in);
    return rc;
}

int cmd_binlog_list(CliCtx *ctx, int argc, char **argv, Err *err)
{
    const char *inst_opt = NULL;
    bool json;
    Inst *in = NULL;
    Repo *repo = NULL;
    BinlogCatalog *cat = NULL;
    int c, rc = 0;

    while ((c = cli_getopt(ctx, argc, argv)) != -1) return err_set(err, ERR_INVALID, "bad arguments");
    if (optind < argc) return err_set(err, ERR_INVALID, "unexpected argument %s", argv[optind]);
    json = ctx->json;
    if ((rc = cli_inst_open(ctx, inst_opt, &in, err))) return rc;
    const char *inst = inst_name(in);
    if ((rc = inst_repo_open(in, cli_prompt, &repo, err))) goto out;
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
    inst_free(in);
    return rc;
}

/* ---- export ------------------------------------------------------------- */

int cmd_binlog_export(CliCtx *ctx, int argc, char **argv, Err *err)
{
    const char *inst_opt = NULL, *from = NULL, *to = NULL;
    InstBinlogExport ex;
    Inst *in = NULL;
    Repo *repo = NULL;
    int c, rc = 0;

    while ((c = cli_getopt(ctx, argc, argv)) != -1) {
        switch (c) {
        case 'f': from = optarg; break;
        case 't': to = optarg; break;
        default: return err_set(err, ERR_INVALID, "bad arguments");
        }
    }
    if (optind + 1 != argc) return err_set(err, ERR_INVALID, "give one output DIR (see --help)");
    if ((rc = cli_inst_open(ctx, inst_opt, &in, err))) return rc;
    if ((rc = inst_repo_open(in, cli_prompt, &repo, err))) goto out;
    rc = inst_binlog_export(in, repo, from, to, argv[optind], ctx->progress, &ex, err);
    if (rc == 0 && ctx->json)
        cli_json_print(json_pack("{s:s, s:s, s:I, s:s, s:I, s:I, s:s}", "instance", inst_name(in), "from_file",
                                 ex.first_file, "from_start", (json_int_t)ex.first_start, "to_file", ex.last_file,
                                 "to_end", (json_int_t)ex.last_end, "segments", (json_int_t)ex.segments, "dir",
                                 argv[optind]));
    else if (rc == 0 && !ctx->quiet)
        fprintf(stderr, "exported %s:%" PRIu64 " .. %s:%" PRIu64 " (%zu segments) to %s\n",
                ex.first_file, ex.first_start, ex.last_file, ex.last_end, ex.segments, argv[optind]);
out:
    repo_free(repo);
    inst_free(in);
    return rc;
}
