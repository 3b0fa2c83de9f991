#!/usr/bin/env bash
# The lab of hosts (issue 15): network namespaces standing in for hosts, an etcd cluster and a
# `chaosplus agent` on each, for the fleet's integration tests, bench/fleet_kill.sh and demos.
#
#   <P>-hub   holds the bridge br0 (no address): the lab's switch
#   <P>-0     the controller's host (`chaosplus run` goes here)    10.77.0.10
#   <P>-i     agent node-i's host, i = 1..N                          10.77.0.(10+i)
#             <P>-1..3 also hold the etcd members e1..e3: client http://10.77.0.1i:2379, peer :2380
#
# Usage: lab.sh up N | down | status | exec NODE CMD... | env
#   up N      idempotent: says so when this lab already runs healthy with N agents; else removes
#             what is left of it and starts a fresh one, waits until etcd is healthy and every agent
#             registered, and writes $CPLAB_STATE/lab.env (CHAOSPLUS_ETCD, CHAOSPLUS_ALLOW and the
#             node addresses, for the controller). N >= 3 (the etcd members live on nodes 1..3).
#   down      stops the processes it recorded (agents first with SIGTERM so they revert, then etcd
#             with SIGKILL),
#             deletes the namespaces it recorded, removes the state folder
#   status    namespaces, addresses, routes, processes, etcd members (leader) and registered agents;
#             exit 0 when healthy
#   exec      runs CMD in a node's namespace (NODE: 0..N, node-i, hub) with lab.env exported
#   env       prints lab.env
#
# Environment:
#   CPLAB_PREFIX      namespace names (default cplab): tests use their own so they never clash with
#                     a developer's lab; at most 12 characters
#   CPLAB_STATE       state folder: etcd data, logs, pidfiles, agents' state (default /var/tmp/<P>)
#   CPLAB_CHAOSPLUS   the chaosplus binary (default build/bin/chaosplus, else chaosplus in PATH)
#   CPLAB_AGENTS=0    no agents: etcd only
#   CPLAB_TTL         the agents' --ttl (default: the agent's own)
#   CPLAB_LABELS_<i>  node-i's labels, space-separated k=v (defaults: node-1 "role=db zone=a",
#                     node-2 "role=db zone=b", node-3 "role=app zone=c", node-i "role=app zone=c")
#   CPLAB_AGENT_ARGS  more arguments for every agent
#
# Safety: the lab's addresses exist only inside its namespaces. The root namespace gets no address
# in 10.77.0.0/24 and no route to it (the veth pairs are created directly between the lab's
# namespaces, never in the root namespace), and a lab namespace has only `lo` and one interface
# with a 10.77.0.x/24 address: no default route, so nothing started in it can reach an address
# outside loopback and 10.77.0.0/24. `up` checks this and `status` shows it.
#
# Needs root, iproute2 and Debian's etcd-server (etcd, etcdctl).
set -euo pipefail

P=${CPLAB_PREFIX:-cplab}
[[ $P =~ ^[a-z][a-z0-9-]{0,11}$ ]] || {
  echo "lab: CPLAB_PREFIX '$P': expected 1-12 lower-case letters, digits or '-', starting with a letter" >&2
  exit 2
}
STATE=${CPLAB_STATE:-/var/tmp/$P}
STATE=${STATE%/}
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NET=10.77.0
HUB=$P-hub
ETCD_MEMBERS=3

say() { echo "lab[$P]: $*"; }
die() {
  echo "lab[$P]: error: $*" >&2
  exit 1
}

chaosplus_bin() {
  if [[ -n ${CPLAB_CHAOSPLUS:-} ]]; then
    echo "$CPLAB_CHAOSPLUS"
  elif [[ -x $SCRIPT_DIR/../build/bin/chaosplus ]]; then
    echo "$(cd "$SCRIPT_DIR/../build/bin" && pwd)/chaosplus"
  else
    command -v chaosplus || die "no chaosplus binary: build first (scripts/build.sh) or set CPLAB_CHAOSPLUS"
  fi
}

ns() { echo "$P-$1"; }
addr() { echo "$NET.$((10 + $1))"; }
etcd_urls() {
  local out=() i
  for ((i = 1; i <= ETCD_MEMBERS; i++)); do out+=("http://$(addr "$i"):2379"); done
  local IFS=,
  echo "${out[*]}"
}
labels_of() {
  local var=CPLAB_LABELS_$1
  if [[ -n ${!var:-} ]]; then
    echo "${!var}"
  else
    case $1 in
    1) echo "role=db zone=a" ;;
    2) echo "role=db zone=b" ;;
    *) echo "role=app zone=c" ;;
    esac
  fi
}
nodes() { cat "$STATE/nodes" 2>/dev/null || echo 0; }

# Start time of a process (field 22 of /proc/PID/stat; fails when it is gone or a zombie), so a recorded pid is signalled only while it
# is still the process the lab started, never a later process that reused the number.
start_time() {
  local stat IFS=$' \t\n'
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  # shellcheck disable=SC2086
  set -- $stat
  [[ $1 != Z ]] || return 1 # exited, not yet reaped: gone for the lab
  echo "${20}"
}
# The recorded process NAME is alive: its pidfile's pid with the recorded start time.
alive() {
  local file=$STATE/run/$1.pid pid started now
  [[ -f $file ]] || return 1
  read -r pid started <"$file" || return 1
  now=$(start_time "$pid") || return 1
  [[ $now == "$started" ]]
}
recorded_pid() { cut -d' ' -f1 "$STATE/run/$1.pid"; }

# Starts CMD in node I's namespace as process NAME, in its own session, logging to logs/NAME.log.
# `ip netns exec`, `setsid` and `env` all exec, so $! is the daemon's own pid.
spawn() {
  local name=$1 i=$2
  shift 2
  ip netns exec "$(ns "$i")" setsid "$@" </dev/null >>"$STATE/logs/$name.log" 2>&1 &
  local pid=$!
  local started
  started=$(start_time "$pid") || die "$name exited at once: $(tail -n 5 "$STATE/logs/$name.log")"
  echo "$pid $started" >"$STATE/run/$name.pid"
}

# Sends SIG to the recorded processes NAMES... at once, waits up to SECS for them to go, then SIGKILL.
stop_recorded() {
  local sig=$1 secs=$2 name pid deadline left
  shift 2
  for name in "$@"; do
    alive "$name" && kill "-$sig" "$(recorded_pid "$name")" 2>/dev/null || true
  done
  deadline=$((SECONDS + secs))
  while :; do
    left=()
    for name in "$@"; do alive "$name" && left+=("$name"); done
    ((${#left[@]} > 0 && SECONDS < deadline)) || break
    sleep 0.05
  done
  for name in "${left[@]}"; do
    pid=$(recorded_pid "$name")
    say "$name (pid $pid) still there after SIG$sig for ${secs}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while alive "$name"; do sleep 0.05; done
  done
  for name in "$@"; do rm -f "$STATE/run/$name.pid"; done
}

etcdctl_lab() { ip netns exec "$(ns 0)" etcdctl --endpoints="$(etcd_urls)" --dial-timeout=1s --command-timeout=2s "$@"; }

etcd_healthy() { etcdctl_lab endpoint health >/dev/null 2>&1; }
agent_registered() { [[ -n $(etcdctl_lab get --keys-only "/chaosplus/agents/node-$1" 2>/dev/null) ]]; }

healthy() {
  local n i
  n=$(nodes)
  ((n >= ETCD_MEMBERS)) || return 1
  for ((i = 0; i <= n; i++)); do ip netns list | grep -qx "$(ns "$i")\( .*\)\?" || return 1; done
  for ((i = 1; i <= ETCD_MEMBERS; i++)); do alive "etcd-$i" || return 1; done
  etcd_healthy || return 1
  if [[ $(cat "$STATE/agents" 2>/dev/null) == 1 ]]; then
    for ((i = 1; i <= n; i++)); do
      alive "agent-$i" && agent_registered "$i" || return 1
    done
  fi
}

# Every route in namespace NS must stay in 10.77.0.0/24 or loopback (the lab's safety rule).
check_routes() {
  local name=$1 bad
  bad=$(ip -n "$name" -4 route show table all | grep -vE "^(local|broadcast) (127\.|$NET\.)|^$NET\.0/24 |^(local|broadcast|multicast|unreachable|prohibit|blackhole|anycast|throw) " || true)
  bad+=$(ip -n "$name" -6 route show table all | grep -vE "^(local )?::1 |^multicast ff00::/8 |^(local |anycast )?fe80:" || true)
  [[ -z $bad ]] || die "namespace $name has a route outside loopback and $NET.0/24: $bad"
}

make_network() {
  local n=$1 i name
  for name in "$HUB" $(for ((i = 0; i <= n; i++)); do ns "$i"; done); do
    if ip netns list | grep -qx "$name\( .*\)\?"; then
      die "network namespace $name exists but is not this lab's (no $STATE/namespaces names it): remove it, or pick another CPLAB_PREFIX"
    fi
  done
  : >"$STATE/namespaces"
  ip netns add "$HUB"
  echo "$HUB" >>"$STATE/namespaces"
  ip -n "$HUB" link set lo up
  ip -n "$HUB" link add br0 type bridge
  ip -n "$HUB" link set br0 up
  for ((i = 0; i <= n; i++)); do
    name=$(ns "$i")
    ip netns add "$name"
    echo "$name" >>"$STATE/namespaces"
    ip -n "$name" link set lo up
    # Created straight between the two namespaces: the root namespace never holds either end.
    ip link add "v$i" netns "$HUB" type veth peer name eth0 netns "$name"
    ip -n "$HUB" link set "v$i" master br0
    ip -n "$HUB" link set "v$i" up
    ip -n "$name" addr add "$(addr "$i")/24" dev eth0
    ip -n "$name" link set eth0 up
    ip netns exec "$name" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  done
  for name in $(cat "$STATE/namespaces"); do check_routes "$name"; done
  if ip -4 addr show | grep -q "inet $NET\." || ip -4 route show table all | grep -q "$NET\."; then
    die "the root namespace has an address or a route in $NET.0/24: the lab must not (see the top of $0)"
  fi
}

start_etcd() {
  local i cluster="" name
  for ((i = 1; i <= ETCD_MEMBERS; i++)); do cluster+="${cluster:+,}e$i=http://$(addr "$i"):2380"; done
  for ((i = 1; i <= ETCD_MEMBERS; i++)); do
    name=etcd-$i
    spawn "$name" "$i" etcd --name "e$i" --data-dir "$STATE/$name" \
      --listen-client-urls "http://$(addr "$i"):2379" --advertise-client-urls "http://$(addr "$i"):2379" \
      --listen-peer-urls "http://$(addr "$i"):2380" --initial-advertise-peer-urls "http://$(addr "$i"):2380" \
      --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token "$P" \
      --heartbeat-interval 100 --election-timeout 1000
  done
}

wait_for() {
  local what=$1 secs=$2
  shift 2
  local deadline=$((SECONDS + secs))
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
  say "$what"
}

start_agents() {
  local n=$1 i bin labels args l
  bin=$(chaosplus_bin)
  for ((i = 1; i <= n; i++)); do
    labels=$(labels_of "$i")
    args=(agent --etcd "$(etcd_urls)" --name "node-$i" --state-dir "$STATE/agent-$i")
    for l in $labels; do args+=(--label "$l"); done
    [[ -n ${CPLAB_TTL:-} ]] && args+=(--ttl "$CPLAB_TTL")
    # shellcheck disable=SC2206
    [[ -n ${CPLAB_AGENT_ARGS:-} ]] && args+=($CPLAB_AGENT_ARGS)
    mkdir -p "$STATE/agent-$i"
    # The lab's allow-list is the agents' too: a target's proxy listens on the agent's own address.
    spawn "agent-$i" "$i" env "CHAOSPLUS_ALLOW=$NET.0/24" "$bin" "${args[@]}"
  done
}

write_env() {
  local n=$1 i
  {
    echo "CHAOSPLUS_ETCD=$(etcd_urls)"
    echo "CHAOSPLUS_ALLOW=$NET.0/24"
    echo "CPLAB_PREFIX=$P"
    echo "CPLAB_STATE=$STATE"
    echo "CPLAB_NODES=$n"
    for ((i = 0; i <= n; i++)); do echo "CPLAB_NODE_$i=$(addr "$i")"; done
  } >"$STATE/lab.env.tmp"
  mv "$STATE/lab.env.tmp" "$STATE/lab.env"
}

tails() {
  local f
  for f in "$STATE"/logs/*.log; do
    [[ -f $f ]] || continue
    echo "--- $f"
    tail -n 15 "$f"
  done >&2
}

cmd_up() {
  local n=${1:-}
  [[ $n =~ ^[0-9]+$ ]] && ((n >= ETCD_MEMBERS && n <= 200)) || die "up N: N is the number of agents' hosts, $ETCD_MEMBERS..200"
  [[ $(id -u) == 0 ]] || die "needs root (network namespaces)"
  command -v etcd >/dev/null && command -v etcdctl >/dev/null || die "needs etcd and etcdctl (apt-get install etcd-server etcd-client)"
  local want_agents=1 i
  [[ ${CPLAB_AGENTS:-1} == 0 ]] && want_agents=0
  ((want_agents == 0)) || chaosplus_bin >/dev/null
  if [[ $(nodes) == "$n" && $(cat "$STATE/agents" 2>/dev/null) == "$want_agents" ]] && healthy; then
    say "already up and healthy: $n nodes, etcd $(etcd_urls)"
    return 0
  fi
  [[ -d $STATE ]] && cmd_down
  mkdir -p "$STATE/logs" "$STATE/run"
  chmod 700 "$STATE"
  echo "$n" >"$STATE/nodes"
  echo "$want_agents" >"$STATE/agents"
  make_network "$n"
  start_etcd
  wait_for "etcd healthy: $(etcd_urls)" 30 etcd_healthy || {
    tails
    die "etcd not healthy within 30 s (logs above; lab left for inspection: $0 down)"
  }
  if ((want_agents)); then
    start_agents "$n"
    for ((i = 1; i <= n; i++)); do
      wait_for "node-$i registered ($(labels_of "$i"))" 30 agent_registered "$i" || {
        tails
        die "agent node-$i did not register within 30 s (logs above; lab left for inspection: $0 down)"
      }
    done
  fi
  write_env "$n"
  say "up: $n nodes; controller: $0 exec 0 CMD (env in $STATE/lab.env)"
}

cmd_down() {
  local f name
  if [[ -d $STATE/run ]]; then
    # Agents first, gently: they revert what they hold and stop their targets. Then etcd, at once:
    # its data goes with the lab, and a last member without quorum takes seconds over SIGTERM.
    local agents=() others=()
    for f in "$STATE"/run/*.pid; do
      [[ -f $f ]] || continue
      name=$(basename "$f" .pid)
      if [[ $name == agent-* ]]; then agents+=("$name"); else others+=("$name"); fi
    done
    ((${#agents[@]} == 0)) || stop_recorded TERM 15 "${agents[@]}"
    ((${#others[@]} == 0)) || stop_recorded KILL 10 "${others[@]}"
  fi
  if [[ -f $STATE/namespaces ]]; then
    for name in $(cat "$STATE/namespaces"); do
      ip netns list | grep -qx "$name\( .*\)\?" || continue
      local left
      left=$(ip netns pids "$name" 2>/dev/null | tr '\n' ' ')
      [[ -z $left ]] || say "warning: processes the lab did not start are still in $name (left alone): $left"
      ip netns delete "$name"
    done
  fi
  if [[ -d $STATE ]]; then
    case $STATE in /var/tmp/* | /tmp/*) rm -rf "$STATE" ;; *) say "state folder $STATE kept (not under /tmp or /var/tmp)" ;; esac
  fi
  say "down"
}

cmd_status() {
  local n i ok=0 name
  n=$(nodes)
  if ((n == 0)); then
    say "not up (no $STATE/nodes)"
    return 1
  fi
  for name in $(cat "$STATE/namespaces"); do
    if ip netns list | grep -qx "$name\( .*\)\?"; then
      echo "$name: $(ip -n "$name" -4 -o addr show | awk '$2 != "lo" {print $2, $4}' | tr '\n' ' ')routes: $(ip -n "$name" -4 route | tr '\n' ';')"
    else
      echo "$name: missing"
      ok=1
    fi
  done
  for f in "$STATE"/run/*.pid; do
    [[ -f $f ]] || continue
    name=$(basename "$f" .pid)
    if alive "$name"; then echo "$name: pid $(recorded_pid "$name")"; else
      echo "$name: not running"
      ok=1
    fi
  done
  etcdctl_lab endpoint status -w table 2>&1 || ok=1
  echo "agents:"
  etcdctl_lab get --prefix --keys-only /chaosplus/agents/ 2>&1 | grep -v '^$' || true
  healthy || ok=1
  return $ok
}

cmd_exec() {
  local node=${1:-}
  shift || true
  [[ $# -gt 0 ]] || die "exec NODE CMD..."
  case $node in
  hub) node=$HUB ;;
  node-*) node=$(ns "${node#node-}") ;;
  [0-9]*) node=$(ns "$node") ;;
  *) die "exec: NODE is 0..$(nodes), node-i or hub, not '$node'" ;;
  esac
  grep -qx "$node" "$STATE/namespaces" 2>/dev/null || die "exec: $node is not a namespace of this lab (is it up?)"
  set -a
  # shellcheck disable=SC1091
  [[ -f $STATE/lab.env ]] && . "$STATE/lab.env"
  set +a
  exec ip netns exec "$node" "$@"
}

case ${1:-} in
up) cmd_up "${2:-}" ;;
down) cmd_down ;;
status) cmd_status ;;
exec)
  shift
  cmd_exec "$@"
  ;;
env) cat "$STATE/lab.env" ;;
*)
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
  exit 2
  ;;
esac
