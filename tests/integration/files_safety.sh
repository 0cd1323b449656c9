#!/bin/bash
# files_safety.sh: issue 2 acceptance 5, "a malicious manifest path". Crafted
# snapshots (files_craft) whose trees hold "../escape", an absolute path, a
# symlink to a directory outside followed by a file under it, a hard link
# to ../../etc/hostname, and out-of-order entries. Each restore must fail
# with a clear error naming the entry, and nothing may appear outside the
# target. A sane snapshot in the same repository still restores.
set -euo pipefail
: "${TM_BIN:?}" "${TM_SRC:?}"
CRAFT=${1:?usage: files_safety.sh FILES_CRAFT_BINARY}
export TIDEMARK_KDF=fast
W=$(mktemp -d "${TMPDIR:-/tmp}/tm-files-safe.XXXXXX")
trap 'rm -rf "$W"' EXIT
printf 'safety pass\n' > "$W/pw"
chmod 600 "$W/pw"
export TIDEMARK_PASSWORD_FILE="$W/pw" TIDEMARK_REPOSITORY="$W/repo"
fail() { echo "FAIL: $*" >&2; exit 1; }
"$TM_BIN" init >/dev/null
mkdir -p "$W/outside" "$W/box"

check_case() {   # case, expected message fragment
    local id rc
    id=$("$CRAFT" "$W/repo" "$W/pw" "$1" "$W/outside")
    rc=0
    "$TM_BIN" restore files "$id" --target "$W/box/target" 2>"$W/err.$1" || rc=$?
    [ "$rc" -ne 0 ] || fail "$1: the restore of a malicious manifest succeeded"
    [ "$(wc -l < "$W/err.$1")" -ge 1 ] || fail "$1: no error message"
    grep -q -- "$2" "$W/err.$1" || fail "$1: message lacks '$2': $(cat "$W/err.$1")"
    echo "$1: refused (exit $rc): $(tail -n 1 "$W/err.$1")"
    # nothing outside the target: the sandbox holds only target/, outside/ stays empty
    [ -z "$(ls -A "$W/outside")" ] || fail "$1: wrote into the outside directory: $(ls -A "$W/outside")"
    [ "$(ls -A "$W/box")" = target ] || fail "$1: wrote next to the target: $(ls -A "$W/box")"
    [ ! -e "$W/escape" ] && [ ! -e "$W/box/escape" ] || fail "$1: ../escape was written"
    # what was restored is inside: no file anywhere under target resolves outside it
    if find "$W/box/target" -type f | grep -q .; then
        find "$W/box/target" -type f -exec grep -l pwned {} + && fail "$1: a hostile file landed inside"
    fi
    rm -rf "$W/box/target"
}
check_case dotdot 'refusing unsafe path docs/../escape in snapshot: ".." component'
check_case absolute "refusing unsafe path $W/outside/abs-file in snapshot: absolute path"
check_case symlink 'docs/link/file'
check_case hardlink 'refusing unsafe path ../../etc/hostname'
check_case order 'docs/a is out of order or duplicated'

# the symlink itself was restored as a symlink (never followed)
id=$("$CRAFT" "$W/repo" "$W/pw" symlink "$W/outside")
"$TM_BIN" restore files "$id" --target "$W/box/target" 2>/dev/null || true
[ -L "$W/box/target/docs/link" ] || fail "the symlink entry should be restored as a symlink"
[ -z "$(ls -A "$W/outside")" ] || fail "the symlink was followed"

# a normal backup in the same repository still restores
mkdir -p "$W/src/docs/sub" && echo ok > "$W/src/docs/sub/f"
"$TM_BIN" backup files --instance good "$W/src/docs" >/dev/null 2>&1
"$TM_BIN" --instance good restore files latest --target "$W/ok" >/dev/null
cmp "$W/src/docs/sub/f" "$W/ok/docs/sub/f" || fail "a normal restore after the refused ones"
echo "PASS files safety"
