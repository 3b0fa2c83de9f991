#pragma once
// The fuzz engine's insides, shared by its part files: engine.cpp (set-up and the batch loop),
// engine_feedback.cpp (judging replies in send order, findings, stateful follow-ups, corpus),
// and engine_target.cpp (target death and restart, memory growth, the re-check without faults,
// minimization).
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "fuzz/corpus.h"
#include "fuzz/crash_guard.h"
#include "fuzz/engine.h"
#include "fuzz/exchange.h"
#include "fuzz/generator.h"
#include "fuzz/harvest.h"
#include "fuzz/minimize.h"
#include "fuzz/mutate.h"
#include "fuzz/oracles.h"
#include "fuzz/protocol_mutations.h"
#include "fuzz/request_case.h"
#include "fuzz/rng.h"
#include "net/url.h"

namespace chaosplus::fuzz::detail {

// Requests made, sent and judged together. Feedback of batch k shapes batch k+2: two batches are
// in flight, so the sender always has the next one queued while the last replies of one arrive.
inline constexpr std::size_t kBatchSize = 256;
inline constexpr std::size_t kBatchesInFlight = 2;

enum class Strategy : std::uint8_t { valid, invalid, corpus, follow_up, raw };
std::string_view strategy_name(Strategy strategy);

// What a stateful follow-up checks on its reply.
enum class Probe : std::uint8_t { none, use_after_delete, double_delete };

struct Slot {
  std::uint64_t index = 0;  // in the stream
  RequestCase request;
  const openapi::Operation* operation = nullptr;  // null for raw requests
  std::string bytes;
  Strategy strategy = Strategy::valid;
  Probe probe = Probe::none;
  std::vector<std::string> setup;  // what a reproducer sends first (stateful probes)
  bool answered = false;
  bool judged = false;
  bool cancelled = false;  // answered by cancel_all at the end: not judged
  Reply reply;
};

struct Batch {
  std::vector<Slot> slots;
  std::size_t answered = 0;
  std::size_t raw = 0;  // raw protocol requests among the slots
  std::size_t raw_answered = 0;
  bool death = false;  // in flight when the target died: failures here are the death's, judged as one
  bool complete() const { return answered == slots.size(); }
  // Every request whose answer feeds back is answered. Raw protocol requests give no feedback, and
  // one the target waits on (a Content-Length longer than the body) would hold the stream for a
  // whole timeout: they are judged whenever they end.
  bool ready() const { return answered - raw_answered == slots.size() - raw; }
};

struct FollowUp {
  RequestCase request;
  const openapi::Operation* operation = nullptr;
  Probe probe = Probe::none;
  std::vector<std::string> setup;
};

// A finding waiting for the re-check with no fault active.
struct Recheck {
  std::string key;
  std::string bytes;
  std::vector<std::string> setup;
  const openapi::Operation* operation = nullptr;
  bool head = false;
};

class Engine {
 public:
  Engine(const FuzzOptions& options, const FuzzHooks& hooks, std::shared_ptr<const openapi::Document> document,
         net::Url base, SenderOptions sender_options);
  ~Engine();
  Result<FuzzSummary> run();

 private:
  // engine.cpp
  RequestCase valid(const openapi::Operation& operation);
  RequestCase invalid(const openapi::Operation& operation);
  std::unique_ptr<Batch> make_batch();
  Slot make_slot(std::uint64_t index);
  const openapi::Operation& pick_operation();
  void send_batch(Batch& batch);
  bool should_stop(std::int64_t now_ns);
  void progress(std::int64_t now_ns);
  void drain();
  std::int64_t elapsed_ms() const;

  // engine_feedback.cpp
  void process(Batch& batch);
  void judge(Slot& slot);
  void learn(Slot& slot);
  void record(const Verdict& verdict, const Slot& slot);
  void record_finding(Finding finding, const Slot* slot);
  std::vector<std::pair<std::string, std::string>> credentials(const Slot& slot) const;

  // engine_target.cpp
  bool target_down_in(const Batch& batch);
  Slot guarded_slot(std::uint64_t index);
  void remember_crash(const Slot& culprit);
  void handle_death();
  bool wait_for_target();
  bool target_answers();
  void watch_memory(std::int64_t now_ns);
  std::optional<std::int64_t> current_pid() const;
  void notice(const std::string& text) const;
  void recheck_pending(bool at_end);
  void minimize_findings();
  Reply replay(const std::string& bytes, const std::vector<std::string>& setup, bool head);

  const FuzzOptions& options_;
  const FuzzHooks& hooks_;
  std::shared_ptr<const openapi::Document> document_;
  net::Url base_;
  SenderOptions sender_options_;
  std::unique_ptr<Sender> sender_;
  HaltSwitch own_stop_;
  HaltSwitch* stop_;
  Rng rng_;
  Oracles oracles_;
  Harvest harvest_;
  Corpus corpus_;
  FindingLog log_;
  std::deque<FollowUp> follow_ups_;
  std::deque<std::unique_ptr<Batch>> in_flight_;
  std::vector<std::unique_ptr<Batch>> finishing_;  // judged but for raw requests still out
  void judge_finishing();
  std::vector<double> weights_;  // per operation: lowered for operations that hang
  std::map<std::string, int> hangs_;
  CrashGuard crash_guard_;                // input classes that killed the target: not sent again
  std::set<std::string> confirmed_cuts_;  // connection cuts that a replay alone showed again
  std::vector<Recheck> rechecks_;
  std::map<std::string, std::pair<Slot, Finding>> first_seen_;  // key -> the slot that found it (for minimization)
  FuzzSummary summary_;
  std::uint64_t next_index_ = 0;
  std::int64_t start_ns_ = 0;
  std::int64_t end_ns_ = 0;
  std::int64_t last_progress_ns_ = 0;
  std::uint64_t requests_at_last_progress_ = 0;
  std::int64_t last_memory_ns_ = 0;
  bool death_seen_ = false;       // the last suspected death showed itself (refused, process gone, no answer)
  bool answered_before_ = false;  // the target has answered at least once: a refusal now means it died
  bool cancelling_ = false;
  bool gave_up_ = false;                // the target did not come back
  std::optional<std::int64_t> pid_;     // the target's process as last known
  std::optional<std::string> program_;  // what it runs: a restarted target is found by it
  std::optional<std::uint64_t> memory_baseline_;
  std::int64_t memory_pid_ = 0;
  bool memory_reported_ = false;
  std::map<std::string, std::uint64_t> sent_since_baseline_;
  std::string base_path_;
};

}  // namespace chaosplus::fuzz::detail
