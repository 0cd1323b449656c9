/* cmd_instance.c: `instance show`: what the instance's connection and paths
 * are and where each value was read (a config key or conf.php:LINE),
 * secrets masked. Printing only: the rules are inst_sources'. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/cli/cli_opts.h"
#include "engine/cli/commands.h"
#include "engine/instance/inst.h"

int cmd_instance_show(CliCtx *ctx, int argc, char **argv, Err *err)
{
    const char *inst_opt = NULL;
    InstSource *s = NULL;
    Inst *in = NULL;
    size_t n = 0;
    int c, rc;

    while ((c = cli_getopt(ctx, argc, argv)) != -1) return err_set(err, ERR_INVALID, "bad arguments");
    if (optind < argc) return err_set(err, ERR_INVALID, "unexpected argument %s", argv[optind]);
    if ((rc = cli_inst_open(ctx, inst_opt, &in, err))) return rc;
    if ((rc = inst_sources(in, &s, &n, err))) goto out;
    if (ctx->json) {
        json_t *j = json_object(), *set = json_object();
        json_object_set_new(j, "instance", json_string(inst_name(in)));
        for (size_t i = 0; i < n; i++) {
            json_t *o = json_object();
            json_object_set_new(o, "value", s[i].value[0] ? json_string(s[i].value) : json_null());
            json_object_set_new(o, "source", s[i].from[0] ? json_string(s[i].from) : json_null());
            json_object_set_new(set, s[i].setting, o);
        }
        json_object_set_new(j, "settings", set);
        cli_json_print(j);
    } else {
        printf("instance %s\n", inst_name(in));
        for (size_t i = 0; i < n; i++)
            printf("  %-18s %-40s %s\n", s[i].setting, s[i].value[0] ? s[i].value : "-",
                   s[i].from[0] ? s[i].from : "");
    }
out:
    free(s);
    inst_free(in);
    return rc;
}
