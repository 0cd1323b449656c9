/* cli_util.c: what commands share: reading passphrases (never from argv),
 * opening the repository from the config, printing JSON. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "engine/cli/cli.h"
#include "engine/common/log.h"

#define PW_MAX 4096

static int pw_alloc(char **out, Err *err)
{
    if (sodium_init() < 0) return err_set(err, ERR_IO, "libsodium failed to initialise");
    *out = sodium_malloc(PW_MAX + 1);
    if (!*out) return err_set(err, ERR_NOMEM, "out of memory");
    return 0;
}

void cli_password_free(char *pw, size_t len)
{
    (void)len;
    if (pw) sodium_free(pw);
}

static size_t trim_newline(char *s, size_t n)
{
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r')) s[--n] = '\0';
    return n;
}

static int pw_from_file(const char *path, char *pw, size_t *len, Err *err)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;
    if (fd < 0) return err_sys(err, errno, "password file %s", path);
    if (fstat(fd, &st) == 0 && (st.st_mode & 077))
        log_warn("password file %s is readable by others (mode %03o); chmod 600 it", path, (unsigned)(st.st_mode & 0777));
    n = read(fd, pw, PW_MAX);
    close(fd);
    if (n < 0) return err_sys(err, errno, "read password file %s", path);
    pw[n] = '\0';
    if (memchr(pw, '\n', (size_t)n)) n = (ssize_t)(strchr(pw, '\n') - pw);
    pw[n] = '\0';
    *len = trim_newline(pw, (size_t)n);
    if (*len == 0) return err_set(err, ERR_INVALID, "password file %s is empty", path);
    return 0;
}

static int pw_from_command(const char *cmd, char *pw, size_t *len, Err *err)
{
    FILE *p = popen(cmd, "r");
    size_t n;
    int st;
    if (!p) return err_sys(err, errno, "run password command");
    n = fread(pw, 1, PW_MAX, p);
    st = pclose(p);
    pw[n] = '\0';
    if (st != 0) return err_set(err, ERR_INVALID, "password command failed (exit status %d)", st);
    if (memchr(pw, '\n', n)) n = (size_t)(strchr(pw, '\n') - pw);
    pw[n] = '\0';
    *len = trim_newline(pw, n);
    if (*len == 0) return err_set(err, ERR_INVALID, "password command printed nothing");
    return 0;
}

static int pw_prompt(const char *prompt, char *pw, size_t *len, Err *err)
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
    n = read(fd, pw, PW_MAX);
    tcsetattr(fd, TCSAFLUSH, &old);
    if (write(fd, "\n", 1) < 0) { /* nothing to do */ }
    close(fd);
    if (n <= 0) return err_set(err, ERR_INVALID, "no passphrase entered");
    pw[n] = '\0';
    *len = trim_newline(pw, (size_t)n);
    if (*len == 0) return err_set(err, ERR_INVALID, "empty passphrase refused");
    return 0;
}

int cli_password_read(CliCtx *ctx, char **out, size_t *out_len, Err *err)
{
    char *pw = NULL;
    const char *file = conf_get(ctx->conf, NULL, "password_file");
    const char *cmd = conf_get(ctx->conf, NULL, "password_command");
    const char *env = getenv("TIDEMARK_PASSWORD");
    size_t len = 0;
    int rc;
    if ((rc = pw_alloc(&pw, err))) return rc;
    if (file) rc = pw_from_file(file, pw, &len, err) ? conf_blame(ctx->conf, NULL, "password_file", err) : 0;
    else if (cmd) rc = pw_from_command(cmd, pw, &len, err);
    else if (env && *env) { len = strlen(env) < PW_MAX ? strlen(env) : PW_MAX; memcpy(pw, env, len); pw[len] = 0; }
    else rc = pw_prompt("repository passphrase: ", pw, &len, err);
    if (rc) { sodium_free(pw); return rc; }
    *out = pw;
    *out_len = len;
    return 0;
}

/* A second passphrase (key add / passwd): TIDEMARK_NEW_PASSWORD_FILE or a
 * prompt asked twice. */
int cli_new_password_read(char **out, size_t *out_len, Err *err)
{
    char *pw = NULL, *again = NULL;
    const char *file = getenv("TIDEMARK_NEW_PASSWORD_FILE");
    size_t len = 0, len2 = 0;
    int rc;
    if ((rc = pw_alloc(&pw, err))) return rc;
    if (file) {
        rc = pw_from_file(file, pw, &len, err);
    } else {
        rc = pw_prompt("new passphrase: ", pw, &len, err);
        if (!rc && !(rc = pw_alloc(&again, err)) && !(rc = pw_prompt("new passphrase again: ", again, &len2, err)) &&
            (len != len2 || sodium_memcmp(pw, again, len) != 0))
            rc = err_set(err, ERR_INVALID, "the two passphrases differ");
        if (again) sodium_free(again);
    }
    if (rc) { sodium_free(pw); return rc; }
    *out = pw;
    *out_len = len;
    return 0;
}

static int repo_options_from_conf(CliCtx *ctx, RepoOptions *o, Err *err)
{
    uint64_t v;
    int rc;
    repo_options_default(o);
    if ((rc = conf_get_uint(ctx->conf, NULL, "compression_level", &v, err))) return rc;
    if (v > 19) return err_set(err, ERR_INVALID, "compression_level must be 0..19");
    o->zstd_level = (int)v;
    if ((rc = conf_get_uint(ctx->conf, NULL, "workers", &v, err))) return rc;
    if (v < 1 || v > 64) return err_set(err, ERR_INVALID, "workers must be 1..64");
    o->workers = (unsigned)v;
    if ((rc = conf_get_size(ctx->conf, NULL, "pack_size", &v, err))) return rc;
    if (v < (1u << 20) || v > (256u << 20)) return err_set(err, ERR_INVALID, "pack_size must be 1M..256M");
    o->pack_size = (size_t)v;
    return 0;
}

/* An s3: repository: the config's [repository] s3_* keys reach the S3
 * driver as the variables it reads (conf_keys.c names them); a variable
 * already set wins. Secrets pass only as the names of files holding them. */
static int s3_env_from_conf(CliCtx *ctx, Err *err)
{
    const char *url = conf_get(ctx->conf, NULL, "url");
    if (!url || strncmp(url, "s3:", 3) != 0) return 0;
    for (const ConfKey *k = conf_keys; k->name; k++) {
        const char *v;
        if (k->section != CONF_SEC_REPOSITORY || strncmp(k->name, "s3_", 3) != 0 || !k->env || getenv(k->env))
            continue;
        v = conf_get(ctx->conf, NULL, k->name);
        if (v && setenv(k->env, v, 0) != 0) return err_sys(err, errno, "config key %s", k->name);
    }
    return 0;
}

int cli_repo_open(CliCtx *ctx, Repo **out, Err *err)
{
    Sto *sto = NULL;
    char *pw = NULL;
    size_t pwlen = 0;
    RepoOptions o;
    int rc;
    if ((rc = repo_options_from_conf(ctx, &o, err))) return rc;
    if ((rc = s3_env_from_conf(ctx, err))) return rc;
    if ((rc = sto_open_url(conf_get(ctx->conf, NULL, "url"), 0, &sto, err))) return rc;
    if ((rc = cli_password_read(ctx, &pw, &pwlen, err))) { sto_close(sto); return rc; }
    rc = repo_open(sto, pw, pwlen, &o, out, err);
    cli_password_free(pw, pwlen);
    return rc;
}

int cli_repo_init(CliCtx *ctx, const char **out_location, Err *err)
{
    Sto *sto = NULL;
    char *pw = NULL;
    size_t pwlen = 0;
    RepoOptions o;
    int rc;
    (void)out_location;
    if ((rc = repo_options_from_conf(ctx, &o, err))) return rc;
    if ((rc = s3_env_from_conf(ctx, err))) return rc;
    if ((rc = sto_open_url(conf_get(ctx->conf, NULL, "url"), STO_OPEN_CREATE, &sto, err))) return rc;
    if (conf_get(ctx->conf, NULL, "password_file") || conf_get(ctx->conf, NULL, "password_command") ||
        getenv("TIDEMARK_PASSWORD"))
        rc = cli_password_read(ctx, &pw, &pwlen, err);
    else
        rc = cli_new_password_read(&pw, &pwlen, err);
    if (!rc) rc = repo_init(sto, pw, pwlen, &o, err);
    if (pw) cli_password_free(pw, pwlen);
    sto_close(sto);
    return rc;
}

const char *cli_instance(CliCtx *ctx, const char *local, Err *err)
{
    const char *const *names;
    if (local) return local;
    if (ctx->instance) return ctx->instance;
    if (ctx->conf && conf_instances(ctx->conf, &names) == 1) return names[0];
    err_set(err, ERR_INVALID, "which instance? give --instance NAME");
    return NULL;
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

int cli_backup_begin(CliCtx *ctx, Repo *r, Err *err)
{
    uint64_t adopted = 0;
    int rc = repo_lock(r, false, err);
    if (!rc) rc = repo_adopt_packs(r, &adopted, err);
    if (!rc && adopted && !ctx->quiet && !ctx->json)
        fprintf(stderr, "repository: %llu pack(s) left by an interrupted backup indexed; the data "
                        "they hold is reused\n", (unsigned long long)adopted);
    return rc;
}

void cli_spool_dir(CliCtx *ctx, const char *inst, char *out, size_t cap)
{
    const char *v = conf_get(ctx->conf, inst, "spool_dir");
    if (!v || !*v) v = getenv("TIDEMARK_SPOOL_DIR");
    if (v && *v) {
        snprintf(out, cap, "%s", v);
        return;
    }
    v = conf_get(ctx->conf, NULL, "state_dir");
    snprintf(out, cap, "%s/spool", v && *v ? v : "/var/lib/tidemark");
}
