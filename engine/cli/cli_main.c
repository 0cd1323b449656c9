/* cli_main.c: main(): global options, config, dispatch, and the single
 * place where an error is printed ("tidemark <command>: <message>") and
 * turned into an exit code (docs/OPERATIONS.md "Exit codes"). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "engine/cli/commands.h"
#include "engine/common/log.h"

typedef struct CliCmd {
    const char *name;
    const char *sub;      /* second word, or NULL */
    CliCmdFn fn;
    const char *summary;
} CliCmd;

static const CliCmd commands[] = {
    {"init", NULL, cmd_init, "create a repository"},
    {"snapshots", NULL, cmd_snapshots, "list snapshots"},
    {"check", NULL, cmd_check, "verify the repository (--read-data to read every blob)"},
    {"repair", "index", cmd_repair_index, "rebuild the index from the packs"},
    {"key", "list", cmd_key_list, "list key objects (passphrases)"},
    {"key", "add", cmd_key_add, "add a passphrase"},
    {"key", "remove", cmd_key_remove, "remove a passphrase"},
    {"key", "passwd", cmd_key_passwd, "change the passphrase in use"},
    {"backup", "files", cmd_backup_files, "back up directory trees (one files item per PATH)"},
    {"restore", "files", cmd_restore_files, "restore files items to --target DIR"},
    {"export", "tar", cmd_export_tar, "write a snapshot's files as a pax tar on stdout"},
    {"binlog", "follow", cmd_binlog_follow, "follow the server's binlog into the archive (foreground)"},
    {"binlog", "status", cmd_binlog_status, "follower state, lag, recoverable window, alarms"},
    {"binlog", "list", cmd_binlog_list, "list archived binlog segments"},
    {"binlog", "export", cmd_binlog_export, "rebuild binlog files from the archive into DIR"},
    {"binlog", "search", cmd_binlog_search, "find transactions in the archive (table, type, time, text)"},
    {"backup", NULL, cmd_backup, "one snapshot of an instance: database dump + its file trees"},
    {"backup", "db", cmd_backup_db, "one snapshot of an instance's database(s) only"},
    {"restore", "db", cmd_restore_db, "load a snapshot's database(s) into a server and verify"},
    {"export", "sql", cmd_export_sql, "write a snapshot's database(s) as plain SQL on stdout"},
    {"verify", "db", cmd_verify_db, "compare a server's tables with a snapshot's content hashes"},
    {"verify-chain", NULL, cmd_verify_chain, "restore snapshot N + binlog to N+1 on a scratch server, compare hashes"},
    {"version", NULL, cmd_version, "print the version"},
    {NULL, NULL, NULL, NULL},
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: tidemark [global options] <command> [options]\n\n"
            "global options:\n"
            "  -c, --config FILE    configuration file (default " CONF_DEFAULT_PATH ")\n"
            "  -r, --repo URL       repository (overrides the config and TIDEMARK_REPOSITORY)\n"
            "  -i, --instance NAME  the instance ([instance NAME] in the config)\n"
            "      --json           machine-readable output on stdout\n"
            "  -q, --quiet          no progress or notes, only errors\n"
            "  -v, --verbose        debug logging\n"
            "  -h, --help           this help; 'tidemark <command> --help' for a command\n\n"
            "commands:\n");
    for (const CliCmd *c = commands; c->name; c++) {
        char name[40];
        snprintf(name, sizeof name, "%s%s%s", c->name, c->sub ? " " : "", c->sub ? c->sub : "");
        fprintf(f, "  %-20s %s\n", name, c->summary);
    }
    fprintf(f, "\nexit codes: 0 ok, 1 failure, 2 usage or config, 3 repository/data problem,\n"
               "4 source or target unreachable, 5 locked, 6 verification failed or gap, 7 no space,\n"
               "8 refused: the result could not be exact (the message names what and the ways on)\n");
}

static void no_core_dumps(void)
{
    /* keys and passphrases must never land in a core file */
    struct rlimit rl = {0, 0};
    setrlimit(RLIMIT_CORE, &rl);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"repo", required_argument, NULL, 'r'},
        {"instance", required_argument, NULL, 'i'}, {"json", no_argument, NULL, 'J'},
        {"quiet", no_argument, NULL, 'q'}, {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    CliCtx ctx;
    Err err;
    const char *config = NULL, *repo = NULL;
    const CliCmd *cmd = NULL;
    char label[64];
    int c, rc, sub_argc;
    char **sub_argv;

    no_core_dumps();
    signal(SIGPIPE, SIG_IGN);
    memset(&ctx, 0, sizeof ctx);
    err_clear(&err);
    while ((c = getopt_long(argc, argv, "+c:r:i:qvh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'r': repo = optarg; break;
        case 'i': ctx.instance = optarg; break;
        case 'J': ctx.json = true; break;
        case 'q': ctx.quiet = true; break;
        case 'v': log_set_level(TM_LOG_DEBUG); break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("tidemark %s\n", TM_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind >= argc) { usage(stderr); return 2; }
    if (ctx.quiet) log_set_level(TM_LOG_WARN);
    if (ctx.json) log_set_json(false);
    ctx.progress = !ctx.quiet && isatty(STDERR_FILENO);

    for (const CliCmd *k = commands; k->name; k++) {
        if (strcmp(k->name, argv[optind]) != 0) continue;
        if (k->sub && optind + 1 < argc && strcmp(k->sub, argv[optind + 1]) == 0) { cmd = k; break; }
        if (!k->sub && !cmd) cmd = k;
    }
    if (!cmd) {
        bool group = false;
        for (const CliCmd *k = commands; k->name; k++) group |= strcmp(k->name, argv[optind]) == 0;
        if (group) {
            bool help = optind + 1 < argc && (!strcmp(argv[optind + 1], "--help") || !strcmp(argv[optind + 1], "-h"));
            FILE *f = help ? stdout : stderr;
            fprintf(f, help ? "usage: tidemark %s <subcommand> [options]\n" : "tidemark %s: needs a subcommand\n", argv[optind]);
            for (const CliCmd *k = commands; k->name; k++)
                if (strcmp(k->name, argv[optind]) == 0 && k->sub) fprintf(f, "  %-10s %s\n", k->sub, k->summary);
            fprintf(f, "'tidemark %s <subcommand> --help' for its options\n", argv[optind]);
            return help ? 0 : 2;
        } else {
            fprintf(stderr, "tidemark: unknown command '%s' (see 'tidemark --help')\n", argv[optind]);
        }
        return 2;
    }
    snprintf(label, sizeof label, "%s%s%s", cmd->name, cmd->sub ? " " : "", cmd->sub ? cmd->sub : "");
    sub_argv = argv + optind + (cmd->sub ? 1 : 0);
    sub_argc = argc - optind - (cmd->sub ? 1 : 0);

    if (!config) config = getenv("TIDEMARK_CONFIG");
    rc = config ? conf_load(config, true, &ctx.conf, &err) : conf_load(CONF_DEFAULT_PATH, false, &ctx.conf, &err);
    if (!rc && ctx.instance) {
        /* an instance named on the command line must exist in the config, unless there is no config at all */
        const char *const *names;
        size_t n = conf_instances(ctx.conf, &names);
        bool found = n == 0;
        char known[600] = "";
        for (size_t i = 0, k = 0; i < n; i++) {
            found |= strcmp(names[i], ctx.instance) == 0;
            if (k < sizeof known) k += (size_t)snprintf(known + k, sizeof known - k, "%s%s", i ? ", " : "", names[i]);
        }
        if (!found) rc = err_set(&err, ERR_INVALID, "instance '%s' is not in the config (its instances: %s)", ctx.instance, known);
    }
    if (!rc && repo) rc = conf_set(ctx.conf, NULL, "url", repo, &err);
    if (!rc) {
        optind = 0;   /* GNU getopt: full re-initialisation for the subcommand */
        rc = cmd->fn(&ctx, sub_argc, sub_argv, &err);
    }
    if (rc) {
        if (!err.msg[0]) snprintf(err.msg, sizeof err.msg, "%s", err_code_name(rc));
        log_redact(err.msg);
        fprintf(stderr, "tidemark %s: %s\n", label, err.msg);
        if (ctx.json) {
            json_t *j = json_pack("{s:{s:s, s:s, s:i}}", "error", "code", err_code_name(rc), "message", err.msg,
                                  "exit", err_exit_code(rc));
            cli_json_print(j);
        }
    }
    conf_free(ctx.conf);
    return err_exit_code(rc);
}
