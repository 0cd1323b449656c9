#!/usr/bin/env bash
# dolconf_php.sh (issue 12, "Restore": conf.php rewritten for the target):
# PHP itself reads back what the rewriter wrote. For each original shape
# (Dolibarr's own conf.php.example, the fixture's values, CRLF + BOM +
# double quotes + no trailing newline, a variable assigned twice) and each
# password encoding (plain, crypted:, $dolibarr_main_db_encrypted_pass,
# dolcrypt: with the unique id or the dolcrypt key), new values full of
# quotes, backslashes and dollars are written; `php -l` accepts the file,
# `include` gives exactly the new values, Dolibarr's own dol_decode /
# dolDecrypt (filefunc.inc.php's rule) give the new password, and the
# instance keys are byte-identical. Also: the reader agrees with PHP on the
# password of every original, and a non-literal is refused with exit 8.
# Exit 77 when php is not installed.
. "$(dirname "$0")/lib.sh"
TOOL=${1:?usage: dolconf_php.sh DOLCONF_TOOL}
command -v php >/dev/null || { echo "SKIP: php not installed"; exit 77; }
APP=${TM_SHARED:-$TM_SRC/../shared}/dolibarr-app/htdocs
[ -f "$APP/core/lib/security.lib.php" ] || { echo "SKIP: the Dolibarr application is not found"; exit 77; }
UID_='84b5bc91f83b56e458db71e0adac2b62'
hex() { printf '%s' "$1" | xxd -p | tr -d '\n'; }

# readback FILE: NAME=HEX lines of the variables as PHP sees them, then
# "password=HEX" decoded by Dolibarr's own functions as filefunc.inc.php does
cat > "$T/readback.php" <<'PHP'
<?php
define('DOL_DOCUMENT_ROOT', $argv[2]);
require $argv[2].'/core/lib/functions.lib.php';
require $argv[2].'/core/lib/security.lib.php';
ob_start();
include $argv[1];
ob_end_clean();
foreach (['dolibarr_main_db_host', 'dolibarr_main_db_port', 'dolibarr_main_db_name', 'dolibarr_main_db_user',
          'dolibarr_main_data_root', 'dolibarr_main_document_root', 'dolibarr_main_url_root',
          'dolibarr_main_instance_unique_id', 'dolibarr_main_dolcrypt_key'] as $n) {
    echo $n, '=', isset($$n) ? bin2hex((string) $$n) : '-', "\n";
}
// filefunc.inc.php, "Decode values read in conf file"
if ((!empty($dolibarr_main_db_pass) && preg_match('/(dolcrypt|crypted):/i', $dolibarr_main_db_pass)) || !empty($dolibarr_main_db_encrypted_pass)) {
    if (!empty($dolibarr_main_db_pass) && preg_match('/crypted:/i', $dolibarr_main_db_pass)) {
        $dolibarr_main_db_pass = dol_decode(preg_replace('/crypted:/i', '', $dolibarr_main_db_pass));
    } elseif (!empty($dolibarr_main_db_pass) && preg_match('/dolcrypt:/i', $dolibarr_main_db_pass)) {
        $dolibarr_main_db_pass = dolDecrypt($dolibarr_main_db_pass, (empty($dolibarr_main_dolcrypt_key) ? (empty($dolibarr_main_instance_unique_id) ? '' : $dolibarr_main_instance_unique_id) : $dolibarr_main_dolcrypt_key));
    } else {
        $dolibarr_main_db_pass = dol_decode($dolibarr_main_db_encrypted_pass);
    }
}
echo 'password=', bin2hex((string) $dolibarr_main_db_pass), "\n";
PHP
readback() { php "$T/readback.php" "$1" "$APP"; }

# the originals
cp "$APP/conf/conf.php.example" "$T/example.php"
# encoded by Dolibarr's own functions
enc() { php -r 'define("DOL_DOCUMENT_ROOT", $argv[1]); require $argv[1]."/core/lib/functions.lib.php"; require $argv[1]."/core/lib/security.lib.php"; echo $argv[2] === "dolcrypt" ? dolEncrypt($argv[3], $argv[4]) : dol_encode($argv[3]);' "$APP" "$@"; }
CRYPTED=$(enc encode 'Old-pass1')
DOLCRYPT_UID=$(enc dolcrypt 'Old-pass1' "$UID_")
DOLCRYPT_KEY=$(enc dolcrypt 'Old-pass1' 'my-own-dolcrypt-key')
fixture() {   # the fixture's conf.php shape, one assignment per line; $1: the password line
  cat <<CONF
<?php
// written by the installer
\$dolibarr_main_url_root='http://127.0.0.1:8080';
\$dolibarr_main_document_root='/var/www/dolibarr/htdocs';
\$dolibarr_main_url_root_alt='/custom';
\$dolibarr_main_document_root_alt='/var/www/dolibarr/htdocs/custom';
\$dolibarr_main_data_root='/var/lib/dolibarr/documents';
\$dolibarr_main_db_host='127.0.0.1';
\$dolibarr_main_db_port='3410';
\$dolibarr_main_db_name='dolibarr';
\$dolibarr_main_db_prefix='llx_';
\$dolibarr_main_db_user='dolibarr';
$1
\$dolibarr_main_db_type='mysqli';
\$dolibarr_main_instance_unique_id='$UID_';
\$dolibarr_main_authentication='dolibarr';
CONF
}
fixture "\$dolibarr_main_db_pass='Old-pass1';" > "$T/plain.php"
fixture "\$dolibarr_main_db_pass='crypted:$CRYPTED';" > "$T/crypted.php"
fixture "\$dolibarr_main_db_pass='';
\$dolibarr_main_db_encrypted_pass='$CRYPTED';" > "$T/encrypted.php"
fixture "\$dolibarr_main_db_pass='$DOLCRYPT_UID';" > "$T/dolcrypt_uid.php"
{ fixture "\$dolibarr_main_db_pass='$DOLCRYPT_KEY';"; echo "\$dolibarr_main_dolcrypt_key='my-own-dolcrypt-key';"; } > "$T/dolcrypt_key.php"
printf '\xef\xbb\xbf<?php\r\n$dolibarr_main_db_host = "db.example";\r\n/* old: */ $dolibarr_main_db_name="a\\$b";\r\n$dolibarr_main_db_pass="Old-pass1";\r\n$dolibarr_main_instance_unique_id="%s";\r\n$dolibarr_main_db_host="again";' "$UID_" > "$T/crlf.php"

# the reader agrees with Dolibarr on every original's password
for f in plain crypted encrypted dolcrypt_uid dolcrypt_key crlf; do
  want=$(readback "$T/$f.php" | sed -n 's/^password=//p')
  got=$("$TOOL" password "$T/$f.php" | cut -d' ' -f2-)
  [ "$(hex "$got")" = "$want" ] || fail "$f: reader says '$got', PHP says $(echo "$want" | xxd -r -p)"
done
pass "the reader decodes the password of each original as Dolibarr does (plain, crypted:, encrypted_pass, dolcrypt: x2)"

NEW_HOST="db'new\"host\\"
NEW_NAME='shop$copy{$x}\'
NEW_ROOT='/srv/restored docs/it'"'"'s \$HOME\\'
NEW_URL='http://copy.example:8443/dolibarr'
NEW_PASS='N3w-p@ss"'"'"'\$x\\'
check() {   # ORIGINAL WANT_ENCODING
  local f=$1 want_enc=$2 out="$T/$1.new.php" enc
  enc=$("$TOOL" rewrite "$T/$f.php" "$out" db_host="$(hex "$NEW_HOST")" db_port="$(hex 3307)" \
    db_name="$(hex "$NEW_NAME")" db_pass="$(hex "$NEW_PASS")" data_root="$(hex "$NEW_ROOT")" \
    url_root="$(hex "$NEW_URL")" db_user="$(hex "tm'user")") || fail "$f: rewrite"
  [ "$enc" = "$want_enc" ] || fail "$f: password written as $enc, want $want_enc"
  php -l "$out" >/dev/null || fail "$f: php -l rejects the rewritten file"
  readback "$out" > "$T/rb"
  grep -qx "dolibarr_main_db_host=$(hex "$NEW_HOST")" "$T/rb" || fail "$f: host $(cat "$T/rb")"
  grep -qx "dolibarr_main_db_port=$(hex 3307)" "$T/rb" || fail "$f: port"
  grep -qx "dolibarr_main_db_name=$(hex "$NEW_NAME")" "$T/rb" || fail "$f: name"
  grep -qx "dolibarr_main_data_root=$(hex "$NEW_ROOT")" "$T/rb" || fail "$f: data root"
  grep -qx "dolibarr_main_url_root=$(hex "$NEW_URL")" "$T/rb" || fail "$f: url root"
  grep -qx "password=$(hex "$NEW_PASS")" "$T/rb" || fail "$f: password as Dolibarr decodes it"
  # the keys and every other line are kept byte for byte
  diff <(grep -v 'dolibarr_main_db_host\|dolibarr_main_db_port\|dolibarr_main_db_name\|dolibarr_main_db_user\|dolibarr_main_db_pass\|dolibarr_main_db_encrypted_pass\|dolibarr_main_data_root\|dolibarr_main_url_root=' "$T/$f.php") \
       <(grep -v 'dolibarr_main_db_host\|dolibarr_main_db_port\|dolibarr_main_db_name\|dolibarr_main_db_user\|dolibarr_main_db_pass\|dolibarr_main_db_encrypted_pass\|dolibarr_main_data_root\|dolibarr_main_url_root=' "$out") \
    || fail "$f: other lines changed"
  if grep -q "instance_unique_id='$UID_'" "$T/$f.php"; then
    grep -qx "dolibarr_main_instance_unique_id=$(hex "$UID_")" "$T/rb" || fail "$f: unique id"
  fi
}
check example plain
check plain plain
check crypted crypted
check encrypted encrypted_pass
check dolcrypt_uid dolcrypt
check dolcrypt_key dolcrypt
grep -qx "dolibarr_main_dolcrypt_key=$(hex my-own-dolcrypt-key)" <(readback "$T/dolcrypt_key.new.php") || fail "dolcrypt key changed"
check crlf plain
[ "$(head -c 3 "$T/crlf.new.php" | xxd -p)" = efbbbf ] || fail "BOM lost"
python3 -c 'import sys; b=open(sys.argv[1],"rb").read(); sys.exit(b.count(b"\n") != b.count(b"\r\n"))' "$T/crlf.new.php" \
  || fail "a bare LF in a CRLF file: $(od -c "$T/crlf.new.php" | head)"
[ "$(grep -c "db_host" "$T/crlf.new.php")" = 2 ] || fail "both host assignments must stay (rewritten)"
# changing only what the file assigns: no newline appears at its end
"$TOOL" rewrite "$T/crlf.php" "$T/crlf2.php" db_host="$(hex h2)" db_pass="$(hex p2)" >/dev/null || fail "crlf2"
[ "$(tail -c 1 "$T/crlf2.php")" = ';' ] || fail "a trailing newline appeared"
[ "$(grep -c $'\r$' "$T/crlf2.php")" = 5 ] || fail "CRLF lines changed"
python3 -c 'import sys; a=open(sys.argv[1],"rb").read(); b=open(sys.argv[2],"rb").read()
sys.exit(a.replace(b"\"db.example\"", b"\"h2\"").replace(b"\"again\"", b"\"h2\"").replace(b"\"Old-pass1\"", b"\"p2\"") != b)' \
  "$T/crlf.php" "$T/crlf2.php" || fail "crlf2 differs from the original by more than the three values"
pass "rewritten files pass php -l and PHP reads back exactly the new values; keys, comments, BOM, CRLF kept"

# a value that is not a literal is refused, naming the variable (exit 8)
printf '<?php\n$dolibarr_main_data_root=realpath(__DIR__."/../documents");\n' > "$T/expr.php"
rc=0; "$TOOL" rewrite "$T/expr.php" "$T/expr.new.php" data_root="$(hex /srv)" 2> "$T/err" || rc=$?
[ "$rc" = 8 ] && grep -q 'dolibarr_main_data_root is not a literal' "$T/err" || fail "non-literal: rc=$rc $(cat "$T/err")"
pass "a non-literal assignment is refused by name"
