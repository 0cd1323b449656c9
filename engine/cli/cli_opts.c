/* cli_opts.c: getopt_long arrays, --help text and completion lists, all
 * made from the CliOpt tables of cli_cmds.c (see cli_opts.h). */
#include "engine/cli/cli_opts.h"

#include <getopt.h>
#include <string.h>

#define MAX_OPTS 64

/* A command's parser view: its rows, then the global rows, then --help. */
typedef struct OptSet {
    const CliOpt *row[MAX_OPTS];
    struct option lo[MAX_OPTS + 1];
    char shorts[MAX_OPTS * 2 + 2];
    size_t n;
} OptSet;

static const CliOpt help_opt = {"help", 'h', NULL, "this help", CLI_OPT_SHORT};

static void set_add(OptSet *s, const CliOpt *o)
{
    size_t k;
    if (s->n >= MAX_OPTS) return;   /* `tidemark __complete check` refuses such a table */
    for (k = 0; k < s->n; k++)
        if (!strcmp(s->row[k]->name, o->name)) return;   /* a command row beats a global one */
    s->row[s->n] = o;
    s->lo[s->n] = (struct option){o->name, o->arg ? required_argument : no_argument, NULL, o->key};
    s->n++;
    if (o->flags & CLI_OPT_SHORT) {
        size_t l = strlen(s->shorts);
        if (strchr(s->shorts, o->key)) return;
        s->shorts[l++] = (char)o->key;
        if (o->arg) s->shorts[l++] = ':';
        s->shorts[l] = '\0';
    }
}

static void set_build(const CliCmd *cmd, OptSet *s)
{
    memset(s, 0, sizeof *s);
    s->shorts[0] = ':';   /* a missing argument returns ':' */
    for (const CliOpt *o = cmd ? cmd->opts : NULL; o && o->name; o++) set_add(s, o);
    for (const CliOpt *o = cli_global_opts; o->name; o++) set_add(s, o);
    set_add(s, &help_opt);
}

static bool is_global(int key)
{
    if (key == 'h') return true;
    for (const CliOpt *o = cli_global_opts; o->name; o++)
        if (o->key == key) return true;
    return false;
}

const CliCmd *cli_cmd_find(int argc, char **argv, int *out_words)
{
    const CliCmd *found = NULL;
    *out_words = 1;
    if (argc < 1) return NULL;
    for (const CliCmd *k = cli_commands; k->name; k++) {
        if (strcmp(k->name, argv[0]) != 0) continue;
        if (k->sub && argc > 1 && strcmp(k->sub, argv[1]) == 0) {
            *out_words = 2;
            return k;
        }
        if (!k->sub && !found) found = k;
    }
    return found;
}

void cli_cmd_label(const CliCmd *cmd, char *out, size_t cap)
{
    snprintf(out, cap, "%s%s%s", cmd->name, cmd->sub ? " " : "", cmd->sub ? cmd->sub : "");
}

static void opt_line(const CliOpt *o, FILE *f)
{
    char left[64];
    const char *h = o->help;
    if (o->flags & CLI_OPT_SHORT)
        snprintf(left, sizeof left, "-%c, --%s%s%s", o->key, o->name, o->arg ? " " : "", o->arg ? o->arg : "");
    else
        snprintf(left, sizeof left, "    --%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
    if (strlen(left) > 22) fprintf(f, "  %s\n  %-24s ", left, "");
    else fprintf(f, "  %-24s ", left);
    for (; *h; h++) {
        fputc(*h, f);
        if (*h == '\n') fprintf(f, "  %-24s ", "");
    }
    fputc('\n', f);
}

void cli_opts_print(const CliOpt *opts, FILE *f)
{
    for (const CliOpt *o = opts; o && o->name; o++) opt_line(o, f);
}

void cli_cmd_help(const CliCmd *cmd, FILE *f)
{
    char label[64];
    cli_cmd_label(cmd, label, sizeof label);
    fprintf(f, "usage: tidemark %s%s%s%s\n", label, cmd->opts ? " [options]" : "", cmd->args ? " " : "",
            cmd->args ? cmd->args : "");
    if (cmd->about) fprintf(f, "%s", cmd->about);
    if (!cmd->sub) {   /* a command that is also a group (backup): its subcommands */
        bool first = true;
        for (const CliCmd *k = cli_commands; k->name; k++)
            if (k->sub && !strcmp(k->name, cmd->name)) {
                fprintf(f, "%s'tidemark %s %s'", first ? "See also: " : ", ", k->name, k->sub);
                first = false;
            }
        if (!first) fprintf(f, ".\n");
    }
    if (cmd->opts) {
        fprintf(f, "\noptions:\n");
        cli_opts_print(cmd->opts, f);
    }
    fprintf(f, "\nglobal options (before or after the command):\n");
    cli_opts_print(cli_global_opts, f);
    opt_line(&help_opt, f);
}

const CliOpt cli_version_opt = {"version", CLI_KEY_VERSION, NULL, "print the version", 0};

/* The global options (and --help, and --version when set has it) of argv:
 * applied to ctx, *config, *repo; *what is 'h' for --help, CLI_KEY_VERSION for
 * --version. On to the end after an error: a --json after it still shapes
 * the error. */
static int scan(OptSet *s, CliCtx *ctx, int argc, char **argv, const char **config, const char **repo,
                int *what, Err *err)
{
    int c, rc = 0;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, s->shorts, s->lo, NULL)) != -1) {
        if (rc && c != CLI_KEY_JSON) continue;
        switch (c) {
        case 'c': *config = optarg; break;   /* the global keys: no command uses them */
        case 'r': *repo = optarg; break;
        case 'i': ctx->instance = optarg; break;
        case 'q': ctx->quiet = true; break;
        case 'v': ctx->verbose = true; break;
        case 'h': if (!*what) *what = 'h'; break;
        case CLI_KEY_JSON: ctx->json = true; break;
        case CLI_KEY_VERSION: if (!*what) *what = CLI_KEY_VERSION; break;
        case ':':
            rc = err_set(err, ERR_INVALID, "option %s needs an argument (see --help)", argv[optind - 1]);
            break;
        case '?':
            if (optopt) rc = err_set(err, ERR_INVALID, "unknown option -%c (see --help)", optopt);
            else rc = err_set(err, ERR_INVALID, "unknown option %s (see --help)", argv[optind - 1]);
            break;
        default: break;   /* the command's own: cli_getopt */
        }
    }
    opterr = 1;
    return rc;
}

int cli_opts_leading(CliCtx *ctx, int argc, char **argv, const char **config, const char **repo, int *what,
                     Err *err)
{
    OptSet s;
    int rc;
    set_build(NULL, &s);
    set_add(&s, &cli_version_opt);
    memmove(s.shorts + 1, s.shorts, strlen(s.shorts) + 1);
    s.shorts[0] = '+';   /* stop at the command word */
    *what = 0;
    rc = scan(&s, ctx, argc, argv, config, repo, what, err);
    if (rc) optind = argc;
    return rc;
}

int cli_opts_prescan(const CliCmd *cmd, CliCtx *ctx, int argc, char **argv, const char **config,
                     const char **repo, bool *help, Err *err)
{
    OptSet s;
    int what = 0, rc;
    set_build(cmd, &s);
    rc = scan(&s, ctx, argc, argv, config, repo, &what, err);
    *help = what == 'h';
    optind = 0;
    return rc;
}

int cli_getopt(CliCtx *ctx, int argc, char **argv)
{
    OptSet s;
    int c;
    set_build(ctx->cmd, &s);
    opterr = 0;
    while ((c = getopt_long(argc, argv, s.shorts, s.lo, NULL)) != -1)
        if (!is_global(c)) break;
    opterr = 1;
    return c;
}

bool cli_opt_given(CliCtx *ctx, int argc, char **argv, const char *const *names)
{
    OptSet s;
    int c, idx;
    bool found = false;
    set_build(ctx->cmd, &s);
    optind = 0;
    opterr = 0;
    while (!found && (idx = -1, c = getopt_long(argc, argv, s.shorts, s.lo, &idx)) != -1) {
        for (size_t k = 0; k < s.n && !found; k++) {
            if (s.row[k]->key != c || (idx >= 0 && (size_t)idx != k)) continue;
            for (const char *const *n = names; *n && !found; n++) found = !strcmp(*n, s.row[k]->name);
        }
    }
    optind = 0;
    opterr = 1;
    return found;
}

int cli_opt_refuse(CliCtx *ctx, int key, const char *why, Err *err)
{
    for (const CliOpt *o = ctx->cmd ? ctx->cmd->opts : NULL; o && o->name; o++)
        if (o->key == key) return err_set(err, ERR_INVALID, "option --%s %s", o->name, why);
    return err_set(err, ERR_INVALID, "bad option (see --help)");
}

static void print_opts(const CliCmd *cmd, FILE *out)
{
    OptSet s;
    set_build(cmd, &s);
    for (size_t k = 0; k < s.n; k++) {
        fprintf(out, "--%s\n", s.row[k]->name);
        if (s.row[k]->flags & CLI_OPT_SHORT) fprintf(out, "-%c\n", s.row[k]->key);
    }
}

static int check_tables(FILE *out)
{
    int bad = 0;
    for (const CliCmd *cmd = cli_commands; cmd->name; cmd++) {
        char label[64];
        size_t n = 0;
        cli_cmd_label(cmd, label, sizeof label);
        if (!cmd->summary || !cmd->about) { fprintf(out, "%s: no summary or about\n", label); bad = 1; }
        for (const CliOpt *o = cmd->opts; o && o->name; o++, n++) {
            if (!o->help || !*o->help) { fprintf(out, "%s --%s: no help\n", label, o->name); bad = 1; }
            if (is_global(o->key)) { fprintf(out, "%s --%s: key of a global option\n", label, o->name); bad = 1; }
            for (const CliOpt *g = cli_global_opts; g->name; g++)
                if (!strcmp(g->name, o->name)) { fprintf(out, "%s --%s: name of a global option\n", label, o->name); bad = 1; }
            for (const CliOpt *p = cmd->opts; p != o; p++) {
                if (!strcmp(p->name, o->name)) { fprintf(out, "%s --%s: twice\n", label, o->name); bad = 1; }
                if (p->key == o->key && p->arg != o->arg && (!p->arg || !o->arg)) {
                    fprintf(out, "%s --%s, --%s: one key, one with an argument and one without\n", label, p->name, o->name);
                    bad = 1;
                }
                if (p->key == o->key && (p->flags & o->flags & CLI_OPT_SHORT)) {
                    fprintf(out, "%s -%c: twice\n", label, o->key);
                    bad = 1;
                }
            }
        }
        if (n + 8 > MAX_OPTS) { fprintf(out, "%s: too many options\n", label); bad = 1; }
    }
    return bad ? 1 : 0;
}

int cli_complete(int argc, char **argv, FILE *out)
{
    int words;
    if (argc < 1) return 2;
    if (!strcmp(argv[0], "commands")) {
        for (const CliCmd *k = cli_commands; k->name; k++) {
            bool seen = false;
            for (const CliCmd *p = cli_commands; p != k; p++) seen |= !strcmp(p->name, k->name);
            if (!seen) fprintf(out, "%s\n", k->name);
        }
        fprintf(out, "help\n");
        return 0;
    }
    if (!strcmp(argv[0], "subcommands") && argc == 2) {
        for (const CliCmd *k = cli_commands; k->name; k++)
            if (k->sub && !strcmp(k->name, argv[1])) fprintf(out, "%s\n", k->sub);
        return 0;
    }
    if (!strcmp(argv[0], "options")) {
        const CliCmd *cmd = cli_cmd_find(argc - 1, argv + 1, &words);
        if (!cmd) {
            print_opts(NULL, out);   /* before the command: the global ones and --version */
            fprintf(out, "--%s\n", cli_version_opt.name);
            return argc == 1 ? 0 : 2;
        }
        print_opts(cmd, out);
        return 0;
    }
    if (!strcmp(argv[0], "check")) return check_tables(out);
    return 2;
}
