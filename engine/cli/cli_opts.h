/* cli_opts.h: the command table and the declarative option tables every
 * command's parser and help are made from (cli_cmds.c holds the tables,
 * cli_opts.c the machinery). Invariant: an option exists for the parser
 * only as a CliOpt row, and every row carries its help line, so a command
 * cannot accept an option its --help does not list. */
#ifndef TM_CLI_CLI_OPTS_H
#define TM_CLI_CLI_OPTS_H

#include <stdbool.h>
#include <stdio.h>

#include "engine/cli/cli.h"

#define CLI_OPT_SHORT 1u    /* key is also accepted as the short option -<key> */
#define CLI_KEY_JSON 0x101     /* --json (long-only global option) */
#define CLI_KEY_VERSION 0x102  /* --version (before the command only) */
#define CLI_KEY_TAG 0x103      /* --tag where -t means something else (restore db) */

/* One option. Keys are what cli_getopt returns; each command picks its own
 * (a letter, or a value above 255 for a long-only option), distinct from the
 * global options' keys (cli_opts_check says so). Two rows may share a key
 * (an alias). */
typedef struct CliOpt {
    const char *name;   /* long name without "--"; NULL ends a table */
    int key;
    const char *arg;    /* the argument's name in the help ("N", "DIR"), NULL for a flag */
    const char *help;   /* help text; '\n' starts an indented continuation line */
    unsigned flags;     /* CLI_OPT_SHORT */
} CliOpt;

#define CLI_CMD_DATA_STDOUT 1u   /* stdout carries data (tar, SQL): JSON goes to stderr */

typedef struct CliCmd {
    const char *name;
    const char *sub;      /* second word, or NULL */
    CliCmdFn fn;
    const char *summary;  /* one line for `tidemark --help` */
    const char *args;     /* operands after the options ("PATH...", "SNAPSHOT"), or NULL */
    const char *about;    /* the paragraph of the command's --help */
    const CliOpt *opts;   /* its own options (terminated by a NULL name), or NULL */
    unsigned flags;       /* CLI_CMD_DATA_STDOUT */
} CliCmd;

/* Every command (cli_cmds.c), terminated by a NULL name. */
extern const CliCmd cli_commands[];
/* The global options, accepted before and after the command. */
extern const CliOpt cli_global_opts[];

/* The command named by argv[0] (and argv[1] for a two-word command), or
 * NULL. *out_words is 1 or 2. */
const CliCmd *cli_cmd_find(int argc, char **argv, int *out_words);

/* Write "tidemark <name>[ <sub>]" into out. */
void cli_cmd_label(const CliCmd *cmd, char *out, size_t cap);

/* One help line per option of the table (NULL-name terminated). */
void cli_opts_print(const CliOpt *opts, FILE *f);

/* The full help of a command: usage, about, its options, the global options. */
void cli_cmd_help(const CliCmd *cmd, FILE *f);

/* --version, for the option list of `tidemark --help`. */
extern const CliOpt cli_version_opt;

/* Parse the options before the command word (argv[0] is the program): the
 * global ones, --help (*what = 'h'), --version (*what = CLI_KEY_VERSION).
 * optind then indexes the command word (argc when there is none).
 * ERR_INVALID naming the option for an unknown one or a missing argument. */
int cli_opts_leading(CliCtx *ctx, int argc, char **argv, const char **config, const char **repo, int *what,
                     Err *err);

/* Parse argv (argv[0] is the command word) with the command's options plus
 * the global ones, before the config is loaded: applies the global options
 * to ctx (and *config / *repo), sets *help when --help was given. GNU
 * permutation: options may follow operands. ERR_INVALID naming the option
 * for an unknown option or a missing argument. Leaves optind reset. */
int cli_opts_prescan(const CliCmd *cmd, CliCtx *ctx, int argc, char **argv, const char **config,
                     const char **repo, bool *help, Err *err);

/* The command's parser: returns the key of its next option (optarg set as by
 * getopt_long), or -1 at the end (optind then indexes the first operand).
 * Global options and --help were applied by cli_opts_prescan and are skipped.
 * Uses ctx->cmd. */
int cli_getopt(CliCtx *ctx, int argc, char **argv);

/* Whether any of the named options (long names, NULL-terminated) is among
 * argv's options (parsed with ctx->cmd's table; optind is reset after). */
bool cli_opt_given(CliCtx *ctx, int argc, char **argv, const char *const *names);

/* ERR_INVALID for an option this form of the command does not take: "option
 * --NAME <why>" (the long name found from key in ctx->cmd's table). */
int cli_opt_refuse(CliCtx *ctx, int key, const char *why, Err *err);

/* `tidemark __complete WHAT ...` (the bash completion's source):
 *   commands            every first word
 *   subcommands WORD    the second words of WORD
 *   options WORD [SUB]  the options the command's parser accepts, one per line
 *   check               check every table (names unique, help present, keys
 *                       distinct from the global options); exit 0 when sound
 * Returns the exit code. */
int cli_complete(int argc, char **argv, FILE *out);

#endif
