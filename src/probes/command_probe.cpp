#include <algorithm>
#include <string>
#include <string_view>

#include "probes/expectation.h"
#include "probes/probe.h"
#include "targets/program.h"

namespace chaosplus::probes {
namespace {

// What a probe keeps of a command's output (stdout and stderr together); more is read and dropped.
constexpr std::size_t kMaxOutput = 1024 * 1024;

}  // namespace

ProbeResult run_command(const spec::CommandProbe& probe, const spec::Expectation& expect) {
  ProbeResult outcome;
  targets::ProgramOptions options;
  options.timeout = probe.timeout;
  options.merge_stderr = true;
  options.max_output = kMaxOutput;
  auto run = targets::run_program(probe.argv, options);
  if (!run) {
    outcome.status = 127;
    outcome.detail = run.error();
    return outcome;
  }
  outcome.status = run->exit_code;
  outcome.latency = run->duration;
  if (run->timed_out) {
    outcome.detail = "timed out after " + format_duration(probe.timeout) + targets::output_excerpt(run->out);
    return outcome;
  }
  outcome.detail = judge_command(expect, outcome.status, run->out, outcome.latency);
  if (!outcome.detail.empty() && outcome.detail.starts_with("exit code"))
    outcome.detail += targets::output_excerpt(run->out);
  outcome.ok = outcome.detail.empty();
  return outcome;
}

}  // namespace chaosplus::probes
