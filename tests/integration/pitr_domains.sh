#!/usr/bin/env bash
# pitr_domains.sh: point-in-time restore over a binlog with two GTID domains
# (domain 0 and sessions with SET SESSION gtid_domain_id=7), real servers: a
# SOURCE (server-id 1) archived by the follower, a TARGET (server-id 2)
# restored by tidemark, a REFERENCE (server-id 3) given the same snapshot plus
# `mariadb-binlog --start-position=<snapshot byte pos> --stop-position=<byte
# pos> | mariadb`. Snapshot A (domain 0 only), a workload interleaving both
# domains on their own tables and on one shared table (order matters there),
# snapshot B (position spans both domains), more of both. Checks:
#  (1) --to-gtid a domain-7 GTID in the middle, and the last domain-7 GTID
#      before B (B is at that GTID in domain 7 but past it in domain 0);
#  (2) --before-gtid a domain-0 GTID after B (replay starts at a two-domain
#      position);
#      each: CHECKSUM TABLE equal to the reference, and the target's
#      gtid_slave_pos equal to BINLOG_GTID_POS(file, pos) of the source;
#  (3) verify-chain A -> B passes.
source "$(dirname "$0")/lib.sh"
command -v mariadb-binlog >/dev/null || { echo "SKIP: mariadb-binlog missing"; exit 77; }
SB="$TM_SRC/tests/support/mariadb-sandbox.sh"
start_src_tgt_ref
export TZ=UTC

instance_config shop "$S" shop 777
TM() { "$TM_BIN" --instance shop "$@"; }

q $S <<'SQL'
CREATE DATABASE shop CHARACTER SET utf8mb4;
USE shop;
CREATE TABLE a (id INT AUTO_INCREMENT PRIMARY KEY, v BIGINT NOT NULL, note VARCHAR(100)) ENGINE=InnoDB;
CREATE TABLE b (id INT AUTO_INCREMENT PRIMARY KEY, v BIGINT NOT NULL, note VARCHAR(100)) ENGINE=InnoDB;
CREATE TABLE s (id INT PRIMARY KEY, v BIGINT NOT NULL, last VARCHAR(40)) ENGINE=InnoDB;
INSERT INTO s SELECT seq, seq, 'seed' FROM seq_1_to_5;
INSERT INTO a (v, note) SELECT seq, 'seed' FROM seq_1_to_20;
SQL
TM --json backup db > "$T/a.json" || fail "snapshot A"
SA=$(python3 -c "import json;j=json.load(open('$T/a.json'));print(j['binlog']['file']+':'+str(j['binlog']['position']))")
"$TM_BIN" -q --instance shop binlog follow --start "$SA" >>"$T/follow.log" 2>&1 & FPID=$!
cleanup_hooks+=("kill $FPID 2>/dev/null")

# One round: transactions of both domains, in an order that varies with the
# round; on the shared table s the two domains' updates do not commute.
round() {
  local r=$1 i
  echo "USE shop;"
  for i in 1 2 3 4; do
    if (( (r + i) % 3 == 0 )); then d=7; else d=0; fi
    echo "SET SESSION gtid_domain_id = $d;"
    if [ $d = 7 ]; then
      case $(( i % 2 )) in
        0) echo "BEGIN; INSERT INTO b (v, note) VALUES ($r * 10 + $i, 'd7 r$r i$i'); UPDATE s SET v = v * 2 + 1, last = 'd7 r$r' WHERE id = $(( r % 5 + 1 )); COMMIT;" ;;
        1) echo "UPDATE s SET v = v * 2 + 1, last = 'd7 r$r' WHERE id = $(( (r + i) % 5 + 1 ));" ;;
      esac
    else
      case $(( i % 2 )) in
        0) echo "BEGIN; INSERT INTO a (v, note) VALUES ($r * 10 + $i, 'd0 r$r i$i'); UPDATE s SET v = v * 3 + $i, last = 'd0 r$r' WHERE id = $(( r % 5 + 1 )); COMMIT;" ;;
        1) echo "UPDATE a SET v = v + $r WHERE id % 4 = $(( r % 4 )); UPDATE s SET v = v * 3 + $r, last = 'd0 r$r' WHERE id = $(( (r + i) % 5 + 1 ));" ;;
      esac
    fi
  done
  # DDL in domain 7 once (a standalone group of that domain)
  [ "$r" = 3 ] && echo "SET SESSION gtid_domain_id = 7; CREATE TABLE c7 (id INT PRIMARY KEY, v INT); INSERT INTO c7 VALUES (1, 1), (2, 2);"
  # domain 0 transactions always end the round, so domain 7 is behind the position
  echo "SET SESSION gtid_domain_id = 0; INSERT INTO a (v, note) VALUES ($r, 'end r$r'); UPDATE s SET v = v + 7 WHERE id = $(( r % 5 + 1 ));"
  return 0
}
for r in $(seq 1 12); do round $r | q $S || fail "workload round $r"; done
TM --json backup db > "$T/b.json" || fail "snapshot B"
GB=$(python3 -c "import json;print(json.load(open('$T/b.json'))['binlog']['gtid'])")
case "$GB" in *,*) ;; *) fail "snapshot B's position $GB spans one domain (the workload should give two)";; esac
for r in $(seq 13 24); do round $r | q $S || fail "workload round $r"; done
END=$(q $S -N -e "SELECT @@gtid_binlog_pos")
stop_follower_at "$END"
echo "snapshot A ${SA}, snapshot B at $GB, archive up to $END"

# Every GTID group of the source's binlog: "gtid file start end" (byte positions).
binlog_groups "$S" "$SRCDIR" > "$T/groups.txt"
[ -s "$T/groups.txt" ] || fail "no GTID groups in the source binlog"

norm() { tr ',' '\n' | sed '/^$/d' | sort -t- -k1,1n | paste -sd, -; }
gtid_pos_at() { q $S -N -e "SELECT BINLOG_GTID_POS('$1', $2)" | norm; }
seq_of() { echo "$1" | tr ',' '\n' | awk -F- -v d="$2" '$1 == d {print $3}'; }
B7=$(seq_of "$GB" 7); B0=$(seq_of "$GB" 0)
sums() { # sock -> "table checksum" of every base table of shop
  for t in $(q "$1" -N -e "SELECT table_name FROM information_schema.tables WHERE table_schema='shop' AND table_type='BASE TABLE' ORDER BY 1"); do
    q "$1" -N -e "CHECKSUM TABLE shop.\`$t\`" | awk -v t="$t" '{print t, $2}'
  done
}

# check LABEL STOP_FILE STOP_POS tidemark-target-args...: restore on TARGET; the
# REFERENCE gets the plan's snapshot plus the source binlog from the snapshot's
# byte position to STOP_FILE:STOP_POS; both must hold the same tables, and the
# target's gtid_slave_pos must be the source's GTID state at that position.
check() {
  local label=$1 sfile=$2 spos=$3; shift 3
  TM --json restore db "$@" --socket $TG --user root --drop-existing > "$T/r.json" 2> "$T/r.err" \
    || { cat "$T/r.err" "$T/r.json"; fail "$label: tidemark restore"; }
  read -r snap pfile ppos target tx replay reached <<<"$(python3 -c "
import json; j=json.load(open('$T/r.json')); p=j['plan']
assert j['verdict']=='verified' and j['reached'] and j['load_verified'], j
print(p['snapshot'], p['snapshot_file'], p['snapshot_position'], p['target_gtid'], j['transactions'],
      int(p['replay']), j['reached_gtid'])")"
  TM -q restore db --snapshot "$snap" --socket $RF --user root --drop-existing >/dev/null 2>"$T/ref.err" \
    || { cat "$T/ref.err"; fail "$label: reference load"; }
  local paths=() on=0 f fi=0 si=0 i=0
  for f in "${FILES[@]}"; do i=$((i + 1)); [ "$f" = "$pfile" ] && fi=$i; [ "$f" = "$sfile" ] && si=$i; done
  (( fi < si || (fi == si && ppos <= spos) )) \
    || fail "$label: the plan's snapshot ${snap:0:12} ($pfile:$ppos) is past the target ($sfile:$spos)"
  for f in "${FILES[@]}"; do
    [ "$f" = "$pfile" ] && on=1
    [ $on = 1 ] && paths+=("$SRCDIR/data/$f")
    [ "$f" = "$sfile" ] && break
  done
  mariadb-binlog --start-position="$ppos" --stop-position="$spos" "${paths[@]}" 2>"$T/mb.err" \
    | q $RF --init-command="SET sql_log_bin=0" || { cat "$T/mb.err"; fail "$label: reference apply"; }
  sums $TG > "$T/t.sum"; sums $RF > "$T/r.sum"
  [ -s "$T/t.sum" ] || fail "$label: no tables"
  diff "$T/t.sum" "$T/r.sum" >&2 || fail "$label: CHECKSUM TABLE differs from the reference (plan target $target)"
  local want got
  want=$(gtid_pos_at "$sfile" "$spos"); got=$(echo "$reached" | norm)
  [ "$got" = "$want" ] || fail "$label: reached $got, expected $want (plan target $target)"
  if [ "$replay" = 1 ]; then   # without a replay the snapshot's position is the result, nothing is set
    got=$(q $TG -N -e "SELECT @@gtid_slave_pos" | norm)
    [ "$got" = "$want" ] || fail "$label: target gtid_slave_pos $got, expected $want (plan target $target)"
  fi
  [ "$(echo "$target" | norm)" = "$want" ] || fail "$label: plan target $target, expected $want"
  [ -z "$(q $TG -N -e "SHOW ALL SLAVES STATUS")" ] || fail "$label: replication connection left on the target"
  pass "$label: snapshot ${snap:0:12}, $tx transactions, reached $got, $(wc -l < "$T/t.sum") tables equal to mariadb-binlog"
}
group() { awk -v g="$1" '$1 == g' "$T/groups.txt"; }

# (1) --to-gtid a domain-7 GTID in the middle of A..B: stop after its transaction
mid7=$(( (B7 + 1) / 2 )); read -r g f s e <<<"$(group "7-1-$mid7")"
[ -n "$e" ] || fail "GTID 7-1-$mid7 not found in the source binlog"
check "--to-gtid $g (domain 7, between A and B)" "$f" "$e" --to-gtid "$g"
# the last domain-7 GTID before B: B has it too but is past it in domain 0
read -r g f s e <<<"$(group "7-1-$B7")"
[ -n "$e" ] || fail "GTID 7-1-$B7 not found"
check "--to-gtid $g (domain 7, B's own domain-7 GTID, B is later in domain 0)" "$f" "$e" --to-gtid "$g"
# B's domain-0 GTID ends the transactions before B: B alone is the target, no replay
read -r g f s e <<<"$(group "0-1-$B0")"
check "--to-gtid $g (B's last transaction)" "$f" "$e" --to-gtid "$g"
SB_HEX=$(python3 -c "import json;print(json.load(open('$T/b.json'))['snapshot'])")
python3 -c "
import json; p=json.load(open('$T/r.json'))['plan']
assert p['snapshot']=='$SB_HEX' and not p['replay'], p" || fail "--to-gtid $g: snapshot B itself expected, no replay"
# (2) --before-gtid a domain-0 GTID after B: stop before its transaction
LAST0=$(seq_of "$END" 0); mid0=$(( B0 + (LAST0 - B0) / 2 ))
read -r g f s e <<<"$(group "0-1-$mid0")"
[ -n "$s" ] || fail "GTID 0-1-$mid0 not found"
check "--before-gtid $g (domain 0, after B)" "$f" "$s" --before-gtid "$g"
# and one between A and B, right after a domain-7 transaction
A0=$(seq_of "$(python3 -c "import json;print(json.load(open('$T/a.json'))['binlog']['gtid'])")" 0)
prev7=$(awk '{print $1}' "$T/groups.txt" | awk -F- -v a0="$A0" -v b0="$B0" 'p ~ /^7-/ && $1 == 0 && $3 > a0 + 1 && $3 < b0 {print; exit} {p = $0}')
[ -n "$prev7" ] || fail "no domain-0 GTID right after a domain-7 one"
read -r g f s e <<<"$(group "$prev7")"
check "--before-gtid $g (domain 0, between A and B)" "$f" "$s" --before-gtid "$g"

# (3) verify-chain A -> B, B at a two-domain position
TM verify-chain --socket $TG --user root > "$T/vc.out" 2>"$T/vc.err" || { cat "$T/vc.out" "$T/vc.err"; fail "verify-chain"; }
grep -q "OK verified" "$T/vc.out" && grep -q "all 1 pair verified" "$T/vc.out" || { cat "$T/vc.out"; fail "verify-chain verdict"; }
[ -z "$(q $TG -N -e "SHOW DATABASES LIKE 'tidemark_vc%'")" ] || fail "verify-chain left its database"
pass "verify-chain: $(head -1 "$T/vc.out")"
echo "pitr_domains: all checks passed"
