#!/usr/bin/env bash
# test.sh: the one command that installs, builds and runs every test on a
# fresh Debian 12 machine (README "Run the tests"; .ci/run calls it).
#   1. release build (-Werror) + all tests (unit + integration) under ctest, two at a time
#   2. ASan+UBSan build + unit tests + the sanitizer-labelled integration tests
#   3. valgrind memcheck over the unit tests
#   4. libFuzzer smoke (clang-14): the binlog event parsers' harnesses on
#      their regression inputs, then 20 s each on a seed corpus (tests/fuzz)
# TM_TEST_QUICK=1 skips 2, 3 and 4. TM_TEST_LABEL=regex limits step 1.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)
export TIDEMARK_KDF=fast

echo "== release build + all tests" >&2
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$jobs"
# two tests at a time (TM_TEST_JOBS): each test has its own sandbox (tests/integration/tests.cmake)
ctest --test-dir build/release --output-on-failure -j"${TM_TEST_JOBS:-2}" ${TM_TEST_LABEL:+-L "$TM_TEST_LABEL"}

if [ "${TM_TEST_QUICK:-0}" != 1 ]; then
  echo "== ASan+UBSan build: unit tests + sanitizer integration tests" >&2
  cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DTM_SANITIZE=address,undefined >/dev/null
  cmake --build build/asan -j"$jobs"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build/asan --output-on-failure -L 'unit|sanitize'

  echo "== valgrind memcheck over the unit tests" >&2
  cmake -S . -B build/valgrind -DCMAKE_BUILD_TYPE=Debug -DTM_VALGRIND=ON >/dev/null
  cmake --build build/valgrind -j"$jobs"
  ctest --test-dir build/valgrind --output-on-failure -L valgrind -j"$jobs"

  echo "== libFuzzer smoke over the binlog event parsers" >&2
  cmake -S . -B build/fuzz -DCMAKE_C_COMPILER=clang-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTM_FUZZ=ON >/dev/null
  cmake --build build/fuzz -j"$jobs" --target tm_fuzz
  ctest --test-dir build/fuzz --output-on-failure -L fuzz
fi
