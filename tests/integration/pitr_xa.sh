#!/usr/bin/env bash
# pitr_xa.sh: XA transactions and the snapshot point (issue 10 item 5), real
# servers: SOURCE (server-id 1) archived by the follower, TARGET (server-id 2)
# restored by tidemark, REFERENCE (server-id 3) given the same snapshot plus
# `mariadb-binlog | mariadb`.
#  (1) a1 is prepared when snapshot A is taken and committed after it: a
#      restore past its XA COMMIT is refused before anything is loaded (and
#      --plan refuses it), naming the XID, the GTID and the way on, on both
#      apply paths; a target before the XA COMMIT restores exactly;
#  (2) b1 is prepared before A and rolled back after it: a restore past the
#      XA ROLLBACK is exact (nothing of b1 was ever in the snapshot);
#  (3) c1 is prepared and committed after A (and after B, taken once b1 is
#      gone): a target between its XA
#      PREPARE and its XA COMMIT restores the committed state and leaves no
#      prepared transaction on the target (it says it rolled it back), so the
#      next --drop-existing restore does not wait on its locks; a target past
#      the XA COMMIT holds c1's changes. Each compared with the reference;
#  (5) e1 (ROW, under USE shop) and e2 (STATEMENT, under USE xo), prepared
#      before snapshot C on database xo only, their prepare groups in the
#      archive, committed after C: restoring past their XA COMMITs from C is
#      exact (the commits are no-ops), on the default path and transaction
#      by transaction; (4) crosses them too; e3, prepared before C on xo
#      and shop, is still refused;
#  (4) a replay that fails (error 1146, exit 8 naming Last_SQL_Error) after
#      d1's XA PREPARE (its XA COMMIT already sent to the replica, not
#      applied) rolls d1 back and says so,
#      so the next --drop-existing restore does not wait on its locks.
source "$(dirname "$0")/lib.sh"
command -v mariadb-binlog >/dev/null || { echo "SKIP: mariadb-binlog missing"; exit 77; }
start_src_tgt_ref
export TZ=UTC

instance_config shop "$S" shop 777
TM() { "$TM_BIN" --instance shop "$@"; }
pos() { q $S -N -e "SELECT @@gtid_binlog_pos"; }

q $S <<'SQL'
CREATE DATABASE shop; USE shop;
CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB;
CREATE TABLE nokey (a INT, b VARCHAR(20)) ENGINE=InnoDB;
INSERT INTO t SELECT seq, seq FROM seq_1_to_10;
INSERT INTO nokey VALUES (1, 'x');
SQL
# a1 and b1 prepared by clients that then disconnect (prepared XA survives that)
q $S -e "USE shop; XA START 'a1'; INSERT INTO t VALUES (100, 100); UPDATE t SET v = v + 1000 WHERE id = 1; XA END 'a1'; XA PREPARE 'a1';"
q $S -e "USE shop; XA START 'b1'; INSERT INTO t VALUES (110, 110); DELETE FROM nokey; XA END 'b1'; XA PREPARE 'b1';"
TM --json backup db > "$T/a.json" 2> "$T/a.err" || fail "snapshot A"
# the backup names the XA transactions prepared at its point (their changes are in no snapshot)
[ "$(python3 -c "import json;print(' '.join(sorted(json.load(open('$T/a.json'))['prepared_xa'])))")" = "'a1' 'b1'" ] \
  || { cat "$T/a.json"; fail "snapshot A: prepared_xa does not list a1 and b1"; }
grep "warn: 2 XA transaction(s) prepared at the dump's point (" "$T/a.err" | grep -qF "'a1'" && grep -qF "'b1'" "$T/a.err" \
  || { cat "$T/a.err"; fail "snapshot A: no warning naming the prepared XA transactions"; }
SA=$(python3 -c "import json;j=json.load(open('$T/a.json'));print(j['binlog']['file']+':'+str(j['binlog']['position']))")
GA=$(python3 -c "import json;print(json.load(open('$T/a.json'))['binlog']['gtid'])")
SNAP=$(python3 -c "import json;print(json.load(open('$T/a.json'))['snapshot'])")
"$TM_BIN" -q --instance shop binlog follow --start "$SA" >>"$T/follow.log" 2>&1 & FPID=$!
cleanup_hooks+=("kill $FPID 2>/dev/null")

q $S -e "USE shop; INSERT INTO t VALUES (11, 11); XA ROLLBACK 'b1'; INSERT INTO t VALUES (12, 12);"
G_B=$(pos)                       # past b1's XA ROLLBACK
TM --json backup db > "$T/b.json" || fail "snapshot B"   # a1 still prepared, b1 gone
[ "$(python3 -c "import json;print(' '.join(json.load(open('$T/b.json'))['prepared_xa']))")" = "'a1'" ] \
  || { cat "$T/b.json"; fail "snapshot B: prepared_xa is not a1 alone"; }
SNAPB=$(python3 -c "import json;print(json.load(open('$T/b.json'))['snapshot'])")
q $S -e "USE shop; XA START 'c1'; INSERT INTO t VALUES (200, 200); UPDATE t SET v = v * 2 WHERE id BETWEEN 2 AND 5; INSERT INTO nokey VALUES (2, 'c1'); XA END 'c1'; XA PREPARE 'c1';"
G_CP=$(pos)                      # c1's XA PREPARE
q $S -e "USE shop; INSERT INTO t VALUES (13, 13);"
G_CMID=$(pos)                    # between c1's PREPARE and COMMIT
q $S -e "USE shop; XA COMMIT 'c1'; INSERT INTO t VALUES (14, 14);"
G_CC=$(pos)                      # past c1's XA COMMIT
q $S -e "XA COMMIT 'a1'"
G_AC=$(pos)                      # a1's XA COMMIT
q $S -e "USE shop; INSERT INTO t VALUES (15, 15);"
G_15=$(pos)
# e1 prepared before snapshot C on a database that is not restored (its
# prepare group is in the archive), committed after C: a no-op for shop
q $S -e "CREATE DATABASE xo; CREATE TABLE xo.t (id INT PRIMARY KEY) ENGINE=InnoDB;"
q $S -e "USE shop; SET SESSION binlog_format = ROW; XA START 'e1'; INSERT INTO xo.t VALUES (1); XA END 'e1'; XA PREPARE 'e1';"
q $S -e "USE xo; SET SESSION binlog_format = STATEMENT; XA START 'e2'; INSERT INTO t VALUES (2); XA END 'e2'; XA PREPARE 'e2';"
# e3 likewise, but it also writes shop (committed after d1, below): still refused
q $S -e "USE xo; SET SESSION binlog_format = ROW; XA START 'e3'; INSERT INTO t VALUES (3); INSERT INTO shop.nokey VALUES (3, 'e3'); XA END 'e3'; XA PREPARE 'e3';"
G_EP=$(pos)
# the follower seals a segment after 1 s (binlog_flush_seconds): e1..e3's
# prepare groups lie in an earlier segment than C's position
sleep 2; q $S -e "CREATE TABLE xo.pad (id INT)"; sleep 2
TM --json backup db > "$T/c.json" || fail "snapshot C"
SNAPC=$(python3 -c "import json;print(json.load(open('$T/c.json'))['snapshot'])")
q $S -e "XA COMMIT 'e1'; XA COMMIT 'e2'"
G_EC=$(pos)
# d1 prepared, then a statement the target cannot run (a multi-table UPDATE
# reading a table of a database that is not restored, which the range check
# does not parse): the replay fails with d1 prepared on the target
q $S -e "USE shop; XA START 'd1'; INSERT INTO t VALUES (300, 300); XA END 'd1'; XA PREPARE 'd1';"
G_DP=$(pos)
q $S -e "CREATE DATABASE other; CREATE TABLE other.o (id INT PRIMARY KEY); INSERT INTO other.o VALUES (1);"
q $S -e "USE shop; CREATE TABLE u (id INT PRIMARY KEY); INSERT INTO u VALUES (1);
  SET SESSION binlog_format = STATEMENT; UPDATE u, other.o SET u.id = u.id + o.id; XA COMMIT 'd1';"
END=$(pos)
q $S -e "XA COMMIT 'e3'"
G_E3C=$(pos)
stop_follower_at "$G_E3C"
mapfile -t FILES < <(sed 's|^\./||' "$SRCDIR/data/binlog.index" | while read -r f; do echo "$SRCDIR/data/${f##*/}"; done)
echo "snapshot A at $GA; b1 rolled back by $G_B; c1 prepared $G_CP, committed by $G_CC; a1 committed $G_AC; end $END"

sums() { for t in t nokey; do q "$1" -N -e "CHECKSUM TABLE shop.$t" | awk -v t=$t '{print t, $2}'; done; }
no_prepared() { # sock label
  [ -z "$(q "$1" -N -e "XA RECOVER")" ] || fail "$2: a prepared XA transaction is left: $(q "$1" -N -e "XA RECOVER")"
}
reference() { # GTID: the reference at A + the binlog to GTID; its prepared leftovers rolled back
  TM -q restore db --snapshot "$SNAP" --socket $RF --user root --drop-existing >/dev/null 2>"$T/ref.err" \
    || { cat "$T/ref.err"; fail "reference load"; }
  # --force: the oracle itself fails on an XA ROLLBACK of a transaction it never prepared
  mariadb-binlog --start-position="$GA" --stop-position="$1" "${FILES[@]}" 2>"$T/mb.err" \
    | q $RF --force --init-command="SET sql_log_bin=0" 2>"$T/mbq.err" || true
  for x in $(q $RF -N -e "XA RECOVER" | awk '{print $4}'); do q $RF -e "XA ROLLBACK '$x'"; done
}
check() { # label GTID args...
  local label=$1 g=$2; shift 2
  TM --json restore db --to-gtid "$g" --snapshot "${USE_SNAP:-$SNAP}" --socket $TG --user root --drop-existing "$@" \
    > "$T/r.json" 2> "$T/r.err" || { cat "$T/r.err"; fail "$label: tidemark restore"; }
  python3 -c "
import json; j=json.load(open('$T/r.json'))
assert j['verdict']=='verified' and j['reached'] and j['load_verified'], j" || fail "$label: verdict"
  no_prepared $TG "$label"
  reference "$g"
  sums $TG > "$T/t.sum"; sums $RF > "$T/r.sum"
  diff "$T/t.sum" "$T/r.sum" >&2 || fail "$label: differs from mariadb-binlog | mariadb"
  pass "$label: equal to the reference, no prepared XA transaction left"
}

# ---- (2) and (3) -------------------------------------------------------------------------
check "past b1's XA ROLLBACK (prepared before A)" "$G_B"
check "between c1's XA PREPARE and XA COMMIT" "$G_CMID"
grep -q "XA PREPARE of X'6331',X'',1 .*rolled back" "$T/r.err" || { cat "$T/r.err"; fail "no word of c1's rollback"; }
check "at c1's XA PREPARE, transaction by transaction" "$G_CP" --apply transactions
USE_SNAP=$SNAPB check "between c1's XA PREPARE and XA COMMIT, from snapshot B" "$G_CMID"
check "past c1's XA COMMIT" "$G_CC"
[ "$(q $TG -N -e "SELECT v FROM shop.t WHERE id = 200")" = 200 ] || fail "c1's row missing past its XA COMMIT"

# ---- (1) a1: prepared at A, committed after -------------------------------------------------
sums $TG > "$T/before.sum"
for apply in auto net transactions; do
  expect_fail 8 "XA COMMIT X'6131',X'',1 (GTID $G_AC) commits an XA transaction prepared before snapshot" \
    TM restore db --to-gtid "$END" --snapshot "$SNAP" --apply $apply --socket $TG --user root --drop-existing
  grep -q "nothing was touched" "$T/err" && grep -q "restore to a point before it, or from a snapshot taken after it" "$T/err" \
    || { cat "$T/err"; fail "a1 ($apply): refusal wording"; }
  sums $TG > "$T/after.sum"; diff -q "$T/before.sum" "$T/after.sum" >/dev/null || fail "a1 ($apply): the target was changed"
done
expect_fail 8 "XA COMMIT X'6131',X'',1" TM restore db --to-gtid "$G_AC" --snapshot "$SNAP" --plan --socket $TG --user root --drop-existing
pass "past a1's XA COMMIT: refused before the load on every apply path and by --plan: $(grep -o 'XA COMMIT.*' "$T/err" | cut -c1-140)"
check "before a1's XA COMMIT" "$G_CC" --apply transactions

# ---- (5) XA COMMITs of e1/e2, prepared before C on xo only (ROW and STATEMENT) -------------
for apply in auto transactions; do
  TM --json restore db --to-gtid "$G_EC" --snapshot "$SNAPC" --apply $apply --socket $TG --user root --drop-existing \
    > "$T/r.json" 2> "$T/r.err" || { cat "$T/r.err"; fail "e1/e2 ($apply): refused or failed"; }
  python3 -c "
import json; j=json.load(open('$T/r.json'))
assert j['verdict']=='verified' and j['reached'] and j['load_verified'], j" || fail "e1/e2 ($apply): verdict"
  no_prepared $TG "e1/e2 ($apply)"
  [ -z "$(q $TG -N -e "SHOW DATABASES LIKE 'xo'")" ] || fail "e1/e2 ($apply): xo reached the target"
done
sums $TG > "$T/t.sum"; TM -q restore db --snapshot "$SNAPC" --socket $RF --user root --drop-existing >/dev/null 2>&1 \
  || fail "reference: snapshot C"
sums $RF > "$T/r.sum"; diff "$T/t.sum" "$T/r.sum" >&2 || fail "e1/e2: shop differs from snapshot C"
pass "XA COMMITs of e1 (ROW) and e2 (STATEMENT), prepared before C on xo only: no-ops, shop equal to C"
expect_fail 8 "XA COMMIT X'6533',X'',1 (GTID $G_E3C) commits an XA transaction prepared before snapshot" \
  TM restore db --to-gtid "$G_E3C" --snapshot "$SNAPC" --plan --socket $TG --user root --drop-existing
pass "XA COMMIT of e3, prepared before C on xo and shop: refused"

# ---- (4) a failed replay leaves no prepared transaction behind -----------------------------
expect_fail 8 "error 1146" TM restore db --to-gtid "$END" --snapshot "$SNAPC" --apply transactions \
  --socket $TG --user root --drop-existing
grep -q "replica SQL thread stopped at .*error 1146: .*cannot be applied to this target as on the source" "$T/err" \
  || { cat "$T/err"; fail "the SQL thread's stop: not named as a refusal"; }
grep -q "the XA transaction X'6431',X'',1 the failed replay prepared (GTID $G_DP) was rolled back" "$T/err" \
  || { cat "$T/err"; fail "d1: no word of its rollback"; }
no_prepared $TG "failed replay"
# the reference starts at A, whose range holds a1's orphan XA COMMIT: check the content directly
TM --json restore db --to-gtid "$G_DP" --snapshot "$SNAPC" --socket $TG --user root --drop-existing \
  > "$T/r.json" 2> "$T/r.err" || { cat "$T/r.err"; fail "after the failed replay, --drop-existing to d1's XA PREPARE"; }
no_prepared $TG "d1's XA PREPARE"
[ "$(q $TG -N -e "SELECT COUNT(*) FROM shop.t WHERE id IN (100, 300)")" = 1 ] || fail "d1's XA PREPARE: a1 missing or d1 applied"
pass "a failed replay rolled back d1 and the next --drop-existing restore ran"
