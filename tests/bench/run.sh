#!/usr/bin/env bash
# djdash benchmarks: ratios against a reference measured in the same run, on the same machine,
# on the same CPUs (docs: tests/bench/README.md, targets: shared/docs/TARGETS.md).
#
#   1. GET /healthz on djdash            vs  nginx answering a static 200        (target >= 0.8x)
#   2. GET /api/public/orgs/demo-tipjar  vs  pgbench running the same transaction (target >= 0.7x)
#   3. POST /api/crowd-request/submit    vs  pgbench running the same single-row INSERT after
#      (a free song request)                 set_config, in its own transaction   (target >= 1.0x)
#
# Builds djdash (build-bench, Release), starts a private durable PostgreSQL (deploy/pg.sh, no
# --fast) in a temp dir on a free port, migrates, seeds the demo orgs, starts djdash on a free
# loopback port with DJDASH_LOG_LEVEL=warn, waits for /readyz, then measures with wrk / pgbench.
# Everything it starts is stopped and deleted on exit (trap). Loopback only.
#
# Knobs (environment):
#   BENCH_DURATION=10        seconds per measured run (4 runs)
#   BENCH_CONNECTIONS=32     wrk connections and pgbench clients (same count on both sides)
#   BENCH_WARMUP=2           seconds of unmeasured warm-up before each wrk run (0: none)
#   BENCH_WRK_THREADS=1      wrk -t
#   BENCH_CPUS=0,1           taskset CPU list for every process (djdash, PostgreSQL, nginx, wrk,
#                            pgbench); empty: no pinning
#   BENCH_DB_POOL_SIZE=      DJDASH_DB_POOL_SIZE for djdash (empty: the server's default)
#   BENCH_PGBENCH_MODE=extended   pgbench -M (simple|extended|prepared); djdash's libpqxx
#                            exec_params uses the extended protocol with unnamed statements
#   BENCH_SLUG=demo-tipjar   organization slug for the DB-backed read and the request submits
#                            (its request settings are set to take free songs with the per-guest
#                            limit and the song repeat window off: wrk repeats one request)
#   BENCH_SKIP_BUILD=0       1: use the existing build-bench/djdash as is
#   BENCH_REF=               a git commit/branch (e.g. HEAD) to build instead of the working tree:
#                            checked out into <build dir>-ref/src, built in <build dir>-ref/build
#   BENCH_BUILD_DIR=<repo>/build-bench
#   BENCH_RESULTS=<repo>/tests/bench/results/latest.md   where the Markdown report goes
set -euo pipefail

PROG=bench
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd -P)

DURATION=${BENCH_DURATION:-10}
CONNS=${BENCH_CONNECTIONS:-32}
WARMUP=${BENCH_WARMUP:-2}
WRK_THREADS=${BENCH_WRK_THREADS:-1}
CPUS=${BENCH_CPUS-0,1}
POOL=${BENCH_DB_POOL_SIZE:-}
PGB_MODE=${BENCH_PGBENCH_MODE:-extended}
SLUG=${BENCH_SLUG:-demo-tipjar}
SKIP_BUILD=${BENCH_SKIP_BUILD:-0}
REF=${BENCH_REF:-}
BUILD_DIR=${BENCH_BUILD_DIR:-$REPO/build-bench}
RESULTS=${BENCH_RESULTS:-$REPO/tests/bench/results/latest.md}

die()  { echo "$PROG: error: $*" >&2; exit 1; }
note() { echo "$PROG: $*" >&2; }

[[ $DURATION =~ ^[0-9]+$ ]] && ((DURATION >= 1 && DURATION <= 120)) || die "BENCH_DURATION must be 1..120"
[[ $CONNS =~ ^[0-9]+$ ]] && ((CONNS >= 1 && CONNS <= 150)) || die "BENCH_CONNECTIONS must be 1..150 (PostgreSQL max_connections is 200)"
[[ $WARMUP =~ ^[0-9]+$ ]] && ((WARMUP <= 30)) || die "BENCH_WARMUP must be 0..30"
[[ $WRK_THREADS =~ ^[0-9]+$ ]] && ((WRK_THREADS >= 1 && WRK_THREADS <= CONNS)) || die "BENCH_WRK_THREADS must be 1..connections"
[[ -z $POOL || $POOL =~ ^[0-9]+$ ]] || die "BENCH_DB_POOL_SIZE must be a number"
case $PGB_MODE in simple|extended|prepared) ;; *) die "BENCH_PGBENCH_MODE must be simple, extended or prepared" ;; esac
[[ $SLUG =~ ^[a-z0-9-]+$ ]] || die "BENCH_SLUG must be [a-z0-9-]+"

PGBIN=/usr/lib/postgresql/15/bin
[[ -x $PGBIN/pgbench ]] || PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
for tool in wrk nginx curl taskset ss; do
  command -v "$tool" >/dev/null || die "$tool not found (run deploy/install-deps.sh)"
done
[[ -n $PGBIN && -x $PGBIN/pgbench && -x $PGBIN/psql ]] || die "pgbench/psql not found (run deploy/install-deps.sh)"
[[ -x $REPO/deploy/pg.sh ]] || [[ -f $REPO/deploy/pg.sh ]] || die "deploy/pg.sh missing"
NGINX=$(command -v nginx)
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)

# CPU pinning: every process we start runs under `taskset -c $CPUS`, so the load generator and
# the servers compete for the same cores (as on a small production box) and neither side gets
# cores the other cannot use.
PIN=()
if [[ -n $CPUS ]]; then
  if taskset -c "$CPUS" true 2>/dev/null; then PIN=(taskset -c "$CPUS")
  else note "cannot pin to CPUs '$CPUS' on this machine; running unpinned"; CPUS=""; fi
fi

# ---------------------------------------------------------------- cleanup
TMP=""
DJ_PID="" NGX_PID=""
PG_STARTED=0
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  if [[ -n $DJ_PID ]] && kill -0 "$DJ_PID" 2>/dev/null; then
    kill -TERM "$DJ_PID" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$DJ_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$DJ_PID" 2>/dev/null && { note "djdash did not stop in 10 s; SIGKILL"; kill -KILL "$DJ_PID" 2>/dev/null; }
    wait "$DJ_PID" 2>/dev/null
  fi
  if [[ -n $NGX_PID ]] && kill -0 "$NGX_PID" 2>/dev/null; then
    kill -TERM "$NGX_PID" 2>/dev/null      # nginx master: fast shutdown, takes its worker along
    for _ in $(seq 1 50); do kill -0 "$NGX_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$NGX_PID" 2>/dev/null && kill -KILL "$NGX_PID" 2>/dev/null
    wait "$NGX_PID" 2>/dev/null
  fi
  if ((PG_STARTED)); then
    bash "$REPO/deploy/pg.sh" destroy --dir "$TMP/pg" >/dev/null 2>&1 || note "pg.sh destroy failed (dir $TMP/pg)"
  fi
  [[ -n $TMP && -d $TMP ]] && rm -rf -- "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

TMP=$(mktemp -d "${TMPDIR:-/tmp}/djdash-bench.XXXXXX")
chmod 755 "$TMP"   # as root, PostgreSQL runs as `postgres` and must traverse to $TMP/pg

# A free loopback TCP port (not listening now, not among those already picked).
PICKED=" "
free_port() {
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + RANDOM % 40000))
    [[ $PICKED == *" $p "* ]] && continue
    if [[ -z $(ss -Htan "( sport = :$p )" 2>/dev/null) ]]; then PICKED+="$p "; echo "$p"; return; fi
  done
  die "no free port found"
}

# ---------------------------------------------------------------- build
# Source: the working tree (default), or with BENCH_REF a committed tree checked out through a
# private index into $BUILD_DIR-ref/src (the repository's index, HEAD and work tree are left
# alone; unchanged files keep their mtimes, so rebuilds stay incremental).
SRC=$REPO
SOURCE_TEXT="working tree of $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')"
if [[ -n $REF ]]; then
  REF_SHA=$(git -C "$REPO" rev-parse --verify --quiet "$REF^{commit}") || die "BENCH_REF '$REF' is not a commit"
  REF_ROOT=$BUILD_DIR-ref
  SRC=$REF_ROOT/src
  BUILD_DIR=$REF_ROOT/build
  mkdir -p "$SRC"
  GIT_INDEX_FILE=$REF_ROOT/index git -C "$REPO" --work-tree="$SRC" read-tree --reset -u "$REF_SHA" ||
    die "cannot check out $REF into $SRC"
  SOURCE_TEXT="commit ${REF_SHA:0:7} (BENCH_REF=$REF, clean checkout)"
else
  [[ -n $(git -C "$REPO" status --porcelain 2>/dev/null) ]] && SOURCE_TEXT+=" plus uncommitted changes"
fi
BIN=$BUILD_DIR/djdash
if [[ $SKIP_BUILD != 1 ]]; then
  note "building djdash (Release) from $SRC in $BUILD_DIR"
  if ! { cmake -S "$SRC" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDJDASH_TESTS=OFF &&
         cmake --build "$BUILD_DIR" --target djdash -j2; } >"$TMP/build.log" 2>&1; then
    tail -n 40 "$TMP/build.log" >&2
    die "build failed"
  fi
fi
[[ -x $BIN ]] || die "no binary at $BIN"

# ---------------------------------------------------------------- PostgreSQL (durable)
PG_PORT=$(free_port)
note "starting durable PostgreSQL on 127.0.0.1:$PG_PORT"
PG_STARTED=1
"${PIN[@]}" bash "$REPO/deploy/pg.sh" start --dir "$TMP/pg" --port "$PG_PORT" 2>"$TMP/pg-start.log" ||
  { cat "$TMP/pg-start.log" >&2; die "PostgreSQL did not start"; }
eval "$(bash "$REPO/deploy/pg.sh" env --dir "$TMP/pg")"
export DJDASH_DATABASE_URL DJDASH_MIGRATE_DATABASE_URL
PG_SETTINGS=$("$PGBIN/psql" -X -At -F '|' "$DJDASH_PG_SUPERUSER_URL" -c \
  "select current_setting('server_version'), current_setting('fsync'), current_setting('synchronous_commit'), current_setting('full_page_writes'), current_setting('shared_buffers')")
IFS='|' read -r PG_VERSION PG_FSYNC PG_SYNC PG_FPW PG_SHBUF <<<"$PG_SETTINGS"
[[ $PG_FSYNC == on && $PG_SYNC == on ]] || die "PostgreSQL is not durable (fsync=$PG_FSYNC synchronous_commit=$PG_SYNC)"

note "migrating and seeding"
DJDASH_LOG_LEVEL=warn "$BIN" migrate >"$TMP/migrate.log" 2>&1 || { cat "$TMP/migrate.log" >&2; die "djdash migrate failed"; }
DJDASH_LOG_LEVEL=warn "$BIN" seed-demo >"$TMP/seed.log" 2>&1 || { cat "$TMP/seed.log" >&2; die "djdash seed-demo failed"; }
grep -q "$SLUG" "$TMP/seed.log" || note "seed-demo output does not mention slug $SLUG"
# The request page of $SLUG takes free songs, and one client may send as many as it likes (wrk
# sends the same request from one IP and one guest): the submit path then runs every check but
# refuses nothing.
ORG_ID=$("$PGBIN/psql" -X -At -q -v ON_ERROR_STOP=1 "$DJDASH_MIGRATE_DATABASE_URL" <<EOF
begin;
select set_config('app.platform_admin', 'on', true) \g /dev/null
update organizations set settings = settings || '{"accepting_requests": true,
  "minimum_amounts": {"song": 0, "shoutout": 0, "tip": 100},
  "max_pending_per_requester": 0, "song_repeat_window_minutes": 0}'::jsonb
 where slug = '$SLUG' returning id;
commit;
EOF
) || die "cannot set the request settings of $SLUG"
[[ $ORG_ID =~ ^[0-9a-f-]{36}$ ]] || die "no organization with slug $SLUG (got '$ORG_ID')"
cat >"$TMP/djdash.json" <<EOF
{"auth": {"request_ip_limit": 1000000000, "request_ip_window_s": 1}}
EOF

# ---------------------------------------------------------------- djdash
DJ_PORT=$(free_port)
note "starting djdash on 127.0.0.1:$DJ_PORT"
DJ_ENV=(DJDASH_HTTP_ADDR=127.0.0.1 DJDASH_HTTP_PORT="$DJ_PORT" DJDASH_LOG_LEVEL=warn)
# A node needs a JWT secret (>= 32 characters); a throwaway one unless the caller set one.
DJ_ENV+=(DJDASH_JWT_SECRET="${DJDASH_JWT_SECRET:-$(head -c 32 /dev/urandom | base64 | tr -d '\n')}")
[[ -n $POOL ]] && DJ_ENV+=(DJDASH_DB_POOL_SIZE="$POOL")
env "${DJ_ENV[@]}" "${PIN[@]}" "$BIN" --config "$TMP/djdash.json" >"$TMP/djdash.log" 2>&1 &
DJ_PID=$!
ready=0
for _ in $(seq 1 300); do
  kill -0 "$DJ_PID" 2>/dev/null || { tail -n 30 "$TMP/djdash.log" >&2; die "djdash exited during start-up"; }
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$DJ_PORT/readyz" || true)
  [[ $code == 200 ]] && { ready=1; break; }
  sleep 0.1
done
((ready)) || { tail -n 30 "$TMP/djdash.log" >&2; die "djdash /readyz not 200 within 30 s (last: $code)"; }

ORG_URL=http://127.0.0.1:$DJ_PORT/api/public/orgs/$SLUG
ORG_CHECK=$(curl -s -w ' HTTP %{http_code}' --max-time 5 "$ORG_URL" || echo "curl failed")
note "sanity: GET /api/public/orgs/$SLUG -> $ORG_CHECK"
SUBMIT_URL=http://127.0.0.1:$DJ_PORT/api/crowd-request/submit
SUBMIT_BODY='{"org_slug":"'$SLUG'","kind":"song","song_title":"Bench song","artist":"wrk","amount_cents":0}'
SUBMIT_CHECK=$(curl -s -w ' HTTP %{http_code}' --max-time 5 -H 'Content-Type: application/json' \
  --data "$SUBMIT_BODY" "$SUBMIT_URL" || echo "curl failed")
note "sanity: POST /api/crowd-request/submit -> $SUBMIT_CHECK"
# Every request is another guest asking for another song (a crowd, not one guest hammering the
# per-guest limit and the song repeat window).
cat >"$TMP/submit.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, string.format(
    '{"org_slug":"$SLUG","kind":"song","song_title":"Bench song %d","artist":"wrk","amount_cents":0,"requester_key":"bench-guest-%d"}', n, n))
end
EOF

# ---------------------------------------------------------------- nginx (reference for /healthz)
NGX_PORT=$(free_port)
mkdir -p "$TMP/nginx/logs" "$TMP/nginx/tmp"
NGX_USER=""
if ((EUID == 0)); then
  # A root master must hand its worker to an unprivileged user (and a group that exists).
  NGX_USER="user nobody $(id -gn nobody 2>/dev/null || echo nogroup);"
  chmod 755 "$TMP/nginx" "$TMP/nginx/tmp"
fi
cat >"$TMP/nginx/nginx.conf" <<EOF
$NGX_USER
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/tmp/body;
  proxy_temp_path $TMP/nginx/tmp/proxy;
  fastcgi_temp_path $TMP/nginx/tmp/fastcgi;
  uwsgi_temp_path $TMP/nginx/tmp/uwsgi;
  scgi_temp_path $TMP/nginx/tmp/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$NGX_PORT;
    default_type text/plain;
    location / { return 200 "ok"; }
  }
}
EOF
"${PIN[@]}" "$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/logs/error.log" \
  -g 'daemon off;' >"$TMP/nginx/stdout.log" 2>&1 &
NGX_PID=$!
ready=0
for _ in $(seq 1 100); do
  kill -0 "$NGX_PID" 2>/dev/null || { cat "$TMP/nginx/stdout.log" "$TMP/nginx/logs/error.log" >&2 2>/dev/null; die "nginx exited during start-up"; }
  [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$NGX_PORT/" || true) == 200 ]] && { ready=1; break; }
  sleep 0.1
done
((ready)) || die "nginx did not answer 200 within 10 s"

# ---------------------------------------------------------------- measuring
# Latencies are normalised to milliseconds.
to_ms() {  # "123.45us" | "1.2ms" | "1.5s" | "2m"
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
    else if (v ~ /m$/)  { sub(/m$/, "", v);  printf "%.3f", v * 60000 }
    else if (v ~ /s$/)  { sub(/s$/, "", v);  printf "%.3f", v * 1000 }
    else printf "?" }'
}

RAW=""          # raw tool outputs, appended to the report
COMMANDS=()     # the exact measuring commands
DJ_DIED=""

check_djdash_alive() {  # label
  if [[ -z $DJ_DIED ]] && ! kill -0 "$DJ_PID" 2>/dev/null; then
    local rc=0
    wait "$DJ_PID" || rc=$?
    DJ_DIED="djdash exited (status $rc) during: $1"
    note "$DJ_DIED"
    tail -n 30 "$TMP/djdash.log" >&2
    DJ_PID=""
  fi
}

# run_wrk NAME URL -> sets W_RPS W_P50 W_P99 W_REQS W_NON2XX W_SOCKERR
run_wrk() {  # NAME URL [LUA_SCRIPT]
  local name=$1 url=$2 script=${3:-} out
  local extra=()
  [[ -n $script ]] && extra=(-s "$script")
  local cmd=(wrk -t"$WRK_THREADS" -c"$CONNS" -d"${DURATION}s" --latency "${extra[@]}" "$url")
  if ((WARMUP > 0)); then
    "${PIN[@]}" timeout $((WARMUP + 30)) wrk -t"$WRK_THREADS" -c"$CONNS" -d"${WARMUP}s" "${extra[@]}" "$url" >/dev/null 2>&1 || true
  fi
  note "measuring $name: ${cmd[*]}"
  COMMANDS+=("$(sed "s|$TMP|\$TMP|g" <<<"${PIN[*]}${PIN[*]:+ }${cmd[*]}")")
  out=$("${PIN[@]}" timeout $((DURATION + 30)) "${cmd[@]}" 2>&1) || { echo "$out" >&2; note "wrk failed for $name"; }
  RAW+=$'\n'"### $name"$'\n\n```\n'"$ "${cmd[*]}$'\n'"$out"$'\n```\n'
  echo "$out" | sed 's/^/    /' >&2
  W_RPS=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  W_P50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
  W_P99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
  W_REQS=$(awk '/requests in/ {print $1}' <<<"$out")
  W_NON2XX=$(awk -F: '/Non-2xx or 3xx responses/ {gsub(/ /, "", $2); print $2}' <<<"$out")
  W_SOCKERR=$(sed -n 's/^ *Socket errors: *//p' <<<"$out")
  : "${W_RPS:=0}" "${W_NON2XX:=0}" "${W_REQS:=0}"
}

# ---- 1. /healthz vs nginx
run_wrk "nginx static 200" "http://127.0.0.1:$NGX_PORT/"
NG_RPS=$W_RPS NG_P50=$W_P50 NG_P99=$W_P99 NG_ERR=$W_NON2XX NG_SOCK=$W_SOCKERR
run_wrk "djdash GET /healthz" "http://127.0.0.1:$DJ_PORT/healthz"
check_djdash_alive "GET /healthz"
HZ_RPS=$W_RPS HZ_P50=$W_P50 HZ_P99=$W_P99 HZ_ERR=$W_NON2XX HZ_SOCK=$W_SOCKERR HZ_REQS=$W_REQS

# ---- 2. DB-backed read vs pgbench
cat >"$TMP/public_org.sql" <<EOF
BEGIN;
select set_config('app.org_id', '', true), set_config('app.user_id', '', true), set_config('app.platform_admin', 'off', true);
select id, slug, name, product_context from public_organization_by_slug('$SLUG');
COMMIT;
EOF
PGB_CMD=("$PGBIN/pgbench" -n -M "$PGB_MODE" -c "$CONNS" -j 1 -T "$DURATION" -f "$TMP/public_org.sql"
         -l --log-prefix="$TMP/pgbench_log")
note "measuring pgbench: ${PGB_CMD[*]} \$DJDASH_DATABASE_URL"
COMMANDS+=("$(sed "s|$TMP|\$TMP|g" <<<"${PIN[*]}${PIN[*]:+ }${PGB_CMD[*]}") \"\$DJDASH_DATABASE_URL\"   # app role (djdash_app); script below")
PGB_OUT=$("${PIN[@]}" timeout $((DURATION + 60)) "${PGB_CMD[@]}" "$DJDASH_DATABASE_URL" 2>&1) ||
  { echo "$PGB_OUT" >&2; note "pgbench failed"; }
echo "$PGB_OUT" | sed 's/^/    /' >&2
RAW+=$'\n'"### pgbench (same transaction)"$'\n\n```\n'"$ ${PGB_CMD[*]} \$DJDASH_DATABASE_URL"$'\n'"$PGB_OUT"$'\n```\n'
PG_TPS=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$PGB_OUT" | head -n1)
PG_AVG=$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' <<<"$PGB_OUT" | head -n1)
PG_FAILED=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' <<<"$PGB_OUT" | head -n1)
: "${PG_TPS:=0}" "${PG_FAILED:=0}"
# Percentiles from the per-transaction log (3rd column: transaction time in microseconds).
PG_P50="?" PG_P99="?"
if compgen -G "$TMP/pgbench_log*" >/dev/null; then
  read -r PG_P50 PG_P99 < <(cat "$TMP"/pgbench_log* | awk '{print $3}' | sort -n |
    awk '{a[NR] = $1} END { if (NR == 0) { print "? ?"; exit }
         i50 = int(NR * 0.50); if (i50 < 1) i50 = 1; i99 = int(NR * 0.99); if (i99 < 1) i99 = 1
         printf "%.3f %.3f\n", a[i50] / 1000, a[i99] / 1000 }')
fi

if [[ -z $DJ_DIED ]]; then
  run_wrk "djdash GET /api/public/orgs/$SLUG" "$ORG_URL"
  check_djdash_alive "GET /api/public/orgs/$SLUG"
  OR_RPS=$W_RPS OR_P50=$W_P50 OR_P99=$W_P99 OR_ERR=$W_NON2XX OR_SOCK=$W_SOCKERR OR_REQS=$W_REQS
else
  OR_RPS=0 OR_P50="-" OR_P99="-" OR_ERR="not run" OR_SOCK="-" OR_REQS=0
fi

# ---- 3. free crowd request submits vs pgbench running the same INSERT
# The row djdash writes for a free song request, in the transaction shape its db worker uses:
# the tenant scope first (set_config), then the single-row INSERT, each in its own transaction.
cat >"$TMP/submit_insert.sql" <<EOF
BEGIN;
select set_config('app.org_id', '$ORG_ID', true), set_config('app.user_id', '', true), set_config('app.platform_admin', 'off', true);
insert into crowd_requests (organization_id, kind, song_title, artist, amount_cents, currency, status, payment_status, payment_code, requester_key, requester_ip) values (app_org_id(), 'song', 'Bench song', 'pgbench', 0, 'usd', 'queued', 'none', upper(substr(md5(random()::text), 1, 12)), 'ip:127.0.0.1', '127.0.0.1');
COMMIT;
EOF
PGI_CMD=("$PGBIN/pgbench" -n -M "$PGB_MODE" -c "$CONNS" -j 1 -T "$DURATION" -f "$TMP/submit_insert.sql"
         -l --log-prefix="$TMP/pgbench_insert_log")
note "measuring pgbench INSERT: ${PGI_CMD[*]} \$DJDASH_DATABASE_URL"
COMMANDS+=("$(sed "s|$TMP|\$TMP|g" <<<"${PIN[*]}${PIN[*]:+ }${PGI_CMD[*]}") \"\$DJDASH_DATABASE_URL\"   # app role (djdash_app); script below")
PGI_OUT=$("${PIN[@]}" timeout $((DURATION + 60)) "${PGI_CMD[@]}" "$DJDASH_DATABASE_URL" 2>&1) ||
  { echo "$PGI_OUT" >&2; note "pgbench INSERT failed"; }
echo "$PGI_OUT" | sed 's/^/    /' >&2
RAW+=$'\n'"### pgbench (same INSERT)"$'\n\n```\n'"$ ${PGI_CMD[*]} \$DJDASH_DATABASE_URL"$'\n'"$PGI_OUT"$'\n```\n'
PGI_TPS=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$PGI_OUT" | head -n1)
PGI_FAILED=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' <<<"$PGI_OUT" | head -n1)
: "${PGI_TPS:=0}" "${PGI_FAILED:=0}"
PGI_P50="?" PGI_P99="?"
if compgen -G "$TMP/pgbench_insert_log*" >/dev/null; then
  read -r PGI_P50 PGI_P99 < <(cat "$TMP"/pgbench_insert_log* | awk '{print $3}' | sort -n |
    awk '{a[NR] = $1} END { if (NR == 0) { print "? ?"; exit }
         i50 = int(NR * 0.50); if (i50 < 1) i50 = 1; i99 = int(NR * 0.99); if (i99 < 1) i99 = 1
         printf "%.3f %.3f\n", a[i50] / 1000, a[i99] / 1000 }')
fi
if [[ -z $DJ_DIED ]]; then
  run_wrk "djdash POST /api/crowd-request/submit (free song)" "$SUBMIT_URL" "$TMP/submit.lua"
  check_djdash_alive "POST /api/crowd-request/submit"
  SB_RPS=$W_RPS SB_P50=$W_P50 SB_P99=$W_P99 SB_ERR=$W_NON2XX SB_SOCK=$W_SOCKERR SB_REQS=$W_REQS
else
  SB_RPS=0 SB_P50="-" SB_P99="-" SB_ERR="not run" SB_SOCK="-" SB_REQS=0
fi
ORG_AFTER=$(curl -s -w ' HTTP %{http_code}' --max-time 5 "$ORG_URL" 2>/dev/null || echo "no answer")
DJ_WARNINGS=$(grep -c . "$TMP/djdash.log" || true)

# ---------------------------------------------------------------- report
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else printf "n/a" }'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { if (r == "n/a") print "n/a"; else if (r + 0 >= t) print "yes"; else print "**no**" }'; }
fmt() { awk -v v="$1" 'BEGIN { printf "%.0f", v }'; }
HZ_RATIO=$(ratio "$HZ_RPS" "$NG_RPS")
OR_RATIO=$(ratio "$OR_RPS" "$PG_TPS")
SB_RATIO=$(ratio "$SB_RPS" "$PGI_TPS")
# Non-2xx count and socket errors in one cell.
errs() { local e=$1 s=$2; [[ $s =~ ^connect\ 0,\ read\ 0,\ write\ 0,\ timeout\ 0$ || -z $s ]] && s=""; echo "${e}${s:+ (socket: $s)}"; }

CPU_MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
POOL_SHOWN=${POOL:-"server default"}
if [[ -n $CPUS ]]; then
  PIN_TEXT="every process (djdash, PostgreSQL, nginx, wrk, pgbench) under \`taskset -c $CPUS\`: load generator and servers share these CPUs"
else
  PIN_TEXT="none (BENCH_CPUS empty or not available)"
fi

REPORT=$(cat <<EOF
# djdash benchmark: latest run

- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')
- machine: nproc $(nproc), CPU "$CPU_MODEL", kernel $(uname -r), load average before the run: $LOADAVG
- source: djdash $SOURCE_TEXT, Release build (\`$BIN\`)
- pinning: $PIN_TEXT
- load: ${CONNS} connections/clients, ${DURATION} s per run, ${WARMUP} s unmeasured wrk warm-up before each wrk run; wrk $WRK_THREADS thread(s)
- PostgreSQL $PG_VERSION (private cluster, durable: fsync=$PG_FSYNC, synchronous_commit=$PG_SYNC, full_page_writes=$PG_FPW, shared_buffers=$PG_SHBUF); djdash DJDASH_DB_POOL_SIZE: $POOL_SHOWN; DJDASH_LOG_LEVEL=warn

| path | djdash req/s | p50 ms | p99 ms | djdash non-2xx | reference | ref req/s | ref p50 ms | ref p99 ms | ratio | target | met |
|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---|
| GET /healthz | $(fmt "$HZ_RPS") | $HZ_P50 | $HZ_P99 | $(errs "$HZ_ERR" "$HZ_SOCK") | nginx \`return 200\` (1 worker) | $(fmt "$NG_RPS") | $NG_P50 | $NG_P99 | $HZ_RATIO | ≥ 0.8 | $(verdict "$HZ_RATIO" 0.8) |
| GET /api/public/orgs/$SLUG (DB-backed read) | $(fmt "$OR_RPS") | $OR_P50 | $OR_P99 | $(errs "$OR_ERR" "$OR_SOCK") | pgbench, same transaction (-M $PGB_MODE) | $(fmt "$PG_TPS") | $PG_P50 | $PG_P99 | $OR_RATIO | ≥ 0.7 | $(verdict "$OR_RATIO" 0.7) |
| POST /api/crowd-request/submit (free song: HTTP → organization actor → commit → realtime) | $(fmt "$SB_RPS") | $SB_P50 | $SB_P99 | $(errs "$SB_ERR" "$SB_SOCK") | pgbench, same single-row INSERT after set_config (-M $PGB_MODE) | $(fmt "$PGI_TPS") | $PGI_P50 | $PGI_P99 | $SB_RATIO | ≥ 1.0 | $(verdict "$SB_RATIO" 1.0) |

Ratio = djdash requests/s ÷ reference requests (transactions)/s, both measured in this run. The
DB-backed read is reported against the TARGETS.md line "authenticated list under RLS" (≥ 0.7×);
the public profile read is the only DB-backed route so far. pgbench p50/p99 come from its
per-transaction log (\`-l\`); its average latency was ${PG_AVG:-?} ms, failed transactions: $PG_FAILED.

Checks: GET /api/public/orgs/$SLUG before the run: \`$ORG_CHECK\`; after: \`$ORG_AFTER\`.
Submit sanity before the run: \`$SUBMIT_CHECK\`; pgbench INSERT failed transactions: $PGI_FAILED.
A submit is two database transactions (slug → organization, then the request's checks and INSERT
through the organization actor); the reference is one.
djdash ${DJ_DIED:-stayed up through all runs}; lines in its log at warn level: $DJ_WARNINGS.

## Commands

\`\`\`
$(printf '%s\n' "${COMMANDS[@]}")
\`\`\`

pgbench script (\`\$TMP/public_org.sql\`), as djdash's db worker runs it (default scope: no org, no user, not admin):

\`\`\`sql
$(cat "$TMP/public_org.sql")
\`\`\`

pgbench script (\`\$TMP/submit_insert.sql\`), the row a free song request writes:

\`\`\`sql
$(cat "$TMP/submit_insert.sql")
\`\`\`

wrk script (\`\$TMP/submit.lua\`):

\`\`\`lua
$(cat "$TMP/submit.lua")
\`\`\`

nginx.conf (run as \`nginx -p \$TMP/nginx -c \$TMP/nginx/nginx.conf -e \$TMP/nginx/logs/error.log -g 'daemon off;'\`):

\`\`\`nginx
$(sed "s|$TMP|\$TMP|g" "$TMP/nginx/nginx.conf")
\`\`\`

Reproduce: \`${REF:+BENCH_REF=$REF }BENCH_DURATION=$DURATION BENCH_CONNECTIONS=$CONNS tests/bench/run.sh\`

<details><summary>Raw output</summary>
$(sed "s|$TMP|\$TMP|g" <<<"$RAW")
</details>
EOF
)
if [[ -s $TMP/djdash.log ]]; then
  REPORT+=$'\n\n<details><summary>djdash log (warn and above, last 20 lines)</summary>\n\n```\n'"$(tail -n 20 "$TMP/djdash.log")"$'\n```\n</details>\n'
fi

mkdir -p "$(dirname "$RESULTS")"
printf '%s\n' "$REPORT" >"$RESULTS"
echo
sed -n '1,/^## Commands/p' <<<"$REPORT" | sed '$d'
echo "## Commands"
printf '%s\n' "${COMMANDS[@]}"
echo
note "report written to $RESULTS"
[[ -z $DJ_DIED ]] || exit 1
