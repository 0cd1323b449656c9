/* test_files_entry.c: the tree entry codec (odd names of any byte round
 * trip, malformed records are refused) and the tree order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/source/files/src_files.h"

static void roundtrip(const SrcFilesEntry *in, SrcFilesEntry *out)
{
    Buf b;
    Err err;
    buf_init(&b, 1 << 20);
    err_clear(&err);
    assert_int_equal(src_files_entry_encode(in, &b, &err), 0);
    assert_true(b.len > 0);
    assert_int_equal(b.data[b.len - 1], '\n');
    assert_null(memchr(b.data, '\n', b.len - 1));   /* one record = one line */
    assert_int_equal(src_files_entry_decode((const char *)b.data, b.len, out, &err), 0);
    buf_free(&b);
}

static void test_odd_names_round_trip(void **state)
{
    (void)state;
    static const char *const names[] = {
        "plain", "with space", "new\nline", "tab\there", "caf\xc3\xa9 \xe2\x82\xac",
        "latin1 \xe9t\xe9", "\xff\xfe bytes", "back\\slash \"quoted\"", "ctl \x01\x1f\x7f",
        "overlong \xc0\xaf", "surrogate \xed\xa0\x80",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        SrcFilesEntry in = {0}, out = {0};
        in.path = strdup(names[i]);
        in.type = SRC_FILES_SYMLINK;
        in.link = strdup(names[(i + 3) % (sizeof(names) / sizeof(names[0]))]);
        in.mode = 0777;
        in.uname = strdup("us\xe9r");
        in.mtime_ns = -1234567891LL;   /* before 1970, with nanoseconds */
        roundtrip(&in, &out);
        assert_string_equal(out.path, in.path);
        assert_string_equal(out.link, in.link);
        assert_string_equal(out.uname, in.uname);
        assert_int_equal(out.mtime_ns, in.mtime_ns);
        assert_int_equal(out.type, SRC_FILES_SYMLINK);
        src_files_entry_clear(&in);
        src_files_entry_clear(&out);
    }
}

static void test_file_fields_round_trip(void **state)
{
    (void)state;
    SrcFilesEntry in = {0}, out = {0};
    static const uint8_t bin[] = {0, 1, 2, 0xff, 0, 'x'};
    in.path = strdup("docs/a.pdf");
    in.type = SRC_FILES_FILE;
    in.mode = 02755;
    in.uid = 1000;
    in.gid = 33;
    in.gname = strdup("www-data");
    in.mtime_ns = 1700000000123456789LL;
    in.ctime_ns = 1700000001000000001LL;
    in.ino = 0xfedcba9876543210ULL;   /* above INT64_MAX: kept bit for bit */
    in.dev = 2049;
    in.nlink = 3;
    in.size = 3ULL << 30;
    in.data = json_pack("{s:I, s:[s]}", "size", (json_int_t)8192, "chunks",
                        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
    in.nsparse = 2;
    in.sparse = malloc(4 * sizeof(uint64_t));
    in.sparse[0] = 0;
    in.sparse[1] = 4096;
    in.sparse[2] = 1ULL << 30;
    in.sparse[3] = 4096;
    in.nxattrs = 1;
    in.xattrs = calloc(1, sizeof(SrcFilesXattr));
    in.xattrs[0].name = strdup("user.bin");
    in.xattrs[0].value = malloc(sizeof(bin));
    memcpy(in.xattrs[0].value, bin, sizeof(bin));
    in.xattrs[0].len = sizeof(bin);
    in.acl_access = strdup("user::rw-\nuser:nobody:r--:65534\ngroup::r--\nmask::r--\nother::---");
    roundtrip(&in, &out);
    assert_int_equal(out.mode, 02755);
    assert_int_equal(out.uid, 1000);
    assert_int_equal(out.gid, 33);
    assert_null(out.uname);
    assert_string_equal(out.gname, "www-data");
    assert_int_equal(out.ctime_ns, in.ctime_ns);
    assert_true(out.ino == in.ino);
    assert_int_equal(out.nlink, 3);
    assert_true(out.size == in.size);
    assert_true(json_equal(out.data, in.data));
    assert_int_equal(out.nsparse, 2);
    assert_memory_equal(out.sparse, in.sparse, 4 * sizeof(uint64_t));
    assert_int_equal(out.nxattrs, 1);
    assert_string_equal(out.xattrs[0].name, "user.bin");
    assert_int_equal(out.xattrs[0].len, sizeof(bin));
    assert_memory_equal(out.xattrs[0].value, bin, sizeof(bin));
    assert_string_equal(out.acl_access, in.acl_access);
    src_files_entry_clear(&in);
    src_files_entry_clear(&out);
}

static void expect_corrupt(const char *line, const char *fragment)
{
    SrcFilesEntry out = {0};
    Err err;
    err_clear(&err);
    assert_int_equal(src_files_entry_decode(line, strlen(line), &out, &err), ERR_CORRUPT);
    if (!strstr(err.msg, fragment)) fail_msg("message \"%s\" lacks \"%s\"", err.msg, fragment);
    assert_null(out.path);
}

static void test_malformed_records_are_refused(void **state)
{
    (void)state;
    expect_corrupt("not json", "not valid JSON");
    expect_corrupt("{\"type\":\"dir\",\"mode\":493,\"uid\":0,\"gid\":0,\"mtime\":0}", "without path");
    expect_corrupt("{\"path\":\"a\",\"type\":\"bomb\",\"mode\":0,\"uid\":0,\"gid\":0,\"mtime\":0}",
                   "unknown type");
    expect_corrupt("{\"path_b64\":\"YQBi\",\"type\":\"dir\",\"mode\":0,\"uid\":0,\"gid\":0,\"mtime\":0}",
                   "NUL byte");
    expect_corrupt("{\"path\":\"a\",\"type\":\"dir\",\"mode\":99999,\"uid\":0,\"gid\":0,\"mtime\":0}",
                   "mode out of range");
    expect_corrupt("{\"path\":\"a\",\"type\":\"file\",\"mode\":0,\"uid\":0,\"gid\":0,\"mtime\":0,\"size\":1}",
                   "without data");
    expect_corrupt("{\"path\":\"a\",\"type\":\"symlink\",\"mode\":0,\"uid\":0,\"gid\":0,\"mtime\":0}",
                   "without link");
    expect_corrupt("{\"path\":\"a\",\"path\":\"b\",\"type\":\"dir\",\"mode\":0,\"uid\":0,\"gid\":0,\"mtime\":0}",
                   "not valid JSON");
    expect_corrupt("{\"path\":\"a\",\"type\":\"file\",\"mode\":0,\"uid\":0,\"gid\":0,\"mtime\":0,\"size\":10,"
                   "\"data\":{\"size\":4,\"chunks\":[]},\"sparse\":[[8,4]]}",
                   "bad sparse map");
}

static void test_tree_order_is_depth_first(void **state)
{
    (void)state;
    /* A directory's subtree comes right after it, before its siblings. */
    static const char *const order[] = {"a", "a/b", "a/b/c", "a/z", "a b", "a-b", "a.b", "aa", "b"};
    size_t n = sizeof(order) / sizeof(order[0]);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            int c = src_files_path_cmp(order[i], order[j]);
            if (i < j) assert_true(c < 0);
            else if (i > j) assert_true(c > 0);
            else assert_int_equal(c, 0);
        }
}

static void test_path_print_escapes(void **state)
{
    (void)state;
    char buf[64];
    assert_string_equal(src_files_path_print("a\nb\xff\\c \xc3\xa9", buf, sizeof(buf)),
                        "a\\x0ab\\xff\\x5cc \xc3\xa9");
    src_files_path_print("0123456789012345678901234567890123456789", buf, 16);
    assert_true(strlen(buf) < 16);
    assert_non_null(strstr(buf, "..."));
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_odd_names_round_trip),
        cmocka_unit_test(test_file_fields_round_trip),
        cmocka_unit_test(test_malformed_records_are_refused),
        cmocka_unit_test(test_tree_order_is_depth_first),
        cmocka_unit_test(test_path_print_escapes),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
