#!/usr/bin/env bash
# cli_snapshot_pick.sh: one way to name a snapshot, and "latest" picks one
# that holds what the command restores (issue 11):
#  - `restore files` and `export tar` take --snapshot ID (the positional ID
#    still works); both at once is a usage error (exit 2);
#  - `restore files latest` after a `backup db` restores the documents of the
#    newest snapshot that has files (it failed: "no files item");
#  - `restore files latest --include docs/...` after an ad-hoc `backup files`
#    restores from the newest snapshot that holds docs (it took the ad-hoc one);
#  - `export sql --snapshot latest` after a `backup files` takes the newest
#    snapshot with a database item; --tag filters `latest` and `snapshots`;
#  - `restore files` into a target holding changed files refuses (exit 2,
#    naming them, nothing written) unless --overwrite; identical files pass.
source "$(dirname "$0")/lib.sh"
SB="$TM_SRC/tests/support/mariadb-sandbox.sh"
eval "$(TM_DB_BUFFER_POOL=64M "$SB" start "$T/db")" || exit $?
cleanup_hooks+=("'$SB' stop '$T/db'")
mariadb --socket="$TM_DB_SOCKET" -uroot -e "CREATE DATABASE shop; CREATE TABLE shop.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO shop.t VALUES (1, 'first')"
instance_config prod "$TM_DB_SOCKET" shop 4101
mkdir -p "$T/docs/sub" "$T/adhoc"
printf 'invoice 1\n' > "$T/docs/sub/a.txt"
printf 'other\n' > "$T/adhoc/o.txt"
printf 'documents_dir = %s\n' "$T/docs" >> "$T/tm.conf"
TM() { "$TM_BIN" --instance prod "$@"; }

TM -q backup --tag nightly || fail "backup"
S1=$(TM --json snapshots | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')
TM -q backup db || fail "backup db"

# latest after a database-only backup: the newest snapshot with files
TM -q restore files latest --target "$T/r1" || fail "restore files latest after backup db"
cmp "$T/docs/sub/a.txt" "$T/r1/docs/sub/a.txt" || fail "r1 content"
TM -q restore files --snapshot latest --target "$T/r1b" || fail "restore files --snapshot latest"
[ -f "$T/r1b/docs/sub/a.txt" ] || fail "r1b content"
TM -q restore files --snapshot "${S1:0:8}" --target "$T/r1c" || fail "restore files --snapshot ID"
[ -f "$T/r1c/docs/sub/a.txt" ] || fail "r1c content"
expect_fail 2 "give the snapshot once" TM restore files --snapshot latest latest --target "$T/r1d"
expect_fail 2 "which snapshot" TM restore files --target "$T/r1d"
pass "restore files latest skips a database-only snapshot; --snapshot and the positional ID"

# an ad-hoc files backup is the newest snapshot now
TM -q backup files "$T/adhoc" || fail "backup files"
TM -q restore files latest --include docs/sub/a.txt --target "$T/r2" || fail "restore --include docs after ad-hoc"
cmp "$T/docs/sub/a.txt" "$T/r2/docs/sub/a.txt" || fail "r2 content"
[ ! -e "$T/r2/adhoc" ] || fail "r2 holds the ad-hoc tree"
TM -q restore files latest --target "$T/r3" || fail "restore files latest (ad-hoc)"
[ -f "$T/r3/adhoc/o.txt" ] || fail "plain latest is the newest snapshot with files"
TM export sql --snapshot latest > "$T/dump.sql" || fail "export sql --snapshot latest after backup files"
grep -q "first" "$T/dump.sql" || fail "dump lacks the row"
pass "latest holds what is restored (files by --include, database item)"

# --tag
TM export tar --snapshot latest --tag nightly > "$T/n.tar" || fail "export tar --tag nightly"
tar -tf "$T/n.tar" | grep -qx "docs/sub/a.txt" || fail "tagged tar lacks docs"
[ "$(TM --json snapshots --tag nightly | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] \
  || fail "snapshots --tag nightly"
expect_fail 3 "with tag weekly" TM restore files latest --tag weekly --target "$T/r4"
pass "--tag filters latest and snapshots"

# restore into a target that holds changed files
TM -q restore files latest --include docs --target "$T/r2" || fail "restore over an identical tree must pass"
printf 'changed by hand\n' > "$T/r2/docs/sub/a.txt"
printf 'mine\n' > "$T/r2/docs/sub/keep.txt"
expect_fail 2 "docs/sub/a.txt" TM restore files latest --include docs --target "$T/r2"
grep -q "overwrite" "$T/err" || fail "the refusal does not name --overwrite"
[ "$(cat "$T/r2/docs/sub/a.txt")" = "changed by hand" ] || fail "the refused restore wrote a file"
TM -q restore files latest --include docs --target "$T/r2" --overwrite || fail "--overwrite"
cmp "$T/docs/sub/a.txt" "$T/r2/docs/sub/a.txt" || fail "--overwrite did not restore the file"
[ -f "$T/r2/docs/sub/keep.txt" ] || fail "a file the snapshot does not hold was removed"
pass "changed files refused unless --overwrite"
echo "PASS cli snapshot pick"
