/* inst_dolconf_rewrite.c: conf.php for a restored copy: new values for the
 * database settings and paths, every other byte as it was.
 * Invariant: only the value tokens of the assignments being changed are
 * replaced (a variable assigned twice has both rewritten, so the copy holds
 * no stale host or password whichever one a reader believes); PHP reads
 * back exactly the new values; the instance unique id and the dolcrypt key
 * are never touched. It lives beside the reader because both stand on the
 * same lexer and password codec (inst_int.h), which stay private. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/common/buf.h"
#include "engine/instance/inst_int.h"

#define MAX_ASSIGN 256

typedef struct Spot {
    InstDolVar var;
    size_t off, len;
    char quote;
    bool is_literal;
    unsigned line;
} Spot;

typedef struct Collect {
    Spot spots[MAX_ASSIGN];
    size_t n;
} Collect;

static int collect(void *ctx, const InstDolAssign *a, Err *err)
{
    Collect *c = ctx;
    for (unsigned i = 0; i < INST_DOL_NVARS; i++) {
        if (!a->var[0] || strcmp(a->var, inst_dol_var_name((InstDolVar)i)) != 0) continue;
        if (c->n == MAX_ASSIGN) return err_set(err, ERR_UNSUPPORTED, "more than %d assignments", MAX_ASSIGN);
        c->spots[c->n++] = (Spot){.var = (InstDolVar)i, .off = a->val_off, .len = a->val_len,
                                  .quote = a->quote, .is_literal = a->is_literal, .line = a->line};
    }
    return 0;
}

static bool is_php_int(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 18 || (s[0] == '0' && n > 1)) return false;
    return strspn(s, "0123456789") == n;
}

/* A value as a PHP literal in the original's quote style. */
static int render(const char *v, char quote, Buf *b, Err *err)
{
    int rc;
    if (quote == 0 && is_php_int(v)) return buf_append_str(b, v, err);
    if (quote != '"') quote = '\'';
    if ((rc = buf_append(b, &quote, 1, err))) return rc;
    for (const unsigned char *p = (const unsigned char *)v; *p && !rc; p++) {
        unsigned char c = *p;
        if (quote == '\'') {
            rc = c == '\\' || c == '\'' ? buf_printf(b, err, "\\%c", c) : buf_append(b, p, 1, err);
        } else if (c == '\\' || c == '"' || c == '$') {
            rc = buf_printf(b, err, "\\%c", c);
        } else if (c < 0x20 || c == 0x7f) {
            rc = buf_printf(b, err, "\\x%02x", c);
        } else {
            rc = buf_append(b, p, 1, err);
        }
    }
    return rc ? rc : buf_append(b, &quote, 1, err);
}

/* The password family the original uses (filefunc.inc.php's order). */
static InstDolPassEnc family(const InstDolConf *c)
{
    const char *pass = c->v[INST_DOL_DB_PASS].value, *old = c->v[INST_DOL_DB_ENCRYPTED_PASS].value;
    /* "dolcrypt:" does not contain "crypted:" */
    if (!inst_dol_php_empty(pass) && strcasestr(pass, "crypted:")) return INST_DOL_PASS_CRYPTED;
    if (!inst_dol_php_empty(pass) && strcasestr(pass, "dolcrypt:")) return INST_DOL_PASS_DOLCRYPT;
    if (!inst_dol_php_empty(old)) return INST_DOL_PASS_ENCRYPTED;
    return INST_DOL_PASS_PLAIN;
}

/* The values to write for the password: db_pass (and encrypted_pass, "" to
 * neutralise it, when the plain fallback replaces that family). */
static int password_values(const InstDolConf *c, const char *p, char **pass, char **old,
                           InstDolPassEnc *enc, Err *err)
{
    InstDolPassEnc f = family(c);
    const char *key = c->v[INST_DOL_DOLCRYPT_KEY].value;
    char *e = NULL;
    int rc = 0;
    Err tmp;

    *pass = *old = NULL;
    if (inst_dol_php_empty(key)) key = c->v[INST_DOL_INSTANCE_UNIQUE_ID].value;
    if (f == INST_DOL_PASS_DOLCRYPT && *p && !inst_dol_encrypt(p, key, pass, &tmp)) {
        *enc = f;
        return 0;
    }
    if ((f == INST_DOL_PASS_CRYPTED || f == INST_DOL_PASS_ENCRYPTED) && !inst_dol_encode(p, &e, &tmp)) {
        *enc = f;
        if (f == INST_DOL_PASS_ENCRYPTED) {
            *old = e;
            return 0;
        }
        *pass = malloc(strlen(e) + 9);
        if (*pass) snprintf(*pass, strlen(e) + 9, "crypted:%s", e);
        free(e);
        return *pass ? 0 : err_set(err, ERR_NOMEM, "out of memory");
    }
    /* plain: Dolibarr would take a password holding "crypted:" for an encoded one */
    if (strcasestr(p, "crypted:") || strcasestr(p, "dolcrypt:")) {
        if ((rc = inst_dol_encode(p, &e, err)))
            return err_wrap(err, "the password contains \"crypted:\" and cannot be written plain");
        *pass = malloc(strlen(e) + 9);
        if (*pass) snprintf(*pass, strlen(e) + 9, "crypted:%s", e);
        free(e);
        *enc = INST_DOL_PASS_CRYPTED;
        return *pass ? 0 : err_set(err, ERR_NOMEM, "out of memory");
    }
    *enc = INST_DOL_PASS_PLAIN;
    if (!(*pass = strdup(p))) return err_set(err, ERR_NOMEM, "out of memory");
    if (f == INST_DOL_PASS_ENCRYPTED && !(*old = strdup(""))) return err_set(err, ERR_NOMEM, "out of memory");
    return 0;
}

static void wipe(char *s)
{
    if (!s) return;
    sodium_memzero(s, strlen(s));
    free(s);
}

int inst_dolconf_rewrite(const char *text, size_t len, const InstDolConfNew *nv, char **out, size_t *out_len,
                         InstDolPassEnc *out_enc, Err *err)
{
    const char *val[INST_DOL_NVARS] = {0};
    char *pass = NULL, *old = NULL;
    InstDolConf *c = NULL;
    Collect *col = NULL;
    Buf b;
    size_t at = 0;
    int rc;

    *out = NULL;
    *out_len = 0;
    *out_enc = INST_DOL_PASS_NONE;
    buf_init(&b, len + (64u << 10));
    if (!memmem(text, len, "<?", 2)) return err_set(err, ERR_UNSUPPORTED, "conf.php holds no PHP code");
    if ((rc = inst_dolconf_parse(text, len, "conf.php", &c, err))) goto out;
    if (!(col = calloc(1, sizeof *col))) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = inst_dol_scan(text, len, collect, col, err))) goto out;
    val[INST_DOL_DB_HOST] = nv->db_host;
    val[INST_DOL_DB_PORT] = nv->db_port;
    val[INST_DOL_DB_NAME] = nv->db_name;
    val[INST_DOL_DB_USER] = nv->db_user;
    val[INST_DOL_DATA_ROOT] = nv->data_root;
    val[INST_DOL_DOCUMENT_ROOT] = nv->document_root;
    val[INST_DOL_DOCUMENT_ROOT_ALT] = nv->document_root_alt;
    val[INST_DOL_URL_ROOT] = nv->url_root;
    if (nv->db_pass) {
        /* the family needs the current values: refuse first when they are not literals */
        for (InstDolVar v = INST_DOL_DB_PASS; v <= INST_DOL_DB_ENCRYPTED_PASS; v++) {
            const char *x;
            if ((rc = inst_dolconf_get(c, v, &x, NULL, err))) goto out;
        }
        if ((rc = password_values(c, nv->db_pass, &pass, &old, out_enc, err))) goto out;
        val[INST_DOL_DB_PASS] = pass;
        val[INST_DOL_DB_ENCRYPTED_PASS] = old;
    }
    for (size_t i = 0; i < col->n; i++) {
        const Spot *s = &col->spots[i];
        if (!val[s->var]) continue;
        if (!s->is_literal) {
            rc = err_set(err, ERR_UNSUPPORTED, "line %u: $%s is not a literal; cannot rewrite it", s->line,
                         inst_dol_var_name(s->var));
            goto out;
        }
    }
    for (unsigned v = 0; v < INST_DOL_NVARS; v++) {
        if (val[v] && strlen(val[v]) > 65536) {
            rc = err_set(err, ERR_INVALID, "value for $%s is too long", inst_dol_var_name((InstDolVar)v));
            goto out;
        }
    }
    for (size_t i = 0; i < col->n; i++) {
        const Spot *s = &col->spots[i];
        if (!val[s->var]) continue;
        if ((rc = buf_append(&b, text + at, s->off - at, err)) || (rc = render(val[s->var], s->quote, &b, err)))
            goto out;
        at = s->off + s->len;
    }
    /* the variables the file does not assign yet: before its last "?>", else at the end */
    size_t end = len;
    while (end > at && strchr(" \t\r\n", text[end - 1])) end--;
    if (end >= at + 2 && memcmp(text + end - 2, "?>", 2) == 0) end -= 2;
    else end = len;
    if ((rc = buf_append(&b, text + at, end - at, err))) goto out;
    const char *nl = memmem(text, len, "\r\n", 2) ? "\r\n" : "\n";
    for (unsigned v = 0; v < INST_DOL_NVARS; v++) {
        if (!val[v] || c->v[v].nassign) continue;
        if (b.len && b.data[b.len - 1] != '\n' && (rc = buf_append_str(&b, nl, err))) goto out;
        if ((rc = buf_printf(&b, err, "$%s=", inst_dol_var_name((InstDolVar)v))) ||
            (rc = render(val[v], '\'', &b, err)) || (rc = buf_printf(&b, err, ";%s", nl)))
            goto out;
    }
    if ((rc = buf_append(&b, text + end, len - end, err)) || (rc = buf_append(&b, "", 1, err))) goto out;
    *out = (char *)b.data;
    *out_len = b.len - 1;
    b.data = NULL;
out:
    if (b.data) sodium_memzero(b.data, b.len);
    buf_free(&b);
    wipe(pass);
    wipe(old);
    free(col);
    inst_dolconf_free(c);
    return rc;
}
