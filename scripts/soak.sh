#!/usr/bin/env bash
# The soak: 32 keep-alive clients of mixed requests (login, test by query and
# by header, unknown token, wrong password, unknown path, logout) for 30 s
# against a release server on a free port, every answer checked. Loopback
# only; it stops by itself. Fails on any unexpected answer, dropped connection
# or client left unanswered.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/server.sh

clients=${SOAK_CLIENTS:-32}
seconds=${SOAK_SECONDS:-30}
target=$(bash scripts/target-dir.sh)
load=$target/release/examples/load
# One user per client, so that no client's login replaces another's token.
# --quiet: the log of a few million requests would only fill the disk.
# --max-failures 0: the mix fails logins and token checks on purpose, as
# fast as it can (the budgets of failed attempts have tests of their own).
read -r -a users <<<"$("$load" --print-user-args "$clients")"
start_server token-server "$target/release/token-server" --port 0 --quiet --max-failures 0 "${users[@]}"
echo "soak: $clients clients, mixed requests, ${seconds} s, against $server_address (pid $server_pid)"
"$load" --address "$server_address" --clients "$clients" --seconds "$seconds" --mix mixed --pid "$server_pid"
if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "soak: the server is gone" >&2
  exit 1
fi
echo "soak: passed"
