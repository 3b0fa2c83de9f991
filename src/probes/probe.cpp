#include "probes/probe.h"

#include <exception>
#include <type_traits>
#include <variant>

namespace chaosplus::probes {

ProbeResult run(const spec::Probe& probe) {
  try {
    return std::visit(
        [&](const auto& kind) {
          using Kind = std::decay_t<decltype(kind)>;
          if constexpr (std::is_same_v<Kind, spec::HttpProbe>) return run_http(kind, probe.expect);
          else if constexpr (std::is_same_v<Kind, spec::TcpProbe>) return run_tcp(kind, probe.expect);
          else if constexpr (std::is_same_v<Kind, spec::CommandProbe>) return run_command(kind, probe.expect);
          else if constexpr (std::is_same_v<Kind, spec::SqlProbe>) return run_sql(kind, probe.expect);
          else return run_extension(kind, probe.expect);
        },
        probe.kind);
  } catch (const std::exception& e) {  // e.g. bad_alloc: a probe failure, never the runner's crash
    ProbeResult outcome;
    outcome.detail = "probe " + probe.name + " failed: " + e.what();
    return outcome;
  }
}

}  // namespace chaosplus::probes
