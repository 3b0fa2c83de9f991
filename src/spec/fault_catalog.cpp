#include "spec/fault_catalog.h"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "spec/kernel_params.h"

namespace chaosplus::spec {
namespace {

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

std::vector<FaultType>& registered() {
  static std::vector<FaultType> types;
  return types;
}

}  // namespace

void register_fault_types(std::span<const FaultType> types) {
  for (const auto& type : types) {
    for (const auto& known : registered()) {
      if (known.name == type.name) {
        std::fprintf(stderr, "chaosplus: fault type '%.*s' is registered twice\n", static_cast<int>(type.name.size()),
                     type.name.data());
        std::abort();
      }
    }
    registered().push_back(type);
  }
}

std::span<const FaultType> fault_catalog() {
  if (registered().empty()) {
    std::fprintf(stderr,
                 "chaosplus: no fault types are registered; the program must call "
                 "faults::register_builtin_faults() (faults/registry.h) at start-up\n");
    std::abort();
  }
  return registered();
}

const FaultType* find_fault_type(std::string_view name) {
  for (const auto& type : fault_catalog()) {
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
    case ParamKind::boolean:
      if (written == "true" || written == "True" || written == "TRUE") return std::string("true");
      if (written == "false" || written == "False" || written == "FALSE") return std::string("false");
      return Error{"found '" + std::string(written) + "', expected true or false"};
    case ParamKind::interface_name:
      if (!is_valid_interface_name(written)) {
        return Error{"found '" + std::string(written) +
                     "', expected an interface name: 1-15 letters, digits, '.', '_' or '-' (e.g. veth0)"};
      }
      return std::string(written);
  }
  return Error{"unknown parameter kind"};
}

namespace {

std::string kind_text(const FaultParam& param) {
  switch (param.kind) {
    case ParamKind::duration: return "duration";
    case ParamKind::signal: return "signal name or number";
    case ParamKind::choice: {
      std::string out;
      for (std::size_t i = 0; i < param.choices.size(); ++i) {
        if (i > 0) out += i + 1 == param.choices.size() ? " or " : ", ";
        out += "`" + std::string(param.choices[i]) + "`";
      }
      return out;
    }
    case ParamKind::byte_rate: return "byte rate";
    case ParamKind::status: return "HTTP status, 200-599";
    case ParamKind::share: return "percentage";
    case ParamKind::byte_size: return "size";
    case ParamKind::text: return "text";
    case ParamKind::port: return "port or `any`";
    case ParamKind::ip_address: return "IP address";
    case ParamKind::ip_network: return "IP address or network";
    case ParamKind::namespace_name: return "namespace name";
    case ParamKind::interface_name: return "interface name";
    case ParamKind::boolean: return "`true` or `false`";
  }
  return "";
}

}  // namespace

Result<FaultParams> FaultParams::read(const FaultType& type, const Fault& fault) {
  FaultParams out;
  out.type_ = std::string(type.name);
  for (const auto& param : type.params) {
    Value v;
    v.kind = param.kind;
    // The loader stores every parameter normalized (the top of fault_catalog.h), defaults included;
    // one missing (a fault built by hand) takes its default, normalized here.
    std::string normal;
    if (auto it = fault.params.find(std::string(param.name)); it != fault.params.end()) {
      normal = it->second;
    } else if (!param.default_value.empty()) {
      auto d = normalize_fault_param(param, param.default_value);
      if (!d) return Error{"fault '" + out.type_ + "': default of " + std::string(param.name) + ": " + d.error()};
      normal = *d;
    }
    if (!normal.empty()) {
      v.given = true;
      v.text = normal;
      bool ok = true;
      try {
        switch (param.kind) {
          case ParamKind::duration: {
            auto d = parse_duration(normal);
            ok = d.ok();
            if (ok) v.duration = *d;
            break;
          }
          case ParamKind::signal: {
            auto sig = parse_signal(normal);
            ok = sig.ok();
            if (ok) v.number = *sig;
            break;
          }
          case ParamKind::share: v.share = std::stod(normal); break;
          case ParamKind::byte_size:
          case ParamKind::byte_rate: v.bytes = std::stoull(normal); break;
          case ParamKind::status: v.number = std::stoi(normal); break;
          case ParamKind::port: v.number = normal == "any" ? 0 : std::stoi(normal); break;
          default: break;
        }
      } catch (const std::exception&) {
        ok = false;
      }
      if (!ok) {
        return Error{"fault '" + out.type_ + "': " + std::string(param.name) + " '" + normal +
                     "' is not in the loader's normalized form"};
      }
    }
    out.values_.emplace_back(std::string(param.name), std::move(v));
  }
  return out;
}

const FaultParams::Value& FaultParams::at(std::string_view name, std::initializer_list<ParamKind> kinds) const {
  for (const auto& [key, value] : values_) {
    if (key != name) continue;
    for (auto kind : kinds) {
      if (value.kind == kind) return value;
    }
    break;
  }
  std::fprintf(stderr, "chaosplus: fault type '%s' has no parameter '%.*s' of the kind asked for\n", type_.c_str(),
               static_cast<int>(name.size()), name.data());
  std::abort();
}

bool FaultParams::given(std::string_view name) const {
  for (const auto& [key, value] : values_) {
    if (key == name) return value.given;
  }
  return false;
}
Duration FaultParams::duration(std::string_view name) const { return at(name, {ParamKind::duration}).duration; }
double FaultParams::share(std::string_view name) const { return at(name, {ParamKind::share}).share; }
std::uint64_t FaultParams::bytes(std::string_view name) const {
  return at(name, {ParamKind::byte_size, ParamKind::byte_rate}).bytes;
}
int FaultParams::number(std::string_view name) const {
  return at(name, {ParamKind::status, ParamKind::signal, ParamKind::port}).number;
}
bool FaultParams::flag(std::string_view name) const { return at(name, {ParamKind::boolean}).text == "true"; }
const std::string& FaultParams::text(std::string_view name) const {
  return at(name, {ParamKind::text, ParamKind::choice, ParamKind::ip_address, ParamKind::ip_network,
                   ParamKind::namespace_name, ParamKind::interface_name})
      .text;
}

std::string fault_param_table(const FaultType& type) {
  if (type.params.empty()) return "";
  std::string out = "| parameter | kind | default | what |\n| --- | --- | --- | --- |\n";
  for (const auto& param : type.params) {
    const std::string fallback = param.required                ? "required"
                                 : param.default_value.empty() ? "not given"
                                                               : "`" + std::string(param.default_value) + "`";
    out += "| `" + std::string(param.name) + "` | " + kind_text(param) + " | " + fallback + " | " +
           std::string(param.help) + " |\n";
  }
  return out;
}

bool target_has(const Target& target, Capability capability) {
  switch (capability) {
    case Capability::signal_process:
      return target.process.has_value() || target.attach.has_value() || target.patroni.has_value();
    case Capability::restart_process:
      return target.process.has_value() || (target.attach.has_value() && !target.attach->restart_command.empty()) ||
             target.patroni.has_value();
    case Capability::proxy: return target.proxy.has_value();
    case Capability::endpoint: return target.endpoint.has_value();
    case Capability::any: return true;
    case Capability::patroni_member: return target.patroni.has_value();
    case Capability::started_process: return target.process.has_value();
  }
  return false;
}

bool is_kernel_fault(std::string_view type) {
  const FaultType* entry = find_fault_type(type);
  return entry != nullptr && entry->kernel;
}

std::string_view describe(Capability capability) {
  switch (capability) {
    case Capability::signal_process: return "a 'process', 'attach' or 'patroni'";
    case Capability::restart_process: return "a 'process', an 'attach' with 'restart_command', or a 'patroni'";
    case Capability::proxy: return "a 'proxy'";
    case Capability::endpoint: return "an 'endpoint' (or the fault's own 'address' and 'port')";
    case Capability::any: return "a name";
    case Capability::patroni_member: return "a 'patroni' member (a cluster member chosen by role)";
    case Capability::started_process: return "a 'process' the run starts (it is started set apart for the fault)";
  }
  return "";
}

}  // namespace chaosplus::spec
