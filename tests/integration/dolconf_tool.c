/* dolconf_tool.c: the conf.php reader and rewriter from a shell, for
 * dolconf_php.sh (which lets PHP itself read back what was written).
 *   dolconf_tool rewrite IN OUT [db_host=V db_port=V db_name=V db_user=V
 *                               db_pass=V data_root=V document_root=V
 *                               document_root_alt=V url_root=V]...
 *     writes OUT, prints the password's encoding
 *   dolconf_tool password IN   prints the decoded password and its encoding
 * Values are given hex-encoded (any byte) as KEY=HEX. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/common/secret.h"
#include "engine/instance/inst.h"

static char *unhex(const char *h)
{
    size_t n = strlen(h) / 2;
    char *o = calloc(1, n + 1);
    for (size_t i = 0; o && i < n; i++) {
        unsigned v;
        if (sscanf(h + 2 * i, "%2x", &v) != 1) exit(2);
        o[i] = (char)v;
    }
    return o;
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    char *b = malloc(1 << 20);
    if (!f || !b) exit(2);
    *n = fread(b, 1, 1 << 20, f);
    fclose(f);
    return b;
}

int main(int argc, char **argv)
{
    Err err;
    err_clear(&err);
    if (argc == 3 && strcmp(argv[1], "password") == 0) {
        InstDolConf *c = NULL;
        InstDolPassEnc enc;
        InstDolVar var;
        char *p = NULL;
        if (inst_dolconf_read(argv[2], &c, &err) || inst_dolconf_password(c, &p, &enc, &var, &err)) {
            fprintf(stderr, "dolconf_tool: %s\n", err.msg);
            return 1;
        }
        printf("%s %s\n", inst_dol_pass_enc_name(enc), p ? p : "");
        secret_free(p);
        inst_dolconf_free(c);
        return 0;
    }
    if (argc < 4 || strcmp(argv[1], "rewrite") != 0) {
        fprintf(stderr, "usage: dolconf_tool rewrite IN OUT [KEY=HEX]... | password IN\n");
        return 2;
    }
    InstDolConfNew nv;
    memset(&nv, 0, sizeof nv);
    static const struct { const char *key; size_t off; } keys[] = {
        {"db_host", offsetof(InstDolConfNew, db_host)},     {"db_port", offsetof(InstDolConfNew, db_port)},
        {"db_name", offsetof(InstDolConfNew, db_name)},     {"db_user", offsetof(InstDolConfNew, db_user)},
        {"db_pass", offsetof(InstDolConfNew, db_pass)},     {"data_root", offsetof(InstDolConfNew, data_root)},
        {"document_root", offsetof(InstDolConfNew, document_root)},
        {"document_root_alt", offsetof(InstDolConfNew, document_root_alt)},
        {"url_root", offsetof(InstDolConfNew, url_root)},
    };
    char *vals[16] = {0};
    if (argc - 4 > 16) return 2;
    for (int i = 4; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        size_t k;
        if (!eq) return 2;
        for (k = 0; k < sizeof keys / sizeof keys[0]; k++)
            if (strlen(keys[k].key) == (size_t)(eq - argv[i]) && strncmp(argv[i], keys[k].key, (size_t)(eq - argv[i])) == 0)
                break;
        if (k == sizeof keys / sizeof keys[0]) return 2;
        vals[i - 4] = unhex(eq + 1);
        *(const char **)((char *)&nv + keys[k].off) = vals[i - 4];
    }
    size_t n, outn;
    char *in = slurp(argv[2], &n), *out = NULL;
    InstDolPassEnc enc;
    if (inst_dolconf_rewrite(in, n, &nv, &out, &outn, &enc, &err)) {
        fprintf(stderr, "dolconf_tool: %s\n", err.msg);
        free(in);
        for (int i = 0; i < 16; i++) free(vals[i]);
        return err.code == ERR_UNSUPPORTED ? 8 : 1;
    }
    FILE *f = fopen(argv[3], "wb");
    if (!f || fwrite(out, 1, outn, f) != outn || fclose(f)) return 1;
    printf("%s\n", inst_dol_pass_enc_name(enc));
    free(out);
    free(in);
    for (int i = 0; i < 16; i++) free(vals[i]);
    return 0;
}
