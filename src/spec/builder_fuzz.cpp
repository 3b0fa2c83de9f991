// The `fuzz:` block of a phase (fuzz/fuzz_spec.h): an OpenAPI document, a loopback base URL, and
// the engine's settings; the document is loaded here too, so `chaosplus validate` reports its
// errors with their file and line.
#include <algorithm>
#include <filesystem>

#include "fuzz/fuzz_spec.h"
#include "openapi/document.h"
#include "spec/builder.h"

namespace chaosplus::spec::reading {
namespace {

constexpr std::string_view kThresholdExamples = "\"findings < 1\" or \"findings{severity>=high} < 1\"";

}  // namespace

std::optional<ActivitySpec> Builder::read_fuzz_activity(const YamlNode& node, const std::string& phase_what,
                                                        const std::string& phase) {
  auto fuzz = read_fuzz(node, phase_what, phase);
  if (!fuzz) return std::nullopt;
  ActivitySpec activity{fuzz::FuzzSpec::kKind, fuzz->name, nullptr, node.mark};
  activity.config = std::make_shared<const fuzz::FuzzSpec>(std::move(*fuzz));
  return activity;
}

std::optional<std::string> Builder::read_openapi(const YamlNode& node) {
  auto text = read_text(node, "openapi");
  if (!text) return std::nullopt;
  // Relative to the experiment file, so the experiment runs from any working directory.
  std::filesystem::path path(*text);
  if (path.is_relative() && !base_dir.empty()) path = std::filesystem::path(base_dir) / path;
  std::string resolved = path.lexically_normal().string();
  // Loaded once here, so a broken document is told at validate time with its file and line.
  if (auto document = openapi::load(resolved); !document) {
    report(node, "openapi: " + document.error());
  } else if (document->operations.empty()) {
    report(node, "openapi: " + resolved + " has no operation, expected paths with at least one method");
  }
  return resolved;
}

std::optional<fuzz::FuzzSpec> Builder::read_fuzz(const YamlNode& node, const std::string& phase_what,
                                                 const std::string& phase) {
  const std::string what = "fuzz of " + phase_what;
  if (!check_map(node, what,
                 {"name", "openapi", "base_url", "duration", "seed", "connections", "timeout", "max_requests",
                  "headers", "target", "memory_growth", "minimize", "thresholds"},
                 "a fuzz: a map with openapi and base_url")) {
    return std::nullopt;
  }
  const std::size_t before = issues.size();
  fuzz::FuzzSpec spec;
  spec.name = phase;
  const YamlNode* name = get(node, "name");
  if (name) {
    if (auto text = read_text(*name, "name")) {
      if (is_identifier(*text)) spec.name = *text;
      else report(*name, "name: found '" + *text + "', expected letters, digits, '.', '_' or '-'");
    }
  }
  if (std::find(declared_fuzzes_.begin(), declared_fuzzes_.end(), spec.name) != declared_fuzzes_.end()) {
    report(name ? *name : node, "fuzz name '" + spec.name + "' is used twice, expected unique names");
  }
  declared_fuzzes_.push_back(spec.name);
  if (const YamlNode* n = require(node, "base_url", what, "a URL such as http://127.0.0.1:8080")) {
    if (auto url = read_url(*n, "base_url")) spec.base_url = *url;
  }
  if (const YamlNode* n = require(node, "openapi", what, "the API's OpenAPI document, e.g. openapi: api.yaml")) {
    if (auto path = read_openapi(*n)) spec.openapi = *path;
  }
  if (const YamlNode* n = get(node, "duration")) {
    if (auto d = read_duration(*n, "duration", true)) spec.duration = *d;
  }
  if (const YamlNode* n = get(node, "seed")) {
    if (auto v = read_integer(*n, "seed", 0, 9'007'199'254'740'991)) spec.seed = static_cast<std::uint64_t>(*v);
  }
  if (const YamlNode* n = get(node, "connections")) {
    if (auto v = read_integer(*n, "connections", 1, 10000)) spec.connections = static_cast<int>(*v);
  }
  if (const YamlNode* n = get(node, "timeout")) {
    if (auto d = read_duration(*n, "timeout", true)) spec.timeout = *d;
  }
  if (const YamlNode* n = get(node, "max_requests")) {
    if (auto v = read_integer(*n, "max_requests", 1, 1'000'000'000'000LL))
      spec.max_requests = static_cast<std::uint64_t>(*v);
  }
  if (const YamlNode* n = get(node, "headers")) {
    spec.headers = read_string_map(*n, "headers", is_header_name, "a header name (letters, digits and -)");
  }
  if (const YamlNode* n = get(node, "target")) {
    if (auto text = read_text(*n, "target")) {
      if (std::find(declared_targets_.begin(), declared_targets_.end(), *text) == declared_targets_.end())
        report(*n, "target: found '" + *text + "', expected one of the experiment's targets");
      else spec.target = *text;
    }
  }
  if (const YamlNode* n = get(node, "memory_growth")) {
    if (auto text = read_scalar_text(*n, "memory_growth")) {
      if (*text == "0") spec.memory_growth = 0;
      else if (auto bytes = parse_bytes(*text)) spec.memory_growth = *bytes;
      else report(*n, "memory_growth: " + bytes.error());
    }
  }
  if (const YamlNode* n = get(node, "minimize")) {
    if (n->kind != Kind::boolean) wrong_type(*n, "minimize", "true or false");
    else spec.minimize = n->text == "true" || n->text == "True" || n->text == "TRUE";
  }
  if (const YamlNode* n = get(node, "thresholds")) read_fuzz_thresholds(*n, spec);
  if (issues.size() != before) return std::nullopt;
  return spec;
}

void Builder::read_fuzz_thresholds(const YamlNode& node, fuzz::FuzzSpec& spec) {
  if (node.kind != Kind::sequence) {
    wrong_type(node, "thresholds", "a list such as [" + std::string(kThresholdExamples) + "]");
    return;
  }
  for (const auto& item : node.items) {
    auto text = read_text(item, "threshold");
    if (!text) continue;
    const std::string& written = *text;
    std::string rest;
    fuzz::FuzzThreshold t;
    if (written.starts_with("findings{")) {
      const auto close = written.find('}');
      std::string selector = close == std::string::npos ? "" : written.substr(9, close - 9);
      selector.erase(std::remove(selector.begin(), selector.end(), ' '), selector.end());
      if (!selector.starts_with("severity>=")) {
        report(item, "threshold '" + written + "': expected " + std::string(kThresholdExamples));
        continue;
      }
      auto severity = fuzz::parse_severity(selector.substr(10));
      if (!severity) {
        report(item, "threshold '" + written + "': " + severity.error());
        continue;
      }
      t.at_least = *severity;
      rest = written.substr(close + 1);
    } else if (written.starts_with("findings") && (written.size() == 8 || written.find_first_of(" <>=", 8) == 8)) {
      rest = written.substr(8);
    } else {
      report(item, "threshold: found '" + written + "', expected " + std::string(kThresholdExamples));
      continue;
    }
    auto c = parse_comparison(rest, QuantityKind::number);
    if (!c) {
      report(item, "threshold '" + written + "': " + c.error());
      continue;
    }
    t.condition = *c;
    t.text = written;
    t.mark = item.mark;
    spec.thresholds.push_back(std::move(t));
  }
}

}  // namespace chaosplus::spec::reading
