# Sourced by scripts/bench.sh, after scripts/server.sh: an nginx of our own,
# the reference the benchmark measures token-server against.
#
#   start_nginx NAME [CERT KEY]   starts Debian's nginx (nginx-light) on a free
#                                 loopback port, with a config of its own in
#                                 $server_dir: 2 workers (one a core), no access
#                                 log, keep-alive without a request limit, and
#                                 `return 200 "data"` for every request; with
#                                 CERT and KEY, over HTTPS (TLS 1.2 and 1.3).
#                                 Sets server_pid and server_address, as
#                                 start_server does; stop_server stops it, by
#                                 its PID.

start_nginx() {
  local name=$1 cert=${2:-} key=${3:-}
  local nginx
  nginx=$(command -v nginx || echo /usr/sbin/nginx)
  if [ ! -x "$nginx" ]; then
    echo "nginx is not installed: apt-get install -y nginx-light" >&2
    return 1
  fi
  local dir="$server_dir/nginx-$name" port tls="" listen_tls=""
  mkdir -p "$dir/logs"
  port=$("$load" --print-free-port)
  if [ -n "$cert" ]; then
    listen_tls=" ssl"
    tls="ssl_certificate $cert; ssl_certificate_key $key; ssl_protocols TLSv1.2 TLSv1.3;"
  fi
  cat >"$dir/nginx.conf" <<EOF
worker_processes 2;
pid $dir/nginx.pid;
error_log $dir/logs/error.log;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  keepalive_requests 1000000000;
  keepalive_timeout 75s;
  server {
    listen 127.0.0.1:$port$listen_tls;
    $tls
    location / { default_type text/plain; return 200 "data"; }
  }
}
EOF
  "$nginx" -p "$dir" -c "$dir/nginx.conf" >"$dir/stdout" 2>"$dir/stderr" </dev/null &
  server_pid=$!
  server_address="127.0.0.1:$port"
  local scheme=http _
  [ -n "$cert" ] && scheme=https
  for _ in $(seq 100); do
    if curl -s -o /dev/null ${cert:+--cacert "$cert"} "$scheme://$server_address/"; then
      return 0
    fi
    sleep 0.05
  done
  echo "nginx did not start:" >&2
  cat "$dir/stderr" "$dir/logs/error.log" >&2
  stop_server
  return 1
}
