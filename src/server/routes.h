#pragma once
// The handlers behind handle_api (internal to src/server), one file per group.
#include <string>

#include "net/http_message.h"
#include "server/state.h"

namespace chaosplus::server {

// experiments.cpp
net::Response list_experiments(ServerState& state);
// runs_api.cpp
net::Response list_runs(ServerState& state, const net::Request& request);
net::Response show_run(ServerState& state, const std::string& id);
net::Response run_events(ServerState& state, const std::string& id, const net::Request& request);
// event_stream.cpp
net::Response stream_events(ServerState& state, const std::string& id, const net::Request& request);
// actions.cpp
net::Response start_run(ServerState& state, const net::Request& request);
net::Response halt(ServerState& state, const std::string& id, const net::Request& request);
net::Response recover_runs(ServerState& state);
// reports_api.cpp
net::Response compare(ServerState& state, const net::Request& request);
net::Response run_report(ServerState& state, const std::string& id, const net::Request& request);

// The run `id` names (or a unique prefix of it): the row, or the error answer (404, 400, 500).
struct FoundRun {
  std::optional<store::RunRow> row;
  net::Response error;
};
FoundRun find_run(ServerState& state, const std::string& id);

}  // namespace chaosplus::server
