#!/usr/bin/env bash
# s3.sh: S3 backend benchmark, tidemark vs restic 0.14 to the same local Ceph
# RGW (issue 3, acceptance 2), in one run. Two data sets:
#   docs  the 1 GiB Dolibarr documents tree (bench/gen-tree.py)
#   dump  one ~1 GiB SQL file shaped like mariadb-dump output
#         (bench/gen-sqldump.py: generated text, not a real server's dump)
# For each data set and tool, into its own fresh prefix of one bucket:
#   backup (wall, max RSS), objects and bytes under the prefix (ListObjectsV2),
#   restore into an empty directory (wall, max RSS; best of BENCH_RESTORE_RUNS),
#   diff -r against the source (not timed); then the prefix is emptied so RGW's RAM store holds
#   one repository at a time.
# Results: a markdown table with throughput (MiB/s of source data) and ratios
# tidemark/restic, printed and written to bench/out/s3-<date>.md (+ .tsv).
#
# Knobs (environment):
#   BENCH_SIZE_MB=1024   size of each data set (256 for a quick run)
#   BENCH_SEED=1         generator seed
#   BENCH_SETS="docs dump"
#   BENCH_TOOLS="tidemark restic"
#   BENCH_WORK=/var/tmp/tidemark-bench/s3   scratch (data, restores, RGW)
#   BENCH_S3_PORT=7700   RGW port (also uses +10000..+10009)
#   BENCH_RESTIC_COMPRESSION=auto
#   BENCH_RESTORE_RUNS=2 restores per tool and data set; the fastest counts
#                        (the machine is shared: one slow run is noise)
#   TM_BIN=path/to/tidemark  (else build/release/... is searched)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SIZE_MB=${BENCH_SIZE_MB:-1024}
SEED=${BENCH_SEED:-1}
SETS=${BENCH_SETS:-"docs dump"}
TOOLS=${BENCH_TOOLS:-"tidemark restic"}
WORK=${BENCH_WORK:-/var/tmp/tidemark-bench/s3}
RESTIC_COMP=${BENCH_RESTIC_COMPRESSION:-auto}
RESTORE_RUNS=${BENCH_RESTORE_RUNS:-2}
S3_TOOLS=${S3_TOOLS:-$TM_SRC_DIR/../shared/tools/s3-real}
S3OBJ="python3 $TM_SRC_DIR/tests/support/s3obj.py"
OUTDIR="$BENCH_ROOT/out"
STAMP=$(date +%Y%m%d-%H%M%S)

need python3 /usr/bin/time du diff
[ -x "$S3_TOOLS/start.sh" ] || die "$S3_TOOLS/start.sh not found (shared/tools/s3-real beside the repository)"
find_tidemark
has_tool() { case " $TOOLS " in *" $1 "*) return 0 ;; esac; return 1; }
if has_tool tidemark && [ -z "$TM" ]; then
  die "no tidemark binary (set TM_BIN or: cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release && cmake --build build/release -j2)"
fi
has_tool restic && need restic
mkdir -p "$OUTDIR" "$WORK"
WORK=$(cd "$WORK" && pwd)
for d in data logs restore cache-tidemark cache-restic; do rm -rf "${WORK:?}/$d"; done
rm -f "$WORK/results.tsv"
mkdir -p "$WORK/data" "$WORK/logs"
LOGDIR="$WORK/logs"
RESULTS="$WORK/results.tsv"; : >"$RESULTS"
PW="$WORK/password"; (umask 077; echo "bench-passphrase-$SEED" >"$PW")

# --- the store: a private RGW (RAM), stopped on exit ----------------------------
RGW="$WORK/rgw"
"$S3_TOOLS/stop.sh" "$RGW" >/dev/null 2>&1 || true
note "starting Ceph RGW on 127.0.0.1:${BENCH_S3_PORT:-7700}"
ENVS=$(S3_PORT=${BENCH_S3_PORT:-7700} S3_STORE_MB=$((SIZE_MB * 3 + 1024)) S3_BUCKET=bench \
       "$S3_TOOLS/start.sh" "$RGW" 2>"$WORK/rgw-start.log") || { tail -n 20 "$WORK/rgw-start.log" >&2; die "RGW did not start"; }
eval "$ENVS"
trap '"$S3_TOOLS/stop.sh" "$RGW" >/dev/null 2>&1 || true' EXIT
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY AWS_REGION=$S3_REGION \
       AWS_DEFAULT_REGION=$S3_REGION S3_ENDPOINT S3_BUCKET
export TIDEMARK_PASSWORD_FILE="$PW" TIDEMARK_STATE_DIR="$WORK/cache-tidemark"
export RESTIC_PASSWORD_FILE="$PW" RESTIC_CACHE_DIR="$WORK/cache-restic"
unset TIDEMARK_CONFIG

# --- data ---------------------------------------------------------------------
for s in $SETS; do
  case $s in
    docs) note "generating ${SIZE_MB} MiB documents tree (seed $SEED)"
          python3 "$BENCH_ROOT/gen-tree.py" generate "$WORK/data/docs" --size-mb "$SIZE_MB" --seed "$SEED" >&2 ;;
    dump) note "generating ${SIZE_MB} MiB SQL dump file (seed $SEED)"
          mkdir -p "$WORK/data/dump"
          python3 "$BENCH_ROOT/gen-sqldump.py" "$WORK/data/dump/dolibarr.sql" --size-mb "$SIZE_MB" --seed "$SEED" ;;
    *) die "unknown data set $s (docs, dump)" ;;
  esac
  record "$s.bytes" "$(dir_bytes "$WORK/data/$s")"
  record "$s.files" "$(find "$WORK/data/$s" -type f | wc -l)"
done

# --- runs ---------------------------------------------------------------------
# restore_runs KEY CMD...: RESTORE_RUNS restores into an emptied directory;
# KEY.restore gets the fastest wall time (with its CPU) and the largest RSS.
restore_runs() {
  local key=$1 i; shift
  for i in $(seq 1 "$RESTORE_RUNS"); do
    rm -rf "$WORK/restore"; mkdir -p "$WORK/restore"
    measure "$key.restore.$i" "$@"
  done
  awk -F'\t' -v k="$key.restore." 'index($1, k) == 1 && (w == "" || $2 + 0 < w + 0) { w = $2; c = $4 }
      index($1, k) == 1 && $3 + 0 > r { r = $3 } END { printf "%s\t%s\t%s\t%s\n", substr(k, 1, length(k) - 1), w, r, c }' \
      "$RESULTS" >>"$RESULTS"
}
for s in $SETS; do
  SRC="$WORK/data/$s"
  for t in $TOOLS; do
    prefix="$t-$s"
    url="s3:$S3_ENDPOINT/$S3_BUCKET/$prefix"
    $S3OBJ rm-prefix "$prefix/"
    rm -rf "$WORK/cache-$t" "$WORK/restore"; mkdir -p "$WORK/restore"
    tar cf - -C "$WORK/data" "$s" | cat >/dev/null   # same warm page cache for each tool
    case $t in
      tidemark)
        export TIDEMARK_REPOSITORY=$url
        "$TM" init >"$LOGDIR/init-$prefix.log" 2>&1 || { cat "$LOGDIR/init-$prefix.log" >&2; die "tidemark init failed"; }
        record "$t.$s.init_objects" "$($S3OBJ count "$prefix/" | cut -d' ' -f1)"
        measure "$t.$s.backup" "$TM" backup files --instance bench "$SRC"
        read -r n b < <($S3OBJ count "$prefix/")
        record "$t.$s.objects" "$n"; record "$t.$s.stored" "$b"
        restore_runs "$t.$s" "$TM" restore files latest --target "$WORK/restore" ;;
      restic)
        export RESTIC_REPOSITORY=$url
        restic init --repository-version 2 >"$LOGDIR/init-$prefix.log" 2>&1 || { cat "$LOGDIR/init-$prefix.log" >&2; die "restic init failed"; }
        record "$t.$s.init_objects" "$($S3OBJ count "$prefix/" | cut -d' ' -f1)"
        measure "$t.$s.backup" restic backup --compression "$RESTIC_COMP" "$SRC"
        read -r n b < <($S3OBJ count "$prefix/")
        record "$t.$s.objects" "$n"; record "$t.$s.stored" "$b"
        restore_runs "$t.$s" restic restore latest --target "$WORK/restore" ;;
    esac
    root=
    for c in "$WORK/restore$SRC" "$WORK/restore/$s"; do [ -d "$c" ] && root=$c && break; done
    if [ -n "$root" ] && diff -r "$SRC" "$root" >"$LOGDIR/diff-$prefix.log" 2>&1; then
      record "$t.$s.restore_ok" 1
    else
      record "$t.$s.restore_ok" 0; note "$t $s: restored tree DIFFERS or is missing (see $LOGDIR/diff-$prefix.log)"
    fi
    rm -rf "$WORK/restore"
    $S3OBJ rm-prefix "$prefix/"
  done
done

# --- report -------------------------------------------------------------------
mibps() { awk -v b="$1" -v s="$2" 'BEGIN { if (b == "" || s == "" || s + 0 == 0) print ""; else printf "%.1f", b / 1048576 / s }'; }
fig() { # tool set metric
  local t=$1 s=$2 m=$3 bytes; bytes=$(get "$s.bytes" value)
  case $m in
    bw) get "$t.$s.backup" ;;
    rw) get "$t.$s.restore" ;;
    bt) mibps "$bytes" "$(get "$t.$s.backup")" ;;
    rt) mibps "$bytes" "$(get "$t.$s.restore")" ;;
    obj) get "$t.$s.objects" value ;;
    stored) local v; v=$(get "$t.$s.stored" value); [ -n "$v" ] && mib "$v" ;;
    brss) kib_to_mib "$(get "$t.$s.backup" rss)" ;;
    rrss) kib_to_mib "$(get "$t.$s.restore" rss)" ;;
    rss) local a b; a=$(get "$t.$s.backup" rss); b=$(get "$t.$s.restore" rss)
         [ -n "$a" ] && kib_to_mib "$(( a > b ? a : b ))" ;;
    ok) case $(get "$t.$s.restore_ok" value) in 1) echo yes ;; 0) echo NO ;; esac ;;
  esac
}
row() { # set label metric target (ge|le|'')
  local s=$1 label=$2 m=$3 tgt=${4:-} a r v="-" tt=""
  a=$(has_tool tidemark && fig tidemark "$s" "$m" || true)
  r=$(has_tool restic && fig restic "$s" "$m" || true)
  case $tgt in
    ge) tt=">= restic"; [ -n "$a" ] && [ -n "$r" ] && v=$(verdict "$r" "$a") ;;
    le) tt="<= restic"; [ -n "$a" ] && [ -n "$r" ] && v=$(verdict "$a" "$r") ;;
  esac
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$s" "$label" "$(or_dash "$a")" "$(or_dash "$r")" \
    "$(ratio "$a" "$r")" "$tt" "$v"
}
md="$OUTDIR/s3-$STAMP.md"
{
  echo "## s3.sh: tidemark vs restic to a local Ceph RGW, ${SIZE_MB} MiB per data set, seed $SEED"
  echo
  echo "$(machine_line)"
  echo "$(load_line)"
  echo
  echo "Store: Ceph RGW (memstore) on 127.0.0.1, path-style, http. restic: s3 backend,"
  echo "--repository-version 2 --compression $RESTIC_COMP; tidemark: ${TM:-not run}, defaults."
  echo "Restore: fastest of $RESTORE_RUNS runs per tool (largest RSS of them); backup: one run."
  for s in $SETS; do
    echo "Data set $s: $(get "$s.files" value) files, $(mib "$(get "$s.bytes" value)") MiB."
  done
  echo "Objects: ListObjectsV2 on each repository's prefix right after the backup (init alone:"
  echo "tidemark $(or_dash "$(get tidemark.docs.init_objects value)"), restic $(or_dash "$(get restic.docs.init_objects value)"))."
  echo
  echo "| data | measure | tidemark | restic | tm/restic | target | met |"
  echo "| --- | --- | ---: | ---: | ---: | --- | --- |"
  for s in $SETS; do
    row "$s" "backup, wall s" bw
    row "$s" "backup, MiB/s" bt ge
    row "$s" "restore, wall s" rw
    row "$s" "restore, MiB/s" rt ge
    row "$s" "objects after backup" obj le
    row "$s" "bytes stored, MiB" stored
    row "$s" "max RSS backup, MiB" brss
    row "$s" "max RSS restore, MiB" rrss
    row "$s" "peak RSS, MiB" rss le
    row "$s" "restore identical (diff -r)" ok
  done
} >"$md"
cp "$RESULTS" "$OUTDIR/s3-$STAMP.tsv"
cat "$md"
echo
note "written $md (raw: $OUTDIR/s3-$STAMP.tsv, logs: $LOGDIR)"
if [ "${BENCH_KEEP:-0}" != 1 ]; then rm -rf "${WORK:?}/data" "$WORK/cache-tidemark" "$WORK/cache-restic"; fi
