#include "security/security_activity.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "core/event_bus.h"
#include "fuzz/finding_output.h"

namespace chaosplus::security {
namespace {

std::string seconds(std::int64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ns) / 1e9);
  return buf;
}

}  // namespace

Result<FindingsThreshold> parse_findings_threshold(std::string_view text) {
  FindingsThreshold t;
  t.text = std::string(text);
  std::string_view rest = text;
  while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.front()))) rest.remove_prefix(1);
  const std::string expected = "expected 'findings < N' or 'findings{severity>=high} < N'";
  if (!rest.starts_with("findings")) return Error{"'" + t.text + "': " + expected};
  rest.remove_prefix(8);
  if (rest.starts_with("{")) {
    const auto close = rest.find('}');
    if (close == std::string_view::npos) return Error{"'" + t.text + "': no closing '}', " + expected};
    std::string inner(rest.substr(1, close - 1));
    inner.erase(std::remove_if(inner.begin(), inner.end(), [](unsigned char c) { return std::isspace(c); }),
                inner.end());
    if (!inner.starts_with("severity>=")) return Error{"'" + t.text + "': found '{" + inner + "}', " + expected};
    auto severity = fuzz::parse_severity(inner.substr(10));
    if (!severity) return Error{"'" + t.text + "': " + severity.error()};
    t.at_least = *severity;
    rest.remove_prefix(close + 1);
  }
  auto condition = parse_comparison(rest, QuantityKind::number);
  if (!condition) return Error{"'" + t.text + "': " + condition.error()};
  t.condition = *condition;
  return t;
}

std::size_t count_findings(const std::vector<fuzz::Finding>& findings, const FindingsThreshold& threshold) {
  return static_cast<std::size_t>(std::count_if(findings.begin(), findings.end(), [&](const fuzz::Finding& f) {
    return !threshold.at_least || f.severity >= *threshold.at_least;
  }));
}

std::vector<Judgment> judge_thresholds(const SecuritySpec& spec, const std::vector<fuzz::Finding>& findings) {
  std::vector<Judgment> out;
  for (const FindingsThreshold& t : spec.thresholds) {
    Judgment j;
    j.metric = "security." + spec.name + ".findings";
    j.threshold = t.text;
    const std::size_t n = count_findings(findings, t);
    j.measured = static_cast<double>(n);
    j.held = t.condition.holds(j.measured);
    const std::string which =
        t.at_least ? "findings of severity " + std::string(fuzz::severity_name(*t.at_least)) + " or more" : "findings";
    j.message = which + " = " + std::to_string(n) + (j.held ? ", within " : ", NOT within ") + t.text;
    out.push_back(std::move(j));
  }
  return out;
}

std::unique_ptr<Activity> SecuritySpec::make(const ActivityContext& context) const {
  return std::make_unique<SecurityActivity>(*this, context);
}

SecurityActivity::SecurityActivity(const SecuritySpec& spec, ActivityContext context)
    : spec_(spec), context_(std::move(context)) {}

SecurityActivity::~SecurityActivity() {
  stop();
  if (thread_.joinable()) thread_.join();
}

Status SecurityActivity::start(EventBus& bus, HaltSwitch&) {
  auto document = openapi::load(spec_.openapi);
  if (!document) return Error{"security " + spec_.name + ": " + document.error()};
  document_ = std::move(document).value();
  auto base = net::Url::parse(spec_.base_url);
  if (!base) return Error{"security " + spec_.name + ": base_url " + spec_.base_url + ": " + base.error()};
  ScanOptions options;
  options.base = *base;
  options.users = spec_.users;
  options.checks = spec_.checks;
  options.protected_operations = spec_.protected_operations;
  options.timeout = spec_.timeout;
  options.delay = spec_.delay;
  options.max_requests = spec_.max_requests;
  bus_ = &bus;
  chaos_.set_phase(context_.phase);
  chaos_.attach(bus);
  scanner_ = std::make_unique<Scanner>(*document_, std::move(options), chaos_, &stop_);
  scanner_->on_finding([&bus](const fuzz::Finding& f) { bus.publish(fuzz::finding_event(f)); });
  bus.publish(fuzz::started_event("security", spec_.name, spec_.base_url, document_->operations.size(), 0));
  started_ns_ = fuzz::steady_now_ns();
  thread_ = std::thread([this] { run(); });
  return ok_status();
}

void SecurityActivity::run() {
  Scanner& s = *scanner_;
  const bool auth = spec_.checks.contains("auth");
  bool missing_said = false;
  auto try_baseline = [&] {
    if (!auth || s.has_baseline()) return;
    switch (s.learn_baseline()) {
      case Scanner::Baseline::learned:
        baseline_ = "learned at " + seconds(fuzz::steady_now_ns() - started_ns_) + " (" +
                    std::to_string(s.auth_probes()) + " probes)" + (missing_said ? ", after faults were off" : "");
        break;
      case Scanner::Baseline::fault_active:
        missing_said = true;
        baseline_ = "missing: faults were active; auth probes were not judged";
        break;
      case Scanner::Baseline::stopped:
      case Scanner::Baseline::not_needed: break;
    }
  };
  try_baseline();
  // The one-shot checks, and again under each new set of active faults: an injection or a header
  // that only shows while degraded.
  std::set<std::vector<std::string>> scanned;
  auto one_shot = [&] {
    const auto faults = chaos_.active_faults();
    if (!scanned.insert(faults).second) return;
    s.scan_injection();
    s.scan_headers();
    if (faults.empty()) s.scan_tls();
  };
  one_shot();
  while (!stop_.triggered() && !s.capped()) {
    if (auth && !s.has_baseline()) try_baseline();
    else if (auth) s.recheck_auth();
    one_shot();
    stop_.wait_for(spec_.recheck);
  }
  if (auth && baseline_.empty()) baseline_ = "missing: the phase ended first";
}

Result<std::vector<Judgment>> SecurityActivity::finish() {
  if (thread_.joinable()) thread_.join();
  if (!scanner_) return Error{"security " + spec_.name + " did not run"};
  const auto findings = scanner_->findings().all();
  auto judgments = judge_thresholds(spec_, findings);
  const double duration_s = static_cast<double>(fuzz::steady_now_ns() - started_ns_) / 1e9;
  Event e = fuzz::summary_event("security", spec_.name, scanner_->requests(), duration_s, findings);
  e.with("baseline", baseline_.empty() ? "not needed" : baseline_);
  bus_->publish(std::move(e));
  return judgments;
}

}  // namespace chaosplus::security
