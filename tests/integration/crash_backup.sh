#!/usr/bin/env bash
# Issue 2, acceptance 3: kill -9 of `tidemark backup` at 50 random moments;
# after each, `check --read-data` passes and the next backup succeeds; at the
# end a full backup restores byte-identical.
. "$(dirname "$0")/lib.sh"
N=${TM_CRASH_RUNS:-50}
setup_repo
make_tree "$T/src" 48
# how long does one backup take here? (the kill window)
start=$(date +%s%N)
"$TM_BIN" -q backup files --instance crash "$T/src" >/dev/null
dur_ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$dur_ms" -ge 20 ] || dur_ms=20
echo "# one backup takes ${dur_ms} ms; killing at random points within it"
killed=0
for i in $(seq 1 "$N"); do
  # change part of the tree so each run has new data to write
  head -c $((3 * 1024 * 1024)) /dev/urandom > "$T/src/big/changed$((i % 5)).bin"
  "$TM_BIN" -q backup files --instance crash "$T/src" >/dev/null 2>&1 &
  pid=$!
  sleep "$(awk -v m="$dur_ms" -v s="$RANDOM" 'BEGIN{srand(s); printf "%.3f", rand()*m/1000}')"
  if kill -9 "$pid" 2>/dev/null; then killed=$((killed + 1)); fi
  wait "$pid" 2>/dev/null || true
  "$TM_BIN" -q check --read-data >"$T/check.out" 2>&1 || { cat "$T/check.out" >&2; fail "check --read-data failed after kill $i"; }
done
pass "check --read-data passed after each of $N kills ($killed landed before the backup ended)"
"$TM_BIN" -q backup files --instance crash "$T/src" >/dev/null || fail "backup after the kills failed"
"$TM_BIN" -q check --read-data >/dev/null || fail "final check failed"
"$TM_BIN" -q restore files latest --target "$T/restored" >/dev/null || fail "restore failed"
src_name=$(basename "$T/src")
diff -r "$T/src" "$T/restored/$src_name" >/dev/null || fail "restored tree differs"
pass "backup after the kills succeeds and restores byte-identical"
echo "2 passed, 0 failed"
