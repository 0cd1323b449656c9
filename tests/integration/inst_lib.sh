#!/usr/bin/env bash
# inst_lib.sh: engine/instance called as a library, without the CLI (issue 11
# acceptance 2): the instance backup into a local repository (the snapshot
# holds the mariadb item and the files items), the binlog status before and
# after a follower run through the library, the restore target resolution,
# and an unknown instance. The steps are in inst_lib.c; this script starts a
# real MariaDB sandbox and writes the config. $1: the inst_lib binary.
source "$(dirname "$0")/lib.sh"
LIB=${1:?usage: inst_lib.sh INST_LIB}
SB="$TM_SRC/tests/support/mariadb-sandbox.sh"
eval "$("$SB" start "$T/db")" || exit $?
cleanup_hooks+=("'$SB' stop '$T/db'")
q() { mariadb --socket="$TM_DB_SOCKET" -uroot "$@"; }
q -e "CREATE DATABASE shop; CREATE TABLE shop.t (id INT PRIMARY KEY, v VARCHAR(20));
      INSERT INTO shop.t VALUES (1,'a'),(2,'b'),(3,'c');"

instance_config shop "$TM_DB_SOCKET" shop 4711
mkdir -p "$T/docs/sub" "$T/custom" "$T/extra"
echo invoice > "$T/docs/sub/f.txt"; echo '<?php' > "$T/conf.php"; echo x > "$T/extra/y"
printf 'documents_dir = %s\nconf_php = %s\nextra_paths = %s\n' "$T/docs" "$T/conf.php" "$T/extra" >> "$T/tm.conf"
unset TIDEMARK_CONFIG   # the library reads only the file it is given

SNAP=$("$LIB" backup "$T/tm.conf" shop "$T/docs") || fail "instance backup"
pass "inst_backup: snapshot ${SNAP:0:12} with the mariadb item and 3 files items"
# the CLI sees the same snapshot (one format, one repository)
"$TM_BIN" -c "$T/tm.conf" --json snapshots | grep -q "${SNAP:0:12}" || fail "snapshots lacks ${SNAP:0:12}"

# restore db to an explicit target (--defaults-file) does not send the
# instance's password there: the option file's password is used (before
# issue 11 `restore db` sent db_password_file's, one rule with restore db --to)
q -e "CREATE USER tgt@localhost IDENTIFIED BY 'right-pw'; GRANT ALL ON *.* TO tgt@localhost WITH GRANT OPTION;"
printf '[client]\nsocket = %s\npassword = right-pw\n' "$TM_DB_SOCKET" > "$T/tgt.cnf"
printf 'instance-pw\n' > "$T/ipw"; chmod 600 "$T/ipw"
sed "s|^db_user = root|db_user = root\ndb_password_file = $T/ipw|" "$T/tm.conf" > "$T/ipw.conf"
"$TM_BIN" -c "$T/ipw.conf" -q restore db --instance shop --snapshot "$SNAP" --defaults-file "$T/tgt.cnf" \
  --user tgt --target-db shop_copy > "$T/r.out" 2> "$T/r.err" || { cat "$T/r.err"; fail "restore db --defaults-file"; }
[ "$(q -N -B -e 'SELECT COUNT(*) FROM shop_copy.t')" = 3 ] || fail "shop_copy.t not restored"
pass "restore db --defaults-file: the option file's password, not the instance's"

"$LIB" status-none "$T/tm.conf" shop || fail "status before any follower"
pass "inst_binlog_status: nothing archived, no follower -> ERR_GAP"

q -e "INSERT INTO shop.t VALUES (4,'d'); FLUSH BINARY LOGS; INSERT INTO shop.t VALUES (5,'e');"
GTID=$(q -N -B -e "SELECT @@gtid_binlog_pos")
"$LIB" follow "$T/tm.conf" shop || fail "follower through the library"
"$LIB" status "$T/tm.conf" shop "$GTID" || fail "status after the follower"
pass "inst_follow_options + binlog_follow, inst_binlog_status: window up to $GTID"

printf 'not-the-root-password\n' > "$T/dbpw"; chmod 600 "$T/dbpw"
sed "s|^db_user = root|db_user = root\ndb_password_file = $T/dbpw|" "$T/tm.conf" > "$T/target.conf"
"$LIB" target "$T/target.conf" shop "$T/other.sock" || fail "target connection"
pass "inst_target_conn: own, explicit, scratch required, missing password file"

"$LIB" typo "$T/tm.conf" || fail "unknown instance"
pass "inst_open: an unknown instance names the configured ones"
