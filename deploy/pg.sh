#!/usr/bin/env bash
# Embedded PostgreSQL cluster for djdash (no pg_createcluster, nothing under /etc or /var/log).
#
# Usage: deploy/pg.sh start|stop|status|env|destroy [--dir DIR] [--port PORT] [--fast]
#
#   start    initialise the cluster if needed (initdb, roles, database), then start it.
#            Re-running start on an initialised cluster only runs `pg_ctl start`; if the
#            server is already running it does nothing.
#   stop     fast shutdown, if running.
#   status   exit 0 if running (prints pid/port/dir), 3 if not.
#   env      print the credentials as `export VAR=...` lines: eval "$(deploy/pg.sh env)"
#   destroy  stop, then delete the data directory, credentials and log.
#
#   --dir DIR    cluster directory (default <repo>/var/pg, gitignored). Layout:
#                  DIR/data             PGDATA (also holds the unix socket, see -k below)
#                  DIR/credentials.env  mode 600: DJDASH_DATABASE_URL (app role),
#                                       DJDASH_MIGRATE_DATABASE_URL (owner role),
#                                       DJDASH_PG_SUPERUSER_URL (postgres superuser)
#                  DIR/server.log       server log
#   --port PORT  TCP port on 127.0.0.1 (default 55432, or the port the cluster was last
#                started with; a different --port rewrites credentials.env)
#   --fast       fsync/synchronous_commit/full_page_writes off: ONLY for throwaway test
#                clusters (deploy/test.sh). Without it PostgreSQL keeps its durable defaults.
#
# Roles: djdash_owner (LOGIN CREATEDB, owns database djdash, runs migrations) and
# djdash_app (LOGIN, NOSUPERUSER NOBYPASSRLS NOCREATEDB: the server's role, so row-level
# security applies to it). Passwords are random, generated once, kept in credentials.env.
#
# Root vs. not: initdb refuses to run as root, so as root every server binary runs as the
# `postgres` OS user (runuser), and that user must be able to traverse every parent of DIR.
# CI checks the repo out under directories we do not control (e.g. /root/...): if postgres
# cannot reach DIR, the cluster goes to ${TMPDIR:-/tmp}/djdash-pg-<hash of DIR> instead and
# we say so. All subcommands find it there again. Not as root, everything runs as the
# current user.
set -euo pipefail

PROG=pg.sh
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd -P)
DEFAULT_PORT=55432

die()  { echo "$PROG: error: $*" >&2; exit 1; }
note() { echo "$PROG: $*" >&2; }

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
  exit "${1:-2}"
}

# ---------------------------------------------------------------- arguments
cmd=${1:-}
[[ -n $cmd ]] || usage 2
shift
dir="" port="" port_given=0 fast=0
while (($#)); do
  case $1 in
    --dir)    (($# >= 2)) || die "--dir needs a value"; dir=$2; shift 2 ;;
    --dir=*)  dir=${1#--dir=}; shift ;;
    --port)   (($# >= 2)) || die "--port needs a value"; port=$2; port_given=1; shift 2 ;;
    --port=*) port=${1#--port=}; port_given=1; shift ;;
    --fast)   fast=1; shift ;;
    -h|--help) usage 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
case $cmd in start|stop|status|env|destroy) ;; -h|--help|help) usage 0 ;; *) die "unknown command '$cmd' (see --help)" ;; esac

if ((port_given)); then
  [[ $port =~ ^[0-9]+$ ]] && ((port >= 1024 && port <= 65535)) || die "invalid --port '$port' (1024-65535)"
fi

# Absolute, canonical DIR (relative --dir is relative to the caller's cwd).
[[ -n $dir ]] || dir=$REPO_ROOT/var/pg
[[ $dir == /* ]] || dir=$PWD/$dir
dir=$(realpath -m -- "$dir")
# pg_ctl builds a shell command line from these paths; refuse characters that would need
# more quoting than the single/double quotes pg_ctl and we use.
case $dir in
  *[\'\"\$\`\\]* | *$'\n'*) die "directory path must not contain quotes, \$, \` or backslashes: $dir" ;;
esac

# Run from / so that the postgres user never trips over an unreadable cwd (e.g. /root/...).
cd /

# ---------------------------------------------------------------- binaries and users
PGBIN=/usr/lib/postgresql/15/bin
if [[ ! -x $PGBIN/pg_ctl ]]; then
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
  [[ -n $PGBIN && -x $PGBIN/pg_ctl ]] || die "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (run deploy/install-deps.sh)"
fi

if ((EUID == 0)); then
  id -u postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' OS user (install the postgresql package)"
  SRV_USER=postgres
  as_srv() { runuser -u postgres -- "$@"; }
else
  SRV_USER=$(id -un)
  as_srv() { "$@"; }
fi

rand_hex() {
  if command -v openssl >/dev/null 2>&1; then openssl rand -hex 16
  else od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; echo; fi
}
short_hash() { printf '%s' "$1" | sha256sum | cut -c1-12; }

# ---------------------------------------------------------------- locating the cluster
# Candidate fallback locations for DIR (TMPDIR first, then /tmp), hashed on DIR so that
# different clusters (run command, each test run) never share a fallback.
fallbacks=("${TMPDIR:-/tmp}/djdash-pg-$(short_hash "$dir")")
[[ ${TMPDIR:-/tmp} == /tmp ]] || fallbacks+=("/tmp/djdash-pg-$(short_hash "$dir")")
for i in "${!fallbacks[@]}"; do fallbacks[i]=$(realpath -m -- "${fallbacks[i]}"); done

has_state() { [[ -e $1/data || -e $1/credentials.env ]]; }

# Can the server user reach (search) the directory that will contain $1? Checks the
# nearest existing ancestor: access(2) as postgres fails if any component on the way is
# not searchable. Missing components are created by us with mode 755.
srv_can_reach_parent() {
  ((EUID == 0)) || return 0
  local p
  p=$(dirname -- "$1")
  while [[ ! -e $p ]]; do p=$(dirname -- "$p"); done
  [[ -d $p ]] && runuser -u postgres -- test -x "$p"
}

# Sets LOC. An existing cluster (in DIR or a fallback) always wins, so start/stop/env/
# destroy agree; only a brand-new cluster picks a location by reachability.
fell_back=0
resolve_location() {
  local f
  if has_state "$dir"; then LOC=$dir; return; fi
  for f in "${fallbacks[@]}"; do
    if has_state "$f"; then LOC=$f; fell_back=1; return; fi
  done
  LOC=$dir
  if [[ $cmd == start ]] && ! srv_can_reach_parent "$dir"; then
    for f in "${fallbacks[@]}"; do
      if srv_can_reach_parent "$f"; then LOC=$f; fell_back=1; return; fi
    done
    die "the postgres user cannot reach $dir nor any of: ${fallbacks[*]}"
  fi
}

set_paths() {
  DATA=$LOC/data
  CREDS=$LOC/credentials.env
  LOG=$LOC/server.log
  MARKER=$LOC/.roles-done   # present once roles/database match credentials.env
  # Unix sockets live in the data dir (-k), so /var/run/postgresql is not needed. The
  # socket path ("$DATA/.s.PGSQL.<port>") must fit in sun_path (107 bytes); deep CI
  # checkouts can exceed that, so then use a short directory under /tmp instead.
  if ((${#DATA} <= 88)); then SOCKDIR=$DATA
  else SOCKDIR=/tmp/djdash-pgsock-$(short_hash "$DATA"); fi
}

# Postmaster PID if a server is really running on $DATA, else return 1. We do not trust
# `pg_ctl status` alone: after a reboot the PID in a stale postmaster.pid may belong to an
# unrelated process, and pg_ctl would report "running" (and `pg_ctl stop` would signal
# that process). The postmaster chdirs into its data dir, so check /proc/PID/cwd.
server_pid() {
  local pidfile=$DATA/postmaster.pid pid cwd
  [[ -f $pidfile ]] || return 1
  pid=$(head -n1 "$pidfile" 2>/dev/null || true)
  [[ $pid =~ ^[0-9]+$ && -d /proc/$pid ]] || return 1
  # A killed postmaster can linger as a zombie until reaped (state Z/X): not running.
  [[ $(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$pid/status" 2>/dev/null) =~ ^[^ZX]$ ]] || return 1
  cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null || true)
  if [[ -n $cwd ]]; then
    [[ $cwd == "$(realpath -m -- "$DATA")" ]] || return 1
  else
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == postgres ]] || return 1
  fi
  echo "$pid"
}

# Is any live process (not a zombie: its cwd link is unreadable) working in $DATA?
procs_in_data() {
  local want p cwd
  want=$(realpath -m -- "$DATA")
  for p in /proc/[0-9]*; do
    cwd=$(readlink "$p/cwd" 2>/dev/null) || continue
    [[ $cwd == "$want" || $cwd == "$want"/* ]] && return 0
  done
  return 1
}

# Port of the running server (line 4 of postmaster.pid).
running_port() { sed -n 4p "$DATA/postmaster.pid" 2>/dev/null; }

# ---------------------------------------------------------------- credentials
# credentials.env holds plain KEY=VALUE lines (no quoting needed: hex passwords, digits),
# so it also works as an EnvironmentFile / --env-file.
cred() { sed -n "s/^$1=//p" "$CREDS" 2>/dev/null | head -n1; }

# Parse "postgresql://user:PW@127.0.0.1:PORT/db" -> sets REPLY_PW and REPLY_PORT.
parse_url() {
  [[ $1 =~ ^postgresql://[^:@/]+:([0-9a-f]+)@127\.0\.0\.1:([0-9]+)/ ]] || return 1
  REPLY_PW=${BASH_REMATCH[1]} REPLY_PORT=${BASH_REMATCH[2]}
}

write_creds() {  # port su_pw owner_pw app_pw
  local tmp
  tmp=$(umask 077 && mktemp "$LOC/.credentials.XXXXXX")
  cat >"$tmp" <<EOF
# djdash embedded PostgreSQL ($DATA) - generated by deploy/pg.sh; keep private.
DJDASH_DATABASE_URL=postgresql://djdash_app:$4@127.0.0.1:$1/djdash
DJDASH_MIGRATE_DATABASE_URL=postgresql://djdash_owner:$3@127.0.0.1:$1/djdash
DJDASH_PG_SUPERUSER_URL=postgresql://postgres:$2@127.0.0.1:$1/postgres
EOF
  chmod 600 "$tmp"
  mv -f "$tmp" "$CREDS"
}

# ---------------------------------------------------------------- subcommands
cmd_start() {
  resolve_location
  set_paths
  ((fell_back)) && note "postgres cannot use $dir (a parent directory is not searchable by it); using $LOC instead"

  # Directory owned by the server user, mode 700: postgres writes server.log there, and
  # credentials.env (root-owned, 600) stays private.
  if [[ -L $LOC ]]; then die "$LOC is a symlink; refusing to use it"; fi
  (umask 022 && mkdir -p -- "$(dirname -- "$LOC")")
  mkdir -p -- "$LOC"
  if ((EUID == 0)); then chown postgres:postgres "$LOC"; fi
  chmod 700 "$LOC"
  as_srv test -w "$LOC" -a -x "$LOC" || die "the $SRV_USER user cannot write to $LOC"

  # Credentials: read them if present, else generate once.
  local su_pw="" owner_pw="" app_pw="" stored_port="" creds_changed=0
  if [[ -f $CREDS ]] &&
     parse_url "$(cred DJDASH_PG_SUPERUSER_URL)" && su_pw=$REPLY_PW && stored_port=$REPLY_PORT &&
     parse_url "$(cred DJDASH_MIGRATE_DATABASE_URL)" && owner_pw=$REPLY_PW &&
     parse_url "$(cred DJDASH_DATABASE_URL)" && app_pw=$REPLY_PW; then
    :
  else
    [[ -f $CREDS ]] && note "credentials.env unreadable or malformed; generating new passwords"
    su_pw=$(rand_hex) owner_pw=$(rand_hex) app_pw=$(rand_hex) stored_port=""
    creds_changed=1
    rm -f -- "$MARKER"        # roles must be (re)created with the new passwords
  fi
  if ((!port_given)); then port=${stored_port:-$DEFAULT_PORT}; fi

  # A running server wins: never start a second one, and keep the creds on its port.
  local pid
  if pid=$(server_pid); then
    local rport; rport=$(running_port)
    if ((port_given)) && [[ $rport != "$port" ]]; then
      die "already running on port $rport (pid $pid); stop it before changing the port"
    fi
    port=$rport
  fi
  if ((creds_changed)) || [[ $stored_port != "$port" ]]; then
    write_creds "$port" "$su_pw" "$owner_pw" "$app_pw"
  fi

  # initdb once. The superuser password comes from a file (never the command line).
  if [[ ! -f $DATA/PG_VERSION ]]; then
    if [[ -d $DATA ]] && [[ -n $(ls -A -- "$DATA") ]]; then
      die "$DATA exists but is not an initialised cluster; run '$PROG destroy' first"
    fi
    install -d -m 700 -o "$SRV_USER" -g "$(id -gn "$SRV_USER")" -- "$DATA"
    local pwfile=$LOC/.pwfile
    (umask 077 && printf '%s\n' "$su_pw" >"$pwfile")
    ((EUID == 0)) && chown postgres "$pwfile"
    local initdb_args=(-D "$DATA" -U postgres -E UTF8 --locale=C.UTF-8
                       --auth-local=trust --auth-host=scram-sha-256 --pwfile="$pwfile")
    ((fast)) && initdb_args+=(--no-sync)   # throwaway cluster: skip the final fsync
    if ! as_srv "$PGBIN/initdb" "${initdb_args[@]}" >"$LOC/initdb.log" 2>&1; then
      rm -f -- "$pwfile"
      cat "$LOC/initdb.log" >&2
      die "initdb failed"
    fi
    rm -f -- "$pwfile" "$MARKER"
  fi

  if [[ -z ${pid:-} ]] && ! pid=$(server_pid); then
    # Stale lock files. After a crash or a reboot, postmaster.pid and the socket lock
    # file(s) may name a PID that now belongs to another process (PID reuse after a
    # reboot) or to a not-yet-reaped zombie (kill -9 in a container whose PID 1 reaps
    # slowly). PostgreSQL treats such a PID as a live postmaster and refuses to start. Every
    # server process (postmaster and backends) has its cwd in the data directory, so if no
    # live process does, the lock files are certainly stale and we remove them. If some
    # process still does (orphaned backends), leave them and let PostgreSQL decide.
    if [[ -e $DATA/postmaster.pid ]] || compgen -G "$SOCKDIR/.s.PGSQL.*" >/dev/null; then
      # Orphaned backends of a killed postmaster exit within moments: give them 5 s.
      local i
      for ((i = 0; i < 50; i++)); do procs_in_data || break; sleep 0.1; done
      if ! procs_in_data; then
        note "removing stale lock files in $DATA (server crashed or machine rebooted)"
        rm -f -- "$DATA/postmaster.pid" "$SOCKDIR"/.s.PGSQL.*
      fi
    fi
    if [[ $SOCKDIR != "$DATA" ]]; then
      [[ -L $SOCKDIR ]] && die "$SOCKDIR is a symlink; refusing to use it"
      install -d -m 700 -o "$SRV_USER" -g "$(id -gn "$SRV_USER")" -- "$SOCKDIR"
    fi
    local opts="-c listen_addresses=127.0.0.1 -p $port -k '$SOCKDIR' -c max_connections=200"
    ((fast)) && opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    if ! as_srv "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 30 -o "$opts" start >/dev/null 2>&1; then
      echo "---- tail of $LOG ----" >&2
      tail -n 30 "$LOG" >&2 2>/dev/null || true
      die "PostgreSQL failed to start on 127.0.0.1:$port (data $DATA)"
    fi
    pid=$(server_pid || echo '?')
  fi

  # Roles and database, idempotently; skipped on the warm path (marker present).
  if [[ ! -f $MARKER ]]; then
    # Over the unix socket with local trust auth, so this also repairs passwords if
    # credentials.env was lost. Passwords are hex, so inlining them is safe; they go via
    # stdin, not argv.
    PGCONNECT_TIMEOUT=10 "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 \
        -h "$SOCKDIR" -p "$port" -U postgres -d postgres >/dev/null <<SQL
ALTER ROLE postgres PASSWORD '$su_pw';
SELECT 'CREATE ROLE djdash_owner' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'djdash_owner')
\gexec
ALTER ROLE djdash_owner LOGIN CREATEDB NOSUPERUSER NOCREATEROLE NOREPLICATION PASSWORD '$owner_pw';
SELECT 'CREATE ROLE djdash_app' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'djdash_app')
\gexec
ALTER ROLE djdash_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD '$app_pw';
SELECT 'CREATE DATABASE djdash OWNER djdash_owner' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'djdash')
\gexec
ALTER DATABASE djdash OWNER TO djdash_owner;
SQL
    : >"$MARKER"
  fi
  note "PostgreSQL $(basename "$(dirname "$PGBIN")") running on 127.0.0.1:$port (pid $pid, dir $LOC$( ((fast)) && echo ', fast/non-durable'))"
}

cmd_stop() {
  resolve_location; set_paths
  local pid
  if pid=$(server_pid); then
    as_srv "$PGBIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null
    note "stopped (was pid $pid, dir $LOC)"
  else
    note "not running (dir $LOC)"
  fi
}

cmd_status() {
  resolve_location; set_paths
  local pid
  if pid=$(server_pid); then
    echo "running: pid $pid, port $(running_port), dir $LOC"
  else
    echo "not running (dir $LOC)"
    exit 3
  fi
}

cmd_env() {
  resolve_location; set_paths
  [[ -r $CREDS ]] || die "no credentials at $CREDS (run '$PROG start' first)"
  local line
  while IFS= read -r line || [[ -n $line ]]; do
    [[ $line =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] && printf 'export %s\n' "$line"
  done <"$CREDS"
}

cmd_destroy() {
  local l
  for l in "$dir" "${fallbacks[@]}"; do
    has_state "$l" || continue
    LOC=$l; set_paths
    if server_pid >/dev/null; then
      as_srv "$PGBIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null || true
    fi
    rm -rf -- "$DATA" "$CREDS" "$LOG" "$MARKER" "$LOC/initdb.log" "$LOC/.pwfile" "$LOC"/.credentials.*
    [[ $SOCKDIR != "$DATA" ]] && rm -rf -- "$SOCKDIR"
    rmdir -- "$LOC" 2>/dev/null || true
    note "destroyed cluster in $LOC"
  done
}

"cmd_$cmd"
