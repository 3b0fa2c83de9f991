// The `writes:` block of a phase (writes/writes_spec.h): a libpq connection string (loopback hosts
// only, checked here so `chaosplus validate` says which host is not), a table, the clients, rate
// and timeout, the Patroni APIs that time promotions, and thresholds on the analysis's figures.
#include <algorithm>

#include "db/pg_client.h"
#include "spec/builder.h"
#include "spec/suggest.h"
#include "writes/writes_spec.h"

namespace chaosplus::spec::reading {
namespace {

constexpr std::string_view kWritesThresholdExamples = "\"rto < 15s\" or \"lost_writes == 0\"";

// An unquoted SQL name, optionally schema-qualified: lower case, so PostgreSQL folds nothing.
bool is_table_name(std::string_view s) {
  auto part = [](std::string_view p) {
    if (p.empty() || p.size() > 63 || !(std::islower(static_cast<unsigned char>(p.front())) || p.front() == '_'))
      return false;
    return std::all_of(p.begin(), p.end(), [](char c) {
      return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_';
    });
  };
  const auto dot = s.find('.');
  if (dot == std::string_view::npos) return part(s);
  return part(s.substr(0, dot)) && part(s.substr(dot + 1));
}

std::vector<std::string_view> metric_names() {
  std::vector<std::string_view> names;
  for (const auto& m : writes::metrics()) names.push_back(m.name);
  return names;
}

}  // namespace

std::optional<ActivitySpec> Builder::read_writes_activity(const YamlNode& node, const std::string& phase_what,
                                                          const std::string& phase) {
  auto spec = read_writes(node, phase_what, phase);
  if (!spec) return std::nullopt;
  ActivitySpec activity{writes::WritesSpec::kKind, spec->name, nullptr, node.mark};
  activity.config = std::make_shared<const writes::WritesSpec>(std::move(*spec));
  return activity;
}

std::optional<writes::WritesSpec> Builder::read_writes(const YamlNode& node, const std::string& phase_what,
                                                       const std::string& phase) {
  const std::string what = "writes of " + phase_what;
  if (!check_map(node, what, {"name", "dsn", "table", "clients", "rate", "timeout", "connect_timeout", "patroni", "history",
                  "thresholds"},
                 "a write workload: a map with dsn")) {
    return std::nullopt;
  }
  const std::size_t before = issues.size();
  writes::WritesSpec spec;
  spec.name = phase;
  const YamlNode* name = get(node, "name");
  if (name) {
    if (auto text = read_text(*name, "name")) {
      if (is_identifier(*text)) spec.name = *text;
      else report(*name, "name: found '" + *text + "', expected letters, digits, '.', '_' or '-'");
    }
  }
  if (std::find(declared_writes_.begin(), declared_writes_.end(), spec.name) != declared_writes_.end()) {
    report(name ? *name : node, "writes name '" + spec.name + "' is used twice, expected unique names");
  }
  declared_writes_.push_back(spec.name);
  if (const YamlNode* n = require(node, "dsn", what,
                                  "a libpq connection string such as 'host=127.0.0.1 port=5432 dbname=postgres'")) {
    if (auto text = read_text(*n, "dsn")) {
      if (Status s = db::check_loopback_conninfo(*text); !s) report(*n, "dsn: " + s.error());
      else spec.dsn = *text;
    }
  }
  if (const YamlNode* n = get(node, "table")) {
    if (auto text = read_text(*n, "table")) {
      if (is_table_name(*text)) spec.table = *text;
      else
        report(*n, "table: found '" + *text +
                       "', expected a lower-case SQL name (letters, digits, '_'), optionally schema.table");
    }
  }
  if (const YamlNode* n = get(node, "clients")) {
    if (auto v = read_integer(*n, "clients", 1, 256)) spec.clients = static_cast<int>(*v);
  }
  if (const YamlNode* n = get(node, "rate")) {
    if (auto text = read_text(*n, "rate")) {
      auto rate = parse_rate(*text);
      if (rate && *rate > 0 && *rate <= 100000) spec.rate = *rate;
      else
        report(*n, "rate: " + (rate ? "'" + *text + "' is out of range, expected a rate above 0 and at most 100000/s"
                                    : rate.error()));
    }
  }
  if (const YamlNode* n = get(node, "timeout")) {
    if (auto d = read_duration(*n, "timeout", true)) spec.timeout = *d;
  }
  if (const YamlNode* n = get(node, "connect_timeout")) {
    if (auto d = read_duration(*n, "connect_timeout", true)) spec.connect_timeout = *d;
  }
  if (const YamlNode* n = get(node, "patroni")) {
    if (n->kind != Kind::sequence || n->items.empty()) {
      wrong_type(*n, "patroni", "a list of Patroni REST API addresses such as [127.0.0.11:8008, 127.0.0.12:8008]");
    } else {
      for (const auto& item : n->items)
        if (auto endpoint = read_endpoint(item, "patroni")) spec.patroni.push_back(endpoint->to_string());
    }
  }
  if (const YamlNode* n = get(node, "history")) {
    if (auto text = read_text(*n, "history")) spec.history = *text;
  }
  if (const YamlNode* n = get(node, "thresholds")) read_writes_thresholds(*n, spec, get(node, "patroni") != nullptr);
  if (issues.size() != before) return std::nullopt;
  return spec;
}

void Builder::read_writes_thresholds(const YamlNode& node, writes::WritesSpec& spec, bool patroni) {
  if (node.kind != Kind::sequence) {
    wrong_type(node, "thresholds", "a list such as [" + std::string(kWritesThresholdExamples) + "]");
    return;
  }
  static const std::vector<std::string_view> names = metric_names();
  for (const auto& item : node.items) {
    auto text = read_text(item, "threshold");
    if (!text) continue;
    const std::string& written = *text;
    const auto space = written.find_first_of(" <>=!");
    const std::string metric = written.substr(0, space);
    const writes::Metric* m = writes::find_metric(metric);
    if (m == nullptr) {
      std::string message = "threshold: found metric '" + metric + "' in '" + written + "'";
      if (auto guess = closest_match(metric, names)) message += ", did you mean '" + *guess + "'?";
      else message += ", expected one of " + comma_list(names);
      report(item, message);
      continue;
    }
    auto c = parse_comparison(space == std::string::npos ? "" : written.substr(space), m->kind);
    if (!c) {
      report(item, "threshold '" + written + "': " + c.error());
      continue;
    }
    // The promotion is timed from the members' /primary answers: without them it is never measured.
    if (!patroni && (metric == "promotion" || metric == "reconnection")) {
      report(item, "threshold '" + written + "': " + metric +
                       " is timed from Patroni's /primary answers, expected patroni: [127.0.0.11:8008, ...] beside it");
      continue;
    }
    spec.thresholds.push_back(writes::WritesThreshold{metric, *c, written, item.mark});
  }
}

}  // namespace chaosplus::spec::reading
