#!/usr/bin/env bash
# s3_cli.sh FAULTPROXY: tidemark itself on S3 (Ceph RGW) through faultproxy:
# init on an empty prefix, refusal to init over it, backup files, check
# --read-data, restore byte-identical, all completing through retries whose
# counts are reported; then bad input through the CLI (wrong secret, missing
# bucket, unreachable endpoint): one clear line and a non-zero exit.
# TM_S3_BACKUP_MB (default 64) sets the size of the backed-up tree.
set -euo pipefail
FP=$1
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/s3_lib.sh"
FP_PID=
cleanup_hooks+=('[ -n "$FP_PID" ] && kill "$FP_PID"' 's3_stop')
s3_start
export TIDEMARK_S3_LOW_SPEED_TIME=2 TIDEMARK_S3_RETRY_BASE_MS=50 TIDEMARK_S3_RETRY_MAX_MS=1000 \
       TIDEMARK_S3_MAX_RETRIES=12 TIDEMARK_S3_CONNECT_TIMEOUT=5
"$FP" --upstream "127.0.0.1:$S3_PORT" --port-file "$T/fp.port" --stats-file "$T/fp.stats" --seed 3 \
    --error 0.05 --reset 0.03 --stall 0.02 --cut 0.05 --stall-ms 4000 &
FP_PID=$!
for _ in $(seq 1 50); do [ -s "$T/fp.port" ] && break; sleep 0.1; done
PROXY=http://127.0.0.1:$(cat "$T/fp.port")
REPO=s3:$PROXY/$S3_BUCKET/cli-$$

# tidemark logs "<location>: N requests, M retried, K gave up" at info when it retried
retried() { sed -n 's/.* \([0-9]*\) retried, .*/\1/p' "$1" | awk '{s += $1} END {print s + 0}'; }
total=0
step() {   # step NAME cmd...: run, keep stderr, add up the retries
    local name=$1 rc=0; shift
    "$@" >"$T/$name.out" 2>"$T/$name.err" || rc=$?
    local r; r=$(retried "$T/$name.err")
    total=$((total + r))
    echo "# $name: exit $rc, $r retries"
    [ "$rc" = 0 ] || { cat "$T/$name.err" >&2; fail "$name failed"; }
}

setup_pw() { printf 'integration test passphrase\n' > "$T/pw"; chmod 600 "$T/pw"; }
setup_pw
export TIDEMARK_PASSWORD_FILE=$T/pw TIDEMARK_REPOSITORY=$REPO
unset TIDEMARK_CONFIG
make_tree "$T/src" "${TM_S3_BACKUP_MB:-64}"
step init "$TM_BIN" init
pass "init on an empty bucket prefix"
expect_fail 1 "already exists" "$TM_BIN" init
pass "init over an existing repository refused"
t0=$(date +%s.%N)
step backup "$TM_BIN" backup files --instance s3 "$T/src"
t1=$(date +%s.%N)
step check "$TM_BIN" check --read-data
grep -q "check passed" "$T/check.out" || { cat "$T/check.out"; fail "check --read-data did not pass"; }
step restore "$TM_BIN" restore files latest --target "$T/restored"
t2=$(date +%s.%N)
diff -r "$T/src" "$T/restored/src" >/dev/null || fail "restored tree differs"
kill "$FP_PID"; wait "$FP_PID" 2>/dev/null || true; FP_PID=
awk -v a="$t0" -v b="$t1" -v c="$t2" -v mb="${TM_S3_BACKUP_MB:-64}" \
    'BEGIN { printf "# backup %.1f s, check+restore %.1f s for %d MiB through the fault proxy\n", b-a, c-b, mb }'
echo "# faultproxy: $(cat "$T/fp.stats")"
echo "# retries reported by tidemark: $total"
[ "$total" -gt 0 ] || fail "no retries reported through the fault proxy"
pass "backup, check --read-data and restore through injected faults ($total retries)"

# bad input through the CLI, straight to RGW
expect_fail_any() {   # expect_fail_any FRAGMENT cmd...: non-zero exit, FRAGMENT on one stderr line
    local frag=$1 rc=0; shift
    "$@" >"$T/out" 2>"$T/err" || rc=$?
    [ "$rc" != 0 ] || fail "expected a failure: $*"
    grep -qF -- "$frag" "$T/err" || { cat "$T/err" >&2; fail "stderr lacks '$frag'"; }
    ! grep -qF -- "$AWS_SECRET_ACCESS_KEY" "$T/err" || fail "the secret key leaked into stderr"
    echo "# exit $rc: $(head -n 1 "$T/err")"
}
DIRECT=s3:$S3_ENDPOINT/$S3_BUCKET/cli-$$
expect_fail_any "wrong secret key" env AWS_SECRET_ACCESS_KEY=not-the-secret "$TM_BIN" -r "$DIRECT" snapshots
expect_fail_any "bucket 'nobucket-$$' does not exist" "$TM_BIN" -r "s3:$S3_ENDPOINT/nobucket-$$/x" snapshots
expect_fail_any "clock skew" env TIDEMARK_S3_CLOCK_OFFSET=-7200 "$TM_BIN" -r "$DIRECT" snapshots
expect_fail_any "Couldn't connect" env TIDEMARK_S3_MAX_RETRIES=1 "$TM_BIN" -r "s3:http://127.0.0.1:$(s3_pick_port)/bkt/x" snapshots
pass "bad input through the CLI: one clear line, non-zero exit"

# crash safety on S3: kill -9 at random moments of a backup (single PUTs and
# multipart uploads in flight); check --read-data must pass after each kill
export TIDEMARK_S3_MULTIPART_THRESHOLD=6M TIDEMARK_S3_PART_SIZE=5M
killed=0
for i in 1 2 3 4; do
  head -c $((12 * 1024 * 1024)) /dev/urandom > "$T/src/big/changed$i.bin"
  "$TM_BIN" -q -r "$DIRECT" backup files --instance s3 "$T/src" >/dev/null 2>&1 &
  pid=$!
  sleep "0.$((RANDOM % 9 + 1))"
  if kill -9 "$pid" 2>/dev/null; then killed=$((killed + 1)); fi
  wait "$pid" 2>/dev/null || true
  "$TM_BIN" -q -r "$DIRECT" check --read-data >"$T/check.out" 2>&1 || { cat "$T/check.out" >&2; fail "check --read-data failed after kill $i"; }
done
"$TM_BIN" -q -r "$DIRECT" backup files --instance s3 "$T/src" >/dev/null || fail "backup after the kills failed"
"$TM_BIN" -q -r "$DIRECT" check --read-data >/dev/null || fail "check after the kills failed"
pass "check --read-data passes after each of 4 kills -9 of a backup ($killed landed mid-backup); the next backup works"
