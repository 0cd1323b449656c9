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
expect_fail 2 "already exists" "$TM_BIN" init
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

# S3 settings from the config file ([repository] s3_* keys), none from the
# environment; the secret only in a 0600 file
printf '%s\n' "$AWS_SECRET_ACCESS_KEY" > "$T/s3-secret"; chmod 600 "$T/s3-secret"
printf 'wrong-secret\n' > "$T/s3-bad-secret"; chmod 600 "$T/s3-bad-secret"
write_conf() {   # write_conf SECRET_FILE
  printf '[repository]\nurl = %s\npassword_file = %s\ns3_access_key_id = %s\ns3_secret_access_key_file = %s\n%s\n' \
    "$DIRECT" "$T/pw" "$AWS_ACCESS_KEY_ID" "$1" "s3_region = $AWS_REGION
s3_connect_timeout = 5
s3_max_retries = 2" > "$T/s3.conf"
}
noenv=(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_REGION -u TIDEMARK_REPOSITORY
       -u TIDEMARK_PASSWORD_FILE HOME=/nonexistent)
write_conf "$T/s3-secret"
"${noenv[@]}" "$TM_BIN" -c "$T/s3.conf" --json snapshots >"$T/out" 2>"$T/err" || { cat "$T/err" >&2; fail "snapshots with S3 settings from the config"; }
grep -q '"s3"' "$T/out" || { cat "$T/out" >&2; fail "snapshots through the config lists no snapshot of instance s3"; }
write_conf "$T/s3-bad-secret"
expect_fail_any "wrong secret key" "${noenv[@]}" "$TM_BIN" -c "$T/s3.conf" snapshots
pass "S3 credentials and settings from the config file"

# crash safety on S3 (kill -9 at random moments, multipart uploads in flight
# included) is the test crash_backup_s3: crash_backup.sh with TM_REPO_KIND=s3
