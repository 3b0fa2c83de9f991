#!/bin/sh
# Accuracy of the disk_fill fault (issue 13): on a file system the script makes (a 1 GiB tmpfs, and
# a 1 GiB ext4 on a loop device), `chaosplus run` fills to `leave_free: 100MiB`; while the fault is
# on, the free space is read from outside (df's Avail, as statvfs f_bavail), then again after the
# run. Prints the figures of each file system and PASS/FAIL against the bar: 95-105 MiB free during
# the fault, and the free space back within 1 % after it.
#   bench/disk_fill.sh [ROUNDS]          (default 3 rounds per file system; FS="tmpfs ext4")
# Needs root (mount, losetup). CHAOSPLUS=path/to/chaosplus picks the binary.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROUNDS=${1:-3}
FS=${FS:-tmpfs ext4}
CHAOSPLUS=${CHAOSPLUS:-$HERE/../build/bin/chaosplus}
[ -x "$CHAOSPLUS" ] || { echo "no chaosplus binary at $CHAOSPLUS (set CHAOSPLUS=...)" >&2; exit 3; }
[ "$(id -u)" = 0 ] || { echo "needs root (mount)" >&2; exit 3; }
WORK=$(mktemp -d /tmp/chaosplus-disk-fill.XXXXXX)
MNT=$WORK/mnt
mkdir -p "$MNT"
cleanup() {
  mountpoint -q "$MNT" && umount "$MNT" || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

avail() { df -B1 --output=avail "$MNT" | tail -1 | tr -d ' '; }
mib() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1048576 }'; }

status=0
for fs in $FS; do
  case $fs in
    tmpfs) mount -t tmpfs -o size=1g tmpfs "$MNT" ;;
    ext4)
      truncate -s 1G "$WORK/ext4.img"
      mkfs.ext4 -q -F "$WORK/ext4.img"
      mount -o loop "$WORK/ext4.img" "$MNT" ;;
    *) echo "unknown file system $fs" >&2; exit 3 ;;
  esac
  mkdir -p "$MNT/data"
  cat >"$WORK/fill.yaml" <<EOF
name: disk-fill-bench
targets:
  app: { process: { command: [sleep, "600"] } }
phases:
  - name: full
    duration: 6s
    faults:
      - disk_fill: { target: app, path: $MNT/data, leave_free: 100MiB }
EOF
  size=$(df -B1 --output=size "$MNT" | tail -1 | tr -d ' ')
  echo "== $fs: size $(mib "$size") MiB, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  round=1
  while [ "$round" -le "$ROUNDS" ]; do
    rm -rf "$WORK/state" "$WORK/journal.jsonl" "$WORK/journal.logs"
    before=$(avail)
    "$CHAOSPLUS" run "$WORK/fill.yaml" --plain --state-dir "$WORK/state" --journal "$WORK/journal.jsonl" \
      >"$WORK/run.out" 2>&1 &
    run=$!
    # Waits (up to 30 s) for the fault to be on: its fault.injected event in the journal.
    waited=0
    until grep -q '"type":"fault.injected"' "$WORK/journal.jsonl" 2>/dev/null; do
      sleep 0.1
      waited=$((waited + 1))
      [ "$waited" -lt 300 ] || break
    done
    during=$(avail)
    stat_free=$(stat -f -c '%a %S' "$MNT" | awk '{ print $1 * $2 }')
    wait "$run" || true
    after=$(avail)
    verdict=PASS
    awk -v d="$during" 'BEGIN { exit !(d >= 95 * 1048576 && d <= 105 * 1048576) }' || verdict=FAIL
    awk -v b="$before" -v a="$after" 'BEGIN { g = a - b; if (g < 0) g = -g; exit !(g <= 0.01 * b) }' || verdict=FAIL
    grep -q 'faults: 1 injected, 1 reverted' "$WORK/run.out" || verdict=FAIL
    [ -z "$(ls -A "$MNT/data")" ] || verdict=FAIL
    echo "  round $round: free before $(mib "$before") MiB, during $(mib "$during") MiB (statvfs $(mib "$stat_free") MiB)," \
      "after $(mib "$after") MiB  $verdict"
    [ "$verdict" = PASS ] || { status=1; sed 's/^/    /' "$WORK/run.out"; }
    round=$((round + 1))
  done
  umount "$MNT"
done
[ "$status" = 0 ] && echo "PASS: every fill left 95-105 MiB, and the space came back within 1 %" || echo "FAIL"
exit "$status"
