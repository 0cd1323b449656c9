#!/usr/bin/env bash
# pitr.sh: point-in-time restore benchmark (issue 6, acceptance 2): a ~1 GiB
# Dolibarr-shaped snapshot plus >= 200,000 row-based ERP transactions, the
# replay of that range measured three ways, each on a fresh target server
# loaded with the same snapshot the same way (tidemark restore db, sql_log_bin=0):
#   (a) mariadb-binlog --start-position=<snapshot pos> <source binlogs> | mariadb
#   (b) the limit: a MariaDB replica pulling the range straight from the source
#       (master_use_gtid=slave_pos, START SLAVE UNTIL master_gtid_pos=<end>)
#   (c) tidemark restore db --instance bench --to-gtid <end>: load + verify +
#       the default apply path (the net change per primary key in bulk when
#       the range allows it, else transaction by transaction; the table says which)
#   (ct) the same with --apply transactions: replay from the encrypted archive
#       through the target's SQL thread
# then CHECKSUM TABLE of every table compared across the runs and with the
# source. Optional runs b4/c4/ct4: the same with slave_parallel_threads=4.
#
#   bench/pitr.sh [prepare|measure|all]          (default all)
#
# prepare: source server from the pristine 1 GiB datadir (bench/db.sh makes it),
#   `tidemark binlog follow` archiving into a repository, `tidemark backup db`,
#   the workload (bench/pitr-workload.py -> SQL text -> `mariadb` clients),
#   the follower's catch-up; state kept in $BENCH_WORK/prepared.env.
# measure: waits for a quiet machine (1-min load < BENCH_MAX_LOAD) before each
#   run, then the runs of BENCH_RUNS; prints a markdown table, writes it to
#   bench/out/pitr-<date>.md with the raw TSV.
#
# Knobs (environment):
#   BENCH_WORK=/var/tmp/tidemark-bench/pitr   scratch (servers, repository)
#   BENCH_PRISTINE=/var/tmp/tidemark-bench/db/pristine-1024m-seed1   (copied, never modified)
#   BENCH_TX=200000        transactions of the workload
#   BENCH_STREAMS=2        concurrent client streams writing the workload
#   BENCH_RUNS="a b c ct b4 ct4"
#   BENCH_DB_BUFFER_POOL=1G   innodb-buffer-pool-size of source and targets
#   BENCH_TARGET_OPTS=""   extra mysqld options of the targets (e.g. --skip-log-bin)
#   BENCH_MAX_LOAD=1.5     BENCH_QUIET_WAIT=1200 (seconds of waiting in all)
#   BENCH_PROFILE=1        CPU seconds per thread of the servers and tidemark over each
#                          replay window (bench/thread-cpu.py -> logs/KEY.threads.tsv)
#   TM_BIN=path/to/tidemark
set -euo pipefail
. "$(dirname "$0")/lib.sh"

STAGE=${1:-all}
WORK=${BENCH_WORK:-/var/tmp/tidemark-bench/pitr}
PRISTINE=${BENCH_PRISTINE:-/var/tmp/tidemark-bench/db/pristine-1024m-seed1}
NTX=${BENCH_TX:-200000}
STREAMS=${BENCH_STREAMS:-2}
RUNS=${BENCH_RUNS:-"a b c ct b4 ct4"}
POOL=${BENCH_DB_BUFFER_POOL:-1G}
MAX_LOAD=${BENCH_MAX_LOAD:-1.5}
QUIET_BUDGET=${BENCH_QUIET_WAIT:-1200}
DB=bench
SB="$TM_SRC_DIR/tests/support/mariadb-sandbox.sh"
OUTDIR="$BENCH_ROOT/out"
STAMP=$(date +%Y%m%d-%H%M%S)

need python3 /usr/bin/time mariadb mariadb-binlog bc
find_tidemark
[ -n "$TM" ] || die "no tidemark binary (build build/release or set TM_BIN)"
mkdir -p "$WORK" "$OUTDIR"
WORK=$(cd "$WORK" && pwd)
LOGDIR="$WORK/logs"
PW="$WORK/password"
TM_CONF="$WORK/tidemark.conf"
TMC=("$TM" --config "$TM_CONF")
tm() { "${TMC[@]}" "$@"; }
now() { date +%s.%N; }
sub() { echo "$1 - $2" | bc -l | awk '{ printf "%.2f", $1 }'; }
loadavg() { cut -d' ' -f1 /proc/loadavg; }
FPID=
cleanup() {
  if [ -n "$FPID" ]; then kill -TERM "$FPID" 2>/dev/null || true; wait "$FPID" 2>/dev/null || true; fi
  "$SB" stop "$WORK/tgt" >/dev/null 2>&1 || true
  "$SB" stop "$WORK/src" >/dev/null 2>&1 || true
}
trap cleanup EXIT

start_source() {
  eval "$(TM_DB_BUFFER_POOL=$POOL "$SB" start "$WORK/src")"
  SSOCK=$TM_DB_SOCKET SPORT=$TM_DB_PORT
}
ssql() { mariadb --socket="$SSOCK" -uroot -N -B "$@"; }

# ---- prepare ---------------------------------------------------------------------
prepare() {
  [ -d "$PRISTINE/data" ] || die "no pristine datadir at $PRISTINE (run BENCH_SIZE_MB=1024 bench/db.sh once)"
  "$SB" stop "$WORK/src" >/dev/null 2>&1 || true
  rm -rf "$WORK/src" "$WORK/tgt" "$WORK/repo" "$WORK/state" "$WORK/spool" "$WORK/sql" "$LOGDIR" "$WORK/prepared.env"
  mkdir -p "$WORK/src" "$LOGDIR" "$WORK/sql"
  note "copying $PRISTINE to $WORK/src"
  cp -a "$PRISTINE/data" "$WORK/src/data"
  cp -a "$PRISTINE/password" "$WORK/src/password"
  start_source
  ssql -e "SET sql_log_bin=0; CREATE USER IF NOT EXISTS repl@'127.0.0.1' IDENTIFIED BY 'replpw';
           GRANT REPLICATION SLAVE ON *.* TO repl@'127.0.0.1'; FLUSH BINARY LOGS"
  (umask 077; echo "bench-pitr-passphrase" >"$PW")
  cat >"$TM_CONF" <<EOF
[repository]
url = $WORK/repo
password_file = $PW
state_dir = $WORK/state

[instance bench]
db_socket = $SSOCK
db_user = root
databases = $DB
spool_dir = $WORK/spool
binlog_flush_seconds = 5
EOF
  tm -q init >"$LOGDIR/init.log" 2>&1 || { cat "$LOGDIR/init.log" >&2; die "tidemark init failed"; }
  local start
  start=$(ssql -e "SHOW MASTER STATUS" | awk '{ print $1 ":" $2 }')
  note "binlog follower from $start"
  # the binary itself in the background (not the tm function: $! would be a subshell)
  "${TMC[@]}" -q binlog follow --instance bench --start "$start" >"$LOGDIR/follow.log" 2>&1 &
  FPID=$!
  for _ in $(seq 1 100); do
    tm --json binlog status --instance bench 2>/dev/null | grep -q '"connected": *true' && break
    sleep 0.2
  done
  kill -0 "$FPID" 2>/dev/null || { cat "$LOGDIR/follow.log" >&2; die "the follower did not start"; }

  local t0 t1 snap sfile spos sgtid end n
  t0=$(now)
  tm --json backup db --instance bench >"$LOGDIR/backup.json" 2>"$LOGDIR/backup.log" \
    || { cat "$LOGDIR/backup.log" >&2; die "tidemark backup db failed"; }
  t1=$(now)
  snap=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j.get("snapshot") or j.get("id"))' "$LOGDIR/backup.json")
  # the server is idle: its coordinates now are the snapshot's (checked against the plan later)
  read -r sfile spos < <(ssql -e "SHOW MASTER STATUS" | awk '{ print $1, $2 }')
  sgtid=$(ssql -e "SELECT @@gtid_binlog_pos")
  note "snapshot $snap in $(sub "$t1" "$t0") s at $sfile:$spos ($sgtid)"

  note "generating $NTX transactions in $STREAMS streams"
  local g0 g1 w0 w1 pids=()
  g0=$(now)
  BENCH_DB_SOCKET=$SSOCK python3 "$BENCH_ROOT/pitr-workload.py" --db "$DB" --transactions "$NTX" \
    --streams "$STREAMS" --out "$WORK/sql/w" 2>"$LOGDIR/workload-gen.log" \
    || { cat "$LOGDIR/workload-gen.log" >&2; die "pitr-workload.py failed"; }
  g1=$(now)
  note "$(cat "$LOGDIR/workload-gen.log")"
  w0=$(now)
  for k in $(seq 0 $((STREAMS - 1))); do
    mariadb --socket="$SSOCK" -uroot "$DB" <"$WORK/sql/w.$k.sql" >"$LOGDIR/workload.$k.log" 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || die "a workload client failed: $(cat "$LOGDIR"/workload.*.log)"; done
  w1=$(now)
  end=$(ssql -e "SELECT @@gtid_binlog_pos")
  n=$(( ${end##*-} - ${sgtid##*-} ))
  note "workload: $n transactions committed in $(sub "$w1" "$w0") s ($sgtid -> $end)"
  [ "$n" -ge "$NTX" ] || die "only $n transactions reached the binlog (wanted $NTX)"

  note "waiting for the follower to archive up to $end"
  local c0 c1 st
  c0=$(now)
  for _ in $(seq 1 600); do
    st=$(tm --json binlog status --instance bench 2>/dev/null || true)
    if python3 -c 'import json,sys; j=json.loads(sys.argv[1]); sys.exit(0 if j["last_archived_gtid"]==sys.argv[2] and not j.get("spool_bytes") else 1)' "$st" "$end" 2>/dev/null; then
      break
    fi
    sleep 1
  done
  c1=$(now)
  echo "$st" >"$LOGDIR/status-final.json"
  python3 -c 'import json,sys; j=json.loads(sys.argv[1]); sys.exit(0 if j["last_archived_gtid"]==sys.argv[2] else 1)' "$st" "$end" \
    || die "the follower did not archive up to $end: $st"
  kill -TERM "$FPID"; wait "$FPID" 2>/dev/null || true; FPID=
  local files=() bytes segs
  while read -r f; do files+=("$WORK/src/data/${f##*/}"); done < <(awk -v first="$sfile" '{ sub(/.*\//, ""); if ($0 == first) on = 1; if (on) print }' "$WORK/src/data/binlog.index")
  bytes=$(( $(cat "${files[@]}" | wc -c) - spos ))
  segs=$(tm --json binlog list --instance bench | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
  cat >"$WORK/prepared.env" <<EOF
SNAP='$snap'
SNAP_FILE='$sfile'
SNAP_POS='$spos'
SNAP_GTID='$sgtid'
END_GTID='$end'
NTX_DONE='$n'
BINLOG_FILES='${files[*]}'
BINLOG_BYTES='$bytes'
SEGMENTS='$segs'
BACKUP_S='$(sub "$t1" "$t0")'
GEN_S='$(sub "$g1" "$g0")'
WORKLOAD_S='$(sub "$w1" "$w0")'
CATCHUP_S='$(sub "$c1" "$c0")'
REPO_BYTES='$(dir_bytes "$WORK/repo")'
EOF
  note "prepared: $(tr '\n' ' ' <"$WORK/prepared.env")"
  ssql -e "SET GLOBAL innodb_fast_shutdown=0" >/dev/null
  checksums_of "$SSOCK" >"$WORK/checksums.source"
  "$SB" stop "$WORK/src" >/dev/null
}

# ---- measure -------------------------------------------------------------------------
checksums_of() {
  local sock=$1 tables
  tables=$(mariadb --socket="$sock" -uroot -N -B -e "SELECT GROUP_CONCAT(CONCAT('\`$DB\`.\`', table_name, '\`') ORDER BY table_name)
            FROM information_schema.tables WHERE table_schema='$DB' AND table_type='BASE TABLE'")
  mariadb --socket="$sock" -uroot -N -B -e "CHECKSUM TABLE $tables" | sort
}

QUIET_USED=0
wait_quiet() {
  local l
  while :; do
    l=$(loadavg)
    if awk -v l="$l" -v m="$MAX_LOAD" 'BEGIN { exit !(l < m) }'; then return 0; fi
    if [ "$QUIET_USED" -ge "$QUIET_BUDGET" ]; then
      note "load average $l still >= $MAX_LOAD after ${QUIET_USED} s of waiting: measuring anyway (noted)"
      return 0
    fi
    note "load average $l >= $MAX_LOAD: waiting (${QUIET_USED}/${QUIET_BUDGET} s used)"
    sleep 20; QUIET_USED=$((QUIET_USED + 20))
  done
}

fresh_target() {   # $1 = slave_parallel_threads
  "$SB" stop "$WORK/tgt" >/dev/null 2>&1 || true
  rm -rf "$WORK/tgt"
  # shellcheck disable=SC2086
  eval "$(TM_DB_SERVER_ID=2 TM_DB_BUFFER_POOL=$POOL "$SB" start "$WORK/tgt" 0 ${BENCH_TARGET_OPTS:-})"
  TSOCK=$TM_DB_SOCKET
  tsql -e "SET GLOBAL slave_parallel_threads=$1"
}
tsql() { mariadb --socket="$TSOCK" -uroot -N -B "$@"; }
drop_target() { "$SB" stop "$WORK/tgt" >/dev/null 2>&1 || true; rm -rf "$WORK/tgt"; }

# load the snapshot the way (c) does, timed apart (runs a and b)
load_snapshot() {
  local key=$1 t0 t1
  t0=$(now)
  tm --json restore db --instance bench --snapshot "$SNAP" --socket "$TSOCK" --user root \
    >"$LOGDIR/$key.load.json" 2>"$LOGDIR/$key.load.log" \
    || { cat "$LOGDIR/$key.load.log" >&2; die "$key: snapshot load failed"; }
  t1=$(now)
  record "$key.load_total" "$(sub "$t1" "$t0")"
}

# per-thread CPU over the replay window (BENCH_PROFILE=1); for c* the window
# opens when tidemark's replay source starts (after the load and its check)
PROF_PID=
profile_start() {
  local key=$1 tpid
  [ "${BENCH_PROFILE:-0}" = 1 ] || return 0
  tpid=$(cat "$WORK/tgt/mariadbd.pid")
  case $key in
  b*) python3 "$BENCH_ROOT/thread-cpu.py" "$LOGDIR/$key.threads.tsv" "$tpid:target" \
        "$(cat "$WORK/src/mariadbd.pid"):source" & PROF_PID=$! ;;
  ct*) (
        for _ in $(seq 1 3000); do grep -q "replica dump" "$LOGDIR/$key.total.log" 2>/dev/null && break; sleep 0.1; done
        p=$(pgrep -n -f -- "--to-gtid $END_GTID") || exit 0
        exec python3 "$BENCH_ROOT/thread-cpu.py" "$LOGDIR/$key.threads.tsv" "$tpid:target" "$p:tidemark"
      ) & PROF_PID=$! ;;
  c*) (   # the default path may not replay through the SQL thread: from the start
        p=
        for _ in $(seq 1 300); do p=$(pgrep -n -f -- "--to-gtid $END_GTID") && break; sleep 0.1; done
        [ -n "$p" ] || exit 0
        exec python3 "$BENCH_ROOT/thread-cpu.py" "$LOGDIR/$key.threads.tsv" "$tpid:target" "$p:tidemark"
      ) & PROF_PID=$! ;;
  *) python3 "$BENCH_ROOT/thread-cpu.py" "$LOGDIR/$key.threads.tsv" "$tpid:target" & PROF_PID=$! ;;
  esac
}
profile_stop() {
  [ -n "$PROF_PID" ] || return 0
  kill -TERM "$PROF_PID" 2>/dev/null || true
  wait "$PROF_PID" 2>/dev/null || true
  PROF_PID=
}

# run KEY: one measured replay on a fresh target; records wall seconds and checks
run() {
  local key=$1 threads=0 l0 l1 t0 t1 r
  case $key in *4) threads=4 ;; esac
  fresh_target "$threads"
  # quiet machine first, then the load and the replay right after it, the same
  # for every run: (c) replays straight after its own load, while InnoDB still
  # flushes the load's dirty pages; a pause before (a)/(b) would favour them
  wait_quiet
  l0=$(cut -d' ' -f1-3 /proc/loadavg)
  case $key in a*|b*) load_snapshot "$key" ;; esac
  note "$key: start (load average $l0 before the load)"
  profile_start "$key"
  case $key in
  a*)
    t0=$(now)
    # shellcheck disable=SC2086
    mariadb-binlog --start-position="$SNAP_POS" $BINLOG_FILES | mariadb --socket="$TSOCK" -uroot \
      >"$LOGDIR/$key.log" 2>&1 || { tail "$LOGDIR/$key.log" >&2; die "$key: mariadb-binlog | mariadb failed"; }
    t1=$(now)
    record "$key.replay" "$(sub "$t1" "$t0")"
    ;;
  b*)
    tsql -e "SET GLOBAL gtid_slave_pos='$SNAP_GTID';
             CHANGE MASTER TO master_host='127.0.0.1', master_port=$SPORT, master_user='repl',
               master_password='replpw', master_use_gtid=slave_pos"
    t0=$(now)
    r=$(tsql -e "START SLAVE UNTIL master_gtid_pos='$END_GTID'; SELECT MASTER_GTID_WAIT('$END_GTID', 3600)")
    t1=$(now)
    [ "$r" = 0 ] || { tsql -e "SHOW SLAVE STATUS\G" >&2; die "$key: the replica did not reach $END_GTID"; }
    record "$key.replay" "$(sub "$t1" "$t0")"
    tsql -e "STOP SLAVE; RESET SLAVE ALL"
    ;;
  c*)
    local apply=()
    case $key in ct*) apply=(--apply transactions) ;; esac
    measure "$key.total" "${TMC[@]}" --json restore db --instance bench --to-gtid "$END_GTID" \
      --socket "$TSOCK" --user root "${apply[@]}"
    python3 - "$LOGDIR/$key.total.log" "$RESULTS" "$key" <<'PY'
import json, sys
log, res, key = sys.argv[1:]
j = None
for line in open(log):
    line = line.strip()
    if line.startswith("{"):
        try:
            j = json.loads(line)
        except ValueError:
            pass
if j is None:
    sys.exit("no JSON summary in " + log)
with open(res, "a") as f:
    for k in ("load_seconds", "verify_seconds", "replay_seconds", "transactions", "replay_bytes"):
        v = j[k]
        f.write("%s.%s\t%s\t\t\n" % (key, k, ("%.2f" % v) if isinstance(v, float) else v))
    f.write("%s.reached\t%s\t\t\n" % (key, j["reached_gtid"]))
    a = j.get("apply") or {}
    f.write("%s.path\t%s\t\t\n" % (key, a.get("path", "-")))
    for k in ("fold_seconds", "apply_seconds", "rows_written", "rows_deleted", "rows_updated", "ordered_rows",
              "tables", "split_tables", "fold_overlapped_seconds"):
        v = a.get(k, 0)
        f.write("%s.%s\t%s\t\t\n" % (key, k, ("%.2f" % v) if isinstance(v, float) else v))
    f.write("%s.reason\t%s\t\t\n" % (key, (a.get("reason") or "-").replace("\t", " ")[:300]))
    p = j["plan"]
    f.write("%s.plan_snapshot\t%s:%s %s\t\t\n" % (key, p["snapshot_file"], p["snapshot_position"], p["snapshot_gtid"]))
PY
    ;;
  esac
  l1=$(cut -d' ' -f1-3 /proc/loadavg)
  profile_stop
  record "$key.load_start" "$l0"
  record "$key.load_end" "$l1"
  r=$(tsql -e "SELECT @@gtid_slave_pos, @@gtid_binlog_pos")
  record "$key.gtid" "$r"
  checksums_of "$TSOCK" >"$WORK/checksums.$key"
  if cmp -s "$WORK/checksums.$key" "$WORK/checksums.source"; then record "$key.checksums" same
  else record "$key.checksums" DIFFER; diff "$WORK/checksums.source" "$WORK/checksums.$key" | head >&2 || true; fi
  note "$key: done, load average $l1"
  drop_target
}

measure_all() {
  [ -f "$WORK/prepared.env" ] || die "nothing prepared in $WORK (run bench/pitr.sh prepare)"
  # shellcheck disable=SC1091
  . "$WORK/prepared.env"
  mkdir -p "$LOGDIR"
  RESULTS="$WORK/results-$STAMP.tsv"; : >"$RESULTS"
  start_source
  for k in $RUNS; do run "$k"; done
  report
}

report() {
  local out="$OUTDIR/pitr-$STAMP.md" a b c ct cr rs ld k path
  a=$(get a.replay); b=$(get b.replay); c=$(get c.replay_seconds); ct=$(get ct.replay_seconds); cr=$(get c.total)
  {
    echo "# pitr.sh $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "$(machine_line | sed 's/; restic.*//'); targets: extra options '${BENCH_TARGET_OPTS:-}'; MariaDB $(mariadb --version | sed 's/.*Distrib \([^,]*\),.*/\1/'); tidemark $TM"
    echo
    echo "Workload: $NTX_DONE transactions ($SNAP_GTID -> $END_GTID), $(mib "$BINLOG_BYTES") MiB of binlog after the snapshot"
    echo "(source files from $SNAP_FILE:$SNAP_POS), $SEGMENTS archived segments; snapshot $SNAP in $BACKUP_S s;"
    echo "workload written in $WORKLOAD_S s by $STREAMS clients (SQL generated in $GEN_S s); follower caught up $CATCHUP_S s after."
    echo
    echo "| run | path | replay s | tx/s | load s (verify s) | checksums = source | load avg start / end |"
    echo "| --- | --- | ---: | ---: | --- | --- | --- |"
    for k in $RUNS; do
      path=-
      case $k in
      c*) rs=$(get "$k.replay_seconds"); ld="$(get "$k.load_seconds") ($(get "$k.verify_seconds"))"; path=$(get "$k.path")
          [ "$path" = net ] && path="net (read+fold $(get "$k.fold_seconds") s, $(get "$k.fold_overlapped_seconds") s of it during the verification; apply $(get "$k.apply_seconds") s)" ;;
      *) rs=$(get "$k.replay"); ld="$(get "$k.load_total") (incl. verify)" ;;
      esac
      printf '| %s | %s | %s | %s | %s | %s | %s / %s |\n' "$k" "$path" "$rs" \
        "$(awk -v n="$NTX_DONE" -v s="$rs" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print "-" }')" \
        "$ld" "$(get "$k.checksums")" "$(get "$k.load_start")" "$(get "$k.load_end")"
    done
    echo
    echo "(a)/(c) = $(ratio "$a" "$c") (target >= 8); (c)/(b) = $(ratio "$c" "$b") (target <= 1.5)."
    if [ "$(get c.path)" = net ] && [ -n "$(get ct.verify_seconds)" ]; then
      # the fold runs during the verification and slows it: charge that to the replay
      local cc
      cc=$(echo "$(get c.verify_seconds) + $c - $(get ct.verify_seconds)" | bc -l | awk '{ printf "%.2f", $1 }')
      echo "(c) charged with what the fold cost the verification it overlapped (verify $(get c.verify_seconds) s"
      echo "    against $(get ct.verify_seconds) s alone in ct): $cc s; (a)/that = $(ratio "$a" "$cc")."
    fi
    echo "(a)/(ct) = $(ratio "$a" "$ct"); (ct)/(b) = $(ratio "$ct" "$b") (transaction by transaction)."
    [ "$(get c.path)" = net ] || echo "(c) did not take the net path: $(get c.reason)"
    [ "$(get c.path)" = net ] && echo "(c) net change: $(get c.rows_written) rows written, $(get c.rows_deleted) deleted, $(get c.rows_updated) updated, $(get c.ordered_rows) kept in order over $(get c.tables) tables"
    echo "(c) total time-to-restore (tidemark restore db --to-gtid, wall): $cr s"
    echo "   = plan (reads the archive) + load $(get c.load_seconds) s + verify $(get c.verify_seconds) s + replay $c s + the rest"
    echo "(c) reached $(get c.reached); plan's snapshot coordinates $(get c.plan_snapshot) (source at the backup: $SNAP_FILE:$SNAP_POS $SNAP_GTID)"
  } | tee "$out"
  cp "$RESULTS" "${out%.md}.tsv"
}

case $STAGE in
prepare) prepare ;;
measure) measure_all ;;
all) prepare; measure_all ;;
*) die "usage: bench/pitr.sh [prepare|measure|all]" ;;
esac
