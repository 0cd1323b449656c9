/* db_export.c: a snapshot's databases as plain SQL for the stock `mariadb`
 * client: the escape hatch (no lock-in). Rows come from the same tsv1
 * streams, decoded and re-escaped as string literals on a binary
 * connection (SET NAMES binary), so every byte reaches its column as it
 * was. Invariant: loading the output gives the content the snapshot's
 * hashes describe. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "restore/db/db_int.h"

#define INSERT_BATCH (1u << 20)

typedef struct Ex {
    FILE *out;
    Buf head;                /* "INSERT INTO `t` (`a`,`b`) VALUES " */
    Buf line;                /* carry-over of a partial line */
    Buf stmt;                /* the INSERT being built */
    unsigned nf;
    char **fields;
    size_t *lens;
    bool *nulls;
    bool *text;              /* column i is in the schema's text_columns */
    bool *idx;               /* column i is an ENUM/SET dumped as its number */
    uint64_t rows;
} Ex;

static int out_write(FILE *f, const void *p, size_t n, Err *err)
{
    if (n && fwrite(p, 1, n, f) != n) return err_sys(err, errno, "write SQL output");
    return 0;
}

static int out_str(FILE *f, const char *s, Err *err)
{
    return out_write(f, s, strlen(s), err);
}

static int flush_stmt(Ex *x, Err *err)
{
    if (x->stmt.len == 0) return 0;
    if (buf_append_str(&x->stmt, ";\n", err)) return err->code;
    if (out_write(x->out, x->stmt.data, x->stmt.len, err)) return err->code;
    buf_reset(&x->stmt);
    return 0;
}

static int one_line(Ex *x, char *line, size_t len, Err *err)
{
    if (src_tsv_split(line, len, x->nf, x->fields, x->lens, x->nulls, err)) return err->code;
    if (x->stmt.len == 0) {
        if (buf_append(&x->stmt, x->head.data, x->head.len, err)) return err->code;
    } else if (buf_append_str(&x->stmt, ",", err)) {
        return err->code;
    }
    if (buf_append_str(&x->stmt, "(", err)) return err->code;
    for (unsigned i = 0; i < x->nf; i++) {
        if (i && buf_append_str(&x->stmt, ",", err)) return err->code;
        if (x->nulls[i]) {
            if (buf_append_str(&x->stmt, "NULL", err)) return err->code;
            continue;
        }
        /* a text column's literal carries its charset: under SET NAMES
         * binary, INET6/UUID would take the bytes as their binary form */
        if (x->idx[i]) {
            /* the index as a number literal (0: the ENUM's error value) */
            for (size_t k = 0; k < x->lens[i]; k++)
                if (x->fields[i][k] < '0' || x->fields[i][k] > '9')
                    return err_set(err, ERR_CORRUPT, "ENUM/SET index is not a number");
            if (x->lens[i] == 0 || buf_append(&x->stmt, x->fields[i], x->lens[i], err))
                return err->code ? err->code
                                 : err_set(err, ERR_CORRUPT, "ENUM/SET index is empty");
            continue;
        }
        if (buf_append_str(&x->stmt, x->text[i] ? "_utf8mb4'" : "'", err) ||
            mdb_escape(&x->stmt, x->fields[i], x->lens[i], err) ||
            buf_append_str(&x->stmt, "'", err))
            return err->code;
    }
    if (buf_append_str(&x->stmt, ")", err)) return err->code;
    x->rows++;
    if (x->stmt.len >= INSERT_BATCH) return flush_stmt(x, err);
    return 0;
}

static int on_chunk(void *ctx, const void *data, size_t len, Err *err)
{
    Ex *x = ctx;
    const char *p = data, *e = p + len;

    while (p < e) {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        if (!nl) return buf_append(&x->line, p, (size_t)(e - p), err);
        /* decoding works in place: the line goes through the scratch buffer */
        if (buf_append(&x->line, p, (size_t)(nl - p), err)) return err->code;
        if (one_line(x, (char *)x->line.data, x->line.len, err)) return err->code;
        buf_reset(&x->line);
        p = nl + 1;
    }
    return 0;
}

static int export_rows(Repo *r, FILE *out, const char *table, const json_t *tinfo,
                       const json_t *sinfo, Err *err)
{
    const json_t *cols = json_object_get(sinfo, "columns");
    Ex x;
    size_t i;
    json_t *c, *part;
    int rc = 0;

    memset(&x, 0, sizeof x);
    x.out = out;
    x.nf = (unsigned)json_array_size(cols);
    buf_init(&x.head, 1 << 20);
    buf_init(&x.line, BUF_MAX_DEFAULT);
    buf_init(&x.stmt, BUF_MAX_DEFAULT);
    if (x.nf == 0) {
        /* generated columns only: the rows are rows of defaults */
        json_int_t rows = json_integer_value(json_object_get(tinfo, "rows"));
        for (json_int_t k = 0; k < rows && !rc; k++) {
            if (k % 1000 == 0) {
                rc = k ? out_str(out, ";\n", err) : 0;
                if (!rc) rc = out_str(out, "INSERT INTO ", err);
                if (!rc) {
                    buf_reset(&x.head);
                    rc = mdb_ident_quote(&x.head, table, err);
                }
                if (!rc) rc = out_write(out, x.head.data, x.head.len, err);
                if (!rc) rc = out_str(out, " () VALUES ()", err);
            } else {
                rc = out_str(out, ",()", err);
            }
        }
        if (!rc && rows > 0) rc = out_str(out, ";\n", err);
        goto out;
    }
    x.fields = calloc(x.nf, sizeof *x.fields);
    x.lens = calloc(x.nf, sizeof *x.lens);
    x.nulls = calloc(x.nf, sizeof *x.nulls);
    x.text = calloc(x.nf, sizeof *x.text);
    x.idx = calloc(x.nf, sizeof *x.idx);
    if (!x.fields || !x.lens || !x.nulls || !x.text || !x.idx) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = buf_append_str(&x.head, "INSERT INTO ", err)) ||
        (rc = mdb_ident_quote(&x.head, table, err)) || (rc = buf_append_str(&x.head, " (", err)))
        goto out;
    json_array_foreach(cols, i, c) {
        x.text[i] = db_is_text_column(sinfo, json_string_value(c));
        x.idx[i] = src_dump_shape_has(sinfo, "index_columns", json_string_value(c));
        if ((i && (rc = buf_append_str(&x.head, ",", err))) ||
            (rc = mdb_ident_quote(&x.head, json_string_value(c), err)))
            goto out;
    }
    if ((rc = buf_append_str(&x.head, ") VALUES ", err))) goto out;
    json_array_foreach(json_object_get(tinfo, "parts"), i, part) {
        RepoStreamRef s = {0};
        if ((rc = repo_streamref_from_json(part, &s, err))) goto out;
        rc = repo_stream_read(r, &s, on_chunk, &x, err);
        repo_streamref_free(&s);
        if (rc) goto out;
    }
    if (x.line.len) {
        rc = err_set(err, ERR_CORRUPT, "rows stream ends inside a line");
        goto out;
    }
    rc = flush_stmt(&x, err);
out:
    free(x.fields);
    free(x.lens);
    free(x.nulls);
    free(x.text);
    free(x.idx);
    buf_free(&x.head);
    buf_free(&x.line);
    buf_free(&x.stmt);
    if (rc) err_wrap(err, "export rows of %s", table);
    return rc;
}

/* A schema object in its own session settings; bodies with ';' need the
 * client's DELIMITER. */
static int export_object(FILE *out, const json_t *o, bool delim, Err *err)
{
    const char *mode = json_string_value(json_object_get(o, "sql_mode"));
    const char *csc = json_string_value(json_object_get(o, "character_set_client"));
    const char *coll = json_string_value(json_object_get(o, "collation_connection"));
    const char *tz = json_string_value(json_object_get(o, "time_zone"));
    char *create = db_text(json_object_get(o, "create"), NULL);
    int rc = 0;

    if (!create) return err_set(err, ERR_CORRUPT, "schema object without definition");
    if (mode && fprintf(out, "SET SESSION sql_mode = '%s';\n", mode) < 0) goto io;
    if (csc && coll && fprintf(out, "SET NAMES %s COLLATE %s;\n", csc, coll) < 0) goto io;
    if (tz && fprintf(out, "SET time_zone = '%s';\n", tz) < 0) goto io;
    if (delim) {
        if (fprintf(out, "DELIMITER ;;\n%s;;\nDELIMITER ;\n", create) < 0) goto io;
    } else if (fprintf(out, "%s;\n", create) < 0) {
        goto io;
    }
    if (fprintf(out, "SET NAMES utf8mb4, time_zone = '+00:00', sql_mode = "
                     "'NO_AUTO_VALUE_ON_ZERO';\n") < 0)
        goto io;
    free(create);
    return 0;
io:
    rc = err_sys(err, errno, "write SQL output");
    free(create);
    return rc;
}

int rst_db_export_sql(Repo *r, const json_t *item, const char *target_db, FILE *out, Err *err)
{
    const json_t *dbs = json_object_get(item, "databases");
    size_t ndb = json_array_size(dbs);
    json_t *schema = NULL;
    Buf id;
    int rc = 0;

    buf_init(&id, 1 << 20);
    if (!item || ndb == 0) return err_set(err, ERR_NOTFOUND, "snapshot has no database item");
    if (target_db && ndb != 1)
        return err_set(err, ERR_INVALID, "--target-db needs a snapshot with one database");
    if ((rc = out_str(out, "-- tidemark SQL export (load with: mariadb < this file)\n"
                           "SET NAMES utf8mb4, time_zone = '+00:00', sql_mode = "
                           "'NO_AUTO_VALUE_ON_ZERO', foreign_key_checks = 0, unique_checks = 0, "
                           "check_constraint_checks = 0;\n",
                      err)))
        goto out;
    for (size_t d = 0; d < ndb; d++) {
        const json_t *jd = json_array_get(dbs, d), *jt, *o;
        const char *src = json_string_value(json_object_get(jd, "name"));
        const char *tdb = target_db ? target_db : src;
        char *create = NULL;
        const char *opts = "";
        size_t i;

        if ((rc = db_schema_load(r, json_object_get(jd, "schema"), &schema, err))) goto out;
        create = db_text(json_object_get(schema, "create"), NULL);
        if (create) {
            const char *p = strstr(create, "/*");
            if (!p) p = strstr(create, " DEFAULT");
            if (p) opts = p;
        }
        buf_reset(&id);
        rc = mdb_ident_quote(&id, tdb, err);
        if (!rc && fprintf(out, "\n-- database %s\nCREATE DATABASE %s %s;\nUSE %s;\n",
                           (char *)id.data, (char *)id.data, opts, (char *)id.data) < 0)
            rc = err_sys(err, errno, "write SQL output");
        free(create);
        if (rc) goto out;
        /* sequences before the tables: a DEFAULT NEXTVAL(seq) needs them */
        json_array_foreach(json_object_get(schema, "sequences"), i, o) {
            buf_reset(&id);
            if ((rc = export_object(out, o, false, err)) ||
                (rc = db_sequence_insert_sql(o, NULL, &id, err)))
                goto out;
            if (fprintf(out, "%s;\n", (char *)id.data) < 0) {
                rc = err_sys(err, errno, "write SQL output");
                goto out;
            }
        }
        json_array_foreach(json_object_get(jd, "tables"), i, jt) {
            const char *tn = json_string_value(json_object_get(jt, "name"));
            const json_t *st = db_schema_table(schema, tn);
            char *ct = st ? db_text(json_object_get(st, "create"), NULL) : NULL;
            if (ct && strcmp(src, tdb)) {   /* DEFAULT nextval(`src`.`seq`) */
                char *rt = db_sequence_retarget(ct, src, tdb);
                free(ct);
                ct = rt;
            }
            if (!ct) {
                rc = err_set(err, ERR_CORRUPT, "table %s.%s missing from the schema", src, tn);
                goto out;
            }
            /* a versioned table's history rows carry their own row start
             * and row end (MariaDB 10.11 or later loads them) */
            bool history = json_object_get(st, "history") != NULL;
            if ((rc = db_history_loadable(st, err))) {
                free(ct);
                err_wrap(err, "export table %s.%s", src, tn);
                goto out;
            }
            rc = fprintf(out, "\n%s;\nSET NAMES binary;\n%s", ct,
                         history ? "SET SESSION system_versioning_insert_history = 1;\n" : "") < 0
                     ? err_sys(err, errno, "write SQL output")
                     : 0;
            free(ct);
            if (rc) goto out;
            if ((rc = export_rows(r, out, tn, jt, st, err))) goto out;
            if (history &&
                (rc = out_str(out, "SET SESSION system_versioning_insert_history = 0;\n", err)))
                goto out;
            if ((rc = out_str(out, "SET NAMES utf8mb4;\n", err))) goto out;
        }
        json_array_foreach(json_object_get(schema, "views"), i, o)
            if ((rc = export_object(out, o, false, err))) goto out;
        json_array_foreach(json_object_get(schema, "routines"), i, o)
            if ((rc = export_object(out, o, true, err))) goto out;
        json_array_foreach(json_object_get(schema, "triggers"), i, o)
            if ((rc = export_object(out, o, true, err))) goto out;
        json_array_foreach(json_object_get(schema, "events"), i, o)
            if ((rc = export_object(out, o, true, err))) goto out;
        json_decref(schema);
        schema = NULL;
    }
    if (fflush(out)) rc = err_sys(err, errno, "write SQL output");
out:
    json_decref(schema);
    buf_free(&id);
    return rc;
}
