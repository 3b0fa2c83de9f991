#include "faults/proxy_faults.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "faults/target_handle.h"
#include "faults/undo.h"
#include "proxy/api_client.h"
#include "proxy/toxic.h"
#include "spec/fault_catalog.h"

namespace chaosplus::faults {
namespace {

std::int64_t milliseconds(const std::string& duration_text) {
  auto d = parse_duration(duration_text);
  return d ? std::llround(std::chrono::duration<double, std::milli>(*d).count()) : 0;
}

std::int64_t microseconds(const std::string& duration_text) {
  auto d = parse_duration(duration_text);
  return d ? std::llround(std::chrono::duration<double, std::micro>(*d).count()) : 0;
}

std::int64_t whole(const std::string& text) {
  auto bytes = parse_bytes(text);  // plain integers, as the loader normalizes sizes and rates
  return bytes ? static_cast<std::int64_t>(*bytes) : 0;
}

std::string param(const spec::Fault& fault, const std::string& key, const std::string& fallback) {
  auto it = fault.params.find(key);
  return it == fault.params.end() ? fallback : it->second;
}

// A size in the largest unit that shows it exactly ("16KiB", "64KB", "1500B"); parse_bytes reads it back.
std::string size_text(const std::string& normalized) {
  auto bytes = parse_bytes(normalized);
  if (!bytes) return normalized;
  static constexpr std::pair<const char*, std::uint64_t> kUnits[] = {{"GiB", 1ULL << 30}, {"GB", 1'000'000'000ULL},
                                                                     {"MiB", 1ULL << 20}, {"MB", 1'000'000ULL},
                                                                     {"KiB", 1ULL << 10}, {"KB", 1'000ULL}};
  for (const auto& [unit, size] : kUnits) {
    if (*bytes >= size && *bytes % size == 0) return std::to_string(*bytes / size) + unit;
  }
  return std::to_string(*bytes) + "B";
}

// A parameter as a person writes it; the loader keeps shares as fractions and sizes as bytes.
std::string param_text(const spec::Fault& fault, const std::string& key, const std::string& value) {
  const spec::FaultType* type = spec::find_fault_type(fault.type);
  const spec::FaultParam* param = type ? spec::find_fault_param(*type, key) : nullptr;
  if (param == nullptr) return value;
  switch (param->kind) {
    case spec::ParamKind::share: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.6g%%", std::stod(value) * 100.0);
      return buf;
    }
    case spec::ParamKind::byte_size: return size_text(value);
    case spec::ParamKind::byte_rate: return size_text(value) + "/s";
    default: return value;  // durations are kept in their exact written form ("250ms", "1500ms")
  }
}

}  // namespace

std::string proxy_fault_summary(const spec::Fault& fault, std::string_view target) {
  std::string out = fault.type + " on " + std::string(target);
  std::string params;
  for (const auto& [key, value] : fault.params) {
    if (value.empty()) continue;  // not given, and no default: nothing to show
    params += (params.empty() ? "" : ", ") + key + " " + param_text(fault, key, value);
  }
  if (!params.empty()) out += " (" + params + ")";
  return out;
}

// The proxy checks the draft (make_toxic) when the fault is injected.
proxy::ToxicDraft toxic_for(const spec::Fault& fault) {
  proxy::ToxicDraft d;
  d.type = fault.type;
  if (!fault.type.starts_with("http_")) {
    // Byte-level faults: the share is the toxic's toxicity, drawn once per connection.
    d.stream = param(fault, "direction", "downstream");
    d.toxicity = std::stod(param(fault, "share", "1"));
  }
  if (fault.type == "latency") {
    d.attributes = {{"latency", milliseconds(param(fault, "latency", "0ms"))},
                    {"jitter", milliseconds(param(fault, "jitter", "0ms"))}};
  } else if (fault.type == "reset") {
    d.type = "reset_peer";
    d.attributes = {{"timeout", milliseconds(param(fault, "after", "0ms"))}};
  } else if (fault.type == "blackhole") {
    // Nothing passes towards the server while it is on (held, not lost: TCP over a cut link).
    d.type = "timeout";
    d.stream = "upstream";
    d.attributes = {{"timeout", std::int64_t{0}}};
  } else if (fault.type == "timeout") {
    d.attributes = {{"timeout", std::max<std::int64_t>(1, milliseconds(param(fault, "after", "1ms")))}};
  } else if (fault.type == "bandwidth") {
    // Bytes per second -> the toxic's KB/s (1 KB = 1000 bytes), at least 1.
    d.attributes = {{"rate", std::max<std::int64_t>(1, whole(param(fault, "rate", "1000")) / 1000)}};
  } else if (fault.type == "slow_close") {
    d.attributes = {{"delay", milliseconds(param(fault, "delay", "0ms"))}};
  } else if (fault.type == "slicer") {
    d.attributes = {{"average_size", whole(param(fault, "average_size", "1"))},
                    {"size_variation", whole(param(fault, "size_variation", "0"))},
                    {"delay", microseconds(param(fault, "delay", "0ms"))}};
  } else if (fault.type == "limit_data") {
    d.attributes = {{"bytes", whole(param(fault, "bytes", "0"))}};
  } else {
    // The HTTP faults act on requests, per matching request (share), upstream.
    d.stream = "upstream";
    d.toxicity = std::stod(param(fault, "share", "1"));
    d.attributes = {{"method", param(fault, "method", "")}, {"path", param(fault, "path", "")}};
    if (fault.type == "http_error") {
      d.type = "http_status";
      d.attributes["status"] = whole(param(fault, "status", "503"));
      d.attributes["body"] = param(fault, "body", "");
      d.attributes["content_type"] = param(fault, "content_type", "text/plain; charset=utf-8");
    } else if (fault.type == "http_delay") {
      d.attributes["delay"] = milliseconds(param(fault, "delay", "0ms"));
      d.attributes["jitter"] = milliseconds(param(fault, "jitter", "0ms"));
    } else {
      d.attributes["bytes"] = whole(param(fault, "bytes", "0"));
      d.attributes["mode"] = param(fault, "mode", "close");
    }
  }
  return d;
}

namespace {

std::string unique_toxic_name(const std::string& type) {
  static std::atomic<int> counter{0};
  return "chaosplus-" + type + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

class ToxicFault final : public Fault {
 public:
  ToxicFault(const spec::Fault& fault, TargetHandle& target)
      : target_(target), draft_(toxic_for(fault)), toxic_(unique_toxic_name(fault.type)) {
    draft_.name = toxic_;
    summary_ = proxy_fault_summary(fault, target.name());
  }

  std::string kind() const override { return std::string(kinds::proxy_toxic); }
  std::string summary() const override { return summary_; }
  std::string record() const override {
    nlohmann::json r{
        {"target", target_.name()}, {"api", target_.proxy_api}, {"proxy", target_.name()}, {"toxic", toxic_}};
    // recover needs it to take the toxic off after a crash; the ledger is readable by its owner only.
    if (!target_.proxy_token.empty()) r["token"] = target_.proxy_token;
    if (target_.proxy_server) {
      r["server_pid"] = target_.proxy_server->pid;
      r["server_start_time"] = target_.proxy_server->start_time;
    }
    return r.dump();
  }

  Status inject(HaltSwitch&) override {
    if (target_.proxy_api.empty()) return Error{"target '" + target_.name() + "' has no fault proxy in front of it"};
    auto toxic = proxy::make_toxic(draft_);
    if (!toxic) return Error{"the proxy would refuse this fault: " + toxic.error()};
    proxy::ApiClient client(target_.proxy_api, target_.proxy_token);
    return client.add_toxic(target_.name(), *toxic);
  }

  Status revert(HaltSwitch&) override {
    take_reach();
    return undo(kinds::proxy_toxic, record());
  }

  std::map<std::string, std::int64_t> reach() const override { return reach_; }

 private:
  // What the toxic touched, read just before it is removed. Its toxicity goes to 0 first, so
  // nothing is hit between the reading and the removal and the counts are final. A proxy without
  // the stats route (Toxiproxy) gives no figures; the revert goes on regardless.
  void take_reach() {
    if (target_.proxy_api.empty()) return;
    proxy::ApiClient client(target_.proxy_api, target_.proxy_token);
    if (!client.set_toxicity(target_.name(), toxic_, 0.0)) return;  // not there (never added, or gone)
    auto counts = client.toxic_stats(target_.name(), toxic_);
    if (!counts) return;
    auto count = [](std::uint64_t n) { return static_cast<std::int64_t>(n); };
    reach_ = {{"connections", count(counts->connections)},
              {"connections_skipped", count(counts->connections_skipped)},
              {"requests", count(counts->requests)},
              {"requests_skipped", count(counts->requests_skipped)},
              {"bytes", count(counts->bytes)}};
  }

  TargetHandle& target_;
  std::string summary_;
  proxy::ToxicDraft draft_;
  std::string toxic_;
  std::map<std::string, std::int64_t> reach_;
};

}  // namespace

std::unique_ptr<Fault> make_proxy_fault(const spec::Fault& fault, TargetHandle& target) {
  return std::make_unique<ToxicFault>(fault, target);
}

}  // namespace chaosplus::faults
