#include "faults/system_tool.h"

#include "targets/process.h"
#include "targets/program.h"

namespace chaosplus::faults {
namespace {

// nft -j list ruleset can be large; a tool's output is kept up to this much.
constexpr std::size_t kMaxOutput = 16 * 1024 * 1024;

}  // namespace

std::string find_tool(const std::string& name) { return targets::find_program(name, /*search_sbin=*/true); }

std::string describe_command(const std::vector<std::string>& argv) { return targets::describe_command(argv); }

Result<ToolOutput> run_tool(const std::vector<std::string>& argv, std::string_view input, Duration timeout,
                            const targets::BeforeExec& before_exec) {
  targets::ProgramOptions options;
  options.input = input;
  options.timeout = timeout;
  options.max_output = kMaxOutput;
  options.search_sbin = true;
  options.kill_leftovers = true;
  options.before_exec = before_exec;
  auto run = targets::run_program(argv, options);
  if (!run) return Error{run.error()};
  if (run->timed_out)
    return Error{"'" + describe_command(argv) + "' did not finish within " + format_duration(timeout)};
  return ToolOutput{run->exit_code, std::move(run->out), std::move(run->err)};
}

Result<std::string> run_tool_checked(const std::vector<std::string>& argv, std::string_view input, Duration timeout,
                                     const targets::BeforeExec& before_exec) {
  auto r = run_tool(argv, input, timeout, before_exec);
  if (!r) return Error{r.error()};
  if (r->exit_code != 0) {
    std::string detail = r->err.empty() ? r->out : r->err;
    while (!detail.empty() && (detail.back() == '\n' || detail.back() == ' ')) detail.pop_back();
    if (detail.size() > 600) detail = detail.substr(0, 600) + "...";
    return Error{"'" + describe_command(argv) + "' exited with " + std::to_string(r->exit_code) +
                 (detail.empty() ? "" : ": " + detail)};
  }
  return std::move(r->out);
}

}  // namespace chaosplus::faults

namespace chaosplus::faults {

Status stop_recorded_tool(int pid, unsigned long long start_time) {
  if (pid <= 0) return ok_status();
  const targets::ProcessId tool{pid, start_time};
  // No grace: a tool half way through a change is stopped before it can make more of it.
  if (auto s = targets::stop(tool, Duration::zero()); !s) {
    return Error{"a system tool of this change (pid " + std::to_string(pid) + ") cannot be stopped: " + s.error()};
  }
  return ok_status();
}

}  // namespace chaosplus::faults
