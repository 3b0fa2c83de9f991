#include "cli/etcd_settings.h"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <fstream>
#include <ostream>
#include <sstream>

#include "core/allowed_hosts.h"
#include "core/config_file.h"
#include "fleet/protocol.h"

namespace chaosplus::cli {
namespace {

std::vector<std::string> split_urls(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

Result<Duration> duration_flag(const std::string& text, const char* flag, Duration minimum) {
  auto d = parse_duration(text);
  if (!d || *d < minimum) {
    return Error{std::string(flag) + " " + text + ": expected a duration of at least " + format_duration(minimum),
                 ErrorCode::invalid_argument};
  }
  return *d;
}

}  // namespace

void add_etcd_option(CLI::App& command, EtcdFlags& flags) {
  command.add_option(
      "--etcd", flags.etcd,
      "etcd endpoints, comma-separated http(s):// URLs, where agents register (default: $CHAOSPLUS_ETCD, "
      "else etcd: in the config file; see docs/agents.md)");
}

void add_run_fleet_options(CLI::App& command, EtcdFlags& flags) {
  add_etcd_option(command, flags);
  command.add_option("--lease-ttl", flags.lease_ttl,
                     "TTL of the run lease agents watch: they revert the run's faults by themselves this long after "
                     "the controller is gone (default: etcd: lease_ttl in the config file, else 5s)");
  command.add_option("--fault-grace", flags.fault_grace,
                     "added to a fault's planned length for the longest an agent lets it run before reverting it by "
                     "itself (default: 30s)");
}

Result<runner::FleetOptions> resolve_fleet_options(const EtcdFlags& flags) {
  runner::FleetOptions options;
  auto config = read_config_file();
  if (!config) return config.failure();
  const EtcdSettings& file = config->etcd;
  const char* from_env = std::getenv("CHAOSPLUS_ETCD");
  std::string where;
  if (!flags.etcd.empty()) {
    options.etcd.endpoints = split_urls(flags.etcd);
    where = "--etcd";
  } else if (from_env != nullptr && *from_env != '\0') {
    options.etcd.endpoints = split_urls(from_env);
    where = "$CHAOSPLUS_ETCD";
  } else {
    options.etcd.endpoints = file.endpoints;
    where = config->path;
  }
  for (const auto& url : options.etcd.endpoints) {
    if (!url.starts_with("http://") && !url.starts_with("https://")) {
      return Error{where + ": etcd endpoint '" + url +
                       "': expected an http:// or https:// URL such as "
                       "http://127.0.0.1:2379",
                   ErrorCode::invalid_argument};
    }
  }
  options.etcd.ca_file = file.ca_file;
  options.etcd.cert_file = file.cert_file;
  options.etcd.key_file = file.key_file;
  options.etcd.user = file.user;
  if (!file.password_file.empty()) {
    std::ifstream in(file.password_file);
    if (!in) {
      return Error{config->path + ": etcd: password_file " + file.password_file + " cannot be read",
                   ErrorCode::invalid_argument};
    }
    std::getline(in, options.etcd.password);
    options.etcd_password_file = file.password_file;
  }
  if (file.lease_ttl) options.lease_ttl = *file.lease_ttl;
  if (!flags.lease_ttl.empty()) {
    auto ttl = duration_flag(flags.lease_ttl, "--lease-ttl", std::chrono::seconds(1));
    if (!ttl) return ttl.failure();
    options.lease_ttl = *ttl;
  }
  if (!flags.fault_grace.empty()) {
    auto grace = duration_flag(flags.fault_grace, "--fault-grace", Duration::zero());
    if (!grace) return grace.failure();
    options.fault_grace = *grace;
  }
  return options;
}

void allow_registered_agents(const runner::FleetOptions& options, std::ostream& err) {
  if (options.etcd.endpoints.empty()) return;
  etcd::Options quick = options.etcd;
  quick.request_timeout = std::chrono::seconds(2);
  auto client = etcd::Client::connect(quick);
  if (!client) {
    err << "chaosplus: warning: etcd: " << client.error() << "; the registered agents' addresses are not allowed\n";
    return;
  }
  auto kvs = (*client)->get_prefix(fleet::keys::agents_prefix());
  if (!kvs) {
    err << "chaosplus: warning: etcd: cannot list the agents: " << kvs.error() << "\n";
    return;
  }
  for (const auto& kv : *kvs) {
    auto agent = fleet::agent_from_json(kv.value);
    if (!agent) continue;
    for (const auto& address : agent->addresses) (void)allowed_hosts().add(address, "agent " + agent->name);
  }
}

std::vector<std::string> check_selectors(const spec::Experiment& experiment, const runner::FleetOptions& options) {
  std::vector<std::string> errors;
  if (!runner::needs_agents(experiment)) return errors;
  auto client = etcd::Client::connect(options.etcd);
  if (!client) return {experiment.source_path + ": etcd: " + client.error()};
  auto kvs = (*client)->get_prefix(fleet::keys::agents_prefix());
  if (!kvs) return {experiment.source_path + ": etcd: cannot list the agents: " + kvs.error()};
  std::vector<fleet::AgentInfo> agents;
  for (const auto& kv : *kvs) {
    if (auto agent = fleet::agent_from_json(kv.value)) agents.push_back(std::move(agent).value());
  }
  for (const auto& t : experiment.targets) {
    if (!t.on) continue;
    if (auto selected = fleet::select_agents(*t.on, agents, 0); !selected) {
      errors.push_back(experiment.source_path + ":" + std::to_string(t.on->mark.line) + ":" +
                       std::to_string(t.on->mark.column) + ": target '" + t.name + "': " + selected.error());
    }
  }
  return errors;
}

Status check_fleet_needs(const spec::Experiment& experiment, const runner::FleetOptions& options) {
  if (!runner::needs_agents(experiment) || !options.etcd.endpoints.empty()) return ok_status();
  for (const auto& t : experiment.targets) {
    if (!t.on) continue;
    return Error{experiment.source_path + ":" + std::to_string(t.on->mark.line) + ":" +
                     std::to_string(t.on->mark.column) + ": target '" + t.name +
                     "' is on agents (on:) but no etcd is configured, expected --etcd URL, $CHAOSPLUS_ETCD, or "
                     "etcd: {endpoints: [...]} in the config file (docs/agents.md); nothing was run",
                 ErrorCode::invalid_argument};
  }
  return Error{experiment.source_path +
                   ": the experiment runs on agents but no etcd is configured, expected --etcd "
                   "URL, $CHAOSPLUS_ETCD, or etcd: in the config file; nothing was run",
               ErrorCode::invalid_argument};
}

}  // namespace chaosplus::cli
