// The routes that change something: POST /api/runs (start), /api/halt, /api/runs/{id}/halt,
// /api/recover. Each is behind the bearer token (server.cpp).
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "runner/halt_request.h"
#include "runner/recovery.h"
#include "server/api_util.h"
#include "server/experiments.h"
#include "server/routes.h"
#include "spec/loader.h"

namespace chaosplus::server {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

Result<json> parse_body(const std::string& body) {
  if (body.empty()) return Error{"the request has no body: expected a JSON object", ErrorCode::invalid_argument};
  try {
    return json::parse(body);
  } catch (const json::parse_error& e) {
    return Error{"bad JSON at byte " + std::to_string(e.byte) + ": " + e.what(), ErrorCode::invalid_argument};
  }
}

bool variable_name(const std::string& key) {
  if (key.empty() || key.size() > 128 || (key[0] >= '0' && key[0] <= '9')) return false;
  for (char c : key) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

Result<spec::Variables> parse_vars(const json& body) {
  spec::Variables vars;
  auto it = body.find("vars");
  if (it == body.end() || it->is_null()) return vars;
  if (!it->is_object()) return Error{"field 'vars' must be an object of NAME: value", ErrorCode::invalid_argument};
  for (const auto& [key, value] : it->items()) {
    if (!variable_name(key)) {
      return Error{"vars: '" + key.substr(0, 64) + "' is not a variable name (letters, digits, _)",
                   ErrorCode::invalid_argument};
    }
    if (value.is_string()) vars[key] = value.get<std::string>();
    else if (value.is_number() || value.is_boolean()) vars[key] = value.dump();
    else return Error{"vars: '" + key + "' must be a string, number or boolean", ErrorCode::invalid_argument};
  }
  return vars;
}

// The run id from the journal's first line (run.started), once it is there.
std::string journal_run_id(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line) || in.eof()) return {};  // no complete first line yet
  auto j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("type", "") != "run.started") return {};
  return j.value("run_id", "");
}

std::string tail_of(const std::string& path) {
  std::string text = file_tail(path, 2000);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

net::Response start_run(ServerState& state, const net::Request& request) {
  auto body = parse_body(request.body);
  if (!body) return error_json(400, body.error());
  if (!body->is_object())
    return error_json(400, "expected a JSON object {\"experiment\": \"file.yaml\", \"vars\": {}}");
  for (const auto& [key, value] : body->items()) {
    if (key != "experiment" && key != "vars") {
      return error_json(400, "unknown field '" + key.substr(0, 64) + "' (expected: experiment, vars)");
    }
  }
  auto name = body->find("experiment");
  if (name == body->end() || !name->is_string()) {
    return error_json(400, "field 'experiment' is required: the file name of an experiment (GET /api/experiments)");
  }
  auto vars = parse_vars(*body);
  if (!vars) return error_json(400, vars.error());
  auto experiment = find_experiment(state.options.experiments_dir, name->get<std::string>());
  if (!experiment) return error_json(experiment.code() == ErrorCode::not_found ? 404 : 400, experiment.error());
  // Checked here with the given vars, so a mistake is a 422 with its positions rather than a run
  // that ends at once.
  spec::LoadResult loaded = spec::load_experiment_file(experiment->path, *vars);
  if (!loaded.ok()) {
    json errors = json::array();
    for (const auto& d : loaded.errors) errors.push_back(d.to_string());
    return json_reply(422, dump({{"error", experiment->file + " is not a valid experiment"}, {"errors", errors}}));
  }

  auto launched = state.launcher->start(experiment->path, *vars);
  if (!launched) return error_json(500, "cannot start the run: " + launched.error());
  const auto deadline = Clock::now() + state.options.start_wait;
  std::string run_id;
  while (true) {
    if (run_id.empty()) run_id = journal_run_id(launched->journal);
    if (!run_id.empty()) {
      auto row = state.store->find_run(run_id);
      if (row && *row) break;
    }
    if (auto code = state.launcher->exit_code(launched->pid); code && run_id.empty()) {
      return json_reply(422,
                        dump({{"error", "the run ended (exit code " + std::to_string(*code) + ") before it started"},
                              {"output", tail_of(launched->output)},
                              {"pid", launched->pid}}));
    }
    if (Clock::now() >= deadline) {
      return json_reply(504, dump({{"error", "the run's record did not appear in the store in time"},
                                   {"run_id", run_id},
                                   {"pid", launched->pid},
                                   {"journal", launched->journal},
                                   {"output", tail_of(launched->output)}}));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  auto response = json_reply(201, dump({{"id", run_id},
                                        {"pid", launched->pid},
                                        {"experiment", experiment->file},
                                        {"journal", launched->journal},
                                        {"output", launched->output},
                                        {"events", "/api/runs/" + run_id + "/events/stream"}}));
  response.set_header("Location", "/api/runs/" + run_id);
  return response;
}

net::Response halt(ServerState& state, const std::string& id, const net::Request& request) {
  Duration wait = std::chrono::seconds(30);
  if (auto text = request.query_param("wait"); !text.empty()) {
    auto d = parse_duration(text);
    if (!d || *d > std::chrono::minutes(5)) {
      return error_json(400, "wait: expected a duration up to 5m such as 10s, got '" + text.substr(0, 64) + "'");
    }
    wait = *d;
  }
  std::string run_id;
  if (!id.empty()) {
    auto found = find_run(state, id);
    if (!found.row) return found.error;
    run_id = found.row->run_id;
    if (found.row->status != store::RunStatus::running) {
      return error_json(409, "run " + run_id + " is not running (" + store::to_string(found.row->status) + ")");
    }
  }
  std::ostringstream log;
  std::lock_guard lock(state.halt_mutex);
  auto report = runner::halt_runs(*state.ledger, run_id, wait, log, state.store.get());
  if (!report) {
    return error_json(
        report.code() == ErrorCode::not_found ? 409 : 500,
        report.code() == ErrorCode::not_found ? "run " + run_id + " is not running (the ledger)" : report.error());
  }
  json runs = json::array();
  bool all_reverted = true, failed = false;
  for (const auto& r : report->runs) {
    json j{{"id", r.run_id}, {"pid", r.pid}, {"signalled", r.error.empty()}};
    if (!r.error.empty()) j["error"] = r.error;
    j["faults_reverted_s"] = r.faults_cleared ? json(*r.faults_cleared) : json(nullptr);
    j["ended_s"] = r.ended ? json(*r.ended) : json(nullptr);
    failed = failed || !r.error.empty();
    all_reverted = all_reverted && r.faults_cleared.has_value();
    runs.push_back(j);
  }
  json body{{"runs", runs}, {"ok", report->ok()}};
  if (report->recovered_crashed) {
    const auto& r = report->recovery;
    body["recovered"] = {{"runs", r.runs_recovered}, {"reverted", r.entries_reverted}, {"failed", r.entries_failed}};
    body["log"] = log.str();
    failed = failed || r.entries_failed > 0;
  }
  // 200: every fault is off; 202: the runs were told and are still reverting; 500: a run could
  // not be told, or a crashed run's leftovers could not be reverted.
  const int status = failed ? 500 : all_reverted ? 200 : 202;
  return json_reply(status, dump(body));
}

net::Response recover_runs(ServerState& state) {
  std::ostringstream log;
  std::lock_guard lock(state.halt_mutex);
  // The store follows: each crashed run is marked interrupted, its journal replayed, then recovered.
  runner::RecoveryReport r = runner::recover(*state.ledger, state.store.get(), log);
  json body{{"runs_recovered", r.runs_recovered},
            {"reverted", r.entries_reverted},
            {"failed", r.entries_failed},
            {"runs_still_active", r.runs_still_active},
            {"log", log.str()},
            {"ok", r.entries_failed == 0}};
  return json_reply(r.entries_failed == 0 ? 200 : 500, dump(body));
}

}  // namespace chaosplus::server
