#!/usr/bin/env bash
# install-deps.sh: install everything tidemark builds, tests and benchmarks
# with, from Debian 12's packages. Idempotent; quick when all is there.
#   scripts/install-deps.sh          build + test dependencies
#   scripts/install-deps.sh --bench  also the peer tools for bench/
set -euo pipefail
pkgs=(build-essential cmake pkg-config git
      libsodium-dev libzstd-dev libarchive-dev libcurl4-openssl-dev libmariadb-dev
      libjansson-dev libinih-dev libcmocka-dev zlib1g-dev
      mariadb-server mariadb-client
      valgrind attr acl curl python3 xxd
      clang-14 libclang-rt-14-dev    # libFuzzer harnesses (tests/fuzz)
      php8.2-cli)                    # PHP reads back the conf.php tidemark rewrites (dolconf_php)
[ "${1:-}" = "--bench" ] && pkgs+=(hyperfine restic borgbackup mydumper time)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "install-deps: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The sandbox servers must not clash with a system MariaDB started by the
# package's postinst; we never use the system instance.
