/* cli.h: what every subcommand gets. main() (cli_main.c) parses the global
 * options, loads the config, dispatches to a CliCmdFn, and prints the
 * error once: "tidemark <command>: <message>", exit code err_exit_code(). */
#ifndef TM_CLI_CLI_H
#define TM_CLI_CLI_H

#include <stdbool.h>

#include "engine/common/conf.h"
#include "engine/common/err.h"
#include "engine/instance/inst.h"
#include "engine/repo/repo.h"

struct CliCmd;

typedef struct CliCtx {
    const struct CliCmd *cmd; /* the command being run (its option table, cli_opts.h) */
    Conf *conf;              /* loaded config (maybe empty); owned by main */
    const char *instance;    /* --instance, or NULL */
    bool json;               /* --json: machine output on stdout */
    bool quiet;              /* --quiet: nothing on stderr unless an error */
    bool progress;           /* stderr is a terminal and not quiet */
    bool verbose;            /* --verbose: debug logging */
} CliCtx;

/* argv[0] is the subcommand's own name; options are parsed by the command
 * (getopt_long, optind reset by the dispatcher). Return 0 or an ERR_* with
 * err set. A command prints its own result (text, or JSON with --json). */
typedef int (*CliCmdFn)(CliCtx *ctx, int argc, char **argv, Err *err);

/* The passphrase prompt on the terminal (no echo), an InstPromptFn. */
int cli_prompt(const char *prompt, char *buf, size_t cap, size_t *out_len, Err *err);

/* The instance a command works on (cli_instance) with its options
 * (inst_open): ERR_INVALID when none can be chosen or the config does not
 * declare it. Free with inst_free. */
int cli_inst_open(CliCtx *ctx, const char *local, Inst **out, Err *err);

void cli_password_free(char *pw, size_t len);

/* A new passphrase (init, key add, key passwd): TIDEMARK_NEW_PASSWORD_FILE
 * or a prompt asked twice. Free with cli_password_free. */
int cli_new_password_read(char **out, size_t *out_len, Err *err);

/* Create the configured repository (init). */
int cli_repo_init(CliCtx *ctx, const char **out_location, Err *err);

/* Open the configured repository with the passphrase (shared lock not
 * taken: the command decides). */
int cli_repo_open(CliCtx *ctx, Repo **out, Err *err);

void cli_adopted_print(CliCtx *ctx, uint64_t adopted);

/* The instance a command works on: its own --instance option (local, may
 * be NULL), else the global --instance, else the config's only instance.
 * NULL with ERR_INVALID when none can be chosen. Borrowed string. */
const char *cli_instance(CliCtx *ctx, const char *local, Err *err);

/* Print a JSON value to stdout (compact, one line) and free it. Sets
 * cli_json_printed: main then prints no second document (--json gives one). */
void cli_json_print(json_t *j);
extern bool cli_json_printed;


#endif
