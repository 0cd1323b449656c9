# lib.sh: helpers shared by bench/files.sh and bench/db.sh (sourced, not run).
#   measure KEY CMD...      run CMD under /usr/bin/time -v, log its output to
#                           $LOGDIR/KEY.log, record wall seconds, max RSS and
#                           CPU seconds in $RESULTS (TSV: key wall rss_kb cpu)
#   record KEY VALUE        a plain figure (bytes, counts) into $RESULTS
#   get KEY [FIELD]         read it back (FIELD: wall|rss|cpu|value)
#   find_tidemark           sets TM (path of the tidemark binary) or empty
#   dir_bytes DIR           apparent size in bytes (du --apparent-size -sb)
# Callers set RESULTS and LOGDIR before using them.

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TM_SRC_DIR=$(cd "$BENCH_ROOT/.." && pwd)

die() { echo "bench: $*" >&2; exit 1; }
note() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

need() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || die "$c not installed (scripts/install-deps.sh --bench installs the peer tools)"
  done
}

# /usr/bin/time -v prints "Elapsed (wall clock) time (h:mm:ss or m:ss): 1:02.33"
_wall_secs() {
  awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0;
      for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s }' "$1"
}
_field() { awk -F': ' -v k="$2" 'index($0, k) { gsub(/ /, "", $2); print $2; exit }' "$1"; }

measure() {
  local key=$1; shift
  local tf="$LOGDIR/$key.time" lf="$LOGDIR/$key.log" rc=0
  note "$key: $*"
  /usr/bin/time -v -o "$tf" "$@" >"$lf" 2>&1 || rc=$?
  if [ "$rc" != 0 ]; then
    echo "bench: $key failed (exit $rc); last lines of $lf:" >&2
    tail -n 15 "$lf" >&2
    return "$rc"
  fi
  local wall rss usr sys
  wall=$(_wall_secs "$tf")
  rss=$(_field "$tf" "Maximum resident set size (kbytes)")
  usr=$(_field "$tf" "User time (seconds)")
  sys=$(_field "$tf" "System time (seconds)")
  printf '%s\t%s\t%s\t%s\n' "$key" "$wall" "$rss" "$(awk -v u="$usr" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')" >>"$RESULTS"
  note "$key: ${wall} s, max RSS $((rss / 1024)) MiB"
}

record() { printf '%s\t%s\t\t\n' "$1" "$2" >>"$RESULTS"; }

get() {
  local key=$1 f=${2:-wall} col
  case $f in wall|value) col=2 ;; rss) col=3 ;; cpu) col=4 ;; *) return 1 ;; esac
  awk -F'\t' -v k="$key" -v c="$col" '$1 == k { v = $c } END { print v }' "$RESULTS"
}

dir_bytes() { du --apparent-size -sb "$1" | cut -f1; }

find_tidemark() {
  TM=
  if [ -n "${TM_BIN:-}" ]; then
    [ -x "$TM_BIN" ] && TM=$TM_BIN
    return 0
  fi
  local c
  for c in "$TM_SRC_DIR/build/release/src/tidemark" "$TM_SRC_DIR/build/release/tidemark" \
           "$TM_SRC_DIR/build/release/engine/cli/tidemark" \
           "$TM_SRC_DIR/build/bench-release/engine/cli/tidemark"; do
    [ -x "$c" ] && { TM=$c; return 0; }
  done
  c=$(find "$TM_SRC_DIR/build/release" -maxdepth 4 -type f -name tidemark -perm -u+x 2>/dev/null | head -n1 || true)
  if [ -n "$c" ]; then TM=$c; fi
  return 0
}

# ratio A B -> "0.53" (A/B), or "-" when either is missing
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'
}
# verdict A OP LIMIT -> "yes"/"NO"/"-" : is A OP LIMIT (OP: le)
verdict() {
  awk -v a="$1" -v l="$2" 'BEGIN { if (a == "" || l == "" || a == "-" || l == "-") print "-"; else if (a + 0 <= l + 0) print "yes"; else print "NO" }'
}
mib() { awk -v b="$1" 'BEGIN { if (b == "") print "-"; else printf "%.2f", b / 1048576 }'; }
kib() { awk -v b="$1" 'BEGIN { if (b == "") print "-"; else printf "%.1f", b / 1024 }'; }
kib_to_mib() { awk -v b="$1" 'BEGIN { if (b == "") print "-"; else printf "%.0f", b / 1024 }'; }
or_dash() { if [ -n "$1" ]; then echo "$1"; else echo "-"; fi; }

machine_line() {
  printf '%s, %s cores (%s), %s GiB RAM, kernel %s; restic %s, borg %s' \
    "$(date -u +%Y-%m-%dT%H:%MZ)" "$(nproc)" \
    "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)" \
    "$(awk '/MemTotal/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)" "$(uname -r)" \
    "$(restic version 2>/dev/null | awk '{ print $2 }')" "$(borg --version 2>/dev/null | awk '{ print $2 }')"
}
BENCH_LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
load_line() { printf 'load average at start: %s, at the end: %s (other jobs on the machine inflate wall times)' "$BENCH_LOAD_START" "$(cut -d' ' -f1-3 /proc/loadavg)"; }
