/* files_craft.c: writes a snapshot whose files tree is hostile, for
 * files_safety.sh. Usage: files_craft REPO PASSFILE CASE OUTSIDE_DIR
 * Prints the snapshot id. The entries go through the real codec and the
 * real repository, exactly as a tampered-but-authentic manifest would (an
 * attacker holding the keys, or a bug in a writer). CASE:
 *   dotdot    docs, docs/../escape            (a file one level up)
 *   absolute  OUTSIDE_DIR/abs-file            (an absolute path)
 *   symlink   docs, docs/link -> OUTSIDE_DIR, docs/link/file
 *   hardlink  docs, docs/h hard link to ../../etc/hostname
 *   order     docs, docs/b, docs/a            (out of order / duplicates) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/source/files/src_files.h"

static int add(RepoStream *tree, Repo *r, SrcFilesType type, const char *path, const char *link,
               const char *content, Err *err)
{
    SrcFilesEntry e = {0};
    RepoStream *s = NULL;
    RepoStreamRef ref = {0};
    Buf b;
    int rc = 0;
    buf_init(&b, 1 << 20);
    e.path = strdup(path);
    e.type = type;
    e.mode = type == SRC_FILES_DIR ? 0755 : 0644;
    e.mtime_ns = 1000000000LL;
    if (link) e.link = strdup(link);
    if (type == SRC_FILES_FILE || type == SRC_FILES_HARDLINK) {
        rc = repo_stream_begin(r, REPO_CHUNK_FILES, &s, err);
        if (!rc) rc = repo_stream_write(s, content, strlen(content), err);
        if (!rc) rc = repo_stream_end(s, &ref, err);
        if (rc) goto out;
        e.data = repo_streamref_to_json(&ref);
        e.size = ref.size;
    }
    rc = src_files_entry_encode(&e, &b, err);
    if (!rc) rc = repo_stream_write(tree, b.data, b.len, err);
out:
    repo_streamref_free(&ref);
    src_files_entry_clear(&e);
    buf_free(&b);
    return rc;
}

int main(int argc, char **argv)
{
    Err err;
    Sto *sto = NULL;
    Repo *r = NULL;
    RepoStream *tree = NULL;
    RepoStreamRef ref = {0};
    RepoOptions o;
    char pw[256], path[4096], hex[ID_HEX_LEN + 1];
    Id id;
    int rc;

    err_clear(&err);
    if (argc != 5) {
        fprintf(stderr, "usage: files_craft REPO PASSFILE CASE OUTSIDE_DIR\n");
        return 2;
    }
    FILE *f = fopen(argv[2], "r");
    if (!f || !fgets(pw, sizeof pw, f)) {
        fprintf(stderr, "files_craft: cannot read %s\n", argv[2]);
        return 2;
    }
    fclose(f);
    pw[strcspn(pw, "\n")] = 0;
    const char *cs = argv[3], *outside = argv[4];
    repo_options_default(&o);
    rc = sto_open_url(argv[1], 0, &sto, &err);
    if (!rc) {
        rc = repo_open(sto, pw, strlen(pw), &o, &r, &err);
        sto = NULL;   /* repo_open owns it now, also on failure */
    }
    if (!rc) rc = repo_stream_begin(r, REPO_CHUNK_FILES, &tree, &err);
    /* an absolute path sorts before "docs": put it first so the tree is in
     * order and the path check itself is what refuses it */
    if (!rc && strcmp(cs, "absolute") != 0) rc = add(tree, r, SRC_FILES_DIR, "docs", NULL, NULL, &err);
    if (rc) goto out;
    if (!strcmp(cs, "dotdot")) {
        rc = add(tree, r, SRC_FILES_FILE, "docs/../escape", NULL, "pwned dotdot\n", &err);
    } else if (!strcmp(cs, "absolute")) {
        snprintf(path, sizeof path, "%s/abs-file", outside);
        rc = add(tree, r, SRC_FILES_FILE, path, NULL, "pwned absolute\n", &err);
    } else if (!strcmp(cs, "symlink")) {
        rc = add(tree, r, SRC_FILES_SYMLINK, "docs/link", outside, NULL, &err);
        if (!rc) rc = add(tree, r, SRC_FILES_FILE, "docs/link/file", NULL, "pwned symlink\n", &err);
    } else if (!strcmp(cs, "hardlink")) {
        rc = add(tree, r, SRC_FILES_HARDLINK, "docs/h", "../../etc/hostname", "x\n", &err);
    } else if (!strcmp(cs, "order")) {
        rc = add(tree, r, SRC_FILES_FILE, "docs/b", NULL, "b\n", &err);
        if (!rc) rc = add(tree, r, SRC_FILES_FILE, "docs/a", NULL, "a\n", &err);
    } else {
        fprintf(stderr, "files_craft: unknown case %s\n", cs);
        rc = 2;
        goto out;
    }
    if (!rc) rc = repo_stream_end(tree, &ref, &err);
    tree = NULL;
    if (rc) goto out;
    json_t *m = repo_manifest_new("evil", NULL, 0);
    json_t *tj = repo_streamref_to_json(&ref);
    json_object_set_new(tj, "nested", json_string("jsonl"));
    json_array_append_new(json_object_get(m, "items"),
                          json_pack("{s:s, s:s, s:i, s:o, s:i}", "kind", "files", "name", cs,
                                    "tree_version", 1, "tree", tj, "bytes", 0));
    rc = repo_snapshot_put(r, m, &id, &err);
    json_decref(m);
    if (!rc) {
        id_hex(&id, hex);
        printf("%s\n", hex);
    }
out:
    repo_stream_abort(tree);
    repo_streamref_free(&ref);
    if (r) {
        int rc2 = repo_close(r, &err);
        if (!rc) rc = rc2;
    } else {
        sto_close(sto);
    }
    if (rc) fprintf(stderr, "files_craft: %s\n", err.msg);
    return rc ? 1 : 0;
}
