#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/etcd_settings.h"
#include "fleet/protocol.h"

namespace chaosplus::cli {

void add_agents_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("agents", "List the agents registered in etcd: name, host, labels, addresses");
  auto flags = std::make_shared<EtcdFlags>();
  auto json_output = std::make_shared<bool>(false);
  add_etcd_option(*cmd, *flags);
  cmd->add_flag("--json", *json_output, "one JSON array of the agents as they registered");
  cmd->callback([flags, json_output, &exit_code] {
    auto options = resolve_fleet_options(*flags);
    if (!options) {
      std::cerr << "chaosplus: " << options.error() << "\n";
      exit_code = kExitInvalid;
      return;
    }
    if (options->etcd.endpoints.empty()) {
      std::cerr << "chaosplus agents: no etcd configured, expected --etcd URL, $CHAOSPLUS_ETCD, or etcd: in the "
                   "config file\n";
      exit_code = kExitInvalid;
      return;
    }
    auto client = etcd::Client::connect(options->etcd);
    if (!client) {
      std::cerr << "chaosplus agents: etcd: " << client.error() << "\n";
      exit_code = kExitInvalid;
      return;
    }
    auto kvs = (*client)->get_prefix(fleet::keys::agents_prefix());
    if (!kvs) {
      std::cerr << "chaosplus agents: etcd: " << kvs.error() << "\n";
      exit_code = kExitInvalid;
      return;
    }
    std::vector<fleet::AgentInfo> agents;
    for (const auto& kv : *kvs) {
      if (auto agent = fleet::agent_from_json(kv.value)) agents.push_back(std::move(agent).value());
    }
    exit_code = 0;
    if (*json_output) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& a : agents) out.push_back(nlohmann::json::parse(fleet::to_json(a)));
      std::cout << out.dump(2) << "\n";
      return;
    }
    if (agents.empty()) {
      std::cout << "no agent registered\n";
      return;
    }
    for (const auto& a : agents) {
      std::string labels;
      for (const auto& [k, v] : a.labels) labels += (labels.empty() ? "" : ",") + k + "=" + v;
      std::string addresses;
      for (const auto& address : a.addresses) addresses += (addresses.empty() ? "" : ",") + address;
      std::cout << a.name << "  host=" << a.host << "  labels=" << (labels.empty() ? "-" : labels)
                << "  addresses=" << (addresses.empty() ? "-" : addresses) << "  pid=" << a.pid
                << "  version=" << a.version << "\n";
    }
  });
}

}  // namespace chaosplus::cli
