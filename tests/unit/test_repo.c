/* test_repo.c: the repository core over the local driver: streams round
 * trip, dedup, durability across reopen, refusal of wrong passphrases and
 * newer formats, tamper detection by check, keys, index repair. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include "engine/repo/repo.h"
#include "storage-backends/local/local.h"
#include "tests/support/sto_fault.h"
#include "tests/support/tst_util.h"

static const char PASS[] = "correct horse";

typedef struct Fx {
    char *dir;
    char repo[4096];
} Fx;

static RepoOptions fast_opts(void)
{
    RepoOptions o;
    repo_options_default(&o);
    o.kdf = CRY_KDF_FAST;
    o.pack_size = 1u << 20;
    return o;
}

static int setup(void **state)
{
    Fx *fx = calloc(1, sizeof *fx);
    Sto *sto;
    Err err;
    RepoOptions o = fast_opts();
    fx->dir = tst_tempdir("repo");
    snprintf(fx->repo, sizeof fx->repo, "%s/r", fx->dir);
    assert_int_equal(sto_open_url(fx->repo, STO_OPEN_CREATE, &sto, &err), 0);
    assert_int_equal(repo_init(sto, PASS, strlen(PASS), &o, &err), 0);
    sto_close(sto);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    Fx *fx = *state;
    tst_rmtree(fx->dir);
    free(fx->dir);
    free(fx);
    return 0;
}

static Repo *open_repo(Fx *fx, const char *pass, int expect_rc, Err *err)
{
    Sto *sto;
    Repo *r = NULL;
    RepoOptions o = fast_opts();
    assert_int_equal(sto_open_url(fx->repo, 0, &sto, err), 0);
    assert_int_equal(repo_open(sto, pass, strlen(pass), &o, &r, err), expect_rc);
    return r;
}

typedef struct Collect {
    uint8_t *buf;
    size_t len, cap;
} Collect;

static int collect(void *ctx, const void *data, size_t len, Err *err)
{
    Collect *c = ctx;
    (void)err;
    assert_true(c->len + len <= c->cap);
    memcpy(c->buf + c->len, data, len);
    c->len += len;
    return 0;
}

static RepoStreamRef write_stream(Repo *r, const uint8_t *data, size_t len, RepoChunking kind)
{
    RepoStream *s;
    RepoStreamRef ref;
    Err err;
    size_t off = 0;
    assert_int_equal(repo_stream_begin(r, kind, &s, &err), 0);
    while (off < len) {   /* odd write sizes on purpose */
        size_t n = len - off < 77777 ? len - off : 77777;
        assert_int_equal(repo_stream_write(s, data + off, n, &err), 0);
        off += n;
    }
    assert_int_equal(repo_stream_end(s, &ref, &err), 0);
    return ref;
}

static void test_stream_round_trip_survives_reopen(void **state)
{
    Fx *fx = *state;
    Err err;
    size_t len = 9u << 20;
    uint8_t *data = malloc(len);
    Collect c = {malloc(len), 0, len};
    Repo *r = open_repo(fx, PASS, 0, &err);
    RepoStreamRef ref, back;
    json_t *m, *j, *got;
    Id sid;

    tst_fill_random(data, len / 2, 7);
    memset(data + len / 2, 'a', len - len / 2);   /* compressible half */
    ref = write_stream(r, data, len, REPO_CHUNK_FILES);
    assert_int_equal(ref.size, len);
    assert_true(ref.nchunks >= 3);
    m = repo_manifest_new("test", NULL, 0);
    j = json_pack("{s:s, s:o}", "kind", "raw", "stream", repo_streamref_to_json(&ref));
    json_array_append_new(json_object_get(m, "items"), j);
    assert_int_equal(repo_snapshot_put(r, m, &sid, &err), 0);
    json_decref(m);
    repo_streamref_free(&ref);
    assert_int_equal(repo_close(r, &err), 0);

    r = open_repo(fx, PASS, 0, &err);
    assert_int_equal(repo_snapshot_get(r, "latest", "test", &got, NULL, &err), 0);
    assert_int_equal(repo_streamref_from_json(json_object_get(json_array_get(json_object_get(got, "items"), 0), "stream"), &back, &err), 0);
    assert_int_equal(repo_stream_read(r, &back, collect, &c, &err), 0);
    assert_int_equal(c.len, len);
    assert_memory_equal(c.buf, data, len);
    repo_streamref_free(&back);
    json_decref(got);
    repo_free(r);
    free(data);
    free(c.buf);
}

static void test_second_write_of_same_data_adds_nothing(void **state)
{
    Fx *fx = *state;
    Err err;
    size_t len = 6u << 20;
    uint8_t *data = malloc(len);
    RepoStats st;
    Repo *r = open_repo(fx, PASS, 0, &err);
    RepoStreamRef a, b;
    tst_fill_random(data, len, 99);
    a = write_stream(r, data, len, REPO_CHUNK_DUMP);
    assert_int_equal(repo_flush(r, &err), 0);
    repo_free(r);

    r = open_repo(fx, PASS, 0, &err);
    b = write_stream(r, data, len, REPO_CHUNK_DUMP);
    assert_int_equal(repo_flush(r, &err), 0);
    repo_stats_get(r, &st);
    assert_int_equal(st.bytes_new, 0);
    assert_int_equal(st.packs_written, 0);
    assert_int_equal(a.nchunks, b.nchunks);
    assert_memory_equal(a.chunks, b.chunks, a.nchunks * sizeof(Id));
    repo_streamref_free(&a);
    repo_streamref_free(&b);
    repo_free(r);
    free(data);
}

static void test_chunk_list_does_not_depend_on_write_sizes(void **state)
{
    Fx *fx = *state;
    Err err;
    size_t len = 11u << 20;
    uint8_t *data = malloc(len);
    Repo *r = open_repo(fx, PASS, 0, &err);
    RepoStream *s;
    RepoStreamRef whole, pieces;
    size_t off = 0, step = 1;
    tst_fill_random(data, len, 1234);
    assert_int_equal(repo_stream_begin(r, REPO_CHUNK_FILES, &s, &err), 0);
    assert_int_equal(repo_stream_write(s, data, len, &err), 0);   /* zero-copy path */
    assert_int_equal(repo_stream_end(s, &whole, &err), 0);
    assert_int_equal(repo_stream_begin(r, REPO_CHUNK_FILES, &s, &err), 0);
    while (off < len) {   /* growing odd pieces: 1, 4, 16, ... bytes, then large ones */
        size_t n = len - off < step ? len - off : step;
        assert_int_equal(repo_stream_write(s, data + off, n, &err), 0);
        off += n;
        step = step * 4 + 3;
        if (step > (5u << 20)) step = 12345;
    }
    assert_int_equal(repo_stream_end(s, &pieces, &err), 0);
    assert_int_equal(whole.nchunks, pieces.nchunks);
    assert_memory_equal(whole.chunks, pieces.chunks, whole.nchunks * sizeof(Id));
    assert_true(whole.nchunks >= 4);
    repo_streamref_free(&whole);
    repo_streamref_free(&pieces);
    repo_free(r);
    free(data);
}

static void test_latest_is_the_newest_even_within_one_second(void **state)
{
    Fx *fx = *state;
    Err err;
    Repo *r = open_repo(fx, PASS, 0, &err);
    Id ids[5], got;
    json_t *m;
    for (int i = 0; i < 5; i++) {   /* well within one second */
        m = repo_manifest_new("fast", NULL, 0);
        json_object_set_new(m, "seq", json_integer(i));
        assert_int_equal(repo_snapshot_put(r, m, &ids[i], &err), 0);
        json_decref(m);
    }
    assert_int_equal(repo_snapshot_get(r, "latest", "fast", &m, &got, &err), 0);
    assert_int_equal(json_integer_value(json_object_get(m, "seq")), 4);
    assert_memory_equal(got.b, ids[4].b, ID_LEN);
    json_decref(m);
    repo_free(r);
}

static void on_finding_count(void *ctx, bool is_error, const char *msg)
{
    if (is_error) {
        (*(int *)ctx)++;
        print_message("finding: %s\n", msg);
    }
}

/* A pack upload fails: the write error is sticky (no snapshot can commit),
 * and a writer that clears it and writes again ends with a repository whose
 * data reads back and passes check --read-data. */
static void test_failed_pack_upload_is_sticky_then_recoverable(void **state)
{
    Fx *fx = *state;
    Err err;
    Sto *inner, *fault;
    Repo *r = NULL;
    RepoOptions o = fast_opts();
    size_t len = 5u << 20;
    uint8_t *data = malloc(len);
    Collect c = {malloc(len), 0, len};
    RepoStreamRef ref;
    RepoCheckOptions copt = {.read_data = true};
    RepoCheckReport rep;
    json_t *m;
    int errors = 0, rc;
    RepoStream *s;

    tst_fill_random(data, len, 77);
    assert_int_equal(sto_open_url(fx->repo, 0, &inner, &err), 0);
    assert_int_equal(sto_fault_wrap(inner, &fault, &err), 0);
    assert_int_equal(repo_open(fault, PASS, strlen(PASS), &o, &r, &err), 0);
    sto_fault_set(fault, "put", 2, false, ERR_NOSPACE);   /* the second pack upload fails once */

    assert_int_equal(repo_stream_begin(r, REPO_CHUNK_DUMP, &s, &err), 0);
    rc = repo_stream_write(s, data, len, &err);
    if (!rc) rc = repo_stream_end(s, &ref, &err);
    else repo_stream_abort(s);
    if (!rc) { rc = repo_flush(r, &err); repo_streamref_free(&ref); }
    assert_int_equal(rc, ERR_NOSPACE);
    m = repo_manifest_new("fault", NULL, 0);
    assert_int_equal(repo_snapshot_put(r, m, NULL, &err), ERR_NOSPACE);   /* sticky: nothing commits */

    repo_write_error_clear(r);
    ref = write_stream(r, data, len, REPO_CHUNK_DUMP);
    json_array_append_new(json_object_get(m, "items"), json_pack("{s:s, s:o}", "kind", "raw", "stream", repo_streamref_to_json(&ref)));
    assert_int_equal(repo_snapshot_put(r, m, NULL, &err), 0);
    json_decref(m);
    repo_free(r);

    r = open_repo(fx, PASS, 0, &err);
    assert_int_equal(repo_stream_read(r, &ref, collect, &c, &err), 0);
    assert_int_equal(c.len, len);
    assert_memory_equal(c.buf, data, len);
    assert_int_equal(repo_check(r, &copt, on_finding_count, &errors, &rep, &err), 0);
    assert_int_equal(errors, 0);
    assert_int_equal(rep.errors, 0);
    repo_streamref_free(&ref);
    repo_free(r);
    free(data);
    free(c.buf);
}

static void test_wrong_passphrase_is_refused(void **state)
{
    Fx *fx = *state;
    Err err;
    open_repo(fx, "wrong", ERR_AUTH, &err);
    assert_non_null(strstr(err.msg, "wrong passphrase"));
}

static void test_newer_format_is_refused(void **state)
{
    Fx *fx = *state;
    Err err;
    char path[4200];
    FILE *f;
    snprintf(path, sizeof path, "%s/config", fx->repo);
    f = fopen(path, "w");
    fputs("{\"format\":99,\"id\":\"0000000000000000000000000000000000000000000000000000000000000000\"}", f);
    fclose(f);
    open_repo(fx, PASS, ERR_VERSION, &err);
    assert_non_null(strstr(err.msg, "format 99"));
}

static void test_missing_repository_is_notfound(void **state)
{
    (void)state;
    Sto *sto;
    Err err;
    assert_int_equal(sto_open_url("/nonexistent/tidemark-repo", 0, &sto, &err), ERR_NOTFOUND);
    assert_non_null(strstr(err.msg, "no repository"));
}

static void flip_byte_in_first_pack(Fx *fx, long at)
{
    char cmd[8400];
    snprintf(cmd, sizeof cmd,
             "f=$(find '%s/packs' -type f | head -1) && printf '\\x5a' | dd of=\"$f\" bs=1 seek=%ld conv=notrunc status=none",
             fx->repo, at);
    assert_int_equal(system(cmd), 0);
}

typedef struct Findings {
    int errors;
    bool named_chunk;
} Findings;

static void on_finding(void *ctx, bool is_error, const char *msg)
{
    Findings *f = ctx;
    if (is_error) f->errors++;
    if (strstr(msg, "failed authentication") && strstr(msg, "packs/")) f->named_chunk = true;
}

static void test_check_read_data_names_a_tampered_pack(void **state)
{
    Fx *fx = *state;
    Err err;
    size_t len = 3u << 20;
    uint8_t *data = malloc(len);
    Repo *r = open_repo(fx, PASS, 0, &err);
    RepoCheckOptions opt = {.read_data = true};
    RepoCheckReport rep;
    Findings f = {0, false};
    RepoStreamRef ref;
    tst_fill_random(data, len, 5);
    ref = write_stream(r, data, len, REPO_CHUNK_DUMP);
    assert_int_equal(repo_flush(r, &err), 0);
    assert_int_equal(repo_check(r, &opt, on_finding, &f, &rep, &err), 0);
    assert_int_equal(rep.errors, 0);
    assert_true(rep.blobs_verified >= ref.nchunks);
    repo_free(r);

    flip_byte_in_first_pack(fx, 100);
    r = open_repo(fx, PASS, 0, &err);
    assert_int_equal(repo_check(r, &opt, on_finding, &f, &rep, &err), 0);
    assert_true(rep.errors >= 1);
    assert_true(f.named_chunk);
    repo_streamref_free(&ref);
    repo_free(r);
    free(data);
}

static void test_blob_get_of_tampered_chunk_fails_with_auth(void **state)
{
    Fx *fx = *state;
    Err err;
    uint8_t data[5000];
    Id id;
    Buf out;
    Repo *r = open_repo(fx, PASS, 0, &err);
    tst_fill_random(data, sizeof data, 11);
    assert_int_equal(repo_blob_put(r, data, sizeof data, &id, &err), 0);
    assert_int_equal(repo_flush(r, &err), 0);
    repo_free(r);
    flip_byte_in_first_pack(fx, 8 + 30);   /* inside the first blob */
    r = open_repo(fx, PASS, 0, &err);
    buf_init(&out, 0);
    assert_int_equal(repo_blob_get(r, &id, &out, &err), ERR_AUTH);
    assert_non_null(strstr(err.msg, "failed authentication"));
    buf_free(&out);
    repo_free(r);
}

static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;
    if (!d) return 0;
    while ((de = readdir(d))) n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

static void test_repair_index_recovers_packs_without_index(void **state)
{
    Fx *fx = *state;
    Err err;
    char idxdir[4200], cmd[8400];
    uint8_t data[200000];
    Id id;
    uint64_t added = 0;
    Buf out;
    Repo *r = open_repo(fx, PASS, 0, &err);
    tst_fill_random(data, sizeof data, 3);
    assert_int_equal(repo_blob_put(r, data, sizeof data, &id, &err), 0);
    assert_int_equal(repo_flush(r, &err), 0);
    repo_free(r);
    snprintf(idxdir, sizeof idxdir, "%s/index", fx->repo);
    assert_int_equal(count_files(idxdir), 1);
    snprintf(cmd, sizeof cmd, "rm -f '%s'/*", idxdir);   /* as if the crash hit before the index put */
    assert_int_equal(system(cmd), 0);

    r = open_repo(fx, PASS, 0, &err);
    assert_false(repo_blob_known(r, &id));
    assert_int_equal(repo_repair_index(r, &added, &err), 0);
    assert_int_equal(added, 1);
    repo_free(r);
    r = open_repo(fx, PASS, 0, &err);
    buf_init(&out, 0);
    assert_int_equal(repo_blob_get(r, &id, &out, &err), 0);
    assert_memory_equal(out.data, data, sizeof data);
    buf_free(&out);
    repo_free(r);
}

static void test_keys_add_remove_and_last_key_kept(void **state)
{
    Fx *fx = *state;
    Err err;
    char id2[ID_HEX_LEN + 1];
    Repo *r = open_repo(fx, PASS, 0, &err);
    char first[ID_HEX_LEN + 1];
    snprintf(first, sizeof first, "%s", repo_key_current(r));
    assert_int_equal(repo_key_add(r, "second pass", 11, "two", id2, &err), 0);
    assert_int_equal(repo_key_remove(r, first, &err), ERR_INVALID);   /* in use */
    repo_free(r);
    r = open_repo(fx, "second pass", 0, &err);
    assert_int_equal(repo_key_remove(r, first, &err), 0);
    assert_int_equal(repo_key_remove(r, id2, &err), ERR_INVALID);     /* last key */
    repo_free(r);
    open_repo(fx, PASS, ERR_AUTH, &err);
}

static void test_init_refuses_existing_repository(void **state)
{
    Fx *fx = *state;
    Sto *sto;
    Err err;
    RepoOptions o = fast_opts();
    assert_int_equal(sto_open_url(fx->repo, 0, &sto, &err), 0);
    assert_int_equal(repo_init(sto, PASS, strlen(PASS), &o, &err), ERR_EXISTS);
    sto_close(sto);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test_setup_teardown(test_stream_round_trip_survives_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_write_of_same_data_adds_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chunk_list_does_not_depend_on_write_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_latest_is_the_newest_even_within_one_second, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_pack_upload_is_sticky_then_recoverable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_passphrase_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_format_is_refused, setup, teardown),
        cmocka_unit_test(test_missing_repository_is_notfound),
        cmocka_unit_test_setup_teardown(test_check_read_data_names_a_tampered_pack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blob_get_of_tampered_chunk_fails_with_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repair_index_recovers_packs_without_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_add_remove_and_last_key_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init_refuses_existing_repository, setup, teardown),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
