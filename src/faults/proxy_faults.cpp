#include "faults/proxy_faults.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "faults/registry.h"
#include "faults/target_handle.h"
#include "faults/undo.h"
#include "proxy/api_client.h"
#include "proxy/toxic.h"
#include "spec/fault_catalog.h"
#include "targets/process.h"

namespace chaosplus::faults {
namespace {

std::int64_t milliseconds(Duration d) { return std::llround(std::chrono::duration<double, std::milli>(d).count()); }

std::int64_t microseconds(Duration d) { return std::llround(std::chrono::duration<double, std::micro>(d).count()); }

std::int64_t whole(std::uint64_t n) { return static_cast<std::int64_t>(n); }

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

namespace {

// How each proxy fault type becomes a toxic: the toxic's type, and its attributes from the fault's
// (normalized) parameters. The byte-level faults act on connections (direction, share per
// connection); the HTTP faults on matching requests, upstream.
struct ToxicShape {
  std::string_view fault;
  bool http;
  void (*fill)(const spec::FaultParams& params, proxy::ToxicDraft& d);
};

// clang-format off
constexpr std::array<ToxicShape, 11> kShapes{{
    {"latency", false, [](const spec::FaultParams& p, proxy::ToxicDraft& d) {
       d.attributes = {{"latency", milliseconds(p.duration("latency"))}, {"jitter", milliseconds(p.duration("jitter"))}};
     }},
    {"reset", false, [](const spec::FaultParams& p, proxy::ToxicDraft& d) {
       d.type = "reset_peer";
       d.attributes = {{"timeout", milliseconds(p.duration("after"))}};
     }},
    {"blackhole", false, [](const spec::FaultParams&, proxy::ToxicDraft& d) {
       // Nothing passes towards the server while it is on (held, not lost: TCP over a cut link).
       d.type = "timeout";
       d.stream = "upstream";
       d.attributes = {{"timeout", std::int64_t{0}}};
     }},
    {"timeout", false, [](const spec::FaultParams& p, proxy::ToxicDraft& d) {
       d.attributes = {{"timeout", std::max<std::int64_t>(1, milliseconds(p.duration("after")))}};
     }},
    {"bandwidth", false, [](const spec::FaultParams& p, proxy::ToxicDraft& d) {
       // Bytes per second -> the toxic's KB/s (1 KB = 1000 bytes), at least 1.
       d.attributes = {{"rate", std::max<std::int64_t>(1, whole(p.bytes("rate")) / 1000)}};
     }},
    {"slow_close", false, [](const spec::FaultParams& p, proxy::ToxicDraft& d) {
       d.attributes = {{"delay", milliseconds(p.duration("delay"))}};
     }},
    {"slicer", false, [](const spec::FaultParams& p, proxy::ToxicDraft& d) {
       d.attributes = {{"average_size", whole(p.bytes("average_size"))},
                       {"size_variation", whole(p.bytes("size_variation"))},
                       {"delay", microseconds(p.duration("delay"))}};
     }},
    {"limit_data", false, [](const spec::FaultParams& p, proxy::ToxicDraft& d) {
       d.attributes = {{"bytes", whole(p.bytes("bytes"))}};
     }},
    {"http_error", true, [](const spec::FaultParams& p, proxy::ToxicDraft& d) {
       d.type = "http_status";
       d.attributes["status"] = std::int64_t{p.number("status")};
       d.attributes["body"] = p.text("body");
       d.attributes["content_type"] = p.text("content_type");
     }},
    {"http_delay", true, [](const spec::FaultParams& p, proxy::ToxicDraft& d) {
       d.attributes["delay"] = milliseconds(p.duration("delay"));
       d.attributes["jitter"] = milliseconds(p.duration("jitter"));
     }},
    {"http_abort", true, [](const spec::FaultParams& p, proxy::ToxicDraft& d) {
       d.attributes["bytes"] = whole(p.bytes("bytes"));
       d.attributes["mode"] = p.text("mode");
     }},
}};
// clang-format on

const ToxicShape* shape_of(std::string_view type) {
  for (const auto& shape : kShapes) {
    if (shape.fault == type) return &shape;
  }
  return nullptr;
}

}  // namespace

// The proxy checks the draft (make_toxic) when the fault is injected.
Result<proxy::ToxicDraft> toxic_for(const spec::Fault& fault) {
  const ToxicShape* shape = shape_of(fault.type);
  const spec::FaultType* type = spec::find_fault_type(fault.type);
  if (shape == nullptr || type == nullptr) return Error{"'" + fault.type + "' is not a proxy fault"};
  auto params = spec::FaultParams::read(*type, fault);
  if (!params) return Error{params.error()};
  proxy::ToxicDraft d;
  d.type = fault.type;
  if (shape->http) {
    d.stream = "upstream";
    d.attributes = {{"method", params->text("method")}, {"path", params->text("path")}};
  } else {
    // The share is drawn once per connection; blackhole has no direction (it holds requests).
    d.stream = params->given("direction") ? params->text("direction") : "downstream";
  }
  d.toxicity = params->share("share");
  shape->fill(*params, d);
  return d;
}

namespace {

std::string unique_toxic_name(const std::string& type) {
  static std::atomic<int> counter{0};
  return "chaosplus-" + type + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

class ToxicFault final : public Fault {
 public:
  ToxicFault(const spec::Fault& fault, TargetHandle& target, proxy::ToxicDraft draft)
      : target_(target), draft_(std::move(draft)), toxic_(unique_toxic_name(fault.type)) {
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

// ---- the family -------------------------------------------------------------------------------

namespace {

constexpr std::array<std::string_view, 2> kDirections{"downstream", "upstream"};

// clang-format off
// The byte-level proxy faults act on whole connections: the share is drawn once per connection.
constexpr spec::FaultParam kConnectionShare{"share", spec::ParamKind::share, "100%", false, {},
                                            "a percentage such as 30%: the share of connections the fault acts on"};
constexpr spec::FaultParam kDownstream{"direction", spec::ParamKind::choice, "downstream", false, kDirections,
                                       "downstream (responses to the client) or upstream (requests to the target)"};
constexpr spec::FaultParam kUpstream{"direction", spec::ParamKind::choice, "upstream", false, kDirections,
                                     "upstream (requests to the target) or downstream (responses to the client)"};
constexpr std::array<spec::FaultParam, 4> kLatencyParams{{
    {"latency", spec::ParamKind::duration, "", true, {},
     "a duration such as 200ms: the delay added to the traffic"},
    {"jitter", spec::ParamKind::duration, "0ms", false, {},
     "a duration such as 50ms: random variation, uniform in [-jitter, +jitter]"},
    kDownstream, kConnectionShare,
}};
constexpr std::array<spec::FaultParam, 3> kResetParams{{
    {"after", spec::ParamKind::duration, "0ms", false, {},
     "a duration such as 1s: how long a connection lives before it is reset"},
    kDownstream, kConnectionShare,
}};
constexpr std::array<spec::FaultParam, 1> kBlackholeParams{{kConnectionShare}};
constexpr std::array<spec::FaultParam, 3> kTimeoutParams{{
    {"after", spec::ParamKind::duration, "", true, {},
     "a duration such as 5s: no data passes, and the connection is closed after this long"},
    kUpstream, kConnectionShare,
}};
constexpr std::array<spec::FaultParam, 3> kBandwidthParams{{
    {"rate", spec::ParamKind::byte_rate, "", true, {},
     "a rate such as 64KB/s or 1MiB/s: bytes per second allowed through"},
    kDownstream, kConnectionShare,
}};
constexpr std::array<spec::FaultParam, 3> kSlowCloseParams{{
    {"delay", spec::ParamKind::duration, "", true, {},
     "a duration such as 2s: how long the close of a connection is held back"},
    kDownstream, kConnectionShare,
}};
constexpr std::array<spec::FaultParam, 5> kSlicerParams{{
    {"average_size", spec::ParamKind::byte_size, "", true, {},
     "a size such as 64 or 1KiB: the average size of the pieces the data is cut into"},
    {"size_variation", spec::ParamKind::byte_size, "0", false, {},
     "a size smaller than average_size: pieces vary by up to this much either way"},
    {"delay", spec::ParamKind::duration, "0ms", false, {},
     "a duration such as 10ms (microseconds count): the pause between pieces"},
    kDownstream, kConnectionShare,
}};
constexpr std::array<spec::FaultParam, 3> kLimitDataParams{{
    {"bytes", spec::ParamKind::byte_size, "", true, {},
     "a size such as 1KiB: how many bytes pass before the connection is closed"},
    kDownstream, kConnectionShare,
}};
constexpr std::array<std::string_view, 2> kAbortModes{"close", "reset"};
constexpr spec::FaultParam kShare{"share", spec::ParamKind::share, "100%", false, {},
                                  "a percentage such as 10%: the share of matching requests the fault acts on"};
constexpr spec::FaultParam kMethod{"method", spec::ParamKind::text, "", false, {},
                                   "an HTTP method or a comma-separated list (POST, GET,HEAD); empty = any"};
constexpr spec::FaultParam kPath{"path", spec::ParamKind::text, "", false, {},
                                 "a request path, exact or with * wildcards (/orders, /orders/*); empty = any"};
constexpr std::array<spec::FaultParam, 6> kHttpErrorParams{{
    {"status", spec::ParamKind::status, "503", false, {}, "the HTTP status code answered, 200-599"},
    kShare, kMethod, kPath,
    {"body", spec::ParamKind::text, "", false, {}, "the body of the answer"},
    {"content_type", spec::ParamKind::text, "text/plain; charset=utf-8", false, {}, "the Content-Type of the answer"},
}};
constexpr std::array<spec::FaultParam, 5> kHttpDelayParams{{
    {"delay", spec::ParamKind::duration, "", true, {}, "a duration such as 300ms: how long matching requests are held"},
    {"jitter", spec::ParamKind::duration, "0ms", false, {}, "a duration: random extra delay, uniform in [-jitter, jitter]"},
    kShare, kMethod, kPath,
}};
constexpr std::array<spec::FaultParam, 5> kHttpAbortParams{{
    {"bytes", spec::ParamKind::byte_size, "0", false, {}, "a size such as 1KiB: how much of the response body passes"},
    {"mode", spec::ParamKind::choice, "close", false, kAbortModes, "close (FIN) or reset (RST) the connection"},
    kShare, kMethod, kPath,
}};
// clang-format on

// The proxy refuses a slicer whose pieces could be empty or negative; say so at load time.
std::vector<spec::ParamProblem> check_slicer(const spec::Fault& fault) {
  auto params = spec::FaultParams::read(*spec::find_fault_type("slicer"), fault);
  if (!params) return {{"", params.error()}};
  const std::uint64_t average = params->bytes("average_size"), variation = params->bytes("size_variation");
  if (variation < average) return {};
  return {{"size_variation", "found " + std::to_string(variation) + " bytes, expected less than average_size (" +
                                 std::to_string(average) + " bytes), so no piece is empty"}};
}

const std::array<spec::FaultType, 11>& types() {
  using spec::Capability;
  static const std::array<spec::FaultType, 11> kTypes{{
      {"latency", Capability::proxy, kLatencyParams, "delay traffic through the target's proxy"},
      {"reset", Capability::proxy, kResetParams, "reset connections through the target's proxy (TCP RST)"},
      {"blackhole", Capability::proxy, kBlackholeParams, "accept connections through the proxy but pass no data"},
      {"timeout", Capability::proxy, kTimeoutParams, "pass no data, then close the connection after a while"},
      {"bandwidth", Capability::proxy, kBandwidthParams, "limit throughput through the target's proxy"},
      {"slow_close", Capability::proxy, kSlowCloseParams, "hold back the close of connections through the proxy"},
      {"slicer", Capability::proxy, kSlicerParams, "cut the data into small pieces, with pauses between them", false,
       check_slicer},
      {"limit_data", Capability::proxy, kLimitDataParams, "close connections after a number of bytes"},
      {"http_error", Capability::proxy, kHttpErrorParams,
       "answer a share of matching HTTP requests with a status and body, without the target"},
      {"http_delay", Capability::proxy, kHttpDelayParams, "hold matching HTTP requests before they reach the target"},
      {"http_abort", Capability::proxy, kHttpAbortParams, "cut responses to matching HTTP requests mid-body"},
  }};
  return kTypes;
}

constexpr std::array<std::string_view, 1> kKinds{kinds::proxy_toxic};

Result<std::unique_ptr<Fault>> make(const spec::Fault& fault, TargetHandle& target) {
  auto draft = toxic_for(fault);
  if (!draft) return Error{draft.error()};
  return std::unique_ptr<Fault>(std::make_unique<ToxicFault>(fault, target, std::move(*draft)));
}

std::optional<targets::ProcessId> server_in(const nlohmann::json& r) {
  if (!r.contains("server_pid")) return std::nullopt;
  return targets::ProcessId{r.at("server_pid").get<int>(), r.value("server_start_time", 0ULL)};
}

Status remove_toxic(std::string_view, std::string_view record) {
  nlohmann::json r = nlohmann::json::parse(record, nullptr, false);
  if (r.is_discarded() || !r.is_object()) return Error{"unreadable ledger record: " + std::string(record)};
  if (auto server = server_in(r); server && !targets::is_alive(*server)) {
    return ok_status();  // the proxy server is gone, and its toxics with it
  }
  proxy::ApiClient client(r.at("api").get<std::string>(), r.value("token", std::string()));
  return client.remove_toxic(r.at("proxy").get<std::string>(), r.at("toxic").get<std::string>());
}

}  // namespace

FaultFamily proxy_fault_family() { return {"proxy", types(), kKinds, make, remove_toxic}; }

}  // namespace chaosplus::faults
