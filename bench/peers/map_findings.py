#!/usr/bin/env python3
"""Maps chaosplus findings files (fuzz and scan, JSON) to the demo shop's seeded bugs.

Usage: map_findings.py FINDINGS.json [...]
Prints one line per unique finding with the bug it points at ("?" when none: a finding the
all-bugs-off shop would not give is a false positive), then a line "mapped: N bug1,bug2,...".
The mapping reads the oracle, the operation and the evidence; it is the bench's judgment, not the
tool's.
"""
import json
import sys


def bug_for(f):
    oracle = f.get("oracle", "")
    op = f.get("operation", "")
    text = " ".join(str(f.get(k, "")) for k in ("title", "evidence", "signature")).lower()
    direct = {
        "sql_injection": "sql-injection",
        "path_traversal": "path-traversal",
        "template_injection": "template-injection",
        "reflected_markup": "reflected-xss",
        "cors_misconfiguration": "cors",
        "bola": "bola",
        "fail_open": "fail-open",
        "use_after_delete": "use-after-delete",
        "memory_growth": "memory-leak",
        "accepted_invalid": "accept-invalid",
    }
    if oracle in direct:
        return direct[oracle]
    if oracle in ("target_died", "connection_reset", "closed_without_response"):
        return "crash"
    if oracle == "timeout":
        return "hang" if op == "searchPage" else "?"
    if oracle in ("error_leak", "banner"):
        if "sql" in text:
            return "sql-injection"
        if "terminate called" in text or ".cpp" in text or "stack" in text or "c++" in text:
            return "stack-leak"
        return "?"
    if oracle in ("server_error", "status_undocumented"):
        if "sql" in text:
            return "sql-injection"
        if op == "listProducts":
            return "boundary-500"
        return "?"
    if oracle in ("schema_mismatch", "content_type_mismatch"):
        if op in ("getProduct", "listProducts") and "price" in text:
            return "schema-drift"
        if "sql" in text:
            return "sql-injection"
        return "?"
    return "?"


def main():
    found = set()
    total = 0
    for path in sys.argv[1:]:
        try:
            with open(path) as fh:
                findings = json.load(fh).get("findings", [])
        except (OSError, ValueError) as e:
            print(f"  {path}: unreadable ({e})")
            continue
        for f in findings:
            total += 1
            bug = bug_for(f)
            if bug != "?":
                found.add(bug)
            print(f"  {bug:18} {f.get('engine', ''):8} {f.get('severity', ''):8} {f.get('oracle', ''):24} "
                  f"{f.get('operation', '') or '-':14} {f.get('title', '')[:90]}")
    print(f"findings: {total}")
    print(f"mapped: {len(found)} {','.join(sorted(found))}")


if __name__ == "__main__":
    main()
