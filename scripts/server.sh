# Sourced by the scripts here: starts a server on a free port and stops it.
#
#   start_server NAME COMMAND...   starts COMMAND (which prints
#                                  `listening on http://HOST:PORT` first, or
#                                  https) and sets server_pid, server_address
#                                  (HOST:PORT) and server_scheme (http, https)
#   stop_server                    stops it, by its PID
#
# Only the one process started here is ever stopped.

server_pid=""
server_address=""
server_scheme=""
server_dir=$(mktemp -d)

start_server() {
  local name=$1
  shift
  "$@" >"$server_dir/$name.stdout" 2>"$server_dir/$name.stderr" </dev/null &
  server_pid=$!
  server_address=""
  local _
  for _ in $(seq 100); do
    server_address=$(sed -n 's|^listening on https\{0,1\}://||p' "$server_dir/$name.stdout" | head -n 1)
    if [ -n "$server_address" ]; then
      server_scheme=$(sed -n 's|^listening on \(https\{0,1\}\)://.*|\1|p' "$server_dir/$name.stdout" | head -n 1)
      return 0
    fi
    sleep 0.1
  done
  echo "$name did not start:" >&2
  cat "$server_dir/$name.stderr" >&2
  stop_server
  return 1
}

stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}

server_log() {
  cat "$server_dir/$1.stderr"
}

trap 'stop_server; rm -rf "$server_dir"' EXIT
