#!/bin/bash
# files_roundtrip.sh: issue 2 acceptance 1. A tree with every file type
# (0-byte file, 3 GiB sparse file, odd names, hard links, a symlink out of
# the tree, empty dir, odd permissions, xattrs, ACLs, old mtimes with ns)
# backs up, restores byte-identical with identical metadata (compared by
# files_compare.py), the second backup of the unchanged tree reads no file
# content, --include restores a subset, export tar round-trips through GNU tar.
# TM_REPO_KIND=s3: the same against a private Ceph RGW (test files_roundtrip_s3).
set -euo pipefail
: "${TM_BIN:?}" "${TM_SRC:?}"
export TIDEMARK_KDF=fast
CMP="python3 $TM_SRC/tests/integration/files_compare.py"
W=$(mktemp -d "${TMPDIR:-/tmp}/tm-files-rt.XXXXXX")
trap 'rm -rf "$W"' EXIT
printf 'round trip pass\n' > "$W/pw"
chmod 600 "$W/pw"
REPO="$W/repo"
if [ "${TM_REPO_KIND:-local}" = s3 ]; then   # the s3 variant: a private Ceph RGW
    . "$TM_SRC/tests/integration/s3_lib.sh"
    trap 's3_stop; rm -rf "$W"' EXIT
    s3_start
    REPO="s3:$S3_ENDPOINT/$S3_BUCKET/rt-$$"
fi
export TIDEMARK_PASSWORD_FILE="$W/pw" TIDEMARK_REPOSITORY="$REPO"
tm() { "$TM_BIN" "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

# ---- the tree ----
T="$W/src/docs"
mkdir -p "$T/empty" "$T/private" "$T/shared" "$T/deep/a/b/c" "$T/ünïcödé dir"
: > "$T/zero"
truncate -s 3G "$T/sparse.img"
for off in 0 1024 3071; do   # data islands at 0, 1 GiB and the last MiB
    head -c 65536 /dev/urandom | dd of="$T/sparse.img" bs=1M seek=$off conv=notrunc status=none
done
head -c 5000000 /dev/urandom > "$T/deep/a/b/c/random.bin"
seq 1 200000 > "$T/deep/text.txt"
echo space > "$T/with space"
echo newline > "$T/new"$'\n'"line"
echo utf8 > "$T/café €.txt"
echo latin1 > "$T/"$'\xe9t\xe9'".txt"
echo bytes > "$T/"$'\xff\xfe\x01'
echo linked > "$T/hl-first"
ln "$T/hl-first" "$T/shared/hl-second"
ln -s /etc/passwd "$T/outside-link"
ln -s ../zero "$T/deep/rel-link"
ln -s does/not/exist "$T/dangling"
mkfifo "$T/fifo"
if [ "$(id -u)" = 0 ]; then mknod "$T/devnull" c 1 3 2>/dev/null || true; fi   # a device, where allowed
echo private > "$T/private/key"
chmod 0700 "$T/private"
chmod 0600 "$T/private/key"
chmod 2775 "$T/shared"
chmod 0644 "$T/with space"
chmod 4755 "$T/zero"
if [ "$(id -u)" = 0 ]; then chown 65534:65534 "$T/with space"; fi
XATTR=0
if command -v setfattr >/dev/null && setfattr -n user.tidemark -v "hello world" "$T/café €.txt" 2>/dev/null; then
    setfattr -n user.bin -v 0x00ff00 "$T/shared"
    XATTR=1
fi
ACL=0
if command -v setfacl >/dev/null && setfacl -m u:65534:r "$T/with space" 2>/dev/null; then
    setfacl -d -m u:65534:rx "$T/shared"
    ACL=1
fi
# old mtimes with nanoseconds, on everything (symlinks too), deepest first
python3 - "$T" <<'EOF'
import os, sys
root = os.fsencode(sys.argv[1])
paths = []
for d, dirs, files in os.walk(root):
    paths += [os.path.join(d, n) for n in dirs + files]
paths.sort(key=len, reverse=True)
for i, p in enumerate(paths + [root]):
    t = 981173106_123456789 + i * 1_000_000_007   # 2001-02-03 ... with ns
    os.utime(p, ns=(t, t), follow_symlinks=False)
EOF
echo "tree built (xattrs=$XATTR acls=$ACL)"

# ---- backup, restore, compare ----
tm init >/dev/null
tm backup files --instance rt --tag test --json "$T" > "$W/b1.json"
S1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["snapshot"])' "$W/b1.json")
tm restore files "$S1" --target "$W/out" --json > "$W/r1.json"
$CMP "$T" "$W/out/docs" --sparse sparse.img || fail "restore differs from the source"
[ "$(stat -c %b "$W/out/docs/sparse.img")" -lt 8192 ] || fail "restored sparse file is not sparse"

# ---- second backup of the unchanged tree: nothing read ----
tm backup files --instance rt --json "$T" > "$W/b2.json"
python3 - "$W/b2.json" <<'EOF' || fail "second backup read file contents"
import json, sys
j = json.load(open(sys.argv[1]))
it = j["items"][0]
print("second backup: files_read=%d bytes_read=%d files_cached=%d" % (it["files_read"], it["bytes_read"], it["files_cached"]))
sys.exit(0 if it["files_read"] == 0 and it["bytes_read"] == 0 and it["files_cached"] >= 10 else 1)
EOF

# ---- a changed file is read again, the rest is not ----
echo more >> "$T/deep/text.txt"
tm backup files --instance rt --json "$T" > "$W/b3.json"
python3 -c 'import json,sys; it=json.load(open(sys.argv[1]))["items"][0]; sys.exit(0 if it["files_read"]==1 else 1)' "$W/b3.json" \
    || fail "third backup should read exactly the one changed file"

# ---- --include: a sub-directory and a single file ----
S3=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["snapshot"])' "$W/b3.json")
tm restore files "${S3:0:12}" --target "$W/inc" --include docs/deep/a --include "docs/café €.txt" >/dev/null
[ -f "$W/inc/docs/deep/a/b/c/random.bin" ] || fail "include of a sub-directory"
[ -f "$W/inc/docs/café €.txt" ] || fail "include of a single file"
[ ! -e "$W/inc/docs/zero" ] && [ ! -e "$W/inc/docs/sparse.img" ] || fail "include restored too much"
cmp "$T/deep/a/b/c/random.bin" "$W/inc/docs/deep/a/b/c/random.bin" || fail "include content"
if tm restore files "$S3" --target "$W/inc2" --include docs/nothing-here 2>"$W/err"; then
    fail "an include that matches nothing must fail"
fi
grep -q "matches nothing" "$W/err" || fail "include error message: $(cat "$W/err")"

# ---- a target whose parents do not exist: created (0700), like mkdir -p ----
tm restore files "$S3" --target "$W/new parent/deeper/out/" >/dev/null 2>"$W/err" \
    || fail "restore into a target with missing parents: $(cat "$W/err")"
$CMP "$T" "$W/new parent/deeper/out/docs" --sparse sparse.img || fail "restore under created parents differs"
for d in "$W/new parent" "$W/new parent/deeper" "$W/new parent/deeper/out"; do
    [ "$(stat -c %a "$d")" = 700 ] || fail "created parent $d has mode $(stat -c %a "$d"), not 700"
done
printf x > "$W/plainfile"
if tm restore files "$S3" --target "$W/plainfile/sub/out" 2>"$W/err"; then fail "a file as a parent must fail"; fi
grep -q "plainfile" "$W/err" || fail "the error does not name the path: $(cat "$W/err")"
if tm restore files "$S3" --target "$W/plainfile" 2>"$W/err"; then fail "a file as the target must fail"; fi
grep -q "not a directory" "$W/err" || fail "target-is-a-file message: $(cat "$W/err")"
echo "ok - missing parents of --target created with mode 0700; a file in the way refused"

# ---- check passes ----
tm check --read-data >/dev/null || fail "check --read-data after the backups"

# ---- export tar: GNU tar reads it back ----
tm export tar "$S3" > "$W/all.tar"
mkdir "$W/untar"
tar --warning=no-unknown-keyword --xattrs --xattrs-include='*' --acls -xpf "$W/all.tar" -C "$W/untar"
$CMP "$T" "$W/untar/docs" --sparse sparse.img || fail "tar export differs from the source"
echo "PASS files round trip"
