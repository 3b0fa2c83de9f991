# Sourced by the bench scripts: install the peer tools and start a private nginx (1 worker,
# loopback, its own prefix and config in a temp dir) that returns a small fixed body.
# Sets NGINX_PORT, NGINX_PID, BENCH_TMP; stop_nginx removes everything it started.

install_peers() {
  missing=""
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
  done
  if [ -n "$missing" ]; then
    echo "installing:$missing" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing >/dev/null
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# NGINX_WORKERS (default 1): more workers share the port with SO_REUSEPORT, each with its own
# open-file limit, for tests that hold tens of thousands of connections.
# NGINX_TLS=1: HTTPS with a self-signed certificate made here (openssl); NGINX_SCHEME says which.
start_nginx() {
  workers=${NGINX_WORKERS:-1}
  reuseport=""
  [ "$workers" -gt 1 ] && reuseport="reuseport"
  BENCH_TMP=$(mktemp -d /tmp/chaosplus-bench.XXXXXX)
  NGINX_PORT=$(free_port)
  mkdir -p "$BENCH_TMP/logs"
  NGINX_SCHEME=http
  tls_conf=""
  ssl=""
  if [ "${NGINX_TLS:-0}" = 1 ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
      -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
      -keyout "$BENCH_TMP/key.pem" -out "$BENCH_TMP/cert.pem" 2>/dev/null
    NGINX_SCHEME=https
    ssl="ssl"
    tls_conf="ssl_certificate $BENCH_TMP/cert.pem; ssl_certificate_key $BENCH_TMP/key.pem;"
  fi
  cat > "$BENCH_TMP/nginx.conf" <<CONF
worker_processes $workers;
worker_rlimit_nofile 20000;
daemon off;
pid $BENCH_TMP/nginx.pid;
error_log $BENCH_TMP/logs/error.log warn;
events { worker_connections 19500; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  client_body_temp_path $BENCH_TMP/body;
  proxy_temp_path $BENCH_TMP/proxy;
  fastcgi_temp_path $BENCH_TMP/fastcgi;
  uwsgi_temp_path $BENCH_TMP/uwsgi;
  scgi_temp_path $BENCH_TMP/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT backlog=4096 $reuseport $ssl;
    $tls_conf
    location / { default_type text/plain; return 200 "hello\n"; }
  }
}
CONF
  nginx -p "$BENCH_TMP" -c "$BENCH_TMP/nginx.conf" &
  NGINX_MASTER=$!
  for _ in $(seq 1 100); do
    if curl -kfsS "$NGINX_SCHEME://127.0.0.1:$NGINX_PORT/" >/dev/null 2>&1; then break; fi
    sleep 0.05
  done
  NGINX_WORKER=$(pgrep -P "$NGINX_MASTER" | head -1)
  echo "nginx on $NGINX_SCHEME://127.0.0.1:$NGINX_PORT (master $NGINX_MASTER, worker $NGINX_WORKER)" >&2
}

stop_nginx() {
  if [ -n "${NGINX_MASTER:-}" ]; then
    kill -QUIT "$NGINX_MASTER" 2>/dev/null || true
    wait "$NGINX_MASTER" 2>/dev/null || true
  fi
  [ -n "${BENCH_TMP:-}" ] && rm -rf "$BENCH_TMP"
}

# CPU seconds (user+system) a process has used so far, from /proc/PID/stat.
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"
}
