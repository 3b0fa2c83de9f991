#!/usr/bin/env bash
# Failover benchmarks of issue 12 on the PostgreSQL HA lab (scripts/services/pg-ha-lab.sh):
#  1. RTO agreement: in each round `chaosplus run experiments/db-failover.yaml` (node crash of the
#     primary under the write workload) runs while an independent client (chaosplus-outage-client,
#     libpq only, one insert every 20 ms through the experiment's own multi-host DSN) was started
#     before it. chaosplus's RTO is `rto_ms` of the journal's writes.summary; the independent RTO is
#     from the wall time of the journal's fault.injected event to the completion of the client's
#     first successful insert invoked after it. Bar: they agree within 0.5 s.
#  2. Lost writes: SYNC_ROUNDS consecutive crashes of the then-primary with Patroni's
#     synchronous_mode (SYNC=1 lab), acknowledged and lost writes summed (bar: 0 lost); then
#     ASYNC_ROUNDS on a lab without synchronous_mode, whose losses are reported as they are.
# The client runs beside every round of both series, so every round gives an RTO comparison; the
# bar is judged on the first RTO_ROUNDS sync rounds (default 3) and the worst of all is printed too.
#
#   bench/db_failover.sh [SYNC_ROUNDS] [ASYNC_ROUNDS]      (default 10 and 5; needs root)
# Environment: RTO_ROUNDS (3), PHASE (the experiment's phase length, its default when unset),
#   CHAOSPLUS, OUTAGE_CLIENT (binaries; default build/bin/...), EXPERIMENT (default
#   experiments/db-failover.yaml), KEEP=1 keeps the journals and client logs (folder printed).
# Build first: cmake -S . -B build -DCHAOSPLUS_BENCH=ON -G Ninja && cmake --build build -j2
#
# The lab lock (/tmp/chaosplus-pg-lab.lock) is held for the whole benchmark: the script re-runs
# itself under flock(1) with CHAOSPLUS_LAB_LOCKED=1, so the lab script (and the experiment's
# `start-node` restart) do not wait for it, and tests of others wait until the lab is down.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
LOCK_FILE=/tmp/chaosplus-pg-lab.lock

if [ "${CHAOSPLUS_LAB_LOCKED:-}" != 1 ]; then
  echo "db_failover: waiting for the lab lock $LOCK_FILE (up to 30 min)"
  export CHAOSPLUS_LAB_LOCKED=1
  exec flock -w 1800 "$LOCK_FILE" "${BASH_SOURCE[0]}" "$@"
fi

SYNC_ROUNDS=${1:-10}
ASYNC_ROUNDS=${2:-5}
RTO_ROUNDS=${RTO_ROUNDS:-3}
CHAOSPLUS=${CHAOSPLUS:-$ROOT/build/bin/chaosplus}
OUTAGE_CLIENT=${OUTAGE_CLIENT:-$ROOT/build/bin/chaosplus-outage-client}
EXPERIMENT=${EXPERIMENT:-$ROOT/experiments/db-failover.yaml}
LAB=$ROOT/scripts/services/pg-ha-lab.sh
RUN_TIMEOUT=420 # one chaosplus run: phase, read-back, revert, after-check (90 s) with margin

for f in "$CHAOSPLUS" "$OUTAGE_CLIENT"; do
  [ -x "$f" ] || { echo "db_failover: no binary $f (build with -DCHAOSPLUS_BENCH=ON)" >&2; exit 3; }
done
[ -r "$EXPERIMENT" ] || { echo "db_failover: no experiment $EXPERIMENT" >&2; exit 3; }
[ "$(id -u)" = 0 ] || { echo "db_failover: needs root (the lab runs PostgreSQL as postgres)" >&2; exit 3; }

TMP=$(mktemp -d /tmp/chaosplus-dbbench.XXXXXX)
RESULTS=$TMP/results.jsonl
WITNESS_PID=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$WITNESS_PID" ]; then kill "$WITNESS_PID" 2>/dev/null || true; wait "$WITNESS_PID" 2>/dev/null || true; fi
  echo "db_failover: taking the lab down"
  "$LAB" down >"$TMP/down.log" 2>&1 || { echo "db_failover: lab down failed:" >&2; tail -20 "$TMP/down.log" >&2; }
  if [ "${KEEP:-0}" = 1 ]; then echo "db_failover: journals and client logs kept in $TMP"; else rm -rf "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The independent client writes through the DSN of the experiment's write workload, read from the file.
DSN=$(python3 - "$EXPERIMENT" <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
print(next(p["writes"]["dsn"] for p in doc["phases"] if "writes" in p))
PY
)

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

lab_up() { # SYNC value
  local t0=$SECONDS
  SYNC=$1 "$LAB" up >"$TMP/up-$1.log" 2>&1 || { echo "db_failover: lab up failed:" >&2; tail -30 "$TMP/up-$1.log" >&2; exit 2; }
  echo "lab up (SYNC=$1) in $((SECONDS - t0)) s"
}

# One failover: the client first (until it has one acknowledged insert), then the experiment; the
# client is stopped when the run ends. Appends one JSON line to RESULTS.
round() { # MODE ROUND
  local mode=$1 n=$2 journal=$TMP/$1-$2.jsonl witness=$TMP/$1-$2.witness.jsonl rc t0
  "$LAB" wait-healthy 180 >"$TMP/$mode-$n.healthy.log" 2>&1 || {
    echo "db_failover: the cluster is not healthy before $mode round $n:" >&2
    tail -20 "$TMP/$mode-$n.healthy.log" >&2
    exit 2
  }
  : >"$witness" # before the client starts, so the wait below never reads a file not yet made
  "$OUTAGE_CLIENT" "$DSN" $((RUN_TIMEOUT + 60)) 20 >"$witness" 2>"$TMP/$mode-$n.witness.err" &
  WITNESS_PID=$!
  t0=$SECONDS
  until grep -q '"ok":true' "$witness"; do
    if [ $((SECONDS - t0)) -ge 30 ] || ! kill -0 "$WITNESS_PID" 2>/dev/null; then
      echo "db_failover: the independent client made no write in 30 s:" >&2
      tail -5 "$witness" "$TMP/$mode-$n.witness.err" >&2
      exit 2
    fi
    sleep 0.1
  done
  rc=0
  (cd "$ROOT" && timeout "$RUN_TIMEOUT" "$CHAOSPLUS" run "$EXPERIMENT" --journal "$journal" \
    ${PHASE:+--var "PHASE=$PHASE"}) >"$TMP/$mode-$n.out" 2>&1 || rc=$?
  kill "$WITNESS_PID" 2>/dev/null || true
  wait "$WITNESS_PID" 2>/dev/null || true
  WITNESS_PID=""
  # 0 held, 1 deviated (an asynchronous failover that lost writes misses lost_writes == 0): both
  # are results. Anything else is a failed run: recorded and shown, the series goes on.
  if [ "$rc" != 0 ] && [ "$rc" != 1 ]; then
    echo "db_failover: $mode round $n: chaosplus run exited $rc; its last lines:" >&2
    tail -15 "$TMP/$mode-$n.out" >&2
  fi
  python3 - "$mode" "$n" "$rc" "$journal" "$witness" "$(loadavg)" "$DSN" >>"$RESULTS" <<'PY'
import json, subprocess, sys, time
from datetime import datetime
mode, n, rc, journal, witness, load, dsn = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7]
def wall_ms(t):  # journal `time`: ISO 8601 UTC with milliseconds
    return round(datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() * 1000)
events = []
try:
    events = [json.loads(l) for l in open(journal) if l.strip()]
except OSError:
    pass
out = {"mode": mode, "round": n, "exit": rc, "load": load}
fault = next((e for e in events if e.get("type") == "fault.injected"), None)
summary = next((e for e in events if e.get("type") == "writes.summary"), None)
verdict = next((e for e in events if e.get("type") == "run.verdict"), None)
if verdict:
    out["verdict"] = verdict.get("verdict")
if fault:
    out["fault_wall_ms"] = wall_ms(fault["time"])
    out["fault"] = fault.get("summary", "")
if summary:
    for k in ("attempted", "acknowledged", "failed", "unknown", "lost", "unexpected", "unknown_committed",
              "rpo_span_ms", "rto_ms", "promotion_ms", "reconnection_ms", "split_brain", "read_back"):
        if k in summary:
            out[k] = summary[k]
attempts = [json.loads(l) for l in open(witness) if l.startswith("{")]
out["witness_attempts"] = len(attempts)
out["witness_ok"] = sum(a["ok"] for a in attempts)
if fault:
    t = out["fault_wall_ms"]
    after = [a for a in attempts if a["ok"] and a["invoked"] >= t]
    if after:
        first = min(after, key=lambda a: a["completed"])
        out["witness_rto_ms"] = first["completed"] - t
        out["witness_host"] = first["host"]
    before = [a for a in attempts if a["ok"] and a["invoked"] < t]
    if before:
        last = max(before, key=lambda a: a["completed"])
        out["witness_host_before"] = last["host"]
        # When the crash took hold as the client saw it: its first failure after its last
        # acknowledgement before the event (negative: before fault.injected was written), and the
        # whole outage it saw, from that last acknowledgement to the first one after.
        fails = [a for a in attempts if not a["ok"] and a["completed"] >= last["completed"]]
        if fails:
            out["witness_first_failure_ms"] = min(a["completed"] for a in fails) - t
        if "witness_rto_ms" in out:
            out["witness_outage_ms"] = out["witness_rto_ms"] + t - last["completed"]
# The client's own losses: its acknowledged ids read back from the primary (the experiment's check
# after the phases has seen the cluster healthy), a few tries while it settles.
acked = {a["id"] for a in attempts if a["ok"]}
if acked:
    query = f"SELECT id FROM chaosplus_outage_witness WHERE id BETWEEN {min(acked)} AND {max(acked)}"
    for _ in range(10):
        p = subprocess.run(["psql", dsn, "-XAtc", query], capture_output=True, text=True, timeout=30)
        if p.returncode == 0:
            present = {int(x) for x in p.stdout.split()}
            out["witness_lost"] = len(acked - present)
            break
        time.sleep(2)
    else:
        out["witness_read_back_error"] = p.stderr.strip()[-200:]
print(json.dumps(out))
PY
  python3 - "$RESULTS" <<'PY'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])][-1]
def s(ms): return "-" if ms is None else f"{ms / 1000:.3f}s"
rto, w = r.get("rto_ms"), r.get("witness_rto_ms")
diff = f"{(w - rto) / 1000:+.3f}s" if rto is not None and w is not None else "-"
print(f"{r['mode']} round {r['round']}: exit {r['exit']} ({r.get('verdict', 'no verdict')}), "
      f"{r.get('witness_host_before', '?')} -> {r.get('witness_host', '?')}; "
      f"acknowledged {r.get('acknowledged', '-')}, lost {r.get('lost', '-')}, unknown {r.get('unknown', '-')}, "
      f"RPO span {s(r.get('rpo_span_ms'))}, split brain {r.get('split_brain', '-')}; "
      f"independent client: {r.get('witness_ok', 0)} acknowledged, lost {r.get('witness_lost', 'unmeasured')}; "
      f"RTO chaosplus {s(rto)} (promotion {s(r.get('promotion_ms'))}), independent {s(w)}, diff {diff}; "
      f"the client's first failure at {s(r.get('witness_first_failure_ms'))} from fault.injected, "
      f"its outage {s(r.get('witness_outage_ms'))}; "
      f"load {r['load']}")
PY
}

echo "db_failover: $SYNC_ROUNDS synchronous and $ASYNC_ROUNDS asynchronous failovers; $(nproc) cores; load average $(loadavg)"
echo "experiment $EXPERIMENT${PHASE:+ (PHASE=$PHASE)}; independent client DSN: $DSN"
"$LAB" down >"$TMP/down-first.log" 2>&1 || true
if [ "$SYNC_ROUNDS" -gt 0 ]; then
  lab_up 1
  for n in $(seq 1 "$SYNC_ROUNDS"); do round sync "$n"; done
fi
if [ "$ASYNC_ROUNDS" -gt 0 ]; then
  "$LAB" down >"$TMP/down-sync.log" 2>&1
  lab_up 0
  for n in $(seq 1 "$ASYNC_ROUNDS"); do round async "$n"; done
fi
echo "load average at the end: $(loadavg)"

python3 - "$RESULTS" "$RTO_ROUNDS" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
rto_rounds = int(sys.argv[2])
def ms(v):
    return "unmeasured" if v is None else f"{v:.0f} ms"
def diff(r):
    if r.get("rto_ms") is None or r.get("witness_rto_ms") is None:
        return None
    return r["witness_rto_ms"] - r["rto_ms"]
print()
print("RTO agreement (independent - chaosplus; bar: |diff| <= 0.5 s in each round)")
judged = [r for r in rows if r["mode"] == "sync"][:rto_rounds]
for r in judged:
    d = diff(r)
    print(f"  sync round {r['round']}: chaosplus {ms(r.get('rto_ms'))}, independent {ms(r.get('witness_rto_ms'))}, "
          f"diff {ms(d)}")
ds = [diff(r) for r in judged]
if not judged:
    print("  bar not judged: no synchronous round")
elif all(d is not None for d in ds):
    worst = max(ds, key=abs)
    print(f"  worst of the first {len(judged)}: {ms(worst)} -> {'within' if abs(worst) <= 500 else 'OUTSIDE'} 0.5 s")
else:
    print(f"  bar not judged: a round has no RTO from one side")
alld = [(r, diff(r)) for r in rows if diff(r) is not None]
if alld:
    r, d = max(alld, key=lambda x: abs(x[1]))
    print(f"  worst of all {len(alld)} measured rounds: {ms(d)} ({r['mode']} round {r['round']}); "
          f"{sum(abs(d) <= 500 for _, d in alld)} of {len(alld)} within 0.5 s")
for mode in ("sync", "async"):
    rs = [r for r in rows if r["mode"] == mode]
    if not rs:
        continue
    ack = sum(r.get("acknowledged", 0) for r in rs)
    lost = sum(r.get("lost", 0) for r in rs)
    unk = sum(r.get("unknown", 0) for r in rs)
    unmeasured = [r["round"] for r in rs if "lost" not in r]
    lossy = [r for r in rs if r.get("lost", 0) > 0]
    print()
    print(f"{mode}: {len(rs)} failovers, {ack} acknowledged writes, {lost} lost, {unk} unknown outcomes, "
          f"split brain {sum(r.get('split_brain', 0) for r in rs)}; independent client: "
          f"{sum(r.get('witness_ok', 0) for r in rs)} acknowledged, {sum(r.get('witness_lost', 0) for r in rs)} lost"
          + ("" if all("witness_lost" in r for r in rs) else " (not read back in some rounds)"))
    print("  per round (acknowledged/lost): " + ", ".join(f"{r.get('acknowledged', '-')}/{r.get('lost', '-')}" for r in rs))
    if unmeasured:
        print(f"  rounds without a read-back (lost unmeasured): {unmeasured}")
    for r in lossy:
        print(f"  round {r['round']}: lost {r['lost']} acknowledged writes over {ms(r.get('rpo_span_ms'))} (RPO span)")
    if mode == "sync":
        ok = lost == 0 and not unmeasured
        print(f"  bar (0 acknowledged writes lost over {len(rs)} failovers): {'met' if ok else 'MISSED'}")
PY
