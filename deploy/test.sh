#!/usr/bin/env bash
# djdash's single test command: install deps, build everything with tests, run CTest
# against a throwaway PostgreSQL cluster that is always torn down afterwards.
#
# Usage: deploy/test.sh [ctest args...]        e.g. deploy/test.sh -R http
#
# Environment:
#   DJDASH_JOBS=N        build parallelism (default: nproc, capped at 2 - 2-core boxes
#                        swap when compiling CAF/Beast translation units in parallel)
#   DJDASH_TEST_JOBS=N   ctest parallelism (default 2)
#   DJDASH_SANITIZE=1    Debug build with ASan+UBSan in build-asan/ (TOOLCHAIN.md §9)
#
# The tests get (all pointing at the throwaway cluster):
#   DJDASH_TEST_DATABASE_URL   djdash_app role (no superuser, no BYPASSRLS) on db djdash
#   DJDASH_TEST_OWNER_URL      djdash_owner role (CREATEDB: tests may create their own dbs)
#   DJDASH_TEST_SUPERUSER_URL  postgres superuser
#   DJDASH_TEST_PG_SCRIPT      path of deploy/pg.sh
# and DJDASH_DATABASE_URL / DJDASH_MIGRATE_DATABASE_URL / DJDASH_PG_SUPERUSER_URL are
# overridden to the same cluster, so nothing under test can touch a developer's database.
#
# Exit status: ctest's (non-zero if any test failed), or the failing step's.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
PG="$REPO_ROOT/deploy/pg.sh"

log() { echo "test.sh: $*" >&2; }

# ---------------------------------------------------------------- dependencies
bash "$REPO_ROOT/deploy/install-deps.sh"

# ---------------------------------------------------------------- build
if [[ -n ${DJDASH_JOBS:-} ]]; then
  jobs=$DJDASH_JOBS
else
  jobs=$(nproc 2>/dev/null || echo 1)
  ((jobs > 2)) && jobs=2
fi

cmake_args=(-G Ninja -DDJDASH_TESTS=ON)
if [[ ${DJDASH_SANITIZE:-0} == 1 ]]; then
  build_dir=$REPO_ROOT/build-asan
  cmake_args+=(-DCMAKE_BUILD_TYPE=Debug -DDJDASH_SANITIZE=ON)
  # CAF 0.17 header bug reported by UBSan on every no-argument spawn; see tests/ubsan.supp.
  export UBSAN_OPTIONS="print_stacktrace=1:suppressions=$REPO_ROOT/tests/ubsan.supp"
  export ASAN_OPTIONS="detect_leaks=1"
else
  build_dir=$REPO_ROOT/build
  cmake_args+=(-DCMAKE_BUILD_TYPE=Release)
fi

# A build dir configured earlier with another generator makes `cmake -G Ninja` fail;
# it is only a cache (build dirs are gitignored), so reset it.
if [[ -f $build_dir/CMakeCache.txt ]] &&
   ! grep -qx 'CMAKE_GENERATOR:INTERNAL=Ninja' "$build_dir/CMakeCache.txt"; then
  log "resetting $build_dir (configured with a different generator)"
  rm -rf -- "$build_dir/CMakeCache.txt" "$build_dir/CMakeFiles"
fi

cmake -S "$REPO_ROOT" -B "$build_dir" "${cmake_args[@]}"
cmake --build "$build_dir" -j "$jobs"

# ---------------------------------------------------------------- throwaway PostgreSQL
# Everything below is undone by the EXIT trap, whatever happens (test failure, error,
# Ctrl-C). INT/TERM are turned into a normal exit so the trap runs.
pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/djdash-test-pg.XXXXXX")
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  bash "$PG" destroy --dir "$pg_dir" >/dev/null 2>&1 || true
  rm -rf -- "$pg_dir"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A free TCP port on 127.0.0.1: probe from a random start in 20000-60000. Connecting
# with bash's /dev/tcp succeeds only if something listens there.
port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p=$((20000 + (RANDOM * 32768 + RANDOM) % 40001)) i
  for ((i = 0; i < 500; i++)); do
    if port_is_free "$p"; then echo "$p"; return 0; fi
    p=$((p >= 60000 ? 20000 : p + 1))
  done
  return 1
}

# Another process can grab the port between the probe and the server's bind: retry with
# a new port (pg.sh start rewrites the credentials for the new port).
started=0
for attempt in 1 2 3; do
  port=$(free_port) || { log "no free TCP port found in 20000-60000"; exit 1; }
  if bash "$PG" start --fast --dir "$pg_dir" --port "$port"; then started=1; break; fi
  log "PostgreSQL did not start on port $port (attempt $attempt)"
done
((started)) || { log "could not start the test PostgreSQL"; exit 1; }

eval "$(bash "$PG" env --dir "$pg_dir")"
export DJDASH_TEST_DATABASE_URL=$DJDASH_DATABASE_URL
export DJDASH_TEST_OWNER_URL=$DJDASH_MIGRATE_DATABASE_URL
export DJDASH_TEST_SUPERUSER_URL=$DJDASH_PG_SUPERUSER_URL
export DJDASH_TEST_PG_SCRIPT=$PG

# ---------------------------------------------------------------- tests
# Not `exec`: the trap must still tear the cluster down after ctest returns.
rc=0
ctest --test-dir "$build_dir" --output-on-failure -j "${DJDASH_TEST_JOBS:-2}" "$@" || rc=$?
exit "$rc"
