#!/usr/bin/env bash
# bench/binlog-lag.sh: how far the binlog archive trails a busy server
# (issue 5, acceptance 2).
#
#   bench/binlog-lag.sh [SECONDS] [RATE] [THREADS]      (defaults 60 1500 4)
#
# A sandbox MariaDB (tests/support/mariadb-sandbox.sh), `tidemark binlog
# follow` with binlog_flush_seconds=5 (BENCH_FLUSH_SECONDS), and
# bench/binlog/binlog_load (built here with CMake) committing RATE small
# transactions per second over THREADS connections for SECONDS. binlog_load
# samples the server's GTID position every 200 ms; this script runs
# `tidemark --json binlog status` every second. The lag of a status sample
# taken at time t whose last archived GTID is a: t minus the moment the
# server committed GTID a+1 (interpolated between server samples; 0 when
# nothing is unarchived). Follower CPU: utime+stime from /proc/<pid>/stat
# over the load window; RSS peak: VmHWM at the end.
# Prints a markdown table; nothing is asserted (benchmarks are not tests).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SECS=${1:-60} RATE=${2:-1500} THREADS=${3:-4}
FLUSH=${BENCH_FLUSH_SECONDS:-5}
SB=$TM_SRC_DIR/tests/support/mariadb-sandbox.sh
find_tidemark
[ -n "$TM" ] || die "no tidemark binary (build a release build or set TM_BIN)"
need mariadb python3 cmake
LOADB=$TM_SRC_DIR/build/bench-binlog
note "building bench/binlog/binlog_load in $LOADB"
cmake -S "$TM_SRC_DIR/bench/binlog" -B "$LOADB" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$LOADB" >/dev/null
W=$(mktemp -d "${BENCH_WORK:-/var/tmp}/tm-bench-binlog.XXXXXX")
FPID=
cleanup() {
  [ -n "$FPID" ] && kill -TERM "$FPID" 2>/dev/null && wait "$FPID" 2>/dev/null
  "$SB" stop "$W/db" >/dev/null 2>&1 || true
  [ -n "${BENCH_KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT

eval "$("$SB" start "$W/db")"
# a repository with the fast KDF: each status run opens it, and the real
# Argon2id cost would be CPU taken from the follower on this 2-core machine
export TIDEMARK_KDF=fast
printf 'bench passphrase\n' > "$W/pw"; chmod 600 "$W/pw"
export TIDEMARK_PASSWORD_FILE=$W/pw TIDEMARK_REPOSITORY=$W/repo
unset TIDEMARK_CONFIG
"$TM" -q init >/dev/null
export TIDEMARK_DB_SOCKET=$TM_DB_SOCKET TIDEMARK_DB_USER=root TIDEMARK_SPOOL_DIR=$W/spool
export TIDEMARK_BINLOG_FLUSH_SECONDS=$FLUSH
start=$(mariadb -S "$TM_DB_SOCKET" -uroot -N -e "SHOW MASTER STATUS" | awk '{print $1":"$2}')
"$TM" -q binlog follow --instance bench --start "$start" >"$W/follow.log" 2>&1 &
FPID=$!
for _ in $(seq 1 100); do
  "$TM" --json binlog status --instance bench 2>/dev/null | grep -q '"connected":true' && break
  sleep 0.1
done
kill -0 "$FPID" 2>/dev/null || { cat "$W/follow.log" >&2; die "the follower did not start"; }

cpu() { awk '{print $14 + $15}' "/proc/$FPID/stat"; }
tick=$(getconf CLK_TCK)
note "load: $RATE tx/s for $SECS s over $THREADS connections; follower pid $FPID (seal every $FLUSH s)"
"$LOADB/binlog_load" "$TM_DB_SOCKET" "$SECS" "$RATE" "$THREADS" "$W/server.tsv" >"$W/load.out" &
LPID=$!
c0=$(cpu); t0=$(date +%s.%N)
: >"$W/status.jsonl"
end=$(( $(date +%s) + SECS ))
while [ "$(date +%s)" -lt "$end" ]; do
  sleep 1 & SPID=$!
  s=$("$TM" --json binlog status --instance bench 2>/dev/null || true)
  printf '%s %s\n' "$(date +%s.%N)" "$s" >>"$W/status.jsonl"
  wait "$SPID"
done
c1=$(cpu); t1=$(date +%s.%N)
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$FPID/status")
rss=$(awk '/VmRSS/ {print $2}' "/proc/$FPID/status")
wait "$LPID" || die "the load generator failed: $(cat "$W/load.out")"
kill -TERM "$FPID"; wait "$FPID" || note "follower exit $?"
FPID=
segments=$("$TM" --json binlog list --instance bench | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')

python3 - "$W/server.tsv" "$W/status.jsonl" "$(cat "$W/load.out")" "$c0" "$c1" "$t0" "$t1" "$tick" \
         "$hwm" "$rss" "$FLUSH" "$SECS" "$RATE" "$THREADS" "$segments" <<'PY'
import json, sys
(srv_f, st_f, load, c0, c1, t0, t1, tick, hwm, rss, flush, secs, rate, threads,
 segments) = sys.argv[1:]
srv, pos = [], []
for line in open(srv_f):
    p = line.split()
    srv.append((float(p[0]), int(p[1])))
    pos.append((float(p[0]), p[2], int(p[3])))
# binlog bytes written per second over the load (one file: no rotation at this size)
end = next(i for i, x in enumerate(srv) if x[1] == srv[-1][1])   # the load's last commit
rate_b = [(b[2] - a[2]) / (b[0] - a[0]) for a, b in [(pos[0], pos[end])] if a[1] == b[1] and b[0] > a[0]]
def committed_at(seq):
    """Interpolated time at which the server's GTID seq first reached seq."""
    for k in range(1, len(srv)):
        if srv[k][1] >= seq:
            (ta, sa), (tb, sb) = srv[k - 1], srv[k]
            if sa >= seq:
                return ta
            return ta + (seq - sa) / (sb - sa) * (tb - ta)
    return None
lags, own = [], []
for line in open(st_f):
    t, _, js = line.partition(" ")
    t = float(t)
    try:
        j = json.loads(js)
    except ValueError:
        continue
    g = j.get("last_archived_gtid") or ""
    a = int(g.split("-")[-1]) if g else 0
    prev = [s for (ts, s) in srv if ts <= t]
    if not prev:
        continue
    if prev[-1] <= a:
        lags.append(0.0)
    else:
        c = committed_at(a + 1)
        lags.append(max(0.0, t - c) if c is not None else float("nan"))
    if j.get("lag_seconds") is not None:
        own.append(j["lag_seconds"])
lags.sort()
def pct(v, q):
    return v[min(len(v) - 1, int(round(q / 100 * (len(v) - 1))))] if v else float("nan")
cpu_pct = (float(c1) - float(c0)) / float(tick) / (float(t1) - float(t0)) * 100
print()
print(f"Workload: {load} ({threads} connections, target {rate} tx/s, {secs} s); "
      f"binlog_flush_seconds={flush}; {len(lags)} samples; {segments} segments archived"
      + (f"; binlog written at {rate_b[0] / 1048576:.2f} MiB/s." if rate_b else "."))
print()
print("| figure | value | target |")
print("| --- | --- | --- |")
print(f"| lag p50 | {pct(lags, 50):.1f} s | |")
print(f"| lag p99 | {pct(lags, 99):.1f} s | <= {int(flush) + 2} s |")
print(f"| lag max | {lags[-1] if lags else float('nan'):.1f} s | |")
if own:
    own.sort()
    print(f"| follower's own lag_seconds p99 / max | {pct(own, 99)} / {own[-1]} s | |")
print(f"| follower CPU | {cpu_pct:.1f} % of one core | <= 10 % |")
print(f"| follower RSS peak (VmHWM) | {int(hwm) / 1024:.1f} MiB (VmRSS at end {int(rss) / 1024:.1f} MiB) | bounded |")
PY
