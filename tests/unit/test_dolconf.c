/* test_dolconf.c: Dolibarr's conf.php read (values, lines, what is not a
 * literal, the password's four storage forms against vectors made by
 * Dolibarr's own PHP functions) and rewritten for a restored copy (only the
 * values change, every other byte stays). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/common/secret.h"
#include "engine/instance/inst.h"

#define UID "84b5bc91f83b56e458db71e0adac2b62"

static InstDolConf *parse(const char *text)
{
    InstDolConf *c = NULL;
    Err err;
    err_clear(&err);
    assert_int_equal(inst_dolconf_parse(text, strlen(text), "conf.php", &c, &err), 0);
    return c;
}

static void expect_var(const InstDolConf *c, InstDolVar v, const char *want, unsigned line)
{
    const char *got = NULL;
    unsigned l = 0;
    Err err;
    err_clear(&err);
    assert_int_equal(inst_dolconf_get(c, v, &got, &l, &err), 0);
    if (!want) assert_null(got);
    else assert_string_equal(got, want);
    assert_int_equal(l, line);
}

static void expect_password(const char *text, const char *want, InstDolPassEnc enc)
{
    InstDolConf *c = parse(text);
    InstDolPassEnc e;
    InstDolVar var;
    char *p = NULL;
    Err err;
    err_clear(&err);
    assert_int_equal(inst_dolconf_password(c, &p, &e, &var, &err), 0);
    assert_int_equal(e, enc);
    if (want) assert_string_equal(p, want);
    else assert_null(p);
    secret_free(p);
    inst_dolconf_free(c);
}

/* The shape of htdocs/conf/conf.php.example: comments holding examples of the
 * same assignments, commented-out lines, numbers, the instance keys. */
static void test_reads_the_example_shape(void **state)
{
    (void)state;
    const char *t = "<?php\n"
                    "// Examples:\n"
                    "// $dolibarr_main_db_host='localhost';\n"
                    "# $dolibarr_main_db_host='hash';\n"
                    "/* $dolibarr_main_db_host='block'; */\n"
                    "$dolibarr_main_url_root='http://127.0.0.1:8080';\n"
                    "$dolibarr_main_document_root='/var/www/dolibarr/htdocs';\n"
                    "//$dolibarr_main_document_root_alt='/var/www/dolibarr/htdocs/custom';\n"
                    "$dolibarr_main_data_root='/var/lib/dolibarr/documents';\n"
                    "$dolibarr_main_db_host = '127.0.0.1' ;\n"
                    "$dolibarr_main_db_port=3410;\n"
                    "$dolibarr_main_db_name='dolibarr';\n"
                    "$dolibarr_main_db_prefix='llx_';\n"
                    "$dolibarr_main_db_user='dolibarr';\n"
                    "$dolibarr_main_db_pass='dolibarr-pass';\n"
                    "$dolibarr_main_db_type='mysqli';\n"
                    "$dolibarr_main_db_readonly=0;\n"
                    "$dolibarr_main_dolcrypt_key='';\n"
                    "$dolibarr_main_instance_unique_id='" UID "';\n";
    InstDolConf *c = parse(t);
    expect_var(c, INST_DOL_URL_ROOT, "http://127.0.0.1:8080", 6);
    expect_var(c, INST_DOL_DOCUMENT_ROOT, "/var/www/dolibarr/htdocs", 7);
    expect_var(c, INST_DOL_DOCUMENT_ROOT_ALT, NULL, 0);
    expect_var(c, INST_DOL_DATA_ROOT, "/var/lib/dolibarr/documents", 9);
    expect_var(c, INST_DOL_DB_HOST, "127.0.0.1", 10);
    expect_var(c, INST_DOL_DB_PORT, "3410", 11);
    expect_var(c, INST_DOL_DB_PREFIX, "llx_", 13);
    expect_var(c, INST_DOL_DOLCRYPT_KEY, "", 18);
    expect_var(c, INST_DOL_INSTANCE_UNIQUE_ID, UID, 19);
    assert_int_equal(c->include_line, 0);
    inst_dolconf_free(c);
    expect_password(t, "dolibarr-pass", INST_DOL_PASS_PLAIN);
}

static void test_php_string_escapes(void **state)
{
    (void)state;
    InstDolConf *c = parse("<?php\n$dolibarr_main_db_user='it\\'s \\\\ \\n $x';\n"
                           "$dolibarr_main_db_name=\"a\\$b \\\\ \\\"q\\\" \\x41\\101\\u{e9} $ {x} \\q\";\n"
                           "$dolibarr_main_db_host=\"tab\\there\";\n");
    expect_var(c, INST_DOL_DB_USER, "it's \\ \\n $x", 2);
    expect_var(c, INST_DOL_DB_NAME, "a$b \\ \"q\" AA\xc3\xa9 $ {x} \\q", 3);
    expect_var(c, INST_DOL_DB_HOST, "tab\there", 4);
    inst_dolconf_free(c);
}

static void expect_not_literal(const char *text, InstDolVar v, unsigned line)
{
    InstDolConf *c = parse(text);
    const char *got = (const char *)1;
    char want[128];
    Err err;
    err_clear(&err);
    assert_int_equal(inst_dolconf_get(c, v, &got, NULL, &err), ERR_UNSUPPORTED);
    assert_null(got);
    snprintf(want, sizeof want, "conf.php:%u: $%s is not a literal", line, inst_dol_var_name(v));
    assert_non_null(strstr(err.msg, want));
    inst_dolconf_free(c);
}

static void test_expressions_are_not_literals(void **state)
{
    (void)state;
    expect_not_literal("<?php\n$dolibarr_main_data_root=realpath(__DIR__.'/../../documents');\n",
                       INST_DOL_DATA_ROOT, 2);
    expect_not_literal("<?php\n$dolibarr_main_db_host='a'.'b';\n", INST_DOL_DB_HOST, 2);
    expect_not_literal("<?php\n$dolibarr_main_db_host=\"$host\";\n", INST_DOL_DB_HOST, 2);
    expect_not_literal("<?php\n$dolibarr_main_db_host=\"{$h}\";\n", INST_DOL_DB_HOST, 2);
    expect_not_literal("<?php\n$dolibarr_main_db_pass=getenv('DBPASS');\n", INST_DOL_DB_PASS, 2);
    expect_not_literal("<?php\nif ($prod) $dolibarr_main_db_host='x';\n", INST_DOL_DB_HOST, 2);
    expect_not_literal("<?php\nif ($prod) {\n  $dolibarr_main_db_host='x';\n}\n", INST_DOL_DB_HOST, 3);
    expect_not_literal("<?php\n$dolibarr_main_db_name='a';\n$dolibarr_main_db_name.='b';\n",
                       INST_DOL_DB_NAME, 3);
    expect_not_literal("<?php\n$dolibarr_main_db_port=0123;\n", INST_DOL_DB_PORT, 2);
    expect_not_literal("<?php\n$dolibarr_main_db_name=<<<EOT\nx\nEOT;\n", INST_DOL_DB_NAME, 2);
    expect_not_literal("<?php\n$dolibarr_main_db_name=`hostname`;\n", INST_DOL_DB_NAME, 2);
    /* PHP refuses these files: nothing is read from them as a value */
    expect_not_literal("<?php\n$dolibarr_main_db_name='unterminated;\n", INST_DOL_DB_NAME, 2);
    expect_not_literal("<?php\n$dolibarr_main_db_name='no semicolon'", INST_DOL_DB_NAME, 2);
}

/* Every prefix of a tricky file, in a buffer of exactly its size (valgrind
 * and ASan see a read past it): parsing never fails, reads out of bounds or
 * takes a value from a cut literal. */
static void test_every_prefix_parses(void **state)
{
    (void)state;
    const char *t = "\xef\xbb\xbf<?php\r\n// c x\n# h\n/* b */$dolibarr_main_db_host = \"a\\\"\\$b\\x4\\u{41}\\101\";\n"
                    "$dolibarr_main_db_name='it\\'s' /* x */ ;$x = <<<'EOT'\n$y\n  EOT;\n"
                    "if ($a) { $dolibarr_main_db_user = -12; } $dolibarr_main_db_port=+3306 ?>html<?= 1 ?><?php "
                    "$dolibarr_main_db_pass=TRUE;$dolibarr_main_data_root[0]='x';include_once 'f.php';";
    size_t n = strlen(t);
    for (size_t k = 0; k <= n; k++) {
        char *b = malloc(k ? k : 1);
        InstDolConf *c = NULL;
        Err err;
        err_clear(&err);
        memcpy(b, t, k);
        assert_int_equal(inst_dolconf_parse(b, k, "p", &c, &err), 0);
        const char *v = c->v[INST_DOL_DB_NAME].value;
        assert_true(v == NULL || strcmp(v, "it's") == 0);
        if (k == n) {
            expect_var(c, INST_DOL_DB_HOST, "a\"$b\x04" "AA", 4);
            expect_var(c, INST_DOL_DB_PORT, "3306", 8);
            assert_int_equal(c->include_line, 8);
            assert_false(c->v[INST_DOL_DB_USER].is_literal);
            assert_false(c->v[INST_DOL_DATA_ROOT].is_literal);
            expect_var(c, INST_DOL_DB_PASS, "1", 8);
        }
        inst_dolconf_free(c);
        free(b);
    }
}

static void test_last_assignment_wins_and_includes_are_noted(void **state)
{
    (void)state;
    InstDolConf *c = parse("<?php\n$dolibarr_main_db_host='old';\n"
                           "$dolibarr_main_db_host='new'; // moved\n"
                           "include '/etc/dolibarr/extra.php';\n");
    expect_var(c, INST_DOL_DB_HOST, "new", 3);
    assert_int_equal(c->v[INST_DOL_DB_HOST].nassign, 2);
    assert_int_equal(c->include_line, 4);
    inst_dolconf_free(c);
    /* reads are not assignments; comparisons are not either */
    c = parse("<?php\n$dolibarr_main_db_host='h';\n$x = $dolibarr_main_db_host;\n"
              "if ($dolibarr_main_db_host == 'y') {}\n");
    expect_var(c, INST_DOL_DB_HOST, "h", 2);
    assert_int_equal(c->v[INST_DOL_DB_HOST].nassign, 1);
    inst_dolconf_free(c);
}

static void test_bom_crlf_tags_and_no_trailing_newline(void **state)
{
    (void)state;
    InstDolConf *c = parse("\xef\xbb\xbf<?php\r\n$dolibarr_main_db_host='h1';\r\n?>\r\n"
                           "<?php $dolibarr_main_db_name='n' ?>text $dolibarr_main_db_user='no';\n"
                           "<?php $dolibarr_main_db_port=\"3306\";");
    expect_var(c, INST_DOL_DB_HOST, "h1", 2);
    expect_var(c, INST_DOL_DB_NAME, "n", 4);
    expect_var(c, INST_DOL_DB_USER, NULL, 0);
    expect_var(c, INST_DOL_DB_PORT, "3306", 5);
    inst_dolconf_free(c);
}

/* Vectors from Dolibarr 23's own dol_encode and dolEncrypt (php-cli). */
static void test_password_encodings(void **state)
{
    (void)state;
    expect_password("<?php\n$dolibarr_main_db_pass='crypted:hER0g0SFMg==';\n", "s3cr3t!",
                    INST_DOL_PASS_CRYPTED);
    /* filefunc.inc.php: /crypted:/i anywhere, removed everywhere */
    expect_password("<?php\n$dolibarr_main_db_pass='CRYPTED:hER0g0SFMg';\n", "s3cr3t!",
                    INST_DOL_PASS_CRYPTED);
    expect_password("<?php\n$dolibarr_main_db_pass='';\n$dolibarr_main_db_encrypted_pass='hER0g0SFMg==';\n",
                    "s3cr3t!", INST_DOL_PASS_ENCRYPTED);
    expect_password("<?php\n$dolibarr_main_instance_unique_id='" UID "';\n"
                    "$dolibarr_main_db_pass='dolcrypt:AES-256-CTR:9289941f8a4200fd:7Z+KTLi73XJIdw0=';\n",
                    "Secret-Pa55", INST_DOL_PASS_DOLCRYPT);
    /* the dolcrypt key wins over the unique id; a short key is padded with NULs */
    expect_password("<?php\n$dolibarr_main_instance_unique_id='" UID "';\n"
                    "$dolibarr_main_dolcrypt_key='short-key';\n"
                    "$dolibarr_main_db_pass='dolcrypt:AES-256-CTR:f2aee81c67e9e6a3:AINT5HqSLrQlE3U=';\n",
                    "Secret-Pa55", INST_DOL_PASS_DOLCRYPT);
    expect_password("<?php\n$dolibarr_main_db_pass='0';\n", "0", INST_DOL_PASS_PLAIN);
    expect_password("<?php\n$dolibarr_main_db_host='h';\n", NULL, INST_DOL_PASS_NONE);
}

static void test_dolcrypt_with_the_wrong_key_fails(void **state)
{
    (void)state;
    InstDolConf *c = parse("<?php\n$dolibarr_main_instance_unique_id='00000000000000000000000000000000';\n"
                           "$dolibarr_main_db_pass='dolcrypt:AES-256-CTR:9289941f8a4200fd:7Z+KTLi73XJIdw0=';\n");
    InstDolPassEnc e;
    InstDolVar v;
    char *p = NULL;
    Err err;
    err_clear(&err);
    int rc = inst_dolconf_password(c, &p, &e, &v, &err);
    assert_true(rc == ERR_AUTH);
    assert_non_null(strstr(err.msg, "conf.php:3: $dolibarr_main_db_pass (dolcrypt)"));
    assert_null(p);
    inst_dolconf_free(c);
}

/* ---- rewrite ---- */

static char *rewrite(const char *text, const InstDolConfNew *nv, InstDolPassEnc *enc)
{
    char *out = NULL;
    size_t n = 0;
    InstDolPassEnc e;
    Err err;
    err_clear(&err);
    int rc = inst_dolconf_rewrite(text, strlen(text), nv, &out, &n, enc ? enc : &e, &err);
    if (rc) fail_msg("rewrite: %s", err.msg);
    assert_int_equal(strlen(out), n);
    return out;
}

static void test_rewrite_changes_only_the_values(void **state)
{
    (void)state;
    const char *t = "\xef\xbb\xbf<?php\r\n"
                    "// $dolibarr_main_db_host='localhost';\r\n"
                    "$dolibarr_main_db_host = '127.0.0.1'; // keep this comment\r\n"
                    "$dolibarr_main_db_port=3410;\r\n"
                    "$dolibarr_main_db_name=\"dolibarr\";\r\n"
                    "$dolibarr_main_data_root='/var/lib/dolibarr/documents';\r\n"
                    "$dolibarr_main_instance_unique_id='" UID "';\r\n"
                    "$dolibarr_main_dolcrypt_key='k';\r\n"
                    "$dolibarr_main_db_host='again';";
    InstDolConfNew nv = {.db_host = "localhost", .db_port = "3307", .db_name = "shop$copy \"2\"",
                         .data_root = "/srv/it's\\docs"};
    char *out = rewrite(t, &nv, NULL);
    assert_string_equal(out, "\xef\xbb\xbf<?php\r\n"
                             "// $dolibarr_main_db_host='localhost';\r\n"
                             "$dolibarr_main_db_host = 'localhost'; // keep this comment\r\n"
                             "$dolibarr_main_db_port=3307;\r\n"
                             "$dolibarr_main_db_name=\"shop\\$copy \\\"2\\\"\";\r\n"
                             "$dolibarr_main_data_root='/srv/it\\'s\\\\docs';\r\n"
                             "$dolibarr_main_instance_unique_id='" UID "';\r\n"
                             "$dolibarr_main_dolcrypt_key='k';\r\n"
                             "$dolibarr_main_db_host='localhost';");
    /* it reads back as written */
    InstDolConf *c = parse(out);
    expect_var(c, INST_DOL_DB_NAME, "shop$copy \"2\"", 5);
    expect_var(c, INST_DOL_DATA_ROOT, "/srv/it's\\docs", 6);
    expect_var(c, INST_DOL_DB_HOST, "localhost", 9);
    inst_dolconf_free(c);
    free(out);
}

static void test_rewrite_appends_what_is_not_assigned(void **state)
{
    (void)state;
    InstDolConfNew nv = {.db_port = "x3306", .document_root_alt = "/srv/custom"};
    char *out = rewrite("<?php\n$dolibarr_main_db_host='h';\n?>\n", &nv, NULL);
    assert_string_equal(out, "<?php\n$dolibarr_main_db_host='h';\n$dolibarr_main_db_port='x3306';\n"
                             "$dolibarr_main_document_root_alt='/srv/custom';\n?>\n");
    free(out);
    nv = (InstDolConfNew){.url_root = "http://copy"};
    out = rewrite("<?php\n$dolibarr_main_db_host='h';", &nv, NULL);
    assert_string_equal(out, "<?php\n$dolibarr_main_db_host='h';\n$dolibarr_main_url_root='http://copy';\n");
    free(out);
}

static void test_rewrite_refuses_a_non_literal(void **state)
{
    (void)state;
    const char *t = "<?php\n$dolibarr_main_data_root=realpath(__DIR__.'/../documents');\n";
    InstDolConfNew nv = {.data_root = "/srv/docs"};
    char *out = NULL;
    size_t n;
    InstDolPassEnc e;
    Err err;
    err_clear(&err);
    assert_int_equal(inst_dolconf_rewrite(t, strlen(t), &nv, &out, &n, &e, &err), ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "line 2: $dolibarr_main_data_root is not a literal"));
    assert_null(out);
    /* a variable that is not changed may be anything */
    nv = (InstDolConfNew){.db_host = "h2"};
    out = rewrite(t, &nv, NULL);
    assert_non_null(strstr(out, "realpath(__DIR__.'/../documents');\n$dolibarr_main_db_host='h2';\n"));
    free(out);
}

/* The new password, read back through the reader in the family written. */
static void rewrite_password(const char *t, const char *pw, InstDolPassEnc want)
{
    InstDolConfNew nv = {.db_pass = pw};
    InstDolPassEnc enc;
    char *out = rewrite(t, &nv, &enc);
    assert_int_equal(enc, want);
    InstDolConf *c = parse(out);
    InstDolPassEnc e;
    InstDolVar v;
    char *p = NULL;
    Err err;
    err_clear(&err);
    assert_int_equal(inst_dolconf_password(c, &p, &e, &v, &err), 0);
    assert_int_equal(e, want);
    assert_string_equal(p, pw);
    secret_free(p);
    inst_dolconf_free(c);
    /* the keys are never touched */
    if (strstr(t, UID)) assert_non_null(strstr(out, "$dolibarr_main_instance_unique_id='" UID "';"));
    free(out);
}

static void test_rewrite_keeps_the_password_encoding(void **state)
{
    (void)state;
    rewrite_password("<?php\n$dolibarr_main_db_pass='old';\n", "n'w\\\"$x", INST_DOL_PASS_PLAIN);
    rewrite_password("<?php\n$dolibarr_main_db_pass='crypted:hER0g0SFMg==';\n", "New-Pass~1",
                     INST_DOL_PASS_CRYPTED);
    rewrite_password("<?php\n$dolibarr_main_db_pass='';\n$dolibarr_main_db_encrypted_pass='hER0g0SFMg==';\n",
                     "New-Pass~1", INST_DOL_PASS_ENCRYPTED);
    const char *dc = "<?php\n$dolibarr_main_instance_unique_id='" UID "';\n"
                     "$dolibarr_main_db_pass='dolcrypt:AES-256-CTR:9289941f8a4200fd:7Z+KTLi73XJIdw0=';\n";
    rewrite_password(dc, "New-Pass~1", INST_DOL_PASS_DOLCRYPT);
    /* not ASCII: Dolibarr's encodings cannot hold it exactly, so plain */
    rewrite_password(dc, "p\xc3\xa4ss", INST_DOL_PASS_PLAIN);
    rewrite_password("<?php\n$dolibarr_main_db_pass='';\n$dolibarr_main_db_encrypted_pass='hER0g0SFMg==';\n",
                     "p\xc3\xa4ss", INST_DOL_PASS_PLAIN);
    /* plain text holding "crypted:" would be decoded by Dolibarr: encoded instead */
    rewrite_password("<?php\n$dolibarr_main_db_pass='old';\n", "xcrypted:y", INST_DOL_PASS_CRYPTED);
    /* no password before: appended plain */
    rewrite_password("<?php\n$dolibarr_main_db_host='h';\n", "pw", INST_DOL_PASS_PLAIN);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_reads_the_example_shape),
        cmocka_unit_test(test_php_string_escapes),
        cmocka_unit_test(test_expressions_are_not_literals),
        cmocka_unit_test(test_every_prefix_parses),
        cmocka_unit_test(test_last_assignment_wins_and_includes_are_noted),
        cmocka_unit_test(test_bom_crlf_tags_and_no_trailing_newline),
        cmocka_unit_test(test_password_encodings),
        cmocka_unit_test(test_dolcrypt_with_the_wrong_key_fails),
        cmocka_unit_test(test_rewrite_changes_only_the_values),
        cmocka_unit_test(test_rewrite_appends_what_is_not_assigned),
        cmocka_unit_test(test_rewrite_refuses_a_non_literal),
        cmocka_unit_test(test_rewrite_keeps_the_password_encoding),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
