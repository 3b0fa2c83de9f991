#pragma once
// The crash test matrix: the real `chaosplus run` of an experiment that pauses an attached
// process, starts the demo token service behind the run's fault proxy with a latency toxic, puts
// a kernel `reject` on a loopback port, a `bandwidth_limit` (tbf) in a lab namespace, a `corrupt`
// of two pages of a file and the host faults (tests/support/crash_matrix_host.h: cpu and memory,
// disk_fill on a tmpfs of the point's, revoke and credential hide of files of its, lock_account of
// a throwaway account, and clock, dns and io_error on the started service), and ends with two
// rollback commands, is killed with SIGKILL at a chosen point; then `chaosplus recover` runs once,
// and everything the run may have changed is checked: processes it started (this process is their
// subreaper, so no orphan escapes the count: stress-ng, the resolver and the FUSE daemon included),
// listeners on its ports, its nft tables, the lab's qdisc, the paused process, the file's bytes and
// the copy kept of it, the host faults' state (free space, exact file states, the shadow line,
// clock settings, resolver rules, FUSE mounts), the rollbacks, and the ledger.
//
// One piece for the CI test (a short list of points) and the benchmark script (a long one):
// tests/integration/crash_matrix_test.cpp, bench/crash_matrix.sh. Needs root, nft, tc, ip,
// stress-ng, useradd, setfacl, setfattr, fuse3 and libfaketime.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace chaosplus::testing {

struct KillPoint {
  enum class Kind { startup, event, random };
  Kind kind = Kind::random;
  // startup and random: after the runner was forked; event: after the event was seen.
  std::chrono::microseconds delay{0};
  // Event points: a journal event type; "rollback.begun" (the first rollback command has written
  // its first line: the run is inside its rollbacks); or "tool <name> <word>": a child of the
  // runner named <name> with <word> among its arguments is running ("tool nft -f": the reject's
  // table is being added), looked for among the runner's children (/proc/<pid>/task/*/children)
  // when the tool's binary is executed (inotify).
  std::string event;
  int nth = 1;  // the nth event of that type (the nth such child)
  // Tool points: the tool is stopped (SIGSTOP) as it is seen, before the kill, and continued only
  // once recover has ended: a tool slow to finish, as on a loaded machine, made certain.
  bool freeze = false;

  std::string kind_name() const;  // "startup", "event", "random"
  std::string label() const;      // "startup 12.0ms", "after fault.injected #2 +1.0ms", "random 840.3ms"
};

struct PointOutcome {
  KillPoint point;
  bool killed = false;      // false: the run had ended before the point came
  bool reached = true;      // event points: the event came (else the run ended first, or 60 s passed)
  int attempts = 1;         // runs played for the point (an unseen tool is looked for again)
  std::string last_event;   // the last journal event written before the kill ("" if none)
  int faults_injected = 0;  // fault.injected events in the journal
  int run_exit = -1;        // 128 + 9 when killed
  std::string run_output;   // the end of the run's output when it ended on its own, not held
  int recover_exit = -1;
  std::string recover_output;
  std::vector<std::string> left;  // what was left behind or untrue, one line each; empty when clean

  std::string describe() const;  // label, where the kill landed, and what was left
};

// When things happen in a whole, unkilled run, measured from the fork of the runner.
struct RunTimeline {
  std::chrono::milliseconds length{0};   // to the runner's exit
  std::chrono::milliseconds startup{0};  // to the first fault.injected: the start-up
  std::string text;                      // "run.started 61.2ms, proxy.placed 95.0ms, ..." (first of each)
};

class CrashMatrix {
 public:
  // Makes this process the subreaper of the runs' orphans and builds the lab namespace. Throws
  // std::runtime_error when that cannot be done (not root, tools missing).
  CrashMatrix();
  ~CrashMatrix();
  CrashMatrix(const CrashMatrix&) = delete;
  CrashMatrix& operator=(const CrashMatrix&) = delete;

  // One run of the experiment to its end, unkilled: the baseline, and its timeline (the spans
  // start-up and random points are drawn from). Its outcome is checked like any point's.
  PointOutcome run_to_end(RunTimeline* timeline);

  // One point: start a run, kill it there, recover once, check, then clean up by hand whatever
  // was left so the next point starts clean.
  PointOutcome run_point(const KillPoint& point);

 private:
  struct Lab;
  PointOutcome play(const KillPoint& point, bool kill, RunTimeline* timeline);
  std::unique_ptr<Lab> lab_;
};

// Event points, in the order the run reaches them: right after the run starts, after the target
// starts, after each fault.injected (the next fault is being put on), after each fault.reverted
// (the next revert is running), inside the rollbacks (and a little later), between the
// rollbacks, and while the placements are stopped.
std::vector<KillPoint> event_points();

// `count` points covering every kind: all event points (with delay variants when there is room),
// start-up points (half spread over the first 30 ms, half over the rest of the start-up, up to the
// first fault.injected), the rest random over the whole run (and a little past it) from `seed`.
std::vector<KillPoint> matrix_points(int count, std::uint64_t seed, const RunTimeline& timeline);

// Every point that left something, then counts per kind of point and in total, last:
// "N points, M left something".
std::string summarize(const std::vector<PointOutcome>& outcomes);

}  // namespace chaosplus::testing
