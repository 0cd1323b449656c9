#!/usr/bin/env bash
# binlog_ops.sh: the binlog follower's operational paths against real
# MariaDB servers (issue 5):
#   1. privileges: an account without BINLOG MONITOR, one without
#      REPLICATION SLAVE: non-zero exit, the message holds the exact GRANT,
#      and running that GRANT fixes it;
#   2. one segment per transaction (binlog_flush_bytes=1) with catalog
#      compaction every 4 entries: status --json has every field and reads
#      few catalog objects; export --from/--to by GTID and by time gives
#      exactly the asked range, and mariadb-binlog reads the files;
#   3. the spool-full alarm: the repository on a tmpfs filled to the brim,
#      spool_max 64K: the follower stays connected, status shows the alarm
#      (exit 7), and when space returns it uploads, clears the alarm and the
#      chain is whole (skipped when a tmpfs cannot be mounted);
#   4. a primary switch: a second server (server_id 2, its binlog numbering
#      from 000001, GTIDs continuing) replicating the first, promoted; the
#      follower joins it by GTID; the catalog keeps both histories apart
#      (link gtid, identities), export puts the new server's files in a
#      directory of their own, and a GTID of either server is found.
source "$(dirname "$0")/lib.sh"
SB="$TM_SRC/tests/support/mariadb-sandbox.sh"
eval "$(TM_DB_SERVER_ID=2 "$SB" start "$T/dbb" 0)" || exit $?   # B first: only A's variables stay exported
B_SOCK=$TM_DB_SOCKET
cleanup_hooks+=("'$SB' stop '$T/dbb'")
eval "$("$SB" start "$T/dba" 0)" || exit $?
A_SOCK=$TM_DB_SOCKET A_PORT=$TM_DB_PORT A_PW=$(cat "$TM_DB_PASSWORD_FILE")
cleanup_hooks+=("'$SB' stop '$T/dba'")
setup_repo
export TIDEMARK_DB_SOCKET="$A_SOCK" TIDEMARK_DB_USER=root TIDEMARK_SPOOL_DIR="$T/spool"
export TIDEMARK_BINLOG_FLUSH_SECONDS=1
sqla() { mariadb --socket="$A_SOCK" -uroot "$@"; }
sqlb() { mariadb --socket="$B_SOCK" -uroot "$@"; }
jget() { python3 -c 'import json,sys; j=json.loads(sys.stdin.readline()); print(eval(sys.argv[1], {"j": j}))' "$1"; }
apos() { sqla -N -e "SHOW MASTER STATUS" | awk '{print $1":"$2}'; }
aseq() { sqla -N -e "SELECT @@gtid_binlog_pos" | sed 's/.*-//'; }

# B replicates A from A's current GTID position (its own binlog restarts at
# 000001 and carries A's transactions: log-slave-updates)
sqlb -e "STOP SLAVE; RESET SLAVE ALL; RESET MASTER; SET GLOBAL gtid_slave_pos = '$(sqla -N -e 'SELECT @@gtid_binlog_pos')';
         CHANGE MASTER TO master_host='127.0.0.1', master_port=$A_PORT, master_user='tidemark',
           master_password='$A_PW', master_use_gtid=slave_pos; START SLAVE"
sqla -e "CREATE DATABASE ops; CREATE TABLE ops.t (id INT PRIMARY KEY AUTO_INCREMENT, tag VARCHAR(20), pad VARCHAR(3000)) ENGINE=InnoDB"

# ---- 1. privileges ----------------------------------------------------------
sqla -e "CREATE USER nomon@localhost IDENTIFIED BY 'pw-nomon'; GRANT REPLICATION SLAVE ON *.* TO nomon@localhost;
         CREATE USER noslave@localhost IDENTIFIED BY 'pw-noslave'; GRANT BINLOG MONITOR ON *.* TO noslave@localhost"
priv_case() {   # USER PASSWORD MISSING_PRIVILEGE
  printf '%s\n' "$2" > "$T/secret-$1"   # (a name apart from the password: the mode warning names the file)
  local rc=0
  TIDEMARK_DB_USER=$1 TIDEMARK_DB_PASSWORD_FILE="$T/secret-$1" \
    "$TM_BIN" binlog follow --instance "p$1" --start "$(apos)" --until-idle 2>"$T/$1.err" || rc=$?
  [ "$rc" != 0 ] || fail "$1 (no $3): follow exited 0"
  grep -qF "GRANT $3 ON *.* TO '$1'@'localhost';" "$T/$1.err" || { cat "$T/$1.err" >&2; fail "$1: no exact GRANT $3"; }
  ! grep -q "pw-$1" "$T/$1.err" || fail "$1: the password shows in the message"
  sqla -e "GRANT $3 ON *.* TO '$1'@'localhost'"
  TIDEMARK_DB_USER=$1 TIDEMARK_DB_PASSWORD_FILE="$T/secret-$1" \
    "$TM_BIN" -q binlog follow --instance "p$1" --start "$(apos)" --until-idle 2>"$T/$1.err2" \
    || { cat "$T/$1.err2" >&2; fail "$1: follow still fails after GRANT $3"; }
  pass "missing $3: exit $rc, the message gives the GRANT, and that GRANT fixes it"
}
priv_case nomon pw-nomon "BINLOG MONITOR"
priv_case noslave pw-noslave "REPLICATION SLAVE"

# ---- 2. per-transaction segments, compaction, status, export ranges ------------
export TIDEMARK_BINLOG_FLUSH_BYTES=1 TIDEMARK_BINLOG_COMPACT_ENTRIES=4
RG=(--instance rg)
START=$(apos)
rows() { local i; for i in $(seq 1 "$2"); do echo "INSERT INTO ops.t (tag, pad) VALUES ('$1-$i', REPEAT('x', 50));"; done | sqla; }
next_second() { local s; s=$(( $(date +%s) + 1 )); while [ "$(date +%s)" -lt "$s" ]; do sleep 0.05; done; date +%s; }
rows p1 12
T2=$(next_second)
G2A=$(( $(aseq) + 1 ))
rows p2 12
G2B=$(aseq)
T2E=$(date +%s)
next_second >/dev/null
rows p3 12
"$TM_BIN" -q binlog follow "${RG[@]}" --start "$START" --until-idle || fail "follow rg"
# (the follower stopped at the end: exit 6, its one alarm says so)
rc=0; "$TM_BIN" --json binlog status "${RG[@]}" > "$T/st.json" 2>/dev/null || rc=$?
[ "$rc" = 6 ] || { cat "$T/st.json"; fail "status rg of the stopped follower: exit $rc, expected 6"; }
python3 - "$T/st.json" <<'PY' || fail "status --json fields"
import json, sys
j = json.loads(open(sys.argv[1]).readline())
for k in ("connected", "lag_seconds", "lag_bytes", "last_archived_gtid", "last_archived_time",
          "spool_bytes", "spool_max", "window", "alarms", "catalog", "segments"):
    assert k in j, f"status lacks {k}: {j}"
w = j["window"]
for k in ("from", "to", "from_utc", "to_utc", "from_gtid", "to_gtid"):
    assert k in w, f"window lacks {k}"
assert len(j["alarms"]) == 1 and "is not running" in j["alarm"] and not j["running"], j
assert j["segments"] >= 36, j["segments"]
c = j["catalog"]
assert c["compacts"] >= 8 and c["objects_read"] < j["segments"] // 3, c
print(f'{j["segments"]} segments loaded from {c["objects_read"]} objects ({c["compacts"]} compacts)')
PY
pass "status --json: every field; catalog compacted by the follower"

tags() { grep -o "'$1-[0-9]*'" | sort -u | wc -l; }   # distinct row tags in mariadb-binlog -v output
readable() { local f; for f in "$1"/binlog.*; do mariadb-binlog "$f" >/dev/null || fail "mariadb-binlog cannot read $f"; done; }
"$TM_BIN" -q binlog export "${RG[@]}" --from "0-1-$G2A" --to "0-1-$G2B" "$T/exg"
readable "$T/exg"
mariadb-binlog -v "$T"/exg/binlog.* > "$T/exg.txt"
for g in $(seq "$G2A" "$G2B"); do grep -q "GTID 0-1-$g " "$T/exg.txt" || fail "GTID export lacks 0-1-$g"; done
! grep -q "GTID 0-1-$((G2A - 1)) \|GTID 0-1-$((G2B + 1)) " "$T/exg.txt" || fail "GTID export goes past its range"
[ "$(tags p2 < "$T/exg.txt")" = 12 ] && ! grep -q "'p1-\|'p3-" "$T/exg.txt" \
  || fail "GTID export: wrong rows ($(grep -o "'p[0-9]-[0-9]*" "$T/exg.txt" | tr '\n' ' '))"
pass "export --from/--to GTID 0-1-$G2A..0-1-$G2B: exactly those transactions, mariadb-binlog reads them"

"$TM_BIN" -q binlog export "${RG[@]}" --from "$(date -u -d "@$T2" '+%F %T')" --to "@$T2E" "$T/ext"
readable "$T/ext"
mariadb-binlog -v "$T"/ext/binlog.* > "$T/ext.txt"
[ "$(tags p2 < "$T/ext.txt")" = 12 ] || fail "time export lacks p2 rows"
! grep -q "'p1-" "$T/ext.txt" || fail "time export starts before $T2"
! grep -q "'p3-" "$T/ext.txt" || fail "time export runs past $T2E"
expect_fail 3 "no archived binlog reaches" "$TM_BIN" binlog export "${RG[@]}" --from "@$(( $(date +%s) + 3600 ))" "$T/exf"
pass "export --from/--to by time: exactly the rows committed in that window, mariadb-binlog reads them"

# ---- 3. spool full: the repository's disk fills -------------------------------
if mkdir -p "$T/small" && mount -t tmpfs -o size=12m tmpfs "$T/small" 2>/dev/null; then
  cleanup_hooks+=("umount -l '$T/small'")
  SF=(--instance sf)
  (export TIDEMARK_REPOSITORY="$T/small/repo"; "$TM_BIN" -q init >/dev/null) || fail "init on tmpfs"
  unset TIDEMARK_BINLOG_FLUSH_BYTES TIDEMARK_BINLOG_COMPACT_ENTRIES
  TIDEMARK_REPOSITORY="$T/small/repo" TIDEMARK_SPOOL_MAX=64K \
    "$TM_BIN" -q binlog follow "${SF[@]}" --start "$(apos)" 2>"$T/sf.log" & SFPID=$!
  cleanup_hooks+=("kill -9 $SFPID 2>/dev/null")
  sfstatus() { TIDEMARK_REPOSITORY="$T/small/repo" "$TM_BIN" --json binlog status "${SF[@]}" 2>/dev/null; }
  for _ in $(seq 1 100); do sfstatus | grep -q '"connected":true' && break; sleep 0.2; done
  sfstatus | grep -q '"connected":true' || { cat "$T/sf.log"; fail "sf follower never connected"; }
  # it holds a shared repository lock while it runs (refreshed every minute)
  grep -lq "\"pid\":$SFPID,\"time\":[0-9]*,\"exclusive\":false" "$T"/small/repo/locks/* \
    || fail "no shared repository lock of the follower (pid $SFPID): $(cat "$T"/small/repo/locks/* 2>&1)"
  dd if=/dev/zero of="$T/small/filler" bs=64k 2>/dev/null || true   # until ENOSPC
  for i in $(seq 1 60); do echo "INSERT INTO ops.t (tag, pad) VALUES ('sf-$i', REPEAT('s', 3000));"; done | sqla
  rc=0
  for _ in $(seq 1 60); do
    rc=0; sfstatus > "$T/sf.json" || rc=$?
    grep -q '"alarms":\["spool full' "$T/sf.json" && break
    sleep 0.5
  done
  grep -q '"alarms":\["spool full' "$T/sf.json" || { cat "$T/sf.json" "$T/sf.log"; fail "no spool-full alarm"; }
  [ "$rc" = 7 ] || fail "status with a full spool exited $rc, expected 7"
  jget 'j["connected"] and j["follower"]["upload_error"] is not None' < "$T/sf.json" | grep -q True \
    || { cat "$T/sf.json"; fail "while the spool is full: not connected, or no upload error shown"; }
  sleep 2
  kill -0 "$SFPID" || fail "the follower died with a full spool"
  pass "spool full: alarm in status (exit 7), still connected, upload error shown"
  rm -f "$T/small/filler"
  for i in $(seq 1 10); do echo "INSERT INTO ops.t (tag, pad) VALUES ('sf2-$i', 'after');"; done | sqla
  want=$(sqla -N -e "SELECT @@gtid_binlog_pos")
  for _ in $(seq 1 60); do
    rc=0; sfstatus > "$T/sf2.json" || rc=$?
    [ "$rc" = 0 ] && [ "$(jget 'j["last_archived_gtid"]' < "$T/sf2.json")" = "$want" ] \
      && jget 'j["spool_bytes"] == 0' < "$T/sf2.json" | grep -q True && break
    sleep 0.5
  done
  [ "$rc" = 0 ] || { cat "$T/sf2.json"; fail "status still failing after space returned"; }
  [ "$(jget 'j["last_archived_gtid"]' < "$T/sf2.json")" = "$want" ] || { cat "$T/sf2.json"; fail "archive did not catch up to $want"; }
  jget 'j["alarms"] == [] and j["spool_bytes"] == 0 and j["connected"]' < "$T/sf2.json" | grep -q True \
    || { cat "$T/sf2.json"; fail "alarm not cleared or spool not drained"; }
  [ "$(jget 'j["follower"]["reconnects"]' < "$T/sf2.json")" = 0 ] || fail "the follower lost its connection while paused"
  kill -TERM "$SFPID"; rc=0; wait "$SFPID" || rc=$?
  [ "$rc" = 0 ] || { tail "$T/sf.log"; fail "sf follower exit $rc"; }
  ! grep -lq "\"pid\":$SFPID," "$T"/small/repo/locks/* 2>/dev/null || fail "the follower left its lock behind"
  TIDEMARK_REPOSITORY="$T/small/repo" "$TM_BIN" --json binlog list "${SF[@]}" \
    | python3 -c 'import json,sys; s=json.load(sys.stdin); assert s and all(e["connects"] for e in s), s' \
    || fail "sf chain broken"
  pass "space back: uploads resume, the alarm clears, archive caught up to $want on the same connection, chain unbroken"
else
  echo "# skipping spool-full case: cannot mount a tmpfs here (not root?)"
fi

# ---- 4. primary switch -------------------------------------------------------
export TIDEMARK_BINLOG_FLUSH_BYTES=1M
rows p4 5
A_LAST=$(sqla -N -e "SELECT @@gtid_binlog_pos")
"$TM_BIN" -q binlog follow "${RG[@]}" --until-idle || fail "follow rg on A"
[ "$(sqlb -N -e "SELECT MASTER_GTID_WAIT('$A_LAST', 30)")" = 0 ] \
  || fail "B did not catch up with A: $(sqlb -e 'SHOW SLAVE STATUS\G' | grep -E 'Running:|Last_.*Error:')"
# promote B: its own binlog starts at 000001 and goes on with GTID 0-2-...
sqlb -e "STOP SLAVE; RESET SLAVE ALL"
[ "$(sqlb -N -e "SHOW BINARY LOGS" | head -1 | cut -f1)" = binlog.000001 ] || fail "B's binlog does not start at 000001"
for i in $(seq 1 8); do echo "INSERT INTO ops.t (tag, pad) VALUES ('b-$i', 'on B');"; done | sqlb
B_LAST=$(sqlb -N -e "SELECT @@gtid_binlog_pos")
case $B_LAST in 0-2-*) ;; *) fail "B's GTID is $B_LAST, expected 0-2-..." ;; esac
TIDEMARK_DB_SOCKET="$B_SOCK" "$TM_BIN" -q binlog follow "${RG[@]}" --until-idle 2>"$T/sw.log" \
  || { cat "$T/sw.log"; fail "follow rg on B"; }
grep -q "server changed" "$T/sw.log" || fail "no 'server changed' notice: $(cat "$T/sw.log")"
"$TM_BIN" --json binlog list "${RG[@]}" > "$T/sw.json"
python3 - "$T/sw.json" "$A_PORT" <<'PY' || fail "catalog across the switch"
import json, sys
segs, a_port = json.load(open(sys.argv[1])), sys.argv[2]
ids = []
for s in segs:
    assert s["connects"], f"entry {s['seq']} breaks: {s['break']}"
    if not ids or ids[-1] != s["identity"]:
        ids.append(s["identity"])
assert len(ids) == 2 and f":{a_port}/1" in ids[0] and ids[1].endswith("/2"), ids
first_b = next(s for s in segs if s["identity"] == ids[1])
assert first_b["link"] == "gtid" and first_b["file"] == "binlog.000001", first_b
assert all(s["identity"] == ids[0] for s in segs[:segs.index(first_b)])
print(f"A: {ids[0]}, B: {ids[1]} from entry {first_b['seq']} ({first_b['file']}:{first_b['start']})")
PY
rc=0; "$TM_BIN" --json binlog status "${RG[@]}" > "$T/sw-st.json" 2>/dev/null || rc=$?
[ "$rc" = 6 ] && [ "$(jget 'len(j["alarms"])' < "$T/sw-st.json")" = 1 ] \
  || { cat "$T/sw-st.json"; fail "status after the switch (follower stopped): exit $rc, expected 6 and one alarm"; }
[ "$(jget 'j["last_archived_gtid"]' < "$T/sw-st.json")" = "$B_LAST" ] || fail "last archived GTID is not B's $B_LAST"
# (FILE:POS would be ambiguous now: both servers have a binlog.000001)
"$TM_BIN" -q binlog export "${RG[@]}" --from "0-1-$G2A" "$T/exs"
bdir=$(find "$T/exs" -mindepth 1 -type d)
[ -n "$bdir" ] && [ -f "$bdir/binlog.000001" ] && [ -f "$T/exs/binlog.000001" ] || fail "export does not keep A's and B's binlog.000001 apart: $(find "$T/exs")"
for f in "$T"/exs/binlog.* "$bdir"/binlog.*; do mariadb-binlog "$f" >/dev/null || fail "mariadb-binlog cannot read $f"; done
[ "$(mariadb-binlog -v "$bdir"/binlog.* | tags b)" = 8 ] || fail "B's export lacks its rows"
! mariadb-binlog "$bdir"/binlog.* | grep -q "'p4-" || fail "B's export repeats A's rows"
"$TM_BIN" -q binlog export "${RG[@]}" --from "${B_LAST%-*}-$(( ${B_LAST##*-} - 7 ))" "$T/exb"
mariadb-binlog -v $(find "$T/exb" -name 'binlog.*') > "$T/exb.txt"
[ "$(tags b < "$T/exb.txt")" = 8 ] && ! grep -q "'p[0-9]-" "$T/exb.txt" || fail "export from B's first GTID: wrong rows"
pass "primary switch: joined by GTID, both histories kept apart (identities, link gtid, export dirs)"
