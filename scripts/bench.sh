#!/usr/bin/env bash
# make bench: token-server against references, with the same load generator
# (examples/load.rs), on this machine, in one run:
#
#   bare, fork   examples/bare.rs, token-server's loop answering every request
#                `data`, on stock tiny_http 0.12.0 and on our fork
#   nginx        Debian's nginx-light, 2 workers, `return 200 "data"`, no
#                access log (scripts/nginx.sh), over HTTP and over HTTPS with
#                the same certificate as token-server
#
# Runs are interleaved (each variant once, then again...), each on a fresh
# server, and each table gives every round's figures, their ratios, and the
# medians. For token-server and bare, also the CPU time of the loop thread
# (the main thread, from /proc/PID/task/PID/schedstat) per request. Then
# allocations per request, password checks (one check, and /test during a
# login flood), memory after 500 and 3,500 logins, what an
# idle connection costs (plain and TLS), and cold start.
#
# Loopback only; every run is bounded in time and stops by itself; every
# server is started here and stopped by its PID.
# BENCH_PAIRS (default 5) and BENCH_SECONDS (default 4) change the runs;
# BENCH_BEFORE=DIR adds an earlier build's DIR/token-server to each round of
# the HTTP scenarios (and of the HTTPS ones when it has --tls-cert);
# BENCH_ONLY=PATTERN runs only the tables whose title matches it (grep -E),
# and nothing after them.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/server.sh
source scripts/nginx.sh

pairs=${BENCH_PAIRS:-5}
seconds=${BENCH_SECONDS:-4}
target=$(bash scripts/target-dir.sh)
server=$target/release/token-server
bare=$target/release/examples/bare
load=$target/release/examples/load
read -r -a users <<<"$("$load" --print-user-args 64)"

# The certificate token-server and nginx both serve, for a test key.
cert="$server_dir/bench-cert.pem"
key=$PWD/testkit/keys/ec-pkcs8.pem
"$target/release/examples/certificate" "$key" "$cert"
tls_args=(--tls-cert "$cert" --tls-key "$key")
before_tls=no
if [ -n "${BENCH_BEFORE:-}" ] && "$BENCH_BEFORE/token-server" --help | grep -q -- --tls-cert; then
  before_tls=yes
fi

# field NAME LINE: the value of NAME=... in a RESULT line.
field() {
  sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"
}

# median FORMAT: the median of the numbers on stdin, printed with FORMAT.
median() {
  sort -n | awk -v format="$1\n" '{ v[NR] = $1 }
    END { if (NR == 0) { printf "-\n"; exit } printf format, (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ratio A B: A / B with three decimals (0 when B is missing).
ratio() {
  awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN { printf "%.3f", b ? a / b : 0 }'
}

# loop_ns PID: the CPU time the process's main thread (the request loop) has
# used, in nanoseconds.
loop_ns() {
  cut -d ' ' -f 1 "/proc/$1/task/$1/schedstat" 2>/dev/null || echo 0
}

# start VARIANT: starts that server (sets server_pid, server_address).
start() {
  case $1 in
    log) start_server run "$server" --port 0 "${users[@]}" ;;
    quiet) start_server run "$server" --port 0 --quiet "${users[@]}" ;;
    bare) start_server run "$bare" ;;
    fork) start_server run "$bare" --fork ;;
    nginx) start_nginx http ;;
    tls-log) start_server run "$server" --port 0 "${tls_args[@]}" "${users[@]}" ;;
    tls-quiet) start_server run "$server" --port 0 --quiet "${tls_args[@]}" "${users[@]}" ;;
    nginx-tls) start_nginx https "$cert" "$key" ;;
    before-log) start_server run "$BENCH_BEFORE/token-server" --port 0 "${users[@]}" ;;
    before-quiet) start_server run "$BENCH_BEFORE/token-server" --port 0 --quiet "${users[@]}" ;;
    before-tls-quiet) start_server run "$BENCH_BEFORE/token-server" --port 0 --quiet "${tls_args[@]}" "${users[@]}" ;;
  esac
}

# run VARIANT MIX CLIENTS [LOAD FLAGS...]: one run on a fresh server; prints
# its RESULT line, with loop_us= (the loop's CPU per request) added.
run() {
  local variant=$1 mix=$2 clients=$3
  shift 3
  start "$variant"
  local flags=("$@")
  case $variant in
    bare | fork | nginx*) flags+=(--bare) ;;
  esac
  case $variant in
    tls-* | nginx-tls | before-tls-*) flags+=(--cacert "$cert") ;;
  esac
  local before result loop_us=-
  before=$(loop_ns "$server_pid")
  result=$("$load" --address "$server_address" --clients "$clients" --seconds "$seconds" \
    --mix "$mix" "${flags[@]}" | grep '^RESULT') || true
  if [[ $variant != nginx* ]]; then
    loop_us=$(awk -v a="$before" -v b="$(loop_ns "$server_pid")" -v n="$(field answers "$result")" \
      'BEGIN { printf "%.2f", n ? (b - a) / n / 1000 : 0 }')
  fi
  stop_server
  rm -f "$server_dir/run.stderr" # the request log of a run can be large
  echo "$result loop_us=$loop_us"
}

echo "token-server benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
echo "load: examples/load.rs, clients on the same machine; $pairs rounds of ${seconds} s runs; $(nginx -v 2>&1)"
[ -n "${BENCH_BEFORE:-}" ] && echo "before: $BENCH_BEFORE/token-server (HTTPS too: $before_tls)"
echo

summary=()

# scenario TITLE MIX CLIENTS "LOAD FLAGS" "VARIANTS" "RATIOS": a table.
# A ratio is A/B of two variants' requests per second.
scenario() {
  local title=$1 mix=$2 clients=$3
  if [ -n "${BENCH_ONLY:-}" ] && ! grep -Eq -- "$BENCH_ONLY" <<<"$title"; then
    return 0
  fi
  local -a flags variants ratios
  read -r -a flags <<<"$4"
  read -r -a variants <<<"$5"
  read -r -a ratios <<<"$6"
  echo "== $title (requests/s)"
  local header line variant pair value round result
  header=$(printf '%-6s' round)
  for variant in "${variants[@]}"; do header+=$(printf ' %12s' "$variant"); done
  for pair in "${ratios[@]}"; do header+=$(printf ' %22s' "$pair"); done
  echo "$header"
  declare -A rps=() rounds=() loops=() this=()
  local problems=() starved=0
  for round in $(seq "$pairs"); do
    line=$(printf '%-6s' "$round")
    this=()
    for variant in "${variants[@]}"; do
      result=$(run "$variant" "$mix" "$clients" "${flags[@]}")
      if [ -z "$(field rps "$result")" ] || [ "$(field unexpected "$result")" != 0 ] || [ "$(field dropped "$result")" != 0 ]; then
        problems+=("$variant")
      elif [ "$(field unanswered "$result")" != 0 ]; then
        # A client that got no answer at all during the run: counted apart,
        # because stock tiny_http does it (its thread pool starves keep-alive
        # clients), and fewer clients served means less contention.
        starved=$((starved + $(field unanswered "$result")))
        [ "$variant" != bare ] && problems+=("$variant")
      fi
      this[$variant]=$(field rps "$result")
      rps[$variant]+="${this[$variant]:-0} "
      [ "$(field loop_us "$result")" != - ] && loops[$variant]+="$(field loop_us "$result") "
      line+=$(printf ' %12s' "${this[$variant]}")
    done
    for pair in "${ratios[@]}"; do
      value=$(ratio "${this[${pair%%/*}]:-0}" "${this[${pair#*/}]:-0}")
      rounds[$pair]+="$value "
      line+=$(printf ' %22s' "$value")
    done
    echo "$line"
  done
  line=$(printf '%-6s' median)
  for variant in "${variants[@]}"; do
    line+=$(printf ' %12s' "$(tr ' ' '\n' <<<"${rps[$variant]}" | grep . | median %.0f)")
  done
  local medians=()
  for pair in "${ratios[@]}"; do
    value=$(tr ' ' '\n' <<<"${rounds[$pair]}" | grep . | median %.3f)
    medians+=("$pair $value")
    line+=$(printf ' %22s' "$value")
  done
  echo "$line"
  line="loop thread's CPU per request, µs, median:"
  for variant in "${variants[@]}"; do
    [ -n "${loops[$variant]:-}" ] && line+=" $variant $(tr ' ' '\n' <<<"${loops[$variant]}" | grep . | median %.2f);"
  done
  echo "$line"
  if [ "${#problems[@]}" -eq 0 ]; then
    echo "every client of every run served (stock tiny_http aside); no unexpected answer, no dropped connection"
  else
    echo "PROBLEM in run(s) of: ${problems[*]} (an unexpected answer, a dropped connection or an unserved client)"
  fi
  [[ " ${variants[*]} " == *" bare "* ]] && echo "stock tiny_http left $starved client(s) without any answer during its $pairs runs"
  echo
  summary+=("$title, median ratios: $(IFS=,; echo "${medians[*]}" | sed 's/,/, /g')")
}

http_variants="log quiet bare fork nginx"
http_ratios="log/bare quiet/bare fork/bare quiet/nginx log/nginx fork/nginx"
if [ -n "${BENCH_BEFORE:-}" ]; then
  http_variants+=" before-log before-quiet"
  http_ratios+=" log/before-log quiet/before-quiet"
fi
tls_variants="tls-log tls-quiet nginx-tls"
tls_ratios="tls-quiet/nginx-tls tls-log/nginx-tls"
if [ "$before_tls" = yes ]; then
  tls_variants+=" before-tls-quiet"
  tls_ratios+=" tls-quiet/before-tls-quiet"
fi

scenario "/test, 16 keep-alive clients" test 16 "" "$http_variants" "$http_ratios"
scenario "/test, 64 keep-alive clients" test 64 "" "$http_variants" "$http_ratios"
scenario "/login, 16 keep-alive clients" login 16 "" "$http_variants" "$http_ratios"
scenario "HTTPS /test, 16 keep-alive clients" test 16 "" "$tls_variants" "$tls_ratios"
scenario "HTTPS, a new connection (and handshake) per /test, 16 clients" test 16 "--new-connections" \
  "tls-quiet nginx-tls quiet nginx" "tls-quiet/nginx-tls quiet/nginx"

if [ -n "${BENCH_ONLY:-}" ]; then
  printf '%s\n' "${summary[@]}"
  exit 0
fi

echo "== allocations per request: the server in a process whose allocator counts (examples/allocations.rs), 100,000 requests from 16 keep-alive clients"
allocations=()
for log_flag in "" --log; do
  allocations_output=$("$target/release/examples/allocations" "$load" --requests 100000 $log_flag)
  grep -v '^RESULT' <<<"$allocations_output"
  while read -r result; do
    allocations+=("/$(field mix "$result")$([ "$(field log "$result")" = true ] && echo ' with the log' || echo ' --quiet') $(field loop "$result") on the loop and $(field all "$result") in all")
  done < <(grep '^RESULT' <<<"$allocations_output")
done
echo

echo "== the budgets' table at its cap: a failing /test from a new address, on the request loop (examples/budgets.rs)"
budgets_output=$("$target/release/examples/budgets")
grep -v '^RESULT' <<<"$budgets_output"
budgets_result=$(grep '^RESULT' <<<"$budgets_output")
echo

rss() { awk '/VmRSS/ { print $2 }' "/proc/$server_pid/status"; }

echo "== password checks: one check's time, and the hashing pool under load (token-server --quiet --max-failures 0)"
hash_cost_output=$("$target/release/examples/hash_cost")
grep -v '^RESULT' <<<"$hash_cost_output"
check_ms=$(field argon2id_ms "$(grep '^RESULT' <<<"$hash_cost_output")")
hash_threads=$(($(nproc) > 1 ? $(nproc) - 1 : 1))
limit=$(awk -v n="$hash_threads" -v ms="$check_ms" 'BEGIN { printf "%.1f", n * 1000 / ms }')
# flood MIX: /test from 16 clients (load0-15) for 5 s while 32 others
# (load16-47) send MIX as fast as they can; prints the /test RESULT, then
# the flood's, then the RSS in the middle of it.
flood() {
  start_server hashing "$server" --port 0 --quiet --max-failures 0 "${users[@]}"
  "$load" --address "$server_address" --clients 32 --first-user 16 --seconds 7 --mix "$1" \
    >"$server_dir/flood.out" &
  local flood_pid=$!
  sleep 1
  local test_result rss_mid
  test_result=$("$load" --address "$server_address" --clients 16 --seconds 5 --mix test | grep '^RESULT') || true
  rss_mid=$(rss)
  wait "$flood_pid" || true
  stop_server
  echo "$test_result"
  grep '^RESULT' "$server_dir/flood.out" || echo "RESULT rps=0"
  echo "$rss_mid"
}
declare -A alone_rps=() alone_p99=() wrong_rps=() wrong_p99=() right_rps=() right_p99=() logins=() rss_flood=() rss_idle=()
for round in $(seq 3); do
  start_server hashing "$server" --port 0 --quiet --max-failures 0 "${users[@]}"
  rss_idle[$round]=$(rss)
  result=$("$load" --address "$server_address" --clients 16 --seconds 5 --mix test | grep '^RESULT') || true
  # Valid logins alone: what the pool can do, against N / one check.
  login_result=$("$load" --address "$server_address" --clients 32 --first-user 16 --seconds 5 --mix login | grep '^RESULT') || true
  logins[$round]=$(field rps "$login_result")
  stop_server
  alone_rps[$round]=$(field rps "$result"); alone_p99[$round]=$(field p99_us "$result")
  mapfile -t lines < <(flood wrong-login)
  wrong_rps[$round]=$(field rps "${lines[0]}"); wrong_p99[$round]=$(field p99_us "${lines[0]}")
  rss_flood[$round]=${lines[2]}
  mapfile -t lines < <(flood login)
  right_rps[$round]=$(field rps "${lines[0]}"); right_p99[$round]=$(field p99_us "${lines[0]}")
  echo "round $round: valid logins alone ${logins[$round]}/s; /test alone ${alone_rps[$round]}/s (p99 ${alone_p99[$round]} us); during wrong passwords ${wrong_rps[$round]}/s (p99 ${wrong_p99[$round]} us, RSS ${rss_idle[$round]} -> ${rss_flood[$round]} KiB); during right ones ${right_rps[$round]}/s (p99 ${right_p99[$round]} us)"
done
median3() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
m_alone=$(median3 "${alone_rps[@]}"); m_wrong=$(median3 "${wrong_rps[@]}"); m_right=$(median3 "${right_rps[@]}")
m_logins=$(median3 "${logins[@]}"); m_rss=$(median3 "${rss_flood[@]}"); m_rss_idle=$(median3 "${rss_idle[@]}")
hashing_summary="valid logins ${m_logins}/s against N / one check = ${limit}/s (N=${hash_threads}): $(ratio "$m_logins" "$limit") (floor 0.8); /test during a flood of wrong passwords $(ratio "$m_wrong" "$m_alone") of alone, of right ones $(ratio "$m_right" "$m_alone") (floor 0.7); p99 $(median3 "${alone_p99[@]}") us alone, $(median3 "${wrong_p99[@]}") us and $(median3 "${right_p99[@]}") us flooded; RSS ${m_rss_idle} KiB at start, ${m_rss} KiB in the flood: $((m_rss - m_rss_idle)) KiB more (N x 19 MiB = $((hash_threads * 19456)) KiB)"
echo "medians: $hashing_summary"
echo

echo "== memory: RSS of token-server --quiet, 16 clients logging in as 16 users (each login a password check)"
start_server memory "$server" --port 0 --quiet "${users[@]}"
rss_start=$(rss)
"$load" --address "$server_address" --clients 16 --requests 500 --seconds 600 --mix login >/dev/null
rss_1k=$(rss)
"$load" --address "$server_address" --clients 16 --requests 3000 --seconds 600 --mix login >/dev/null
rss_1m=$(rss)
stop_server
growth=$((rss_1m - rss_1k))
echo "at start: ${rss_start} KiB; after 500 logins: ${rss_1k} KiB; after 3,500 logins: ${rss_1m} KiB"
echo "growth from 500 to 3,500 logins: ${growth} KiB (the tutorial's list keeps every token: about 120 bytes a login)"
echo

echo "== the budgets of failed attempts: RSS of token-server --quiet, an unknown token from each of 100,000 addresses (100,000 entries, the cap)"
start_server budgets "$server" --port 0 --quiet
curl -s -o /dev/null "http://$server_address/index"
rss_budgets_before=$(rss)
"$target/release/examples/guess" --address "$server_address" --addresses 100000 | grep -v '^RESULT'
rss_budgets_after=$(rss)
stop_server
per_entry=$(awk -v a="$rss_budgets_before" -v b="$rss_budgets_after" 'BEGIN { printf "%.0f", (b - a) * 1024 / 100000 }')
echo "RSS ${rss_budgets_before} -> ${rss_budgets_after} KiB: ${per_entry} bytes an entry"
echo

# idle_cost NAME SCHEME: what 1,000 idle keep-alive connections cost a
# token-server --quiet over SCHEME (http, or https with the bench's
# certificate).
idle_cost() {
  local name=$1 scheme=$2 server_args=() client_args=()
  if [ "$scheme" = https ]; then
    server_args=("${tls_args[@]}")
    client_args=(--cacert "$cert")
  fi
  start_server connections "$server" --port 0 --quiet --idle-timeout 60 "${server_args[@]}"
  # One answer first, so that every thread the server starts with is running.
  curl -s "${client_args[@]}" -o /dev/null "$scheme://$server_address/index" || true
  sleep 0.5
  local rss_before threads_before fds_before rss_open threads_open fds_open flood_pid per_connection
  fds() { ls "/proc/$server_pid/fd" | wc -l; }
  threads() { awk '/^Threads/ { print $2 }' "/proc/$server_pid/status"; }
  rss_before=$(rss) threads_before=$(threads) fds_before=$(fds)
  "$target/release/examples/flood" --address "$server_address" --connections 1000 --keep-open 4 "${client_args[@]}" >/dev/null &
  flood_pid=$!
  sleep 3
  rss_open=$(rss) threads_open=$(threads) fds_open=$(fds)
  wait "$flood_pid" || true
  stop_server
  per_connection=$(awk -v a="$rss_before" -v b="$rss_open" 'BEGIN { printf "%.1f", (b - a) / 1000 }')
  echo "$name: RSS ${rss_before} -> ${rss_open} KiB, threads ${threads_before} -> ${threads_open}, descriptors ${fds_before} -> ${fds_open}: ${per_connection} KiB a connection"
  idle_costs+=("$name ${per_connection} KiB")
}
idle_costs=()
echo "== connections: what 1,000 idle keep-alive connections cost token-server --quiet"
idle_cost "plain HTTP" http
idle_cost "HTTPS" https
echo

echo "== cold start: process start to first answered request, 10 starts"
cold_ts_output=$("$target/release/examples/coldstart" "$server" --quiet)
cold_bare_output=$("$target/release/examples/coldstart" "$bare")
cold_fork_output=$("$target/release/examples/coldstart" "$bare" --fork)
grep -v '^RESULT' <<<"$cold_ts_output"
grep -v '^RESULT' <<<"$cold_bare_output"
grep -v '^RESULT' <<<"$cold_fork_output"
cold_ts=$(grep '^RESULT' <<<"$cold_ts_output")
cold_bare=$(grep '^RESULT' <<<"$cold_bare_output")
cold_fork=$(grep '^RESULT' <<<"$cold_fork_output")
echo

echo "== summary"
printf '%s\n' "${summary[@]}"
echo "allocations a request: $(IFS=,; echo "${allocations[*]}" | sed 's/,/; /g')"
echo "password checks: $hashing_summary"
echo "memory growth over 3,000 logins: ${growth} KiB (target: under 1024)"
echo "the budgets' table, full (100,000 entries): $((rss_budgets_after - rss_budgets_before)) KiB, ${per_entry} bytes an entry"
echo "a failing /test from a new address: $(field budgets_empty_us "$budgets_result") us with the budgets' table empty, $(field budgets_full_us "$budgets_result") us at its cap"
echo "guessing from many addresses, at the tables' bounds: $(field known_bytes "$budgets_result") bytes a known address, $(field names_bytes "$budgets_result") bytes a name"
echo "an idle keep-alive connection: $(IFS=,; echo "${idle_costs[*]}" | sed 's/,/, /g'); a thread and a descriptor each"
echo "cold start, median of 10: token-server $(awk -v us="$(field median_us "$cold_ts")" 'BEGIN { printf "%.2f", us / 1000 }') ms, bare $(awk -v us="$(field median_us "$cold_bare")" 'BEGIN { printf "%.2f", us / 1000 }') ms, bare fork $(awk -v us="$(field median_us "$cold_fork")" 'BEGIN { printf "%.2f", us / 1000 }') ms (target: under 10)"
