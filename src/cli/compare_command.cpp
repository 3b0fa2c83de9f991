#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"
#include "cli/run_store.h"
#include "report/compare.h"
#include "report/run_data.h"

namespace chaosplus::cli {
namespace {

struct CompareOptions {
  std::string run_a, run_b;
  bool json = false, markdown = false;
  std::string store, state_dir;
  std::vector<std::pair<std::string, std::string>> rules;  // flag, value
};

}  // namespace

void add_compare_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "compare",
      "Compare two runs: steady-state probes (success rate, p50/p99 latency during the phases), load percentiles "
      "and error rates, recovery time, checks, findings and the verdict; each row says better, same or worse and the "
      "rule that makes it a regression (docs/reports.md).\n"
      "Exit codes: 0 no regression from RUN_A to RUN_B, 1 regression, 3 a run cannot be read or a rule is invalid.");
  auto options = std::make_shared<CompareOptions>();
  cmd->add_option("RUN_A", options->run_a,
                  "the reference run: its journal, or its id (or a unique prefix) in the store")
      ->required();
  cmd->add_option("RUN_B", options->run_b, "the run to judge against it: a journal or a run id")->required();
  cmd->add_option("--store", options->store,
                  "the results store (a file path, sqlite:PATH or postgresql://...); default: $CHAOSPLUS_STORE, the "
                  "config file's store:, else <state dir>/results.db");
  cmd->add_option("--state-dir", options->state_dir, "the state folder whose results.db is the default store");
  cmd->add_flag("--json", options->json, "print the comparison as JSON");
  cmd->add_flag("--markdown", options->markdown, "print the comparison as a Markdown table");
  const std::pair<const char*, const char*> rule_flags[] = {
      {"latency-tolerance", "p50 latency may rise by this share (default 25%)"},
      {"latency-floor", "... or by this much, whichever is larger (default 5ms)"},
      {"tail-tolerance", "p99 latency may rise by this share (default 50%)"},
      {"tail-floor", "... or by this much, whichever is larger (default 25ms)"},
      {"error-rate-tolerance", "a load's error rate may rise by these percentage points (default 1%)"},
      {"success-rate-tolerance", "a probe's success rate may fall by these percentage points (default 1%)"},
      {"recovery-tolerance", "time to recover may grow by this share (default 50%)"},
      {"recovery-floor", "... or by this much, whichever is larger (default 1s)"}};
  for (const auto& [flag, help] : rule_flags) {
    const std::string name = flag;
    cmd->add_option_function<std::string>(
        "--" + name, [options, name](const std::string& value) { options->rules.emplace_back(name, value); }, help);
  }
  cmd->callback([options, &exit_code] {
    report::CompareRules rules;
    for (const auto& [flag, value] : options->rules) {
      if (auto set = report::set_rule(rules, flag, value); !set) {
        std::cerr << "compare: " << set.error() << "\n";
        exit_code = kExitInvalid;
        return;
      }
    }
    RunStore runs(options->store, options->state_dir);
    auto a = runs.load(options->run_a);
    auto b = a ? runs.load(options->run_b) : a;
    if (!a || !b) {
      std::cerr << "compare: " << (!a ? a.error() : b.error()) << "\n";
      exit_code = kExitInvalid;
      return;
    }
    if (a->row.experiment != b->row.experiment)
      std::cerr << "compare: note: A is a run of " << a->row.experiment << ", B of " << b->row.experiment << "\n";
    const report::Comparison comparison =
        report::compare_runs(report::derive_run(a->row, a->events), report::derive_run(b->row, b->events), rules);
    if (options->json) std::cout << report::comparison_json(comparison);
    else if (options->markdown) std::cout << report::comparison_markdown(comparison);
    else std::cout << report::format_comparison(comparison);
    exit_code = comparison.regression() ? 1 : 0;
  });
}

}  // namespace chaosplus::cli
