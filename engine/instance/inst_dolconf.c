/* inst_dolconf.c: Dolibarr's conf.php as data: the database settings, the
 * data and document roots, the URL root, the instance's keys, and the
 * database password decoded as filefunc.inc.php decodes it.
 * Invariant: a value is reported only when every assignment of its variable
 * is a literal; the last one wins, as when PHP includes the file. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/common/secret.h"

#define INST_DOLCONF_MAX (1 << 20)
#include "engine/instance/inst_int.h"

static const char *const var_names[INST_DOL_NVARS] = {
    "dolibarr_main_db_type",          "dolibarr_main_db_host",
    "dolibarr_main_db_port",          "dolibarr_main_db_name",
    "dolibarr_main_db_user",          "dolibarr_main_db_pass",
    "dolibarr_main_db_encrypted_pass", "dolibarr_main_db_prefix",
    "dolibarr_main_data_root",        "dolibarr_main_document_root",
    "dolibarr_main_document_root_alt", "dolibarr_main_url_root",
    "dolibarr_main_url_root_alt",     "dolibarr_main_instance_unique_id",
    "dolibarr_main_dolcrypt_key",
};

const char *inst_dol_var_name(InstDolVar v) { return v < INST_DOL_NVARS ? var_names[v] : "?"; }

const char *inst_dol_pass_enc_name(InstDolPassEnc e)
{
    static const char *const n[] = {"none", "plain", "crypted", "encrypted_pass", "dolcrypt"};
    return (unsigned)e < sizeof n / sizeof n[0] ? n[e] : "?";
}

static void var_clear(InstDolConfVar *v)
{
    if (v->value) {
        sodium_memzero(v->value, strlen(v->value));
        free(v->value);
    }
    v->value = NULL;
}

typedef struct ParseCtx {
    InstDolConf *c;
    const char *text;
} ParseCtx;

/* One assignment: the last one of a variable wins (as in PHP); one that is
 * not a literal makes the variable unreadable. */
static int on_assign(void *ctx, const InstDolAssign *a, Err *err)
{
    ParseCtx *p = ctx;
    InstDolConf *c = p->c;
    if (!a->var[0]) {
        if (!c->include_line) c->include_line = a->line;
        return 0;
    }
    for (unsigned i = 0; i < INST_DOL_NVARS; i++) {
        InstDolConfVar *v = &c->v[i];
        if (strcmp(a->var, var_names[i]) != 0) continue;
        if (v->nassign == 0) v->is_literal = true;
        v->nassign++;
        v->line = a->line;
        var_clear(v);
        if (!a->is_literal) {
            v->is_literal = false;
            return 0;
        }
        return inst_dol_literal_decode(p->text + a->val_off, a->val_len, a->quote, &v->value, NULL, err);
    }
    return 0;
}

int inst_dolconf_parse(const char *text, size_t len, const char *path, InstDolConf **out, Err *err)
{
    InstDolConf *c = calloc(1, sizeof *c);
    int rc;
    *out = NULL;
    if (!c) return err_set(err, ERR_NOMEM, "out of memory");
    snprintf(c->path, sizeof c->path, "%s", path ? path : "conf.php");
    ParseCtx p = {.c = c, .text = text};
    rc = inst_dol_scan(text, len, on_assign, &p, err);
    if (rc) {
        err_wrap(err, "parse %s", c->path);
        inst_dolconf_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int inst_dolconf_read(const char *path, InstDolConf **out, Err *err)
{
    char *text = NULL;
    size_t len = 0, cap = 0;
    FILE *f = NULL;
    int rc = 0;

    *out = NULL;
    if (!(f = fopen(path, "rb"))) return err_sys(err, errno, "open conf.php %s", path);
    /* conf.php holds secrets: the copy is wiped once parsed */
    for (;;) {
        if (len == cap) {
            char *t;
            if (cap >= INST_DOLCONF_MAX) {
                rc = err_set(err, ERR_INVALID, "conf.php %s is larger than %d bytes", path, INST_DOLCONF_MAX);
                goto out;
            }
            cap = cap ? cap * 2 : 32768;
            if (!(t = malloc(cap))) {
                rc = err_set(err, ERR_NOMEM, "out of memory");
                goto out;
            }
            if (text) {
                memcpy(t, text, len);
                sodium_memzero(text, len);
                free(text);
            }
            text = t;
        }
        size_t k = fread(text + len, 1, cap - len, f);
        len += k;
        if (k == 0) break;
    }
    if (ferror(f)) {
        rc = err_sys(err, errno, "read conf.php %s", path);
        goto out;
    }
    rc = inst_dolconf_parse(text ? text : "", len, path, out, err);
out:
    if (text) sodium_memzero(text, cap);
    free(text);
    fclose(f);
    return rc;
}

void inst_dolconf_free(InstDolConf *c)
{
    if (!c) return;
    for (unsigned i = 0; i < INST_DOL_NVARS; i++) var_clear(&c->v[i]);
    free(c);
}

int inst_dolconf_get(const InstDolConf *c, InstDolVar v, const char **out, unsigned *out_line, Err *err)
{
    const InstDolConfVar *x = &c->v[v];
    *out = NULL;
    if (out_line) *out_line = x->line;
    if (x->nassign && !x->is_literal)
        return err_set(err, ERR_UNSUPPORTED, "%s:%u: $%s is not a literal (tidemark does not run PHP)",
                       c->path, x->line, var_names[v]);
    *out = x->value;
    return 0;
}

/* Copy into sodium_malloc'd memory and free the malloc'd original. */
static int to_secret(char *plain, char **out, Err *err)
{
    *out = secret_dup(plain);
    sodium_memzero(plain, strlen(plain));
    free(plain);
    return *out ? 0 : err_set(err, ERR_NOMEM, "out of memory");
}

/* Where a case-insensitive "crypted:" occurs in s, or NULL. */
static const char *find_crypted(const char *s)
{
    for (; *s; s++)
        if (strncasecmp(s, "crypted:", 8) == 0) return s;
    return NULL;
}

int inst_dolconf_password(const InstDolConf *c, char **out, InstDolPassEnc *out_enc, InstDolVar *out_var,
                          Err *err)
{
    const char *pass, *old, *key, *uid;
    char *plain = NULL;
    int rc;

    *out = NULL;
    *out_enc = INST_DOL_PASS_NONE;
    *out_var = INST_DOL_DB_PASS;
    if ((rc = inst_dolconf_get(c, INST_DOL_DB_PASS, &pass, NULL, err)) ||
        (rc = inst_dolconf_get(c, INST_DOL_DB_ENCRYPTED_PASS, &old, NULL, err)))
        return rc;
    /* filefunc.inc.php: /crypted:/i anywhere first, then /dolcrypt:/i, else
     * a non-empty $dolibarr_main_db_encrypted_pass; PHP's empty() throughout */
    if (!inst_dol_php_empty(pass) && find_crypted(pass)) {
        char *stripped = strdup(pass), *w = stripped;
        if (!stripped) return err_set(err, ERR_NOMEM, "out of memory");
        for (const char *r = pass; *r;) {
            if (strncasecmp(r, "crypted:", 8) == 0) r += 8;
            else *w++ = *r++;
        }
        *w = '\0';
        rc = inst_dol_decode(stripped, &plain, err);
        sodium_memzero(stripped, strlen(stripped));
        free(stripped);
        *out_enc = INST_DOL_PASS_CRYPTED;
    } else if (!inst_dol_php_empty(pass) && strcasestr(pass, "dolcrypt:")) {
        if ((rc = inst_dolconf_get(c, INST_DOL_DOLCRYPT_KEY, &key, NULL, err)) ||
            (rc = inst_dolconf_get(c, INST_DOL_INSTANCE_UNIQUE_ID, &uid, NULL, err)))
            return rc;
        rc = inst_dol_decrypt(pass, inst_dol_php_empty(key) ? uid : key, &plain, err);
        *out_enc = INST_DOL_PASS_DOLCRYPT;
    } else if (!inst_dol_php_empty(old)) {
        rc = inst_dol_decode(old, &plain, err);
        *out_enc = INST_DOL_PASS_ENCRYPTED;
        *out_var = INST_DOL_DB_ENCRYPTED_PASS;
    } else if (pass) {
        if (!(plain = strdup(pass))) return err_set(err, ERR_NOMEM, "out of memory");
        *out_enc = INST_DOL_PASS_PLAIN;
    } else {
        return 0;
    }
    if (rc)
        return err_wrap(err, "%s:%u: $%s (%s)", c->path, c->v[*out_var].line, var_names[*out_var],
                        inst_dol_pass_enc_name(*out_enc));
    return to_secret(plain, out, err);
}
