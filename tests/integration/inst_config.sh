#!/usr/bin/env bash
# inst_config.sh: configuration errors found by engine/instance are exit 2
# (usage or config) and name the file and the key, option or variable
# (issue 11): an unknown instance names the configured ones; a missing or
# empty secret file (password_file, TIDEMARK_PASSWORD_FILE, db_password_file,
# --password-file, s3_secret_access_key_file); an out-of-range S3 setting of
# the config names its key (the driver gets the config as options, not as
# environment variables). No server is needed: each fails before connecting.
source "$(dirname "$0")/lib.sh"
printf 'integration test passphrase\n' > "$T/pw"; chmod 600 "$T/pw"
: > "$T/empty"; chmod 600 "$T/empty"
conf() {  # conf FILE [repository lines] -- [instance lines]
  local f=$1; shift
  { printf '[repository]\nurl = %s\npassword_file = %s\n' "$T/repo" "$T/pw"
    while [ $# -gt 0 ] && [ "$1" != -- ]; do printf '%s\n' "$1"; shift; done
    [ $# -gt 0 ] && shift
    printf '[instance shop]\ndb_socket = %s\n' "$T/no.sock"
    for l in "$@"; do printf '%s\n' "$l"; done; } > "$f"
}
unset TIDEMARK_CONFIG TIDEMARK_REPOSITORY TIDEMARK_PASSWORD_FILE
conf "$T/ok.conf"
"$TM_BIN" -c "$T/ok.conf" -q init >/dev/null

# an unknown instance: said, with the configured ones, before anything else
expect_fail 2 "instance 'shpo' is not in the config (its instances: shop)" \
  "$TM_BIN" -c "$T/ok.conf" backup --instance shpo
expect_fail 2 "instance 'shpo' is not in the config (its instances: shop)" \
  "$TM_BIN" -c "$T/ok.conf" restore db --instance shpo --snapshot latest
pass "an unknown instance: exit 2 naming the configured ones"

# secret files
conf "$T/dbpw.conf" -- "db_password_file = $T/nope"
expect_fail 2 "db_password_file: password file $T/nope: No such file" "$TM_BIN" -c "$T/dbpw.conf" backup --instance shop
conf "$T/dbpw0.conf" -- "db_password_file = $T/empty"
expect_fail 2 "db_password_file: password file $T/empty is empty" "$TM_BIN" -c "$T/dbpw0.conf" backup --instance shop
expect_fail 2 "--password-file $T/nope: No such file" \
  "$TM_BIN" -c "$T/ok.conf" restore db --instance shop --snapshot latest --socket "$T/x.sock" --password-file "$T/nope"
expect_fail 2 "TIDEMARK_PASSWORD_FILE (password_file): password file $T/nope: No such file" \
  env TIDEMARK_PASSWORD_FILE="$T/nope" "$TM_BIN" -c "$T/ok.conf" snapshots
sed "s|^password_file = .*|password_file = $T/nope|" "$T/ok.conf" > "$T/pw.conf"
expect_fail 2 "password_file: password file $T/nope: No such file" "$TM_BIN" -c "$T/pw.conf" snapshots
expect_fail 2 "TIDEMARK_NEW_PASSWORD_FILE $T/empty is empty" \
  env TIDEMARK_NEW_PASSWORD_FILE="$T/empty" "$TM_BIN" -c "$T/ok.conf" key add
pass "a missing or empty secret file: exit 2 naming the file and the key, option or variable"

# S3 settings from the config reach the driver as options (a closed port:
# each error comes before the first request)
S3URL="s3:http://127.0.0.1:9/bucket/x"
conf "$T/s3a.conf" "s3_access_key_id = AKIDEXAMPLE" "s3_secret_access_key_file = $T/nope"
sed -i "s|^url = .*|url = $S3URL|" "$T/s3a.conf"
expect_fail 2 "s3_secret_access_key_file $T/nope: No such file" \
  env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$TM_BIN" -c "$T/s3a.conf" snapshots
conf "$T/s3b.conf" "s3_parallel = 99"
sed -i "s|^url = .*|url = $S3URL|" "$T/s3b.conf"
expect_fail 2 "s3_parallel='99': expected a whole number from 1 to 64" "$TM_BIN" -c "$T/s3b.conf" snapshots
# the environment still applies where the config is silent, and names itself
expect_fail 2 "TIDEMARK_S3_PARALLEL='0'" env TIDEMARK_S3_PARALLEL=0 "$TM_BIN" -c "$T/ok.conf" -r "$S3URL" snapshots
pass "S3 settings of the config: errors name the config key; the environment still honoured"
