#include <CLI/CLI.hpp>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "agent/agent.h"
#include "cli/commands.h"
#include "cli/etcd_settings.h"
#include "cli/signal_watcher.h"
#include "runner/recovery.h"

namespace chaosplus::cli {

void add_agent_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "agent",
      "Run the agent of this host: register in etcd with labels, carry out the faults, targets and load shards "
      "of the runs that name it, and revert them on its own when a fault's maximum duration passes or the run's "
      "lease is lost (docs/agents.md). Connects out only; listens on nothing. SIGTERM or SIGINT: reverts "
      "everything it holds, deregisters, exits 0. Exit 3: invalid options, or its ledger cannot be opened.");
  struct Options {
    std::string etcd;
    std::string name;
    std::vector<std::string> labels;
    std::string state_dir;
    std::string ttl = "5s";
    std::string ca_file;
    std::string cert_file;
    std::string key_file;
    std::string user;
    std::string password_file;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option(
      "--etcd", o->etcd,
      "etcd client URLs, comma-separated (http://10.0.0.5:2379,...; default: $CHAOSPLUS_ETCD, else etcd: in "
      "the config file, whose TLS files, user and password file are used too)");
  cmd->add_option("--name", o->name, "the agent's name in the fleet, unique (default: the host name)");
  cmd->add_option("--label", o->labels, "a label KEY=VALUE that experiments select agents by (repeatable)");
  cmd->add_option("--state-dir", o->state_dir,
                  "folder of the agent's own ledger and run logs (default: agent/ in $CHAOSPLUS_STATE_DIR or "
                  "~/.local/state/chaosplus)");
  cmd->add_option("--ttl", o->ttl, "TTL of the agent's registration lease (default 5s)");
  cmd->add_option("--ca-file", o->ca_file, "PEM of the CA that signed the etcd members' certificates (TLS)");
  cmd->add_option("--cert-file", o->cert_file, "the agent's client certificate (mutual TLS)");
  cmd->add_option("--key-file", o->key_file, "the key of --cert-file");
  cmd->add_option("--user", o->user, "etcd user (when etcd authentication is enabled)");
  cmd->add_option("--password-file", o->password_file, "file holding that user's password (one line)");
  cmd->callback([o, &exit_code] {
    agent::AgentOptions options;
    options.name = o->name;
    // As the controller finds etcd: --etcd, else $CHAOSPLUS_ETCD, else etcd: of the config file.
    EtcdFlags flags;
    flags.etcd = o->etcd;
    auto fleet = resolve_fleet_options(flags);
    if (!fleet) {
      std::cerr << "agent: " << fleet.error() << "\n";
      exit_code = kExitInvalid;
      return;
    }
    options.etcd = fleet->etcd;
    if (options.etcd.endpoints.empty()) {
      std::cerr << "agent: no etcd endpoints: expected --etcd URL[,URL...], $CHAOSPLUS_ETCD or etcd: endpoints in "
                   "the config file\n";
      exit_code = kExitInvalid;
      return;
    }
    for (const std::string& label : o->labels) {
      const auto eq = label.find('=');
      if (eq == std::string::npos || eq == 0) {
        std::cerr << "agent: --label " << label << ": expected KEY=VALUE\n";
        exit_code = kExitInvalid;
        return;
      }
      options.labels[label.substr(0, eq)] = label.substr(eq + 1);
    }
    auto ttl = parse_duration(o->ttl);
    if (!ttl || *ttl < std::chrono::seconds(1)) {
      std::cerr << "agent: --ttl " << o->ttl << ": expected a duration of at least 1s\n";
      exit_code = kExitInvalid;
      return;
    }
    options.ttl = *ttl;
    // The flags win over the config file's settings.
    if (!o->ca_file.empty()) options.etcd.ca_file = o->ca_file;
    if (!o->cert_file.empty()) options.etcd.cert_file = o->cert_file;
    if (!o->key_file.empty()) options.etcd.key_file = o->key_file;
    if (!o->user.empty()) options.etcd.user = o->user;
    if (!o->password_file.empty()) {
      std::ifstream in(o->password_file);
      if (!in || !std::getline(in, options.etcd.password)) {
        std::cerr << "agent: --password-file " << o->password_file << ": cannot read a line from it\n";
        exit_code = kExitInvalid;
        return;
      }
    }
    options.state_dir = o->state_dir.empty() ? runner::default_state_dir() + "/agent" : o->state_dir;
    HaltSwitch stop;
    SignalWatcher watcher(stop);
    Status s = agent::run_agent(std::move(options), stop, std::cerr);
    if (!s) {
      std::cerr << "agent: " << s.error() << "\n";
      exit_code = kExitInvalid;
      return;
    }
    exit_code = 0;
  });
}

}  // namespace chaosplus::cli
