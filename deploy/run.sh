#!/usr/bin/env bash
# djdash's single run command: install deps, build the server, bring up its database,
# migrate, seed the demo data, and run one node in the foreground.
#
# Usage: deploy/run.sh
#
# Environment:
#   DJDASH_HTTP_PORT             HTTP port of the node (default 8080)
#   DJDASH_DATABASE_URL          use this database instead of the embedded cluster
#   DJDASH_MIGRATE_DATABASE_URL  with DJDASH_DATABASE_URL: the (owner) URL migrations use
#   DJDASH_JWT_SECRET            token signing secret (default: generated once and kept
#                                in <repo>/var/jwt_secret)
#   DJDASH_JOBS                  build parallelism (default: nproc, at most 2)
#
# Without DJDASH_DATABASE_URL, the embedded PostgreSQL (deploy/pg.sh, default dir
# <repo>/var/pg, port 55432) is started with PostgreSQL's durable defaults - it holds
# real data - and its credentials are exported. Ctrl-C / SIGTERM are forwarded to the
# node; once it has exited, the embedded PostgreSQL is stopped if this script started it.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
PG="$REPO_ROOT/deploy/pg.sh"
BUILD_DIR=$REPO_ROOT/build-run
BIN=$BUILD_DIR/djdash
CONFIG=$REPO_ROOT/config/djdash.example.json

log() { echo "run.sh: $*" >&2; }

# ---------------------------------------------------------------- cleanup
# Set up before anything is started so that an error or Ctrl-C at any step still stops
# what this script started (and nothing else).
node_pid=""
started_pg=0
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  if [[ -n $node_pid ]] && kill -0 "$node_pid" 2>/dev/null; then
    log "stopping node (pid $node_pid)"
    kill -TERM "$node_pid" 2>/dev/null || true
    wait "$node_pid" 2>/dev/null || true
  fi
  if ((started_pg)); then
    bash "$PG" stop || true
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ---------------------------------------------------------------- dependencies + build
bash "$REPO_ROOT/deploy/install-deps.sh"

if [[ -n ${DJDASH_JOBS:-} ]]; then
  jobs=$DJDASH_JOBS
else
  jobs=$(nproc 2>/dev/null || echo 1)
  ((jobs > 2)) && jobs=2
fi
# build-run/ is separate from the test build (build/), so running never rebuilds tests
# and testing never invalidates the server build.
if [[ -f $BUILD_DIR/CMakeCache.txt ]] &&
   ! grep -qx 'CMAKE_GENERATOR:INTERNAL=Ninja' "$BUILD_DIR/CMakeCache.txt"; then
  log "resetting $BUILD_DIR (configured with a different generator)"
  rm -rf -- "$BUILD_DIR/CMakeCache.txt" "$BUILD_DIR/CMakeFiles"
fi
cmake -S "$REPO_ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDJDASH_TESTS=OFF
cmake --build "$BUILD_DIR" -j "$jobs" --target djdash

[[ -f $CONFIG ]] || { log "missing config file $CONFIG"; exit 1; }

# ---------------------------------------------------------------- database
if [[ -n ${DJDASH_DATABASE_URL:-} ]]; then
  log "using the database from DJDASH_DATABASE_URL (embedded PostgreSQL not started)"
else
  # Only stop on exit what we started: if the cluster is already up (another run.sh,
  # a developer's `deploy/pg.sh start`), leave it running.
  if bash "$PG" status >/dev/null 2>&1; then
    log "embedded PostgreSQL already running; it will be left running"
  else
    started_pg=1
  fi
  bash "$PG" start
  eval "$(bash "$PG" env)"
fi
export DJDASH_DATABASE_URL
[[ -n ${DJDASH_MIGRATE_DATABASE_URL:-} ]] && export DJDASH_MIGRATE_DATABASE_URL

# ---------------------------------------------------------------- JWT secret
# Generated once (64 hex chars = 256 bits) and kept, so tokens survive restarts.
if [[ -z ${DJDASH_JWT_SECRET:-} ]]; then
  secret_file=$REPO_ROOT/var/jwt_secret
  mkdir -p -- "$REPO_ROOT/var"
  if ! grep -qxE '[0-9a-f]{64}' "$secret_file" 2>/dev/null; then
    tmp=$(umask 077 && mktemp "$REPO_ROOT/var/.jwt_secret.XXXXXX")
    if command -v openssl >/dev/null 2>&1; then openssl rand -hex 32 >"$tmp"
    else od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$tmp"; echo >>"$tmp"; fi
    mv -f -- "$tmp" "$secret_file"
    log "generated a new JWT secret in $secret_file"
  fi
  chmod 600 "$secret_file"
  DJDASH_JWT_SECRET=$(<"$secret_file")
fi
export DJDASH_JWT_SECRET

export DJDASH_HTTP_PORT=${DJDASH_HTTP_PORT:-8080}

# ---------------------------------------------------------------- migrate + seed
"$BIN" migrate
"$BIN" seed-demo     # idempotent; prints the demo logins

# ---------------------------------------------------------------- node
# The node runs in the background so this script can forward signals and then clean
# up. Two details matter:
#  - background the binary itself, not a subshell, so $! is the node's PID (TOOLCHAIN.md
#    pitfall 20);
#  - with job control on (set -m) the node gets its own process group and its SIGINT is
#    not ignored (a non-interactive shell starts background jobs with SIGINT ignored). A
#    terminal's Ctrl-C then reaches only this script, which forwards it exactly once.
log "starting djdash on http://127.0.0.1:$DJDASH_HTTP_PORT (Ctrl-C to stop)"
set -m
"$BIN" --config "$CONFIG" </dev/null &
node_pid=$!
set +m

forward() { kill -"$1" "$node_pid" 2>/dev/null || true; }
trap 'forward INT' INT
trap 'forward TERM' TERM
trap 'forward TERM' HUP

# `wait` returns early (status > 128) when a trapped signal arrives; keep waiting until
# the node has really exited, then report its own exit status.
rc=0
while :; do
  rc=0
  wait "$node_pid" || rc=$?
  kill -0 "$node_pid" 2>/dev/null && continue          # interrupted by a signal: still running
  if ((rc > 128)); then
    # Either the node died of a signal, or this wait was interrupted just before it
    # exited; in the latter case its real status is still pending: collect it.
    rc2=0
    wait "$node_pid" 2>/dev/null || rc2=$?
    if ((rc2 != 127)); then rc=$rc2; fi
  fi
  break
done
node_pid=""
log "djdash exited with status $rc"
exit "$rc"
