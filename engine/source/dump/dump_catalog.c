/* dump_catalog.c: what a dump contains: databases, base tables with their
 * dumped columns (generated columns excluded) and row order (primary key,
 * else a NOT NULL unique key, else none), CREATE statements, views in
 * dependency order, triggers, routines and events.
 * Invariant: every list is in a stable order (by name), so the schema
 * document is byte-identical when nothing changed. */
#include <mysql.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/source/dump/dump_int.h"

/* A JSON string for text that may not be valid UTF-8: a string when it is,
 * {"hex": "..."} otherwise. */
static json_t *dump_json_text(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);   /* NULL when not valid UTF-8 */
    if (j) return j;
    char *hex = malloc(2 * n + 1);
    if (!hex) return NULL;
    hex_encode((const uint8_t *)s, n, hex);
    j = json_pack("{s:s}", "hex", hex);
    free(hex);
    return j;
}

/* "'escaped'" string literal of s into b. */
static int lit(MYSQL *m, Buf *b, const char *s, Err *err)
{
    size_t n = strlen(s);
    if (buf_reserve(b, 2 * n + 3, err)) return err->code;
    b->data[b->len++] = '\'';
    b->len += mysql_real_escape_string(m, (char *)b->data + b->len, s, (unsigned long)n);
    b->data[b->len++] = '\'';
    b->data[b->len] = '\0';
    return 0;
}

/* One SHOW CREATE row as {"name","create",...}: create is the column whose
 * name starts with "Create " or is "SQL Original Statement". */
int dump_show_create(MYSQL *m, const char *kind, const char *name, json_t **out, Err *err)
{
    Buf sql;
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    MYSQL_FIELD *f;
    unsigned long *lens;
    json_t *o = NULL;
    int rc = 0;

    buf_init(&sql, 1 << 16);
    *out = NULL;
    if (buf_printf(&sql, err, "SHOW CREATE %s ", kind) || mdb_ident_quote(&sql, name, err)) {
        rc = err->code;
        goto out;
    }
    if ((rc = mdb_query(m, (char *)sql.data, NULL, &res, err))) goto out;
    row = mysql_fetch_row(res);
    if (!row) {
        rc = err_set(err, ERR_NOTFOUND, "%s %s vanished during the dump", kind, name);
        goto out;
    }
    lens = mysql_fetch_lengths(res);
    f = mysql_fetch_fields(res);
    o = json_pack("{s:s}", "name", name);
    if (!o) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    for (unsigned i = 0; i < mysql_num_fields(res); i++) {
        const char *k = f[i].name;
        if (!row[i]) continue;
        if (!strncmp(k, "Create ", 7) || !strcmp(k, "SQL Original Statement"))
            k = "create";
        else if (strcmp(k, "sql_mode") && strcmp(k, "character_set_client") &&
                 strcmp(k, "collation_connection") && strcmp(k, "time_zone"))
            continue;
        json_object_set_new(o, k, dump_json_text(row[i], lens[i]));
    }
    if (!json_object_get(o, "create")) {
        rc = err_set(err, ERR_PERM,
                     "SHOW CREATE %s %s returned no definition (missing privilege?)", kind, name);
        goto out;
    }
    *out = o;
    o = NULL;
out:
    json_decref(o);
    mysql_free_result(res);
    buf_free(&sql);
    return rc;
}

static bool is_system_db(const char *n)
{
    return !strcmp(n, "information_schema") || !strcmp(n, "performance_schema") ||
           !strcmp(n, "mysql") || !strcmp(n, "sys");
}

static int list_dbs(MYSQL *m, const char *const *want, char ***out, size_t *n, Err *err)
{
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    char **v = NULL;
    size_t cnt = 0;
    int rc = 0;

    *out = NULL;
    *n = 0;
    if ((rc = mdb_query(m, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME",
                        NULL, &res, err)))
        return rc;
    v = calloc(mysql_num_rows(res) + 1, sizeof *v);
    if (!v) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    if (want && want[0]) {
        for (size_t i = 0; want[i]; i++) {
            bool found = false;
            mysql_data_seek(res, 0);
            while ((row = mysql_fetch_row(res)))
                if (!strcmp(row[0], want[i])) found = true;
            if (!found) {
                rc = err_set(err, ERR_NOTFOUND,
                             "database %s not found on the server (or no privilege on it)",
                             want[i]);
                goto out;
            }
            v[cnt++] = strdup(want[i]);
        }
    } else {
        while ((row = mysql_fetch_row(res)))
            if (!is_system_db(row[0])) v[cnt++] = strdup(row[0]);
    }
    for (size_t i = 0; i < cnt; i++)
        if (!v[i]) {
            rc = err_set(err, ERR_NOMEM, "out of memory");
            goto out;
        }
    *out = v;
    *n = cnt;
    v = NULL;
out:
    if (v) {
        for (size_t i = 0; i < cnt; i++) free(v[i]);
        free(v);
    }
    mysql_free_result(res);
    return rc;
}

/* Views in dependency order: a view comes after every view of the same
 * database whose quoted name appears in its definition (Kahn's algorithm,
 * ties by name; a cycle, which the server forbids, falls back to name order). */
static json_t *order_views(json_t *views)
{
    size_t n = json_array_size(views), placed = 0;
    json_t *out = json_array();
    bool *done = calloc(n ? n : 1, 1);
    char pat[300];

    while (out && done && placed < n) {
        bool progress = false;
        for (size_t i = 0; i < n; i++) {
            const char *ci = json_string_value(json_object_get(json_array_get(views, i), "create"));
            bool ready = true;
            if (done[i]) continue;
            for (size_t k = 0; k < n && ci; k++) {
                const char *nk =
                    json_string_value(json_object_get(json_array_get(views, k), "name"));
                if (k == i || done[k] || !nk) continue;
                snprintf(pat, sizeof pat, "`%s`", nk);
                if (strstr(ci, pat)) ready = false;
            }
            if (!ready) continue;
            json_array_append(out, json_array_get(views, i));
            done[i] = true;
            placed++;
            progress = true;
        }
        if (!progress)
            for (size_t i = 0; i < n; i++)
                if (!done[i]) {
                    json_array_append(out, json_array_get(views, i));
                    done[i] = true;
                    placed++;
                }
    }
    free(done);
    return out;
}

/* Objects listed by sql (column 0 = kind for routines or NULL, column 1 = name). */
static int read_objects(MYSQL *m, const char *sql, const char *kind, json_t *arr, Err *err)
{
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    int rc;

    if ((rc = mdb_query(m, sql, NULL, &res, err))) return rc;
    while ((row = mysql_fetch_row(res))) {
        json_t *o = NULL;
        const char *k = kind ? kind : row[0];
        rc = dump_show_create(m, k, row[1], &o, err);
        if (rc) break;
        if (!kind) json_object_set_new(o, "type", json_string(k));
        if (mysql_num_fields(res) > 2 && row[2]) json_object_set_new(o, "table", json_string(row[2]));
        json_array_append_new(arr, o);
    }
    mysql_free_result(res);
    return rc;
}

static DumpTable *find_table(DumpCatalog *c, size_t first, const char *name)
{
    for (size_t i = first; i < c->ntables; i++)
        if (!strcmp(c->tables[i].name, name)) return &c->tables[i];
    return NULL;
}

static int grow_tables(DumpCatalog *c, size_t extra, Err *err)
{
    DumpTable *t = realloc(c->tables, (c->ntables + extra) * sizeof *t);
    if (!t) return err_set(err, ERR_NOMEM, "out of memory");
    c->tables = t;
    memset(t + c->ntables, 0, extra * sizeof *t);
    return 0;
}

/* The backquoted name at *p (`a``b` -> a`b), malloc'd; *p moves past it. */
static char *take_ident(const char **p)
{
    const char *s = *p;
    char *o, *d;

    if (*s != '`') return NULL;
    if (!(o = d = malloc(strlen(s) + 1))) return NULL;
    for (s++; *s; s++) {
        if (*s == '`' && s[1] == '`') {
            *d++ = '`';
            s++;
        } else if (*s == '`') {
            *d = '\0';
            *p = s + 1;
            return o;
        } else {
            *d++ = *s;
        }
    }
    free(o);
    return NULL;
}

/* A system-versioned table keeps every row version: its row start and row
 * end columns (named by PERIOD FOR SYSTEM_TIME, else the implicit ROW_START
 * and ROW_END) are dumped like the others, the rows read FOR SYSTEM_TIME
 * ALL, and a load sets them (system_versioning_insert_history). */
static int versioned_shape(DumpTable *t, const json_t *o, Err *err)
{
    const char *create = json_string_value(json_object_get(o, "create"));
    const char *p = create ? strstr(create, "PERIOD FOR SYSTEM_TIME (") : NULL;
    char *names[2] = {NULL, NULL};
    json_t *h = NULL;
    int rc = 0;

    if (p) {
        p += strlen("PERIOD FOR SYSTEM_TIME (");
        names[0] = take_ident(&p);
        if (names[0] && p[0] == ',' && p[1] == ' ') {
            p += 2;
            names[1] = take_ident(&p);
        }
        if (!names[0] || !names[1]) {
            rc = err_set(err, ERR_DB, "table %s.%s: cannot read its PERIOD FOR SYSTEM_TIME",
                         t->db, t->name);
            goto out;
        }
    } else {
        names[0] = strdup("ROW_START");
        names[1] = strdup("ROW_END");
    }
    if (!names[0] || !names[1] || !(h = json_array())) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int k = 0; k < 2; k++) {
        size_t i;
        json_t *g;
        json_array_foreach(t->generated, i, g) {
            if (!strcmp(json_string_value(g), names[k])) {
                json_array_remove(t->generated, i);
                break;
            }
        }
        json_array_append_new(t->columns, json_string(names[k]));
        json_array_append_new(h, json_string(names[k]));
    }
    json_object_set_new(t->shape, "history", h);
    if (p && create) {
        /* transaction-precise history (row start/end are BIGINT transaction
         * ids): no server loads those; the load refuses the table */
        Buf pat;
        buf_init(&pat, 1 << 16);
        if (!buf_append_str(&pat, "\n  ", &(Err){0}) && !mdb_ident_quote(&pat, names[0], &(Err){0}) &&
            !buf_append_str(&pat, " bigint", &(Err){0}) && strstr(create, (char *)pat.data))
            json_object_set_new(t->shape, "history_trx_id", json_true());
        buf_free(&pat);
    }
out:
    free(names[0]);
    free(names[1]);
    return rc;
}

static int read_db(MYSQL *m, const char *db, DumpCatalog *c, DumpDb *d, Err *err)
{
    Buf sql;
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    json_t *schema = NULL, *tables = NULL, *views = NULL, *seqs = NULL, *o = NULL;
    size_t first = c->ntables;
    int rc = 0;

    buf_init(&sql, 1 << 16);
    /* SHOW CREATE VIEW writes unqualified names for the current database */
    if ((rc = buf_append_str(&sql, "USE ", err)) || (rc = mdb_ident_quote(&sql, db, err))) goto out;
    if ((rc = mdb_exec(m, (char *)sql.data, err))) goto out;

    schema = json_pack("{s:s,s:s,s:[],s:[],s:[],s:[],s:[]}", "format", "tidemark-mariadb-schema-1",
                       "database", db, "tables", "views", "triggers", "routines", "events");
    if (!schema) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = dump_show_create(m, "DATABASE", db, &o, err))) goto out;
    json_object_set(schema, "create", json_object_get(o, "create"));
    json_decref(o);
    o = NULL;

    /* base tables */
    buf_reset(&sql);
    if ((rc = buf_append_str(&sql, "SELECT TABLE_NAME, TABLE_TYPE, ENGINE, DATA_LENGTH FROM "
                                   "information_schema.TABLES WHERE TABLE_SCHEMA = ", err)) ||
        (rc = lit(m, &sql, db, err)) ||
        /* Dup and dup tie in the column's collation: the binary name orders them */
        (rc = buf_append_str(&sql, " ORDER BY TABLE_NAME, BINARY TABLE_NAME", err)))
        goto out;
    if ((rc = mdb_query(m, (char *)sql.data, NULL, &res, err))) goto out;
    views = json_array();
    seqs = json_array();
    while ((row = mysql_fetch_row(res))) {
        if (!strcmp(row[1], "VIEW")) {
            json_array_append_new(views, json_string(row[0]));
            continue;
        }
        if (!strcmp(row[1], "SEQUENCE")) {
            json_array_append_new(seqs, json_string(row[0]));
            continue;
        }
        if ((rc = grow_tables(c, 1, err))) goto out;
        DumpTable *t = &c->tables[c->ntables++];
        t->db = strdup(db);
        t->name = strdup(row[0]);
        t->engine = strdup(row[2] ? row[2] : "");
        t->est_bytes = row[3] ? strtoull(row[3], NULL, 10) : 0;
        t->transactional = row[2] && (!strcasecmp(row[2], "InnoDB") ||
                                      !strcasecmp(row[2], "RocksDB") ||
                                      !strcasecmp(row[2], "TokuDB"));
        t->columns = json_array();
        t->text_columns = json_array();
        t->generated = json_array();
        t->shape = json_object();
        t->order_by = json_null();
        t->versioned = !strcmp(row[1], "SYSTEM VERSIONED");
        if (!t->db || !t->name || !t->engine || !t->columns || !t->text_columns ||
            !t->generated || !t->shape) {
            rc = err_set(err, ERR_NOMEM, "out of memory");
            goto out;
        }
        if (!t->transactional) {
            char full[600];
            snprintf(full, sizeof full, "%s.%s", db, t->name);
            json_array_append_new(c->nontx, json_string(full));
        }
    }
    mysql_free_result(res);
    res = NULL;

    /* columns (generated ones are recomputed by the server, never dumped) */
    buf_reset(&sql);
    if ((rc = buf_append_str(&sql, "SELECT TABLE_NAME, COLUMN_NAME, EXTRA, DATA_TYPE FROM "
                                   "information_schema.COLUMNS WHERE TABLE_SCHEMA = ", err)) ||
        (rc = lit(m, &sql, db, err)) ||
        (rc = buf_append_str(&sql, " ORDER BY TABLE_NAME, ORDINAL_POSITION", err)))
        goto out;
    if ((rc = mdb_query(m, (char *)sql.data, NULL, &res, err))) goto out;
    while ((row = mysql_fetch_row(res))) {
        DumpTable *t = find_table(c, first, row[0]);
        if (!t) continue;   /* a view */
        /* FLOAT -0: the server sends it as +0 (both protocols), so the
         * read asks for its sign apart (src_dump_select_sql) */
        if (row[3] && !strcasecmp(row[3], "float")) {
            json_t *fc = json_object_get(t->shape, "float_columns");
            if (!fc) json_object_set_new(t->shape, "float_columns", fc = json_array());
            json_array_append_new(fc, json_string(row[1]));
        }
        if (row[2] && (strstr(row[2], "VIRTUAL") || strstr(row[2], "STORED") ||
                       strstr(row[2], "PERSISTENT"))) {
            json_array_append_new(t->generated, json_string(row[1]));   /* verified only */
            continue;
        }
        json_array_append_new(t->columns, json_string(row[1]));
        /* types that read a binary string as their binary form: the text
         * form they are dumped in must be loaded in a text charset */
        if (row[3] && (!strcasecmp(row[3], "inet6") || !strcasecmp(row[3], "inet4") ||
                       !strcasecmp(row[3], "uuid")))
            json_array_append_new(t->text_columns, json_string(row[1]));
        /* ENUM/SET as numbers: the text of an ENUM's error value (index 0)
         * and of a member '' are both '' */
        if (row[3] && (!strcasecmp(row[3], "enum") || !strcasecmp(row[3], "set"))) {
            json_t *ic = json_object_get(t->shape, "index_columns");
            if (!ic) json_object_set_new(t->shape, "index_columns", ic = json_array());
            json_array_append_new(ic, json_string(row[1]));
        }
    }
    mysql_free_result(res);
    res = NULL;

    /* row order: PRIMARY, else the first unique index whose columns are all NOT NULL */
    buf_reset(&sql);
    if ((rc = buf_append_str(&sql, "SELECT TABLE_NAME, INDEX_NAME, COLUMN_NAME, NON_UNIQUE, "
                                   "NULLABLE FROM information_schema.STATISTICS WHERE "
                                   "TABLE_SCHEMA = ", err)) ||
        (rc = lit(m, &sql, db, err)) ||
        (rc = buf_append_str(&sql, " ORDER BY TABLE_NAME, INDEX_NAME = 'PRIMARY' DESC, "
                                   "INDEX_NAME, SEQ_IN_INDEX", err)))
        goto out;
    if ((rc = mdb_query(m, (char *)sql.data, NULL, &res, err))) goto out;
    {
        DumpTable *cur_t = NULL;
        char cur_idx[256] = "";
        json_t *cand = NULL;
        bool ok = false;
        while (1) {
            DumpTable *t = NULL;
            row = mysql_fetch_row(res);
            if (row) t = find_table(c, first, row[0]);
            /* close the previous index group */
            if (cand && (!row || t != cur_t || strcmp(row[1], cur_idx))) {
                if (ok && json_is_null(cur_t->order_by)) {
                    json_decref(cur_t->order_by);
                    cur_t->order_by = cand;
                } else {
                    json_decref(cand);
                }
                cand = NULL;
            }
            if (!row) break;
            if (!t) continue;
            if (!cand) {
                cur_t = t;
                snprintf(cur_idx, sizeof cur_idx, "%s", row[1]);
                cand = json_array();
                ok = !strcmp(row[3], "0");
            }
            if (row[4] && row[4][0]) ok = false;   /* NULLABLE = 'YES' */
            json_array_append_new(cand, json_string(row[2]));
        }
    }
    mysql_free_result(res);
    res = NULL;

    /* sequences: definition and state (dump_sequence.c) */
    if ((rc = dump_sequences_read(m, db, seqs, schema, err))) goto out;

    /* CREATE TABLE of each */
    tables = json_object_get(schema, "tables");
    for (size_t i = first; i < c->ntables; i++) {
        DumpTable *t = &c->tables[i];
        if ((rc = dump_show_create(m, "TABLE", t->name, &o, err))) goto out;
        if (t->versioned && (rc = versioned_shape(t, o, err))) goto out;
        json_object_del(o, "character_set_client");
        json_object_del(o, "collation_connection");
        json_object_set_new(o, "engine", json_string(t->engine));
        json_object_set(o, "columns", t->columns);
        json_object_set(o, "order_by", t->order_by);
        if (json_array_size(t->text_columns)) json_object_set(o, "text_columns", t->text_columns);
        if (json_array_size(t->generated)) json_object_set(o, "generated_columns", t->generated);
        if (json_object_update(o, t->shape)) {
            rc = err_set(err, ERR_NOMEM, "out of memory");
            goto out;
        }
        json_array_append_new(tables, o);
        o = NULL;
    }

    {
        json_t *vs = json_array(), *ordered;
        for (size_t i = 0; i < json_array_size(views); i++) {
            if ((rc = dump_show_create(m, "VIEW", json_string_value(json_array_get(views, i)), &o,
                                  err))) {
                json_decref(vs);
                goto out;
            }
            json_array_append_new(vs, o);
            o = NULL;
        }
        ordered = order_views(vs);
        json_decref(vs);
        json_object_set_new(schema, "views", ordered);
    }

    buf_reset(&sql);
    if ((rc = buf_append_str(&sql, "SELECT NULL, TRIGGER_NAME, EVENT_OBJECT_TABLE FROM "
                                   "information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ", err)) ||
        (rc = lit(m, &sql, db, err)) ||
        (rc = buf_append_str(&sql, " ORDER BY EVENT_OBJECT_TABLE, ACTION_ORDER, TRIGGER_NAME", err)))
        goto out;
    if ((rc = read_objects(m, (char *)sql.data, "TRIGGER", json_object_get(schema, "triggers"),
                           err)))
        goto out;

    buf_reset(&sql);
    if ((rc = buf_append_str(&sql, "SELECT ROUTINE_TYPE, ROUTINE_NAME FROM "
                                   "information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ", err)) ||
        (rc = lit(m, &sql, db, err)) ||
        (rc = buf_append_str(&sql, " ORDER BY ROUTINE_TYPE = 'PACKAGE BODY', ROUTINE_TYPE, "
                                   "ROUTINE_NAME", err)))
        goto out;
    if ((rc = read_objects(m, (char *)sql.data, NULL, json_object_get(schema, "routines"), err)))
        goto out;

    buf_reset(&sql);
    if ((rc = buf_append_str(&sql, "SELECT NULL, EVENT_NAME FROM information_schema.EVENTS "
                                   "WHERE EVENT_SCHEMA = ", err)) ||
        (rc = lit(m, &sql, db, err)) || (rc = buf_append_str(&sql, " ORDER BY EVENT_NAME", err)))
        goto out;
    if ((rc = read_objects(m, (char *)sql.data, "EVENT", json_object_get(schema, "events"), err)))
        goto out;

    d->name = strdup(db);
    d->schema = schema;
    d->first = first;
    d->count = c->ntables - first;
    schema = NULL;
    if (!d->name) rc = err_set(err, ERR_NOMEM, "out of memory");
out:
    if (rc) err_wrap(err, "read schema of database %s", db);
    json_decref(o);
    json_decref(views);
    json_decref(seqs);
    json_decref(schema);
    mysql_free_result(res);
    buf_free(&sql);
    return rc;
}

int dump_catalog_read(MYSQL *m, const char *const *databases, DumpCatalog *out, Err *err)
{
    char **names = NULL;
    size_t n = 0;
    int rc;

    memset(out, 0, sizeof *out);
    out->nontx = json_array();
    if ((rc = list_dbs(m, databases, &names, &n, err))) goto out;
    if (n == 0) {
        rc = err_set(err, ERR_NOTFOUND, "no user database on the server to dump");
        goto out;
    }
    out->dbs = calloc(n, sizeof *out->dbs);
    if (!out->dbs) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if ((rc = read_db(m, names[i], out, &out->dbs[i], err))) goto out;
        out->ndbs++;
    }
out:
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    if (rc) dump_catalog_free(out);
    return rc;
}

void dump_catalog_free(DumpCatalog *c)
{
    for (size_t i = 0; i < c->ndbs; i++) {
        free(c->dbs[i].name);
        json_decref(c->dbs[i].schema);
    }
    for (size_t i = 0; i < c->ntables; i++) {
        DumpTable *t = &c->tables[i];
        free(t->db);
        free(t->name);
        free(t->engine);
        json_decref(t->columns);
        json_decref(t->text_columns);
        json_decref(t->generated);
        json_decref(t->shape);
        json_decref(t->order_by);
        json_decref(t->parts);
    }
    free(c->dbs);
    free(c->tables);
    json_decref(c->nontx);
    memset(c, 0, sizeof *c);
}

int dump_grants_read(MYSQL *m, Buf *out, Err *err)
{
    MYSQL_RES *res = NULL, *r2 = NULL;
    MYSQL_ROW row, r;
    Buf sql;
    int rc;

    buf_init(&sql, 1 << 16);
    rc = mdb_query(m, "SELECT User, Host FROM mysql.user WHERE User NOT IN ('', 'mariadb.sys', "
                      "'root', 'mysql.sys', 'mysql.session', 'mysql.infoschema') ORDER BY User, Host",
                   NULL, &res, err);
    if (rc) goto out;
    while ((row = mysql_fetch_row(res))) {
        const char *kinds[2] = {"SHOW CREATE USER ", "SHOW GRANTS FOR "};
        for (int k = 0; k < 2; k++) {
            buf_reset(&sql);
            if ((rc = buf_append_str(&sql, kinds[k], err)) || (rc = lit(m, &sql, row[0], err)) ||
                (rc = buf_append_str(&sql, "@", err)) || (rc = lit(m, &sql, row[1], err)))
                goto out;
            if ((rc = mdb_query(m, (char *)sql.data, NULL, &r2, err))) goto out;
            while ((r = mysql_fetch_row(r2)))
                if (r[0] && ((rc = buf_append_str(out, r[0], err)) ||
                             (rc = buf_append_str(out, ";\n", err))))
                    goto out;
            mysql_free_result(r2);
            r2 = NULL;
        }
    }
out:
    if (rc) err_wrap(err, "read users and grants");
    mysql_free_result(r2);
    mysql_free_result(res);
    buf_free(&sql);
    return rc;
}
