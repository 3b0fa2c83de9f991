#!/usr/bin/env bash
# The PostgreSQL high-availability lab: 3 etcd members and 3 Patroni-managed PostgreSQL 15 nodes, each
# on its own loopback address so network faults can cut one member off from the others.
#
#   etcd   e1..e3      127.0.0.21-23  client :2379  peer :2380
#   Patroni node1..3   127.0.0.11-13  PostgreSQL :5432  REST API :8008
#
# Usage: pg-ha-lab.sh up | down | status | wait-healthy [SECS] | start-node NAME | stop-node NAME | env
#   up            idempotent: says so when a healthy lab (same SYNC mode) already runs; else removes
#                 leftovers and starts a fresh lab, waits until it is healthy, creates database `chaos`;
#                 when it fails it prints the log tails and leaves the lab for inspection (run down)
#   down          stops every process of the lab, removes LAB_DIR, checks no process or port is left
#   status        members, roles, states, lag; exit 0 when healthy: one leader, 2 replicas streaming
#                 from it on its timeline, one of them the synchronous standby in synchronous_mode
#   wait-healthy  polls status until healthy or SECS (default 120) pass
#   start-node    starts one node's Patroni again (after a kill); its PostgreSQL follows
#   stop-node     stops one node's Patroni (SIGTERM: Patroni stops its PostgreSQL first)
#   env           shell assignments: PGHOSTS, PGPORT, DSN, PATRONI_APIS, ETCD_ENDPOINTS, LAB_DIR
# up, down, start-node and stop-node wait for the machine-wide lab lock (/tmp/chaosplus-pg-lab.lock).
# Environment: LAB_DIR (default /var/tmp/chaosplus-pg-lab), SYNC=1 (Patroni synchronous_mode),
#   LAB_TTL, LAB_LOOP_WAIT, LAB_RETRY_TIMEOUT (Patroni timings, defaults 12, 2, 3: see docs/databases.md).
# Needs root: PostgreSQL and Patroni run as the `postgres` user, etcd as root, all from Debian's packages.
set -euo pipefail

LAB_DIR=${LAB_DIR:-/var/tmp/chaosplus-pg-lab}
LAB_DIR=${LAB_DIR%/}
SYNC=${SYNC:-0}
TTL=${LAB_TTL:-12}
LOOP_WAIT=${LAB_LOOP_WAIT:-2}
RETRY_TIMEOUT=${LAB_RETRY_TIMEOUT:-3}
PG_BIN=/usr/lib/postgresql/15/bin
PY=/usr/bin/python3 # Patroni's own interpreter: always there with the patroni package
SCOPE=chaosplus-lab
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

NODES=(node1 node2 node3)
declare -A NODE_HOST=([node1]=127.0.0.11 [node2]=127.0.0.12 [node3]=127.0.0.13)
ETCDS=(e1 e2 e3)
declare -A ETCD_HOST=([e1]=127.0.0.21 [e2]=127.0.0.22 [e3]=127.0.0.23)
PG_PORT=5432
API_PORT=8008

say() { echo "pg-ha-lab: $*"; }
die() {
  echo "pg-ha-lab: error: $*" >&2
  exit 1
}

now_ms() { date +%s%3N; }

node_hosts_csv() {
  local out=() n
  for n in "${NODES[@]}"; do out+=("${NODE_HOST[$n]}"); done
  local IFS=,; echo "${out[*]}"
}
patroni_apis() {
  local out=() n
  for n in "${NODES[@]}"; do out+=("${NODE_HOST[$n]}:$API_PORT"); done
  local IFS=,; echo "${out[*]}"
}
etcd_endpoints() {
  local out=() e
  for e in "${ETCDS[@]}"; do out+=("http://${ETCD_HOST[$e]}:2379"); done
  local IFS=,; echo "${out[*]}"
}
etcd_hosts_yaml() {
  local out=() e
  for e in "${ETCDS[@]}"; do out+=("${ETCD_HOST[$e]}:2379"); done
  local IFS=,; echo "${out[*]}"
}
dsn() {
  local ports
  ports=$(printf "$PG_PORT,%.0s" "${NODES[@]}")
  echo "host=$(node_hosts_csv) port=${ports%,} user=postgres dbname=chaos target_session_attrs=read-write connect_timeout=3"
}

# Every listening address:port of the lab.
lab_ports() {
  local n e
  for n in "${NODES[@]}"; do echo "${NODE_HOST[$n]}:$PG_PORT ${NODE_HOST[$n]}:$API_PORT"; done
  for e in "${ETCDS[@]}"; do echo "${ETCD_HOST[$e]}:2379 ${ETCD_HOST[$e]}:2380"; done
}

listening_lab_ports() {
  local listening p
  listening=$(ss -Htln | awk '{print $4}')
  for p in $(lab_ports); do
    grep -qxF "$p" <<<"$listening" && echo "$p"
  done
  return 0
}

# The lab's processes, matched exactly: owned by postgres (Patroni, PostgreSQL and its tools) or named
# etcd, and with LAB_DIR in their command line or their working directory under LAB_DIR (PostgreSQL's
# backends run in their data directory, and outlive a SIGKILLed postmaster for a moment). Another
# PostgreSQL on the machine has neither, so it is never touched.
lab_pids() {
  local d pid uid comm cmd cwd line
  local pg_uid
  pg_uid=$(id -u postgres)
  for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    [ "$pid" = "$$" ] && continue
    uid=""
    {
      while read -r line; do
        # shellcheck disable=SC2086
        case $line in Uid:*) set -- $line; uid=$2; break ;; esac
      done <"$d/status"
      read -r comm <"$d/comm"
    } 2>/dev/null || continue
    [ "$uid" = "$pg_uid" ] || [ "$comm" = etcd ] || continue
    cmd=$(tr '\0' ' ' 2>/dev/null <"$d/cmdline") || continue
    cwd=$(readlink "$d/cwd" 2>/dev/null) || cwd=""
    case "$cmd" in *"$LAB_DIR/"*) echo "$pid"; continue ;; esac
    case "$cwd/" in "$LAB_DIR/"*) echo "$pid" ;; esac
  done
  return 0
}

# Waits until `cmd...` succeeds or SECS pass; returns its status.
wait_for() {
  local secs=$1
  shift
  local deadline=$(($(now_ms) + secs * 1000))
  while ! "$@"; do
    [ "$(now_ms)" -ge "$deadline" ] && return 1
    sleep 0.2
  done
}

no_lab_process() { [ -z "$(lab_pids)" ]; }
no_lab_port() { [ -z "$(listening_lab_ports)" ]; }

# Tails of the etcd logs (log_tails etcd) or of the Patroni and PostgreSQL logs (log_tails nodes).
log_tails() {
  local f files
  if [ "$1" = etcd ]; then
    files=("$LAB_DIR"/etcd/*.log)
  else
    files=("$LAB_DIR"/node*/patroni.log "$LAB_DIR"/node*/pg_log/*.log)
  fi
  for f in "${files[@]}"; do
    [ -f "$f" ] || continue
    echo "----- tail of $f" >&2
    tail -n 15 "$f" >&2
  done
}

# ---------------------------------------------------------------------------------------------------
# Cluster state from Patroni's REST API (GET /cluster on the first member that answers).

cluster_json() {
  local n
  for n in "${NODES[@]}"; do
    curl -fsS --max-time 2 "http://${NODE_HOST[$n]}:$API_PORT/cluster" 2>/dev/null && return 0
  done
  return 1
}

# GET /patroni of the member at HOST: its own status; a primary's lists its replication connections
# (pg_stat_replication), which is where Patroni 3.0 says a replica streams.
member_status() { curl -fsS --max-time 2 "http://$1:$API_PORT/patroni" 2>/dev/null; }

# Prints the members and returns 0 when healthy: one running leader and two replicas that stream
# from it (one of them the synchronous standby when SYNC=1).
check_cluster() {
  local json leader status='{}'
  json=$(cluster_json) || {
    echo "no Patroni REST API answers on $(patroni_apis)"
    return 1
  }
  leader=$("$PY" -c '
import json, sys
print(" ".join(m["host"] for m in json.loads(sys.argv[1]).get("members", []) if m.get("role") == "leader"))
' "$json")
  [ -n "$leader" ] && [ "${leader// /}" = "$leader" ] && status=$(member_status "$leader") || status='{}'
  # The mode the running cluster was bootstrapped with decides whether a sync standby is required.
  local sync=$SYNC
  case $(running_sync_mode 2>/dev/null) in true) sync=1 ;; false) sync=0 ;; esac
  SYNC=$sync "$PY" -c '
import json, os, sys
members = json.loads(sys.argv[1]).get("members", [])
replication = {r.get("application_name"): r for r in json.loads(sys.argv[2]).get("replication", [])}
print("%-6s %-11s %-13s %-9s %-10s %-3s %s" % ("member", "host", "role", "state", "streaming", "tl", "lag"))
for m in members:
    r = replication.get(m.get("name"), {})
    print("%-6s %-11s %-13s %-9s %-10s %-3s %s" % (m.get("name"), m.get("host"), m.get("role"), m.get("state"),
          r.get("state", "-") + ("/" + r["sync_state"] if r.get("sync_state") == "sync" else ""),
          m.get("timeline", ""), m.get("lag", "")))
leaders = [m for m in members if m.get("role") == "leader" and m.get("state") == "running"]
timeline = leaders[0].get("timeline") if len(leaders) == 1 else None
replicas = [m for m in members if m.get("role") in ("replica", "sync_standby") and m.get("state") == "running"
            and replication.get(m.get("name"), {}).get("state") == "streaming" and m.get("timeline") == timeline]
sync_ok = os.environ["SYNC"] != "1" or any(m.get("role") == "sync_standby" for m in replicas)
sys.exit(0 if len(leaders) == 1 and len(replicas) == 2 and sync_ok else 1)
' "$json" "$status"
}

healthy() { check_cluster >/dev/null 2>&1; }

leader_host() {
  cluster_json | "$PY" -c '
import json, sys
for m in json.loads(sys.stdin.read()).get("members", []):
    if m.get("role") == "leader":
        print(m["host"])
'
}

# The synchronous_mode the running lab was bootstrapped with ("true"/"false"), from /config.
running_sync_mode() {
  local n
  for n in "${NODES[@]}"; do
    curl -fsS --max-time 2 "http://${NODE_HOST[$n]}:$API_PORT/config" 2>/dev/null |
      "$PY" -c 'import json, sys; print("true" if json.load(sys.stdin).get("synchronous_mode") else "false")' &&
      return 0
  done
  return 1
}

# ---------------------------------------------------------------------------------------------------
# Configuration files.

write_patroni_config() {
  local n=$1 host=${NODE_HOST[$1]} dir=$LAB_DIR/$1
  local sync=false
  [ "$SYNC" = 1 ] && sync=true
  cat >"$dir/patroni.yml" <<EOF
# Written by scripts/services/pg-ha-lab.sh; docs/databases.md explains every setting.
scope: $SCOPE
namespace: /chaosplus/
name: $n
restapi:
  listen: $host:$API_PORT
  connect_address: $host:$API_PORT
etcd3:
  hosts: $(etcd_hosts_yaml)
bootstrap:
  dcs:
    ttl: $TTL
    loop_wait: $LOOP_WAIT
    retry_timeout: $RETRY_TIMEOUT
    maximum_lag_on_failover: 1048576
    synchronous_mode: $sync
    postgresql:
      use_pg_rewind: true
      remove_data_directory_on_rewind_failure: true
      remove_data_directory_on_diverged_timelines: true
      use_slots: true
      parameters:
        shared_buffers: 32MB
        max_connections: 100
        wal_level: replica
        hot_standby: "on"
        wal_log_hints: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        wal_keep_size: 128MB
        fsync: "on"
        synchronous_commit: "on"
        full_page_writes: "on"
  initdb:
    - data-checksums
    - encoding: UTF8
    - locale: C.UTF-8
postgresql:
  listen: $host:$PG_PORT
  connect_address: $host:$PG_PORT
  data_dir: $dir/data
  bin_dir: $PG_BIN
  pgpass: $dir/pgpass
  authentication:
    superuser:
      username: postgres
      password: postgres
    replication:
      username: replicator
      password: replicator
    rewind:
      username: postgres
      password: postgres
  parameters:
    unix_socket_directories: $dir
    logging_collector: "on"
    log_directory: $dir/pg_log
    log_filename: postgresql.log
    log_min_messages: warning
  pg_hba:
    - local all all trust
    - host all all 127.0.0.0/8 trust
    - host replication all 127.0.0.0/8 trust
watchdog:
  mode: "off"
EOF
}

# ---------------------------------------------------------------------------------------------------
# Starting and stopping.

start_etcd() {
  local e=$1 host=${ETCD_HOST[$1]} cluster="" x
  for x in "${ETCDS[@]}"; do cluster+="$x=http://${ETCD_HOST[$x]}:2380,"; done
  mkdir -p "$LAB_DIR/etcd"
  (
    cd "$LAB_DIR/etcd"
    close_inherited_fds
    exec setsid /usr/bin/etcd --name "$e" --data-dir "$LAB_DIR/etcd/$e" \
      --listen-client-urls "http://$host:2379" --advertise-client-urls "http://$host:2379" \
      --listen-peer-urls "http://$host:2380" --initial-advertise-peer-urls "http://$host:2380" \
      --initial-cluster "${cluster%,}" --initial-cluster-state new \
      --initial-cluster-token "$SCOPE" --log-level warn \
      >>"$LAB_DIR/etcd/$e.log" 2>&1 </dev/null
  ) &
  echo $! >"$LAB_DIR/etcd/$e.pid"
}

etcd_healthy() {
  local e
  for e in "${ETCDS[@]}"; do
    curl -fsS --max-time 1 "http://${ETCD_HOST[$e]}:2379/health" 2>/dev/null | grep -q '"health":"true"' || return 1
  done
}

pid_of_node() {
  local pidfile=$LAB_DIR/$1/patroni.pid pid
  [ -f "$pidfile" ] || return 1
  read -r pid <"$pidfile" || return 1
  # The pid is the node's Patroni only while its command line names the node's config file.
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF "$LAB_DIR/$1/patroni.yml" || return 1
  echo "$pid"
}

# A daemon of the lab keeps no descriptor of whoever started it: not the lab lock (fd 9, or a lock
# the caller holds through flock(1)), not a test's output pipe.
close_inherited_fds() {
  local fd n
  for fd in /proc/$BASHPID/fd/*; do
    n=${fd##*/}
    [ "$n" -gt 2 ] && eval "exec $n>&-"
  done
  return 0
}

# Builds the preload that gives each node's outgoing connections the node's own source address
# (lab_source_address.cpp says why) into LAB_DIR: it goes away with the lab.
build_source_address_preload() {
  local src=$SCRIPT_DIR/lab_source_address.cpp
  mkdir -p "$LAB_DIR/lib"
  g++ -std=c++20 -O2 -Wall -Wextra -Werror -shared -fPIC -o "$LAB_DIR/lib/lab_source_address.so" "$src" -ldl ||
    die "could not build $src (g++ is in scripts/setup.sh)"
  chmod 0755 "$LAB_DIR/lib" "$LAB_DIR/lib/lab_source_address.so"
}

# setpriv execs (runuser would stay as a waiting parent), so the pid file names Patroni itself.
start_patroni() {
  local n=$1 dir=$LAB_DIR/$1
  pid_of_node "$n" >/dev/null && {
    say "$n: Patroni already runs (pid $(pid_of_node "$n"))"
    return 0
  }
  [ -f "$dir/patroni.yml" ] && [ -f "$LAB_DIR/lib/lab_source_address.so" ] ||
    die "$n: no $dir/patroni.yml: is the lab up? (pg-ha-lab.sh up)"
  (
    cd "$dir"
    close_inherited_fds
    exec setsid setpriv --reuid=postgres --regid=postgres --init-groups \
      env -i HOME=/var/lib/postgresql USER=postgres LOGNAME=postgres PATH=/usr/bin:/bin LANG=C.UTF-8 \
      LD_PRELOAD="$LAB_DIR/lib/lab_source_address.so" CHAOSPLUS_LAB_SOURCE="${NODE_HOST[$n]}" \
      /usr/bin/patroni "$dir/patroni.yml" >>"$dir/patroni.log" 2>&1 </dev/null
  ) &
  echo $! >"$dir/patroni.pid"
}

stop_patroni() {
  local n=$1 pid
  pid=$(pid_of_node "$n") || {
    say "$n: Patroni is not running"
    return 0
  }
  kill -TERM "$pid" 2>/dev/null || true
  # Patroni stops PostgreSQL (fast shutdown) before it exits.
  wait_for 60 bash -c "! kill -0 $pid 2>/dev/null" || die "$n: Patroni (pid $pid) did not stop within 60 s"
  postmaster_gone "$n" || wait_for 30 postmaster_gone "$n" || die "$n: PostgreSQL still runs after its Patroni stopped"
  say "$n: stopped"
}

postmaster_gone() {
  local pidfile=$LAB_DIR/$1/data/postmaster.pid pid
  [ -f "$pidfile" ] || return 0
  read -r pid <"$pidfile" || return 0
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF "$LAB_DIR/$1/data" && return 1
  return 0
}

create_chaos_db() {
  local leader
  leader=$(leader_host) || die "no leader to create database chaos on"
  local exists
  exists=$(runuser -u postgres -- "$PG_BIN/psql" -h "$leader" -p $PG_PORT -d postgres -XAtqc \
    "SELECT 1 FROM pg_database WHERE datname = 'chaos'") || die "psql on the leader $leader failed"
  [ "$exists" = 1 ] && return 0
  runuser -u postgres -- "$PG_BIN/psql" -h "$leader" -p $PG_PORT -d postgres -Xqc \
    "CREATE DATABASE chaos OWNER postgres" >/dev/null || die "CREATE DATABASE chaos on $leader failed"
}

patroni_pids() {
  local pid comm
  for pid in $(lab_pids); do
    read -r comm 2>/dev/null <"/proc/$pid/comm" && [ "$comm" = patroni ] && echo "$pid"
  done
  return 0
}
no_patroni() { [ -z "$(patroni_pids)" ]; }

cmd_down() {
  local started pids
  started=$(now_ms)
  # Patroni first, while etcd still answers: it stops its PostgreSQL (fast shutdown) and exits.
  pids=$(patroni_pids)
  # shellcheck disable=SC2086
  [ -n "$pids" ] && { kill -TERM $pids 2>/dev/null || true; } # one may have exited since
  wait_for 30 no_patroni || true
  # Then etcd and any stray PostgreSQL process. etcd members stopped together spend seconds trying to
  # hand over leadership to each other; their data is deleted next, so they get 3 s, then SIGKILL.
  pids=$(lab_pids)
  if [ -n "$pids" ]; then
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null || true
    if ! wait_for 3 no_lab_process; then
      pids=$(lab_pids)
      # shellcheck disable=SC2086
      [ -n "$pids" ] && { kill -KILL $pids 2>/dev/null || true; }
      wait_for 10 no_lab_process || die "lab processes survive SIGKILL: $(lab_pids | tr '\n' ' ')"
    fi
  fi
  wait_for 10 no_lab_port || die "lab ports still listening: $(listening_lab_ports | tr '\n' ' ')"
  rm -rf "$LAB_DIR"
  [ -e "$LAB_DIR" ] && die "could not remove $LAB_DIR"
  say "down in $(($(now_ms) - started)) ms: no process, no port, no $LAB_DIR"
}

cmd_up() {
  local started sync_want
  started=$(now_ms)
  [ "$(id -u)" = 0 ] || die "needs root (PostgreSQL runs as the postgres user)"
  [ -x /usr/bin/patroni ] && [ -x /usr/bin/etcd ] && [ -x "$PG_BIN/postgres" ] ||
    die "needs patroni, etcd-server and postgresql-15 (scripts/setup.sh installs them)"
  sync_want=false
  [ "$SYNC" = 1 ] && sync_want=true
  if [ -f "$LAB_DIR/node1/patroni.yml" ] && healthy && [ "$(running_sync_mode 2>/dev/null)" = "$sync_want" ]; then
    say "a healthy lab already runs (synchronous_mode $sync_want): nothing to do"
    return 0
  fi
  say "starting a fresh lab in $LAB_DIR (synchronous_mode $sync_want, ttl $TTL, loop_wait $LOOP_WAIT, retry_timeout $RETRY_TIMEOUT)"
  cmd_down >/dev/null
  local busy
  busy=$(listening_lab_ports)
  [ -z "$busy" ] || die "addresses in use by something else: $(tr '\n' ' ' <<<"$busy")"

  mkdir -p "$LAB_DIR/etcd"
  chmod 0755 "$LAB_DIR"
  build_source_address_preload
  local e n
  for e in "${ETCDS[@]}"; do start_etcd "$e"; done
  if ! wait_for 30 etcd_healthy; then
    log_tails etcd
    die "etcd did not become healthy within 30 s ($(etcd_endpoints))"
  fi
  for n in "${NODES[@]}"; do
    install -d -o postgres -g postgres -m 0700 "$LAB_DIR/$n" "$LAB_DIR/$n/pg_log"
    write_patroni_config "$n"
    chown postgres:postgres "$LAB_DIR/$n/patroni.yml"
  done
  for n in "${NODES[@]}"; do start_patroni "$n"; done
  if ! wait_for 180 healthy; then
    check_cluster >&2 || true
    log_tails nodes
    die "the cluster did not become healthy within 180 s"
  fi
  create_chaos_db
  check_cluster
  say "up in $(($(now_ms) - started)) ms"
}

cmd_wait_healthy() {
  local secs=${1:-120}
  if wait_for "$secs" healthy; then
    check_cluster
    return 0
  fi
  check_cluster >&2 || true
  die "not healthy within $secs s"
}

cmd_env() {
  cat <<EOF
LAB_DIR='$LAB_DIR'
PGHOSTS='$(node_hosts_csv)'
PGPORT=$PG_PORT
DSN='$(dsn)'
PATRONI_APIS='$(patroni_apis)'
ETCD_ENDPOINTS='$(etcd_endpoints)'
EOF
}

# Commands that change the lab take the machine-wide lab lock, the one tests/support/pg_lab.h holds
# for a whole test (and tells this script about with CHAOSPLUS_LAB_LOCKED=1): a hand-run `down` waits
# for the test instead of pulling the lab from under it. The daemons started here close it
# (close_inherited_fds), or the lab would hold its own lock for its whole life.
LOCK_FILE=/tmp/chaosplus-pg-lab.lock
lab_lock() {
  [ "${CHAOSPLUS_LAB_LOCKED:-}" = 1 ] && return 0
  exec 9>>"$LOCK_FILE"
  if ! flock -n 9 && ! lock_held_by_ancestor; then
    say "waiting for the lab lock $LOCK_FILE (a test or another run uses the lab)"
    flock -w 900 9 || die "the lab lock $LOCK_FILE stayed taken for 15 minutes"
  fi
}

# True when the process holding the lab lock is this script's caller (or its caller's caller...): a
# test fixture or `flock /tmp/chaosplus-pg-lab.lock ...` that did not say CHAOSPLUS_LAB_LOCKED=1.
# Waiting for it would wait for ourselves.
lock_held_by_ancestor() {
  local inode holders p h
  inode=$(stat -c %i "$LOCK_FILE") || return 1
  # /proc/locks: "1: FLOCK  ADVISORY  WRITE <pid> <major>:<minor>:<inode> 0 EOF" (waiters have "->").
  holders=$(awk -v ino="$inode" '$2 == "FLOCK" { n = split($6, a, ":"); if (a[n] == ino) print $5 }' /proc/locks)
  p=$PPID
  while [ -n "$p" ] && [ "$p" -gt 1 ]; do
    for h in $holders; do [ "$h" = "$p" ] && return 0; done
    p=$(awk '/^PPid:/ { print $2 }' "/proc/$p/status" 2>/dev/null) || return 1
  done
  return 1
}

node_arg() {
  local n=${1:-}
  [ -n "$n" ] && [ -n "${NODE_HOST[$n]:-}" ] || die "expected a node name (${NODES[*]}), got '${n}'"
}

cd /
case ${1:-} in
  up | down | start-node | stop-node) lab_lock ;;
esac
case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) check_cluster ;;
  wait-healthy) cmd_wait_healthy "${2:-120}" ;;
  start-node)
    node_arg "${2:-}"
    start_patroni "$2"
    ;;
  stop-node)
    node_arg "${2:-}"
    stop_patroni "$2"
    ;;
  env) cmd_env ;;
  *)
    sed -n '2,/^set -euo/p' "$SCRIPT_DIR/pg-ha-lab.sh" | sed '$d' | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
