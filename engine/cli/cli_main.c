/* cli_main.c: main(): global options, config, dispatch, and the single
 * place where an error is printed ("tidemark <command>: <message>") and
 * turned into an exit code (docs/OPERATIONS.md "Exit codes"). With --json,
 * stdout gets exactly one JSON document: the command's, else the error's,
 * else {"ok":true}. The commands and their options: cli_cmds.c. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "engine/cli/cli_opts.h"
#include "engine/cli/commands.h"
#include "engine/instance/inst.h"
#include "engine/common/log.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: tidemark [global options] <command> [options]\n\nglobal options (before or after the command):\n");
    cli_opts_print(cli_global_opts, f);
    fprintf(f, "  %-24s %s\n", "-h, --help", "this help; 'tidemark help COMMAND' for a command's");
    fprintf(f, "  %-24s %s\n\ncommands:\n", "    --version", cli_version_opt.help);
    for (const CliCmd *c = cli_commands; c->name; c++) {
        char name[40];
        cli_cmd_label(c, name, sizeof name);
        fprintf(f, "  %-24s %s\n", name, c->summary);
    }
    fprintf(f, "  %-24s %s\n", "help [COMMAND]", "this help, or a command's");
    fprintf(f, "\nexit codes: 0 ok, 2 usage or config, 3 repository/data problem, 4 source, target or\n"
               "storage unreachable or failing, 5 locked, 6 verification failed or gap, 7 no space or\n"
               "memory, 8 refused: the result could not be exact (the message names what and the ways\n"
               "on), 130 interrupted\n");
}

static void no_core_dumps(void)
{
    /* keys and passphrases must never land in a core file */
    struct rlimit rl = {0, 0};
    setrlimit(RLIMIT_CORE, &rl);
}

/* A command group without its subcommand ("tidemark key"): list them. */
static int group_help(const char *group, bool help)
{
    FILE *f = help ? stdout : stderr;
    fprintf(f, help ? "usage: tidemark %s <subcommand> [options]\n" : "tidemark %s: needs a subcommand\n", group);
    for (const CliCmd *k = cli_commands; k->name; k++)
        if (strcmp(k->name, group) == 0 && k->sub) fprintf(f, "  %-10s %s\n", k->sub, k->summary);
    fprintf(f, "'tidemark %s <subcommand> --help' for its options\n", group);
    return help ? 0 : 2;
}

static bool is_group(const char *word)
{
    for (const CliCmd *k = cli_commands; k->name; k++)
        if (strcmp(k->name, word) == 0 && k->sub) return true;
    return false;
}

/* `tidemark help [COMMAND [SUB]]` */
static int help_cmd(int argc, char **argv)
{
    int words;
    const CliCmd *cmd;
    if (argc == 0) {
        usage(stdout);
        return 0;
    }
    cmd = cli_cmd_find(argc, argv, &words);
    if (cmd && words == argc) {
        cli_cmd_help(cmd, stdout);
        return 0;
    }
    if (argc == 1 && is_group(argv[0])) return group_help(argv[0], true);
    fprintf(stderr, "tidemark help: unknown command '%s' (see 'tidemark --help')\n", argv[argc - 1]);
    return 2;
}

/* An instance named on the command line must exist in the config, unless
 * the config names none (environment only). */
static int instance_check(const CliCtx *ctx, Err *err)
{
    return inst_check_name(ctx->conf, ctx->instance, err);
}

static int load_config(CliCtx *ctx, const char *config, Err *err)
{
    if (!config) config = getenv("TIDEMARK_CONFIG");
    return config ? conf_load(config, true, &ctx->conf, err) : conf_load(CONF_DEFAULT_PATH, false, &ctx->conf, err);
}

/* `tidemark __complete instances`: the config's instance names. */
static int complete_instances(const char *config)
{
    CliCtx ctx;
    Err err;
    const char *const *names;
    memset(&ctx, 0, sizeof ctx);
    if (load_config(&ctx, config, &err)) return 2;
    for (size_t i = 0, n = inst_names(ctx.conf, &names); i < n; i++) printf("%s\n", names[i]);
    conf_free(ctx.conf);
    return 0;
}

static void print_error(const CliCtx *ctx, const char *label, int rc, Err *err)
{
    if (!err->msg[0]) snprintf(err->msg, sizeof err->msg, "%s", err_code_name(rc));
    log_redact(err->msg);
    fprintf(stderr, "tidemark%s%s: %s\n", label[0] ? " " : "", label, err->msg);
    if (ctx->json && !cli_json_printed) {
        json_t *j = json_pack("{s:{s:s, s:s, s:i}}", "error", "code", err_code_name(rc), "message", err->msg,
                              "exit", err_exit_code(rc));
        if (ctx->cmd && (ctx->cmd->flags & CLI_CMD_DATA_STDOUT)) {
            char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
            if (s) fprintf(stderr, "%s\n", s);
            free(s);
            json_decref(j);
        } else {
            cli_json_print(j);
        }
    }
}

int main(int argc, char **argv)
{
    CliCtx ctx;
    Err err;
    const char *config = NULL, *repo = NULL;
    const CliCmd *cmd = NULL;
    char label[64] = "";
    int rc = 0, what = 0, words, sub_argc;
    bool help = false;
    char **sub_argv;

    no_core_dumps();
    signal(SIGPIPE, SIG_IGN);
    memset(&ctx, 0, sizeof ctx);
    err_clear(&err);
    rc = cli_opts_leading(&ctx, argc, argv, &config, &repo, &what, &err);
    if (!rc && what == 'h') {
        usage(stdout);
        return 0;
    }
    if (!rc && what == CLI_KEY_VERSION) {
        if (ctx.json) cli_json_print(json_pack("{s:s, s:i}", "version", TM_VERSION, "format", REPO_FORMAT_VERSION));
        else printf("tidemark %s\n", TM_VERSION);
        return 0;
    }
    if (!rc && optind >= argc) {
        usage(stderr);
        rc = err_set(&err, ERR_INVALID, "no command given");
    }
    if (rc) goto out;
    if (!strcmp(argv[optind], "help")) return help_cmd(argc - optind - 1, argv + optind + 1);
    if (!strcmp(argv[optind], "__complete")) {
        if (optind + 1 < argc && !strcmp(argv[optind + 1], "instances")) return complete_instances(config);
        return cli_complete(argc - optind - 1, argv + optind + 1, stdout);
    }
    cmd = cli_cmd_find(argc - optind, argv + optind, &words);
    if (!cmd) {
        if (is_group(argv[optind])) {
            bool h = optind + 1 < argc && (!strcmp(argv[optind + 1], "--help") || !strcmp(argv[optind + 1], "-h"));
            if (h || !ctx.json) return group_help(argv[optind], h);
            rc = err_set(&err, ERR_INVALID, "%s needs a subcommand (see 'tidemark %s --help')", argv[optind], argv[optind]);
        } else {
            rc = err_set(&err, ERR_INVALID, "unknown command '%s' (see 'tidemark --help')", argv[optind]);
        }
        goto out;
    }
    ctx.cmd = cmd;
    cli_cmd_label(cmd, label, sizeof label);
    sub_argv = argv + optind + words - 1;
    sub_argc = argc - optind - words + 1;
    if ((rc = cli_opts_prescan(cmd, &ctx, sub_argc, sub_argv, &config, &repo, &help, &err))) goto out;
    if (help) {
        cli_cmd_help(cmd, stdout);
        return 0;
    }
    if (ctx.verbose) log_set_level(TM_LOG_DEBUG);
    if (ctx.quiet) log_set_level(TM_LOG_WARN);
    if (ctx.json) log_set_json(false);
    ctx.progress = !ctx.quiet && isatty(STDERR_FILENO);

    rc = load_config(&ctx, config, &err);
    if (!rc) rc = instance_check(&ctx, &err);
    if (!rc && repo) rc = conf_set(ctx.conf, NULL, "url", repo, &err);
    if (!rc) {
        optind = 0;   /* GNU getopt: full re-initialisation for the subcommand */
        rc = cmd->fn(&ctx, sub_argc, sub_argv, &err);
    }
    if (!rc && ctx.json && !cli_json_printed && !(cmd->flags & CLI_CMD_DATA_STDOUT))
        cli_json_print(json_pack("{s:s, s:b}", "command", label, "ok", 1));
out:
    if (rc) print_error(&ctx, label, rc, &err);
    conf_free(ctx.conf);
    return err_exit_code(rc);
}
