/* inst_dolconf_scan.c: a PHP file's variable assignments, found without
 * running it: a lexer that knows PHP's open and close tags, comments,
 * strings (single, double, backtick, heredoc) and bracket depth, and a
 * decoder for the literal values Dolibarr writes (quoted strings, integers).
 * Invariant: an assignment is called a literal only when PHP would give the
 * variable exactly the decoded bytes whenever the file is included (an
 * unconditional top-level `$v = LITERAL;`); anything else is reported as
 * not a literal, never guessed. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/common/buf.h"
#include "engine/instance/inst_int.h"

typedef struct Lex {
    const char *s;
    size_t n, i;
    unsigned line;
} Lex;

static bool is_ident_start(unsigned char c)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

static bool is_ident(unsigned char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }

static bool at(const Lex *l, const char *w)
{
    size_t k = strlen(w);
    return l->i + k <= l->n && memcmp(l->s + l->i, w, k) == 0;
}

static void step(Lex *l)
{
    if (l->s[l->i] == '\n') l->line++;
    l->i++;
}

/* Whitespace and comments; a `//` or `#` comment ends at a newline or just
 * before `?>`, as in PHP. */
static void skip_blank(Lex *l)
{
    while (l->i < l->n) {
        unsigned char c = (unsigned char)l->s[l->i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
            step(l);
        } else if (at(l, "//") || (c == '#' && !at(l, "#["))) {
            while (l->i < l->n && l->s[l->i] != '\n' && !at(l, "?>")) step(l);
        } else if (at(l, "/*")) {
            l->i += 2;
            while (l->i < l->n && !at(l, "*/")) step(l);
            l->i = l->i + 2 <= l->n ? l->i + 2 : l->n;
        } else {
            return;
        }
    }
}

/* A quoted string starting at l->i (its quote); l->i ends after the closing
 * quote. Returns whether it is a plain string: closed, and (double-quoted)
 * without interpolation ($name, {$); backticks run a command. */
static bool skip_quoted(Lex *l)
{
    char q = l->s[l->i];
    bool interp = false;
    step(l);
    while (l->i < l->n && l->s[l->i] != q) {
        if (l->s[l->i] == '\\' && l->i + 1 < l->n) {
            step(l);
        } else if (q != '\'' && l->s[l->i] == '$' && l->i + 1 < l->n &&
                   (is_ident_start((unsigned char)l->s[l->i + 1]) || l->s[l->i + 1] == '{')) {
            interp = true;
        } else if (q != '\'' && l->s[l->i] == '{' && l->i + 1 < l->n && l->s[l->i + 1] == '$') {
            interp = true;
        }
        step(l);
    }
    if (l->i >= l->n) return false;   /* unterminated: PHP refuses the file */
    l->i++;
    return !interp && q != '`';
}

/* <<<ID, <<<"ID" or <<<'ID' up to a line holding (after blanks) ID. */
static void skip_heredoc(Lex *l)
{
    char id[128];
    size_t k = 0;
    l->i += 3;
    while (l->i < l->n && (l->s[l->i] == ' ' || l->s[l->i] == '\t')) l->i++;
    if (l->i < l->n && (l->s[l->i] == '"' || l->s[l->i] == '\'')) l->i++;
    while (l->i < l->n && is_ident((unsigned char)l->s[l->i]) && k < sizeof id - 1) id[k++] = l->s[l->i++];
    id[k] = '\0';
    while (l->i < l->n) {
        if (l->s[l->i] == '\n') {
            step(l);
            while (l->i < l->n && (l->s[l->i] == ' ' || l->s[l->i] == '\t')) l->i++;
            if (k && at(l, id) && (l->i + k >= l->n || !is_ident((unsigned char)l->s[l->i + k]))) {
                l->i += k;
                return;
            }
        } else {
            step(l);
        }
    }
}

/* The literal token at l->i, if there is one: a quoted string without
 * interpolation or a decimal integer (optionally signed), or true, false,
 * null. l->i moves past it either way. */
static bool lex_literal(Lex *l, char *quote)
{
    size_t st = l->i;
    unsigned char c = (unsigned char)l->s[l->i];
    *quote = 0;
    if (c == '\'' || c == '"') {
        *quote = (char)c;
        return skip_quoted(l);
    }
    if (c == '-' || c == '+') l->i++;
    if (l->i < l->n && l->s[l->i] >= '0' && l->s[l->i] <= '9') {
        bool lead0 = l->s[l->i] == '0';
        size_t d = l->i;
        while (l->i < l->n && l->s[l->i] >= '0' && l->s[l->i] <= '9') l->i++;
        /* 0123 is octal, 1.5 and 1e3 are floats, 0x.. hex: not written by Dolibarr */
        if ((lead0 && l->i - d > 1) || l->i - d > 18) return false;   /* past 18 digits: a float */
        return l->i >= l->n || !(is_ident((unsigned char)l->s[l->i]) || l->s[l->i] == '.');
    }
    l->i = st;
    if (is_ident_start(c)) {
        while (l->i < l->n && is_ident((unsigned char)l->s[l->i])) l->i++;
        size_t k = l->i - st;
        if ((k == 4 && strncasecmp(l->s + st, "true", 4) == 0) ||
            (k == 5 && strncasecmp(l->s + st, "false", 5) == 0) ||
            (k == 4 && strncasecmp(l->s + st, "null", 4) == 0))
            return l->i >= l->n || (l->s[l->i] != '(' && l->s[l->i] != ':' && l->s[l->i] != '\\');
    }
    return false;
}

/* The rest of an expression up to its `;` or `?>` at depth 0; l->i stops on
 * the terminator. */
static void skip_expr(Lex *l)
{
    int depth = 0;
    while (l->i < l->n) {
        skip_blank(l);
        if (l->i >= l->n) return;
        char c = l->s[l->i];
        if (depth <= 0 && (c == ';' || at(l, "?>"))) return;
        if (c == '\'' || c == '"' || c == '`') {
            skip_quoted(l);
        } else if (at(l, "<<<")) {
            skip_heredoc(l);
        } else {
            if (c == '(' || c == '[' || c == '{') depth++;
            if (c == ')' || c == ']' || c == '}') depth--;
            step(l);
        }
    }
}

static const char *const assign_ops[] = {"?\?=", "**=", "<<=", ">>=", ".=", "+=", "-=", "*=",
                                         "/=",  "%=",  "|=",  "&=",  "^=", NULL};

/* At a variable's end: the assignment operator's length (0: not one). */
static size_t assign_op(const Lex *l, bool *simple)
{
    *simple = false;
    if (l->i < l->n && l->s[l->i] == '=') {
        if (l->i + 1 < l->n && (l->s[l->i + 1] == '=' || l->s[l->i + 1] == '>')) return 0;
        *simple = true;
        return 1;
    }
    for (size_t k = 0; assign_ops[k]; k++)
        if (at(l, assign_ops[k])) return strlen(assign_ops[k]);
    return 0;
}

/* One `$name` at l->i (on the '$'): report an assignment to it. */
static int on_variable(Lex *l, bool stmt_start, int depth, InstDolAssignFn fn, void *ctx, Err *err)
{
    InstDolAssign a;
    size_t st = l->i, k;
    bool simple;

    memset(&a, 0, sizeof a);
    a.line = l->line;
    a.var_off = st;
    l->i++;
    while (l->i < l->n && is_ident((unsigned char)l->s[l->i])) l->i++;
    k = l->i - st - 1;
    if (k == 0 || k >= sizeof a.var) return 0;
    memcpy(a.var, l->s + st + 1, k);
    skip_blank(l);
    if (l->i < l->n && l->s[l->i] == '[') {
        /* $v[...] = ...: an element, so not the variable's literal */
        skip_expr(l);
        return fn(ctx, &a, err);
    }
    size_t op = assign_op(l, &simple);
    if (op == 0) return 0;   /* a read */
    l->i += op;
    skip_blank(l);
    a.val_off = l->i;
    char q = 0;
    bool lit = l->i < l->n && lex_literal(l, &q);
    a.val_len = l->i - a.val_off;
    a.quote = q;
    skip_blank(l);
    /* PHP needs the ';' (or a closing tag) */
    bool ends = l->i < l->n && (l->s[l->i] == ';' || at(l, "?>"));
    a.is_literal = lit && ends && simple && stmt_start && depth == 0;
    if (!ends && l->i < l->n) {
        skip_expr(l);
        a.val_len = l->i - a.val_off;
        while (a.val_len && strchr(" \t\r\n", l->s[a.val_off + a.val_len - 1])) a.val_len--;
    }
    return fn(ctx, &a, err);
}

int inst_dol_scan(const char *s, size_t n, InstDolAssignFn fn, void *ctx, Err *err)
{
    Lex l = {.s = s, .n = n, .i = 0, .line = 1};
    bool php = false, stmt_start = true;
    int depth = 0, rc;

    while (l.i < l.n) {
        if (!php) {
            if (at(&l, "<?php") || at(&l, "<?=") || at(&l, "<?")) {
                l.i += at(&l, "<?php") ? 5 : at(&l, "<?=") ? 3 : 2;
                php = true;
                stmt_start = true;
            } else {
                step(&l);
            }
            continue;
        }
        skip_blank(&l);
        if (l.i >= l.n) break;
        char c = l.s[l.i];
        if (at(&l, "?>")) {
            l.i += 2;
            php = false;
        } else if (c == '$' && l.i + 1 < l.n && is_ident_start((unsigned char)l.s[l.i + 1])) {
            if ((rc = on_variable(&l, stmt_start, depth, fn, ctx, err))) return rc;
            stmt_start = false;
        } else if (c == '\'' || c == '"' || c == '`') {
            skip_quoted(&l);
            stmt_start = false;
        } else if (at(&l, "<<<")) {
            skip_heredoc(&l);
            stmt_start = false;
        } else if (c == ';') {
            step(&l);
            stmt_start = true;
        } else if (c == '{' || c == '(' || c == '[') {
            step(&l);
            depth++;
            stmt_start = c == '{';
        } else if (c == '}' || c == ')' || c == ']') {
            step(&l);
            if (depth > 0) depth--;
            stmt_start = c == '}';
        } else if (is_ident_start((unsigned char)c)) {
            size_t st = l.i;
            while (l.i < l.n && is_ident((unsigned char)l.s[l.i])) l.i++;
            /* an include may assign anything: say so (var "" and the line) */
            size_t k = l.i - st;
            if ((k >= 7 && (strncasecmp(s + st, "include", 7) == 0 || strncasecmp(s + st, "require", 7) == 0)) &&
                (k == 7 || (k == 12 && strncasecmp(s + st + 7, "_once", 5) == 0))) {
                InstDolAssign a = {.line = l.line, .var_off = st, .val_off = st, .val_len = k};
                if ((rc = fn(ctx, &a, err))) return rc;
            }
            stmt_start = false;
        } else {
            step(&l);
            stmt_start = false;
        }
    }
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* \u{XXXX} as UTF-8. */
static int put_utf8(Buf *b, unsigned long cp, Err *err)
{
    unsigned char u[4];
    size_t k;
    if (cp < 0x80) { u[0] = (unsigned char)cp; k = 1; }
    else if (cp < 0x800) { u[0] = (unsigned char)(0xC0 | cp >> 6); u[1] = (unsigned char)(0x80 | (cp & 0x3F)); k = 2; }
    else if (cp < 0x10000) {
        u[0] = (unsigned char)(0xE0 | cp >> 12); u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (unsigned char)(0x80 | (cp & 0x3F)); k = 3;
    } else if (cp < 0x110000) {
        u[0] = (unsigned char)(0xF0 | cp >> 18); u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F)); u[3] = (unsigned char)(0x80 | (cp & 0x3F)); k = 4;
    } else {
        return err_set(err, ERR_UNSUPPORTED, "\\u{%lx} is past unicode", cp);
    }
    return buf_append(b, u, k, err);
}

/* A double-quoted string's escapes, as PHP reads them. */
static int decode_double(const char *s, size_t n, Buf *b, Err *err)
{
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        char c = s[i], o;
        if (c != '\\' || i + 1 >= n) { rc = buf_append(b, &c, 1, err); continue; }
        char e = s[++i];
        switch (e) {
        case 'n': o = '\n'; break;
        case 't': o = '\t'; break;
        case 'r': o = '\r'; break;
        case 'v': o = '\v'; break;
        case 'e': o = 0x1b; break;
        case 'f': o = '\f'; break;
        case '\\': case '$': case '"': o = e; break;
        case 'x':
            if (i + 1 < n && hexval(s[i + 1]) >= 0) {
                int v = hexval(s[++i]);
                if (i + 1 < n && hexval(s[i + 1]) >= 0) v = v * 16 + hexval(s[++i]);
                o = (char)v;
                break;
            }
            rc = buf_append(b, "\\x", 2, err);
            continue;
        case 'u':
            if (i + 1 < n && s[i + 1] == '{') {
                size_t j = i + 2;
                unsigned long cp = 0;
                while (j < n && hexval(s[j]) >= 0 && cp < 0x110000) cp = cp * 16 + (unsigned)hexval(s[j++]);
                if (j < n && s[j] == '}' && j > i + 2) {
                    i = j;
                    rc = put_utf8(b, cp, err);
                    continue;
                }
                return err_set(err, ERR_UNSUPPORTED, "bad \\u{} escape");
            }
            rc = buf_append(b, "\\u", 2, err);
            continue;
        default:
            if (e >= '0' && e <= '7') {
                int v = e - '0';
                for (int k = 0; k < 2 && i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '7'; k++)
                    v = v * 8 + (s[++i] - '0');
                o = (char)(v & 0xFF);
                break;
            }
            rc = buf_append(b, "\\", 1, err);
            if (!rc) rc = buf_append(b, &e, 1, err);
            continue;
        }
        rc = buf_append(b, &o, 1, err);
    }
    return rc;
}

int inst_dol_literal_decode(const char *s, size_t n, char quote, char **out, size_t *out_len, Err *err)
{
    Buf b;
    int rc = 0;
    buf_init(&b, 1u << 20);
    *out = NULL;
    if (quote == '\'') {
        for (size_t i = 1; i + 1 < n && !rc; i++) {
            if (s[i] == '\\' && i + 2 < n && (s[i + 1] == '\\' || s[i + 1] == '\'')) i++;
            rc = buf_append(&b, s + i, 1, err);
        }
    } else if (quote == '"') {
        rc = decode_double(s + 1, n >= 2 ? n - 2 : 0, &b, err);
    } else if ((n == 4 && strncasecmp(s, "true", 4) == 0)) {
        rc = buf_append(&b, "1", 1, err);
    } else if ((n == 5 && strncasecmp(s, "false", 5) == 0) || (n == 4 && strncasecmp(s, "null", 4) == 0)) {
        rc = 0;
    } else {
        /* an integer: PHP prints it without '+' (and -0 as 0) */
        size_t i = s[0] == '+' || s[0] == '-' ? 1 : 0;
        bool neg = s[0] == '-' && !(n == 2 && s[1] == '0');
        if (neg) rc = buf_append(&b, "-", 1, err);
        if (!rc) rc = buf_append(&b, s + i, n - i, err);
    }
    if (!rc) rc = buf_append(&b, "", 1, err);
    if (rc) {
        buf_free(&b);
        return rc;
    }
    *out = (char *)b.data;
    if (out_len) *out_len = b.len - 1;
    return 0;
}
