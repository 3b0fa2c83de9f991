#include "spec/builder.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <span>

#include "core/allowed_hosts.h"
#include "core/loopback.h"
#include "spec/address.h"
#include "spec/fault_catalog.h"
#include "spec/interpolate.h"
#include "spec/kernel_params.h"
#include "spec/schema.h"
#include "spec/suggest.h"
#include "spec/text_rules.h"
#include "spec/yaml_tree.h"

namespace chaosplus::spec::reading {

Experiment Builder::build(const YamlNode& root) {
  Experiment experiment;
  if (root.kind == Kind::null) {
    report(root, "the file is empty, expected an experiment: a map with at least 'name' and 'phases'");
    return experiment;
  }
  if (!check_map(root, "the experiment",
                 {"name", "description", "targets", "extensions", "steady_state", "guardrails", "phases", "rollbacks",
                  "outputs"},
                 "an experiment: a map with at least 'name' and 'phases'")) {
    return experiment;
  }
  if (const YamlNode* n = require(root, "name", "the experiment", "a name such as checkout-survives-db-kill")) {
    if (auto text = read_text(*n, "name")) {
      if (is_experiment_name(*text)) {
        experiment.name = *text;
      } else {
        report(*n, "name: found '" + *text +
                       "', expected 1-100 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit "
                       "(e.g. checkout-survives-db-kill)");
      }
    }
  }
  if (const YamlNode* n = get(root, "description")) {
    if (auto text = read_text(*n, "description", true)) experiment.description = *text;
  }
  if (const YamlNode* n = get(root, "targets")) read_targets(*n, experiment);
  if (const YamlNode* n = get(root, "extensions")) read_extensions(*n, experiment);
  if (const YamlNode* n = get(root, "steady_state")) read_steady_state(*n, experiment);
  if (const YamlNode* n = get(root, "guardrails")) read_guardrails(*n, experiment);
  if (const YamlNode* n = require(root, "phases", "the experiment", "a list of phases")) read_phases(*n, experiment);
  if (const YamlNode* n = get(root, "rollbacks")) read_rollbacks(*n, experiment);
  if (const YamlNode* n = get(root, "outputs")) read_outputs(*n, experiment);
  check_references(experiment);
  return experiment;
}

void Builder::report(const YamlNode& at, std::string message) {
  issues.push_back({at.pointer, at.mark, std::move(message)});
}

void Builder::report_key(const YamlEntry& at, std::string message) {
  issues.push_back({at.value.pointer, at.key_mark, std::move(message)});
}

void Builder::wrong_type(const YamlNode& at, std::string_view label, std::string_view expected) {
  report(at, std::string(label) + ": found " + describe_found(at) + ", expected " + std::string(expected));
}

bool Builder::check_map(const YamlNode& node, std::string_view what, Keys allowed, std::string_view expected) {
  const std::vector<std::string_view> names(allowed);
  return check_map(node, what, std::span<const std::string_view>(names), expected);
}

bool Builder::check_map(const YamlNode& node, std::string_view what, std::span<const std::string_view> names,
                        std::string_view expected) {
  if (node.kind != Kind::map) {
    report(node, std::string(what) + ": found " + describe_found(node) + ", expected " + std::string(expected));
    return false;
  }
  for (const auto& entry : node.entries) {
    if (std::find(names.begin(), names.end(), entry.key) == names.end()) unknown_key(entry, what, names);
  }
  return true;
}

void Builder::unknown_key(const YamlEntry& entry, std::string_view what, std::span<const std::string_view> allowed) {
  std::string message = "unknown key '" + entry.key + "' in " + std::string(what);
  if (auto guess = closest_match(entry.key, allowed)) {
    message += ", did you mean '" + *guess + "'?";
  } else {
    message += ", expected one of " + comma_list(allowed);
  }
  report_key(entry, message);
}

bool Builder::misspelled(const YamlNode& map, std::string_view key) {
  const std::array<std::string_view, 1> wanted{key};
  for (const auto& entry : map.entries) {
    if (entry.key != key && closest_match(entry.key, wanted)) return true;
  }
  return false;
}

std::string Builder::named(const YamlNode& node, std::string_view kind) {
  const YamlNode* name = node.kind == Kind::map ? get(node, "name") : nullptr;
  if (name && name->kind == Kind::string && !name->text.empty() && name->text.size() <= 64) {
    return std::string(kind) + " '" + name->text + "'";
  }
  return std::string(kind);
}

const YamlNode* Builder::get(const YamlNode& map, std::string_view key) {
  const YamlEntry* entry = map.find(key);
  return entry ? &entry->value : nullptr;
}

const YamlNode* Builder::require(const YamlNode& map, std::string_view key, std::string_view what,
                                 std::string_view expected) {
  const YamlNode* node = get(map, key);
  if (node == nullptr && !misspelled(map, key)) {
    report(map, "missing required key '" + std::string(key) + "' in " + std::string(what) + ", expected " +
                    std::string(expected));
  }
  return node;
}

std::optional<std::string_view> Builder::exactly_one(const YamlNode& map, std::string_view what, Keys keys,
                                                     bool allow_none) {
  std::vector<const YamlEntry*> present;
  for (auto key : keys) {
    if (const YamlEntry* entry = map.find(key)) present.push_back(entry);
  }
  const std::vector<std::string_view> names(keys);
  if (present.empty()) {
    if (!allow_none) {
      report(map, std::string(what) + " has none of " + comma_list(names) + ", expected exactly one");
    }
    return std::nullopt;
  }
  if (present.size() > 1) {
    // Point at the later one: the earlier is usually the intended one.
    std::sort(present.begin(), present.end(), [](const YamlEntry* a, const YamlEntry* b) {
      return std::tie(a->key_mark.line, a->key_mark.column) < std::tie(b->key_mark.line, b->key_mark.column);
    });
    report_key(*present[1], std::string(what) + " has both '" + present[0]->key + "' and '" + present[1]->key +
                                "', expected exactly one of " + comma_list(names));
    return std::nullopt;
  }
  return std::string_view(present.front()->key);
}

std::optional<std::string> Builder::read_text(const YamlNode& node, std::string_view label, bool allow_empty) {
  if (node.kind != Kind::string) {
    wrong_type(node, label, "text");
    return std::nullopt;
  }
  if (node.text.empty() && !allow_empty) {
    report(node, std::string(label) + ": found empty text, expected a value");
    return std::nullopt;
  }
  if (!without_nul(node, label)) return std::nullopt;
  return node.text;
}

bool Builder::without_nul(const YamlNode& node, std::string_view label) {
  const std::size_t at = node.text.find('\0');
  if (at == std::string::npos) return true;
  report(node, std::string(label) + ": found a NUL character (\\0) at character " + std::to_string(at + 1) +
                   ", expected text without NUL");
  return false;
}

std::optional<std::string> Builder::read_name(const YamlNode& node) {
  auto text = read_text(node, "name");
  if (!text) return std::nullopt;
  for (std::size_t i = 0; i < text->size(); ++i) {
    if (is_control((*text)[i])) {
      report(node, "name: found the control character " + shown_control((*text)[i]) + " at character " +
                       std::to_string(i + 1) + ", expected printable text");
      return std::nullopt;
    }
  }
  return text;
}

std::optional<std::string> Builder::read_scalar_text(const YamlNode& node, std::string_view label) {
  if (!node.is_scalar()) {
    wrong_type(node, label, "a string");
    return std::nullopt;
  }
  if (!without_nul(node, label)) return std::nullopt;
  return node.text;
}

std::optional<std::vector<std::string>> Builder::read_argv(const YamlNode& node, std::string_view label) {
  if (node.kind != Kind::sequence) {
    wrong_type(node, label, "a list of strings (the program and its arguments)");
    return std::nullopt;
  }
  if (node.items.empty()) {
    report(node, std::string(label) + ": found an empty list, expected a list of strings starting with the program");
    return std::nullopt;
  }
  std::vector<std::string> argv;
  bool ok = true;
  for (std::size_t i = 0; i < node.items.size(); ++i) {
    const YamlNode& item = node.items[i];
    if (!item.is_scalar()) {
      // `[sh, -c, echo a: b]`: the unquoted ': ' made the argument a one-entry map.
      const bool colon_trap = item.kind == Kind::map && item.entries.size() == 1 &&
                              (item.entries[0].value.is_scalar() || item.entries[0].value.kind == Kind::null);
      const std::string hint = colon_trap ? " (an unquoted ': ' made '" + item.entries[0].key + ": " +
                                                item.entries[0].value.text + "' a map: quote the argument, \"" +
                                                item.entries[0].key + ": " + item.entries[0].value.text + "\")"
                                          : "";
      report(item, std::string(label) + "[" + std::to_string(i) + "]: found " + describe_found(item) +
                       ", expected a list of strings" + hint);
      ok = false;
      continue;
    }
    if (!without_nul(item, std::string(label) + "[" + std::to_string(i) + "]")) {
      ok = false;
      continue;
    }
    argv.push_back(item.text);
  }
  if (!ok) return std::nullopt;
  if (argv.front().empty()) {
    report(node.items.front(), std::string(label) + ": found an empty program name, expected the program to run");
    return std::nullopt;
  }
  return argv;
}

std::optional<Duration> Builder::read_duration(const YamlNode& node, std::string_view label, bool positive) {
  if (!node.is_scalar()) {
    wrong_type(node, label, "a duration such as 500ms, 10s or 1m30s");
    return std::nullopt;
  }
  auto d = parse_duration(node.text);
  if (!d) {
    report(node, std::string(label) + ": " + d.error());
    return std::nullopt;
  }
  if (positive && d->count() <= 0) {
    report(node, std::string(label) + ": found " + node.text + ", expected a duration greater than zero");
    return std::nullopt;
  }
  return *d;
}

std::optional<Comparison> Builder::read_comparison(const YamlNode& node, std::string_view label, QuantityKind kind) {
  const char* example = kind == QuantityKind::duration     ? "a comparison such as \"< 300ms\""
                        : kind == QuantityKind::percentage ? "a comparison such as \">= 99%\""
                                                           : "a comparison such as \">= 1\"";
  if (node.kind != Kind::string) {
    wrong_type(node, label, example);
    return std::nullopt;
  }
  auto c = parse_comparison(node.text, kind);
  if (!c) {
    report(node, std::string(label) + ": " + c.error());
    return std::nullopt;
  }
  return *c;
}

std::optional<long long> Builder::read_integer(const YamlNode& node, std::string_view label, long long min,
                                               long long max) {
  const std::string range = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  if (node.kind != Kind::integer) {
    wrong_type(node, label, range);
    return std::nullopt;
  }
  long long value = 0;
  std::string_view digits = node.text;
  if (digits.starts_with('+')) digits.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc{} || ptr != digits.data() + digits.size() || value < min || value > max) {
    wrong_type(node, label, range);
    return std::nullopt;
  }
  return value;
}

bool Builder::check_loopback(const YamlNode& node, std::string_view label, const std::string& host) {
  if (allowed_hosts().allows_host(host)) return true;
  report(node, std::string(label) + ": host '" + host + "' is not on the allow-list; " + allow_hint());
  return false;
}

std::optional<Endpoint> Builder::read_endpoint(const YamlNode& node, std::string_view label) {
  if (node.kind != Kind::string) {
    wrong_type(node, label, "an address host:port such as 127.0.0.1:8080");
    return std::nullopt;
  }
  auto endpoint = parse_endpoint(node.text);
  if (!endpoint) {
    report(node, std::string(label) + ": " + endpoint.error());
    return std::nullopt;
  }
  if (!check_loopback(node, label, endpoint->host)) return std::nullopt;
  return *endpoint;
}

std::optional<std::string> Builder::read_url(const YamlNode& node, std::string_view label) {
  if (node.kind != Kind::string) {
    wrong_type(node, label, "a URL such as http://127.0.0.1:8080/health");
    return std::nullopt;
  }
  auto url = parse_http_url(node.text);
  if (!url) {
    report(node, std::string(label) + ": " + url.error());
    return std::nullopt;
  }
  if (!check_loopback(node, label, url->endpoint.host)) return std::nullopt;
  return node.text;
}

std::optional<std::string> Builder::read_regex(const YamlNode& node, std::string_view label) {
  auto text = read_text(node, label);
  if (!text) return std::nullopt;
  if (text->size() > kMaxRegexLength) {
    report(node, std::string(label) + ": found a regular expression of " + std::to_string(text->size()) +
                     " characters, expected at most " + std::to_string(kMaxRegexLength));
    return std::nullopt;
  }
  try {
    std::regex compiled(*text, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    report(node,
           std::string(label) + ": '" + *text + "' is not a valid regular expression (ECMAScript syntax): " + e.what());
    return std::nullopt;
  }
  return text;
}

}  // namespace chaosplus::spec::reading
