#!/bin/bash
# files_tamper.sh: issue 2 acceptance 4. One flipped byte inside a pack:
# `check --read-data` reports that pack and fails; restoring files that do
# not use the pack still works; restoring a file that does fails with a
# clear error naming the file, and leaves no wrong bytes behind.
# TM_REPO_KIND=s3: the same against a private Ceph RGW, the byte flipped
# through the S3 API (test files_tamper_s3).
set -euo pipefail
: "${TM_BIN:?}" "${TM_SRC:?}"
export TIDEMARK_KDF=fast
W=$(mktemp -d "${TMPDIR:-/tmp}/tm-files-tamper.XXXXXX")
trap 'rm -rf "$W"' EXIT
printf 'tamper pass\n' > "$W/pw"
chmod 600 "$W/pw"
REPO="$W/repo"
S3OBJ="python3 $TM_SRC/tests/support/s3obj.py"
if [ "${TM_REPO_KIND:-local}" = s3 ]; then   # the s3 variant: a private Ceph RGW
    . "$TM_SRC/tests/integration/s3_lib.sh"
    trap 's3_stop; rm -rf "$W"' EXIT
    s3_start
    PREFIX="tamper-$$"
    REPO="s3:$S3_ENDPOINT/$S3_BUCKET/$PREFIX"
fi
export TIDEMARK_PASSWORD_FILE="$W/pw" TIDEMARK_REPOSITORY="$REPO"
# largest_pack: "SIZE NAME" of the largest pack object (a file, or an S3 key)
largest_pack() {
    if [ "${TM_REPO_KIND:-local}" = s3 ]; then
        $S3OBJ list "$PREFIX/packs/" | sort -n | tail -n 1
    else
        find "$W/repo/packs" -type f -printf '%s %p\n' | sort -n | tail -n 1
    fi
}
# flip_byte NAME OFFSET: xor one byte of a pack; on S3 through the API
# (get the object, change it, put it back)
flip_byte() {
    local f=$1
    if [ "${TM_REPO_KIND:-local}" = s3 ]; then f="$W/pack.tmp"; $S3OBJ get "$1" "$f"; fi
    python3 - "$f" "$2" <<'PY'
import sys
p, off = sys.argv[1], int(sys.argv[2])
with open(p, "r+b") as f:
    f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 0x01]))
PY
    if [ "${TM_REPO_KIND:-local}" = s3 ]; then $S3OBJ put "$1" "$f"; rm -f "$f"; fi
}
tm() { "$TM_BIN" "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
snap() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["snapshot"])' "$1"; }

tm init >/dev/null
mkdir -p "$W/src/docs/sub"
head -c 3000000 /dev/urandom > "$W/src/docs/b.bin"
tm backup files --instance t --json "$W/src/docs" > "$W/b1.json"
# (one pack per writer thread): take the largest, nearly all b.bin chunks
read -r size PACK < <(largest_pack)
[ -n "${PACK:-}" ] || fail "no pack after the first backup"
# the second backup puts a.bin, c.txt and its tree in new packs; b.bin stays in PACK
head -c 2000000 /dev/urandom > "$W/src/docs/a.bin"
seq 1 1000 > "$W/src/docs/sub/c.txt"
sleep 1   # distinct snapshot times
tm backup files --instance t --json "$W/src/docs" > "$W/b2.json"
S2=$(snap "$W/b2.json")
tm check --read-data >/dev/null || fail "check before tampering"

# flip one byte in the middle of the pack: inside one of b.bin's chunks
# (a few hundred bytes of tree beside ~3 MB of b.bin data)
flip_byte "$PACK" $((size / 2))
echo "flipped byte $((size / 2)) of $PACK"

rc=0
tm check --read-data > "$W/check.out" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "check --read-data passed on a tampered pack"
grep -q "$(basename "$PACK")" "$W/check.out" || fail "check does not name the pack: $(cat "$W/check.out")"
echo "check --read-data: exit $rc, names the pack"

# files that do not use the pack restore fine
tm restore files "$S2" --target "$W/ok" --include docs/a.bin --include docs/sub >/dev/null \
    || fail "restoring files outside the damaged pack"
cmp "$W/src/docs/a.bin" "$W/ok/docs/a.bin" || fail "a.bin content"
cmp "$W/src/docs/sub/c.txt" "$W/ok/docs/sub/c.txt" || fail "c.txt content"

# the file that does use it fails, naming the file (and the chunk/pack)
rc=0
tm restore files "$S2" --target "$W/bad" --include docs/b.bin 2> "$W/err" || rc=$?
[ "$rc" -ne 0 ] || fail "restoring the damaged file succeeded"
grep -q "docs/b.bin" "$W/err" || fail "error does not name the file: $(cat "$W/err")"
echo "restore of the damaged file: exit $rc: $(tail -n 1 "$W/err")"
[ ! -e "$W/bad/docs/b.bin" ] || fail "a damaged file was left behind with wrong bytes"

# a full restore restores what it can and fails naming the damaged file
rc=0
tm restore files "$S2" --target "$W/all" 2> "$W/err2" || rc=$?
[ "$rc" -ne 0 ] || fail "a full restore with a damaged file succeeded"
grep -q "docs/b.bin" "$W/err2" || fail "full restore error does not name the file"
cmp "$W/src/docs/a.bin" "$W/all/docs/a.bin" || fail "full restore lost the intact a.bin"
[ ! -e "$W/all/docs/b.bin" ] || fail "full restore left the damaged b.bin"
echo "PASS files tamper"
