#!/usr/bin/env python3
"""Bulk throughput through an acting toxic, one chaosplus binary against another.

Each binary runs `chaosplus proxy` with one proxy carrying `latency 0` toxics on both streams, so
every byte takes the copy path through an acting stage (the data path a toxic's counters sit on).
Rounds alternate the order of the binaries, so drift in machine load falls on both alike.

  bench/toxic_bulk.py BEFORE_BINARY AFTER_BINARY [--rounds 9] [--bytes 300000000]

The load program is build/bin/chaosplus-proxy-bench, or PROXY_BENCH=..., else compiled from
bench/proxy_bench.cpp. Loopback only. Prints the median MB/s of each and the ratio after/before.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import tempfile
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def api(base, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, method=method, data=data)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--bytes", type=int, default=300_000_000)
    args = parser.parse_args()

    bench = os.environ.get("PROXY_BENCH", os.path.join(HERE, "..", "build", "bin", "chaosplus-proxy-bench"))
    if not os.access(bench, os.X_OK):
        bench = os.path.join(tempfile.mkdtemp(prefix="chaosplus-toxicbulk."), "proxy-bench")
        subprocess.run(["g++", "-std=c++20", "-O2", "-o", bench, os.path.join(HERE, "proxy_bench.cpp")], check=True)

    children = []
    try:
        server = subprocess.Popen([bench, "serve", "--port", "0"], stdout=subprocess.PIPE, text=True)
        children.append(server)
        server_port = int(re.search(r"(\d+)", server.stdout.readline()).group(1))
        ports = {}
        for name, binary in (("before", args.before), ("after", args.after)):
            proxy = subprocess.Popen([binary, "proxy", "--api", "127.0.0.1:0", "--no-token"],
                                     stdout=subprocess.PIPE, text=True)
            children.append(proxy)
            base = "http://127.0.0.1:" + proxy.stdout.readline().strip().rsplit(":", 1)[1]
            made = api(base, "POST", "/proxies",
                       {"name": "bulk", "listen": "127.0.0.1:0", "upstream": f"127.0.0.1:{server_port}"})
            for stream in ("upstream", "downstream"):
                api(base, "POST", "/proxies/bulk/toxics",
                    {"name": "zero-" + stream, "type": "latency", "stream": stream, "attributes": {"latency": 0}})
            ports[name] = int(made["listen"].rsplit(":", 1)[1])

        results = {(n, d): [] for n in ports for d in ("up", "down")}
        for r in range(args.rounds):
            for direction in ("up", "down"):
                for name in (("before", "after") if r % 2 == 0 else ("after", "before")):
                    out = subprocess.run([bench, "bulk", "--port", str(ports[name]), "--bytes", str(args.bytes),
                                          "--direction", direction], capture_output=True, text=True, timeout=120)
                    results[(name, direction)].append(json.loads(out.stdout.strip().splitlines()[-1])["mb_per_s"])
        for direction in ("up", "down"):
            before = statistics.median(results[("before", direction)])
            after = statistics.median(results[("after", direction)])
            print(f"{direction:>4}: before {before:.0f} MB/s, after {after:.0f} MB/s (medians of {args.rounds}), "
                  f"after/before {after / before:.3f}")
    finally:
        for child in children:
            child.terminate()
            child.wait(timeout=10)


if __name__ == "__main__":
    main()
