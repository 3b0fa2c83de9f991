#include "fleet/protocol.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>

#include <nlohmann/json.hpp>

namespace chaosplus::fleet {
namespace {

using nlohmann::json;

const std::string kRoot = "/chaosplus/";

std::string padded(std::int64_t n, int width) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*lld", width, static_cast<long long>(n));
  return buf;
}

// Parses `text` as a JSON object, or says what it is (for messages naming a key's value).
Result<json> parse_object(const std::string& text, const char* what) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error{std::string(what) + ": not a JSON object"};
  return j;
}

// Reads the fields of one message; a wrong type is an error naming the message and the field.
template <typename F>
auto read_fields(const std::string& text, const char* what, F&& fill) -> Result<decltype(fill(std::declval<json&>()))> {
  auto j = parse_object(text, what);
  if (!j) return Error{j.error()};
  try {
    return fill(*j);
  } catch (const json::exception& e) {
    return Error{std::string(what) + ": " + e.what()};
  }
}

template <typename T>
void get_if(const json& j, const char* field, T& into) {
  if (auto it = j.find(field); it != j.end() && !it->is_null()) it->get_to(into);
}

const std::pair<Command::Op, const char*> kOps[] = {
    {Command::Op::setup, "setup"}, {Command::Op::inject, "inject"},       {Command::Op::revert, "revert"},
    {Command::Op::load, "load"},   {Command::Op::stop_load, "stop_load"}, {Command::Op::teardown, "teardown"},
};

json second_json(const ShardSecond& s) {
  json status = json::object();
  for (const auto& [code, n] : s.status) status[std::to_string(code)] = n;
  json latency = json::array();
  for (const auto& [value, count] : s.latency_us) latency.push_back(json::array({value, count}));
  return json{{"second", s.second},
              {"length_s", s.length_s},
              {"requests", s.requests},
              {"failed", s.failed},
              {"transport_errors", s.transport_errors},
              {"errors", s.errors},
              {"dropped", s.dropped},
              {"queued", s.queued},
              {"bytes_read", s.bytes_read},
              {"active_users", s.active_users},
              {"open_connections", s.open_connections},
              {"status", status},
              {"latency_us", latency}};
}

ShardSecond second_of(const json& j) {
  ShardSecond s;
  get_if(j, "second", s.second);
  get_if(j, "length_s", s.length_s);
  get_if(j, "requests", s.requests);
  get_if(j, "failed", s.failed);
  get_if(j, "transport_errors", s.transport_errors);
  get_if(j, "errors", s.errors);
  get_if(j, "dropped", s.dropped);
  get_if(j, "queued", s.queued);
  get_if(j, "bytes_read", s.bytes_read);
  get_if(j, "active_users", s.active_users);
  get_if(j, "open_connections", s.open_connections);
  if (auto it = j.find("status"); it != j.end() && it->is_object())
    for (const auto& [code, n] : it->items()) s.status[std::stoi(code)] = n.get<std::uint64_t>();
  if (auto it = j.find("latency_us"); it != j.end() && it->is_array())
    for (const auto& pair : *it)
      s.latency_us.emplace_back(pair.at(0).get<std::uint64_t>(), pair.at(1).get<std::uint64_t>());
  return s;
}

}  // namespace

namespace keys {
std::string agent(const std::string& agent) { return agents_prefix() + agent; }
std::string agents_prefix() { return kRoot + "agents/"; }
std::string live(const std::string& run) { return kRoot + "live/" + run; }
std::string work(const std::string& agent, const std::string& run, std::int64_t seq) {
  return work_prefix(agent) + run + "/" + padded(seq, 10);
}
std::string work_prefix(const std::string& agent) { return kRoot + "work/" + agent + "/"; }
std::string reply(const std::string& run, const std::string& agent, std::int64_t seq) {
  return reply_prefix(run) + agent + "/" + padded(seq, 10);
}
std::string reply_prefix(const std::string& run) { return kRoot + "reply/" + run + "/"; }
std::string event(const std::string& run, const std::string& agent, std::int64_t seq) {
  return events_prefix(run) + agent + "/" + padded(seq, 10);
}
std::string events_prefix(const std::string& run) { return kRoot + "events/" + run + "/"; }
std::string status(const std::string& run, const std::string& agent, const std::string& fault_id) {
  return status_prefix(run) + agent + "/" + fault_id;
}
std::string status_prefix(const std::string& run) { return kRoot + "status/" + run + "/"; }
std::string load_prefix(const std::string& run, const std::string& activity) {
  return run_prefix_of_load(run) + activity + "/";
}
std::string run_prefix_of_load(const std::string& run) { return kRoot + "load/" + run + "/"; }
std::string load_ready(const std::string& run, const std::string& activity, const std::string& agent) {
  return load_prefix(run, activity) + agent + "/ready";
}
std::string load_go(const std::string& run, const std::string& activity) { return load_prefix(run, activity) + "go"; }
std::string load_second(const std::string& run, const std::string& activity, const std::string& agent,
                        std::int64_t second) {
  return load_prefix(run, activity) + agent + "/s/" + padded(second, 6);
}
std::string load_summary(const std::string& run, const std::string& activity, const std::string& agent) {
  return load_prefix(run, activity) + agent + "/summary";
}

std::vector<std::string> split(const std::string& key) {
  std::vector<std::string> parts;
  std::string_view rest(key);
  if (rest.starts_with(kRoot)) rest.remove_prefix(kRoot.size());
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    parts.emplace_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return parts;
}
}  // namespace keys

std::string to_json(const AgentInfo& a) {
  return json{{"name", a.name},
              {"host", a.host},
              {"labels", a.labels},
              {"addresses", a.addresses},
              {"pid", a.pid},
              {"version", a.version},
              {"started_unix_ms", a.started_unix_ms}}
      .dump();
}

Result<AgentInfo> agent_from_json(const std::string& text) {
  return read_fields(text, "agent registration", [](json& j) {
    AgentInfo a;
    get_if(j, "name", a.name);
    get_if(j, "host", a.host);
    get_if(j, "labels", a.labels);
    get_if(j, "addresses", a.addresses);
    get_if(j, "pid", a.pid);
    get_if(j, "version", a.version);
    get_if(j, "started_unix_ms", a.started_unix_ms);
    return a;
  });
}

namespace {

bool matches(const AgentSelector& selector, const AgentInfo& agent) {
  if (!selector.host.empty() && selector.host != agent.name && selector.host != agent.host) return false;
  for (const auto& [label, value] : selector.labels) {
    auto it = agent.labels.find(label);
    if (it == agent.labels.end() || it->second != value) return false;
  }
  return true;
}

std::string describe(const AgentSelector& selector) {
  std::string text;
  for (const auto& [label, value] : selector.labels) text += (text.empty() ? "" : ", ") + label + "=" + value;
  if (!selector.host.empty()) text += (text.empty() ? "" : ", ") + std::string("host=") + selector.host;
  return text.empty() ? "any agent" : text;
}

}  // namespace

Result<std::vector<AgentInfo>> select_agents(const AgentSelector& selector, std::vector<AgentInfo> agents,
                                             std::uint64_t seed) {
  std::sort(agents.begin(), agents.end(), [](const AgentInfo& a, const AgentInfo& b) { return a.name < b.name; });
  std::vector<AgentInfo> found;
  for (const AgentInfo& a : agents)
    if (matches(selector, a)) found.push_back(a);
  if (found.empty()) {
    std::string there;
    for (const AgentInfo& a : agents) {
      std::string labels;
      for (const auto& [k, v] : a.labels) labels += (labels.empty() ? "" : ",") + k + "=" + v;
      there += (there.empty() ? "" : "; ") + a.name + " (" + labels + ")";
    }
    return Error{"no registered agent matches " + describe(selector) +
                 (there.empty() ? std::string("; no agent is registered") : "; registered: " + there)};
  }
  switch (selector.pick) {
    case AgentSelector::Pick::one: found.resize(1); break;
    case AgentSelector::Pick::all: break;
    case AgentSelector::Pick::random: {
      const double share = std::clamp(selector.share, 0.0, 1.0);
      const auto want = std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(share * found.size() - 1e-9)));
      std::mt19937_64 rng(seed);
      std::shuffle(found.begin(), found.end(), rng);
      found.resize(std::min(want, found.size()));
      std::sort(found.begin(), found.end(), [](const AgentInfo& a, const AgentInfo& b) { return a.name < b.name; });
      break;
    }
  }
  return found;
}

std::string to_json(const RunInfo& r) {
  return json{{"run", r.run},
              {"experiment", r.experiment},
              {"controller_host", r.controller_host},
              {"controller_pid", r.controller_pid},
              {"lease", r.lease},
              {"ttl_ms", r.ttl_ms}}
      .dump();
}

Result<RunInfo> run_from_json(const std::string& text) {
  return read_fields(text, "run", [](json& j) {
    RunInfo r;
    get_if(j, "run", r.run);
    get_if(j, "experiment", r.experiment);
    get_if(j, "controller_host", r.controller_host);
    get_if(j, "controller_pid", r.controller_pid);
    get_if(j, "lease", r.lease);
    get_if(j, "ttl_ms", r.ttl_ms);
    return r;
  });
}

std::string to_string(Command::Op op) {
  for (const auto& [o, name] : kOps)
    if (o == op) return name;
  return "?";
}

std::string to_json(const Command& c) {
  json j{{"op", to_string(c.op)}, {"run", c.run}, {"seq", c.seq}, {"lease", c.lease}};
  switch (c.op) {
    case Command::Op::setup:
      j.update(json{{"experiment_yaml", c.experiment_yaml},
                    {"source_path", c.source_path},
                    {"vars", c.vars},
                    {"targets", c.targets},
                    {"ttl_ms", c.ttl_ms}});
      break;
    case Command::Op::inject:
    case Command::Op::revert:
      j.update(json{{"fault_id", c.fault_id}, {"phase", c.phase}, {"index", c.index}, {"max_ms", c.max_ms}});
      break;
    case Command::Op::load:
    case Command::Op::stop_load:
      j.update(json{{"activity", c.activity},
                    {"phase", c.phase},
                    {"segment_index", c.segment_index},
                    {"segment_count", c.segment_count},
                    {"duration_ms", c.duration_ms}});
      // A generator that holds no target of the run had no setup: its load brings the experiment.
      if (c.op == Command::Op::load && !c.experiment_yaml.empty()) {
        j.update(json{{"experiment_yaml", c.experiment_yaml},
                      {"source_path", c.source_path},
                      {"vars", c.vars},
                      {"ttl_ms", c.ttl_ms}});
      }
      break;
    case Command::Op::teardown: break;
  }
  return j.dump();
}

Result<Command> command_from_json(const std::string& text) {
  auto command = read_fields(text, "command", [](json& j) {
    Command c;
    std::string op;
    get_if(j, "op", op);
    bool known = false;
    for (const auto& [o, name] : kOps)
      if (op == name) {
        c.op = o;
        known = true;
      }
    if (!known) throw json::other_error::create(501, "unknown op '" + op + "'", &j);
    get_if(j, "run", c.run);
    get_if(j, "seq", c.seq);
    get_if(j, "lease", c.lease);
    get_if(j, "experiment_yaml", c.experiment_yaml);
    get_if(j, "source_path", c.source_path);
    get_if(j, "vars", c.vars);
    get_if(j, "targets", c.targets);
    get_if(j, "ttl_ms", c.ttl_ms);
    get_if(j, "fault_id", c.fault_id);
    get_if(j, "phase", c.phase);
    get_if(j, "index", c.index);
    get_if(j, "max_ms", c.max_ms);
    get_if(j, "activity", c.activity);
    get_if(j, "segment_index", c.segment_index);
    get_if(j, "segment_count", c.segment_count);
    get_if(j, "duration_ms", c.duration_ms);
    return c;
  });
  if (!command) return command;
  if (command->segment_count < 1 || command->segment_index < 0 || command->segment_index >= command->segment_count)
    return Error{"command: segment " + std::to_string(command->segment_index) + " of " +
                 std::to_string(command->segment_count) + " does not exist"};
  return command;
}

std::string to_json(const Reply& r) {
  return json{{"run", r.run},   {"agent", r.agent},     {"seq", r.seq},   {"ok", r.ok},      {"error", r.error},
              {"kind", r.kind}, {"summary", r.summary}, {"pids", r.pids}, {"reach", r.reach}}
      .dump();
}

Result<Reply> reply_from_json(const std::string& text) {
  return read_fields(text, "reply", [](json& j) {
    Reply r;
    get_if(j, "run", r.run);
    get_if(j, "agent", r.agent);
    get_if(j, "seq", r.seq);
    get_if(j, "ok", r.ok);
    get_if(j, "error", r.error);
    get_if(j, "kind", r.kind);
    get_if(j, "summary", r.summary);
    get_if(j, "pids", r.pids);
    get_if(j, "reach", r.reach);
    return r;
  });
}

std::string to_json(const FaultStatus& s) {
  return json{{"state", s.state}, {"summary", s.summary}, {"why", s.why}, {"at_unix_ms", s.at_unix_ms}}.dump();
}

Result<FaultStatus> status_from_json(const std::string& text) {
  return read_fields(text, "fault status", [](json& j) {
    FaultStatus s;
    get_if(j, "state", s.state);
    get_if(j, "summary", s.summary);
    get_if(j, "why", s.why);
    get_if(j, "at_unix_ms", s.at_unix_ms);
    return s;
  });
}

std::string to_json(const StartAt& start) { return json{{"unix_ms", start.unix_ms}}.dump(); }

Result<StartAt> start_from_json(const std::string& text) {
  return read_fields(text, "load start", [](json& j) {
    StartAt s;
    get_if(j, "unix_ms", s.unix_ms);
    return s;
  });
}

std::string to_json(const ShardSecond& second) { return second_json(second).dump(); }

Result<ShardSecond> second_from_json(const std::string& text) {
  return read_fields(text, "load second", [](json& j) { return second_of(j); });
}

std::string to_json(const ShardSummary& s) {
  return json{{"total", second_json(s.total)}, {"elapsed_s", s.elapsed_s}, {"error", s.error}}.dump();
}

Result<ShardSummary> summary_from_json(const std::string& text) {
  return read_fields(text, "load summary", [](json& j) {
    ShardSummary s;
    if (auto it = j.find("total"); it != j.end() && it->is_object()) s.total = second_of(*it);
    get_if(j, "elapsed_s", s.elapsed_s);
    get_if(j, "error", s.error);
    return s;
  });
}

}  // namespace chaosplus::fleet
