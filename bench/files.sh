#!/usr/bin/env bash
# files.sh: file-tree backup benchmark, tidemark vs restic vs borg in one run
# (issue 2, acceptance 6). Same generated tree, each tool into its own fresh
# repository on the same disk, encryption and compression on for all:
#   1. first backup of the tree                     wall, max RSS
#   2. second backup of the unchanged tree          wall, max RSS
#   3. bench/gen-tree.py mutate (10 changed, 20 new files), third backup:
#      bytes the repository grew by (du --apparent-size -sb)
#   4. restore of the last snapshot into an empty directory: wall, max RSS,
#      then diff -r against the source (not timed)
# Results: a markdown table with ratios tidemark/restic and tidemark/borg,
# printed and written to bench/out/files-<date>.md (+ .tsv with raw figures).
#
# Knobs (environment):
#   BENCH_SIZE_MB=1024   tree size (256 for a quick run)
#   BENCH_SEED=1         generator seed
#   BENCH_WORK=/var/tmp/tidemark-bench/files   scratch (repositories, tree, restores)
#   BENCH_TOOLS="tidemark restic borg"         subset to run
#   BENCH_BORG_COMPRESSION=zstd,3              borg's --compression
#   BENCH_RESTIC_COMPRESSION=auto              restic's --compression
#   TM_BIN=path/to/tidemark  (else build/release/... is searched)
#   BENCH_KEEP=1         keep the scratch directory afterwards
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SIZE_MB=${BENCH_SIZE_MB:-1024}
SEED=${BENCH_SEED:-1}
WORK=${BENCH_WORK:-/var/tmp/tidemark-bench/files}
TOOLS=${BENCH_TOOLS:-"tidemark restic borg"}
BORG_COMP=${BENCH_BORG_COMPRESSION:-zstd,3}
RESTIC_COMP=${BENCH_RESTIC_COMPRESSION:-auto}
OUTDIR="$BENCH_ROOT/out"
STAMP=$(date +%Y%m%d-%H%M%S)

need python3 /usr/bin/time du diff
mkdir -p "$OUTDIR"

find_tidemark
has_tool() { case " $TOOLS " in *" $1 "*) return 0 ;; esac; return 1; }
skip_msgs=()
if has_tool tidemark; then
  if [ -z "$TM" ]; then
    skip_msgs+=("tidemark skipped: no binary (set TM_BIN or build build/release: cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release && cmake --build build/release -j2)")
    TOOLS=${TOOLS//tidemark/}
  elif ! "$TM" backup files --help >/dev/null 2>&1; then
    skip_msgs+=("tidemark skipped: $TM has no working 'backup files' command yet")
    TOOLS=${TOOLS//tidemark/}
  fi
fi
has_tool restic && need restic
has_tool borg && need borg
for m in "${skip_msgs[@]}"; do note "$m"; done
[ -n "${TOOLS// /}" ] || die "no tool left to run"

# Scratch: only paths this script creates are removed.
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
for d in src repo-tidemark repo-restic repo-borg restore-tidemark restore-restic restore-borg \
         cache-tidemark cache-restic borg-base logs; do rm -rf "${WORK:?}/$d"; done
rm -f "$WORK/src.tidemark-bench-mutated" "$WORK/results.tsv"
LOGDIR="$WORK/logs"; mkdir -p "$LOGDIR"
RESULTS="$WORK/results.tsv"; : >"$RESULTS"
PW="$WORK/password"; (umask 077; echo "bench-passphrase-$SEED" >"$PW")
SRC="$WORK/src"

# Per-tool environment: own repository, own cache, passphrase from a file.
export TIDEMARK_REPOSITORY="$WORK/repo-tidemark" TIDEMARK_PASSWORD_FILE="$PW"
export RESTIC_REPOSITORY="$WORK/repo-restic" RESTIC_PASSWORD_FILE="$PW" RESTIC_CACHE_DIR="$WORK/cache-restic"
export BORG_REPO="$WORK/repo-borg" BORG_PASSCOMMAND="cat '$PW'" BORG_BASE_DIR="$WORK/borg-base"
export BORG_RELOCATED_REPO_ACCESS_IS_OK=yes BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=no
# tidemark's local state (locks, caches) under the scratch too
export TIDEMARK_STATE_DIR="$WORK/cache-tidemark"
tm() { "$TM" "$@"; }

note "generating ${SIZE_MB} MiB tree (seed $SEED) in $SRC"
python3 "$BENCH_ROOT/gen-tree.py" generate "$SRC" --size-mb "$SIZE_MB" --seed "$SEED" >&2
SRC_BYTES=$(dir_bytes "$SRC")
SRC_FILES=$(find "$SRC" -type f | wc -l)
record src_bytes "$SRC_BYTES"
# Warm the page cache once so that no tool pays the first read alone, and
# write back the generated tree first: otherwise the first tool in the order
# (tidemark) competes with 1 GiB of dirty pages going to disk while the later
# ones start clean (seen: 6.2 s vs 3.0 s for the same tidemark backup).
tar cf - -C "$WORK" src | cat >/dev/null
sync

# --- init (not timed) ---------------------------------------------------------
for t in $TOOLS; do
  case $t in
    tidemark) tm init >"$LOGDIR/init-tidemark.log" 2>&1 || { cat "$LOGDIR/init-tidemark.log" >&2; die "tidemark init failed"; } ;;
    restic)   restic init --repository-version 2 >"$LOGDIR/init-restic.log" 2>&1 || die "restic init failed" ;;
    borg)     borg init -e repokey-blake2 >"$LOGDIR/init-borg.log" 2>&1 || die "borg init failed" ;;
  esac
  record "$t.repo_empty" "$(dir_bytes "$WORK/repo-$t")"
done

backup() { # tool key
  case $1 in
    tidemark) measure "$1.$2" "$TM" backup files --instance bench "$SRC" ;;
    restic)   measure "$1.$2" restic backup --compression "$RESTIC_COMP" "$SRC" ;;
    borg)     measure "$1.$2" borg create --compression "$BORG_COMP" "::$2" "$SRC" ;;
  esac
  sync
  record "$1.$2.repo" "$(dir_bytes "$WORK/repo-$1")"
}

for t in $TOOLS; do backup "$t" backup1; done
for t in $TOOLS; do backup "$t" backup2; done
python3 "$BENCH_ROOT/gen-tree.py" mutate "$SRC" --seed "$SEED" >&2
sync
tar cf - -C "$WORK" src | cat >/dev/null
for t in $TOOLS; do backup "$t" backup3; done

# --- restore -------------------------------------------------------------------
restored_root() { # tool dir -> where the tree landed
  local c
  for c in "$2$SRC" "$2/${SRC#/}" "$2/src" "$2"; do
    [ -d "$c/facture" ] && { echo "$c"; return 0; }
  done
  return 1
}
for t in $TOOLS; do
  dir="$WORK/restore-$t"; mkdir -p "$dir"
  case $t in
    tidemark) measure "$t.restore" "$TM" restore files latest --target "$dir" ;;
    restic)   measure "$t.restore" restic restore latest --target "$dir" ;;
    borg)     measure "$t.restore" bash -c 'cd "$1" && borg extract ::backup3' _ "$dir" ;;
  esac
  sync
  root=$(restored_root "$t" "$dir") || die "$t: cannot find the restored tree under $dir"
  if diff -r "$SRC" "$root" >"$LOGDIR/diff-$t.log" 2>&1; then
    record "$t.restore_ok" 1
  else
    record "$t.restore_ok" 0
    note "$t: restored tree DIFFERS from the source (see $LOGDIR/diff-$t.log)"
  fi
  rm -rf "$dir"
done

# --- report --------------------------------------------------------------------
fig() { # tool metric -> number or empty
  local t=$1 m=$2
  case $m in
    b1) get "$t.backup1" ;;
    b2) get "$t.backup2" ;;
    b3) get "$t.backup3" ;;
    rs) get "$t.restore" ;;
    rss)
      local mx=0 k v
      for k in backup1 backup2 backup3 restore; do
        v=$(get "$t.$k" rss); [ -n "$v" ] && [ "$v" -gt "$mx" ] && mx=$v
      done
      [ "$mx" -gt 0 ] && kib_to_mib "$mx" ;;
    rss1) kib_to_mib "$(get "$t.backup1" rss)" ;;
    rssr) kib_to_mib "$(get "$t.restore" rss)" ;;
    size1)
      local a b; a=$(get "$t.backup1.repo" value); b=$(get "$t.repo_empty" value)
      [ -n "$a" ] && mib $((a - b)) ;;
    added)
      local a b; a=$(get "$t.backup3.repo" value); b=$(get "$t.backup2.repo" value)
      [ -n "$a" ] && kib $((a - b)) ;;
    added2)
      local a b; a=$(get "$t.backup2.repo" value); b=$(get "$t.backup1.repo" value)
      [ -n "$a" ] && kib $((a - b)) ;;
    ok) local v; v=$(get "$t.restore_ok" value); case $v in 1) echo yes ;; 0) echo NO ;; esac ;;
  esac
}
has() { has_tool "$1" && echo 1; }
row() { # label metric target-text target-check(restic|borg|'') limit-factor
  local label=$1 m=$2 tgt=$3 vs=${4:-} f=${5:-1}
  local a r b
  a=$(has tidemark >/dev/null && fig tidemark "$m" || true)
  r=$(has restic >/dev/null && fig restic "$m" || true)
  b=$(has borg >/dev/null && fig borg "$m" || true)
  local v="-"
  if [ -n "$vs" ] && [ -n "$a" ]; then
    local ref; ref=$([ "$vs" = restic ] && echo "$r" || echo "$b")
    [ -n "$ref" ] && v=$(verdict "$a" "$(awk -v x="$ref" -v f="$f" 'BEGIN { printf "%.4f", x * f }')")
  fi
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$(or_dash "$a")" "$(or_dash "$r")" \
    "$(or_dash "$b")" "$(ratio "$a" "$r")" "$(ratio "$a" "$b")" "$tgt" "$v"
}

md="$OUTDIR/files-$STAMP.md"
{
  echo "## files.sh: ${SIZE_MB} MiB documents-like tree, seed $SEED"
  echo
  echo "$(machine_line)"
  echo "$(load_line)"
  echo
  echo "Tree: $SRC_FILES files, $(mib "$SRC_BYTES") MiB. restic: --repository-version 2 --compression $RESTIC_COMP;"
  echo "borg: -e repokey-blake2 --compression $BORG_COMP; tidemark: ${TM:-not run}."
  for m in "${skip_msgs[@]}"; do echo "**$m**"; done
  echo
  echo "| measure | tidemark | restic | borg | tm/restic | tm/borg | target | met |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |"
  row "first backup, wall s" b1 "<= 0.67x restic" restic 0.67
  row "second backup (unchanged), wall s" b2 "<= borg" borg
  row "third backup (after mutate), wall s" b3 ""
  row "restore, wall s" rs "<= restic" restic
  row "repository after first backup, MiB" size1 ""
  row "added by unchanged backup, KiB" added2 ""
  row "added after mutate (10 changed, 20 new), KiB" added "<= restic" restic
  row "max RSS first backup, MiB" rss1 ""
  row "max RSS restore, MiB" rssr ""
  row "peak RSS over all steps, MiB" rss "<= restic" restic
  row "restore identical to source (diff -r)" ok ""
} >"$md"
cp "$RESULTS" "$OUTDIR/files-$STAMP.tsv"
cat "$md"
echo
note "written $md (raw: $OUTDIR/files-$STAMP.tsv, logs: $LOGDIR)"
if [ "${BENCH_KEEP:-0}" != 1 ]; then
  for d in src repo-tidemark repo-restic repo-borg cache-tidemark cache-restic borg-base; do rm -rf "${WORK:?}/$d"; done
fi
