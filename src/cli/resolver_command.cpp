#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"
#include "cli/signal_watcher.h"
#include "dns/server.h"

namespace chaosplus::cli {

// Hidden: `chaosplus run` starts it for a run whose started targets resolve names through it
// (docs/faults.md, "DNS faults"); nobody needs to start it by hand.
void add_resolver_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("resolver", "Run a run's DNS resolver (started by `chaosplus run`) until stopped");
  cmd->group("");  // hidden from --help
  struct Options {
    std::string rules;
    std::string address_to;
    std::vector<std::string> listen;
    int port = 53;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("--rules", o->rules, "the run's rules file (JSON), read again whenever it changes")->required();
  cmd->add_option("--address-to", o->address_to,
                  "once listening, write the address (and a newline) to this path, a FIFO the caller reads");
  cmd->add_option("--listen", o->listen,
                  "loopback IPv4 addresses to try in order, the first free one is used (default 127.53.0.1 .. "
                  "127.53.0.254)");
  cmd->add_option("--port", o->port, "UDP and TCP port (default 53: glibc's resolv.conf cannot name another)")
      ->check(CLI::Range(1, 65535));
  cmd->callback([o, &exit_code] {
    dns::ServerOptions options;
    options.rules_path = o->rules;
    options.address_to = o->address_to;
    options.addresses = o->listen.empty() ? dns::default_addresses() : o->listen;
    options.port = o->port;
    HaltSwitch halt;
    SignalWatcher watcher(halt);
    exit_code = dns::run_server(options, halt);
  });
}

}  // namespace chaosplus::cli
