#include "kube/objects.h"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace chaosplus::kube {

namespace {

using nlohmann::json;

// Reads `count` digits at `at`, or nullopt.
std::optional<int> digits(std::string_view text, std::size_t at, std::size_t count) {
  if (at + count > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

Error bad_time(std::string_view text) {
  return Error{
      "\"" + std::string(text) + "\" is not a Kubernetes time (expected RFC 3339 like \"2026-12-06T19:50:00.250000Z\")",
      ErrorCode::invalid_argument};
}

std::map<std::string, std::string> string_map(const json& object) {
  std::map<std::string, std::string> out;
  if (!object.is_object()) return out;
  for (const auto& [key, value] : object.items())
    if (value.is_string()) out[key] = value.get<std::string>();
  return out;
}

std::string string_at(const json& object, const char* key) {
  auto found = object.find(key);
  return found != object.end() && found->is_string() ? found->get<std::string>() : std::string();
}

Result<json> parse_object(std::string_view text, const std::string& where, const char* kind) {
  json parsed = json::parse(text, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object())
    return Error{where + ": the answer is not a JSON object (expected a " + std::string(kind) + ")",
                 ErrorCode::io_error};
  if (auto k = string_at(parsed, "kind"); !k.empty() && k != kind)
    return Error{where + ": expected a " + std::string(kind) + ", got a " + k, ErrorCode::io_error};
  return parsed;
}

}  // namespace

Result<WallTime> parse_micro_time(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't') || text[13] != ':' ||
      text[16] != ':')
    return bad_time(text);
  auto year = digits(text, 0, 4), month = digits(text, 5, 2), day = digits(text, 8, 2);
  auto hour = digits(text, 11, 2), minute = digits(text, 14, 2), second = digits(text, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second || *hour > 23 || *minute > 59 || *second > 60)
    return bad_time(text);
  std::chrono::year_month_day date{std::chrono::year(*year), std::chrono::month(static_cast<unsigned>(*month)),
                                   std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok()) return bad_time(text);
  std::size_t at = 19;
  std::int64_t micros = 0;
  if (at < text.size() && text[at] == '.') {
    ++at;
    std::size_t count = 0;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      if (count < 6) micros = micros * 10 + (text[at] - '0');
      ++count;
      ++at;
    }
    if (count == 0 || count > 9) return bad_time(text);
    for (std::size_t i = count; i < 6; ++i) micros *= 10;
  }
  std::chrono::minutes offset{0};
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    auto oh = digits(text, at + 1, 2), om = digits(text, at + 4, 2);
    if (!oh || !om || at + 3 >= text.size() || text[at + 3] != ':' || *oh > 23 || *om > 59) return bad_time(text);
    offset = std::chrono::minutes(*oh * 60 + *om) * (text[at] == '-' ? -1 : 1);
    at += 6;
  } else {
    return bad_time(text);
  }
  if (at != text.size()) return bad_time(text);
  auto local = std::chrono::sys_days(date) + std::chrono::hours(*hour) + std::chrono::minutes(*minute) +
               std::chrono::seconds(*second) + std::chrono::microseconds(micros);
  return WallTime(std::chrono::duration_cast<std::chrono::microseconds>((local - offset).time_since_epoch()));
}

std::string format_micro_time(WallTime time) {
  auto days = std::chrono::floor<std::chrono::days>(time);
  std::chrono::year_month_day date{days};
  std::chrono::hh_mm_ss clock{time - days};
  char out[40];
  std::snprintf(out, sizeof out, "%04d-%02u-%02uT%02d:%02d:%02d.%06dZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
                static_cast<int>(clock.seconds().count()), static_cast<int>(clock.subseconds().count()));
  return out;
}

std::string to_json(const Lease& lease) {
  json object = lease.served_json.empty() ? json::object() : json::parse(lease.served_json, nullptr, false);
  if (!object.is_object()) object = json::object();
  object["apiVersion"] = "coordination.k8s.io/v1";
  object["kind"] = "Lease";
  json& meta = object["metadata"];
  if (!meta.is_object()) meta = json::object();
  meta["name"] = lease.name;
  meta["namespace"] = lease.namespace_;
  if (!lease.resource_version.empty()) meta["resourceVersion"] = lease.resource_version;
  else meta.erase("resourceVersion");
  if (!lease.labels.empty()) meta["labels"] = lease.labels;
  else meta.erase("labels");
  json& spec = object["spec"];
  if (!spec.is_object()) spec = json::object();
  auto set_or_erase = [&spec](const char* key, bool present, json value) {
    if (present) spec[key] = std::move(value);
    else spec.erase(key);
  };
  set_or_erase("holderIdentity", !lease.holder_identity.empty(), lease.holder_identity);
  set_or_erase("leaseDurationSeconds", lease.lease_duration_seconds > 0, lease.lease_duration_seconds);
  set_or_erase("acquireTime", lease.acquire_time.has_value(),
               lease.acquire_time ? format_micro_time(*lease.acquire_time) : "");
  set_or_erase("renewTime", lease.renew_time.has_value(), lease.renew_time ? format_micro_time(*lease.renew_time) : "");
  set_or_erase("leaseTransitions", lease.lease_transitions > 0, lease.lease_transitions);
  return object.dump();
}

Result<Lease> lease_from_json(std::string_view text, const std::string& where) {
  auto parsed = parse_object(text, where, "Lease");
  if (!parsed) return parsed.failure();
  const json& object = *parsed;
  Lease lease;
  const json meta = object.value("metadata", json::object());
  const json spec = object.value("spec", json::object());
  lease.name = string_at(meta, "name");
  lease.namespace_ = string_at(meta, "namespace");
  lease.resource_version = string_at(meta, "resourceVersion");
  lease.labels = string_map(meta.value("labels", json::object()));
  lease.holder_identity = string_at(spec, "holderIdentity");
  if (auto d = spec.find("leaseDurationSeconds"); d != spec.end() && d->is_number_integer())
    lease.lease_duration_seconds = d->get<std::int64_t>();
  if (auto t = spec.find("leaseTransitions"); t != spec.end() && t->is_number_integer())
    lease.lease_transitions = t->get<std::int64_t>();
  for (auto [key, field] : {std::pair{"acquireTime", &lease.acquire_time}, std::pair{"renewTime", &lease.renew_time}}) {
    auto text_time = string_at(spec, key);
    if (text_time.empty()) continue;
    auto time = parse_micro_time(text_time);
    if (!time) return Error{where + ": spec." + key + ": " + time.error(), ErrorCode::io_error};
    *field = *time;
  }
  if (lease.name.empty()) return Error{where + ": the Lease has no metadata.name", ErrorCode::io_error};
  lease.served_json = object.dump();
  return lease;
}

bool expired_at(const Lease& lease, WallTime now) {
  auto last = lease.renew_time ? lease.renew_time : lease.acquire_time;
  if (!last || lease.lease_duration_seconds <= 0) return true;
  return *last + std::chrono::seconds(lease.lease_duration_seconds) < now;
}

void LeaseWatch::observe(const Lease& lease, Instant at) {
  // The holder's record only, as client-go compares it: a write by anyone else (a label, an
  // annotation) changes resourceVersion but is no renewal, and must not keep a dead run alive.
  auto last = lease.renew_time ? lease.renew_time : lease.acquire_time;
  std::string renewal = lease.holder_identity + "/" + (last ? format_micro_time(*last) : "") + "/" +
                        std::to_string(lease.lease_duration_seconds);
  duration_ = std::chrono::seconds(lease.lease_duration_seconds);
  if (!changed_at_ || renewal != last_renewal_) {
    last_renewal_ = std::move(renewal);
    changed_at_ = at;
  }
}

bool LeaseWatch::expired(Instant now) const {
  if (!changed_at_ || duration_ <= std::chrono::seconds(0)) return true;
  return *changed_at_ + duration_ < now;
}

Result<std::vector<Pod>> pods_from_json(std::string_view text, const std::string& where) {
  auto parsed = parse_object(text, where, "PodList");
  if (!parsed) return parsed.failure();
  std::vector<Pod> pods;
  for (const json& item : parsed->value("items", json::array())) {
    const json meta = item.value("metadata", json::object());
    const json spec = item.value("spec", json::object());
    const json status = item.value("status", json::object());
    Pod pod;
    pod.name = string_at(meta, "name");
    pod.namespace_ = string_at(meta, "namespace");
    pod.labels = string_map(meta.value("labels", json::object()));
    pod.node_name = string_at(spec, "nodeName");
    pod.pod_ip = string_at(status, "podIP");
    pod.phase = string_at(status, "phase");
    for (const json& container : status.value("containerStatuses", json::array())) {
      ContainerStatus c;
      c.name = string_at(container, "name");
      c.container_id = string_at(container, "containerID");
      c.ready = container.value("ready", false);
      pod.containers.push_back(std::move(c));
    }
    pods.push_back(std::move(pod));
  }
  return pods;
}

Result<std::vector<Node>> nodes_from_json(std::string_view text, const std::string& where) {
  auto parsed = parse_object(text, where, "NodeList");
  if (!parsed) return parsed.failure();
  std::vector<Node> nodes;
  for (const json& item : parsed->value("items", json::array())) {
    const json meta = item.value("metadata", json::object());
    const json status = item.value("status", json::object());
    Node node;
    node.name = string_at(meta, "name");
    node.labels = string_map(meta.value("labels", json::object()));
    for (const json& address : status.value("addresses", json::array()))
      if (string_at(address, "type") == "InternalIP") node.internal_ip = string_at(address, "address");
    for (const json& condition : status.value("conditions", json::array()))
      if (string_at(condition, "type") == "Ready") node.ready = string_at(condition, "status") == "True";
    nodes.push_back(std::move(node));
  }
  return nodes;
}

}  // namespace chaosplus::kube
