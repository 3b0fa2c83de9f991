#include "spec/fault_catalog.h"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "spec/kernel_params.h"

namespace chaosplus::spec {
namespace {

constexpr std::array<std::string_view, 2> kDirections{"downstream", "upstream"};

// clang-format off
constexpr std::array<FaultParam, 1> kKillParams{{
    {"signal", ParamKind::signal, "SIGKILL", false, {},
     "a signal such as SIGKILL, SIGTERM or 9: what is sent to the process"},
}};
// The byte-level proxy faults act on whole connections: the share is drawn once per connection.
constexpr FaultParam kConnectionShare{"share", ParamKind::share, "100%", false, {},
                                      "a percentage such as 30%: the share of connections the fault acts on"};
constexpr FaultParam kDownstream{"direction", ParamKind::choice, "downstream", false, kDirections,
                                 "downstream (responses to the client) or upstream (requests to the target)"};
constexpr FaultParam kUpstream{"direction", ParamKind::choice, "upstream", false, kDirections,
                               "upstream (requests to the target) or downstream (responses to the client)"};
constexpr std::array<FaultParam, 4> kLatencyParams{{
    {"latency", ParamKind::duration, "", true, {},
     "a duration such as 200ms: the delay added to the traffic"},
    {"jitter", ParamKind::duration, "0ms", false, {},
     "a duration such as 50ms: random variation, uniform in [-jitter, +jitter]"},
    kDownstream, kConnectionShare,
}};
constexpr std::array<FaultParam, 3> kResetParams{{
    {"after", ParamKind::duration, "0ms", false, {},
     "a duration such as 1s: how long a connection lives before it is reset"},
    kDownstream, kConnectionShare,
}};
constexpr std::array<FaultParam, 1> kBlackholeParams{{kConnectionShare}};
constexpr std::array<FaultParam, 3> kTimeoutParams{{
    {"after", ParamKind::duration, "", true, {},
     "a duration such as 5s: no data passes, and the connection is closed after this long"},
    kUpstream, kConnectionShare,
}};
constexpr std::array<FaultParam, 3> kBandwidthParams{{
    {"rate", ParamKind::byte_rate, "", true, {},
     "a rate such as 64KB/s or 1MiB/s: bytes per second allowed through"},
    kDownstream, kConnectionShare,
}};
constexpr std::array<FaultParam, 3> kSlowCloseParams{{
    {"delay", ParamKind::duration, "", true, {},
     "a duration such as 2s: how long the close of a connection is held back"},
    kDownstream, kConnectionShare,
}};
constexpr std::array<FaultParam, 5> kSlicerParams{{
    {"average_size", ParamKind::byte_size, "", true, {},
     "a size such as 64 or 1KiB: the average size of the pieces the data is cut into"},
    {"size_variation", ParamKind::byte_size, "0", false, {},
     "a size smaller than average_size: pieces vary by up to this much either way"},
    {"delay", ParamKind::duration, "0ms", false, {},
     "a duration such as 10ms (microseconds count): the pause between pieces"},
    kDownstream, kConnectionShare,
}};
constexpr std::array<FaultParam, 3> kLimitDataParams{{
    {"bytes", ParamKind::byte_size, "", true, {},
     "a size such as 1KiB: how many bytes pass before the connection is closed"},
    kDownstream, kConnectionShare,
}};
constexpr std::array<std::string_view, 2> kAbortModes{"close", "reset"};
constexpr FaultParam kShare{"share", ParamKind::share, "100%", false, {},
                            "a percentage such as 10%: the share of matching requests the fault acts on"};
constexpr FaultParam kMethod{"method", ParamKind::text, "", false, {},
                             "an HTTP method or a comma-separated list (POST, GET,HEAD); empty = any"};
constexpr FaultParam kPath{"path", ParamKind::text, "", false, {},
                           "a request path, exact or with * wildcards (/orders, /orders/*); empty = any"};
constexpr std::array<FaultParam, 6> kHttpErrorParams{{
    {"status", ParamKind::status, "503", false, {}, "the HTTP status code answered, 200-599"},
    kShare, kMethod, kPath,
    {"body", ParamKind::text, "", false, {}, "the body of the answer"},
    {"content_type", ParamKind::text, "text/plain; charset=utf-8", false, {}, "the Content-Type of the answer"},
}};
constexpr std::array<FaultParam, 5> kHttpDelayParams{{
    {"delay", ParamKind::duration, "", true, {}, "a duration such as 300ms: how long matching requests are held"},
    {"jitter", ParamKind::duration, "0ms", false, {}, "a duration: random extra delay, uniform in [-jitter, jitter]"},
    kShare, kMethod, kPath,
}};
constexpr std::array<FaultParam, 5> kHttpAbortParams{{
    {"bytes", ParamKind::byte_size, "0", false, {}, "a size such as 1KiB: how much of the response body passes"},
    {"mode", ParamKind::choice, "close", false, kAbortModes, "close (FIN) or reset (RST) the connection"},
    kShare, kMethod, kPath,
}};
// The kernel faults (faults/nft_faults.cpp nft_setup, faults/tbf_fault.cpp tbf_plan read these).
constexpr std::array<std::string_view, 3> kProtocols{"tcp", "udp", "all"};
constexpr FaultParam kPort{"port", ParamKind::port, "", false, {},
                           "a port 1-65535, or any (only with namespace): the endpoint's port; default the target's"};
constexpr FaultParam kAddress{"address", ParamKind::ip_address, "", false, {},
                              "an IP address such as 127.0.0.1: the endpoint's address; default the target's"};
constexpr FaultParam kProtocol{"protocol", ParamKind::choice, "tcp", false, kProtocols,
                               "tcp, udp or all: which packets the fault acts on"};
constexpr FaultParam kNamespace{"namespace", ParamKind::namespace_name, "", false, {},
                                "a network namespace chaosplus creates (chaosplus-lab); default chaosplus's own"};
constexpr std::array<FaultParam, 4> kPacketParams{{kPort, kAddress, kProtocol, kNamespace}};
constexpr std::array<FaultParam, 5> kPartitionParams{{
    kPort, kAddress, kProtocol, kNamespace,
    {"peer", ParamKind::ip_network, "", false, {},
     "an IP address or network such as 10.0.0.0/24: the other side; default anyone"},
}};
constexpr std::array<FaultParam, 5> kPacketLossParams{{
    {"share", ParamKind::share, "", true, {}, "a percentage such as 20%: the share of packets dropped each way"},
    kPort, kAddress, kProtocol, kNamespace,
}};
constexpr std::array<FaultParam, 4> kBandwidthLimitParams{{
    {"namespace", ParamKind::namespace_name, "", true, {},
     "a network namespace chaosplus creates, such as chaosplus-lab: the host's interfaces are never shaped"},
    {"interface", ParamKind::interface_name, "", true, {}, "the name of an interface in the namespace, such as veth0"},
    {"rate", ParamKind::byte_rate, "", true, {}, "a rate such as 1MB/s: bytes per second allowed out"},
    {"burst", ParamKind::byte_size, "", false, {},
     "a size such as 32KB: the token bucket; default 20ms of rate, at least two frames"},
}};
// clang-format on

constexpr std::array<FaultType, 19> kCatalog{{
    {"kill", Capability::signal_process, kKillParams, "send a signal (SIGKILL by default) to the target process"},
    {"pause", Capability::signal_process, {}, "stop the process (SIGSTOP) and continue it (SIGCONT) on revert"},
    {"restart", Capability::restart_process, {}, "stop the process and start it again"},
    {"latency", Capability::proxy, kLatencyParams, "delay traffic through the target's proxy"},
    {"reset", Capability::proxy, kResetParams, "reset connections through the target's proxy (TCP RST)"},
    {"blackhole", Capability::proxy, kBlackholeParams, "accept connections through the proxy but pass no data"},
    {"timeout", Capability::proxy, kTimeoutParams, "pass no data, then close the connection after a while"},
    {"bandwidth", Capability::proxy, kBandwidthParams, "limit throughput through the target's proxy"},
    {"slow_close", Capability::proxy, kSlowCloseParams, "hold back the close of connections through the proxy"},
    {"slicer", Capability::proxy, kSlicerParams, "cut the data into small pieces, with pauses between them"},
    {"limit_data", Capability::proxy, kLimitDataParams, "close connections after a number of bytes"},
    {"http_error", Capability::proxy, kHttpErrorParams,
     "answer a share of matching HTTP requests with a status and body, without the target"},
    {"http_delay", Capability::proxy, kHttpDelayParams, "hold matching HTTP requests before they reach the target"},
    {"http_abort", Capability::proxy, kHttpAbortParams, "cut responses to matching HTTP requests mid-body"},
    {"partition", Capability::endpoint, kPartitionParams, "drop the endpoint's packets both ways (nftables)"},
    {"blackhole_port", Capability::endpoint, kPacketParams, "drop packets sent to the endpoint (nftables)"},
    {"reject", Capability::endpoint, kPacketParams, "refuse packets sent to the endpoint with a TCP reset (nftables)"},
    {"packet_loss", Capability::endpoint, kPacketLossParams,
     "drop a share of the endpoint's packets both ways (nftables)"},
    {"bandwidth_limit", Capability::any, kBandwidthLimitParams,
     "limit traffic leaving an interface of a chaosplus namespace (tbf qdisc)"},
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
    case ParamKind::status: {
      int code = 0;
      auto [ptr, ec] = std::from_chars(written.data(), written.data() + written.size(), code);
      if (ec != std::errc{} || ptr != written.data() + written.size() || code < 200 || code > 599) {
        return Error{"'" + std::string(written) + "' is not an HTTP status code (expected 200-599, e.g. 503)"};
      }
      return std::to_string(code);
    }
    case ParamKind::share: {
      auto share = parse_percentage(written);
      if (!share) return Error{share.error()};
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.6g", *share);
      return std::string(buf);
    }
    case ParamKind::byte_size: {
      auto bytes = parse_bytes(written);
      if (!bytes) return Error{bytes.error()};
      return std::to_string(*bytes);
    }
    case ParamKind::text:
      // A NUL would cut the value where it reaches a C string (a path, a rule, a log line).
      if (written.find('\0') != std::string_view::npos)
        return Error{"found a NUL character (\\0), expected text without NUL"};
      return std::string(written);
    case ParamKind::port: {
      if (written == "any") return std::string(written);
      int port = 0;
      auto [ptr, ec] = std::from_chars(written.data(), written.data() + written.size(), port);
      if (written.empty() || ec != std::errc{} || ptr != written.data() + written.size() || port < 1 || port > 65535) {
        return Error{"found '" + std::string(written) + "', expected a port number from 1 to 65535, or any"};
      }
      return std::to_string(port);
    }
    case ParamKind::ip_address: {
      auto ip = canonical_ip(written);
      if (!ip) return Error{"found '" + std::string(written) + "', expected an IP address such as 127.0.0.1 or ::1"};
      return *ip;
    }
    case ParamKind::ip_network: {
      auto network = canonical_network(written);
      if (!network) {
        return Error{"found '" + std::string(written) +
                     "', expected an IP address or network such as 127.0.0.1, ::1 or 10.0.0.0/24"};
      }
      return *network;
    }
    case ParamKind::namespace_name:
      if (!is_project_namespace(written)) {
        return Error{"found '" + std::string(written) + "', expected a network namespace chaosplus creates: '" +
                     std::string(kProjectNamespacePrefix) +
                     "' then 1-48 letters, digits, '.', '_' or '-' (e.g. chaosplus-lab)"};
      }
      return std::string(written);
    case ParamKind::interface_name:
      if (!is_valid_interface_name(written)) {
        return Error{"found '" + std::string(written) +
                     "', expected an interface name: 1-15 letters, digits, '.', '_' or '-' (e.g. veth0)"};
      }
      return std::string(written);
  }
  return Error{"unknown parameter kind"};
}

bool target_has(const Target& target, Capability capability) {
  switch (capability) {
    case Capability::signal_process: return target.process.has_value() || target.attach.has_value();
    case Capability::restart_process:
      return target.process.has_value() || (target.attach.has_value() && !target.attach->restart_command.empty());
    case Capability::proxy: return target.proxy.has_value();
    case Capability::endpoint: return target.endpoint.has_value();
    case Capability::any: return true;
  }
  return false;
}

bool is_kernel_fault(std::string_view type) {
  return type == "partition" || type == "blackhole_port" || type == "reject" || type == "packet_loss" ||
         type == "bandwidth_limit";
}

std::string_view describe(Capability capability) {
  switch (capability) {
    case Capability::signal_process: return "a 'process' or 'attach'";
    case Capability::restart_process: return "a 'process', or an 'attach' with 'restart_command'";
    case Capability::proxy: return "a 'proxy'";
    case Capability::endpoint: return "an 'endpoint' (or the fault's own 'address' and 'port')";
    case Capability::any: return "a name";
  }
  return "";
}

}  // namespace chaosplus::spec
