#!/usr/bin/env python3
"""The fault proxy's control API under abuse and at scale (issue #8), on loopback, against one
`chaosplus proxy` with a token:
  (a) idle: IDLE connections opened to the API and held without a byte sent; then, ROUNDS times,
      an authenticated client on a fresh connection changes a toxic: the time each change took;
  (b) deep: a body of 1,000,000 nested '[' (and '{') to every JSON route: status and time, and
      whether the proxy still answers afterwards;
  (c) create: PROXIES proxies created one by one through the API (one kept-alive connection, port 0
      listeners): the time per batch of BATCH, so a cost that grows with the count shows.
Run through bench/proxy_api.sh. CHAOSPLUS=path picks the binary (an older build gives the
"before" figures)."""
import argparse
import http.client
import json
import os
import resource
import secrets
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def start_proxy(chaosplus, token, nofile, workers):
    env = dict(os.environ, CHAOSPLUS_PROXY_TOKEN=token)
    argv = [chaosplus, "proxy", "--api", "127.0.0.1:0"] + (["--workers", str(workers)] if workers else [])
    if nofile:
        # Root may raise the hard limit: a listener per proxy needs a descriptor each.
        argv = ["prlimit", f"--nofile={nofile}:{nofile}"] + argv
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if "listening on" in line:
            return proc, int(line.rsplit(":", 1)[1])
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError("chaosplus proxy did not print its API address")


class Api:
    """One kept-alive connection to the API, with the token."""

    def __init__(self, port, token, timeout=60):
        self.port, self.token, self.timeout = port, token, timeout
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def call(self, method, path, body=None, raw=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                r = self.conn.getresponse()
                return r.status, r.read().decode(errors="replace")
            except (http.client.HTTPException, OSError):
                # A kept-alive connection the server closed (or evicted): reconnect once.
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                if attempt:
                    raise
        return None


def idle_phase(port, token, idle, rounds):
    setup = Api(port, token)
    status, body = setup.call("POST", "/proxies", {"name": "idle-target", "listen": "127.0.0.1:0",
                                                   "upstream": "127.0.0.1:9"})
    if status == 201:
        status, body = setup.call("POST", "/proxies/idle-target/toxics",
                                  {"name": "slow", "type": "latency", "attributes": {"latency": 10}})
    setup.conn.close()
    if status != 200:
        print(f"idle: could not set up the proxy: {status} {body[:200]}")
        return
    held = []
    failed = 0
    start = time.monotonic()
    for _ in range(idle):
        s = socket.socket()
        try:
            s.connect(("127.0.0.1", port))
            held.append(s)
        except OSError:
            failed += 1
            s.close()
    print(f"idle: {len(held)} connections opened and held ({failed} failed) in {time.monotonic() - start:.2f} s")
    times = []
    for i in range(rounds):
        # Each try on a fresh connection, as a runner's change makes; a refused try (503) is
        # retried every 0.1 s for up to 60 s: the figure is the time until the change is made.
        began = time.monotonic()
        tries = 0
        while True:
            tries += 1
            api = Api(port, token, timeout=60)
            try:
                status, body = api.call("POST", "/proxies/idle-target/toxics/slow", {"attributes": {"latency": 11 + i}})
            except OSError as e:
                status, body = 0, str(e)
            api.conn.close()
            if status == 200 or time.monotonic() - began > 60:
                break
            time.sleep(0.1)
        took = time.monotonic() - began
        times.append(took)
        print(f"idle: toxic change {i + 1}: {status} after {took * 1000:.1f} ms ({tries} tries)" +
              ("" if status == 200 else f" {body[:120]}"))
    print(f"idle: with {len(held)} idle connections held, a toxic change took median {statistics.median(times) * 1000:.1f} ms, "
          f"max {max(times) * 1000:.1f} ms")
    for s in held:
        s.close()


def deep_phase(port, token):
    api = Api(port, token)
    api.call("POST", "/proxies", {"name": "deep", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9"})
    api.call("POST", "/proxies/deep/toxics", {"name": "t", "type": "latency", "attributes": {"latency": 1}})
    # Each route with the field its handler reads first, holding the deep value (valid JSON), and
    # the same depth never closed.
    routes = [("POST", "/proxies", "name"), ("POST", "/proxies/deep", "listen"), ("PATCH", "/proxies/deep", "listen"),
              ("POST", "/populate", "name"), ("POST", "/proxies/deep/toxics", "name"),
              ("POST", "/proxies/deep/toxics/t", "toxicity"), ("PATCH", "/proxies/deep/toxics/t", "toxicity")]
    depth = 1_000_000
    deep_values = {"[": "[" * depth + "]" * depth, "{": '{"a":' * (depth - 1) + "{}" + "}" * (depth - 1)}
    for open_char, value in deep_values.items():
        for method, path, field in routes:
            whole = '{"%s":%s,"upstream":"127.0.0.1:1"}' % (field, value)
            if path == "/populate":
                whole = "[" + whole + "]"
            for shape, body in (("whole", whole), ("unclosed", open_char * depth)):
                began = time.monotonic()
                try:
                    status, text = Api(port, token).call(method, path, raw=body.encode())
                except OSError as e:
                    status, text = 0, f"connection failed: {e}"
                print(f"deep: {method} {path}, 1,000,000 '{open_char}' {shape}: {status} in "
                      f"{(time.monotonic() - began) * 1000:.0f} ms: {text[:90]}")
    try:
        status, _ = Api(port, token).call("GET", "/version")
    except OSError as e:
        status = f"no answer ({e})"
    print(f"deep: afterwards GET /version -> {status}")


def create_phase(port, token, proxies, batch):
    api = Api(port, token)
    total = time.monotonic()
    began = total
    for i in range(proxies):
        status, body = api.call("POST", "/proxies", {"name": f"p{i}", "listen": "127.0.0.1:0",
                                                     "upstream": "127.0.0.1:9"})
        if status != 201:
            print(f"create: proxy {i + 1} failed: {status} {body[:200]}")
            break
        if (i + 1) % batch == 0:
            now = time.monotonic()
            print(f"create: proxies {i + 2 - batch}-{i + 1}: {now - began:.2f} s ({(now - began) / batch * 1e6:.0f} us each)",
                  flush=True)
            began = now
    print(f"create: {i + 1} proxies in {time.monotonic() - total:.2f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--idle", type=int, default=2000, help="idle connections to hold (default 2000)")
    parser.add_argument("--rounds", type=int, default=5, help="toxic changes while they are held (default 5)")
    parser.add_argument("--proxies", type=int, default=18000,
                        help="proxies to create (default 18000: a listener each, within a 20,000 descriptor limit)")
    parser.add_argument("--batch", type=int, default=1000, help="report creation time per this many (default 1000)")
    parser.add_argument("--workers", type=int, default=0, help="chaosplus proxy --workers N (default 0)")
    parser.add_argument("--skip", default="", help="comma list of phases to skip: idle,deep,create")
    parser.add_argument("--nofile", type=int, default=0,
                        help="descriptor limit for the proxy through prlimit (default: the proxy raises its soft limit "
                             "to the hard one)")
    args = parser.parse_args()
    chaosplus = os.environ.get("CHAOSPLUS", os.path.join(ROOT, "build", "bin", "chaosplus"))
    skip = set(filter(None, args.skip.split(",")))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.idle + 256
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    print(f"chaosplus {chaosplus}" + (f" --workers {args.workers}" if args.workers else "") +
          f"; load average before: {loadavg()}")
    token = secrets.token_hex(16)
    for phase, run in (("idle", lambda p: idle_phase(p, token, args.idle, args.rounds)),
                       ("deep", lambda p: deep_phase(p, token)),
                       ("create", lambda p: create_phase(p, token, args.proxies, args.batch))):
        if phase in skip:
            continue
        proc, port = start_proxy(chaosplus, token, args.nofile, args.workers)  # a fresh proxy per phase
        try:
            run(port)
            if proc.poll() is not None:
                print(f"{phase}: the proxy exited with {proc.returncode}")
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    print(f"load average after: {loadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
