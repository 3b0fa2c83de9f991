#include "security/scanner.h"

#include <algorithm>
#include <thread>

#include "core/halt_switch.h"
#include "security/oracles.h"

namespace chaosplus::security {

struct Scanner::Probe {
  const openapi::Operation* operation = nullptr;
  std::string kind;  // "no credentials", "user bob on alice's object"
  fuzz::RequestCase request;
  Headers credentials;
  std::string bytes;
  std::vector<std::string> setup;
  std::vector<std::string> markers;  // the owner's view of the resource
  fuzz::Reply baseline;
};

namespace {

std::string excerpt(const fuzz::Reply& reply) {
  if (reply.outcome != fuzz::Outcome::response) {
    return std::string(fuzz::outcome_name(reply.outcome)) + (reply.error.empty() ? "" : " (" + reply.error + ")");
  }
  std::string body = reply.response.body.substr(0, 120);
  for (char& c : body) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return std::to_string(reply.response.status) + (body.empty() ? "" : " " + body);
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

// "/orders/{id}" -> ("/orders", "id"): the collection a POST creates the object in.
std::optional<std::pair<std::string, std::string>> collection_of(const std::string& path) {
  if (path.empty() || path.back() != '}') return std::nullopt;
  const auto slash = path.rfind('/');
  const auto brace = path.rfind('{');
  if (slash == std::string::npos || brace != slash + 1) return std::nullopt;
  return std::pair{path.substr(0, slash), path.substr(brace + 1, path.size() - brace - 2)};
}

std::string id_from(const fuzz::Reply& reply, const std::string& param) {
  const auto& r = reply.response;
  auto json = fuzz::Json::parse(r.body, nullptr, false);
  if (json.is_object()) {
    for (const std::string& key : {param, std::string("id")}) {
      if (auto v = json.find(key); v != json.end() && (v->is_string() || v->is_number_integer())) {
        return v->is_string() ? v->get<std::string>() : v->dump();
      }
    }
  }
  const std::string location(r.header("Location"));
  if (const auto slash = location.rfind('/'); slash != std::string::npos && slash + 1 < location.size()) {
    return location.substr(slash + 1);
  }
  return "";
}

// A probe whose connection was refused or cut is sent again once the target answers again, at most
// this often: a target that crashes and restarts (under its supervisor, or under a fuzzer running
// at the same time) must not blank the scan.
constexpr int kRetriesAfterRestart = 1;               // a probe that is cut again after the wait cut it itself
constexpr std::int64_t kComeBackNs = 10'000'000'000;  // how long one probe waits for the target

constexpr int kMaxRelearns = 3;  // baselines thrown away because the target restarted under them

bool went_away(const fuzz::Reply& reply) {
  return reply.outcome == fuzz::Outcome::refused || reply.outcome == fuzz::Outcome::reset ||
         reply.outcome == fuzz::Outcome::closed;
}

std::int64_t since_ms(std::int64_t started_ns) { return (fuzz::steady_now_ns() - started_ns) / 1'000'000; }

}  // namespace

Result<std::set<std::string>> parse_checks(std::string_view text) {
  std::set<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    std::string item(text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (std::find(kChecks.begin(), kChecks.end(), item) == kChecks.end()) {
      return Error{"unknown check '" + item + "', expected some of auth, injection, headers, tls"};
    }
    out.insert(item);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

Scanner::Scanner(const openapi::Document& document, ScanOptions options, const fuzz::ChaosContext& context,
                 const HaltSwitch* stop)
    : document_(document), options_(std::move(options)), context_(context), stop_(stop) {
  sender_.base = options_.base;
  sender_.connections = 1;
  sender_.timeout = options_.timeout;
  sender_.max_body = 256 * 1024;
  sender_.tls.verify = options_.tls_verify;
  sender_.tls.ca_file = options_.tls_ca_file;
  started_ns_ = fuzz::steady_now_ns();
}

Scanner::~Scanner() = default;

bool Scanner::stopped() const { return (stop_ != nullptr && stop_->triggered()) || capped(); }

std::size_t Scanner::auth_probes() const { return probes_.size(); }

bool Scanner::wait_until_back() {
  fuzz::SenderOptions quick = sender_;
  quick.timeout = std::min<Duration>(quick.timeout, std::chrono::seconds(1));
  const std::string probe = "GET / HTTP/1.1\r\nHost: " + options_.base.authority() + "\r\nConnection: close\r\n\r\n";
  const std::int64_t deadline = fuzz::steady_now_ns() + kComeBackNs;
  auto step = std::chrono::milliseconds(10);
  while (fuzz::steady_now_ns() < deadline && !stopped()) {
    if (fuzz::exchange_once(quick, probe).outcome == fuzz::Outcome::response) return true;
    std::this_thread::sleep_for(step);  // polling a restarting target: the sleep is the behaviour
    step = std::min(step * 2, std::chrono::milliseconds(200));
  }
  return false;
}

Scanner::Sent Scanner::send(const std::string& bytes, bool head) {
  Sent sent;
  sent.faults = context_.active_faults();
  for (int attempt = 0;; ++attempt) {
    ++requests_;
    sent.reply = fuzz::exchange_once(sender_, bytes, head);
    if (!went_away(sent.reply)) {
      target_gone_ = false;
      break;
    }
    // Under a fault the cut is the fault's and is the evidence; a target already waited for in
    // vain is not waited for again until something answers.
    if (attempt == kRetriesAfterRestart || target_gone_ || stopped() || context_.any_fault_active()) break;
    if (!wait_until_back()) {
      target_gone_ = true;
      break;
    }
    if (sent.reply.outcome == fuzz::Outcome::refused) ++restarts_seen_;  // it was down, now it is back
  }
  if (sent.faults.empty()) sent.faults = context_.active_faults();
  return sent;
}

Scanner::Sent Scanner::send_case(const fuzz::RequestCase& request, const Headers& credentials, bool authenticated) {
  const std::string bytes = fuzz::render(request, options_.base, credentials);
  Sent sent = send(bytes, request.method == "HEAD");
  passive(sent.reply, bytes, request, authenticated);
  return sent;
}

void Scanner::report(fuzz::Finding f, const fuzz::RequestCase& request, const Headers& credentials,
                     const std::vector<std::string>& faults) {
  f.engine = "security";
  f.request = request;
  if (f.raw_request.empty()) f.raw_request = fuzz::render(request, options_.base, credentials);
  f.curl = fuzz::to_curl(request, options_.base, credentials);
  f.original_bytes = f.raw_request.size();
  f.base_url = options_.base.to_string();
  f.phase = context_.phase();
  f.active_faults = faults;
  f.count = 1;
  f.first_seen_ms = since_ms(started_ns_);
  const fuzz::Finding copy = f;
  if (log_.add(std::move(f)) && on_finding_) on_finding_(copy);
}

Headers Scanner::owner_credentials() const {
  if (options_.users.empty()) return {};
  return {{options_.users.front().header, options_.users.front().value}};
}

bool Scanner::needs_credentials(const openapi::Operation& op) const {
  return op.needs_credentials() || std::find(options_.protected_operations.begin(), options_.protected_operations.end(),
                                             op.id) != options_.protected_operations.end();
}

fuzz::RequestCase Scanner::prepare(const openapi::Operation& op, std::vector<std::string>& setup, bool& owned) {
  fuzz::RequestCase c = valid_case(op);
  owned = false;
  const auto collection = collection_of(op.path);
  if (!collection) return c;
  auto [path, param] = *collection;
  // A DELETE gets an object of its own: deleting the shared one (a delete let through) would leave
  // the other probes, and their reproducers, pointing at nothing.
  const std::string key = op.method == "DELETE" ? path + " " + op.id : path;
  auto known = created_.find(key);
  if (known == created_.end()) {
    std::optional<Created> made;
    const auto creator =
        std::find_if(document_.operations.begin(), document_.operations.end(),
                     [&](const openapi::Operation& o) { return o.method == "POST" && o.path == path; });
    if (creator != document_.operations.end() && !stopped() &&
        (!needs_credentials(*creator) || !options_.users.empty())) {
      const fuzz::RequestCase create = valid_case(*creator);
      const Headers credentials = needs_credentials(*creator) ? owner_credentials() : Headers{};
      const std::string bytes = fuzz::render(create, options_.base, credentials);
      Sent sent = send(bytes);
      passive(sent.reply, bytes, create, !credentials.empty());
      const auto& r = sent.reply;
      if (r.outcome == fuzz::Outcome::response && r.response.status >= 200 && r.response.status < 300) {
        if (std::string id = id_from(r, param); !id.empty()) made = Created{id, bytes};
      }
    }
    known = created_.emplace(key, made).first;
  }
  if (known->second) {
    c.path_params[param] = known->second->id;
    setup.push_back(known->second->setup);
    owned = true;
  }
  return c;
}

Scanner::Baseline Scanner::learn_baseline() {
  if (!options_.checks.contains("auth")) return Baseline::not_needed;
  if (context_.any_fault_active()) return Baseline::fault_active;
  const std::uint64_t restarts_before = restarts_seen_;
  probes_.clear();
  created_.clear();
  std::vector<Probe> probes;
  const User* owner = options_.users.empty() ? nullptr : &options_.users[0];
  for (const openapi::Operation& op : document_.operations) {
    if (!needs_credentials(op)) continue;
    if (stopped()) return Baseline::stopped;
    std::vector<std::string> setup;
    bool owned = false;
    const fuzz::RequestCase c = prepare(op, setup, owned);
    std::vector<std::string> markers;
    if (owner && op.method == "GET") {
      Sent mine = send_case(c, owner_credentials(), true);
      if (classify_access(mine.reply) == Access::allowed) markers = resource_markers(mine.reply.response.body);
    }
    const std::string header = credential_header(op, document_, options_.users);
    for (CredentialVariant& v : credential_variants(header, op, document_, owner)) {
      probes.push_back({&op, v.kind, c, std::move(v.headers), "", setup, markers, {}});
    }
    if (owned && options_.users.size() >= 2) {
      const User& other = options_.users[1];
      probes.push_back({&op,
                        "user " + other.name + " on " + owner->name + "'s object",
                        c,
                        Headers{{other.header, other.value}},
                        "",
                        setup,
                        markers,
                        {}});
    }
  }
  // Deletions last, so that a delete let through does not change what the other probes see.
  std::stable_partition(probes.begin(), probes.end(), [](const Probe& p) { return p.request.method != "DELETE"; });
  for (Probe& p : probes) {
    if (stopped()) return Baseline::stopped;
    p.bytes = fuzz::render(p.request, options_.base, p.credentials);
    Sent sent = send(p.bytes);
    passive(sent.reply, p.bytes, p.request, !p.credentials.empty());
    if (!sent.faults.empty() || context_.any_fault_active()) return Baseline::fault_active;
    p.baseline = std::move(sent.reply);
  }
  // A target that restarted meanwhile may have lost the objects the probes point at (and answered
  // 404 where it would have let another user in): the baseline is learned again, on the target
  // as it is now.
  bool lost = restarts_seen_ != restarts_before;
  // A restart the probes did not run into shows as an object its owner no longer finds.
  for (const Probe& p : probes) {
    if (lost || stopped() || relearns_ >= kMaxRelearns) break;
    if (p.setup.empty() || p.request.method != "GET" || p.baseline.outcome != fuzz::Outcome::response ||
        p.baseline.response.status != 404)
      continue;
    const Sent mine = send_case(p.request, owner_credentials(), true);
    lost = mine.reply.outcome == fuzz::Outcome::response && mine.reply.response.status == 404;
    if (!lost) break;  // the objects are there: the 404s are refusals
  }
  if (lost && relearns_ < kMaxRelearns) {
    ++relearns_;
    return learn_baseline();
  }
  probes_ = std::move(probes);
  has_baseline_ = true;
  // What the baseline alone shows.
  for (const Probe& p : probes_) {
    const Access access = classify_access(p.baseline);
    if (access == Access::allowed) {
      const bool bola = p.kind.starts_with("user ");
      const bool modifies = p.request.method != "GET" && p.request.method != "HEAD";
      fuzz::Finding f;
      f.oracle = bola ? "bola" : "auth_missing";
      f.operation = p.operation->id;
      f.signature = p.kind;
      f.severity = fuzz::Severity::high;
      f.title = p.request.method + " " + p.request.path + " answers " + std::to_string(p.baseline.response.status) +
                " to a request with " + p.kind;
      f.evidence = "with no fault active: " + excerpt(p.baseline) +
                   (bola ? "; the object was created by the first user (setup request)" : "");
      f.wfc = bola ? "306" : (modifies ? "308" : "307");
      f.trigger = {"status_class", "2xx"};
      f.setup_requests = p.setup;
      f.raw_request = p.bytes;
      report(std::move(f), p.request, p.credentials, {});
    } else if (access == Access::refused && p.baseline.response.status != 404) {
      probe_bypass(p);
    }
  }
  return Baseline::learned;
}

void Scanner::probe_bypass(const Probe& p) {
  for (const BypassVariant& v : bypass_variants(p.bytes, p.request.method)) {
    if (stopped()) return;
    Sent sent = send(v.bytes);
    passive(sent.reply, v.bytes, p.request, !p.credentials.empty());
    if (classify_access(sent.reply) != Access::allowed) continue;
    if (v.control) {
      Sent control = send(*v.control);
      if (classify_access(control.reply) == Access::allowed) continue;  // "/" is open anyway
    }
    fuzz::RequestCase raw = p.request;
    raw.raw = v.bytes;
    raw.mutation = v.name;
    fuzz::Finding f;
    f.oracle = "auth_bypass";
    f.operation = p.operation->id;
    f.signature = p.kind + " + " + v.name;
    f.severity = fuzz::Severity::high;
    f.title = p.request.method + " " + p.request.path + " refuses " + p.kind + " but lets it in with " + v.name;
    f.evidence = "plain request: " + excerpt(p.baseline) + "; with " + v.name + ": " + excerpt(sent.reply);
    f.wfc = "307";
    f.trigger = {"status_class", "2xx"};
    f.setup_requests = p.setup;
    f.raw_request = v.bytes;
    report(std::move(f), raw, {}, sent.faults);
  }
}

std::size_t Scanner::recheck_auth() {
  std::size_t sent_count = 0;
  for (const Probe& p : probes_) {
    if (stopped()) break;
    if (classify_access(p.baseline) != Access::refused) continue;
    Sent now = send(p.bytes);
    ++sent_count;
    RecheckVerdict v = judge_recheck(p.baseline, now.reply, !now.faults.empty(), p.markers);
    if (v.change == AuthChange::none) continue;
    // Once more in the same state: one odd answer is not a finding.
    Sent again = send(p.bytes);
    ++sent_count;
    const RecheckVerdict confirm = judge_recheck(p.baseline, again.reply, !again.faults.empty(), p.markers);
    if (confirm.change != v.change) continue;
    const bool open = v.change == AuthChange::fail_open;
    fuzz::Finding f;
    f.oracle = open ? "fail_open" : "auth_inconsistent";
    f.operation = p.operation->id;
    f.signature = p.kind;
    f.severity = open ? fuzz::Severity::critical : fuzz::Severity::high;
    f.title = p.request.method + " " + p.request.path + (open ? " fails open with " : " lets in ") + p.kind +
              (open ? " while " + join(now.faults) + " is active" : " although the baseline refused it");
    f.evidence = "baseline (no fault active): " + excerpt(p.baseline) + "; now" +
                 (open ? " (active: " + join(now.faults) + ")" : " (no fault active)") + ": " + excerpt(now.reply) +
                 "; confirmed: " + excerpt(again.reply) + "; " + v.why +
                 (open ? ". It replays only while that fault is on" : "");
    f.wfc = "307";
    f.trigger = v.marker.empty() ? fuzz::Trigger{"status_class", "2xx"} : fuzz::Trigger{"body_contains", v.marker};
    f.setup_requests = p.setup;
    f.raw_request = p.bytes;
    report(std::move(f), p.request, p.credentials, now.faults);
  }
  return sent_count;
}

}  // namespace chaosplus::security
