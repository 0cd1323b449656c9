#!/usr/bin/env bash
# crash_reuse.sh: the packs a killed backup left are reused by the next one
# (issue 10 item 10: "the docs say the next backup carries on").
#  (1) kill -9 a backup once it has put packs, before its snapshot: check
#      warns about packs "not in any index"; the next backup indexes them,
#      says so, and stores far less than the whole tree again; check is then
#      clean and the restore byte-identical;
#  (2) a backup that starts while another is still writing indexes the
#      other's fresh packs too: harmless, the other one commits, check
#      --read-data passes and both restore byte-identical.
. "$(dirname "$0")/lib.sh"
setup_repo
# whole packs only (a kill can also leave the local driver's partial "<key>.tmp-<pid>-<n>")
packs_bytes() { find "$T/repo/packs" -type f ! -name '*.tmp-*' -printf '%s\n' 2>/dev/null | awk '{s+=$1} END {print s+0}'; }
packs_count() { find "$T/repo/packs" -type f ! -name '*.tmp-*' 2>/dev/null | wc -l; }
snap_count() { "$TM_BIN" --json snapshots 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
make_tree "$T/src" 96
src_bytes=$(du -sb "$T/src" | cut -f1)

# ---- (1) killed after some packs, before the snapshot ----------------------------------
killed=0
for attempt in 1 2 3 4 5; do
  "$TM_BIN" -q backup files --instance crash "$T/src" >/dev/null 2>&1 &
  pid=$!
  while kill -0 $pid 2>/dev/null && [ "$(packs_count)" -lt 2 ]; do sleep 0.01; done
  if kill -9 $pid 2>/dev/null; then killed=1; fi
  wait $pid 2>/dev/null || true
  [ "$killed" = 1 ] && [ "$(snap_count)" = 0 ] && break
  # the backup finished first: start again on a fresh repository
  rm -rf "$T/repo"; "$TM_BIN" -q init >/dev/null; killed=0
done
[ "$killed" = 1 ] || fail "could not kill a backup between its packs and its snapshot in 5 tries"
orphan_bytes=$(packs_bytes)
"$TM_BIN" check > "$T/c1.out" 2>&1 || true
n_orphans=$(grep -c "not in any index" "$T/c1.out" || true)
[ "$n_orphans" -ge 1 ] || { cat "$T/c1.out"; fail "check does not see the killed backup's packs"; }
echo "# killed backup left $n_orphans pack(s), $orphan_bytes bytes, of a $src_bytes-byte tree"

# a partial pack the kill left (the local driver's temp file), aged past the hour after
# which a listing removes it
mapfile -t partial < <(find "$T/repo/packs" -type f -name '*.tmp-*')
for p in "${partial[@]}"; do touch -d '2 hours ago' "$p"; done
"$TM_BIN" backup files --instance crash "$T/src" > "$T/b2.out" 2>"$T/b2.err" || { cat "$T/b2.err"; fail "backup after the kill"; }
growth=$(( $(packs_bytes) - orphan_bytes ))
[ "$growth" -lt $(( src_bytes - orphan_bytes / 2 )) ] \
  || fail "the next backup stored $growth bytes again of a $src_bytes-byte tree; the $orphan_bytes bytes left were not reused"
grep -q "pack(s) left by an interrupted backup indexed" "$T/b2.err" || { cat "$T/b2.err"; fail "the backup does not say it indexed the left packs"; }
for p in "${partial[@]}"; do [ ! -e "$p" ] || fail "the killed backup's partial pack $p is still there"; done
"$TM_BIN" check > "$T/c2.out" 2>&1 || { cat "$T/c2.out"; fail "check after the second backup"; }
! grep -q "not in any index" "$T/c2.out" || { cat "$T/c2.out"; fail "packs still not in any index"; }
"$TM_BIN" -q restore files latest --target "$T/r1" >/dev/null || fail "restore after reuse"
diff -r "$T/src" "$T/r1/src" >/dev/null || fail "restored tree differs"
pass "the next backup indexed the $n_orphans pack(s) left (and removed ${#partial[@]} partial one(s)) and stored $growth bytes (tree $src_bytes, left $orphan_bytes); check clean, restore identical"

# ---- (2) a backup starting beside a running one ------------------------------------------
mkdir -p "$T/src2" "$T/small"
make_tree "$T/src2" 64
printf 'small\n' > "$T/small/a.txt"
before=$(packs_count)
"$TM_BIN" -q backup files --instance crash "$T/src2" >"$T/a.out" 2>"$T/a.err" &
apid=$!
while kill -0 $apid 2>/dev/null && [ "$(packs_count)" -lt $(( before + 1 )) ]; do sleep 0.01; done
"$TM_BIN" backup files --instance crash2 "$T/small" >/dev/null 2>"$T/bb.err" || { cat "$T/bb.err"; fail "the second, concurrent backup"; }
wait $apid || { cat "$T/a.err"; fail "the running backup failed beside the second one"; }
"$TM_BIN" -q check --read-data > "$T/c3.out" 2>&1 || { cat "$T/c3.out"; fail "check --read-data after concurrent backups"; }
"$TM_BIN" --instance crash -q restore files latest --target "$T/r2" >/dev/null || fail "restore of the running backup's snapshot"
diff -r "$T/src2" "$T/r2/src2" >/dev/null || fail "the running backup's tree differs after restore"
pass "a backup beside a running one: both committed, check --read-data clean, restore identical ($(grep -o '[0-9]* pack(s)' "$T/bb.err" || echo 'no') packs adopted in flight)"
echo "crash_reuse: all checks passed"
