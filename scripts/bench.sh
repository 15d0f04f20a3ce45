#!/usr/bin/env bash
# make bench: token-server against a bare server (examples/bare.rs, the same
# loop answering every request `data`), with the same load generator
# (examples/load.rs), on this machine, in one run. The bare server runs on
# stock tiny_http 0.12.0 ("bare", the reference) and on our fork ("fork").
# Runs are interleaved (token-server with its log, token-server --quiet, bare,
# fork; again; again), each on a fresh server, and the table gives every
# round's ratios and the medians. Then memory after 1,000 and 1,000,000 logins,
# and cold start.
#
# Loopback only; every run is bounded in time and stops by itself.
# BENCH_PAIRS (default 5) and BENCH_SECONDS (default 4) change the runs;
# BENCH_BEFORE=DIR adds an earlier build's DIR/token-server to each round.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/server.sh

pairs=${BENCH_PAIRS:-5}
seconds=${BENCH_SECONDS:-4}
server=target/release/token-server
bare=target/release/examples/bare
load=target/release/examples/load
read -r -a users <<<"$("$load" --print-user-args 64)"

# field NAME LINE: the value of NAME=... in a RESULT line.
field() {
  sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"
}

# median FORMAT: the median of the numbers on stdin, printed with FORMAT.
median() {
  sort -n | awk -v format="$1\n" '{ v[NR] = $1 }
    END { printf format, (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# The servers compared, in the order each round runs them. With
# BENCH_BEFORE=DIR (a folder holding an earlier build's token-server), that
# build runs too, with its log and with --quiet, so that one run compares
# before and after.
variants=(log quiet bare fork)
if [ -n "${BENCH_BEFORE:-}" ]; then
  variants+=(before-log before-quiet)
fi

# run VARIANT MIX CLIENTS: one run on a fresh server; prints its RESULT line.
run() {
  local variant=$1 mix=$2 clients=$3 result
  case $variant in
    log) start_server run "$server" --port 0 "${users[@]}" ;;
    quiet) start_server run "$server" --port 0 --quiet "${users[@]}" ;;
    bare) start_server run "$bare" ;;
    fork) start_server run "$bare" --fork ;;
    before-log) start_server run "$BENCH_BEFORE/token-server" --port 0 "${users[@]}" ;;
    before-quiet) start_server run "$BENCH_BEFORE/token-server" --port 0 --quiet "${users[@]}" ;;
  esac
  local bare_flag=()
  [[ $variant == bare || $variant == fork ]] && bare_flag=(--bare)
  result=$("$load" --address "$server_address" --clients "$clients" --seconds "$seconds" \
    --mix "$mix" "${bare_flag[@]}" | grep '^RESULT') || true
  stop_server
  rm -f "$server_dir/run.stderr" # the request log of a run can be large
  echo "$result"
}

# ratio A B: A / B with three decimals (0 when B is missing).
ratio() {
  awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN { printf "%.3f", b ? a / b : 0 }'
}

# The ratios each scenario's table shows: NAME=NUMERATOR/DENOMINATOR.
ratios=(log/bare=log/bare quiet/bare=quiet/bare fork/bare=fork/bare)
if [ -n "${BENCH_BEFORE:-}" ]; then
  ratios+=(log/before=log/before-log quiet/before=quiet/before-quiet)
fi

echo "token-server benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
echo "load: examples/load.rs, keep-alive clients on the same machine; $pairs rounds of ${seconds} s runs"
[ -n "${BENCH_BEFORE:-}" ] && echo "before: $BENCH_BEFORE/token-server"
echo

summary=()
for scenario in "test 16" "test 64" "login 16"; do
  read -r mix clients <<<"$scenario"
  echo "== /$mix, $clients keep-alive clients (requests/s; bare: stock tiny_http 0.12.0)"
  header=$(printf '%-6s' round)
  for variant in "${variants[@]}"; do header+=$(printf ' %12s' "$variant"); done
  for pair in "${ratios[@]}"; do header+=$(printf ' %12s' "${pair%%=*}"); done
  echo "$header"
  declare -A rps=() ratio_rounds=()
  problems=() starved=0
  for round in $(seq "$pairs"); do
    line=$(printf '%-6s' "$round")
    declare -A this=()
    for variant in "${variants[@]}"; do
      result=$(run "$variant" "$mix" "$clients")
      if [ -z "$result" ] || [ "$(field unexpected "$result")" != 0 ] || [ "$(field dropped "$result")" != 0 ]; then
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
      line+=$(printf ' %12s' "${this[$variant]}")
    done
    for pair in "${ratios[@]}"; do
      name=${pair%%=*} fraction=${pair#*=}
      value=$(ratio "${this[${fraction%%/*}]}" "${this[${fraction#*/}]}")
      ratio_rounds[$name]+="$value "
      line+=$(printf ' %12s' "$value")
    done
    echo "$line"
  done
  line=$(printf '%-6s' median)
  for variant in "${variants[@]}"; do
    line+=$(printf ' %12s' "$(tr ' ' '\n' <<<"${rps[$variant]}" | grep . | median %.0f)")
  done
  medians=()
  for pair in "${ratios[@]}"; do
    name=${pair%%=*}
    value=$(tr ' ' '\n' <<<"${ratio_rounds[$name]}" | grep . | median %.3f)
    medians+=("$name $value")
    line+=$(printf ' %12s' "$value")
  done
  echo "$line"
  if [ "${#problems[@]}" -eq 0 ]; then
    echo "every client of every run served (stock tiny_http aside); no unexpected answer, no dropped connection"
  else
    echo "PROBLEM in run(s) of: ${problems[*]} (an unexpected answer, a dropped connection or an unserved client)"
  fi
  echo "stock tiny_http left $starved client(s) without any answer during its $pairs runs"
  echo
  summary+=("/$mix, $clients clients, median ratios: $(IFS=,; echo "${medians[*]}" | sed 's/,/, /g')")
  unset rps ratio_rounds
done

echo "== memory: RSS of token-server --quiet, 16 clients logging in as 16 users"
start_server memory "$server" --port 0 --quiet "${users[@]}"
rss() { awk '/VmRSS/ { print $2 }' "/proc/$server_pid/status"; }
rss_start=$(rss)
"$load" --address "$server_address" --clients 16 --requests 1000 --seconds 600 --mix login >/dev/null
rss_1k=$(rss)
"$load" --address "$server_address" --clients 16 --requests 999000 --seconds 600 --mix login >/dev/null
rss_1m=$(rss)
stop_server
growth=$((rss_1m - rss_1k))
echo "at start: ${rss_start} KiB; after 1,000 logins: ${rss_1k} KiB; after 1,000,000 logins: ${rss_1m} KiB"
echo "growth from 1,000 to 1,000,000 logins: ${growth} KiB (the tutorial's list of every token: about 120,000 KiB, 117 MiB)"
echo

echo "== connections: what 1,000 idle keep-alive connections cost token-server --quiet"
start_server connections "$server" --port 0 --quiet --idle-timeout 60
# One answer first, so that every thread the server starts with is running.
curl -s "http://$server_address/index" >/dev/null
sleep 0.5
fds() { ls "/proc/$server_pid/fd" | wc -l; }
threads() { awk '/^Threads/ { print $2 }' "/proc/$server_pid/status"; }
rss_before=$(rss) threads_before=$(threads) fds_before=$(fds)
target/release/examples/flood --address "$server_address" --connections 1000 --keep-open 4 >/dev/null &
flood_pid=$!
sleep 3
rss_open=$(rss) threads_open=$(threads) fds_open=$(fds)
wait "$flood_pid" || true
stop_server
echo "RSS ${rss_before} -> ${rss_open} KiB, threads ${threads_before} -> ${threads_open}, descriptors ${fds_before} -> ${fds_open}"
per_connection=$(awk -v a="$rss_before" -v b="$rss_open" 'BEGIN { printf "%.1f", (b - a) / 1000 }')
echo "per connection: ${per_connection} KiB, $(( (threads_open - threads_before) / 1000 )) thread, $(( (fds_open - fds_before) / 1000 )) descriptor (rounded down)"
echo

echo "== cold start: process start to first answered request, 10 starts"
cold_ts_output=$(target/release/examples/coldstart "$server" --quiet)
cold_bare_output=$(target/release/examples/coldstart "$bare")
cold_fork_output=$(target/release/examples/coldstart "$bare" --fork)
grep -v '^RESULT' <<<"$cold_ts_output"
grep -v '^RESULT' <<<"$cold_bare_output"
grep -v '^RESULT' <<<"$cold_fork_output"
cold_ts=$(grep '^RESULT' <<<"$cold_ts_output")
cold_bare=$(grep '^RESULT' <<<"$cold_bare_output")
cold_fork=$(grep '^RESULT' <<<"$cold_fork_output")
echo

echo "== summary"
printf '%s\n' "${summary[@]}"
echo "memory growth over 1,000,000 logins: ${growth} KiB (target: under 1024)"
echo "an idle keep-alive connection: ${per_connection} KiB, a thread and a descriptor"
echo "cold start, median of 10: token-server $(awk -v us="$(field median_us "$cold_ts")" 'BEGIN { printf "%.2f", us / 1000 }') ms, bare $(awk -v us="$(field median_us "$cold_bare")" 'BEGIN { printf "%.2f", us / 1000 }') ms, bare fork $(awk -v us="$(field median_us "$cold_fork")" 'BEGIN { printf "%.2f", us / 1000 }') ms (target: under 10)"
