#include "support/token_experiment.h"

namespace chaosplus::testing {

using namespace std::chrono_literals;

int TokenServiceExperiment::run(const std::string& fault, std::string* output, const std::string& phase,
                                const std::string& load) {
  const std::string at = "127.0.0.1:" + std::to_string(port);
  const std::string yaml =
      "name: token-faults\ntargets:\n  tokens:\n    process:\n      command: [demo-token-service, --port, \"" +
      std::to_string(port) + "\"]\n      ready: { http: \"http://" + at + "/health\" }\n" + "    endpoint: \"" + at +
      "\"\n    proxy: { listen: \"127.0.0.1:" + std::to_string(proxy) + "\", upstream: \"" + at +
      "\" }\nsteady_state:\n  probes:\n    - name: health\n" +
      "      http: { url: \"http://127.0.0.1:" + std::to_string(proxy) + "/health\", timeout: 2s }\n" +
      "      expect: { status: 200 }\n      every: 100ms\n      tolerance: { success_rate: \">= 90%\" }\n" +
      "phases:\n  - name: broken\n    duration: " + phase + "\n" + (load.empty() ? "" : "    load:\n" + load) +
      "    faults:\n      - " + fault + "\n";
  write_file(dir.file("e.yaml"), yaml);
  Child c({bin("chaosplus"), "run", dir.file("e.yaml"), "--plain", "--state-dir", dir.file("state"), "--journal",
           dir.file("journal.jsonl")});
  auto code = c.wait(60s);
  *output = c.output();
  return code.value_or(-1);
}

nlohmann::json TokenServiceExperiment::event(const std::string& type) const {
  for (const auto& line : read_lines(dir.file("journal.jsonl"))) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.value("type", "") == type) return j;
  }
  return nlohmann::json::object();
}

std::vector<nlohmann::json> TokenServiceExperiment::events(const std::string& type) const {
  std::vector<nlohmann::json> out;
  for (const auto& line : read_lines(dir.file("journal.jsonl"))) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.value("type", "") == type) out.push_back(j);
  }
  return out;
}

std::vector<nlohmann::json> TokenServiceExperiment::results_under_fault() const {
  const auto reverted = event("fault.reverted");
  const double on = event("fault.injected").value("elapsed_ms", 0.0) + 300;
  const double off = reverted.value("elapsed_ms", 0.0) - reverted.value("took_ms", 0.0);
  std::vector<nlohmann::json> out;
  for (const auto& r : probe_results("during")) {
    const double at = r["elapsed_ms"].get<double>();
    if (at > on && at < off) out.push_back(r);
  }
  return out;
}

std::vector<nlohmann::json> TokenServiceExperiment::results_after_revert() const {
  const double off = event("fault.reverted").value("elapsed_ms", 0.0);
  std::vector<nlohmann::json> out;
  for (const auto& r : probe_results("during")) {
    // elapsed_ms of a result is when it ended; one that ended within its timeout of the revert may
    // have started before it.
    if (r["elapsed_ms"].get<double>() - r.value("latency_ms", 0.0) > off) out.push_back(r);
  }
  return out;
}

std::vector<nlohmann::json> TokenServiceExperiment::probe_results(const std::string& stage) const {
  std::vector<nlohmann::json> out;
  for (const auto& line : read_lines(dir.file("journal.jsonl"))) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.value("type", "") == "probe.result" && j.value("stage", "") == stage) out.push_back(j);
  }
  return out;
}

}  // namespace chaosplus::testing
