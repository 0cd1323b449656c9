#!/usr/bin/env bash
# s3_faults.sh S3_OPS FAULTPROXY: the S3 driver through faultproxy (500/503/
# SlowDown answers, connection resets, stalls, bodies cut short) in front of
# a real Ceph RGW: a few hundred objects put/get/range-get intact, then every
# op of s3_ops, all completing through retries; the retry counts are
# reported and must be non-zero (the faults really happened).
set -euo pipefail
OPS=$1
FP=$2
. "$(dirname "$0")/s3_lib.sh"
FP_PID=
cleanup() {
    [ -n "$FP_PID" ] && kill "$FP_PID" 2>/dev/null
    rm -f "$S3_DIR.port" "$S3_DIR.stats" "$S3_DIR.port.tmp"
    s3_stop
}
trap cleanup EXIT
s3_start
# fast retries and a short low-speed window so stalls cost seconds, not minutes
export TIDEMARK_S3_LOW_SPEED_TIME=2 TIDEMARK_S3_RETRY_BASE_MS=50 TIDEMARK_S3_RETRY_MAX_MS=1000 \
       TIDEMARK_S3_MAX_RETRIES=12 TIDEMARK_S3_CONNECT_TIMEOUT=5

start_proxy() {   # start_proxy SEED: faults at about 15% of requests
    rm -f "$S3_DIR.port" "$S3_DIR.stats"
    "$FP" --upstream "127.0.0.1:$S3_PORT" --port-file "$S3_DIR.port" --stats-file "$S3_DIR.stats" \
        --seed "$1" --error 0.05 --reset 0.03 --stall 0.02 --cut 0.05 --stall-ms 4000 &
    FP_PID=$!
    for _ in $(seq 1 50); do [ -s "$S3_DIR.port" ] && break; sleep 0.1; done
    PROXY=http://127.0.0.1:$(cat "$S3_DIR.port")
}
stop_proxy() {
    kill "$FP_PID"; wait "$FP_PID" 2>/dev/null || true; FP_PID=
    cat "$S3_DIR.stats"
}
fails=0

start_proxy 1
out=$("$OPS" stress "s3:$PROXY/$S3_BUCKET/faults-$$" 300 8) || fails=$((fails + 1))
echo "$out"
stop_proxy
retries=$(sed -n 's/.* \([0-9]*\) retries (sto_s3_retry_count.*/\1/p' <<<"$out")
[ "${retries:-0}" -gt 0 ] || { echo "FAIL: no retries reported through the fault proxy"; fails=$((fails + 1)); }
grep -Eq 'error=[1-9].*reset=[1-9].*stall=[1-9].*cut=[1-9]' "$S3_DIR.stats" \
    || { echo "FAIL: the proxy did not inject every kind of fault"; fails=$((fails + 1)); }

start_proxy 2
TIDEMARK_S3_MULTIPART_THRESHOLD=6M TIDEMARK_S3_PART_SIZE=5M "$OPS" ops "s3:$PROXY/$S3_BUCKET/faults-ops-$$" \
    || fails=$((fails + 1))
stop_proxy
echo "s3_faults.sh: $fails failed step(s)"
[ "$fails" = 0 ]
