#pragma once
// The agent protocol: where things live in etcd and what the messages say (docs/agents.md). The
// controller (`chaosplus run` of an experiment with targets `on:` agents, or a load with
// `generators:`) and every agent (`chaosplus agent`) read and write only these keys and messages.
//
//   /chaosplus/agents/<agent>                        AgentInfo, under the agent's own lease
//   /chaosplus/live/<run>                            RunInfo, under the run lease (the dead-man key:
//                                                    gone = the controller is gone, agents revert)
//   /chaosplus/work/<agent>/<run>/<seq>              Command to that agent, under the run lease
//   /chaosplus/reply/<run>/<agent>/<seq>             Reply to that command, under the run lease
//   /chaosplus/events/<run>/<agent>/<seq>            an event of the agent's part of the run (journal
//                                                    JSON of core/event_json.h), under the run lease
//   /chaosplus/status/<run>/<agent>/<fault_id>       FaultStatus, no lease: outlives the run lease so
//                                                    a controller's `recover` can see the agent reverted
//   /chaosplus/load/<run>/<activity>/<agent>/ready   a load shard is ready to start (the barrier)
//   /chaosplus/load/<run>/<activity>/go              StartAt: all shards start then
//   /chaosplus/load/<run>/<activity>/<agent>/s/<second>   ShardSecond, one per second of a shard
//   /chaosplus/load/<run>/<activity>/<agent>/summary      ShardSummary, when the shard ends
//
// <seq> is a zero-padded decimal (10 digits) so key order is numeric order; <second> 6 digits.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/agent_selector.h"
#include "core/result.h"

namespace chaosplus::fleet {

namespace keys {
std::string agent(const std::string& agent);
std::string agents_prefix();  // "/chaosplus/agents/"
std::string live(const std::string& run);
std::string work(const std::string& agent, const std::string& run, std::int64_t seq);
std::string work_prefix(const std::string& agent);  // every command to the agent
std::string reply(const std::string& run, const std::string& agent, std::int64_t seq);
std::string reply_prefix(const std::string& run);
std::string event(const std::string& run, const std::string& agent, std::int64_t seq);
std::string events_prefix(const std::string& run);
std::string status(const std::string& run, const std::string& agent, const std::string& fault_id);
std::string status_prefix(const std::string& run);
std::string load_ready(const std::string& run, const std::string& activity, const std::string& agent);
std::string load_go(const std::string& run, const std::string& activity);
std::string load_second(const std::string& run, const std::string& activity, const std::string& agent,
                        std::int64_t second);
std::string load_summary(const std::string& run, const std::string& activity, const std::string& agent);
std::string load_prefix(const std::string& run, const std::string& activity);
std::string run_prefix_of_load(const std::string& run);  // "/chaosplus/load/<run>/"

// The parts of a key under one of the prefixes above, split at '/': {"work", agent, run, seq}.
std::vector<std::string> split(const std::string& key);
}  // namespace keys

// An agent as it registers itself.
struct AgentInfo {
  std::string name;                           // unique in the fleet; default: the host name
  std::string host;                           // gethostname()
  std::map<std::string, std::string> labels;  // role=db, zone=a
  std::vector<std::string> addresses;         // its IP addresses (the allow-list takes them)
  std::int64_t pid = 0;
  std::string version;
  std::int64_t started_unix_ms = 0;
};
std::string to_json(const AgentInfo& agent);
Result<AgentInfo> agent_from_json(const std::string& json);

// The agents `selector` names among `agents` (any order in): sorted by name; `one` takes the first,
// `all` every match, `random` ceil(share * matches) of them drawn with `seed`. Error when none
// matches, naming the selector and the agents there are.
Result<std::vector<AgentInfo>> select_agents(const AgentSelector& selector, std::vector<AgentInfo> agents,
                                             std::uint64_t seed);

// The run as the controller announces it, under the run lease.
struct RunInfo {
  std::string run;
  std::string experiment;
  std::string controller_host;
  std::int64_t controller_pid = 0;
  std::int64_t lease = 0;
  std::int64_t ttl_ms = 0;  // the run lease's TTL: an agent that cannot see the lease this long reverts
};
std::string to_json(const RunInfo& run);
Result<RunInfo> run_from_json(const std::string& json);

// What the controller asks of an agent. One struct for every operation; unused fields stay empty.
struct Command {
  enum class Op { setup, inject, revert, load, stop_load, teardown };
  Op op = Op::setup;
  std::string run;
  std::int64_t seq = 0;
  std::int64_t lease = 0;  // the run lease: the agent writes its replies, events and load keys under it
  // setup: the experiment as the controller loaded it, and which of its targets this agent holds.
  // A load to an agent that had no setup in the run may carry experiment_yaml, source_path, vars
  // and ttl_ms too: the agent then sets up with no target first.
  std::string experiment_yaml;
  std::string source_path;                  // for messages and relative paths
  std::map<std::string, std::string> vars;  // --var values
  std::vector<std::string> targets;
  std::int64_t ttl_ms = 0;  // the run lease's TTL
  // inject / revert: the fault (phase name and index among the phase's faults) and its id in the run
  std::string fault_id;
  std::string phase;
  int index = 0;
  std::int64_t max_ms = 0;  // inject: the agent reverts the fault by itself after this long
  // load / stop_load: the phase's load activity, and this agent's segment of it (k6-style:
  // segment_index of segment_count equal parts)
  std::string activity;
  int segment_index = 0;
  int segment_count = 1;
  std::int64_t duration_ms = 0;
};
std::string to_string(Command::Op op);
std::string to_json(const Command& command);
Result<Command> command_from_json(const std::string& json);

struct Reply {
  std::string run;
  std::string agent;
  std::int64_t seq = 0;
  bool ok = false;
  std::string error;                          // why not, for people
  std::string kind;                           // inject: the fault's ledger kind on the agent
  std::string summary;                        // inject: the fault's summary ("pause tokens (pid 4242)")
  std::map<std::string, std::int64_t> pids;   // setup: target -> pid on the agent
  std::map<std::string, std::int64_t> reach;  // revert: what the fault touched (faults/fault.h reach())
};
std::string to_json(const Reply& reply);
Result<Reply> reply_from_json(const std::string& json);

// Where an agent's fault stands, kept after the run lease is gone.
struct FaultStatus {
  std::string state;  // "active", "reverted", "revert_failed"
  std::string summary;
  std::string why;  // revert_failed: the error; reverted: "controller", "max duration", "run lease lost", "recovered"
  std::int64_t at_unix_ms = 0;
};
std::string to_json(const FaultStatus& status);
Result<FaultStatus> status_from_json(const std::string& json);

struct StartAt {
  std::int64_t unix_ms = 0;  // wall clock: every shard starts at this instant
};
std::string to_json(const StartAt& start);
Result<StartAt> start_from_json(const std::string& json);

// One second of a load shard: its counters and its latency histogram (load/latency_histogram.h
// nonzero(): lowest equivalent value in microseconds, count), enough to merge exactly.
struct ShardSecond {
  std::int64_t second = 0;
  double length_s = 0;
  std::uint64_t requests = 0;
  std::uint64_t failed = 0;  // transport errors + responses >= 400
  std::uint64_t transport_errors = 0;
  std::map<std::string, std::uint64_t> errors;  // transport errors by kind (load::error_kind_name), non-zero only
  std::uint64_t dropped = 0;
  std::uint64_t queued = 0;
  std::uint64_t bytes_read = 0;
  std::uint64_t active_users = 0;       // users (closed model) running at the second's end
  std::uint64_t open_connections = 0;   // connections open at the second's end
  std::map<int, std::uint64_t> status;  // by status code, non-zero only
  std::vector<std::pair<std::uint64_t, std::uint64_t>> latency_us;
};
std::string to_json(const ShardSecond& second);
Result<ShardSecond> second_from_json(const std::string& json);

// A shard's whole run: the same, over every second, and how long it ran.
struct ShardSummary {
  ShardSecond total;  // second = -1
  double elapsed_s = 0;
  std::string error;  // the shard could not run
};
std::string to_json(const ShardSummary& summary);
Result<ShardSummary> summary_from_json(const std::string& json);

}  // namespace chaosplus::fleet
