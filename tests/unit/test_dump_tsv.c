/* test_dump_tsv.c: the rows encoding (tsv1) and SQL escaping of
 * engine/source/dump, and the CREATE TABLE splitter of restore/db. Pure
 * functions: no server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/source/dump/src_dump.h"
#include "restore/db/db_int.h"
#include "restore/db/rst_db.h"
#include "tests/support/tst_util.h"

static void enc(Buf *b, unsigned n, char **vals, const unsigned long *lens)
{
    Err e;
    assert_int_equal(src_tsv_row(b, n, vals, lens, &e), 0);
}

static void test_escapes_are_load_data_defaults(void **state)
{
    (void)state;   /* LOAD DATA's defaults read exactly these escapes back */
    Buf b;
    char v0[] = {'a', '\t', 'b', '\n', 'c', '\r', '\\', '\0', 'N'};
    char *vals[3] = {v0, NULL, ""};
    unsigned long lens[3] = {sizeof v0, 0, 0};
    buf_init(&b, 1 << 20);
    enc(&b, 3, vals, lens);
    const char want[] = "a\\tb\\nc\\r\\\\\\0N\t\\N\t\n";
    assert_int_equal(b.len, sizeof want - 1);
    assert_memory_equal(b.data, want, sizeof want - 1);
    buf_free(&b);
}

static void test_null_empty_and_literal_backslash_n_differ(void **state)
{
    (void)state;   /* NULL, '' and the two-byte string \N must stay three different values */
    Buf b;
    Err e;
    char *vals[3] = {NULL, "", "\\N"};
    unsigned long lens[3] = {0, 0, 2};
    char *f[3];
    size_t l[3];
    bool nul[3];
    buf_init(&b, 1 << 20);
    enc(&b, 3, vals, lens);
    assert_int_equal(src_tsv_split((char *)b.data, b.len - 1, 3, f, l, nul, &e), 0);
    assert_true(nul[0]);
    assert_false(nul[1]);
    assert_int_equal(l[1], 0);
    assert_false(nul[2]);
    assert_int_equal(l[2], 2);
    assert_memory_equal(f[2], "\\N", 2);
    buf_free(&b);
}

static void test_roundtrip_every_byte_value(void **state)
{
    (void)state;
    uint8_t raw[4096];
    Buf b;
    Err e;
    for (int round = 0; round < 50; round++) {
        size_t n1 = (size_t)(round * 37) % sizeof raw, n2 = 256;
        uint8_t all[256];
        for (int i = 0; i < 256; i++) all[i] = (uint8_t)i;
        tst_fill_random(raw, n1, (uint64_t)round + 1);
        char *vals[2] = {(char *)raw, (char *)all};
        unsigned long lens[2] = {n1, n2};
        char *f[2];
        size_t l[2];
        bool nul[2];
        buf_init(&b, 1 << 20);
        enc(&b, 2, vals, lens);
        /* one record per line: the only raw newline is the terminator */
        assert_ptr_equal(memchr(b.data, '\n', b.len), b.data + b.len - 1);
        assert_int_equal(src_tsv_split((char *)b.data, b.len - 1, 2, f, l, nul, &e), 0);
        assert_int_equal(l[0], n1);
        assert_memory_equal(f[0], raw, n1);
        assert_int_equal(l[1], n2);
        assert_memory_equal(f[1], all, n2);
        buf_free(&b);
    }
}

static void test_split_rejects_wrong_field_count(void **state)
{
    (void)state;
    Err e;
    char line1[] = "a\tb\tc", line2[] = "a", line3[] = "a\\";
    char *f[2];
    size_t l[2];
    bool nul[2];
    assert_int_equal(src_tsv_split(line1, strlen(line1), 2, f, l, nul, &e), ERR_CORRUPT);
    assert_non_null(strstr(e.msg, "more than 2 fields"));
    assert_int_equal(src_tsv_split(line2, strlen(line2), 2, f, l, nul, &e), ERR_CORRUPT);
    assert_non_null(strstr(e.msg, "expected 2"));
    assert_int_equal(src_tsv_split(line3, strlen(line3), 1, f, l, nul, &e), ERR_CORRUPT);
    assert_non_null(strstr(e.msg, "cut short"));
}

static void test_sql_escape_and_ident(void **state)
{
    (void)state;
    Buf b;
    Err e;
    const char in[] = {'\'', '\\', '\0', '\n', '\r', 0x1a, 'x', '"'};
    buf_init(&b, 1 << 20);
    assert_int_equal(mdb_escape(&b, in, sizeof in, &e), 0);
    const char want[] = "\\'\\\\\\0\\n\\r\\Zx\"";
    assert_int_equal(b.len, sizeof want - 1);
    assert_memory_equal(b.data, want, sizeof want - 1);
    buf_reset(&b);
    assert_int_equal(mdb_ident_quote(&b, "we`ird", &e), 0);
    assert_int_equal(b.len, 9);
    assert_memory_equal(b.data, "`we``ird`", 9);
    buf_free(&b);
}

static const char create_text[] =
    "CREATE TABLE `child` (\n"
    "  `rowid` int(11) NOT NULL AUTO_INCREMENT,\n"
    "  `fk_parent` int(11) NOT NULL,\n"
    "  `label` varchar(255) DEFAULT NULL,\n"
    "  `j` longtext DEFAULT NULL CHECK (json_valid(`j`)),\n"
    "  PRIMARY KEY (`rowid`),\n"
    "  UNIQUE KEY `uk_label` (`label`),\n"
    "  KEY `idx_parent` (`fk_parent`),\n"
    "  FULLTEXT KEY `ft_label` (`label`),\n"
    "  CONSTRAINT `fk_child_parent` FOREIGN KEY (`fk_parent`) REFERENCES `parent` (`rowid`) ON DELETE CASCADE,\n"
    "  CONSTRAINT `chk_label` CHECK (`label` <> '')\n"
    ") ENGINE=InnoDB AUTO_INCREMENT=7 DEFAULT CHARSET=utf8mb4";

static void test_ddl_split_keeps_primary_key_and_checks(void **state)
{
    (void)state;
    char *cr, *keys, *fks;
    Err e;
    assert_int_equal(rst_ddl_split(create_text, &cr, &keys, &fks, &e), 0);
    assert_string_equal(cr,
                        "CREATE TABLE `child` (\n"
                        "  `rowid` int(11) NOT NULL AUTO_INCREMENT,\n"
                        "  `fk_parent` int(11) NOT NULL,\n"
                        "  `label` varchar(255) DEFAULT NULL,\n"
                        "  `j` longtext DEFAULT NULL CHECK (json_valid(`j`)),\n"
                        "  PRIMARY KEY (`rowid`),\n"
                        "  CONSTRAINT `chk_label` CHECK (`label` <> '')\n"
                        ") ENGINE=InnoDB AUTO_INCREMENT=7 DEFAULT CHARSET=utf8mb4");
    assert_string_equal(keys, "ADD UNIQUE KEY `uk_label` (`label`), ADD KEY `idx_parent` "
                              "(`fk_parent`), ADD FULLTEXT KEY `ft_label` (`label`)");
    assert_string_equal(fks, "ADD CONSTRAINT `fk_child_parent` FOREIGN KEY (`fk_parent`) "
                             "REFERENCES `parent` (`rowid`) ON DELETE CASCADE");
    free(cr);
    free(keys);
    free(fks);
}

static void test_ddl_split_keeps_the_key_auto_increment_needs(void **state)
{
    (void)state;   /* AUTO_INCREMENT not first in the primary key: CREATE needs its key */
    const char t[] = "CREATE TABLE `t` (\n"
                     "  `a` int(11) NOT NULL,\n"
                     "  `id` int(11) NOT NULL AUTO_INCREMENT,\n"
                     "  PRIMARY KEY (`a`,`id`),\n"
                     "  KEY `k_v` (`a`),\n"
                     "  KEY `k_id` (`id`)\n"
                     ") ENGINE=InnoDB";
    char *cr, *keys, *fks;
    Err e;
    assert_int_equal(rst_ddl_split(t, &cr, &keys, &fks, &e), 0);
    assert_non_null(strstr(cr, "  KEY `k_id` (`id`)\n)"));
    assert_string_equal(keys, "ADD KEY `k_v` (`a`)");
    assert_null(fks);
    free(cr);
    free(keys);
}

static void test_ddl_split_rejects_other_text(void **state)
{
    (void)state;
    char *cr, *keys, *fks;
    Err e;
    assert_int_equal(rst_ddl_split("CREATE VIEW `v` AS select 1", &cr, &keys, &fks, &e),
                     ERR_CORRUPT);
    assert_non_null(strstr(e.msg, "not a SHOW CREATE TABLE"));
}

static void test_text_columns_from_field_or_definition(void **state)
{
    (void)state;   /* INET6/UUID load as text: by text_columns, else by the CREATE text */
    json_t *old = json_pack(
        "{s:s}", "create",
        "CREATE TABLE `t` (\n  `a``6` inet6 DEFAULT NULL,\n  `u` uuid NOT NULL,\n"
        "  `x inet6` varchar(9) DEFAULT NULL,\n  `i4` inet4,\n  `n` int(11) DEFAULT NULL\n) "
        "ENGINE=InnoDB");
    json_t *now = json_pack("{s:s,s:[s]}", "create", "CREATE TABLE `t` (\n  `a` inet6\n)",
                            "text_columns", "b");
    assert_true(db_is_text_column(old, "a`6"));
    assert_true(db_is_text_column(old, "u"));
    assert_true(db_is_text_column(old, "i4"));
    assert_false(db_is_text_column(old, "x inet6"));
    assert_false(db_is_text_column(old, "x"));
    assert_false(db_is_text_column(old, "n"));
    assert_false(db_is_text_column(old, "a"));
    /* the field, when present, is the answer */
    assert_true(db_is_text_column(now, "b"));
    assert_false(db_is_text_column(now, "a"));
    json_decref(old);
    json_decref(now);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_escapes_are_load_data_defaults),
        cmocka_unit_test(test_null_empty_and_literal_backslash_n_differ),
        cmocka_unit_test(test_roundtrip_every_byte_value),
        cmocka_unit_test(test_split_rejects_wrong_field_count),
        cmocka_unit_test(test_sql_escape_and_ident),
        cmocka_unit_test(test_ddl_split_keeps_primary_key_and_checks),
        cmocka_unit_test(test_ddl_split_keeps_the_key_auto_increment_needs),
        cmocka_unit_test(test_ddl_split_rejects_other_text),
        cmocka_unit_test(test_text_columns_from_field_or_definition),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
