#!/usr/bin/env bash
# db.sh: database dump/load benchmark, tidemark vs mariadb-dump + mariadb and
# mydumper/myloader, plus the second-night dedup of restic and borg on the
# mariadb-dump output (issue 4, acceptance 2). One run, one throw-away server:
#   1. a Dolibarr-shaped database of ~SIZE MiB of dump (gen-dolibarr-db.py;
#      the generated datadir is kept and copied back on later runs)
#   2. dump: mariadb-dump --single-transaction to a plain file; mydumper -t 2
#      to a directory; tidemark backup --instance bench into a repository
#   3. load into a fresh database: mariadb < dump.sql; myloader -t 2;
#      tidemark restore db (its verification included; see README)
#   4. night 1: restic and borg back up the mariadb-dump file
#   5. erp-day.py (~1 % of rows), then night 2: mariadb-dump again, restic and
#      borg back up the new file, tidemark backs up the database again:
#      bytes each repository grew by, as a share of the dump's size
# Output: markdown table with ratios, printed and written to bench/out/db-<date>.md.
#
# Knobs (environment):
#   BENCH_SIZE_MB=1024     dump size to generate (256 for a quick run)
#   BENCH_SEED=1           generator and ERP-day seed
#   BENCH_WORK=/var/tmp/tidemark-bench/db   scratch (server, dumps, repositories)
#   BENCH_TOOLS="tidemark mariadb-dump mydumper restic borg"   subset to run
#   BENCH_REGEN=1          regenerate the database even if a saved copy exists
#   BENCH_DB_BUFFER_POOL=1G   innodb-buffer-pool-size of the sandbox server
#   BENCH_MYDUMPER_OPTS="" extra mydumper options (e.g. "--rows 500000")
#   BENCH_BORG_COMPRESSION=zstd,3   BENCH_RESTIC_COMPRESSION=auto
#   TM_BIN=path/to/tidemark
#   BENCH_TM_INSTANCE_CONF  extra lines for tidemark's [instance bench] section
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SIZE_MB=${BENCH_SIZE_MB:-1024}
SEED=${BENCH_SEED:-1}
WORK=${BENCH_WORK:-/var/tmp/tidemark-bench/db}
TOOLS=${BENCH_TOOLS:-"tidemark mariadb-dump mydumper restic borg"}
BORG_COMP=${BENCH_BORG_COMPRESSION:-zstd,3}
RESTIC_COMP=${BENCH_RESTIC_COMPRESSION:-auto}
OUTDIR="$BENCH_ROOT/out"
STAMP=$(date +%Y%m%d-%H%M%S)
DB=bench

need python3 /usr/bin/time mariadb mariadb-dump
has_tool() { case " $TOOLS " in *" $1 "*) return 0 ;; esac; return 1; }
has_tool mydumper && need mydumper myloader
has_tool restic && need restic
has_tool borg && need borg
find_tidemark
skip_msgs=()
if has_tool tidemark; then
  if [ -z "$TM" ]; then
    skip_msgs+=("tidemark skipped: no binary (set TM_BIN or build build/release)")
    TOOLS=${TOOLS//tidemark/}
  elif ! "$TM" backup --help >/dev/null 2>&1 || ! "$TM" restore db --help >/dev/null 2>&1; then
    skip_msgs+=("tidemark skipped: $TM has no working 'backup' / 'restore db' commands yet")
    TOOLS=${TOOLS//tidemark/}
  fi
fi
for m in "${skip_msgs[@]}"; do note "$m"; done
mkdir -p "$OUTDIR" "$WORK"
WORK=$(cd "$WORK" && pwd)
for d in logs mydumper night repo-tidemark repo-restic repo-borg cache-tidemark cache-restic borg-base gentmp; do
  rm -rf "${WORK:?}/$d"
done
rm -f "$WORK/dump1.sql" "$WORK/dump2.sql" "$WORK/results.tsv"
LOGDIR="$WORK/logs"; mkdir -p "$LOGDIR"
RESULTS="$WORK/results.tsv"; : >"$RESULTS"
PW="$WORK/password"; (umask 077; echo "bench-passphrase-$SEED" >"$PW")

# --- the server ----------------------------------------------------------------
SANDBOX="$TM_SRC_DIR/tests/support/mariadb-sandbox.sh"
SBX="$WORK/sandbox"
PRISTINE="$WORK/pristine-${SIZE_MB}m-seed$SEED"
stop_server() { "$SANDBOX" stop "$SBX" >/dev/null 2>&1 || true; }
start_server() {
  eval "$(TM_DB_BUFFER_POOL=${BENCH_DB_BUFFER_POOL:-1G} "$SANDBOX" start "$SBX")"
  export BENCH_DB_SOCKET=$TM_DB_SOCKET
}
trap stop_server EXIT
stop_server
if [ "${BENCH_REGEN:-0}" != 1 ] && [ -d "$PRISTINE/data" ]; then
  note "restoring the saved ${SIZE_MB} MiB database from $PRISTINE"
  rm -rf "$SBX/data"; mkdir -p "$SBX"
  cp -a "$PRISTINE/data" "$SBX/data"
  cp -a "$PRISTINE/password" "$SBX/password"
  start_server
else
  rm -rf "$SBX" "$PRISTINE"
  start_server
  note "generating a ${SIZE_MB} MiB Dolibarr-shaped database (seed $SEED)"
  measure gen python3 "$BENCH_ROOT/gen-dolibarr-db.py" --db "$DB" --size-mb "$SIZE_MB" \
    --seed "$SEED" --tmp "$WORK/gentmp" --replace
  stop_server
  mkdir -p "$PRISTINE"
  cp -a "$SBX/data" "$PRISTINE/data"; cp -a "$SBX/password" "$PRISTINE/password"
  start_server
fi
SOCK=$TM_DB_SOCKET
sql() { mariadb --socket="$SOCK" -uroot -N -B "$@"; }
binlog_bytes() { sql -e "SHOW BINARY LOGS" | awk '{ s += $2 } END { print s + 0 }'; }
rows_total() {
  sql -e "SELECT SUM(table_rows) FROM information_schema.tables WHERE table_schema='$DB'"
}

# --- tidemark's configuration --------------------------------------------------
TM_CONF="$WORK/tidemark.conf"
cat >"$TM_CONF" <<EOF
[repository]
url = $WORK/repo-tidemark
password_file = $PW
state_dir = $WORK/cache-tidemark

[instance bench]
db_socket = $SOCK
db_user = root
databases = $DB
${BENCH_TM_INSTANCE_CONF:-}
EOF
export TIDEMARK_REPOSITORY="$WORK/repo-tidemark" TIDEMARK_PASSWORD_FILE="$PW"
TMC=("$TM" --config "$TM_CONF")
tm() { "${TMC[@]}" "$@"; }
export RESTIC_REPOSITORY="$WORK/repo-restic" RESTIC_PASSWORD_FILE="$PW" RESTIC_CACHE_DIR="$WORK/cache-restic"
export BORG_REPO="$WORK/repo-borg" BORG_PASSCOMMAND="cat '$PW'" BORG_BASE_DIR="$WORK/borg-base"
export BORG_RELOCATED_REPO_ACCESS_IS_OK=yes

# --- 2. dumps ------------------------------------------------------------------
if has_tool mariadb-dump || has_tool restic || has_tool borg; then
  measure mariadb-dump.dump mariadb-dump --socket="$SOCK" -uroot --single-transaction \
    --routines --triggers --events --skip-dump-date --result-file="$WORK/dump1.sql" "$DB"
  record dump1_bytes "$(stat -c %s "$WORK/dump1.sql")"
fi
if has_tool mydumper; then
  # shellcheck disable=SC2086
  measure mydumper.dump mydumper -S "$SOCK" -u root -B "$DB" -t 2 -o "$WORK/mydumper" ${BENCH_MYDUMPER_OPTS:-}
  record mydumper_bytes "$(dir_bytes "$WORK/mydumper")"
fi
if has_tool tidemark; then
  tm init >"$LOGDIR/tidemark-init.log" 2>&1 || { cat "$LOGDIR/tidemark-init.log" >&2; die "tidemark init failed"; }
  record tidemark.repo0 "$(dir_bytes "$WORK/repo-tidemark")"
  measure tidemark.dump "${TMC[@]}" backup --instance bench
  record tidemark.repo1 "$(dir_bytes "$WORK/repo-tidemark")"
fi

# --- 3. loads ------------------------------------------------------------------
fresh_db() { sql -e "DROP DATABASE IF EXISTS \`$1\`; CREATE DATABASE \`$1\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"; }
if has_tool mariadb-dump; then
  fresh_db load_sql
  measure mariadb.load bash -c 'exec mariadb --socket="$1" -uroot load_sql <"$2"' _ "$SOCK" "$WORK/dump1.sql"
  sql -e "DROP DATABASE load_sql"
fi
if has_tool mydumper; then
  sql -e "DROP DATABASE IF EXISTS load_my"
  measure myloader.load myloader -S "$SOCK" -u root -t 2 -d "$WORK/mydumper" -B load_my -o
  sql -e "DROP DATABASE load_my"
fi
if has_tool tidemark; then
  sql -e "DROP DATABASE IF EXISTS load_tm"
  measure tidemark.load "${TMC[@]}" --json restore db --instance bench --snapshot latest --target-db load_tm
  sql -e "DROP DATABASE IF EXISTS load_tm"
  # its --json line splits the wall time: load_seconds, verify_seconds
  for f in load_seconds verify_seconds; do
    record "tidemark.$f" "$(python3 -c 'import json, sys
for line in open(sys.argv[1]):
    if line.startswith("{"): print("%.2f" % json.loads(line)[sys.argv[2]])' "$LOGDIR/tidemark.load.log" "$f")"
  done
fi

# --- 4./5. two nights ----------------------------------------------------------
mkdir -p "$WORK/night"
if has_tool restic || has_tool borg; then
  cp "$WORK/dump1.sql" "$WORK/night/dolibarr.sql"
  if has_tool restic; then
    restic init --repository-version 2 >"$LOGDIR/restic-init.log" 2>&1 || die "restic init failed"
    measure restic.night1 restic backup --compression "$RESTIC_COMP" "$WORK/night"
    record restic.repo1 "$(dir_bytes "$WORK/repo-restic")"
  fi
  if has_tool borg; then
    borg init -e repokey-blake2 >"$LOGDIR/borg-init.log" 2>&1 || die "borg init failed"
    measure borg.night1 borg create --compression "$BORG_COMP" ::night1 "$WORK/night"
    record borg.repo1 "$(dir_bytes "$WORK/repo-borg")"
  fi
fi
b0=$(binlog_bytes)
record rows "$(rows_total)"
measure erp-day python3 "$BENCH_ROOT/erp-day.py" --db "$DB" --seed "$SEED" --day 1
record binlog_day "$(( $(binlog_bytes) - b0 ))"
if has_tool mariadb-dump || has_tool restic || has_tool borg; then
  measure mariadb-dump.dump2 mariadb-dump --socket="$SOCK" -uroot --single-transaction \
    --routines --triggers --events --skip-dump-date --result-file="$WORK/dump2.sql" "$DB"
  record dump2_bytes "$(stat -c %s "$WORK/dump2.sql")"
  cp "$WORK/dump2.sql" "$WORK/night/dolibarr.sql"
  touch -d '+1 day' "$WORK/night/dolibarr.sql"
  if has_tool restic; then
    measure restic.night2 restic backup --compression "$RESTIC_COMP" "$WORK/night"
    record restic.repo2 "$(dir_bytes "$WORK/repo-restic")"
  fi
  if has_tool borg; then
    measure borg.night2 borg create --compression "$BORG_COMP" ::night2 "$WORK/night"
    record borg.repo2 "$(dir_bytes "$WORK/repo-borg")"
  fi
fi
if has_tool tidemark; then
  measure tidemark.dump2 "${TMC[@]}" backup --instance bench
  record tidemark.repo2 "$(dir_bytes "$WORK/repo-tidemark")"
fi

# --- report --------------------------------------------------------------------
v() { get "$1" value; }
w() { get "$1" wall; }
r() { local x; x=$(get "$1" rss); [ -n "$x" ] && kib_to_mib "$x" || true; }
delta() { local a b; a=$(v "$1.repo2"); b=$(v "$1.repo1"); [ -n "$a" ] && [ -n "$b" ] && echo $((a - b)) || true; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.1f %%", 100 * a / b }'; }
DUMP=$(v dump1_bytes)
md="$OUTDIR/db-$STAMP.md"
{
  echo "## db.sh: Dolibarr-shaped database, ${SIZE_MB} MiB target, seed $SEED"
  echo
  echo "$(machine_line); mydumper $(mydumper --version 2>/dev/null | awk '{ print $2 }' | tr -d ,)"
  echo "$(load_line)"
  echo
  echo "mariadb-dump file: $(mib "$DUMP") MiB, $(v rows) rows (InnoDB estimate); mydumper dir: $(mib "$(v mydumper_bytes)") MiB."
  [ -n "$(w gen)" ] && echo "Generation: $(w gen) s."
  for m in "${skip_msgs[@]}"; do echo "**$m**"; done
  echo
  echo "| dump | wall s | max RSS MiB | tidemark / it |"
  echo "| --- | ---: | ---: | ---: |"
  for k in mariadb-dump.dump mydumper.dump tidemark.dump; do
    [ -n "$(w $k)" ] && printf '| %s | %s | %s | %s |\n' "$k" "$(w $k)" "$(r $k)" "$(ratio "$(w tidemark.dump)" "$(w $k)")"
  done
  echo
  echo "Targets: tidemark.dump <= mariadb-dump (met: $(verdict "$(w tidemark.dump)" "$(w mariadb-dump.dump)")); aim mydumper ($(verdict "$(w tidemark.dump)" "$(w mydumper.dump)"))."
  echo
  echo "| load | wall s | max RSS MiB | tidemark / it |"
  echo "| --- | ---: | ---: | ---: |"
  for k in mariadb.load myloader.load tidemark.load; do
    [ -n "$(w $k)" ] && printf '| %s | %s | %s | %s |\n' "$k" "$(w $k)" "$(r $k)" "$(ratio "$(w tidemark.load)" "$(w $k)")"
  done
  TL=$(v tidemark.load_seconds)
  if [ -n "$TL" ]; then
    printf '| tidemark.load, verification excluded | %s | - | %s |\n' "$TL" "$(ratio "$TL" "$(w myloader.load)")"
    printf '| (tidemark verification) | %s | - | - |\n' "$(v tidemark.verify_seconds)"
  fi
  echo
  echo "Targets (tidemark / it is against the whole tidemark.load row, which includes verification):"
  echo "tidemark load without verification <= myloader -t 2 (met: $(verdict "$TL" "$(w myloader.load)")); aim 0.75x ($(verdict "$TL" "$(awk -v x="$(w myloader.load)" 'BEGIN { if (x != "") printf "%.2f", x * 0.75 }')"))."
  echo "mariadb < dump.sql writes the binlog (server default); myloader disables it for its sessions (its default)."
  echo
  echo "Second night after erp-day.py (~1 % of rows; $(w erp-day) s; the day's binlog: $(mib "$(v binlog_day)") MiB = $(pct "$(v binlog_day)" "$DUMP") of the dump):"
  echo
  echo "| tool | night 1 stored MiB | night 2 added MiB | added / dump | night 1 wall s | night 2 wall s | max RSS MiB |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  for t in restic borg tidemark; do
    has_tool "$t" || continue
    n1=restic.night1; n2=restic.night2; [ "$t" = borg ] && { n1=borg.night1; n2=borg.night2; }
    [ "$t" = tidemark ] && { n1=tidemark.dump; n2=tidemark.dump2; }
    r0=$(v "$t.repo0"); [ -z "$r0" ] && r0=0
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$t" "$(mib $(( $(v "$t.repo1") - r0 )))" "$(mib "$(delta "$t")")" \
      "$(pct "$(delta "$t")" "$DUMP")" "$(w $n1)" "$(w $n2)" "$(r $n2)"
  done
  echo
  echo "Target: tidemark's night-2 bytes <= 5 % of the dump (met: $(verdict "$(delta tidemark)" "$(awk -v d="$DUMP" 'BEGIN { if (d != "") printf "%d", d * 0.05 }')"))."
  echo "restic: --compression $RESTIC_COMP, repository v2; borg: repokey-blake2, --compression $BORG_COMP; both back up the mariadb-dump file."
} >"$md"
cp "$RESULTS" "$OUTDIR/db-$STAMP.tsv"
cat "$md"
note "written $md (raw: $OUTDIR/db-$STAMP.tsv, logs: $LOGDIR)"
