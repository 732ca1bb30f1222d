#!/usr/bin/env bash
# djdash cluster benchmark (issue 7): the cost of a cross-node hop, and how long a SIGKILLed node's
# keys take to answer again.
#
#   1. local entity hop vs cross-node hop: two nodes (n1, n2). wrk sends
#      GET /debug/cluster/ping?kind=organization&key=K to n1, once for a key n1 owns (HTTP → router
#      → entity on n1) and once for a key n2 owns (HTTP on n1 → router → n2's router over the CAF
#      middleman → entity on n2 → reply back). Same node, same wrk settings, one run after the other.
#   2. SIGKILL → every key answering again: a third node joins; every key is pinged once (so each
#      is active on its owner); n3 is killed with SIGKILL; then the keys not yet answered are pinged
#      through the survivors (n3's keys first; BENCH_PING_CONNECTIONS keep-alive curls, alternately
#      to n1 and n2) pass after pass until every key has answered 200. Reported: milliseconds from
#      the kill to the last of n3's keys answering 200, how many keys n3 held, the failing answers,
#      and when n1's view dropped n3.
#
# Builds djdash (Release, like tests/bench/run.sh), starts a private durable PostgreSQL
# (deploy/pg.sh, no --fast) in a temp dir on a free port, migrates, creates BENCH_ORGS
# organizations with SQL, starts the nodes on free loopback ports (cluster ports OS-chosen,
# DJDASH_LOG_LEVEL=warn). Everything it starts is stopped and deleted on exit.
#
# Knobs (environment), shared with tests/bench/run.sh where they mean the same:
#   BENCH_DURATION=10  BENCH_CONNECTIONS=32  BENCH_WARMUP=2  BENCH_WRK_THREADS=1  BENCH_CPUS=0,1
#   BENCH_SKIP_BUILD=0          1: use the existing <build dir>/djdash as is
#   BENCH_BUILD_DIR=<repo>/build-bench
#   BENCH_ORGS=300              organizations created (keys pinged in part 2)
#   BENCH_RECOVERY_TIMEOUT=60   seconds part 2 waits for every key before giving up
#   BENCH_PING_CONNECTIONS=8    keep-alive connections (curl processes) a pass in part 2 uses
#   BENCH_RESULTS=<repo>/tests/bench/results/cluster.md   where the Markdown report goes
# DJDASH_CLUSTER_LEASE_MS / DJDASH_CLUSTER_HEARTBEAT_MS in the environment reach the nodes.
set -euo pipefail

PROG=bench-cluster
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd -P)

DURATION=${BENCH_DURATION:-10}
CONNS=${BENCH_CONNECTIONS:-32}
WARMUP=${BENCH_WARMUP:-2}
WRK_THREADS=${BENCH_WRK_THREADS:-1}
CPUS=${BENCH_CPUS-0,1}
SKIP_BUILD=${BENCH_SKIP_BUILD:-0}
BUILD_DIR=${BENCH_BUILD_DIR:-$REPO/build-bench}
ORGS=${BENCH_ORGS:-300}
RECOVERY_TIMEOUT=${BENCH_RECOVERY_TIMEOUT:-60}
PING_CONNS=${BENCH_PING_CONNECTIONS:-8}
RESULTS=${BENCH_RESULTS:-$REPO/tests/bench/results/cluster.md}

die()  { echo "$PROG: error: $*" >&2; exit 1; }
note() { echo "$PROG: $*" >&2; }
check_range() {  # NAME VALUE MIN MAX
  if ! [[ $2 =~ ^[0-9]+$ ]] || (($2 < $3 || $2 > $4)); then die "$1 must be $3..$4"; fi
}
check_range BENCH_DURATION "$DURATION" 1 120
check_range BENCH_CONNECTIONS "$CONNS" 1 1000
check_range BENCH_WARMUP "$WARMUP" 0 30
check_range BENCH_WRK_THREADS "$WRK_THREADS" 1 "$CONNS"
check_range BENCH_ORGS "$ORGS" 10 5000
check_range BENCH_RECOVERY_TIMEOUT "$RECOVERY_TIMEOUT" 1 600
check_range BENCH_PING_CONNECTIONS "$PING_CONNS" 1 64

PGBIN=/usr/lib/postgresql/15/bin
if [[ ! -x $PGBIN/psql ]]; then
  PGBIN=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n1)
fi
for tool in wrk curl taskset ss; do
  command -v "$tool" >/dev/null || die "$tool not found (run deploy/install-deps.sh)"
done
[[ -n $PGBIN && -x $PGBIN/psql ]] || die "psql not found (run deploy/install-deps.sh)"
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)

PIN=()
if [[ -n $CPUS ]]; then
  if taskset -c "$CPUS" true 2>/dev/null; then PIN=(taskset -c "$CPUS")
  else note "cannot pin to CPUs '$CPUS' on this machine; running unpinned"; CPUS=""; fi
fi

# ---------------------------------------------------------------- cleanup
TMP=""
declare -A NODE_PID=() NODE_PORT=()
PG_STARTED=0
stop_node() {  # K: SIGTERM, wait up to 30 s, then SIGKILL
  local pid=${NODE_PID[$1]:-}
  [[ -n $pid ]] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { note "n$1 did not stop in 30 s; SIGKILL"; kill -KILL "$pid" 2>/dev/null; }
  fi
  wait "$pid" 2>/dev/null
  NODE_PID[$1]=""
}
cleanup() {
  local rc=$? k
  trap - EXIT INT TERM
  set +e
  for k in "${!NODE_PID[@]}"; do stop_node "$k"; done
  if ((PG_STARTED)); then
    bash "$REPO/deploy/pg.sh" destroy --dir "$TMP/pg" >/dev/null 2>&1 || note "pg.sh destroy failed (dir $TMP/pg)"
  fi
  [[ -n $TMP && -d $TMP ]] && rm -rf -- "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

TMP=$(mktemp -d "${TMPDIR:-/tmp}/djdash-bench-cluster.XXXXXX")
chmod 755 "$TMP"   # as root, PostgreSQL runs as `postgres` and must traverse to $TMP/pg

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
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ---------------------------------------------------------------- build
BIN=$BUILD_DIR/djdash
SOURCE_TEXT="working tree of $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')"
[[ -n $(git -C "$REPO" status --porcelain 2>/dev/null) ]] && SOURCE_TEXT+=" plus uncommitted changes"
if [[ $SKIP_BUILD != 1 ]]; then
  note "building djdash (Release) in $BUILD_DIR"
  if ! { cmake -S "$REPO" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDJDASH_TESTS=OFF &&
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
PG_VERSION=$("$PGBIN/psql" -X -At "$DJDASH_PG_SUPERUSER_URL" -c "select current_setting('server_version')")

note "migrating; creating $ORGS organizations"
DJDASH_LOG_LEVEL=warn "$BIN" migrate >"$TMP/migrate.log" 2>&1 || { cat "$TMP/migrate.log" >&2; die "djdash migrate failed"; }
# As the owner role; organizations have row-level security forced, so the transaction runs with
# the platform-admin scope, as djdash's own admin paths do.
"$PGBIN/psql" -X -At -q -v ON_ERROR_STOP=1 "$DJDASH_MIGRATE_DATABASE_URL" >"$TMP/keys" <<EOF
begin;
select set_config('app.platform_admin', 'on', true) \g /dev/null
insert into organizations (product_context, name, slug)
  select 'tipjar', 'Cluster bench ' || g, 'cluster-bench-' || g from generate_series(1, $ORGS) g
  returning id;
commit;
EOF
mapfile -t KEYS <"$TMP/keys"
((${#KEYS[@]} == ORGS)) || die "expected $ORGS organization ids, got ${#KEYS[@]}"
[[ ${KEYS[0]} =~ ^[0-9a-f-]{36}$ ]] || die "unexpected organization id '${KEYS[0]}'"

# ---------------------------------------------------------------- nodes
JWT_SECRET=${DJDASH_JWT_SECRET:-$(head -c 32 /dev/urandom | base64 | tr -d '\n')}
start_node() {  # K
  local k=$1 port
  port=$(free_port)
  NODE_PORT[$k]=$port
  env DJDASH_NODE_ID="n$k" DJDASH_HTTP_ADDR=127.0.0.1 DJDASH_HTTP_PORT="$port" DJDASH_LOG_LEVEL=warn \
      DJDASH_CLUSTER_BIND=127.0.0.1 DJDASH_CLUSTER_PORT=0 DJDASH_JWT_SECRET="$JWT_SECRET" \
      "${PIN[@]}" "$BIN" >"$TMP/n$k.log" 2>&1 &
  NODE_PID[$k]=$!
  note "started n$k (pid ${NODE_PID[$k]}) on 127.0.0.1:$port"
}
url() { echo "http://127.0.0.1:${NODE_PORT[$1]}$2"; }
view_of() {  # K -> "n1,n2" (sorted)
  curl -s --max-time 2 "$(url "$1" /debug/cluster)" 2>/dev/null |
    sed -n 's/.*"view":\[\([^]]*\)\].*/\1/p' | tr -d '" ' | tr ',' '\n' | sort | paste -sd, - || true
}
wait_ready() {  # K
  local code="" i
  for ((i = 0; i < 600; i++)); do
    kill -0 "${NODE_PID[$1]}" 2>/dev/null || { tail -n 30 "$TMP/n$1.log" >&2; die "n$1 exited during start-up"; }
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$(url "$1" /readyz)" || true)
    [[ $code == 200 ]] && return 0
    sleep 0.1
  done
  tail -n 30 "$TMP/n$1.log" >&2
  die "n$1: /readyz not 200 within 60 s (last: $code)"
}
wait_view() {  # WANT K...   every listed node's view == WANT
  local want=$1 k i ok
  shift
  for ((i = 0; i < 600; i++)); do
    ok=1
    for k in "$@"; do [[ $(view_of "$k") == "$want" ]] || { ok=0; break; }; done
    ((ok)) && return 0
    sleep 0.1
  done
  for k in "$@"; do note "n$k view: [$(view_of "$k")]"; done
  die "views did not converge on [$want] within 60 s"
}
json_field() {  # NAME JSON -> string value
  sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" <<<"$2"
}

start_node 1
start_node 2
wait_ready 1
wait_ready 2
wait_view n1,n2 1 2
note "n1 and n2 joined: view [n1,n2]"

# ---- keys: one owned by n1, one by n2 (asked of n1, checked against n2's answer)
LOCAL_KEY="" REMOTE_KEY=""
for key in "${KEYS[@]}"; do
  body=$(curl -s --max-time 2 "$(url 1 "/debug/cluster/owner?kind=organization&key=$key")")
  owner=$(json_field owner "$body")
  [[ -n $owner ]] || die "GET /debug/cluster/owner answered '$body'"
  if [[ $owner == n1 && -z $LOCAL_KEY ]]; then LOCAL_KEY=$key
  elif [[ $owner == n2 && -z $REMOTE_KEY ]]; then REMOTE_KEY=$key; fi
  [[ -n $LOCAL_KEY && -n $REMOTE_KEY ]] && break
done
[[ -n $LOCAL_KEY && -n $REMOTE_KEY ]] || die "no key owned by n1 and one owned by n2 among $ORGS"
other=$(json_field owner "$(curl -s --max-time 2 "$(url 2 "/debug/cluster/owner?kind=organization&key=$REMOTE_KEY")")")
[[ $other == n2 ]] || die "n1 and n2 disagree on the owner of $REMOTE_KEY (n2 says '$other')"
LOCAL_URL=$(url 1 "/debug/cluster/ping?kind=organization&key=$LOCAL_KEY")
REMOTE_URL=$(url 1 "/debug/cluster/ping?kind=organization&key=$REMOTE_KEY")
LOCAL_CHECK=$(curl -s -w ' HTTP %{http_code}' --max-time 5 "$LOCAL_URL" || echo "curl failed")
REMOTE_CHECK=$(curl -s -w ' HTTP %{http_code}' --max-time 5 "$REMOTE_URL" || echo "curl failed")
note "sanity: local key  -> $LOCAL_CHECK"
note "sanity: remote key -> $REMOTE_CHECK"
[[ $LOCAL_CHECK == *'"node_id":"n1"'*' HTTP 200' ]] || die "the local key's ping did not answer 200 from n1"
[[ $REMOTE_CHECK == *'"node_id":"n2"'*' HTTP 200' ]] || die "the remote key's ping did not answer 200 from n2"

# ---------------------------------------------------------------- part 1: wrk
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
    else if (v ~ /m$/)  { sub(/m$/, "", v);  printf "%.3f", v * 60000 }
    else if (v ~ /s$/)  { sub(/s$/, "", v);  printf "%.3f", v * 1000 }
    else printf "?" }'
}
RAW="" COMMANDS=()
run_wrk() {  # NAME URL -> W_RPS W_P50 W_P99 W_NON2XX W_SOCKERR
  local name=$1 u=$2 out
  local cmd=(wrk -t"$WRK_THREADS" -c"$CONNS" -d"${DURATION}s" --latency "$u")
  if ((WARMUP > 0)); then
    "${PIN[@]}" timeout $((WARMUP + 30)) wrk -t"$WRK_THREADS" -c"$CONNS" -d"${WARMUP}s" "$u" >/dev/null 2>&1 || true
  fi
  note "measuring $name: ${cmd[*]}"
  COMMANDS+=("${PIN[*]}${PIN[*]:+ }${cmd[*]}")
  out=$("${PIN[@]}" timeout $((DURATION + 30)) "${cmd[@]}" 2>&1) || { echo "$out" >&2; note "wrk failed for $name"; }
  RAW+=$'\n'"### $name"$'\n\n```\n'"$ ${cmd[*]}"$'\n'"$out"$'\n```\n'
  printf '    %s\n' "${out//$'\n'/$'\n'    }" >&2
  W_RPS=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  W_P50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
  W_P99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
  W_NON2XX=$(awk -F: '/Non-2xx or 3xx responses/ {gsub(/ /, "", $2); print $2}' <<<"$out")
  W_SOCKERR=$(sed -n 's/^ *Socket errors: *//p' <<<"$out")
  : "${W_RPS:=0}" "${W_NON2XX:=0}"
}
run_wrk "local entity hop (n1 → entity on n1)" "$LOCAL_URL"
LO_RPS=$W_RPS LO_P50=$W_P50 LO_P99=$W_P99 LO_ERR=$W_NON2XX LO_SOCK=$W_SOCKERR
run_wrk "cross-node hop (n1 → entity on n2)" "$REMOTE_URL"
RE_RPS=$W_RPS RE_P50=$W_P50 RE_P99=$W_P99 RE_ERR=$W_NON2XX RE_SOCK=$W_SOCKERR
for k in 1 2; do kill -0 "${NODE_PID[$k]}" 2>/dev/null || { tail -n 30 "$TMP/n$k.log" >&2; die "n$k exited during part 1"; }; done

# ---------------------------------------------------------------- part 2: SIGKILL recovery
start_node 3
wait_ready 3
wait_view n1,n2,n3 1 2 3
note "n3 joined: view [n1,n2,n3]"

# One pass: ping each key in the file $1, in order, through the survivors over PING_CONNS keep-alive
# connections (one curl each, alternately to n1 and n2; keys dealt round-robin). Prints
# "<code> <key> <seconds> <ms>" lines: the answer's status, its duration, and when it arrived
# (epoch ms: the pass's start plus the durations so far on that connection, whose transfers run
# back to back).
ping_pass() {  # KEYFILE
  local i=0 c key start pids=()
  for ((c = 0; c < PING_CONNS; c++)); do : >"$TMP/pass$c.cfg"; : >"$TMP/pass$c.out"; done
  while read -r key; do
    c=$((i % PING_CONNS))
    # No subshell per key: writing the configs is on the clock.
    printf 'url = "http://127.0.0.1:%s/debug/cluster/ping?kind=organization&key=%s"\noutput = /dev/null\n' \
      "${NODE_PORT[$((c % 2 + 1))]}" "$key" >>"$TMP/pass$c.cfg"
    i=$((i + 1))
  done <"$1"
  start=$(now_ms)
  for ((c = 0; c < PING_CONNS; c++)); do
    [[ -s $TMP/pass$c.cfg ]] || continue
    # Each curl writes its own file (several writers on one pipe could interleave lines).
    curl -s --max-time 5 -K "$TMP/pass$c.cfg" -w '%{http_code} %{time_total} %{url_effective}\n' \
      >"$TMP/pass$c.out" 2>/dev/null &
    pids+=($!)
  done
  if ((${#pids[@]})); then wait "${pids[@]}" || true; fi
  for ((c = 0; c < PING_CONNS; c++)); do
    sed -n 's/^\([0-9]*\) \([0-9.]*\) .*[?&]key=\([0-9a-f-]*\).*/\1 \3 \2/p' "$TMP/pass$c.out" |
      awk -v s="$start" '{ t += $3; printf "%s %s %s %.0f\n", $1, $2, $3, s + t * 1000 }'
  done
}

printf '%s\n' "${KEYS[@]}" >"$TMP/all_keys"
# Every key once right after the join (that pass's answers are reported: a join should fail
# nothing), then again until all answer 200, so every key is active on its owner before the kill.
histogram() { awk '{n[$1]++} END {for (c in n) printf "%s%d × %s", (i++ ? ", " : ""), n[c], c}'; }
warm=$(ping_pass "$TMP/all_keys")
JOIN_PASS=$(histogram <<<"$warm")
note "first pass over all keys after n3 joined: $JOIN_PASS"
for _ in $(seq 1 20); do
  warm_ok=$(grep -c '^200 ' <<<"$warm" || true)
  ((warm_ok == ORGS)) && break
  sleep 0.5
  warm=$(ping_pass "$TMP/all_keys")
done
((warm_ok == ORGS)) || die "before the kill only $warm_ok of $ORGS keys answered 200 ($(histogram <<<"$warm"))"
curl -s --max-time 5 "$(url 3 "/debug/cluster/entities?kind=organization")" |
  grep -o '[0-9a-f]\{8\}-[0-9a-f-]\{27\}' | sort -u >"$TMP/n3_keys" || true
N3_KEYS=$(grep -c . "$TMP/n3_keys" || true)
((N3_KEYS > 0)) || die "n3 holds no keys (GET /debug/cluster/entities on n3)"
note "all $ORGS keys active; n3 holds $N3_KEYS of them; SIGKILL n3"

# n3's keys go first in every pass, so their answers are not delayed behind keys that never moved.
{ cat "$TMP/n3_keys"; sort "$TMP/all_keys" | comm -23 - "$TMP/n3_keys"; } >"$TMP/pending"
declare -A FAIL_CODES=() FIRST_OK=()
PASSES=0 FIRST_FAILED="" FIRST_SLOWEST_MS="" VIEW_DROP_MS="" RECOVERED_MS=""
# Disowned first, so the shell does not print a "Killed" job notice in the middle of the output.
disown "${NODE_PID[3]}" 2>/dev/null || true
T0=$(now_ms)
kill -KILL "${NODE_PID[3]}"
while :; do
  out=$(ping_pass "$TMP/pending")
  PASSES=$((PASSES + 1))
  t=$(now_ms)
  : >"$TMP/pending.next"
  while read -r code key _ at; do
    [[ -n $key ]] || continue
    if [[ $code == 200 ]]; then
      [[ -n ${FIRST_OK[$key]:-} ]] || FIRST_OK[$key]=$((at - T0))
    else
      FAIL_CODES[$code]=$(( ${FAIL_CODES[$code]:-0} + 1 ))
      echo "$key" >>"$TMP/pending.next"
    fi
  done <<<"$out"
  # Keys curl did not report at all (it gave up) stay pending too, in their order.
  grep -vxF -f <(awk '{print $2}' <<<"$out") "$TMP/pending" >>"$TMP/pending.next" || true
  if [[ -z $FIRST_FAILED ]]; then
    FIRST_FAILED=$(sort -u "$TMP/pending.next" | grep -c . || true)
    FIRST_SLOWEST_MS=$(awk '$3 > m {m = $3} END {printf "%.0f", m * 1000}' <<<"$out")
  fi
  awk '!seen[$0]++' "$TMP/pending.next" >"$TMP/pending"
  if [[ -z $VIEW_DROP_MS && $(view_of 1) == n1,n2 ]]; then VIEW_DROP_MS=$(( $(now_ms) - T0 )); fi
  if [[ ! -s $TMP/pending ]]; then RECOVERED_MS=$((t - T0)); break; fi
  if ((t - T0 > RECOVERY_TIMEOUT * 1000)); then
    note "$(wc -l <"$TMP/pending") keys still failing after ${RECOVERY_TIMEOUT} s"
    break
  fi
done
NODE_PID[3]=""
# Kill → the last of n3's keys answering 200, and → every key having answered 200 once.
N3_MS=0 ALL_MS=0
while read -r key; do
  if ((${FIRST_OK[$key]:-999999999} > N3_MS)); then N3_MS=${FIRST_OK[$key]:-999999999}; fi
done <"$TMP/n3_keys"
for key in "${!FIRST_OK[@]}"; do if ((FIRST_OK[$key] > ALL_MS)); then ALL_MS=${FIRST_OK[$key]}; fi; done
[[ -n $RECOVERED_MS ]] || { N3_MS="" ALL_MS=""; }
if [[ -z $VIEW_DROP_MS ]]; then
  for _ in $(seq 1 600); do
    [[ $(view_of 1) == n1,n2 ]] && { VIEW_DROP_MS=$(( $(now_ms) - T0 )); break; }
    sleep 0.01
  done
fi
FAILS_TEXT=""
for code in "${!FAIL_CODES[@]}"; do FAILS_TEXT+="${FAILS_TEXT:+, }${FAIL_CODES[$code]} × $code"; done
final=$(ping_pass "$TMP/all_keys")
FINAL_OK=$(grep -c '^200 ' <<<"$final" || true)
note "n3's keys answering again ${N3_MS:-never} ms after the kill (every key: ${ALL_MS:-never} ms; $PASSES pass(es)); failing answers: ${FAILS_TEXT:-none}; final pass $FINAL_OK/$ORGS"

# ---------------------------------------------------------------- report
fmt() { awk -v v="$1" 'BEGIN { printf "%.0f", v }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else printf "n/a" }'; }
errs() { local e=$1 s=$2; [[ $s =~ ^connect\ 0,\ read\ 0,\ write\ 0,\ timeout\ 0$ || -z $s ]] && s=""; echo "${e}${s:+ (socket: $s)}"; }
CPU_MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
if [[ -n $CPUS ]]; then PIN_TEXT="every process (djdash nodes, PostgreSQL, wrk) under \`taskset -c $CPUS\`"
else PIN_TEXT="none"; fi
LEASE_TEXT="DJDASH_CLUSTER_LEASE_MS=${DJDASH_CLUSTER_LEASE_MS:-default}, DJDASH_CLUSTER_HEARTBEAT_MS=${DJDASH_CLUSTER_HEARTBEAT_MS:-default}"

REPORT=$(cat <<EOF
# djdash cluster benchmark: latest run

- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')
- machine: nproc $(nproc), CPU "$CPU_MODEL", kernel $(uname -r), load average before the run: $LOADAVG
- source: djdash $SOURCE_TEXT, Release build (\`$BIN\`)
- pinning: $PIN_TEXT
- load: ${CONNS} connections, ${DURATION} s per run, ${WARMUP} s unmeasured warm-up; wrk $WRK_THREADS thread(s)
- PostgreSQL $PG_VERSION (private, durable); $ORGS organizations; nodes on loopback, $LEASE_TEXT
- part 2 pings over $PING_CONNS keep-alive connections (curl), alternately to n1 and n2

## Local entity hop vs cross-node hop (wrk against n1)

| path | req/s | p50 ms | p99 ms | non-2xx |
|---|---:|---:|---:|---:|
| local entity hop: GET /debug/cluster/ping on n1, key owned by n1 | $(fmt "$LO_RPS") | $LO_P50 | $LO_P99 | $(errs "$LO_ERR" "$LO_SOCK") |
| cross-node hop: GET /debug/cluster/ping on n1, key owned by n2 | $(fmt "$RE_RPS") | $RE_P50 | $RE_P99 | $(errs "$RE_ERR" "$RE_SOCK") |

Cross-node / local throughput: $(ratio "$RE_RPS" "$LO_RPS"). Keys: local $LOCAL_KEY, cross-node $REMOTE_KEY.

## SIGKILL → every key answering again (3 nodes, n3 killed)

| measure | value |
|---|---:|
| first pass over all keys right after n3 joined (count × HTTP status) | $JOIN_PASS |
| keys (organizations), all active before the kill | $ORGS |
| keys active on n3 when it was killed | $N3_KEYS |
| **kill → the last of n3's keys answering 200** (through n1/n2) | ${N3_MS:-**not recovered in ${RECOVERY_TIMEOUT} s**} ms |
| kill → every key has answered 200 (n3's keys first, then the other $((ORGS - N3_KEYS)) in the same pass) | ${ALL_MS:-n/a} ms |
| kill → end of the last pass | ${RECOVERED_MS:-n/a} ms |
| kill → n1's view without n3 (looked at between passes) | ${VIEW_DROP_MS:-n/a} ms |
| passes until every key answered 200 | $PASSES |
| keys failing in the first pass | ${FIRST_FAILED:-0} |
| slowest single answer in the first pass | ${FIRST_SLOWEST_MS:-?} ms |
| failing answers seen (count × HTTP status; 000 = no answer within 5 s) | ${FAILS_TEXT:-none} |
| full pass after recovery: keys answering 200 | $FINAL_OK / $ORGS |

The pings run back to back on each of the $PING_CONNS connections and share the CPUs with the
nodes, so "the last of n3's keys answering" includes the pings' own time: it is an upper bound on
how long any key was unavailable. A failing answer (503) is a request the router refused at once
because its owner was gone; its key is asked again in the next pass.

## Commands

\`\`\`
$(printf '%s\n' "${COMMANDS[@]}")
\`\`\`

Reproduce: \`BENCH_DURATION=$DURATION BENCH_CONNECTIONS=$CONNS BENCH_ORGS=$ORGS tests/bench/cluster.sh\`

<details><summary>Raw output</summary>
$RAW
</details>
EOF
)
for k in 1 2; do
  if [[ -s $TMP/n$k.log ]]; then
    REPORT+=$'\n\n<details><summary>n'"$k"$' log (warn and above, last 15 lines)</summary>\n\n```\n'"$(tail -n 15 "$TMP/n$k.log")"$'\n```\n</details>\n'
  fi
done
mkdir -p "$(dirname "$RESULTS")"
printf '%s\n' "$REPORT" >"$RESULTS"
echo
sed -n '1,/^## Commands/p' <<<"$REPORT" | sed '$d'
note "report written to $RESULTS"
[[ -n $RECOVERED_MS && $FINAL_OK == "$ORGS" ]] || exit 1
