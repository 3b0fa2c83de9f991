#pragma once
// The write workload's history (Jepsen's model, our code): every insert attempt with its outcome,
// times and the node that answered, and what reading the table back found. analyze() turns it into
// the verdict figures: lost and unexpected writes, RTO (split into promotion and reconnection), RPO
// and split brain. Pure: no clock, no I/O, so tests feed it made-up histories.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/units.h"

namespace chaosplus::writes {

using Clock = std::chrono::steady_clock;

enum class Outcome { ok, failed, unknown };  // acknowledged; surely not committed; may or may not be

struct Attempt {
  std::int64_t id = 0;  // the unique value inserted
  int client = 0;
  Clock::time_point invoked;
  Clock::time_point completed;
  Outcome outcome = Outcome::failed;
  std::string node;    // host that answered ("127.0.0.12"); "" when none did
  std::string error;   // why it failed or is unknown
};

// A fault the workload saw on the event stream (fault.injected), and when a new primary first
// answered Patroni's /primary after it (unset when none was seen).
struct FaultMark {
  std::string summary;
  Clock::time_point injected;
  std::optional<Clock::time_point> promoted;
};

struct Analysis {
  std::int64_t attempted = 0, acknowledged = 0, failed = 0, unknown = 0;
  std::int64_t lost = 0;        // acknowledged, missing from the read-back
  std::int64_t unexpected = 0;  // read back, never attempted
  std::int64_t unknown_committed = 0;  // unknown outcome that turned out to be committed
  // Every attempt failed definitely (connect failure, an error before commit) and yet the id was
  // read back: the database or the driver said no and committed anyway. Counted apart from
  // `unexpected` (never attempted), which it is not.
  std::int64_t failed_committed = 0;
  std::vector<std::int64_t> lost_ids;        // first 100
  std::vector<std::int64_t> unexpected_ids;  // first 100
  // RPO: the acknowledged writes lost, and the span of their acknowledgement times (0 when none).
  Duration rpo_span{0};
  // RTO of the first fault: from its injection to the first acknowledged write invoked after it
  // (the earliest completion among them); promotion = injection to the new primary answering
  // /primary; reconnection = RTO - promotion, never negative. rto is unset when no fault was seen
  // or no write invoked after it succeeded; promotion when no promotion was seen; reconnection
  // when either is unset.
  std::optional<Duration> rto, promotion, reconnection;
  std::string rto_fault;  // the fault's summary
  // Acknowledgements from two nodes whose acknowledgement periods overlap: both accepted writes at
  // the same time. Each entry: "127.0.0.11 and 127.0.0.12 from +3.2s to +4.0s" (times from the
  // first invocation). A node's period is a run of its own attempts acknowledged one after the
  // other, ended by a failed or unknown attempt on it; it counts from its first acknowledgement's
  // completion to its last one's invocation (history.cpp says why).
  std::vector<std::string> split_brain;
};

// `present` is every id read back from the table (any order, duplicates counted as present).
Analysis analyze(const std::vector<Attempt>& history, const std::vector<std::int64_t>& present,
                 const std::vector<FaultMark>& faults);

}  // namespace chaosplus::writes
