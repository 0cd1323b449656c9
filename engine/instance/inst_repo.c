/* inst_repo.c: the repository of the config opened or created with its
 * passphrase (file, command, environment, or the caller's prompt).
 * Invariant: a passphrase lives only in sodium_malloc'd memory and is
 * wiped as soon as the repository holds its key; never from argv. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/common/secret.h"
#include "engine/instance/inst_int.h"
#include "storage-backends/storage.h"

#define PW_MAX SECRET_MAX

static int pw_alloc(char **out, Err *err)
{
    if (sodium_init() < 0) return err_set(err, ERR_IO, "libsodium failed to initialise");
    *out = sodium_malloc(PW_MAX + 1);
    if (!*out) return err_set(err, ERR_NOMEM, "out of memory");
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
    while (n && pw[n - 1] == '\r') n--;
    pw[n] = '\0';
    *len = n;
    if (*len == 0) return err_set(err, ERR_INVALID, "password command printed nothing");
    return 0;
}

static int pw_prompt(InstPromptFn prompt, const char *question, char **out, size_t *len, Err *err)
{
    int rc;
    if (!prompt)
        return err_set(err, ERR_INVALID, "no passphrase: set TIDEMARK_PASSWORD_FILE or password_file "
                       "(or password_command) in the config");
    if ((rc = pw_alloc(out, err))) return rc;
    if ((rc = prompt(question, *out, PW_MAX + 1, len, err))) {
        secret_free(*out);
        *out = NULL;
    }
    return rc;
}

int inst_passphrase_read(const Inst *in, InstPromptFn prompt, char **out, size_t *out_len, Err *err)
{
    const char *file = conf_get(in->conf, NULL, "password_file");
    const char *cmd = conf_get(in->conf, NULL, "password_command");
    const char *env = getenv("TIDEMARK_PASSWORD");
    char *pw = NULL;
    size_t len = 0;
    int rc = 0;

    if (file) {
        if ((rc = secret_file_read(file, "password file", &pw, &len, err)) == ERR_INVALID)
            conf_blame(in->conf, NULL, "password_file", err);
    } else if (cmd) {
        if (!(rc = pw_alloc(&pw, err))) rc = pw_from_command(cmd, pw, &len, err);
    } else if (env && *env) {
        if (!(rc = pw_alloc(&pw, err))) {
            len = strlen(env) < PW_MAX ? strlen(env) : PW_MAX;
            memcpy(pw, env, len);
            pw[len] = 0;
        }
    } else {
        rc = pw_prompt(prompt, "repository passphrase: ", &pw, &len, err);
    }
    if (rc) {
        secret_free(pw);
        return rc;
    }
    *out = pw;
    *out_len = len;
    return 0;
}

int inst_new_passphrase_read(InstPromptFn prompt, char **out, size_t *out_len, Err *err)
{
    const char *file = getenv("TIDEMARK_NEW_PASSWORD_FILE");
    char *pw = NULL, *again = NULL;
    size_t len = 0, len2 = 0;
    int rc;

    if (file) {
        rc = secret_file_read(file, "TIDEMARK_NEW_PASSWORD_FILE", &pw, &len, err);
    } else {
        rc = pw_prompt(prompt, "new passphrase: ", &pw, &len, err);
        if (!rc && !(rc = pw_prompt(prompt, "new passphrase again: ", &again, &len2, err)) &&
            (len != len2 || sodium_memcmp(pw, again, len) != 0))
            rc = err_set(err, ERR_INVALID, "the two passphrases differ");
        secret_free(again);
    }
    if (rc) {
        secret_free(pw);
        return rc;
    }
    *out = pw;
    *out_len = len;
    return 0;
}

int inst_repo_open(Inst *in, InstPromptFn prompt, Repo **out, Err *err)
{
    Sto *sto = NULL;
    char *pw = NULL;
    size_t pwlen = 0;
    int rc;

    if ((rc = sto_open_url_with(inst_repo_url(in), 0, &in->s3, &sto, err))) return rc;
    if ((rc = inst_passphrase_read(in, prompt, &pw, &pwlen, err))) {
        sto_close(sto);
        return rc;
    }
    rc = repo_open(sto, pw, pwlen, &in->repo_opts, out, err);   /* takes sto, also on failure */
    secret_free(pw);
    return rc;
}

int inst_repo_init(Inst *in, InstPromptFn prompt, Err *err)
{
    Sto *sto = NULL;
    char *pw = NULL;
    size_t pwlen = 0;
    int rc;

    if ((rc = sto_open_url_with(inst_repo_url(in), STO_OPEN_CREATE, &in->s3, &sto, err))) return rc;
    if (conf_get(in->conf, NULL, "password_file") || conf_get(in->conf, NULL, "password_command") ||
        getenv("TIDEMARK_PASSWORD"))
        rc = inst_passphrase_read(in, prompt, &pw, &pwlen, err);
    else
        rc = inst_new_passphrase_read(prompt, &pw, &pwlen, err);
    if (!rc) rc = repo_init(sto, pw, pwlen, &in->repo_opts, err);
    secret_free(pw);
    sto_close(sto);
    return rc;
}

int inst_backup_begin(Repo *r, uint64_t *out_adopted, Err *err)
{
    int rc = repo_lock(r, false, err);
    *out_adopted = 0;
    if (!rc) rc = repo_adopt_packs(r, out_adopted, err);
    return rc;
}
