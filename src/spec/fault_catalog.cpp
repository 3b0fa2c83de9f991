#include "spec/fault_catalog.h"

#include <array>
#include <cctype>
#include <cmath>

namespace chaosplus::spec {
namespace {

constexpr std::array<std::string_view, 2> kDirections{"downstream", "upstream"};

// clang-format off
constexpr std::array<FaultParam, 1> kKillParams{{
    {"signal", ParamKind::signal, "SIGKILL", false, {},
     "a signal such as SIGKILL, SIGTERM or 9: what is sent to the process"},
}};
constexpr std::array<FaultParam, 3> kLatencyParams{{
    {"latency", ParamKind::duration, "", true, {},
     "a duration such as 200ms: the delay added to the traffic"},
    {"jitter", ParamKind::duration, "0ms", false, {},
     "a duration such as 50ms: random extra delay, uniform in [0, jitter]"},
    {"direction", ParamKind::choice, "downstream", false, kDirections,
     "downstream (responses to the client) or upstream (requests to the target)"},
}};
constexpr std::array<FaultParam, 1> kResetParams{{
    {"after", ParamKind::duration, "0ms", false, {},
     "a duration such as 1s: how long a connection lives before it is reset"},
}};
constexpr std::array<FaultParam, 1> kBandwidthParams{{
    {"rate", ParamKind::byte_rate, "", true, {},
     "a rate such as 64KB/s or 1MiB/s: bytes per second allowed through"},
}};
// clang-format on

constexpr std::array<FaultType, 7> kCatalog{{
    {"kill", Capability::signal_process, kKillParams, "send a signal (SIGKILL by default) to the target process"},
    {"pause", Capability::signal_process, {}, "stop the process (SIGSTOP) and continue it (SIGCONT) on revert"},
    {"restart", Capability::restart_process, {}, "stop the process and start it again"},
    {"latency", Capability::proxy, kLatencyParams, "delay traffic through the target's proxy"},
    {"reset", Capability::proxy, kResetParams, "reset connections through the target's proxy (TCP RST)"},
    {"blackhole", Capability::proxy, {}, "accept connections through the proxy but pass no data"},
    {"bandwidth", Capability::proxy, kBandwidthParams, "limit throughput through the target's proxy"},
}};

constexpr std::array<std::string_view, 3> kCommonKeys{"target", "at", "for"};

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string join(std::span<const std::string_view> items) {
  std::string out;
  for (auto item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

}  // namespace

std::span<const FaultType> fault_catalog() { return kCatalog; }

const FaultType* find_fault_type(std::string_view name) {
  for (const auto& type : kCatalog) {
    if (type.name == name) return &type;
  }
  return nullptr;
}

const FaultParam* find_fault_param(const FaultType& type, std::string_view name) {
  for (const auto& param : type.params) {
    if (param.name == name) return &param;
  }
  return nullptr;
}

std::span<const std::string_view> common_fault_keys() { return kCommonKeys; }

std::string exact_duration(Duration d) {
  static constexpr std::array<std::pair<std::int64_t, std::string_view>, 6> units{{{3'600'000'000'000, "h"},
                                                                                   {60'000'000'000, "m"},
                                                                                   {1'000'000'000, "s"},
                                                                                   {1'000'000, "ms"},
                                                                                   {1'000, "us"},
                                                                                   {1, "ns"}}};
  const std::int64_t ns = d.count();
  if (ns == 0) return "0ms";
  for (const auto& [scale, unit] : units) {
    if (ns % scale == 0) return std::to_string(ns / scale) + std::string(unit);
  }
  return std::to_string(ns) + "ns";
}

Result<std::uint64_t> parse_byte_rate(std::string_view text) {
  const std::string what =
      "'" + std::string(text) + "' is not a byte rate (expected a size per second: 500B/s, 64KB/s, 1MiB/s)";
  std::string_view s = trim(text);
  if (!s.ends_with("/s")) return Error{what};
  s.remove_suffix(2);
  s = trim(s);
  if (s.empty()) return Error{what};
  auto bytes = parse_bytes(s);
  if (!bytes) return Error{what};
  if (*bytes == 0) return Error{"'" + std::string(text) + "' is zero; a bandwidth limit must be at least 1B/s"};
  return *bytes;
}

Result<std::string> normalize_fault_param(const FaultParam& param, std::string_view written) {
  switch (param.kind) {
    case ParamKind::duration: {
      auto d = parse_duration(written);
      if (!d) return Error{d.error()};
      return exact_duration(*d);
    }
    case ParamKind::signal: {
      auto sig = parse_signal(written);
      if (!sig) return Error{sig.error()};
      return signal_name(*sig);
    }
    case ParamKind::choice: {
      for (auto choice : param.choices) {
        if (choice == written) return std::string(choice);
      }
      return Error{"'" + std::string(written) + "' is not a valid " + std::string(param.name) + " (expected one of " +
                   join(param.choices) + ")"};
    }
    case ParamKind::byte_rate: {
      auto rate = parse_byte_rate(written);
      if (!rate) return Error{rate.error()};
      return std::to_string(*rate);
    }
  }
  return Error{"unknown parameter kind"};
}

bool target_has(const Target& target, Capability capability) {
  switch (capability) {
    case Capability::signal_process:
      return target.process.has_value() || target.attach.has_value();
    case Capability::restart_process:
      return target.process.has_value() || (target.attach.has_value() && !target.attach->restart_command.empty());
    case Capability::proxy:
      return target.proxy.has_value();
  }
  return false;
}

std::string_view describe(Capability capability) {
  switch (capability) {
    case Capability::signal_process:
      return "a 'process' or 'attach'";
    case Capability::restart_process:
      return "a 'process', or an 'attach' with 'restart_command'";
    case Capability::proxy:
      return "a 'proxy'";
  }
  return "";
}

}  // namespace chaosplus::spec
