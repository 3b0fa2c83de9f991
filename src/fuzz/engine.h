#pragma once
// The fuzz engine: generates requests from an OpenAPI document (valid ones that go deep, invalid
// ones at the edges, mutations of a feedback corpus, stateful follow-ups, raw protocol mutations),
// sends them through the Sender (many keep-alive connections, kept full), judges every reply with
// the oracles (fuzz/oracles.h) and the target watches (death and restart, memory growth), and
// folds what it finds into deduplicated, minimized, chaos-stamped findings. It runs on the
// caller's thread until its duration, its request cap or a stop.
//
// Reproducible: the same seed and document against the same (deterministic) target give the same
// request stream, byte for byte, whatever the timing. Requests are made in batches from one Rng;
// replies are judged and fed back (corpus, harvested values, follow-ups) in send order, a batch
// at a time, at fixed points of the stream (a batch's feedback shapes the batch after next), so
// no reply's arrival time decides what is sent.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/halt_switch.h"
#include "core/result.h"
#include "core/units.h"
#include "fuzz/chaos_context.h"
#include "fuzz/finding.h"
#include "load/load_options.h"
#include "openapi/document.h"

namespace chaosplus::fuzz {

struct FuzzOptions {
  std::string openapi;  // the document's file (for messages and the findings file)
  // The document itself; when null, `openapi` is loaded.
  std::shared_ptr<const openapi::Document> document;
  std::string base_url;  // http(s)://<loopback>:<port>[/prefix]
  Duration duration = std::chrono::seconds(60);
  std::uint64_t max_requests = 5'000'000;  // a hard cap on requests sent
  std::uint64_t seed = 1;
  int connections = 32;
  Duration timeout = std::chrono::seconds(5);  // per request: longer is a hang
  // Sent with every request except raw protocol mutations: credentials ("Authorization: Bearer x").
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::int64_t> pid;                   // the target's process: memory and death watches
  std::string target;                                // or the experiment target whose process the chaos context knows
  std::uint64_t memory_growth = 100ULL << 20;        // resident memory growth over the run that is a finding; 0: off
  Duration restart_wait = std::chrono::seconds(60);  // how long a dead target may take to come back
  bool minimize = true;                              // shrink each new finding's request at the end
  load::TlsSettings tls;
};

// Progress, about once a second.
struct FuzzProgress {
  double elapsed_s = 0;
  std::uint64_t requests = 0;
  double rps = 0;  // over the last second
  std::size_t findings = 0;
  std::size_t corpus = 0;
  bool waiting_for_target = false;
};

struct FuzzHooks {
  HaltSwitch* stop = nullptr;                      // ends the run early (finds so far are kept)
  ChaosContext* context = nullptr;                 // phase, active faults and target processes; null outside a run
  std::function<void(const Finding&)> on_finding;  // each new finding, when first seen
  std::function<void(const FuzzProgress&)> on_progress;  // about once a second
  // What the engine is doing that a person watching should know (the target died, it is back).
  std::function<void(const std::string&)> on_notice;
  // Each request as it is sent, in stream order (index from 0): what the determinism test compares.
  std::function<void(std::uint64_t index, std::string_view bytes)> on_request;
};

struct FuzzSummary {
  std::uint64_t requests = 0;  // answered or failed, excluding replays and minimization
  double elapsed_s = 0;
  double requests_per_second() const { return elapsed_s > 0 ? static_cast<double>(requests) / elapsed_s : 0; }
  std::map<std::string, std::uint64_t> per_operation;  // operation id ("raw" for protocol mutations)
  std::map<int, std::uint64_t> per_status;
  std::map<std::string, std::uint64_t> per_outcome;   // timeout, reset, closed, refused...
  std::map<std::string, std::uint64_t> per_strategy;  // valid, invalid, corpus, follow_up, raw
  std::uint64_t degraded = 0;  // 503/504 and hangs while a fault was active: expected, not findings
  std::uint64_t restarts = 0;  // times the target died and came back
  std::size_t corpus = 0;
  std::size_t behaviours = 0;   // distinct (operation, status, shape) seen
  std::size_t pool_values = 0;  // values harvested for stateful requests
  std::string ended;            // why it ended: "duration", "request cap", "stopped", "target did not come back"
  std::vector<Finding> findings;
};

// Errors: the document cannot be loaded or has no operation, the base URL is not loopback http(s).
Result<FuzzSummary> run_fuzz(const FuzzOptions& options, const FuzzHooks& hooks = {});

// "Name: value" -> {Name, value}; errors say what was expected.
Result<std::pair<std::string, std::string>> parse_header(std::string_view text);

}  // namespace chaosplus::fuzz
