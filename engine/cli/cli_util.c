/* cli_util.c: what commands share: the terminal prompt for passphrases
 * (engine/instance reads them from files, commands and the environment),
 * the repository and instance opened through engine/instance, printing JSON. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "engine/cli/cli.h"
#include "engine/common/log.h"
#include "engine/common/secret.h"

static size_t trim_newline(char *s, size_t n)
{
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r')) s[--n] = '\0';
    return n;
}

int cli_prompt(const char *prompt, char *pw, size_t cap, size_t *len, Err *err)
{
    struct termios old, quiet;
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
    ssize_t n;
    if (fd < 0) return err_set(err, ERR_INVALID,
                               "no passphrase: set TIDEMARK_PASSWORD_FILE or password_file (or password_command) in the config");
    if (write(fd, prompt, strlen(prompt)) < 0) { close(fd); return err_sys(err, errno, "write prompt"); }
    tcgetattr(fd, &old);
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(fd, TCSAFLUSH, &quiet);
    n = read(fd, pw, cap - 1);
    tcsetattr(fd, TCSAFLUSH, &old);
    if (write(fd, "\n", 1) < 0) { /* nothing to do */ }
    close(fd);
    if (n <= 0) return err_set(err, ERR_INVALID, "no passphrase entered");
    pw[n] = '\0';
    *len = trim_newline(pw, (size_t)n);
    if (*len == 0) return err_set(err, ERR_INVALID, "empty passphrase refused");
    return 0;
}

void cli_password_free(char *pw, size_t len)
{
    (void)len;
    secret_free(pw);
}

int cli_inst_open(CliCtx *ctx, const char *local, Inst **out, Err *err)
{
    const char *name = cli_instance(ctx, local, err);
    if (!name) return err->code;
    return inst_open(ctx->conf, name, out, err);
}

int cli_new_password_read(char **out, size_t *out_len, Err *err)
{
    return inst_new_passphrase_read(cli_prompt, out, out_len, err);
}

int cli_repo_open(CliCtx *ctx, Repo **out, Err *err)
{
    Inst *in = NULL;
    int rc = inst_open(ctx->conf, NULL, &in, err);
    if (!rc) rc = inst_repo_open(in, cli_prompt, out, err);
    inst_free(in);
    return rc;
}

int cli_repo_init(CliCtx *ctx, const char **out_location, Err *err)
{
    Inst *in = NULL;
    int rc = inst_open(ctx->conf, NULL, &in, err);
    (void)out_location;
    if (!rc) rc = inst_repo_init(in, cli_prompt, err);
    inst_free(in);
    return rc;
}

const char *cli_instance(CliCtx *ctx, const char *local, Err *err)
{
    return inst_pick(ctx->conf, local, ctx->instance, err);
}

bool cli_json_printed;

void cli_json_print(json_t *j)
{
    char *s;
    if (!j) return;
    cli_json_printed = true;
    s = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        free(s);
    }
    fflush(stdout);
    json_decref(j);
}

void cli_adopted_print(CliCtx *ctx, uint64_t adopted)
{
    if (adopted && !ctx->quiet && !ctx->json)
        fprintf(stderr, "repository: %llu pack(s) left by an interrupted backup indexed; the data "
                        "they hold is reused\n", (unsigned long long)adopted);
}

