// The `security` block of a phase (docs/security.md): the security kind of activity.
#include <algorithm>

#include "security/security_spec.h"
#include "spec/builder.h"

namespace chaosplus::spec::reading {

std::optional<ActivitySpec> Builder::read_security_activity(const YamlNode& node, const std::string& phase_what,
                                                            const std::string& phase) {
  using security::SecuritySpec;
  const std::string what = "security of " + phase_what;
  if (!check_map(node, what,
                 {"name", "openapi", "base_url", "users", "checks", "protected", "recheck", "timeout", "delay",
                  "max_requests", "thresholds"},
                 "a security scan: a map with openapi and base_url")) {
    return std::nullopt;
  }
  const std::size_t before = issues.size();
  SecuritySpec s;
  s.name = phase;
  if (const YamlNode* n = get(node, "name")) {
    if (auto text = read_text(*n, "name")) {
      if (is_identifier(*text)) s.name = *text;
      else report(*n, "name: found '" + *text + "', expected letters, digits, '.', '_' or '-'");
    }
  }
  if (std::find(declared_scans_.begin(), declared_scans_.end(), s.name) != declared_scans_.end()) {
    const YamlNode* name = get(node, "name");
    report(name ? *name : node, "security name '" + s.name + "' is used twice, expected unique names");
  }
  declared_scans_.push_back(s.name);
  if (const YamlNode* n = require(node, "openapi", what, "the OpenAPI document, e.g. demo/shop-api.openapi.yaml")) {
    if (auto path = read_openapi(*n)) s.openapi = *path;
  }
  if (const YamlNode* n = require(node, "base_url", what, "the target's URL, e.g. http://127.0.0.1:8080")) {
    if (auto url = read_url(*n, "base_url")) s.base_url = *url;
  }
  if (const YamlNode* n = get(node, "users")) {
    if (n->kind != Kind::sequence) {
      wrong_type(*n, "users", "a list of {name, header} such as {name: alice, header: 'Authorization: Bearer t1'}");
    } else {
      for (const auto& item : n->items) {
        if (!check_map(item, "user", {"name", "header"}, "a user: {name: alice, header: 'Authorization: Bearer t1'}")) {
          continue;
        }
        const YamlNode* name = require(item, "name", "user", "the user's name");
        const YamlNode* header = require(item, "header", "user", "the credential header, 'Authorization: Bearer t1'");
        if (!name || !header) continue;
        auto name_text = read_text(*name, "name");
        auto header_text = read_scalar_text(*header, "header");
        if (!name_text || !header_text) continue;
        auto user = security::parse_user(*name_text + "=" + *header_text);
        if (!user) {
          report(*header, "header: " + user.error());
          continue;
        }
        s.users.push_back(std::move(*user));
      }
    }
  }
  if (const YamlNode* n = get(node, "checks")) {
    if (n->kind != Kind::sequence || n->items.empty()) {
      wrong_type(*n, "checks", "a non-empty list of auth, injection, headers, tls");
    } else {
      s.checks.clear();
      for (const auto& item : n->items) {
        auto text = read_text(item, "check");
        if (!text) continue;
        if (std::find(security::kChecks.begin(), security::kChecks.end(), *text) == security::kChecks.end()) {
          report(item, "check: found '" + *text + "', expected one of " + comma_list(security::kChecks));
          continue;
        }
        s.checks.insert(*text);
      }
    }
  }
  if (const YamlNode* n = get(node, "protected")) {
    if (n->kind != Kind::sequence) {
      wrong_type(*n, "protected", "a list of operation ids that need credentials");
    } else {
      for (const auto& item : n->items) {
        if (auto text = read_text(item, "protected")) s.protected_operations.push_back(*text);
      }
    }
  }
  if (const YamlNode* n = get(node, "recheck")) {
    if (auto d = read_duration(*n, "recheck", true)) s.recheck = *d;
  }
  if (const YamlNode* n = get(node, "timeout")) {
    if (auto d = read_duration(*n, "timeout", true)) s.timeout = *d;
  }
  if (const YamlNode* n = get(node, "delay")) {
    if (auto d = read_duration(*n, "delay", true)) {
      if (*d < std::chrono::seconds(1)) report(*n, "delay: found less than 1s, expected whole seconds (sleep N)");
      else s.delay = *d;
    }
  }
  if (const YamlNode* n = get(node, "max_requests")) {
    if (auto v = read_integer(*n, "max_requests", 1, 100'000'000)) s.max_requests = static_cast<std::uint64_t>(*v);
  }
  if (const YamlNode* n = get(node, "thresholds")) {
    if (n->kind != Kind::sequence) {
      wrong_type(*n, "thresholds", "a list such as [\"findings{severity>=critical} < 1\"]");
    } else {
      for (const auto& item : n->items) {
        auto text = read_text(item, "threshold");
        if (!text) continue;
        auto t = security::parse_findings_threshold(*text);
        if (!t) {
          report(item, "threshold " + t.error());
          continue;
        }
        t->mark = item.mark;
        s.thresholds.push_back(std::move(*t));
      }
    }
  }
  if (issues.size() != before) return std::nullopt;
  ActivitySpec activity{SecuritySpec::kKind, s.name, nullptr, node.mark};
  activity.config = std::make_shared<const SecuritySpec>(std::move(s));
  return activity;
}

}  // namespace chaosplus::spec::reading
