#include "runner/fleet_run.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "core/allowed_hosts.h"
#include "fleet/distributed_load.h"
#include "fleet/remote_fault.h"
#include "load/load_spec.h"

namespace chaosplus::runner {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

std::string pick_name(AgentSelector::Pick pick) {
  switch (pick) {
    case AgentSelector::Pick::one: return "one";
    case AgentSelector::Pick::all: return "all";
    case AgentSelector::Pick::random: return "random";
  }
  return "one";
}

}  // namespace

bool needs_agents(const spec::Experiment& experiment) {
  const bool targets = std::any_of(experiment.targets.begin(), experiment.targets.end(),
                                   [](const spec::Target& t) { return t.on.has_value(); });
  const bool activities = std::any_of(experiment.phases.begin(), experiment.phases.end(), [](const spec::Phase& p) {
    return std::any_of(p.activities.begin(), p.activities.end(),
                       [](const spec::ActivitySpec& a) { return a.config && a.config->on_agents(); });
  });
  return targets || activities;
}

spec::Experiment local_part(const spec::Experiment& experiment) {
  spec::Experiment local = experiment;
  std::erase_if(local.targets, [](const spec::Target& t) { return t.on.has_value(); });
  return local;
}

FleetRun::FleetRun(const FleetOptions& options, EventBus& bus, std::unique_ptr<fleet::Session> session)
    : options_(options), bus_(bus), session_(std::move(session)) {}

FleetRun::~FleetRun() { close(); }

Result<std::unique_ptr<FleetRun>> FleetRun::start(const spec::Experiment& experiment, const FleetOptions& options,
                                                  const std::string& run_id, std::uint64_t seed, EventBus& bus,
                                                  HaltSwitch& halt) {
  if (options.etcd.endpoints.empty()) {
    return Error{
        "the experiment runs on agents (a target with on:, or a load with generators:) but no etcd is "
        "configured: give --etcd URL, set "
        "$CHAOSPLUS_ETCD, or add etcd: {endpoints: [...]} to the config file",
        ErrorCode::invalid_argument};
  }
  fleet::Session::Settings settings{options.etcd, run_id, experiment.name, options.lease_ttl};
  auto session = fleet::Session::open(std::move(settings), bus, halt);
  if (!session) return session.failure();
  bus.publish(Event("agents.session")
                  .with("lease", session.value()->lease())
                  .with("ttl_ms", std::chrono::duration_cast<std::chrono::milliseconds>(options.lease_ttl).count())
                  .with("etcd", joined(options.etcd.endpoints)));
  std::unique_ptr<FleetRun> run(new FleetRun(options, bus, std::move(session).value()));
  if (auto s = run->setup_agents(experiment, seed); !s) {
    // What was set up is torn down before the error goes up: nothing stays on an agent.
    for (const auto& message : run->teardown()) bus.publish(Event("run.error").with("message", message));
    run->close();
    return s.failure();
  }
  return run;
}

Status FleetRun::setup_agents(const spec::Experiment& experiment, std::uint64_t seed) {
  auto registered = session_->agents();
  if (!registered) return registered.failure();
  std::map<std::string, fleet::AgentInfo> chosen;        // by name
  std::map<std::string, std::vector<std::string>> held;  // agent -> its targets
  for (const spec::Target& t : experiment.targets) {
    if (!t.on) continue;
    auto selected = fleet::select_agents(*t.on, *registered, seed);
    if (!selected)
      return Error{"target '" + t.name + "' (line " + std::to_string(t.mark.line) + "): " + selected.error()};
    std::vector<std::string> names;
    for (const auto& agent : *selected) {
      names.push_back(agent.name);
      held[agent.name].push_back(t.name);
      chosen.emplace(agent.name, agent);
    }
    agents_of_target_[t.name] = names;
    bus_.publish(Event("agents.selected")
                     .with("target", t.name)
                     .with("agents", joined(names))
                     .with("pick", pick_name(t.on->pick))
                     .with("share", t.on->share)
                     .with("seed", std::to_string(seed)));
  }
  // The generators of each distributed load are set up too: their load shards read the load from
  // the experiment `setup` carries (fleet/distributed_load.h).
  for (const spec::Phase& phase : experiment.phases) {
    for (const spec::ActivitySpec& activity : phase.activities) {
      const auto* load = activity.as<load::LoadSpec>();
      if (load == nullptr || !load->on_agents()) continue;
      auto generators = fleet::generator_agents(*load, *registered);
      if (!generators)
        return Error{"load '" + activity.name + "' of phase '" + phase.name + "': " + generators.error()};
      for (const auto& name : *generators) {
        held[name];  // an agent with no target of its own
        for (const auto& agent : *registered) {
          if (agent.name == name) chosen.emplace(name, agent);
        }
      }
    }
  }
  // The agents' own addresses are where this run's probes and loads may now go.
  for (const auto& [name, agent] : chosen) {
    for (const auto& address : agent.addresses) {
      // An address the agent reported that is not an IP literal (a link-local with a zone) is not
      // one anything in the experiment could name either: left out.
      (void)allowed_hosts().add(address, "agent " + name);
    }
  }
  const std::string yaml = read_text(experiment.source_path);
  // Every agent is asked at once, then each answer awaited, so setups overlap.
  std::vector<std::pair<std::string, Result<std::int64_t>>> sent;
  for (const auto& [name, targets] : held) {
    fleet::Command command;
    command.op = fleet::Command::Op::setup;
    command.experiment_yaml = yaml;
    command.source_path = experiment.source_path;
    command.vars = options_.vars;
    command.targets = targets;
    sent.emplace_back(name, session_->send(name, std::move(command)));
    agents_.push_back(name);
  }
  std::vector<std::string> failures;
  for (auto& [name, seq] : sent) {
    Result<fleet::Reply> reply = seq ? session_->await(name, *seq, options_.setup_timeout) : seq.failure();
    Event e("agent.setup");
    e.with("agent", name).with("targets", joined(held[name]));
    if (reply && reply->ok) {
      for (const auto& [target, pid] : reply->pids) e.with("pid." + target, pid);
      bus_.publish(std::move(e).with("ok", true));
      continue;
    }
    const std::string why = reply ? reply->error : reply.error();
    failures.push_back("agent " + name + " could not set up" + (held[name].empty() ? "" : " " + joined(held[name])) +
                       ": " + why);
    bus_.publish(std::move(e).with("ok", false).with("error", why));
  }
  if (failures.empty()) return ok_status();
  std::string message;
  for (const auto& f : failures) message += (message.empty() ? "" : "; ") + f;
  return Error{message};
}

std::unique_ptr<faults::Fault> FleetRun::make_fault(const spec::Fault& fault, const std::string& phase, int index,
                                                    Duration planned_length) {
  auto it = agents_of_target_.find(fault.target);
  if (it == agents_of_target_.end()) return nullptr;
  fleet::RemoteFaultPlan plan;
  plan.agents = it->second;
  plan.fault_id = "f" + std::to_string(next_fault_++);
  plan.phase = phase;
  plan.index = index;
  plan.max_duration = planned_length + options_.fault_grace;
  plan.command_timeout = options_.command_timeout;
  plan.password_file = options_.etcd_password_file;
  return fleet::make_remote_fault(*session_, fault, std::move(plan));
}

std::vector<std::string> FleetRun::teardown() {
  std::vector<std::string> failures;
  if (torn_down_) return failures;
  torn_down_ = true;
  std::vector<std::pair<std::string, Result<std::int64_t>>> sent;
  for (const auto& name : agents_) {
    fleet::Command command;
    command.op = fleet::Command::Op::teardown;
    sent.emplace_back(name, session_->send(name, std::move(command)));
  }
  for (auto& [name, seq] : sent) {
    Result<fleet::Reply> reply = seq ? session_->await(name, *seq, options_.setup_timeout) : seq.failure();
    Event e("agent.teardown");
    e.with("agent", name);
    if (reply && reply->ok) {
      bus_.publish(std::move(e).with("ok", true));
      continue;
    }
    const std::string why = reply ? reply->error : reply.error();
    failures.push_back("agent " + name + " could not tear down: " + why);
    bus_.publish(std::move(e).with("ok", false).with("error", why));
  }
  return failures;
}

void FleetRun::close() {
  if (session_) session_->close();
}

}  // namespace chaosplus::runner
