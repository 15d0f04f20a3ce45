#!/usr/bin/env bash
# make bench: token-server against a bare tiny_http server (examples/bare.rs,
# the same loop answering every request `data`), with the same load generator
# (examples/load.rs), on this machine, in one run. Runs are interleaved
# (token-server with its log, token-server --quiet, bare; again; again), each
# on a fresh server, and the table gives every pair's ratio and the medians.
# Then memory after 1,000 and 1,000,000 logins, and cold start.
#
# Loopback only; every run is bounded in time and stops by itself.
# BENCH_PAIRS (default 5) and BENCH_SECONDS (default 4) change the runs.
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

# run VARIANT MIX CLIENTS: one run on a fresh server; prints its RESULT line.
run() {
  local variant=$1 mix=$2 clients=$3 result
  case $variant in
    log) start_server run "$server" --port 0 "${users[@]}" ;;
    quiet) start_server run "$server" --port 0 --quiet "${users[@]}" ;;
    bare) start_server run "$bare" ;;
  esac
  local bare_flag=()
  [ "$variant" = bare ] && bare_flag=(--bare)
  result=$("$load" --address "$server_address" --clients "$clients" --seconds "$seconds" \
    --mix "$mix" "${bare_flag[@]}" | grep '^RESULT') || true
  stop_server
  rm -f "$server_dir/run.stderr" # the request log of a run can be large
  echo "$result"
}

echo "token-server benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
echo "load: examples/load.rs, keep-alive clients on the same machine; $pairs pairs of ${seconds} s runs"
echo

summary=()
for scenario in "test 16" "test 64" "login 16"; do
  read -r mix clients <<<"$scenario"
  echo "== /$mix, $clients keep-alive clients (requests/s)"
  printf '%-6s %12s %12s %12s %11s %11s\n' pair "with log" "--quiet" bare "log/bare" "quiet/bare"
  log_ratios=() quiet_ratios=() log_rps=() quiet_rps=() bare_rps=()
  problems=0
  for pair in $(seq "$pairs"); do
    line_log=$(run log "$mix" "$clients")
    line_quiet=$(run quiet "$mix" "$clients")
    line_bare=$(run bare "$mix" "$clients")
    for line in "$line_log" "$line_quiet" "$line_bare"; do
      if [ -z "$line" ] || [ "$(field unexpected "$line")" != 0 ] || [ "$(field dropped "$line")" != 0 ] \
        || [ "$(field unanswered "$line")" != 0 ]; then
        problems=$((problems + 1))
      fi
    done
    rl=$(field rps "$line_log") rq=$(field rps "$line_quiet") rb=$(field rps "$line_bare")
    ratio_log=$(awk -v a="${rl:-0}" -v b="${rb:-0}" 'BEGIN { printf "%.3f", b ? a / b : 0 }')
    ratio_quiet=$(awk -v a="${rq:-0}" -v b="${rb:-0}" 'BEGIN { printf "%.3f", b ? a / b : 0 }')
    printf '%-6s %12s %12s %12s %11s %11s\n' "$pair" "$rl" "$rq" "$rb" "$ratio_log" "$ratio_quiet"
    log_ratios+=("$ratio_log") quiet_ratios+=("$ratio_quiet")
    log_rps+=("$rl") quiet_rps+=("$rq") bare_rps+=("$rb")
  done
  m_log=$(printf '%s\n' "${log_rps[@]}" | median %.0f)
  m_quiet=$(printf '%s\n' "${quiet_rps[@]}" | median %.0f)
  m_bare=$(printf '%s\n' "${bare_rps[@]}" | median %.0f)
  m_ratio_log=$(printf '%s\n' "${log_ratios[@]}" | median %.3f)
  m_ratio_quiet=$(printf '%s\n' "${quiet_ratios[@]}" | median %.3f)
  printf '%-6s %12s %12s %12s %11s %11s\n' median "$m_log" "$m_quiet" "$m_bare" "$m_ratio_log" "$m_ratio_quiet"
  if [ "$problems" -eq 0 ]; then
    echo "every client of every run served; no unexpected answer, no dropped connection"
  else
    echo "PROBLEM: $problems run(s) with an unexpected answer, a dropped connection or an unserved client"
  fi
  echo
  summary+=("/$mix, $clients clients: with log ${m_ratio_log} x bare, --quiet ${m_ratio_quiet} x bare (median ratios)")
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

echo "== cold start: process start to first answered request, 10 starts"
cold_ts_output=$(target/release/examples/coldstart "$server" --quiet)
cold_bare_output=$(target/release/examples/coldstart "$bare")
grep -v '^RESULT' <<<"$cold_ts_output"
grep -v '^RESULT' <<<"$cold_bare_output"
cold_ts=$(grep '^RESULT' <<<"$cold_ts_output")
cold_bare=$(grep '^RESULT' <<<"$cold_bare_output")
echo

echo "== summary"
printf '%s\n' "${summary[@]}"
echo "memory growth over 1,000,000 logins: ${growth} KiB (target: under 1024)"
echo "cold start, median of 10: token-server $(awk -v us="$(field median_us "$cold_ts")" 'BEGIN { printf "%.2f", us / 1000 }') ms, bare $(awk -v us="$(field median_us "$cold_bare")" 'BEGIN { printf "%.2f", us / 1000 }') ms (target: under 10)"
