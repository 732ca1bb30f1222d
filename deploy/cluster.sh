#!/usr/bin/env bash
# Run an N-node djdash cluster on loopback against one PostgreSQL (development, demos, drills).
#
# Usage: deploy/cluster.sh start [N] | stop | status | add | kill K | restart K | rolling-restart
#
#   start [N]        build if needed (Release, like deploy/run.sh), start the embedded PostgreSQL
#                    (deploy/pg.sh) unless DJDASH_DATABASE_URL is set, migrate and seed the demo
#                    data once, then start nodes n1..nN (default 3; nodes already running are
#                    kept) and wait until every node answers /readyz 200 and all agree on the view.
#   stop             SIGTERM every node (each drains and leaves), wait for them to exit; then stop
#                    the embedded PostgreSQL if `start` started it.
#   status           per node: pid, HTTP port, /readyz, and its view from /debug/cluster.
#   add              start the next node (n<highest+1>) and wait until the cluster has converged.
#   kill K           SIGKILL node nK (a crash: no drain, no leave message).
#   restart K        SIGTERM node nK (if running), wait for its exit, start it again, wait until
#                    it is ready and the cluster has converged.
#   rolling-restart  restart every running node, one at a time, as above: the drill for
#                    deploying a new build without failing requests.
#
# Node K listens for HTTP on 127.0.0.1:(CLUSTER_HTTP_BASE + K - 1), i.e. n1 on 8081, n2 on 8082...
# Its cluster (CAF middleman) port binds 127.0.0.1 and is OS-chosen unless CLUSTER_PEER_BASE is
# set; peers find it through the cluster_nodes table.
#
# Environment:
#   CLUSTER_HTTP_BASE=8081       HTTP port of n1 (nK gets base + K - 1)
#   CLUSTER_PEER_BASE=           cluster port of n1 (nK gets base + K - 1); empty: OS-chosen
#   CLUSTER_DIR=<repo>/var/cluster   pid files, logs and state
#   CLUSTER_BUILD_DIR=<repo>/build-run   build directory (shared with deploy/run.sh)
#   CLUSTER_SKIP_BUILD=0         1: use the existing binary in CLUSTER_BUILD_DIR as is
#   CLUSTER_PG_DIR=<repo>/var/pg, CLUSTER_PG_PORT=   embedded PostgreSQL (deploy/pg.sh --dir/--port)
#   CLUSTER_WAIT_S=60            how long to wait for readiness / convergence / exit
#   CLUSTER_CONFIG=<repo>/config/djdash.example.json   the nodes' --config file (as run.sh)
#   DJDASH_DATABASE_URL, DJDASH_MIGRATE_DATABASE_URL   use this database (no embedded PostgreSQL);
#                                remembered in CLUSTER_DIR/db.env (mode 600) for later commands
#                                until `stop`
#   DJDASH_JWT_SECRET            default: generated once in <repo>/var/jwt_secret (as run.sh does);
#                                every node gets the same one
#   DJDASH_JOBS                  build parallelism (default: nproc, at most 2)
# Other DJDASH_* settings in the environment (DJDASH_LOG_LEVEL, DJDASH_CLUSTER_LEASE_MS, ...) are
# passed to the nodes as they are.
set -euo pipefail

PROG=cluster.sh
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
PG="$REPO_ROOT/deploy/pg.sh"
CONFIG=${CLUSTER_CONFIG:-$REPO_ROOT/config/djdash.example.json}
HTTP_BASE=${CLUSTER_HTTP_BASE:-8081}
PEER_BASE=${CLUSTER_PEER_BASE:-}
STATE=${CLUSTER_DIR:-$REPO_ROOT/var/cluster}
BUILD_DIR=${CLUSTER_BUILD_DIR:-$REPO_ROOT/build-run}
SKIP_BUILD=${CLUSTER_SKIP_BUILD:-0}
PG_DIR=${CLUSTER_PG_DIR:-$REPO_ROOT/var/pg}
PG_PORT=${CLUSTER_PG_PORT:-}
WAIT_S=${CLUSTER_WAIT_S:-60}
BIN=$BUILD_DIR/djdash

die() { echo "$PROG: error: $*" >&2; exit 1; }
log() { echo "$PROG: $*" >&2; }

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
  exit "${1:-2}"
}

if ! [[ $HTTP_BASE =~ ^[0-9]+$ ]] || ((HTTP_BASE < 1024 || HTTP_BASE > 65000)); then
  die "CLUSTER_HTTP_BASE must be 1024..65000"
fi
if [[ -n $PEER_BASE ]] && { ! [[ $PEER_BASE =~ ^[0-9]+$ ]] || ((PEER_BASE < 1024 || PEER_BASE > 65000)); }; then
  die "CLUSTER_PEER_BASE must be empty or 1024..65000"
fi
if ! [[ $WAIT_S =~ ^[0-9]+$ ]] || ((WAIT_S < 1)); then die "CLUSTER_WAIT_S must be a positive number"; fi
command -v curl >/dev/null || die "curl not found (run deploy/install-deps.sh)"

pg_args=(--dir "$PG_DIR")
[[ -n $PG_PORT ]] && pg_args+=(--port "$PG_PORT")

# ---------------------------------------------------------------- node bookkeeping
http_port() { echo $((HTTP_BASE + $1 - 1)); }
peer_port() { if [[ -n $PEER_BASE ]]; then echo $((PEER_BASE + $1 - 1)); else echo 0; fi; }

# PID of node K if it is really running: the pid file names a live djdash process whose
# environment says DJDASH_NODE_ID=nK (a stale pid file after a reboot may name another process).
node_pid() {
  local k=$1 pid
  pid=$(cat "$STATE/n$k.pid" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ && -d /proc/$pid ]] || return 1
  [[ $(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$pid/status" 2>/dev/null) =~ ^[^ZX]$ ]] || return 1
  [[ $(cat "/proc/$pid/comm" 2>/dev/null) == djdash ]] || return 1
  # (The process may exit between the checks: the redirection's error is silenced too.)
  { tr '\0' '\n' <"/proc/$pid/environ"; } 2>/dev/null | grep -qx "DJDASH_NODE_ID=n$k" || return 1
  echo "$pid"
}

# Node numbers that have a pid file (running or not), ascending.
known_nodes() {
  local f k
  for f in "$STATE"/n*.pid; do
    [[ -e $f ]] || continue
    k=${f##*/n}; k=${k%.pid}
    [[ $k =~ ^[0-9]+$ ]] && echo "$k"
  done | sort -n
}
running_nodes() {
  local k
  for k in $(known_nodes); do node_pid "$k" >/dev/null && echo "$k"; done
  return 0
}

http_code() {  # URL
  curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" 2>/dev/null || true
}

# The node's view ("n1,n2,n3") from GET /debug/cluster, or empty.
node_view() {
  local body
  body=$(curl -s --max-time 2 "http://127.0.0.1:$(http_port "$1")/debug/cluster" 2>/dev/null) || return 0
  sed -n 's/.*"view":\[\([^]]*\)\].*/\1/p' <<<"$body" | tr -d '" '
}

# ---------------------------------------------------------------- environment for the nodes
load_env() {
  # Database: the caller's URL (remembered for later commands), else one remembered by an
  # earlier `start`, else the embedded PostgreSQL's credentials.
  if [[ -n ${DJDASH_DATABASE_URL:-} ]]; then
    :
  elif [[ -r $STATE/db.env ]]; then
    # shellcheck disable=SC1091
    source "$STATE/db.env"
  else
    eval "$(bash "$PG" env "${pg_args[@]}")" || die "no database: set DJDASH_DATABASE_URL or run '$PROG start'"
  fi
  export DJDASH_DATABASE_URL
  if [[ -n ${DJDASH_MIGRATE_DATABASE_URL:-} ]]; then export DJDASH_MIGRATE_DATABASE_URL; fi

  # JWT secret: generated once (64 hex chars) and kept, exactly as deploy/run.sh does, so the
  # same tokens work on every node, across restarts and with run.sh.
  if [[ -z ${DJDASH_JWT_SECRET:-} ]]; then
    local secret_file=$REPO_ROOT/var/jwt_secret tmp
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
}

build() {
  if [[ $SKIP_BUILD == 1 ]]; then
    [[ -x $BIN ]] || die "CLUSTER_SKIP_BUILD=1 but there is no binary at $BIN"
    return
  fi
  bash "$REPO_ROOT/deploy/install-deps.sh" >&2
  local jobs
  if [[ -n ${DJDASH_JOBS:-} ]]; then
    jobs=$DJDASH_JOBS
  else
    jobs=$(nproc 2>/dev/null || echo 1)
    ((jobs > 2)) && jobs=2
  fi
  if [[ -f $BUILD_DIR/CMakeCache.txt ]] &&
     ! grep -qx 'CMAKE_GENERATOR:INTERNAL=Ninja' "$BUILD_DIR/CMakeCache.txt"; then
    log "resetting $BUILD_DIR (configured with a different generator)"
    rm -rf -- "$BUILD_DIR/CMakeCache.txt" "$BUILD_DIR/CMakeFiles"
  fi
  cmake -S "$REPO_ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDJDASH_TESTS=OFF >&2
  cmake --build "$BUILD_DIR" -j "$jobs" --target djdash >&2
}

# ---------------------------------------------------------------- starting and stopping nodes
# Starts node K in its own session (so a terminal's Ctrl-C aimed at this script never reaches it
# and it outlives the script). The pid file is written by the shell that then execs djdash, so it
# names the node itself.
launch() {
  local k=$1 port
  port=$(http_port "$k")
  if node_pid "$k" >/dev/null; then log "n$k already running"; return; fi
  if [[ $(http_code "http://127.0.0.1:$port/healthz") != 000 ]]; then
    die "port $port (n$k) is already in use by another process"
  fi
  [[ -x $BIN ]] || die "no binary at $BIN (run '$PROG start' to build it)"
  rm -f -- "$STATE/n$k.pid"
  echo "---- $(date -u '+%Y-%m-%dT%H:%M:%SZ') $PROG: starting n$k (http $port, cluster port $(peer_port "$k"))" >>"$STATE/n$k.log"
  local node_env=(DJDASH_NODE_ID="n$k" DJDASH_HTTP_ADDR=127.0.0.1 DJDASH_HTTP_PORT="$port"
                  DJDASH_CLUSTER_BIND=127.0.0.1 DJDASH_CLUSTER_HOST=127.0.0.1
                  DJDASH_CLUSTER_PORT="$(peer_port "$k")")
  # shellcheck disable=SC2016 # $$ and $@ belong to the inner shell
  env "${node_env[@]}" setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$STATE/n$k.pid" \
    "$BIN" --config "$CONFIG" </dev/null >>"$STATE/n$k.log" 2>&1 &
  local i
  for ((i = 0; i < 50; i++)); do [[ -s $STATE/n$k.pid ]] && break; sleep 0.1; done
  log "started n$k: pid $(cat "$STATE/n$k.pid" 2>/dev/null || echo '?'), http://127.0.0.1:$port, log $STATE/n$k.log"
}

# SIGTERM node K and wait for it to exit (the drain is bounded by http.drain_timeout_ms, 15 s by
# default); SIGKILL only if it is still there after CLUSTER_WAIT_S.
stop_node() {
  local k=$1 pid i
  pid=$(node_pid "$k") || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < WAIT_S * 10; i++)); do
    node_pid "$k" >/dev/null || { log "n$k (pid $pid) exited"; return 0; }
    sleep 0.1
  done
  log "n$k (pid $pid) did not exit within ${WAIT_S} s after SIGTERM; SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

# Wait until node K answers /readyz 200.
wait_ready() {
  local k=$1 port code="" i
  port=$(http_port "$k")
  for ((i = 0; i < WAIT_S * 10; i++)); do
    node_pid "$k" >/dev/null || { tail -n 20 "$STATE/n$k.log" >&2; die "n$k exited during start-up (log: $STATE/n$k.log)"; }
    code=$(http_code "http://127.0.0.1:$port/readyz")
    [[ $code == 200 ]] && return 0
    sleep 0.1
  done
  die "n$k: /readyz not 200 within ${WAIT_S} s (last: $code; log: $STATE/n$k.log)"
}

# Wait until every running node's view is exactly the set of running nodes.
wait_converged() {
  local want k i ok
  want=$(running_nodes | sed 's/^/n/' | sort | paste -sd, -)
  for ((i = 0; i < WAIT_S * 10; i++)); do
    ok=1
    for k in $(running_nodes); do
      [[ $(node_view "$k" | tr ',' '\n' | sort | paste -sd, -) == "$want" ]] || { ok=0; break; }
    done
    ((ok)) && { log "cluster converged: view [$want]"; return 0; }
    sleep 0.1
  done
  for k in $(running_nodes); do log "n$k view: [$(node_view "$k")]"; done
  die "views did not converge on [$want] within ${WAIT_S} s"
}

# ---------------------------------------------------------------- subcommands
node_arg() {  # K
  [[ ${1:-} =~ ^[1-9][0-9]*$ ]] || die "expected a node number (1, 2, ...), got '${1:-}'"
  (($(http_port "$1") <= 65535)) || die "node $1: HTTP port out of range"
}

cmd_start() {
  local n=${1:-3} k
  if ! [[ $n =~ ^[1-9][0-9]*$ ]] || ((n > 64)); then die "N must be 1..64"; fi
  (($(http_port "$n") <= 65535)) || die "too many nodes for CLUSTER_HTTP_BASE=$HTTP_BASE"
  mkdir -p -- "$STATE"
  chmod 700 "$STATE"
  build

  if [[ -n ${DJDASH_DATABASE_URL:-} ]]; then
    log "using the database from DJDASH_DATABASE_URL (embedded PostgreSQL not started)"
    local tmp
    tmp=$(umask 077 && mktemp "$STATE/.db.env.XXXXXX")
    {
      printf 'DJDASH_DATABASE_URL=%q\n' "$DJDASH_DATABASE_URL"
      [[ -n ${DJDASH_MIGRATE_DATABASE_URL:-} ]] &&
        printf 'DJDASH_MIGRATE_DATABASE_URL=%q\n' "$DJDASH_MIGRATE_DATABASE_URL"
    } >"$tmp"
    mv -f -- "$tmp" "$STATE/db.env"
  elif [[ -r $STATE/db.env ]]; then
    # A cluster started with DJDASH_DATABASE_URL is extended on the same database (until `stop`).
    log "using the database remembered in $STATE/db.env"
  else
    # Only what we start is stopped by `stop`: a PostgreSQL already running stays running.
    if ! bash "$PG" status "${pg_args[@]}" >/dev/null 2>&1; then
      bash "$PG" start "${pg_args[@]}"
      : >"$STATE/pg_started"
    else
      log "embedded PostgreSQL already running; 'stop' will leave it running"
    fi
  fi
  load_env

  # Once for the whole cluster, before any node starts (a node refuses an old schema).
  "$BIN" migrate >&2
  "$BIN" seed-demo     # idempotent; prints the demo logins

  for ((k = 1; k <= n; k++)); do launch "$k"; done
  for ((k = 1; k <= n; k++)); do wait_ready "$k"; done
  wait_converged
  cmd_status
}

cmd_stop() {
  local k pids=() nodes
  nodes=$(running_nodes)
  # All at once: each node leaves the cluster and drains in parallel.
  for k in $nodes; do
    local pid
    pid=$(node_pid "$k") && kill -TERM "$pid" 2>/dev/null && pids+=("n$k:$pid")
  done
  ((${#pids[@]})) && log "SIGTERM sent to ${pids[*]}"
  local i left
  for ((i = 0; i < WAIT_S * 10; i++)); do
    left=$(running_nodes)
    [[ -z $left ]] && break
    sleep 0.1
  done
  for k in $(running_nodes); do
    log "n$k did not exit within ${WAIT_S} s after SIGTERM; SIGKILL"
    kill -KILL "$(node_pid "$k")" 2>/dev/null || true
  done
  rm -f -- "$STATE"/n*.pid "$STATE/db.env"
  local names=""
  for k in $nodes; do names+=" n$k"; done
  [[ -n $names ]] && log "stopped:$names"
  if [[ -e $STATE/pg_started ]]; then
    bash "$PG" stop "${pg_args[@]}" || true
    rm -f -- "$STATE/pg_started"
  fi
  return 0
}

cmd_status() {
  local k pid port ready body joined members view any=0
  printf '%-5s %-8s %-6s %-7s %-7s %-8s %s\n' node pid http readyz joined members view
  for k in $(known_nodes); do
    any=1
    port=$(http_port "$k")
    if pid=$(node_pid "$k"); then
      ready=$(http_code "http://127.0.0.1:$port/readyz")
      body=$(curl -s --max-time 2 "http://127.0.0.1:$port/debug/cluster" 2>/dev/null || true)
      joined=$(sed -n 's/.*"joined":\(true\|false\).*/\1/p' <<<"$body")
      members=$(grep -o '"self":' <<<"$body" | wc -l || true)
      view=$(sed -n 's/.*"view":\[\([^]]*\)\].*/\1/p' <<<"$body" | tr -d '" ')
      printf '%-5s %-8s %-6s %-7s %-7s %-8s [%s]\n' "n$k" "$pid" "$port" "$ready" "${joined:--}" "$members" "$view"
    else
      printf '%-5s %-8s %-6s %-7s %-7s %-8s %s\n' "n$k" "-" "$port" "-" "-" "-" "not running"
    fi
  done
  ((any)) || echo "(no nodes; '$PROG start [N]')"
  return 0
}

cmd_add() {
  local last k
  last=$(known_nodes | tail -n1)
  k=$(( ${last:-0} + 1 ))
  node_arg "$k"
  mkdir -p -- "$STATE"
  load_env
  launch "$k"
  wait_ready "$k"
  wait_converged
}

cmd_kill() {
  node_arg "${1:-}"
  local pid
  pid=$(node_pid "$1") || die "n$1 is not running"
  kill -KILL "$pid"
  log "n$1 (pid $pid) killed with SIGKILL"
}

cmd_restart() {
  node_arg "${1:-}"
  mkdir -p -- "$STATE"
  load_env
  stop_node "$1"
  launch "$1"
  wait_ready "$1"
  wait_converged
}

cmd_rolling_restart() {
  local nodes k
  nodes=$(running_nodes)
  [[ -n $nodes ]] || die "no running nodes"
  load_env
  for k in $nodes; do
    log "rolling restart: n$k"
    stop_node "$k"
    launch "$k"
    wait_ready "$k"
    wait_converged
  done
  log "rolling restart done"
}

cmd=${1:-}
[[ -n $cmd ]] || usage 2
shift
case $cmd in
  start)            (($# <= 1)) || usage 2; cmd_start "$@" ;;
  stop)             (($# == 0)) || usage 2; cmd_stop ;;
  status)           (($# == 0)) || usage 2; cmd_status ;;
  add)              (($# == 0)) || usage 2; cmd_add ;;
  kill)             (($# == 1)) || usage 2; cmd_kill "$1" ;;
  restart)          (($# == 1)) || usage 2; cmd_restart "$1" ;;
  rolling-restart)  (($# == 0)) || usage 2; cmd_rolling_restart ;;
  -h|--help|help)   usage 0 ;;
  *)                die "unknown command '$cmd' (see --help)" ;;
esac
