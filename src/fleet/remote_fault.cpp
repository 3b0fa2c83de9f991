#include "fleet/remote_fault.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "faults/undo.h"

namespace chaosplus::fleet {
namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

// How long recover waits beyond the run lease's TTL for the agents to report their own revert.
constexpr Duration kRecoverGrace = std::chrono::seconds(10);

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

class RemoteFault final : public faults::Fault {
 public:
  RemoteFault(Session& session, const spec::Fault& fault, RemoteFaultPlan plan)
      : session_(session), spec_(fault), plan_(std::move(plan)) {
    summary_ =
        fault.type + " " + fault.target + " on agent" + (plan_.agents.size() > 1 ? "s " : " ") + joined(plan_.agents);
  }

  std::string kind() const override { return std::string(kRemoteFaultKind); }
  std::string summary() const override { return summary_; }

  std::string record() const override {
    const etcd::Options& o = session_.client().options();
    json etcd{{"endpoints", o.endpoints}};
    if (!o.ca_file.empty()) etcd["ca_file"] = o.ca_file;
    if (!o.cert_file.empty()) etcd["cert_file"] = o.cert_file;
    if (!o.key_file.empty()) etcd["key_file"] = o.key_file;
    if (!o.user.empty()) etcd["user"] = o.user;
    if (!plan_.password_file.empty()) etcd["password_file"] = plan_.password_file;
    return json{{"run", session_.run()},
                {"agents", plan_.agents},
                {"fault_id", plan_.fault_id},
                {"fault", spec_.type},
                {"target", spec_.target},
                {"phase", plan_.phase},
                {"index", plan_.index},
                {"ttl_ms", std::chrono::duration_cast<std::chrono::milliseconds>(session_.ttl()).count()},
                {"etcd", etcd}}
        .dump();
  }

  Status inject(HaltSwitch&) override {
    Command command;
    command.op = Command::Op::inject;
    command.fault_id = plan_.fault_id;
    command.phase = plan_.phase;
    command.index = plan_.index;
    command.max_ms = std::chrono::duration_cast<std::chrono::milliseconds>(plan_.max_duration).count();
    std::vector<std::string> summaries;
    auto replies = on_every_agent(command, [&](const std::string& agent, const Reply& reply) {
      if (!reply.summary.empty()) summaries.push_back(reply.summary + " on " + agent);
    });
    if (!summaries.empty()) summary_ = spec_.type + " " + spec_.target + ": " + joined(summaries);
    return replies;
  }

  Status revert(HaltSwitch&) override {
    Command command;
    command.op = Command::Op::revert;
    command.fault_id = plan_.fault_id;
    reach_.clear();
    return on_every_agent(command, [&](const std::string&, const Reply& reply) {
      for (const auto& [what, count] : reply.reach) reach_[what] += count;
    });
  }

  std::map<std::string, std::int64_t> reach() const override { return reach_; }

 private:
  // Sends the command to every agent first, then waits for every reply, so agents act together; an
  // agent that fails or does not answer fails the whole, named.
  template <typename OnOk>
  Status on_every_agent(const Command& command, OnOk on_ok) {
    std::vector<std::pair<std::string, Result<std::int64_t>>> sent;
    for (const auto& agent : plan_.agents) sent.emplace_back(agent, session_.send(agent, command));
    std::vector<std::string> failures;
    for (auto& [agent, seq] : sent) {
      if (!seq) {
        failures.push_back("agent " + agent + ": " + seq.error());
        continue;
      }
      auto reply = session_.await(agent, *seq, plan_.command_timeout);
      if (!reply) {
        failures.push_back(reply.error());
      } else if (!reply->ok) {
        failures.push_back("agent " + agent + ": " + reply->error);
      } else {
        on_ok(agent, *reply);
      }
    }
    if (failures.empty()) return ok_status();
    std::string message = to_string(command.op) + " of " + spec_.type + " on " + spec_.target + " failed: ";
    return Error{message + joined(failures)};
  }

  Session& session_;
  const spec::Fault& spec_;
  RemoteFaultPlan plan_;
  std::string summary_;
  std::map<std::string, std::int64_t> reach_;
};

std::string read_secret(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

Status undo_remote_fault(std::string_view, std::string_view record_text) {
  const json record = json::parse(std::string(record_text));
  const std::string run = record.at("run").get<std::string>();
  const std::string fault_id = record.at("fault_id").get<std::string>();
  const auto agents = record.at("agents").get<std::vector<std::string>>();
  const Duration ttl = std::chrono::milliseconds(record.value("ttl_ms", 5000));
  const json& e = record.at("etcd");
  etcd::Options options;
  options.endpoints = e.at("endpoints").get<std::vector<std::string>>();
  options.ca_file = e.value("ca_file", "");
  options.cert_file = e.value("cert_file", "");
  options.key_file = e.value("key_file", "");
  options.user = e.value("user", "");
  if (const std::string file = e.value("password_file", ""); !file.empty()) options.password = read_secret(file);
  auto client = etcd::Client::connect(options);
  if (!client) {
    return Error{"cannot ask etcd whether agent(s) " + joined(agents) + " reverted fault " + fault_id + " of run " +
                 run + ": " + client.error()};
  }
  // Once the run lease is gone every agent reverts on its own: give them the lease's TTL (it may
  // not have expired yet) and a grace, then say where the fault is still on.
  const auto deadline = Clock::now() + ttl + kRecoverGrace;
  std::optional<Clock::time_point> live_gone_since;
  for (;;) {
    std::vector<std::string> still_on;
    std::vector<std::string> unknown;
    for (const auto& agent : agents) {
      auto kv = (*client)->get(keys::status(run, agent, fault_id));
      if (!kv) {
        unknown.push_back(agent + " (etcd: " + kv.error() + ")");
        continue;
      }
      if (!*kv) {
        unknown.push_back(agent + " (no status: the fault may never have reached it)");
        continue;
      }
      auto status = status_from_json((*kv)->value);
      if (!status) {
        unknown.push_back(agent + " (unreadable status)");
      } else if (status->state == "revert_failed") {
        return Error{"agent " + agent + " could not revert fault " + fault_id + " (" + status->summary + ") of run " +
                     run + ": " + status->why};
      } else if (status->state != "reverted") {
        still_on.push_back(agent + ": " + status->summary);
      }
    }
    if (still_on.empty() && unknown.empty()) return ok_status();
    auto live = (*client)->get(keys::live(run));
    const bool live_gone = live && !*live;
    if (live_gone && !live_gone_since) live_gone_since = Clock::now();
    // No status at all, a TTL after the run's live key went: the inject never reached that agent
    // (its command went with the lease), so nothing is on there.
    if (still_on.empty() && live_gone_since && Clock::now() - *live_gone_since >= ttl) return ok_status();
    if (Clock::now() >= deadline) {
      std::string message = "fault " + fault_id + " of run " + run + " is still on";
      if (!still_on.empty()) message += " at " + joined(still_on);
      if (!unknown.empty()) message += (still_on.empty() ? " or unknown at " : "; unknown at ") + joined(unknown);
      return Error{message +
                   " (the agents revert by themselves when the run lease is gone: check that they run "
                   "and reach etcd, `chaosplus agents`)"};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace

std::unique_ptr<faults::Fault> make_remote_fault(Session& session, const spec::Fault& fault, RemoteFaultPlan plan) {
  return std::make_unique<RemoteFault>(session, fault, std::move(plan));
}

void register_remote_fault_undo() { faults::register_undo(kRemoteFaultKind, &undo_remote_fault); }

}  // namespace chaosplus::fleet
