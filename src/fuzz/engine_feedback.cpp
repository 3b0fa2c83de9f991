// Judging a batch's replies in send order, and what the engine learns from them: findings, the
// corpus, harvested values and stateful follow-ups (links, use-after-delete, double delete).
#include <algorithm>

#include "fuzz/engine_internal.h"

namespace chaosplus::fuzz::detail {
namespace {

constexpr std::size_t kMaxFollowUps = 1024;  // waiting; more are dropped (the pool still has their values)
constexpr int kHangsBeforeDemotion = 2;      // an operation that hung this often is drawn far less

bool is_2xx(const Reply& reply) {
  return reply.outcome == Outcome::response && reply.response.status >= 200 && reply.response.status <= 299;
}

const openapi::Operation* sibling(const openapi::Document& document, const std::string& path, std::string_view method) {
  for (const openapi::Operation& op : document.operations) {
    if (op.path == path && op.method == method) return &op;
  }
  return nullptr;
}

void set_parameter(const openapi::Operation& operation, RequestCase& request, const std::string& name,
                   const Json& value) {
  for (const openapi::Parameter& p : operation.parameters) {
    if (p.name != name) continue;
    switch (p.in) {
      case openapi::ParameterIn::path: request.path_params[name] = value; return;
      case openapi::ParameterIn::query: {
        auto it =
            std::find_if(request.query.begin(), request.query.end(), [&](const auto& q) { return q.first == name; });
        if (it != request.query.end()) it->second = value;
        else request.query.emplace_back(name, value);
        return;
      }
      case openapi::ParameterIn::header:
        request.headers.emplace_back(name, value.is_string() ? value.get<std::string>() : value.dump());
        return;
      case openapi::ParameterIn::cookie: request.cookies[name] = value; return;
    }
  }
}

// "query.q: array [1] where string expected", "path.id: string \"42\" where integer expected": in
// a URL, a header or a cookie every value travels as text, so a value of another type may arrive as
// exactly the text the right type would give ([1] as "1", "42" as 42). Not certainly invalid.
bool uncertain_defect(std::string_view mutation) {
  const bool text_place = mutation.starts_with("path.") || mutation.starts_with("query.") ||
                          mutation.starts_with("header.") || mutation.starts_with("cookie.");
  const auto where = mutation.find(" where ");
  const bool type_change =
      where != std::string_view::npos && mutation.find(" expected", where) != std::string_view::npos;
  // Nor are bytes that are not UTF-8: a URL carries bytes, and the document asks no encoding of them.
  const bool encoding =
      mutation.find("UTF-8") != std::string_view::npos || mutation.find("surrogate") != std::string_view::npos;
  // And a body sent under an undocumented Content-Type may be read all the same: leniency, not a bug.
  return (text_place && (type_change || encoding)) || mutation.starts_with("body: Content-Type");
}

}  // namespace

std::vector<std::pair<std::string, std::string>> Engine::credentials(const Slot& slot) const {
  // A case that sets a header itself (a generated credential, a wrong token on purpose) keeps it.
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& h : options_.headers) {
    const bool own = std::any_of(slot.request.headers.begin(), slot.request.headers.end(),
                                 [&](const auto& c) { return net::iequals(c.first, h.first); });
    if (!own) out.push_back(h);
  }
  return out;
}

void Engine::process(Batch& batch) {
  for (Slot& slot : batch.slots) {
    if (!slot.answered || slot.judged) continue;
    slot.judged = true;
    if (slot.cancelled) continue;
    ++summary_.requests;
    const std::string op = slot.operation != nullptr ? slot.operation->id : "raw";
    ++summary_.per_operation[op];
    ++summary_.per_strategy[std::string(strategy_name(slot.strategy))];
    ++sent_since_baseline_[op];
    if (slot.reply.outcome == Outcome::response) {
      ++summary_.per_status[slot.reply.response.status];
      answered_before_ = true;
    } else {
      ++summary_.per_outcome[std::string(outcome_name(slot.reply.outcome))];
    }
    // A request the target's death cut short is judged as part of that death (engine_target.cpp).
    if (batch.death && slot.reply.outcome != Outcome::response) continue;
    judge(slot);
    learn(slot);
  }
}

void Engine::judge(Slot& slot) {
  const bool fault_active = hooks_.context != nullptr && hooks_.context->any_fault_active();
  const Reply& reply = slot.reply;
  OracleInput in;
  in.operation = slot.operation;
  in.request = &slot.request;
  in.bytes = slot.bytes;
  in.reply = &reply;
  in.fault_active = fault_active;
  in.raw = slot.strategy == Strategy::raw;
  // Only the invalid strategy's cases are invalid for certain (one defect, checked where it is
  // made); a corpus mutation may land on a value that still conforms ("42" for a string, the
  // minimum exactly), so its 2xx proves nothing.
  in.claims_invalid =
      slot.strategy == Strategy::invalid && !slot.request.expect_valid && !uncertain_defect(slot.request.mutation);
  std::vector<Verdict> verdicts = oracles_.judge(in);
  if (fault_active &&
      (reply.outcome == Outcome::timeout ||
       (reply.outcome == Outcome::response && (reply.response.status == 503 || reply.response.status == 504))))
    ++summary_.degraded;
  const std::string what = describe_operation(slot.operation, slot.request);
  if (slot.probe == Probe::use_after_delete && is_2xx(reply)) {
    verdicts.push_back(
        {"use_after_delete",
         Severity::high,
         "2xx after a successful delete",
         what + " still answers " + std::to_string(reply.response.status) + " after its resource was deleted",
         "DELETE answered 2xx, then this request answered " + std::to_string(reply.response.status),
         "",
         {"status_class", "2xx"}});
  }
  if (slot.probe == Probe::double_delete && is_2xx(reply)) {
    verdicts.push_back({"double_delete",
                        Severity::medium,
                        "2xx to a second delete",
                        what + " deletes the same resource twice with " + std::to_string(reply.response.status),
                        "the first DELETE answered 2xx, the second " + std::to_string(reply.response.status),
                        "",
                        {"status_class", "2xx"}});
  }
  if (reply.outcome == Outcome::timeout && slot.operation != nullptr && !fault_active &&
      ++hangs_[slot.operation->id] >= kHangsBeforeDemotion) {
    // An operation that hangs costs a timeout per draw; once its hang is known, it is drawn
    // rarely so the rest of the API still gets searched.
    const auto i = static_cast<std::size_t>(slot.operation - document_->operations.data());
    weights_[i] = std::max(0.01, weights_[i] * 0.25);
  }
  for (const Verdict& v : verdicts) record(v, slot);
}

void Engine::record(const Verdict& v, const Slot& slot) {
  // A cut connection may be a restart or a dying target seen late, not this request's doing: a new
  // one counts only when the request, sent again alone on a fresh connection, is cut again.
  if ((v.oracle == "connection_reset" || v.oracle == "closed_without_response") &&
      !confirmed_cuts_.contains(v.oracle + "|" + v.signature + "|" + slot.request.operation_id)) {
    const Reply again = exchange_once(sender_options_, slot.bytes, slot.request.method == "HEAD");
    if (again.outcome != Outcome::reset && again.outcome != Outcome::closed) return;  // answered, or the target is down
    confirmed_cuts_.insert(v.oracle + "|" + v.signature + "|" + slot.request.operation_id);
  }
  Finding f;
  f.engine = "fuzz";
  f.oracle = v.oracle;
  f.operation = slot.operation != nullptr ? slot.operation->id : slot.request.operation_id;
  f.signature = v.signature;
  f.severity = v.severity;
  f.title = v.title;
  f.evidence = v.evidence;
  f.wfc = v.wfc;
  f.trigger = v.trigger;
  record_finding(std::move(f), &slot);
}

void Engine::record_finding(Finding f, const Slot* slot) {
  // A repeat only counts: its reproducer, curl command and copies are the first occurrence's.
  if (log_.bump(f.key())) return;
  const bool fault_active = hooks_.context != nullptr && hooks_.context->any_fault_active();
  if (slot != nullptr) {
    f.request = slot->request;
    f.raw_request = slot->bytes;
    f.curl = to_curl(
        slot->request, base_,
        slot->strategy == Strategy::raw ? std::vector<std::pair<std::string, std::string>>{} : credentials(*slot));
    f.original_bytes = slot->bytes.size();
    f.setup_requests = slot->setup;
  }
  f.base_url = options_.base_url;
  if (hooks_.context != nullptr) {
    f.phase = hooks_.context->phase();
    f.active_faults = hooks_.context->active_faults();
  }
  // Seen with no fault on: it happens without faults. Seen under faults: re-checked later.
  if (!fault_active) f.without_faults = true;
  f.count = 1;
  f.first_seen_ms = elapsed_ms();
  const std::string key = f.key();
  if (!log_.add(f)) return;
  if (slot != nullptr && slot->operation != nullptr && slot->strategy != Strategy::raw) {
    // Ids earlier answers gave: the reproducer makes its own (the harvested one may be gone by then).
    harvest_.bind(*slot->operation, f);
    if (!f.bindings.empty()) log_.update(f);
  }
  if (slot != nullptr) {
    first_seen_.emplace(key, std::pair{*slot, f});
    if (fault_active)
      rechecks_.push_back({key, slot->bytes, slot->setup, slot->operation, slot->request.method == "HEAD"});
  }
  if (hooks_.on_finding) hooks_.on_finding(f);
}

void Engine::learn(Slot& slot) {
  if (slot.strategy == Strategy::raw || slot.operation == nullptr || slot.reply.outcome != Outcome::response) return;
  const openapi::Operation& op = *slot.operation;
  const net::Response& response = slot.reply.response;
  corpus_.offer(slot.request, response.status, response_shape(response), rng_, slot.bytes.size());
  if (!is_2xx(slot.reply)) return;
  const auto producer = std::make_shared<const std::string>(slot.bytes);
  // The requests that made the resources this one used, for a reproducer's set-up.
  std::vector<std::string> made_by;
  for (const auto& [name, value] : slot.request.path_params) {
    const HarvestedValue* known = harvest_.find(param_key(op.path, name), value);
    if (known != nullptr && known->producer && *known->producer != slot.bytes) made_by.push_back(*known->producer);
  }
  for (LinkFollowUp& link : harvest_.harvest(*document_, op, slot.request, response, base_path_, producer)) {
    if (follow_ups_.size() >= kMaxFollowUps) break;
    const openapi::Operation* target = document_->find(link.operation_id);
    if (target == nullptr) continue;
    FollowUp f;
    f.operation = target;
    f.request = valid(*target);
    for (const auto& [name, value] : link.parameters) set_parameter(*target, f.request, name, value);
    f.setup = made_by;
    f.setup.push_back(slot.bytes);
    follow_ups_.push_back(std::move(f));
  }
  if (op.method != "DELETE" || slot.probe != Probe::none || slot.request.path_params.empty()) return;
  // A successful delete: the resource must be gone. Read it again (use after delete) and delete
  // it again (double delete); a reproducer makes it, deletes it, then sends the probe.
  for (const auto& [name, value] : slot.request.path_params) harvest_.forget(param_key(op.path, name), value);
  if (follow_ups_.size() + 2 > kMaxFollowUps) return;
  std::vector<std::string> setup = made_by;
  setup.push_back(slot.bytes);
  if (const openapi::Operation* get = sibling(*document_, op.path, "GET")) {
    FollowUp f;
    f.operation = get;
    f.probe = Probe::use_after_delete;
    f.setup = setup;
    f.request = valid(*get);
    f.request.path_params = slot.request.path_params;
    follow_ups_.push_back(std::move(f));
  }
  FollowUp again;
  again.operation = &op;
  again.probe = Probe::double_delete;
  again.setup = std::move(setup);
  again.request = slot.request;
  follow_ups_.push_back(std::move(again));
}

}  // namespace chaosplus::fuzz::detail
