#!/usr/bin/env bash
# pitr_archive_end.sh: the edges of a point-in-time restore's reach (issue 10,
# items 6, 9, 10), real servers: a SOURCE (server-id 1) archived by the
# follower, a TARGET (server-id 2).
#  (1) a --to TIME past the last archived transaction:
#      (a) follower running and idle: its recorded heartbeat (status.json) shows
#          the server had nothing past the archive's end after T: restored, the
#          plan says why, equal to the source;
#      (b) follower stopped, one row written afterwards: refused with exit 6
#          before anything is touched, naming the archive's end, the follower's
#          state and the ways on (--to-gtid of the last archived transaction,
#          --accept-archive-end); a snapshot taken after the stop (its position
#          not archived) is named too;
#      (c) --accept-archive-end: restored to the archive's end, the plan warns and
#          the verdict says the loss was accepted (the row is missing, as said);
#      (d) --to-gtid of the last archived transaction: exact;
#      (e) the follower restarted and caught up: the same --to TIME now holds the row;
#      (f) after FLUSH BINARY LOGS (the archive ends with the new file's head) still proven;
#      (g) a range across that rotation, both apply paths, equal to the source;
#  (2) --to-gtid of GTIDs not in the archive: after its end, another server_id at
#      an archived seq_no, another server_id at a snapshot's own seq_no, an
#      unknown domain: refused, the target untouched;
#  (3) --to-gtid of the oldest snapshot's own GTID (not archived: the follower
#      started at its coordinates): the snapshot alone, verified;
#  (4) verify-chain over snapshots sharing one GTID (the oldest and the next; three
#      in a row later): every pair verified;
#  (5) --apply net refused (a user without BINLOG REPLAY before the load; a
#      statement-format event after it): exit 2, a "refused:" line and no
#      verification verdict.
source "$(dirname "$0")/lib.sh"
SB="$TM_SRC/tests/support/mariadb-sandbox.sh"
eval "$(TM_DB_BUFFER_POOL=64M "$SB" start "$T/src")" || exit $?
S=$TM_DB_SOCKET; cleanup_hooks+=("'$SB' stop '$T/src'")
eval "$(TM_DB_BUFFER_POOL=64M TM_DB_SERVER_ID=2 "$SB" start "$T/tgt")"; TG=$TM_DB_SOCKET
cleanup_hooks+=("'$SB' stop '$T/tgt'")
q() { local s=$1; shift; mariadb --default-character-set=utf8mb4 -S "$s" -uroot "$@"; }
export TZ=UTC

instance_config shop "$S" shop 777
TM() { "$TM_BIN" --instance shop "$@"; }
sums() { # sock -> "table checksum rows" of every base table of shop
  for t in $(q "$1" -N -e "SELECT table_name FROM information_schema.tables WHERE table_schema='shop' AND table_type='BASE TABLE' ORDER BY 1"); do
    echo "$t $(q "$1" -N -e "CHECKSUM TABLE shop.\`$t\`" | awk '{print $2}') $(q "$1" -N -e "SELECT COUNT(*) FROM shop.\`$t\`")"
  done
}
gtid_of() { python3 -c "import json;print(json.load(open('$1'))['binlog']['gtid'])"; }
snap_of() { python3 -c "import json;print(json.load(open('$1'))['snapshot'])"; }
archived() { TM --json binlog status 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["last_archived_gtid"])' 2>/dev/null || true; }
wait_archived() { # GTID_STATE: until the catalog ends there
  for _ in $(seq 1 60); do [ "$(archived)" = "$1" ] && return 0; sleep 0.5; done
  fail "the follower did not archive up to $1 within 30 s (got '$(archived)')"
}
heartbeat_time() {
  python3 -c "import json;print((json.load(open('$T/spool/shop/status.json')).get('heartbeat') or {}).get('time', 0))" 2>/dev/null || echo 0
}
wait_heartbeat_from() { # EPOCH: until the follower recorded a heartbeat at or after it
  for _ in $(seq 1 60); do [ "$(heartbeat_time)" -ge "$1" ] && return 0; sleep 0.5; done
  fail "the follower recorded no heartbeat at or after $1 (last: $(heartbeat_time))"
}
untouched() { # label: the target still holds what $T/before.sum says
  sums $TG > "$T/after.sum"; diff -q "$T/before.sum" "$T/after.sum" >/dev/null || fail "$1: the target was changed"
}
refuse() { # label code fragment args...
  local label=$1 code=$2 frag=$3; shift 3
  sums $TG > "$T/before.sum"
  expect_fail "$code" "$frag" TM restore db "$@" --socket $TG --user root --drop-existing
  grep -q "nothing was touched" "$T/err" || { cat "$T/err"; fail "$label: no 'nothing was touched'"; }
  ! grep -q "^verification:" "$T/out" || { cat "$T/out"; fail "$label: a verification verdict on a refusal"; }
  untouched "$label"
  pass "$label refused (exit $code): $(tail -1 "$T/err" | cut -c1-240)"
}
restore_ok() { # label args...: restore, verdict in $T/r.out
  local label=$1; shift
  TM restore db "$@" --socket $TG --user root --drop-existing > "$T/r.out" 2> "$T/r.err" \
    || { cat "$T/r.out" "$T/r.err"; fail "$label: restore"; }
}

q $S <<'SQL'
CREATE DATABASE shop CHARACTER SET utf8mb4;
USE shop;
CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL, note VARCHAR(60)) ENGINE=InnoDB;
CREATE TABLE k (a INT, b VARCHAR(20)) ENGINE=InnoDB;   -- no key
INSERT INTO t (v, note) SELECT seq, CONCAT('seed ', seq) FROM seq_1_to_50;
INSERT INTO k VALUES (1, 'x'), (2, 'y');
SQL
# S1, the oldest, and S2 right after it: one GTID for both
TM --json backup db > "$T/s1.json" || fail "snapshot S1"
sums $S > "$T/s1.sum"
TM --json backup db > "$T/s2.json" || fail "snapshot S2"
G1=$(gtid_of "$T/s1.json"); [ "$(gtid_of "$T/s2.json")" = "$G1" ] || fail "S1 and S2 should share a GTID ($G1 / $(gtid_of "$T/s2.json"))"
ST1=$(python3 -c "import json;j=json.load(open('$T/s1.json'));print(j['binlog']['file']+':'+str(j['binlog']['position']))")
"$TM_BIN" -q --instance shop binlog follow --start "$ST1" >>"$T/follow.log" 2>&1 & FPID=$!
cleanup_hooks+=("kill \$FPID 2>/dev/null")
D=${G1%%-*}

work() { # N: a few transactions of several shapes
  local n=$1
  q $S shop <<SQL
INSERT INTO t (v, note) VALUES ($n, 'w$n a'), ($n + 1, 'w$n b');
UPDATE t SET v = v + $n WHERE id % 7 = $(( n % 7 ));
BEGIN; DELETE FROM t WHERE id = $(( n + 3 )); INSERT INTO k VALUES ($n, 'w$n'); COMMIT;
UPDATE k SET b = CONCAT(b, '.') WHERE a = 1;
SQL
}
for n in 1 2 3; do work $n; done
# S3, S4, S5: three snapshots at one position (S3's GTID is archived)
TM --json backup db > "$T/s3.json" || fail "snapshot S3"
TM --json backup db > "$T/s4.json" || fail "snapshot S4"
TM --json backup db > "$T/s5.json" || fail "snapshot S5"
G3=$(gtid_of "$T/s3.json")
[ "$(gtid_of "$T/s5.json")" = "$G3" ] || fail "S3 and S5 should share a GTID"
for n in 4 5 6; do work $n; done
END=$(q $S -N -e "SELECT @@gtid_binlog_pos")
T0=$(date +%s)
wait_archived "$END"
sums $S > "$T/end.sum"

# ---- (1a) follower running, idle: the heartbeat proves the archive complete after T0 -------
wait_heartbeat_from $(( T0 + 2 ))
restore_ok "(1a) --to @$T0" --to "@$T0"
grep -q "^plan: note: the archive ends at .* nothing committed up to the target is missing" "$T/r.out" \
  || { cat "$T/r.out"; fail "(1a) the plan does not say why the archive is complete"; }
grep -q "^verification: OK" "$T/r.out" || { cat "$T/r.out"; fail "(1a) verdict"; }
! grep -q "WARNING" "$T/r.out" || { cat "$T/r.out"; fail "(1a) a warning on a proven target"; }
sums $TG | diff - "$T/end.sum" >&2 || fail "(1a) the target differs from the source"
pass "(1a) --to a time past the archive's end, proven by the follower's heartbeat: $(grep 'plan: note: the archive ends' "$T/r.out" | cut -c1-200)"

# ---- (1b) follower stopped, one row written afterwards ----------------------------------
kill -TERM "$FPID"; wait "$FPID" || fail "follower exit $?"
LASTG=$(echo "$END" | tr ',' '\n' | grep "^$D-")
sleep 1
q $S shop -e "INSERT INTO t (v, note) VALUES (4242, 'after the follower stopped')"
LOSTG=$(q $S -N -e "SELECT @@gtid_binlog_pos" | tr ',' '\n' | grep "^$D-")
sums $S > "$T/lost.sum"
sleep 1; TAFTER=$(date +%s); sleep 1
refuse "(1b) --to @$TAFTER past the archive's end, follower stopped" 6 "is past the end of the binlog archive of instance shop" \
  --to "@$TAFTER"
for frag in "the follower is not running (state stopped" "--to-gtid $LASTG" "--accept-archive-end" "nothing proves"; do
  grep -qF -- "$frag" "$T/err" || { cat "$T/err"; fail "(1b) the refusal lacks '$frag'"; }
done
# the same in the plan alone, and with --json (the error object, exit 6)
expect_fail 6 "past the end of the binlog archive" TM restore db --to "@$TAFTER" --plan --socket $TG --user root
TM --json restore db --to "@$TAFTER" --plan --socket $TG --user root > "$T/rj.out" 2>/dev/null && fail "(1b) --json: not refused"
python3 -c "import json; j=json.load(open('$T/rj.out')); assert j['error']['exit']==6, j" || fail "(1b) --json error object"
# ---- (2) GTIDs not in the archive ----------------------------------------------------------
sfx=${LASTG##*-}; s3seq=$(echo "$G3" | tr ',' '\n' | grep "^$D-"); s3seq=${s3seq##*-}
refuse "(2) --to-gtid $LOSTG (committed after the archive's end)" 3 "is not in the binlog archive" --to-gtid "$LOSTG"
refuse "(2) --to-gtid $D-99-$(( sfx - 2 )) (another server_id)" 3 "is not in the binlog archive" --to-gtid "$D-99-$(( sfx - 2 ))"
refuse "(2) --to-gtid $D-99-$s3seq (another server_id at S3's seq_no)" 3 "is not in the history of instance shop" \
  --to-gtid "$D-99-$s3seq"
refuse "(2) --to-gtid 77-1-1 (unknown domain)" 3 "is not in the binlog archive" --to-gtid "77-1-1"

# ---- (1b') a snapshot taken after the stop: its position is not archived; the refusal names it
TM --json backup db > "$T/s6.json" || fail "snapshot S6"
S6=$(snap_of "$T/s6.json")
sleep 1; TAFTER6=$(date +%s)
refuse "(1b) --to @$TAFTER6 after a snapshot newer than the archive" 6 "--snapshot ${S6:0:12}" --to "@$TAFTER6"

# the GTID it holds exactly is the snapshot itself (not archived, but exact)
restore_ok "(1b') --to-gtid $LOSTG" --to-gtid "$LOSTG"
grep -q "^plan: no binlog replay: the snapshot itself is the target" "$T/r.out" || { cat "$T/r.out"; fail "(1b') plan"; }
sums $TG | diff - "$T/lost.sum" >&2 || fail "(1b') the target is not snapshot S6"
pass "(1b') --to-gtid $LOSTG: snapshot ${S6:0:12} itself"

# ---- (1c) --accept-archive-end ------------------------------------------------------------
restore_ok "(1c) --accept-archive-end" --to "@$TAFTER" --accept-archive-end
grep -q "^plan: WARNING: .*--accept-archive-end: the result stops at the archive's end" "$T/r.out" \
  || { cat "$T/r.out"; fail "(1c) no plan warning"; }
grep -q "^verification: OK up to the archive's end ONLY (--accept-archive-end)" "$T/r.out" \
  || { cat "$T/r.out"; fail "(1c) the verdict does not say the loss was accepted"; }
sums $TG | diff - "$T/end.sum" >&2 || fail "(1c) the target is not the archive's end"
[ "$(q $TG -N -e "SELECT COUNT(*) FROM shop.t WHERE v = 4242")" = 0 ] || fail "(1c) the unarchived row is there?"
TM --json restore db --to "@$TAFTER" --accept-archive-end --socket $TG --user root --drop-existing > "$T/r.json" 2>/dev/null \
  || fail "(1c) --json"
python3 -c "
import json; j=json.load(open('$T/r.json'))
assert j['verdict'].startswith('verified up to the archive'), j['verdict']
assert j['plan']['archive_end']['target']=='accepted', j['plan']['archive_end']" || fail "(1c) --json verdict"
pass "(1c) --accept-archive-end: $(grep '^verification:' "$T/r.out" | cut -c1-200)"

# ---- (1d) --to-gtid of the last archived transaction ------------------------------------------
restore_ok "(1d) --to-gtid $LASTG" --to-gtid "$LASTG"
grep -q "^verification: OK, snapshot hashes verified and the exact target GTID reached" "$T/r.out" \
  || { cat "$T/r.out"; fail "(1d) verdict"; }
sums $TG | diff - "$T/end.sum" >&2 || fail "(1d) the target differs from the archive's end"
pass "(1d) --to-gtid $LASTG: exact"

# ---- (3) the oldest snapshot's own GTID ----------------------------------------------------
restore_ok "(3) --to-gtid $G1" --to-gtid "$G1"
grep -q "^plan: no binlog replay: the snapshot itself is the target" "$T/r.out" || { cat "$T/r.out"; fail "(3) plan"; }
grep -q "^verification: OK" "$T/r.out" || { cat "$T/r.out"; fail "(3) verdict"; }
sums $TG | diff - "$T/s1.sum" >&2 || fail "(3) the target is not snapshot S1"
pass "(3) --to-gtid of the oldest snapshot's own GTID $G1: the snapshot itself"
refuse "(3) --before-gtid $G1" 3 "before the oldest snapshot" --before-gtid "$G1"

# ---- (1e) the follower restarted and caught up: the row is now in the archive ------------------
"$TM_BIN" -q --instance shop binlog follow >>"$T/follow.log" 2>&1 & FPID=$!
NOW_END=$(q $S -N -e "SELECT @@gtid_binlog_pos")
wait_archived "$NOW_END"
wait_heartbeat_from $(( $(date +%s) + 1 ))
restore_ok "(1e) --to @$TAFTER after the catch-up" --to "@$TAFTER"
[ "$(q $TG -N -e "SELECT COUNT(*) FROM shop.t WHERE v = 4242")" = 1 ] || { cat "$T/r.out"; fail "(1e) the row is missing"; }
grep -q "^verification: OK" "$T/r.out" || { cat "$T/r.out"; fail "(1e) verdict"; }
pass "(1e) after the catch-up --to @$TAFTER holds the row"

# ---- (1f) a binlog rotation after the last transaction: the new file's head is archived and
# the heartbeat carries it; a time after the rotation is proven once the follower heard it
q $S -e "FLUSH BINARY LOGS"
sleep 1; TROT=$(date +%s)
ok=0
for _ in $(seq 1 40); do
  if TM restore db --to "@$TROT" --plan --socket $TG --user root --drop-existing > "$T/p.out" 2> "$T/p.err"; then ok=1; break; fi
  sleep 0.5
done
[ $ok = 1 ] || { cat "$T/p.err"; fail "(1f) a time after a rotation never proven"; }
grep -q "^plan: note: the archive ends at .* nothing committed up to the target is missing" "$T/p.out" \
  || { cat "$T/p.out"; fail "(1f) the plan does not say why"; }
pass "(1f) after FLUSH BINARY LOGS: $(grep -o 'the follower heard .*' "$T/p.out" | cut -c1-160)"

# ---- (1g) a range across that rotation: binlog.000002's head is a segment of its own, the
# next segment continues the same file (the archive source once took it for a new file)
q $S shop -e "INSERT INTO t (v, note) VALUES (5151, 'after the rotation'); UPDATE k SET b = 'rot' WHERE a = 2;"
RALL=$(q $S -N -e "SELECT @@gtid_binlog_pos"); RG=$(echo "$RALL" | tr ',' '\n' | grep "^$D-")
wait_archived "$RALL"
sums $S > "$T/rot.sum"
for a in transactions auto; do
  restore_ok "(1g) --to-gtid $RG --apply $a" --to-gtid "$RG" --apply $a
  grep -q "^verification: OK" "$T/r.out" || { cat "$T/r.out"; fail "(1g) --apply $a: verdict"; }
  sums $TG | diff - "$T/rot.sum" >&2 || fail "(1g) --apply $a: the target differs from the source"
  pass "(1g) --to-gtid $RG across FLUSH BINARY LOGS, --apply $a: equal to the source"
done

# ---- (4) verify-chain over snapshots sharing a GTID ------------------------------------------
TM verify-chain --socket $TG --user root > "$T/vc.out" 2>"$T/vc.err" || { cat "$T/vc.out" "$T/vc.err"; fail "(4) verify-chain"; }
grep -q "all 5 pairs verified" "$T/vc.out" || { cat "$T/vc.out"; fail "(4) verify-chain verdict"; }
[ "$(grep -c ' OK verified' "$T/vc.out")" = 5 ] || { cat "$T/vc.out"; fail "(4) verify-chain pairs"; }
pass "(4) verify-chain: $(tail -1 "$T/vc.out")"

# ---- (5) --apply net refused: no verification verdict ---------------------------------------
q $TG -e "CREATE USER nb@localhost; GRANT ALL PRIVILEGES ON *.* TO nb@localhost; REVOKE SUPER, BINLOG REPLAY ON *.* FROM nb@localhost;"
q $TG -e "DROP DATABASE IF EXISTS shop"
rc=0; TM restore db --to-gtid "$LASTG" --apply net --socket $TG --user nb --drop-existing > "$T/out" 2> "$T/err" || rc=$?
[ $rc = 2 ] || { cat "$T/out" "$T/err"; fail "(5) --apply net without the privilege: exit $rc, not 2"; }
grep -q "GRANT BINLOG REPLAY" "$T/err" && grep -q "^refused: --apply net: nothing was replayed, nothing was touched" "$T/out" \
  || { cat "$T/out" "$T/err"; fail "(5) refusal before the load"; }
! grep -q "^verification:" "$T/out" || { cat "$T/out"; fail "(5) a verification verdict on a refusal before the load"; }
pass "(5) --apply net refused before the load: $(grep '^refused' "$T/out")"
q $S shop -e "SET SESSION binlog_format=STATEMENT; UPDATE k SET b = CONCAT(b, 's') WHERE a = 2;"
SEND=$(q $S -N -e "SELECT @@gtid_binlog_pos"); wait_archived "$SEND"
SG=$(echo "$SEND" | tr ',' '\n' | grep "^$D-")
rc=0; TM restore db --to-gtid "$SG" --apply net --socket $TG --user root --drop-existing > "$T/out" 2> "$T/err" || rc=$?
[ $rc = 2 ] || { cat "$T/out" "$T/err"; fail "(5) --apply net over a statement event: exit $rc, not 2"; }
grep -q "refused after the load" "$T/err" && grep -q "^refused: --apply net: nothing was replayed, the target holds the snapshot only" "$T/out" \
  || { cat "$T/out" "$T/err"; fail "(5) refusal after the load"; }
! grep -q "^verification:" "$T/out" || { cat "$T/out"; fail "(5) a verification verdict on a refusal after the load"; }
TM --json restore db --to-gtid "$SG" --apply net --socket $TG --user root --drop-existing > "$T/r.json" 2>/dev/null && fail "(5) --json: not refused"
python3 -c "import json; j=json.loads(open('$T/r.json').readline()); assert j['verdict']=='refused', j['verdict']" \
  || { cat "$T/r.json"; fail "(5) --json verdict"; }
pass "(5) --apply net refused after the load: $(grep '^refused' "$T/out")"
echo "pitr_archive_end: all checks passed"
