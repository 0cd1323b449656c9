/* conf.c: INI loading (inih) and lookups with environment overrides.
 * Invariant: a loaded Conf holds only known keys with values that parsed
 * for their type; every rejection names file:line and the key. */
#include "engine/common/conf.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ConfVal {
    char *instance;   /* NULL for [repository] */
    char *key;
    char *value;
    bool override;    /* set by conf_set (command line): beats the environment */
    int line;         /* line in the file, 0 when not from the file */
} ConfVal;

struct Conf {
    ConfVal *v;
    size_t n, cap;
    char **instances;
    size_t ninst;
    char *path;
};

static const ConfKey *key_find(ConfSection sec, const char *name)
{
    for (const ConfKey *k = conf_keys; k->name; k++)
        if (k->section == sec && strcmp(k->name, name) == 0) return k;
    return NULL;
}

int conf_parse_size(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;
    errno = 0;
    if (!s || !isdigit((unsigned char)*s)) return -1;
    v = strtoull(s, &end, 10);
    if (errno) return -1;
    switch (tolower((unsigned char)*end)) {
    case 'k': v <<= 10; end++; break;
    case 'm': v <<= 20; end++; break;
    case 'g': v <<= 30; end++; break;
    case 't': v <<= 40; end++; break;
    default: break;
    }
    if (*end == 'i' || *end == 'I') end++;
    if (*end == 'b' || *end == 'B') end++;
    if (*end) return -1;
    *out = v;
    return 0;
}

/* The keys with a range beyond their type (checked at load, so the error
 * names the file and line or the variable). */
static const struct {
    const char *name;
    uint64_t min, max;
    const char *text;
} ranges[] = {
    {"compression_level", 0, 19, "0..19"},
    {"workers", 1, 64, "1..64"},
    {"pack_size", 1u << 20, 256u << 20, "1M..256M"},
    {"binlog_compact_entries", 1, 1000000, "1..1000000"},
};

/* The range text of k's value when it is out of range, else NULL. */
static const char *range_check(const ConfKey *k, const char *v)
{
    uint64_t u;
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
        if (strcmp(ranges[i].name, k->name) != 0) continue;
        if (k->type == CONF_SIZE ? conf_parse_size(v, &u) : (u = strtoull(v, NULL, 10), 0)) return NULL;
        return u < ranges[i].min || u > ranges[i].max ? ranges[i].text : NULL;
    }
    return NULL;
}

static int value_check(const ConfKey *k, const char *v)
{
    uint64_t u;
    char *end;
    switch (k->type) {
    case CONF_UINT:
        errno = 0;
        if (!isdigit((unsigned char)*v)) return -1;
        u = strtoull(v, &end, 10);
        (void)u;
        return (errno || *end) ? -1 : 0;
    case CONF_SIZE: return conf_parse_size(v, &u);
    case CONF_BOOL:
        return (!strcmp(v, "true") || !strcmp(v, "false") || !strcmp(v, "yes") || !strcmp(v, "no") ||
                !strcmp(v, "1") || !strcmp(v, "0") || !strcmp(v, "on") || !strcmp(v, "off")) ? 0 : -1;
    case CONF_PATH: return v[0] == '/' ? 0 : -1;
    default: return 0;
    }
}

static const char *type_hint(ConfType t)
{
    switch (t) {
    case CONF_UINT: return "a whole number";
    case CONF_SIZE: return "a size such as 512K, 16M or 1G";
    case CONF_BOOL: return "true or false";
    case CONF_PATH: return "an absolute path";
    default: return "a string";
    }
}

static int put(Conf *c, const char *inst, const char *key, const char *value, bool override, int line,
               Err *err)
{
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->v[i].key, key) != 0) continue;
        if ((inst == NULL) != (c->v[i].instance == NULL)) continue;
        if (inst && strcmp(inst, c->v[i].instance) != 0) continue;
        char *nv = strdup(value);
        if (!nv) return err_set(err, ERR_NOMEM, "out of memory");
        free(c->v[i].value);
        c->v[i].value = nv;
        c->v[i].override |= override;
        if (!override) c->v[i].line = line;
        return 0;
    }
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 32;
        ConfVal *v = realloc(c->v, nc * sizeof *v);
        if (!v) return err_set(err, ERR_NOMEM, "out of memory");
        c->v = v;
        c->cap = nc;
    }
    c->v[c->n].instance = inst ? strdup(inst) : NULL;
    c->v[c->n].key = strdup(key);
    c->v[c->n].value = strdup(value);
    c->v[c->n].override = override;
    c->v[c->n].line = line;
    if (!c->v[c->n].key || !c->v[c->n].value || (inst && !c->v[c->n].instance))
        return err_set(err, ERR_NOMEM, "out of memory");
    c->n++;
    return 0;
}

typedef struct ParseCtx {
    Conf *c;
    Err *err;
    int line;
    bool failed;
} ParseCtx;

static int add_instance(Conf *c, const char *name)
{
    for (size_t i = 0; i < c->ninst; i++)
        if (strcmp(c->instances[i], name) == 0) return 0;
    char **v = realloc(c->instances, (c->ninst + 2) * sizeof *v);
    if (!v) return -1;
    c->instances = v;
    if (!(v[c->ninst] = strdup(name))) return -1;
    c->ninst++;
    v[c->ninst] = NULL;
    return 0;
}

/* Debian's inih calls handlers without a line number: count lines in the
 * reader instead (it is called once per line, before the handler). */
typedef struct LineReader {
    FILE *f;
    int line;
} LineReader;

static char *read_line(char *str, int num, void *stream)
{
    LineReader *lr = stream;
    char *r = fgets(str, num, lr->f);
    if (r) lr->line++;
    return r;
}

static LineReader *g_reader;   /* only during conf_load; conf_load is not re-entrant */

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
    ParseCtx *pc = user;
    int lineno = g_reader ? g_reader->line : 0;
    const ConfKey *k;
    const char *inst = NULL;
    ConfSection sec;
    if (pc->failed) return 0;
    pc->line = lineno;
    if (strcmp(section, "repository") == 0) {
        sec = CONF_SEC_REPOSITORY;
    } else if (strncmp(section, "instance ", 9) == 0 && section[9]) {
        sec = CONF_SEC_INSTANCE;
        inst = section + 9;
        while (*inst == ' ') inst++;
        if (add_instance(pc->c, inst)) { err_set(pc->err, ERR_NOMEM, "out of memory"); pc->failed = true; return 0; }
    } else if (!*section) {
        err_set(pc->err, ERR_INVALID, "%s:%d: key '%s' outside any section (use [repository] or [instance NAME])",
                pc->c->path, lineno, name);
        pc->failed = true;
        return 0;
    } else {
        err_set(pc->err, ERR_INVALID, "%s:%d: unknown section [%s] (use [repository] or [instance NAME])",
                pc->c->path, lineno, section);
        pc->failed = true;
        return 0;
    }
    if (!name) return 1;   /* section header only */
    k = key_find(sec, name);
    if (!k) {
        err_set(pc->err, ERR_INVALID, "%s:%d: unknown key '%s' in [%s]", pc->c->path, lineno, name, section);
        pc->failed = true;
        return 0;
    }
    if (value_check(k, value) != 0) {
        err_set(pc->err, ERR_INVALID, "%s:%d: bad value for '%s': expected %s", pc->c->path, lineno, name,
                type_hint(k->type));
        pc->failed = true;
        return 0;
    }
    const char *range = range_check(k, value);
    if (range) {
        err_set(pc->err, ERR_INVALID, "%s:%d: %s = %s is out of range: expected %s", pc->c->path, lineno, name,
                value, range);
        pc->failed = true;
        return 0;
    }
    if (put(pc->c, inst, name, value, false, lineno, pc->err)) { pc->failed = true; return 0; }
    return 1;
}

static const char *env_for(const ConfKey *k, char *buf, size_t cap);

/* The environment's numbers, sizes and booleans, checked as the file's are:
 * a bad one names its variable. */
static int env_check(Err *err)
{
    char name[128];
    for (const ConfKey *k = conf_keys; k->name; k++) {
        const char *v, *range, *var;
        if (k->type != CONF_UINT && k->type != CONF_SIZE && k->type != CONF_BOOL) continue;
        v = env_for(k, name, sizeof name);
        if (!v || !*v) continue;
        var = k->env ? k->env : name;
        if (value_check(k, v) != 0)
            return err_set(err, ERR_INVALID, "environment variable %s (%s): bad value '%s': expected %s", var, k->name,
                           v, type_hint(k->type));
        if ((range = range_check(k, v)))
            return err_set(err, ERR_INVALID, "environment variable %s (%s): %s is out of range: expected %s", var,
                           k->name, v, range);
    }
    return 0;
}

int conf_new_empty(Conf **out, Err *err)
{
    Conf *c = calloc(1, sizeof *c);
    if (!c) return err_set(err, ERR_NOMEM, "out of memory");
    c->path = strdup("(none)");
    *out = c;
    return 0;
}

int conf_load(const char *path, bool must_exist, Conf **out, Err *err)
{
    Conf *c = NULL;
    FILE *f;
    ParseCtx pc;
    int rc;

    if ((rc = conf_new_empty(&c, err))) return rc;
    free(c->path);
    c->path = strdup(path);
    f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT && !must_exist) { *out = c; return 0; }
        err_sys(err, errno, "config %s", path);
        err->code = ERR_INVALID;   /* a configuration error, whatever the errno (exit 2) */
        conf_free(c);
        return ERR_INVALID;
    }
    memset(&pc, 0, sizeof pc);
    pc.c = c;
    pc.err = err;
    {
        LineReader lr = {f, 0};
        g_reader = &lr;
        rc = ini_parse_stream(read_line, &lr, on_entry, &pc);
        g_reader = NULL;
    }
    fclose(f);
    if (pc.failed) { conf_free(c); return err->code ? err->code : ERR_INVALID; }
    if (rc != 0) {
        err_set(err, ERR_INVALID, "%s:%d: syntax error (expected [section] or key = value)", path, rc);
        conf_free(c);
        return ERR_INVALID;
    }
    if ((rc = env_check(err))) {
        conf_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

/* Where the value of key comes from, as conf_get picks it. */
static void origin(const Conf *c, const char *instance, const char *key, char *out, size_t cap)
{
    const ConfKey *k = key_find(instance ? CONF_SEC_INSTANCE : CONF_SEC_REPOSITORY, key);
    char envname[128];
    const char *e;
    snprintf(out, cap, "%s", key);
    if (!k) return;
    for (size_t i = 0; c && i < c->n; i++)
        if (c->v[i].override && !strcmp(c->v[i].key, key) && (instance == NULL) == (c->v[i].instance == NULL) &&
            (!instance || !strcmp(instance, c->v[i].instance))) {
            snprintf(out, cap, "the command line (%s)", key);
            return;
        }
    e = env_for(k, envname, sizeof envname);
    if (e && *e) {
        snprintf(out, cap, "environment variable %s (%s)", k->env ? k->env : envname, key);
        return;
    }
    for (size_t i = 0; c && i < c->n; i++)
        if (!strcmp(c->v[i].key, key) && (instance == NULL) == (c->v[i].instance == NULL) &&
            (!instance || !strcmp(instance, c->v[i].instance))) {
            snprintf(out, cap, "%s:%d: %s", c->path, c->v[i].line, key);
            return;
        }
}

int conf_blame(const Conf *c, const char *instance, const char *key, Err *err)
{
    char where[600];
    origin(c, instance, key, where, sizeof where);
    err_wrap(err, "%s", where);
    err->code = ERR_INVALID;
    return ERR_INVALID;
}

void conf_free(Conf *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].instance);
        free(c->v[i].key);
        free(c->v[i].value);
    }
    free(c->v);
    for (size_t i = 0; i < c->ninst; i++) free(c->instances[i]);
    free(c->instances);
    free(c->path);
    free(c);
}

int conf_set(Conf *c, const char *instance, const char *key, const char *value, Err *err)
{
    const ConfKey *k = key_find(instance ? CONF_SEC_INSTANCE : CONF_SEC_REPOSITORY, key);
    if (!k) return err_set(err, ERR_INVALID, "unknown configuration key '%s'", key);
    if (value_check(k, value)) return err_set(err, ERR_INVALID, "bad value for '%s': expected %s", key, type_hint(k->type));
    return put(c, instance, key, value, true, 0, err);
}

static const char *env_for(const ConfKey *k, char *buf, size_t cap)
{
    size_t o;
    if (k->env) return getenv(k->env);
    if (k->section != CONF_SEC_INSTANCE) return NULL;
    o = (size_t)snprintf(buf, cap, "TIDEMARK_");
    for (const char *p = k->name; *p && o + 1 < cap; p++) buf[o++] = (char)toupper((unsigned char)*p);
    buf[o] = '\0';
    return getenv(buf);
}

const char *conf_get(const Conf *c, const char *instance, const char *key)
{
    const ConfKey *k = key_find(instance ? CONF_SEC_INSTANCE : CONF_SEC_REPOSITORY, key);
    char envname[128];
    const char *e;
    if (!k) return NULL;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            e = env_for(k, envname, sizeof envname);
            if (e && *e) return e;
        }
        for (size_t i = 0; c && i < c->n; i++) {
            if (c->v[i].override != (pass == 0)) continue;
            if (strcmp(c->v[i].key, key) != 0) continue;
            if ((instance == NULL) != (c->v[i].instance == NULL)) continue;
            if (instance && strcmp(instance, c->v[i].instance) != 0) continue;
            if (pass == 0) return c->v[i].value;
        }
    }
    for (size_t i = 0; c && i < c->n; i++) {
        if (strcmp(c->v[i].key, key) != 0) continue;
        if ((instance == NULL) != (c->v[i].instance == NULL)) continue;
        if (instance && strcmp(instance, c->v[i].instance) != 0) continue;
        return c->v[i].value;
    }
    return k->def;
}

int conf_get_uint(const Conf *c, const char *instance, const char *key, uint64_t *out, Err *err)
{
    const char *v = conf_get(c, instance, key);
    char *end;
    if (!v) return err_set(err, ERR_NOTFOUND, "'%s' is not set", key);
    errno = 0;
    unsigned long long u = strtoull(v, &end, 10);
    if (errno || *end || !isdigit((unsigned char)*v)) {
        err_set(err, ERR_INVALID, "bad value '%s': expected a whole number", v);
        return conf_blame(c, instance, key, err);
    }
    *out = u;
    return 0;
}

int conf_get_size(const Conf *c, const char *instance, const char *key, uint64_t *out, Err *err)
{
    const char *v = conf_get(c, instance, key);
    if (!v) return err_set(err, ERR_NOTFOUND, "'%s' is not set", key);
    if (conf_parse_size(v, out)) {
        err_set(err, ERR_INVALID, "bad value '%s': expected a size such as 16M", v);
        return conf_blame(c, instance, key, err);
    }
    return 0;
}

int conf_get_bool(const Conf *c, const char *instance, const char *key, bool *out, Err *err)
{
    const char *v = conf_get(c, instance, key);
    if (!v) return err_set(err, ERR_NOTFOUND, "'%s' is not set", key);
    if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1") || !strcmp(v, "on")) *out = true;
    else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0") || !strcmp(v, "off")) *out = false;
    else {
        err_set(err, ERR_INVALID, "bad value '%s': expected true or false", v);
        return conf_blame(c, instance, key, err);
    }
    return 0;
}

void conf_list_free(char **list)
{
    if (!list) return;
    for (char **p = list; *p; p++) free(*p);
    free(list);
}

/* One quoted list element starting at *pv (at its quote, " or `): the text
 * up to the matching quote, a doubled quote standing for one. Advances *pv
 * past the closing quote; *out malloc'd. */
static int list_quoted(const char **pv, const char *key, char **out, Err *err)
{
    const char *v = *pv;
    char q = *v++;
    size_t n = 0;
    char *s = malloc(strlen(v) + 1);

    if (!s) return err_set(err, ERR_NOMEM, "out of memory");
    for (;;) {
        if (!*v) {
            free(s);
            return err_set(err, ERR_INVALID, "bad value for '%s': a %c quote is not closed", key, q);
        }
        if (*v == q && v[1] == q) {
            s[n++] = q;
            v += 2;
            continue;
        }
        if (*v == q) break;
        s[n++] = *v++;
    }
    v++;
    s[n] = '\0';
    if (!n) {
        free(s);
        return err_set(err, ERR_INVALID, "bad value for '%s': an empty quoted name", key);
    }
    if (*v && *v != ',' && !isspace((unsigned char)*v)) {
        err_set(err, ERR_INVALID,
                "bad value for '%s': '%c' right after the quoted name %s (separate names with a "
                "comma or a space)", key, *v, s);
        free(s);
        return err->code;
    }
    *pv = v;
    *out = s;
    return 0;
}

int conf_get_list(const Conf *c, const char *instance, const char *key, char ***out, size_t *n, Err *err)
{
    const char *v = conf_get(c, instance, key);
    char **list = calloc(1, sizeof *list);
    size_t cnt = 0;
    if (!list) return err_set(err, ERR_NOMEM, "out of memory");
    while (v && *v) {
        char *item = NULL;
        while (*v == ',' || isspace((unsigned char)*v)) v++;
        if (!*v) break;
        if (*v == '"' || *v == '`') {
            if (list_quoted(&v, key, &item, err)) {
                conf_list_free(list);
                return err->code;
            }
        } else {
            size_t len = strcspn(v, ", \t\r\n\v\f");
            item = strndup(v, len);
            v += len;
        }
        char **nl = item ? realloc(list, (cnt + 2) * sizeof *nl) : NULL;
        if (!nl) {
            free(item);
            conf_list_free(list);
            return err_set(err, ERR_NOMEM, "out of memory");
        }
        list = nl;
        list[cnt] = item;
        list[++cnt] = NULL;
    }
    *out = list;
    if (n) *n = cnt;
    return 0;
}

size_t conf_instances(const Conf *c, const char *const **out)
{
    *out = (const char *const *)c->instances;
    return c->ninst;
}
