#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "cli/commands.h"
#include "cli/signal_watcher.h"
#include "core/halt_switch.h"
#include "core/loopback.h"
#include "runner/recovery.h"
#include "server/server.h"
#include "server/token.h"
#include "spec/loader.h"
#include "store/location.h"

namespace chaosplus::cli {

void add_server_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "server",
      "Serve the REST API, live events, /metrics and the dashboard (with its HALT button) over the results store.\n"
      "Listens on 127.0.0.1:7070 unless --listen says otherwise. Every call that changes something needs the "
      "bearer token: $CHAOSPLUS_TOKEN, --token-file, or a new one written to <state-dir>/server.token. "
      "Runs it starts go on when it stops (halt them with `chaosplus halt`). See docs/server.md.");
  struct Options {
    std::string listen = "127.0.0.1:7070";
    std::string token_file;
    std::string store;
    std::string state_dir;
    std::string runs_dir = "runs";
    std::string experiments = "experiments";
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("--listen", o->listen, "address:port to listen on (default 127.0.0.1:7070; port 0: any free one)");
  cmd->add_option("--token-file", o->token_file, "file holding the bearer token (one line)");
  cmd->add_option("--store", o->store,
                  "results store: a SQLite path or postgresql://... (default: in the state folder)");
  cmd->add_option("--state-dir", o->state_dir,
                  "folder of the fault ledger (default: $CHAOSPLUS_STATE_DIR or ~/.local/state/chaosplus)");
  cmd->add_option("--runs-dir", o->runs_dir, "folder for the journals and output of runs it starts (default: runs)");
  cmd->add_option("--experiments", o->experiments, "folder of the experiment files it offers (default: experiments)");
  cmd->callback([o, &exit_code] {
    auto endpoint = spec::parse_endpoint(o->listen);
    // Port 0 is fine here (a free port), which parse_endpoint refuses: read it by hand then.
    std::string host;
    int port = 0;
    if (endpoint) {
      host = endpoint->host;
      port = endpoint->port;
    } else if (o->listen.ends_with(":0")) {
      host = o->listen.substr(0, o->listen.size() - 2);
      if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    } else {
      std::cerr << "server: --listen " << endpoint.error() << "\n";
      exit_code = kExitInvalid;
      return;
    }
    if (!is_loopback_host(host)) {
      std::cerr << "server: WARNING: listening on " << o->listen
                << ", which is not loopback: anyone who can reach it can read every run; changes still need the "
                   "token, which travels in clear text without TLS\n";
    }
    server::ServerOptions options;
    options.host = host;
    options.port = port;
    options.state_dir = o->state_dir.empty() ? runner::default_state_dir() : o->state_dir;
    auto location = store::resolve_location(o->store, options.state_dir);
    if (!location) {
      std::cerr << "server: " << location.error() << "\n";
      exit_code = kExitInvalid;
      return;
    }
    options.store = *location;
    options.runs_dir = o->runs_dir;
    options.experiments_dir = o->experiments;
    const char* env = std::getenv("CHAOSPLUS_TOKEN");
    auto token = server::resolve_token(env == nullptr ? "" : env, o->token_file, options.state_dir);
    if (!token) {
      std::cerr << "server: " << token.error() << "\n";
      exit_code = kExitInvalid;
      return;
    }
    options.token = token->value;
    HaltSwitch stop;
    SignalWatcher watcher(stop);
    auto started = server::Server::start(options);
    if (!started) {
      std::cerr << "server: " << started.error() << "\n";
      exit_code = kExitInvalid;
      return;
    }
    auto& server = **started;
    std::cout << "chaosplus server on " << server.url() << "\n";
    std::cout << "  token: " << (token->generated ? "new, written to " : "from ") << token->origin << "\n";
    std::cout << "  dashboard: " << server.url() << "#token=<the token>  (the page keeps it for the tab)\n";
    std::cout << "  store: " << options.store << "\n";
    std::cout << "  ledger: " << runner::ledger_path(options.state_dir) << "\n" << std::flush;
    while (!stop.wait_for(std::chrono::seconds(1))) {
    }
    std::cout << "server: " << stop.reason() << "; stopping (runs it started go on: `chaosplus halt` stops them)\n";
    server.stop();
    exit_code = 0;
  });
}

}  // namespace chaosplus::cli
