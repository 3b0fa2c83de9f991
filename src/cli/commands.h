#pragma once
// The subcommands of the chaosplus binary, one file each. Each registers its options on the app
// and, when chosen, runs and stores its exit code in `exit_code`. Exit codes follow docs/architecture.md:
// 0 held, 1 deviated, 2 aborted (guardrail or halt), 3 invalid input or runner error, 4 not
// restored (runner/verdict.h), 6 unchecked.
namespace CLI {
class App;
}

namespace chaosplus::cli {

inline constexpr int kExitInvalid = 3;

void add_run_command(CLI::App& app, int& exit_code);
void add_validate_command(CLI::App& app, int& exit_code);
void add_recover_command(CLI::App& app, int& exit_code);
void add_leftovers_command(CLI::App& app, int& exit_code);
void add_halt_command(CLI::App& app, int& exit_code);
void add_proxy_command(CLI::App& app, int& exit_code);
void add_resolver_command(CLI::App& app, int& exit_code);
void add_load_command(CLI::App& app, int& exit_code);
void add_fuzz_command(CLI::App& app, int& exit_code);
void add_report_command(CLI::App& app, int& exit_code);
void add_compare_command(CLI::App& app, int& exit_code);
void add_schema_command(CLI::App& app, int& exit_code);
void add_scan_command(CLI::App& app, int& exit_code);
void add_replay_command(CLI::App& app, int& exit_code);
void add_history_command(CLI::App& app, int& exit_code);
void add_show_command(CLI::App& app, int& exit_code);
void add_iofs_command(CLI::App& app, int& exit_code);  // hidden: an I/O fault's FUSE daemon
void add_server_command(CLI::App& app, int& exit_code);
void add_agent_command(CLI::App& app, int& exit_code);
void add_agents_command(CLI::App& app, int& exit_code);  // the agents registered in etcd

}  // namespace chaosplus::cli
