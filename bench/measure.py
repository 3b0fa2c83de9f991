#!/usr/bin/env python3
"""Runs one load-generator command and prints one JSON line: its requests/s (parsed from the tool's
output), the CPU seconds the tool itself used (getrusage of the child), wall time, and the CPU the
server process used meanwhile (from /proc/PID/stat)."""
import json
import os
import re
import resource
import subprocess
import sys
import time


def proc_cpu(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def main():
    server_pid = int(sys.argv[1])
    command = sys.argv[2:]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = proc_cpu(server_pid)
    start = time.monotonic()
    out = subprocess.run(command, capture_output=True, text=True, timeout=120)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_cpu = proc_cpu(server_pid) - server_before
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    text = out.stdout + out.stderr
    m = re.search(r"Requests/sec:\s*([0-9.]+)", text)
    rps = float(m.group(1)) if m else 0.0
    m = re.search(r"([0-9]+) requests in ([0-9.]+)s", text)  # wrk and chaosplus
    if m:
        requests, seconds = int(m.group(1)), float(m.group(2))
    else:  # hey: "[200] 123456 responses"
        codes = re.findall(r"\[(\d+)\]\s+(\d+) responses", text)
        requests = sum(int(n) for _, n in codes)
        seconds = requests / rps if rps else 0.0
    print(json.dumps({"rps": rps, "requests": requests, "seconds": seconds, "cpu_s": cpu, "wall_s": wall,
                      "server_cpu_s": server_cpu, "exit": out.returncode,
                      "cpu_us_per_request": cpu / requests * 1e6 if requests else 0.0,
                      "output": text if out.returncode != 0 or not rps else ""}))


if __name__ == "__main__":
    main()
