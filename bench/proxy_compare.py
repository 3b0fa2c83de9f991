#!/usr/bin/env python3
"""The fault proxy's bars (issue #3), measured in one run on loopback: a direct connection vs
`chaosplus proxy` (no toxic) vs haproxy in TCP mode (1 thread) for
  (a) small request/response round trips: added latency p50 / p99 (also on fresh connections),
  (b) bulk throughput, both directions, as a share of direct,
  (c) 10,000 connections held open end to end,
  (d) a `latency 100ms` toxic: the added p50.
Round trips interleave the targets sample by sample, so machine noise falls on all of them alike;
every figure is the median over ROUNDS. Run through bench/proxy_compare.sh (installs haproxy)."""
import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
STEP_TIMEOUT = 180  # seconds any one client command may take


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def read_line(proc, pattern, timeout=15.0):
    """Reads the child's stdout until a line matches `pattern` (bounded in time)."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        m = re.search(pattern, line)
        if m:
            return m
    raise RuntimeError(f"no line matching {pattern!r}; got {seen!r}")


def family(pid):
    """The process and its children (`chaosplus proxy --workers N` serves from N+1 processes)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [pid] + [int(c) for c in f.read().split()]
    except OSError:
        return [pid]


def proc_cpu(pid):
    total = 0.0
    for p in family(pid):
        with open(f"/proc/{p}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def schedstat(pid):
    """(seconds on a CPU, seconds runnable but waiting for one) summed over the threads of the
    process and its children."""
    on_cpu = waiting = 0
    for p in family(pid):
        for tid in os.listdir(f"/proc/{p}/task"):
            try:
                with open(f"/proc/{p}/task/{tid}/schedstat") as f:
                    fields = f.read().split()
                on_cpu += int(fields[0])
                waiting += int(fields[1])
            except OSError:
                pass
    return on_cpu / 1e9, waiting / 1e9


def proc_status(pid):
    """RSS and descriptors summed over the process and its children."""
    rss = fds = 0
    for p in family(pid):
        with open(f"/proc/{p}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key == "VmRSS":
                    rss += int(value.split()[0])
        fds += len(os.listdir(f"/proc/{p}/fd"))
    return {"rss_mib": rss / 1024, "fds": fds, "processes": len(family(pid))}


def api(port, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json", "User-Agent": "proxy-bench"})
    with urllib.request.urlopen(req, timeout=10) as r:
        text = r.read().decode()
        return json.loads(text) if text else None


def run_json(cmd, timeout=STEP_TIMEOUT):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    rows = [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]
    if out.returncode not in (0, 1) or not rows:
        raise RuntimeError(f"{' '.join(cmd)} failed ({out.returncode}): {out.stdout} {out.stderr}")
    return rows


class Processes:
    """Children started by the benchmark; stopped (SIGTERM, then SIGKILL) in reverse order."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.children = []

    def start(self, name, cmd):
        # stderr to a file: a chatty child must never block on a full pipe.
        err = open(os.path.join(self.tmp, f"{len(self.children)}.stderr"), "w+")
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
        self.children.append((name, proc, err))
        return proc

    def stop_all(self):
        for name, proc, err_file in reversed(self.children):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
            if proc.returncode not in (0, -signal.SIGTERM, 143):
                err_file.seek(0)
                err = err_file.read()
                print(f"note: {name} exited with {proc.returncode}: {err.strip()[:300]}", file=sys.stderr)


def haproxy_config(tmp, server_port, plain_port, splice_port, maxconn):
    # One thread, TCP mode: the fast user-space L4 reference. A second frontend enables splice()
    # (zero-copy between sockets) to show what that alone is worth in bulk transfers.
    return f"""global
  nbthread 1
  maxconn {maxconn}
  maxpipes 64
  pidfile {tmp}/haproxy.pid
  log stderr format raw local0 emerg
defaults
  mode tcp
  timeout connect 5s
  timeout client 300s
  timeout server 300s
frontend plain
  bind 127.0.0.1:{plain_port}
  maxconn {maxconn}
  default_backend upstream
frontend spliced
  bind 127.0.0.1:{splice_port}
  maxconn {maxconn}
  option splice-request
  option splice-response
  default_backend upstream
backend upstream
  server s1 127.0.0.1:{server_port} maxconn {maxconn}
"""


def median(values):
    return statistics.median(values) if values else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rtt-count", type=int, default=20000, help="round trips per target per round")
    parser.add_argument("--fresh-count", type=int, default=1000, help="fresh-connection round trips per target")
    parser.add_argument("--bulk-bytes", type=int, default=1_000_000_000, help="bytes per bulk transfer")
    parser.add_argument("--bulk-rounds", type=int, default=9,
                        help="bulk rounds (short transfers, many rounds: drift in machine load cancels out)")
    parser.add_argument("--hold", type=int, default=10000, help="connections to hold (0 skips)")
    parser.add_argument("--hold-seconds", type=int, default=20)
    parser.add_argument("--proxy-nofile", type=int, default=0,
                        help="run the proxies under `prlimit --nofile=N:N` (10,000 proxied connections need "
                             "20,000 descriptors plus a few; raising the hard limit needs CAP_SYS_RESOURCE); "
                             "0 (default) keeps the inherited limit")
    parser.add_argument("--proxy-workers", type=int, default=1,
                        help="chaosplus proxy --workers N (extra processes: 10,000 connections need 20,000+ "
                             "descriptors, more than one process may have here)")
    parser.add_argument("--copy-too", action="store_true",
                        help="bulk also through a second chaosplus proxy with --splice-pipes 0 (the copy path)")
    parser.add_argument("--skip", default="", help="comma list of sections to skip: rtt,fresh,bulk,toxic,hold")
    parser.add_argument("--json", help="write every raw measurement here")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))

    chaosplus = os.environ.get("CHAOSPLUS", os.path.join(ROOT, "build/bin/chaosplus"))
    bench = os.environ.get("PROXY_BENCH", os.path.join(os.path.dirname(chaosplus), "chaosplus-proxy-bench"))
    if not os.access(chaosplus, os.X_OK):
        sys.exit(f"no chaosplus binary at {chaosplus} (set CHAOSPLUS=...)")
    if not shutil.which("haproxy"):
        sys.exit("haproxy is not installed (apt-get install haproxy; bench/proxy_compare.sh does it)")

    tmp = tempfile.mkdtemp(prefix="chaosplus-proxybench.")
    if not os.access(bench, os.X_OK):
        # No CMake bench build: the load program is one self-contained file.
        bench = os.path.join(tmp, "proxy-bench")
        subprocess.run(["g++", "-std=c++20", "-O2", "-o", bench, os.path.join(HERE, "proxy_bench.cpp")], check=True)

    limit = ["prlimit", f"--nofile={args.proxy_nofile}:{args.proxy_nofile}"] if args.proxy_nofile else []
    nofile = args.proxy_nofile or resource.getrlimit(resource.RLIMIT_NOFILE)[1]

    procs = Processes(tmp)
    raw = {"load_before": loadavg(), "rounds": args.rounds}
    try:
        server = procs.start("server", [bench, "serve", "--port", "0"])
        server_port = int(read_line(server, r"listening on (\d+)").group(1))

        # A loopback API that lives as long as this script: no token needed.
        cp = procs.start("chaosplus proxy", limit + [chaosplus, "proxy", "--api", "127.0.0.1:0", "--no-token",
                                                     "--workers", str(args.proxy_workers)])
        api_port = int(read_line(cp, r"listening on [0-9.]+:(\d+)").group(1))
        upstream = f"127.0.0.1:{server_port}"
        plain = api(api_port, "POST", "/proxies", {"name": "plain", "listen": "127.0.0.1:0", "upstream": upstream})
        slow = api(api_port, "POST", "/proxies", {"name": "slow", "listen": "127.0.0.1:0", "upstream": upstream})
        api(api_port, "POST", "/proxies/slow/toxics",
            {"name": "latency_downstream", "type": "latency", "stream": "downstream",
             "attributes": {"latency": 100, "jitter": 0}})
        cp_port = int(plain["listen"].rsplit(":", 1)[1])
        copy = None
        if args.copy_too:
            copy = procs.start("chaosplus proxy (copy)",
                               limit + [chaosplus, "proxy", "--api", "127.0.0.1:0", "--no-token",
                                        "--splice-pipes", "0"])
            copy_api = int(read_line(copy, r"listening on [0-9.]+:(\d+)").group(1))
            copied = api(copy_api, "POST", "/proxies", {"name": "plain", "listen": "127.0.0.1:0", "upstream": upstream})
            copy_port = int(copied["listen"].rsplit(":", 1)[1])
        slow_port = int(slow["listen"].rsplit(":", 1)[1])

        hap_port, splice_port = free_port(), free_port()
        cfg = os.path.join(tmp, "haproxy.cfg")
        with open(cfg, "w") as f:
            # haproxy refuses to start if maxconn needs more descriptors than it may open (2 per
            # connection plus pipes and listeners): the same ceiling the chaosplus proxy meets.
            hap_maxconn = min(max(args.hold, 1000) + 100, (nofile - 400) // 2)
            f.write(haproxy_config(tmp, server_port, hap_port, splice_port, hap_maxconn))
        hap = procs.start("haproxy", limit + ["haproxy", "-db", "-f", cfg])
        for port in (cp_port, slow_port, hap_port, splice_port):
            wait_port(port)

        targets = [("direct", server_port), ("chaosplus", cp_port), ("haproxy", hap_port)]
        print(f"load average at start: {raw['load_before']}  (2 cores; other builds share them)")
        print(f"upstream 127.0.0.1:{server_port}; chaosplus proxy pid {cp.pid}; haproxy pid {hap.pid} (nbthread 1, maxconn "
              f"{hap_maxconn}); open-file limit of the proxies {nofile}")

        def rtt_section(key, extra, count):
            rows = []
            warmup = min(500, count // 10)
            for r in range(args.rounds):
                # Each proxy carries only its own target's traffic: its CPU time per round trip is
                # a figure the machine's noise hardly moves.
                cpu_before = {"chaosplus": proc_cpu(cp.pid), "haproxy": proc_cpu(hap.pid)}
                out = run_json([bench, "rtt", "--ports", ",".join(str(p) for _, p in targets),
                                "--labels", ",".join(n for n, _ in targets), "--count", str(count),
                                "--warmup", str(warmup)] + extra)
                rows.append({row["label"]: row for row in out})
                for name, pid in (("chaosplus", cp.pid), ("haproxy", hap.pid)):
                    rows[-1][name]["proxy_cpu_us_per_rt"] = (proc_cpu(pid) - cpu_before[name]) * 1e6 / (count + warmup)
                print(f"  round {r + 1}: " + "  ".join(
                    f"{n} p50 {rows[-1][n]['p50_us']:.1f} p99 {rows[-1][n]['p99_us']:.1f}" for n, _ in targets)
                    + f"   (load {loadavg().split()[0]})")
            raw[key] = rows
            return rows

        summary = []
        for key, extra, count, title in (("rtt", [], args.rtt_count, "persistent connection, 64-byte echo"),
                                         ("fresh", ["--fresh"], args.fresh_count,
                                          "fresh connection per request (connect + 64-byte echo + close)")):
            if key in skip:
                continue
            print(f"\n(a) round trips, {title}, {count} per target per round, µs:")
            rows = rtt_section(key, extra, count)
            for name, _ in targets[1:]:
                for q in ("p50", "p99"):
                    added = median([r[name][f"{q}_us"] - r["direct"][f"{q}_us"] for r in rows])
                    absolute = median([r[name][f"{q}_us"] for r in rows])
                    direct = median([r["direct"][f"{q}_us"] for r in rows])
                    summary.append((key, name, q, added, absolute, direct))
            print(f"  {'target':10} {'p50':>8} {'p99':>9} {'added p50':>10} {'added p99':>10} {'proxy CPU/RT':>13}"
                  f"   (medians of rounds)")
            for name, _ in targets:
                p50 = median([r[name]["p50_us"] for r in rows])
                p99 = median([r[name]["p99_us"] for r in rows])
                a50 = median([r[name]["p50_us"] - r["direct"]["p50_us"] for r in rows])
                a99 = median([r[name]["p99_us"] - r["direct"]["p99_us"] for r in rows])
                cpu = (f"{median([r[name]['proxy_cpu_us_per_rt'] for r in rows]):10.1f} µs"
                       if name != "direct" else "")
                print(f"  {name:10} {p50:8.1f} {p99:9.1f} {a50:10.1f} {a99:10.1f} {cpu:>13}")

        bulk_targets = targets + [("haproxy+splice", splice_port)]
        if copy:
            bulk_targets.insert(2, ("chaosplus-copy", copy_port))
        if "bulk" not in skip:
            print(f"\n(b) bulk, one connection, {args.bulk_bytes / 1e9:.1f} GB per transfer, MB/s "
                  f"(proxy CPU seconds per GB in brackets); CPU per GB shows where a 2-core box runs out:")
            bulk_rows = []
            pids = {"chaosplus": cp.pid, "haproxy": hap.pid, "haproxy+splice": hap.pid}
            if copy:
                pids["chaosplus-copy"] = copy.pid
            for r in range(args.bulk_rounds):
                row = {}
                order = bulk_targets[r % len(bulk_targets):] + bulk_targets[:r % len(bulk_targets)]
                for direction in ("down", "up"):
                    for name, port in order:
                        gb = args.bulk_bytes / 1e9
                        before = proc_cpu(pids[name]) if name in pids else 0
                        server_before = proc_cpu(server.pid)
                        watched = [server.pid] + ([pids[name]] if name in pids else [])
                        sched_before = [schedstat(p) for p in watched]
                        client_before = resource.getrusage(resource.RUSAGE_CHILDREN)
                        out = run_json([bench, "bulk", "--port", str(port), "--bytes", str(args.bulk_bytes),
                                        "--direction", direction])[0]
                        client_after = resource.getrusage(resource.RUSAGE_CHILDREN)
                        cpu = (proc_cpu(pids[name]) - before) if name in pids else 0
                        client_cpu = (client_after.ru_utime + client_after.ru_stime
                                      - client_before.ru_utime - client_before.ru_stime)
                        ran = waited = 0.0
                        for p, (cpu0, wait0) in zip(watched, sched_before):
                            cpu1, wait1 = schedstat(p)
                            ran, waited = ran + cpu1 - cpu0, waited + wait1 - wait0
                        row[f"{name}/{direction}"] = {**out, "proxy_cpu_s_per_gb": cpu / gb,
                                                      "cpu_wait_share": waited / max(ran + waited, 1e-9),
                                                      "client_cpu_s_per_gb": client_cpu / gb,
                                                      "server_cpu_s_per_gb": (proc_cpu(server.pid) - server_before) / gb}
                bulk_rows.append(row)
                print(f"  round {r + 1}: " + "  ".join(
                    f"{k} {v['mb_per_s']:.0f}" + (f" [{v['proxy_cpu_s_per_gb']:.2f}]" if "direct" not in k else "")
                    for k, v in row.items()) + f"   (load {loadavg().split()[0]})")
            raw["bulk"] = bulk_rows
            direct_wait = median([v["cpu_wait_share"] for r in bulk_rows for k, v in r.items() if k.startswith("direct/")])
            proxied_wait = median([v["cpu_wait_share"] for r in bulk_rows for k, v in r.items()
                                   if not k.startswith("direct/")])
            print(f"  disturbance: in direct transfers the server waited for a CPU {100 * direct_wait:.0f}% of its busy "
                  f"time (~0% on a quiet 2-core box); in proxied ones server and proxy waited {100 * proxied_wait:.0f}% "
                  f"(three busy processes on 2 cores wait even on a quiet box)")
            print(f"  {'target':15} {'down MB/s':>10} {'% direct':>9} {'up MB/s':>10} {'% direct':>9}   CPU s/GB client/server/proxy: down  up")
            for name, _ in bulk_targets:
                cells = []
                for direction in ("down", "up"):
                    speed = median([r[f"{name}/{direction}"]["mb_per_s"] for r in bulk_rows])
                    share = median([r[f"{name}/{direction}"]["mb_per_s"] / r[f"direct/{direction}"]["mb_per_s"]
                                    for r in bulk_rows])
                    cells.append((speed, share))
                    if name != "direct":
                        summary.append(("bulk", name, direction, share, speed, None))
                cpu = "  ".join("/".join(f"{median([r[f'{name}/{d}'][f'{who}_cpu_s_per_gb'] for r in bulk_rows]):.2f}"
                                         for who in ("client", "server", "proxy")) for d in ("down", "up"))
                print(f"  {name:15} {cells[0][0]:10.0f} {100 * cells[0][1]:8.0f}% {cells[1][0]:10.0f} "
                      f"{100 * cells[1][1]:8.0f}%   {cpu}")

        if "toxic" not in skip:
            print("\n(d) latency toxic (latency 100 ms, jitter 0, downstream) on chaosplus, 50 round trips per round, ms:")
            toxic_rows = []
            for r in range(args.rounds):
                out = {row["label"]: row for row in run_json(
                    [bench, "rtt", "--ports", f"{server_port},{slow_port}", "--labels", "direct,toxic",
                     "--count", "50", "--warmup", "2"])}
                added = (out["toxic"]["p50_us"] - out["direct"]["p50_us"]) / 1000
                toxic_rows.append({**out, "added_p50_ms": added})
                print(f"  round {r + 1}: added p50 {added:.3f}  p99 {(out['toxic']['p99_us'] - out['direct']['p99_us']) / 1000:.3f}"
                      f"  max {out['toxic']['max_us'] / 1000:.3f}")
            raw["toxic"] = toxic_rows
            added = median([r["added_p50_ms"] for r in toxic_rows])
            summary.append(("toxic", "chaosplus", "p50", added, None, None))
            print(f"  median added p50: {added:.3f} ms")

        if args.hold and "hold" not in skip:
            print(f"\n(c) {args.hold} connections opened and held {args.hold_seconds}s through each proxy, "
                  f"echo checked before and after:")
            raw["hold"] = {}
            for name, port, pid in (("chaosplus", cp_port, cp.pid), ("haproxy", hap_port, hap.pid)):
                client = subprocess.Popen([bench, "hold", "--port", str(port), "--connections", str(args.hold),
                                           "--seconds", str(args.hold_seconds)],
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                opened = read_line(client, r"\"phase\": \"opened\"", timeout=150)
                mid = proc_status(pid)
                established = subprocess.run(["ss", "-Htn", "state", "established", f"( sport = :{port} )"],
                                             capture_output=True, text=True).stdout.count("\n")
                out, err = client.communicate(timeout=args.hold_seconds + 120)
                done = json.loads([l for l in out.splitlines() if '"done"' in l][0])
                raw["hold"][name] = {**done, **mid, "established_mid": established}
                summary.append(("hold", name, "held", done["echoed_after_hold"], None, None))
                print(f"  {name:10} opened {done['opened']}, echoed {done['echoed']}, still echoing after hold "
                      f"{done['echoed_after_hold']}, dropped {done['dropped_while_held']}, connect errors "
                      f"{done['connect_errors']} {done['first_error']}; open took {done['open_seconds']:.1f}s; "
                      f"mid-hold: {established} established at the proxy port, proxy RSS {mid['rss_mib']:.1f} MiB "
                      f"({mid['rss_mib'] * 1048576 / max(done['opened'], 1):.0f} B/conn), {mid['fds']} fds in "
                      f"{mid['processes']} process(es)")

        raw["load_after"] = loadavg()
        print(f"\nload average at end: {raw['load_after']}")
        print("\nBars (issue #3):")
        for key, name, q, value, absolute, direct in summary:
            if key in ("rtt", "fresh") and name == "chaosplus":
                bar = 50 if q == "p50" else 200
                label = "added latency" if key == "rtt" else "added latency, fresh connections (no bar)"
                verdict = "" if key == "fresh" else ("  MET" if value <= bar else "  MISSED")
                print(f"  chaosplus {label} {q}: {value:.1f} µs (direct {direct:.1f}, proxied {absolute:.1f})"
                      + (f"; bar ≤ {bar} µs" if key == "rtt" else "") + verdict)
            elif key in ("rtt", "fresh"):
                print(f"  {name} {'fresh ' if key == 'fresh' else ''}added latency {q}: {value:.1f} µs (reference)")
            elif key == "bulk":
                verdict = ("  MET" if value >= 0.8 else "  MISSED") if name == "chaosplus" else " (reference)"
                print(f"  {name} bulk {q}: {100 * value:.0f}% of direct ({absolute:.0f} MB/s); bar ≥ 80%{verdict}")
            elif key == "toxic":
                print(f"  latency 100ms toxic, added p50: {value:.3f} ms; bar 98-102 ms"
                      + ("  MET" if abs(value - 100) <= 2 else "  MISSED"))
            elif key == "hold":
                verdict = ("  MET" if value >= args.hold else "  MISSED") if name == "chaosplus" else " (reference)"
                print(f"  {name} connections held and echoing: {value} of {args.hold}{verdict}")
        if args.json:
            with open(args.json, "w") as f:
                json.dump(raw, f, indent=1)
    finally:
        procs.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
