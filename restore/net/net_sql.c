/* net_sql.c: a tokenizer just good enough to classify a binlogged
 * statement and list the names it qualifies objects with (rst_net.h).
 * String literals and comments are skipped; MariaDB's executable comments
 * (slash-star-bang, slash-star-M-bang) count as code. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "restore/net/rst_net.h"

typedef enum { TK_END, TK_WORD, TK_QUOTED, TK_CHAR } TokType;

typedef struct Tok {
    TokType type;
    const char *p;     /* the word, or the quoted content (still doubled) */
    size_t n;
    char quote;        /* ` or " for TK_QUOTED */
} Tok;

typedef struct Lex {
    const char *q;
    size_t n, i;
} Lex;

static bool word_char(unsigned char c) { return isalnum(c) || c == '_' || c == '$' || c >= 0x80; }

static void skip_blank(Lex *x)
{
    for (;;) {
        const char *q = x->q;
        size_t i = x->i, n = x->n;
        if (i >= n) return;   /* the '#' test below reads q[i] */
        if (isspace((unsigned char)q[i])) {
            x->i++;
        } else if (i + 1 < n && q[i] == '*' && q[i + 1] == '/') {
            x->i += 2;   /* the end of an executable comment */
        } else if (i + 2 < n && q[i] == '/' && q[i + 1] == '*' &&
                   (q[i + 2] == '!' || (i + 3 < n && q[i + 2] == 'M' && q[i + 3] == '!'))) {
            x->i += q[i + 2] == '!' ? 3 : 4;   /* code inside, after an optional version */
            while (x->i < n && isdigit((unsigned char)q[x->i])) x->i++;
        } else if (i + 1 < n && q[i] == '/' && q[i + 1] == '*') {
            const char *e = NULL;
            for (size_t k = i + 2; k + 1 < n; k++)
                if (q[k] == '*' && q[k + 1] == '/') { e = q + k; break; }
            x->i = e ? (size_t)(e - q) + 2 : n;
        } else if (q[i] == '#' || (i + 1 < n && q[i] == '-' && q[i + 1] == '-' &&
                                   (i + 2 == n || isspace((unsigned char)q[i + 2])))) {
            while (x->i < n && q[x->i] != '\n') x->i++;
        } else {
            return;
        }
        if (x->i >= n) return;
    }
}

static Tok next_tok(Lex *x)
{
    Tok t = {TK_END, NULL, 0, 0};
    const char *q = x->q;
    skip_blank(x);
    if (x->i >= x->n) return t;
    char c = q[x->i];
    if (c == '\'' || c == '"' || c == '`') {
        size_t s = ++x->i;
        while (x->i < x->n) {
            if (c != '`' && q[x->i] == '\\' && x->i + 1 < x->n) { x->i += 2; continue; }
            if (q[x->i] == c) {
                if (x->i + 1 < x->n && q[x->i + 1] == c) { x->i += 2; continue; }
                break;
            }
            x->i++;
        }
        t.p = q + s;
        t.n = x->i - s;
        if (x->i < x->n) x->i++;
        if (c == '\'') {   /* a string: not a name */
            t.type = TK_CHAR;
            t.p = "'";
            t.n = 1;
            return t;
        }
        t.type = TK_QUOTED;
        t.quote = c;
        return t;
    }
    if (word_char((unsigned char)c)) {
        size_t s = x->i;
        while (x->i < x->n && word_char((unsigned char)q[x->i])) x->i++;
        t.type = TK_WORD;
        t.p = q + s;
        t.n = x->i - s;
        return t;
    }
    t.type = TK_CHAR;
    t.p = q + x->i++;
    t.n = 1;
    return t;
}

static bool is_word(const Tok *t, const char *w)
{
    return t->type == TK_WORD && t->n == strlen(w) && !strncasecmp(t->p, w, t->n);
}

static bool all_digits(const Tok *t)
{
    for (size_t i = 0; i < t->n; i++)
        if (!isdigit((unsigned char)t->p[i])) return false;
    return t->type == TK_WORD;
}

/* Hand a name token to fn, unquoted. */
static int emit(const Tok *t, RstNetSqlNameFn fn, void *ctx)
{
    char name[256];
    size_t k = 0;
    for (size_t i = 0; i < t->n && k + 1 < sizeof name; i++) {
        name[k++] = t->p[i];
        if (t->type == TK_QUOTED && t->p[i] == t->quote && i + 1 < t->n && t->p[i + 1] == t->quote) i++;
    }
    name[k] = 0;
    return fn(ctx, name, k);
}

int rst_net_sql_names(const char *q, size_t ql, RstNetSqlNameFn fn, void *ctx)
{
    Lex x = {q, ql, 0};
    Tok prev = {TK_END, NULL, 0, 0}, t;
    int after_db = 0;   /* 1: after DATABASE/SCHEMA, the next name is a database */
    int rc;
    while ((t = next_tok(&x)).type != TK_END) {
        if (t.type == TK_CHAR && t.p[0] == '.' && (prev.type == TK_QUOTED || (prev.type == TK_WORD && !all_digits(&prev))))
            if ((rc = emit(&prev, fn, ctx))) return rc;
        if (is_word(&t, "DATABASE") || is_word(&t, "SCHEMA")) {
            after_db = 1;
        } else if (after_db && (is_word(&t, "IF") || is_word(&t, "NOT") || is_word(&t, "EXISTS"))) {
            /* CREATE DATABASE IF NOT EXISTS name */
        } else if (after_db) {
            after_db = 0;
            if ((t.type == TK_WORD || t.type == TK_QUOTED) && (rc = emit(&t, fn, ctx))) return rc;
        }
        prev = t;
    }
    return 0;
}

typedef struct HasDb {
    const char *db;
    size_t len;
} HasDb;

static int has_db(void *ctx, const char *name, size_t len)
{
    HasDb *h = ctx;
    return len == h->len && !memcmp(name, h->db, len);
}

bool rst_net_sql_names_db(const char *q, size_t ql, const char *db)
{
    HasDb h = {db, strlen(db)};
    return rst_net_sql_names(q, ql, has_db, &h) != 0;
}

/* A table reference at the lexer: name or db.name. db gets the qualifier
 * (unquoted) or "" when there is none; false when no name is there. */
static bool table_ref(Lex *x, char *db, size_t cap)
{
    Tok a = next_tok(x), dot;
    Lex peek;
    db[0] = 0;
    if (a.type != TK_WORD && a.type != TK_QUOTED) return false;
    peek = *x;
    dot = next_tok(&peek);
    if (dot.type == TK_CHAR && dot.p[0] == '.') {
        size_t k = 0;
        for (size_t i = 0; i < a.n && k + 1 < cap; i++) {
            db[k++] = a.p[i];
            if (a.type == TK_QUOTED && a.p[i] == a.quote && i + 1 < a.n && a.p[i + 1] == a.quote) i++;
        }
        db[k] = 0;
        *x = peek;
        next_tok(x);   /* the table name */
    }
    return true;
}

static void skip_words(Lex *x, const char *const *words)
{
    for (;;) {
        Lex peek = *x;
        Tok t = next_tok(&peek);
        bool hit = false;
        for (const char *const *w = words; *w; w++)
            if (is_word(&t, *w)) hit = true;
        if (!hit) return;
        *x = peek;
    }
}

typedef struct Moves {
    const char *dflt;
    RstNetSqlMoveFn fn;
    void *ctx;
} Moves;

static int pair(const Moves *m, const char *to, const char *from, bool move)
{
    const char *a = to[0] ? to : m->dflt, *b = from[0] ? from : m->dflt;
    if (!a || !b || !a[0] || !b[0] || !strcmp(a, b)) return 0;
    return m->fn(m->ctx, a, b, move);
}

/* Every table read after FROM, JOIN or LIKE (and the comma list after FROM)
 * from the lexer on, as a copy into to_db. */
static int reads(const Moves *m, Lex *x, const char *to_db)
{
    static const char *const alias_words[] = {"AS", NULL};
    char from[256];
    Tok t;
    int rc;
    while ((t = next_tok(x)).type != TK_END) {
        bool list = is_word(&t, "FROM");
        if (!list && !is_word(&t, "JOIN") && !is_word(&t, "LIKE")) continue;
        for (;;) {
            Lex peek = *x;
            Tok n = next_tok(&peek);
            if (is_word(&n, "DUAL") || !table_ref(x, from, sizeof from)) break;
            if ((rc = pair(m, to_db, from, false))) return rc;
            if (!list) break;
            skip_words(x, alias_words);
            peek = *x;
            n = next_tok(&peek);
            if (n.type == TK_WORD && !is_word(&n, "WHERE") && !is_word(&n, "GROUP") && !is_word(&n, "ORDER") &&
                !is_word(&n, "LIMIT") && !is_word(&n, "HAVING") && !is_word(&n, "JOIN") && !is_word(&n, "UNION") &&
                !is_word(&n, "LEFT") && !is_word(&n, "RIGHT") && !is_word(&n, "INNER") && !is_word(&n, "CROSS") &&
                !is_word(&n, "NATURAL") && !is_word(&n, "STRAIGHT_JOIN") && !is_word(&n, "WINDOW") &&
                !is_word(&n, "FOR") && !is_word(&n, "LOCK") && !is_word(&n, "INTO") && !is_word(&n, "USE") &&
                !is_word(&n, "FORCE") && !is_word(&n, "IGNORE") && !is_word(&n, "PARTITION")) {
                *x = peek;   /* an alias without AS */
                n = next_tok(&peek);
            }
            if (!(n.type == TK_CHAR && n.p[0] == ',')) break;
            next_tok(x);
        }
    }
    return 0;
}

int rst_net_sql_moves(const char *q, size_t ql, const char *dflt, RstNetSqlMoveFn fn, void *ctx)
{
    static const char *const if_exists[] = {"IF", "NOT", "EXISTS", NULL};
    static const char *const alter_mods[] = {"ONLINE", "IGNORE", NULL};
    static const char *const insert_mods[] = {"LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY", "IGNORE", "INTO", NULL};
    Moves m = {dflt, fn, ctx};
    Lex x = {q, ql, 0};
    Tok a = next_tok(&x), t;
    char to[256], from[256];
    int rc;
    if (is_word(&a, "RENAME")) {
        t = next_tok(&x);
        if (!is_word(&t, "TABLE") && !is_word(&t, "TABLES")) return 0;
        skip_words(&x, if_exists);
        for (;;) {
            if (!table_ref(&x, from, sizeof from)) return 0;
            while ((t = next_tok(&x)).type != TK_END && !is_word(&t, "TO")) {}
            if (!table_ref(&x, to, sizeof to)) return 0;
            if ((rc = pair(&m, to, from, true))) return rc;
            t = next_tok(&x);
            if (!(t.type == TK_CHAR && t.p[0] == ',')) return 0;
        }
    }
    if (is_word(&a, "ALTER")) {
        skip_words(&x, alter_mods);
        t = next_tok(&x);
        if (!is_word(&t, "TABLE")) return 0;
        skip_words(&x, if_exists);
        if (!table_ref(&x, from, sizeof from)) return 0;
        while ((t = next_tok(&x)).type != TK_END) {
            Lex peek = x;
            Tok n;
            if (!is_word(&t, "RENAME")) continue;
            n = next_tok(&peek);
            if (is_word(&n, "COLUMN") || is_word(&n, "INDEX") || is_word(&n, "KEY") || is_word(&n, "CONSTRAINT"))
                continue;
            if (is_word(&n, "TO") || is_word(&n, "AS") || (n.type == TK_CHAR && n.p[0] == '=')) x = peek;
            if (table_ref(&x, to, sizeof to) && (rc = pair(&m, to, from, true))) return rc;
        }
        return 0;
    }
    if (is_word(&a, "CREATE")) {
        t = next_tok(&x);
        if (is_word(&t, "OR")) {
            next_tok(&x);
            t = next_tok(&x);
        }
        if (!is_word(&t, "TABLE")) return 0;   /* not TEMPORARY: the session's own */
        skip_words(&x, if_exists);
        if (!table_ref(&x, to, sizeof to)) return 0;
        return reads(&m, &x, to);
    }
    if (is_word(&a, "INSERT") || is_word(&a, "REPLACE")) {
        skip_words(&x, insert_mods);
        if (!table_ref(&x, to, sizeof to)) return 0;
        return reads(&m, &x, to);
    }
    return 0;
}

/* The rest of the statement from the lexer's position: the XA id, blanks
 * outside quotes removed, " ONE PHASE" cut (*one_phase says so). */
static void xa_id(Lex *x, char *out, size_t cap, bool *one_phase)
{
    size_t k = 0, end = x->n;
    char quote = 0;
    *one_phase = false;
    while (end > x->i && (isspace((unsigned char)x->q[end - 1]) || x->q[end - 1] == ';' || x->q[end - 1] == 0)) end--;
    if (end - x->i >= 9 && !strncasecmp(x->q + end - 9, "ONE PHASE", 9)) {
        *one_phase = true;
        end -= 9;
    }
    for (size_t i = x->i; i < end && k + 1 < cap; i++) {
        char c = x->q[i];
        if (quote) {
            if (c == quote) quote = 0;
        } else if (c == '\'' || c == '"') {
            quote = c;
        } else if (isspace((unsigned char)c)) {
            continue;
        }
        out[k++] = c;
    }
    out[k] = 0;
}

RstNetSqlKind rst_net_sql_kind(const char *q, size_t ql, char *xid, size_t xcap)
{
    Lex x = {q, ql, 0};
    Tok a = next_tok(&x), b;
    size_t after_a = x.i;
    if (xid && xcap) xid[0] = 0;
    if (is_word(&a, "BEGIN") || is_word(&a, "COMMIT") || is_word(&a, "ROLLBACK") || is_word(&a, "SAVEPOINT") ||
        is_word(&a, "RELEASE"))
        return RST_NET_SQL_TXN;
    if (is_word(&a, "GRANT") || is_word(&a, "REVOKE")) return RST_NET_SQL_ACCOUNT;
    b = next_tok(&x);
    if (is_word(&a, "XA")) {
        bool one = false;
        char tmp[RST_NET_SQL_XID_MAX];
        Lex rest = x;
        xa_id(&rest, tmp, sizeof tmp, &one);
        if (xid && xcap) snprintf(xid, xcap, "%s", tmp);
        if (is_word(&b, "START") || is_word(&b, "BEGIN")) return RST_NET_SQL_XA_START;
        if (is_word(&b, "END")) return RST_NET_SQL_XA_END;
        if (is_word(&b, "PREPARE")) return RST_NET_SQL_XA_PREPARE;
        if (is_word(&b, "COMMIT")) return one ? RST_NET_SQL_XA_COMMIT_1PC : RST_NET_SQL_XA_COMMIT;
        if (is_word(&b, "ROLLBACK")) return RST_NET_SQL_XA_ROLLBACK;
        return RST_NET_SQL_OTHER;
    }
    if (is_word(&a, "SET") && (is_word(&b, "PASSWORD") || is_word(&b, "DEFAULT"))) return RST_NET_SQL_ACCOUNT;
    if (is_word(&a, "CREATE") || is_word(&a, "DROP") || is_word(&a, "ALTER") || is_word(&a, "RENAME")) {
        if (is_word(&b, "OR")) {   /* CREATE OR REPLACE USER */
            next_tok(&x);
            b = next_tok(&x);
        }
        if (is_word(&b, "USER") || is_word(&b, "ROLE")) return RST_NET_SQL_ACCOUNT;
        if (is_word(&b, "TEMPORARY") && (is_word(&a, "CREATE") || is_word(&a, "DROP"))) return RST_NET_SQL_TEMP_TABLE;
    }
    (void)after_a;
    return RST_NET_SQL_OTHER;
}

void rst_net_sql_snippet(const char *q, size_t ql, char *out, size_t cap)
{
    size_t k = 0;
    while (ql && isspace((unsigned char)*q)) q++, ql--;
    for (size_t i = 0; i < ql && i < 80 && k + 1 < cap; i++) {
        if ((ql - i >= 10 && !strncasecmp(q + i, "IDENTIFIED", 10)) ||
            (ql - i >= 8 && !strncasecmp(q + i, "PASSWORD", 8))) {
            snprintf(out + k, cap - k, "...");
            return;
        }
        unsigned char ch = (unsigned char)q[i];
        out[k++] = ch < 32 || ch > 126 ? ' ' : (char)ch;
    }
    out[k] = 0;
}

bool rst_net_sql_load_query_text(const unsigned char *ev, size_t end, const char **db, size_t *dblen,
                                 const char **q, size_t *qlen)
{
    size_t p = 19, status_len, dl;
    if (end < p + 26) return false;
    dl = ev[p + 8];
    status_len = (size_t)ev[p + 11] | (size_t)ev[p + 12] << 8;
    p += 26 + status_len;
    if (p + dl + 1 > end) return false;
    *db = (const char *)ev + p;
    *dblen = dl;
    p += dl + 1;
    *q = (const char *)ev + p;
    *qlen = end - p;
    return true;
}
