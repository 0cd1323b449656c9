/* db_ddl.c: split SHOW CREATE TABLE text so rows load into a table with
 * only its primary key; secondary keys and foreign keys are added after.
 * Pure string work. Invariant: relies on SHOW CREATE TABLE's layout: one
 * definition per line, indented by two spaces, the body between the line
 * ending in "(" and the line starting with ")". */
#include <stdlib.h>
#include <string.h>

#include "restore/db/rst_db.h"

/* Copy the backquoted identifier starting at p (at the opening `) into
 * out; returns the position after the closing quote, or NULL. */
static const char *ident_at(const char *p, char *out, size_t cap)
{
    size_t n = 0;
    if (*p != '`') return NULL;
    p++;
    while (*p) {
        if (*p == '`') {
            if (p[1] != '`') break;
            p++;
        }
        if (n + 1 < cap) out[n++] = *p;
        p++;
    }
    out[n] = '\0';
    return *p == '`' ? p + 1 : NULL;
}

static bool starts(const char *s, const char *pre)
{
    return !strncmp(s, pre, strlen(pre));
}

/* First column of a key definition line ("... (`col`..."). */
static void key_first_col(const char *line, char *out, size_t cap)
{
    const char *p = strstr(line, " (`");
    out[0] = '\0';
    if (p) ident_at(p + 2, out, cap);
}

static int app(char **dst, size_t *len, const char *s, size_t n)
{
    char *d = realloc(*dst, *len + n + 1);
    if (!d) return -1;
    memcpy(d + *len, s, n);
    *len += n;
    d[*len] = '\0';
    *dst = d;
    return 0;
}

int rst_ddl_split(const char *create, char **out_create, char **out_keys, char **out_fks,
                  Err *err)
{
    const char *body, *end, *p;
    char *cr = NULL, *keys = NULL, *fks = NULL, ai_col[256] = "", pk_first[256] = "";
    size_t crl = 0, kl = 0, fl = 0;
    bool first_def = true, ai_covered = false;
    int rc = 0;

    *out_create = *out_keys = *out_fks = NULL;
    body = strstr(create, "(\n");
    end = strstr(create, "\n)");
    if (!starts(create, "CREATE TABLE") || !body || !end || end < body)
        return err_set(err, ERR_CORRUPT, "not a SHOW CREATE TABLE text: %.60s", create);
    body += 2;

    /* pass 1: the AUTO_INCREMENT column and the primary key's first column */
    for (p = body; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p) + 1);
        size_t n = (size_t)((nl ? nl : end) - p);
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)(n < 511 ? n : 511), p);
        if (starts(line, "  `") && strstr(line, " AUTO_INCREMENT")) ident_at(line + 2, ai_col, sizeof ai_col);
        if (starts(line, "  PRIMARY KEY")) key_first_col(line, pk_first, sizeof pk_first);
        p = nl ? nl + 1 : end;
    }
    ai_covered = !ai_col[0] || !strcmp(ai_col, pk_first);

    if (app(&cr, &crl, create, (size_t)(body - create))) goto nomem;
    for (p = body; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p) + 1);
        size_t n = (size_t)((nl && nl < end ? nl : end) - p);
        const char *def = p + 2;
        size_t dn = n >= 2 ? n - 2 : 0;
        bool is_key, is_fk;
        if (dn && def[dn - 1] == ',') dn--;
        is_key = starts(def, "UNIQUE KEY") || starts(def, "KEY ") || starts(def, "FULLTEXT KEY") ||
                 starts(def, "SPATIAL KEY") || starts(def, "UNIQUE INDEX") ||
                 starts(def, "INDEX ");
        is_fk = starts(def, "CONSTRAINT ") && memmem(def, dn, " FOREIGN KEY ", 13);
        if (is_key && !ai_covered) {
            char line[512], first[256];
            snprintf(line, sizeof line, "%.*s", (int)(dn < 511 ? dn : 511), def);
            key_first_col(line, first, sizeof first);
            if (!strcmp(first, ai_col)) {
                is_key = false;   /* the AUTO_INCREMENT column needs this key at CREATE time */
                ai_covered = true;
            }
        }
        if (is_key || is_fk) {
            char **dst = is_key ? &keys : &fks;
            size_t *dl = is_key ? &kl : &fl;
            if ((*dst && app(dst, dl, ", ", 2)) || app(dst, dl, "ADD ", 4) || app(dst, dl, def, dn))
                goto nomem;
        } else {
            if ((!first_def && app(&cr, &crl, ",\n", 2)) || app(&cr, &crl, p, dn + 2)) goto nomem;
            first_def = false;
        }
        p = (nl && nl < end) ? nl + 1 : end;
    }
    if (app(&cr, &crl, end, strlen(end))) goto nomem;
    *out_create = cr;
    *out_keys = keys;
    *out_fks = fks;
    return 0;
nomem:
    rc = err_set(err, ERR_NOMEM, "out of memory");
    free(cr);
    free(keys);
    free(fks);
    return rc;
}
