/* rst_replay_tool.c: `tm-replay`, a developer and test tool around the
 * replay library until `tidemark restore db` wires it in:
 *   tm-replay run  --socket S | --host H --port P  --user U [--password-file F]
 *                  [--start GTID] --until GTID [--rewrite-db FROM:TO]
 *                  [--listen-host A] [--advertise-host A] [--progress] [-v] BINLOG...
 *   tm-replay serve --port P --password-file F [--server-id N] [-v] BINLOG...
 * Passwords are read from files, never argv. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/common/log.h"
#include "engine/common/secret.h"
#include "restore/replay/rst_replay.h"

/* The password in path (the one secret reader); exit 2 naming the file. */
static char *read_secret(const char *path)
{
    char *pw = NULL;
    Err e;
    err_clear(&e);
    if (secret_file_read(path, "--password-file", &pw, NULL, &e)) {
        fprintf(stderr, "tm-replay: %s\n", e.msg);
        exit(2);
    }
    return pw;
}

static const char *basename_of(const char *p)
{
    const char *b = strrchr(p, '/');
    return b ? b + 1 : p;
}

static volatile sig_atomic_t g_stop;
static void on_sig(int sig) { (void)sig; g_stop = 1; }

int main(int argc, char **argv)
{
    RstReplayTarget t;
    const char *until = NULL, *pwfile = NULL, *mode;
    char *rewrite = NULL;
    unsigned port = 0, server_id = 1;
    const char **files;
    size_t nfiles = 0;
    RstBinlogFiles *bf = NULL;
    Err err;
    int rc;

    if (argc < 2) {
        fprintf(stderr, "usage: tm-replay run|serve [options] BINLOG...\n");
        return 2;
    }
    mode = argv[1];
    memset(&t, 0, sizeof t);
    err_clear(&err);
    files = calloc((size_t)argc, sizeof *files);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
#define ARG(name) (!strcmp(a, name) && i + 1 < argc)
        if (ARG("--socket")) t.db.socket = argv[++i];
        else if (ARG("--host")) t.db.host = argv[++i];
        else if (ARG("--port")) port = (unsigned)atoi(argv[++i]);
        else if (ARG("--user")) t.db.user = argv[++i];
        else if (ARG("--password-file")) pwfile = argv[++i];
        else if (ARG("--start")) t.start_gtid = argv[++i];
        else if (ARG("--until")) until = argv[++i];
        else if (ARG("--rewrite-db")) rewrite = strdup(argv[++i]);
        else if (ARG("--listen-host")) t.listen_host = argv[++i];
        else if (ARG("--advertise-host")) t.advertise_host = argv[++i];
        else if (ARG("--server-id")) server_id = (unsigned)atoi(argv[++i]);
        else if (ARG("--timeout")) t.timeout_s = (unsigned)atoi(argv[++i]);
        else if (!strcmp(a, "--progress")) t.progress = true;
        else if (!strcmp(a, "-v")) log_set_level(TM_LOG_DEBUG);
        else if (a[0] == '-') {
            fprintf(stderr, "tm-replay: unknown option %s\n", a);
            return 2;
        } else files[nfiles++] = a;
    }
    if (nfiles == 0) {
        fprintf(stderr, "tm-replay: no binlog files given\n");
        return 2;
    }
    rc = rst_binlog_files_open(files, nfiles, &bf, &err);
    if (rc) goto out;

    if (!strcmp(mode, "serve")) {
        RstSrcConfig cfg;
        RstSrcServer *s = NULL;
        RstSrcStats st;
        memset(&cfg, 0, sizeof cfg);
        if (!pwfile) {
            fprintf(stderr, "tm-replay serve: --password-file is required\n");
            return 2;
        }
        cfg.password = read_secret(pwfile);
        cfg.listen_port = (uint16_t)port;
        cfg.server_id = server_id;
        cfg.first_log_name = basename_of(files[0]);
        cfg.verify_checksums = true;
        rc = rst_srcserver_open(&cfg, rst_binlog_files_next, bf, &s, &err);
        if (!rc) rc = rst_srcserver_start(s, &err);
        if (rc) goto out;
        printf("listening on port %u\n", (unsigned)rst_srcserver_port(s));
        fflush(stdout);
        signal(SIGINT, on_sig);
        signal(SIGTERM, on_sig);
        while (!g_stop && !rst_srcserver_error(s, &err)) sleep(1);
        rst_srcserver_stats(s, &st);
        rc = rst_srcserver_error(s, &err);
        rst_srcserver_close(s);
        fprintf(stderr, "served %llu events, %llu groups, %llu skipped, until_reached=%d\n",
                (unsigned long long)st.events_sent, (unsigned long long)st.groups_sent,
                (unsigned long long)st.groups_skipped, st.until_reached);
    } else if (!strcmp(mode, "run")) {
        RstReplayStats st;
        char *pw = pwfile ? read_secret(pwfile) : NULL;
        t.db.password = pw;
        t.db.port = port;
        if (rewrite) {
            char *colon = strchr(rewrite, ':');
            if (!colon) {
                fprintf(stderr, "tm-replay: --rewrite-db FROM:TO\n");
                return 2;
            }
            *colon = 0;
            t.rewrite_db_from = rewrite;
            t.rewrite_db_to = colon + 1;
        }
        rc = rst_replay_run(&t, rst_binlog_files_next, bf, until, &st, &err);
        if (!rc)
            printf("replay ok: transactions=%llu bytes=%llu seconds=%.2f reached=%s\n",
                   (unsigned long long)st.transactions, (unsigned long long)st.bytes, st.seconds,
                   st.reached_gtid);
        secret_free(pw);
    } else {
        fprintf(stderr, "tm-replay: unknown mode %s\n", mode);
        return 2;
    }
out:
    rst_binlog_files_close(bf);
    free(rewrite);
    free(files);
    if (rc) {
        fprintf(stderr, "tm-replay: %s\n", err.msg);
        return 1;
    }
    return 0;
}
