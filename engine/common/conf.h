/* conf.h: the INI configuration (/etc/tidemark/tidemark.conf by default).
 * Sections: [repository], [instance NAME] (one per Dolibarr instance).
 * Every key is declared in conf_keys.c (name, section, type, env var,
 * default); an unknown key or a bad value is an error naming file, line and
 * key. Environment variables override the file (TIDEMARK_REPOSITORY, ...;
 * for instance keys TIDEMARK_<KEY> applies to the selected instance). */
#ifndef TM_COMMON_CONF_H
#define TM_COMMON_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/common/err.h"

typedef enum ConfType { CONF_STR, CONF_UINT, CONF_BOOL, CONF_SIZE, CONF_PATH, CONF_LIST } ConfType;
typedef enum ConfSection { CONF_SEC_REPOSITORY, CONF_SEC_INSTANCE } ConfSection;

typedef struct ConfKey {
    ConfSection section;
    const char *name;       /* key in the file */
    ConfType type;
    const char *env;        /* environment override, or NULL */
    const char *def;        /* default as text, or NULL */
    const char *doc;        /* one line, used by conf/tidemark.conf.sample checks */
} ConfKey;

/* The table of every known key, terminated by a {0} entry (conf_keys.c). */
extern const ConfKey conf_keys[];

typedef struct Conf Conf;

#define CONF_DEFAULT_PATH "/etc/tidemark/tidemark.conf"

/* Load and validate path. When must_exist is false a missing file yields an
 * empty config (env and defaults still apply). */
int conf_load(const char *path, bool must_exist, Conf **out, Err *err);
/* An empty config (defaults + environment only). */
int conf_new_empty(Conf **out, Err *err);
void conf_free(Conf *c);   /* accepts NULL */
/* A value of key that cannot be used (a file it names is missing, a number
 * out of range): err becomes ERR_INVALID, a configuration error (exit 2),
 * its message prefixed with where the value comes from: "FILE:LINE: key: ",
 * "environment variable NAME (key): " or "the command line (key): ".
 * Returns ERR_INVALID. */
int conf_blame(const Conf *c, const char *instance, const char *key, Err *err);

/* Values: environment first, then the file, then the default; NULL when
 * none. instance is NULL for [repository] keys. Returned strings are
 * borrowed (valid while c lives). */
const char *conf_get(const Conf *c, const char *instance, const char *key);
int conf_get_uint(const Conf *c, const char *instance, const char *key, uint64_t *out, Err *err);
int conf_get_size(const Conf *c, const char *instance, const char *key, uint64_t *out, Err *err);
int conf_get_bool(const Conf *c, const char *instance, const char *key, bool *out, Err *err);
/* CONF_LIST: names separated by commas and/or whitespace; a name holding a
 * space or a comma is quoted with " or ` (a doubled quote inside stands for
 * one: "a ""b""", `x``y`), as in SQL. ERR_INVALID for an unclosed quote, an
 * empty quoted name or text glued to a closing quote. *out is a malloc'd
 * NULL-terminated array of malloc'd strings (free with conf_list_free). */
int conf_get_list(const Conf *c, const char *instance, const char *key, char ***out, size_t *n,
                  Err *err);
void conf_list_free(char **list);
/* Instance names in file order; borrowed. */
size_t conf_instances(const Conf *c, const char *const **out);
/* Set a value programmatically (used by the CLI for --repo and tests). */
int conf_set(Conf *c, const char *instance, const char *key, const char *value, Err *err);

/* Parse "64M", "1G", "4096", "512k" (binary units). */
int conf_parse_size(const char *s, uint64_t *out);

#endif
