#!/usr/bin/env bash
# The tutorial's client steps, with curl and then with the Rust client
# (examples/client.rs), against a token-server started here on a free port and
# stopped at the end: once over plain HTTP, once over HTTPS with a self-signed
# certificate that curl and the client trust (--cacert), not ignore. Prints
# each step; exits 1 if any answer is not what it must be.
set -euo pipefail

server_binary=${1:-$(bash "$(dirname "$0")/target-dir.sh")/release/token-server}
client="$(dirname "$server_binary")/examples/client"
source "$(dirname "$0")/server.sh"

wrong=0
steps=0
body=""

# The arguments as one would type them: quoted where the shell needs it.
shell_words() {
  local word words=()
  for word in "$@"; do
    if [[ $word =~ ^[A-Za-z0-9_./:@=-]+$ ]]; then
      words+=("$word")
    else
      words+=("\"$word\"")
    fi
  done
  echo "${words[*]}"
}

# check TITLE: whether the last step was as expected.
verdict() {
  steps=$((steps + 1))
  if [ "$1" = yes ]; then
    echo "   as expected"
  else
    echo "   WRONG: expected $2"
    wrong=$((wrong + 1))
  fi
}

# step TITLE EXPECTED_STATUS EXPECTED_BODY CURL_ARGS...
# EXPECTED_BODY "<token>" accepts any token that decodes to magigo:RANDOM:EXPIRY.
step() {
  local title=$1 expected_status=$2 expected_body=$3
  shift 3
  echo
  echo "== $title"
  echo "\$ curl -s $(shell_words "${curl_options[@]}" "$@")"
  local status
  status=$(curl -s "${curl_options[@]}" -o "$server_dir/body" -w '%{http_code}' "$@")
  body=$(cat "$server_dir/body")
  echo "$status $body"
  local body_ok=no
  if [ "$expected_body" = "<token>" ]; then
    # A token decodes to magigo:RANDOM:EXPIRY.
    if printf '%s' "$body" | base64 -d 2>/dev/null | grep -Eq '^magigo:0\.[0-9]+:[0-9]+\.[0-9]{2}$'; then
      body_ok=yes
    fi
  elif [ "$body" = "$expected_body" ]; then
    body_ok=yes
  fi
  [ "$status" = "$expected_status" ] && [ "$body_ok" = yes ] && verdict yes || verdict no "$expected_status $expected_body"
}

# walk: the tutorial's steps against the server at $base.
walk() {
  step "1. Log in with HTTP Basic credentials: the answer is a token" \
    200 "<token>" -u magigo:123456 "$base/login"
  token=$body
  echo "   the token decodes to: $(printf '%s' "$token" | base64 -d)"

  step "2. Show the token to /test" \
    200 data "$base/test?token=$token"

  step "3. The same token as a Bearer header" \
    200 data -H "Authorization: Bearer $token" "$base/test"

  step "4. Log in again: a new token" \
    200 "<token>" -u magigo:123456 "$base/login"
  newer=$body

  step "5. The first token was replaced: only the newest is valid" \
    401 error "$base/test?token=$token"

  step "6. The new one works" \
    200 data "$base/test?token=$newer"

  step "7. No credentials (the tutorial crashed here with a KeyError)" \
    401 error "$base/login"

  step "8. A wrong password" \
    401 error -u magigo:wrong "$base/login"

  step "9. No token at all" \
    401 error "$base/test"

  step "10. Log out" \
    200 ok "$base/logout?token=$newer"

  step "11. The token stopped working" \
    401 error "$base/test?token=$newer"

  step "12. /index" \
    200 Hello "$base/index"

  # The tutorial's client.py, in Rust: the same two steps with ureq.
  echo
  echo "== 13. The tutorial's client, in Rust (examples/client.rs): log in, then /test"
  echo "\$ $client $base ${client_options[*]}"
  client_output=$("$client" "$base" "${client_options[@]}") || true
  echo "$client_output"
  client_token=$(sed -n 1p <<<"$client_output")
  if printf '%s' "$client_token" | base64 -d 2>/dev/null | grep -Eq '^magigo:0\.[0-9]+:[0-9]+\.[0-9]{2}$' \
    && [ "$(sed -n 2p <<<"$client_output")" = data ]; then
    verdict yes
  else
    verdict no "a token, then data"
  fi

  # The tutorial's client.py itself, with Python's requests.
  echo
  echo "== 14. The tutorial's client, in Python (examples/client.py, requests): log in, then /test"
  echo "\$ python3 examples/client.py $base ${python_options[*]}"
  if "$python" examples/client.py "$base" "${python_options[@]}"; then
    verdict yes
  else
    verdict no "token: ..., then test: data"
  fi
}

# Debian's Python, which python3-requests is installed for (a python3 earlier
# on the PATH, pyenv's say, may not have it).
python=python3
[ -x /usr/bin/python3 ] && python=/usr/bin/python3

echo "######## over HTTP"
start_server http "$server_binary" --port 0
base="$server_scheme://$server_address"
echo "server: $base (pid $server_pid)"
curl_options=()
client_options=()
python_options=()
walk
# Stopped first (SIGTERM, gracefully): its log is then complete.
stop_server
echo
echo "== the server's log"
server_log http

echo
echo "######## over HTTPS, with a self-signed certificate that curl trusts (--cacert)"
certificate="$server_dir/cert.pem"
start_server https "$server_binary" --port 0 --tls-self-signed "$certificate"
base="$server_scheme://$server_address"
echo "server: $base (pid $server_pid)"
sed -n 2p "$server_dir/https.stdout"
curl_options=(--cacert "$certificate")
client_options=(--cacert "$certificate")
python_options=("$certificate")
walk

echo
echo "== 15. Plain HTTP to the HTTPS port: a plain-HTTP 400 that says where HTTPS is"
echo "\$ curl -s http://$server_address/index"
plain=$(curl -s -w ' %{http_code}' "http://$server_address/index")
echo "$plain"
[ "$plain" = "this port speaks HTTPS: https://$server_address/ 400" ] && verdict yes || verdict no "this port speaks HTTPS: https://$server_address/ 400"

echo
echo "== 16. Without --cacert, curl cannot verify the certificate, and says so (exit 60)"
echo "\$ curl -s https://$server_address/index"
status=0
curl -s "https://$server_address/index" >/dev/null || status=$?
echo "curl exit status $status"
[ "$status" = 60 ] && verdict yes || verdict no "exit status 60"

stop_server
echo
echo "== the server's log"
server_log https
echo
if [ "$wrong" -ne 0 ]; then
  echo "demo: $wrong of $steps step(s) WRONG"
  exit 1
fi
echo "demo: all $steps steps as expected, over HTTP and HTTPS"
