/* cmd_key.c: key list / add / remove / passwd. New passphrases come from
 * TIDEMARK_NEW_PASSWORD_FILE or a prompt, never from argv. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "engine/cli/cli_opts.h"
#include "engine/cli/commands.h"

/* The options of a key command (cli_cmds.c: only `key add` has one). */
static int key_opts(CliCtx *ctx, int argc, char **argv, const char **label, Err *err)
{
    int c;
    while ((c = cli_getopt(ctx, argc, argv)) != -1) {
        if (c == 'l' && label) { *label = optarg; continue; }
        return err_set(err, ERR_INVALID, "bad option (see --help)");
    }
    return 0;
}

typedef struct KeyOut {
    CliCtx *ctx;
    json_t *arr;
} KeyOut;

static int print_key(void *vctx, const char *id, const json_t *info, bool current, Err *err)
{
    KeyOut *ko = vctx;
    (void)err;
    if (ko->ctx->json) {
        json_t *o = json_deep_copy(info);
        json_object_set_new(o, "id", json_string(id));
        json_object_set_new(o, "current", json_boolean(current));
        json_array_append_new(ko->arr, o);
    } else {
        printf("%c %.12s  %-20s  %-16s  %s\n", current ? '*' : ' ', id,
               json_string_value(json_object_get(info, "created")) ? json_string_value(json_object_get(info, "created")) : "-",
               json_string_value(json_object_get(info, "host")) ? json_string_value(json_object_get(info, "host")) : "-",
               json_string_value(json_object_get(info, "label")) ? json_string_value(json_object_get(info, "label")) : "");
    }
    return 0;
}

int cmd_key_list(CliCtx *ctx, int argc, char **argv, Err *err)
{
    Repo *r = NULL;
    KeyOut ko = {ctx, NULL};
    int rc = key_opts(ctx, argc, argv, NULL, err);
    if (rc) return rc;
    if ((rc = cli_repo_open(ctx, &r, err))) return rc;
    ko.arr = json_array();
    rc = repo_key_list(r, print_key, &ko, err);
    if (!rc && ctx->json) { cli_json_print(ko.arr); ko.arr = NULL; }
    json_decref(ko.arr);
    repo_free(r);
    return rc;
}

int cmd_key_add(CliCtx *ctx, int argc, char **argv, Err *err)
{
    Repo *r = NULL;
    char *pw = NULL, id[ID_HEX_LEN + 1];
    size_t len = 0;
    const char *label = NULL;
    int rc = key_opts(ctx, argc, argv, &label, err);
    if (rc) return rc;
    if ((rc = cli_repo_open(ctx, &r, err))) return rc;
    if (!(rc = cli_new_password_read(&pw, &len, err))) rc = repo_key_add(r, pw, len, label, id, err);
    cli_password_free(pw, len);
    if (!rc) {
        if (ctx->json) cli_json_print(json_pack("{s:s}", "id", id));
        else if (!ctx->quiet) printf("added key %.12s\n", id);
    }
    repo_free(r);
    return rc;
}

int cmd_key_remove(CliCtx *ctx, int argc, char **argv, Err *err)
{
    Repo *r = NULL;
    int rc = key_opts(ctx, argc, argv, NULL, err);
    if (rc) return rc;
    if (optind + 1 != argc) return err_set(err, ERR_INVALID, "key remove takes one key id (see 'tidemark key list')");
    if ((rc = cli_repo_open(ctx, &r, err))) return rc;
    rc = repo_key_remove(r, argv[optind], err);
    if (!rc && !ctx->quiet && !ctx->json) printf("removed key %s\n", argv[optind]);
    if (!rc && ctx->json) cli_json_print(json_pack("{s:s}", "removed", argv[optind]));
    repo_free(r);
    return rc;
}

int cmd_key_passwd(CliCtx *ctx, int argc, char **argv, Err *err)
{
    Repo *r = NULL;
    char *pw = NULL, id[ID_HEX_LEN + 1];
    size_t len = 0;
    int rc = key_opts(ctx, argc, argv, NULL, err);
    if (rc) return rc;
    if ((rc = cli_repo_open(ctx, &r, err))) return rc;
    if (!(rc = cli_new_password_read(&pw, &len, err))) rc = repo_key_passwd(r, pw, len, id, err);
    cli_password_free(pw, len);
    if (!rc && ctx->json) cli_json_print(json_pack("{s:s}", "id", id));
    else if (!rc && !ctx->quiet) printf("passphrase changed (new key %.12s)\n", id);
    repo_free(r);
    return rc;
}
