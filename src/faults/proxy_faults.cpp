#include "faults/proxy_faults.h"

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>

#include "faults/target_handle.h"
#include "faults/undo.h"
#include "proxy/api_client.h"

namespace chaosplus::faults {
namespace {

double milliseconds(const std::string& duration_text) {
  auto d = parse_duration(duration_text);
  return d ? std::chrono::duration<double, std::milli>(*d).count() : 0.0;
}

// "64KB/s" (or "64KB") -> KB/s as the proxy's bandwidth toxic takes it (1 KB = 1000 bytes).
double kilobytes_per_second(std::string text) {
  if (text.size() > 2 && text.ends_with("/s")) text.resize(text.size() - 2);
  auto bytes = parse_bytes(text);
  return bytes ? static_cast<double>(*bytes) / 1000.0 : 0.0;
}

std::string param(const spec::Fault& fault, const std::string& key, const std::string& fallback) {
  auto it = fault.params.find(key);
  return it == fault.params.end() ? fallback : it->second;
}

// The toxic a fault type maps to, in the proxy's (Toxiproxy's) vocabulary.
struct ToxicPlan {
  std::string type;
  std::string stream;
  std::map<std::string, double> attributes;
};

ToxicPlan plan_for(const spec::Fault& fault) {
  if (fault.type == "latency") {
    return {"latency", param(fault, "direction", "downstream"),
            {{"latency", milliseconds(param(fault, "latency", "0ms"))},
             {"jitter", milliseconds(param(fault, "jitter", "0ms"))}}};
  }
  if (fault.type == "reset") {
    return {"reset_peer", "downstream", {{"timeout", milliseconds(param(fault, "after", "0ms"))}}};
  }
  if (fault.type == "blackhole") {
    // Requests vanish on the way to the server: nothing reaches it, nothing comes back.
    return {"timeout", "upstream", {{"timeout", 0.0}}};
  }
  return {"bandwidth", "downstream", {{"rate", kilobytes_per_second(param(fault, "rate", "0KB/s"))}}};
}

std::string unique_toxic_name(const std::string& type) {
  static std::atomic<int> counter{0};
  return "chaosplus-" + type + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

class ToxicFault final : public Fault {
 public:
  ToxicFault(const spec::Fault& fault, TargetHandle& target)
      : target_(target), plan_(plan_for(fault)), toxic_(unique_toxic_name(fault.type)) {
    summary_ = fault.type + " on " + target.name();
    std::string params;
    for (const auto& [k, v] : fault.params) params += (params.empty() ? "" : ", ") + k + " " + v;
    if (!params.empty()) summary_ += " (" + params + ")";
  }

  std::string kind() const override { return std::string(kinds::proxy_toxic); }
  std::string summary() const override { return summary_; }
  std::string record() const override {
    nlohmann::json r{{"target", target_.name()}, {"api", target_.proxy_api}, {"proxy", target_.name()},
                     {"toxic", toxic_}};
    if (target_.proxy_server) {
      r["server_pid"] = target_.proxy_server->pid;
      r["server_start_time"] = target_.proxy_server->start_time;
    }
    return r.dump();
  }

  Status inject(HaltSwitch&) override {
    if (target_.proxy_api.empty()) return Error{"target '" + target_.name() + "' has no fault proxy in front of it"};
    proxy::ApiClient client(target_.proxy_api);
    return client.add_toxic(target_.name(), toxic_, plan_.type, plan_.stream, 1.0, plan_.attributes);
  }

  Status revert(HaltSwitch&) override { return undo(kinds::proxy_toxic, record()); }

 private:
  TargetHandle& target_;
  std::string summary_;
  ToxicPlan plan_;
  std::string toxic_;
};

}  // namespace

std::unique_ptr<Fault> make_proxy_fault(const spec::Fault& fault, TargetHandle& target) {
  return std::make_unique<ToxicFault>(fault, target);
}

}  // namespace chaosplus::faults
