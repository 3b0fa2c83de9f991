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
#include <span>

#include "core/allowed_hosts.h"
#include "core/loopback.h"
#include "dns/rules.h"
#include "spec/address.h"
#include "spec/fault_catalog.h"
#include "spec/interpolate.h"
#include "spec/kernel_params.h"
#include "spec/schema.h"
#include "spec/suggest.h"
#include "spec/text_rules.h"
#include "spec/yaml_tree.h"

namespace chaosplus::spec::reading {

void Builder::read_targets(const YamlNode& node, Experiment& experiment) {
  if (node.kind != Kind::map) {
    wrong_type(node, "targets", "a map of target names to targets");
    return;
  }
  std::map<std::string, const YamlEntry*> listens;
  for (const auto& entry : node.entries) {
    declared_targets_.push_back(entry.key);
    const std::size_t before = issues.size();
    if (!is_identifier(entry.key)) {
      report_key(
          entry,
          "target name '" + entry.key +
              "' is not a valid name, expected letters, digits, '.', '_' or '-', starting with a letter or digit");
    }
    Target target = read_target(entry);
    if (issues.size() != before) continue;
    if (target.proxy) {
      const std::string listen = target.proxy->listen.to_string();
      if (auto [it, fresh] = listens.emplace(listen, &entry); !fresh) {
        report(*get(*get(entry.value, "proxy"), "listen"),
               "listen: " + listen + " is already the proxy address of target '" + it->second->key +
                   "', expected a different port for each proxy");
        continue;
      }
    }
    experiment.targets.push_back(std::move(target));
  }
}

Target Builder::read_target(const YamlEntry& entry) {
  Target target;
  target.name = entry.key;
  target.mark = entry.key_mark;
  const YamlNode& node = entry.value;
  const std::string what = "target '" + entry.key + "'";
  if (!check_map(node, what, {"process", "attach", "patroni", "endpoint", "proxy", "on"},
                 "a target: a map with process, attach, patroni or endpoint (and optionally proxy, on)")) {
    return target;
  }
  const YamlNode* process = get(node, "process");
  const YamlNode* attach = get(node, "attach");
  const YamlNode* patroni = get(node, "patroni");
  const YamlNode* endpoint = get(node, "endpoint");
  if (!process && !attach && !patroni && !endpoint) {
    report(node, what +
                     " has none of process, attach, patroni, endpoint, expected at least one (what the runner "
                     "starts, attaches to, chooses by role, or reaches)");
  }
  if (process && attach) {
    report_key(*node.find("attach"), what + " has both 'process' and 'attach', expected one of them");
  }
  if (patroni && (process || attach)) {
    report_key(*node.find("patroni"),
               what + " has both 'patroni' and '" + (process ? "process" : "attach") + "', expected one of them");
  }
  if (process) target.process = read_process(*process, what);
  if (attach) target.attach = read_attach(*attach, what);
  if (patroni) target.patroni = read_patroni(*patroni, what);
  if (endpoint) target.endpoint = read_endpoint(*endpoint, "endpoint");
  if (const YamlNode* proxy = get(node, "proxy")) target.proxy = read_proxy(*proxy, what, target, endpoint != nullptr);
  if (const YamlNode* on = get(node, "on")) target.on = read_agent_selector(*on, what);
  return target;
}

// on: {role: db, zone: a} (labels, all must match), host: NAME, pick: one|all|random, share: 50%.
std::optional<AgentSelector> Builder::read_agent_selector(const YamlNode& node, const std::string& target) {
  const std::string what = "on of " + target;
  if (node.kind != Kind::map) {
    wrong_type(node, "on", "a map of agent labels (role: db), and optionally host, pick (one, all, random), share");
    return std::nullopt;
  }
  AgentSelector selector;
  selector.mark = node.mark;
  const std::size_t before = issues.size();
  const YamlNode* share = nullptr;
  for (const auto& entry : node.entries) {
    if (entry.key == "host") {
      if (auto text = read_text(entry.value, "host")) selector.host = *text;
    } else if (entry.key == "pick") {
      if (auto text = read_text(entry.value, "pick")) {
        if (*text == "one") {
          selector.pick = AgentSelector::Pick::one;
        } else if (*text == "all") {
          selector.pick = AgentSelector::Pick::all;
        } else if (*text == "random") {
          selector.pick = AgentSelector::Pick::random;
        } else {
          report(entry.value, "pick: found '" + *text + "', expected one, all or random");
        }
      }
    } else if (entry.key == "share") {
      share = &entry.value;
    } else if (!is_identifier(entry.key)) {
      report_key(entry, "on: found the label '" + entry.key +
                            "', expected a label name (letters, digits, '.', '_' or '-') such as role");
    } else if (auto value = read_scalar_text(entry.value, entry.key)) {
      selector.labels[entry.key] = *value;
    }
  }
  if (share) {
    auto text = read_scalar_text(*share, "share");
    auto fraction = text ? parse_percentage(*text) : Result<double>(Error{""});
    if (text && (!fraction || *fraction <= 0 || *fraction > 1)) {
      report(*share, "share: found '" + *text + "', expected a percentage above 0% and at most 100%, such as 50%");
    } else if (fraction) {
      selector.share = *fraction;
    }
    if (selector.pick != AgentSelector::Pick::random) {
      report(*share, "share: only used with pick: random, expected pick: random next to it (or no share)");
    }
  }
  if (selector.labels.empty() && selector.host.empty() && issues.size() == before) {
    report(node, what + " names no agent, expected labels (role: db) or host: NAME");
  }
  if (issues.size() != before) return std::nullopt;
  return selector;
}

std::optional<ProcessLaunch> Builder::read_process(const YamlNode& node, const std::string& target) {
  const std::string what = "process of " + target;
  if (!check_map(node, what, {"command", "env", "cwd", "ready", "resolve"},
                 "a map with command and optionally env, cwd, ready, resolve")) {
    return std::nullopt;
  }
  ProcessLaunch launch;
  if (const YamlNode* n = require(node, "command", what,
                                  "the program and its arguments, e.g. command: [demo-shop-api, --port, \"8080\"]")) {
    if (auto argv = read_argv(*n, "command")) launch.command = std::move(*argv);
  }
  if (const YamlNode* n = get(node, "env")) {
    for (auto& [k, v] : read_string_map(*n, "env", is_env_name, "an environment variable name (letters, digits, _)")) {
      launch.env[k] = v;
    }
  }
  if (const YamlNode* n = get(node, "cwd")) {
    if (auto text = read_text(*n, "cwd")) launch.cwd = *text;
  }
  if (const YamlNode* n = get(node, "ready")) launch.ready = read_ready(*n, target);
  if (const YamlNode* n = get(node, "resolve")) launch.resolve = read_resolve(*n);
  return launch;
}

// resolve: {name: loopback address}: what the run's resolver answers for the target's names.
std::map<std::string, std::string> Builder::read_resolve(const YamlNode& node) {
  std::map<std::string, std::string> table;
  if (node.kind != Kind::map) {
    wrong_type(node, "resolve", "a map of host names to loopback addresses");
    return table;
  }
  for (const auto& entry : node.entries) {
    std::string name = entry.key;
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    if (const std::string problem = dns::name_problem(name); !problem.empty() || name.starts_with("*.")) {
      report_key(entry, "resolve: the name '" + entry.key + "' has " +
                            (problem.empty() ? std::string("a '*.' pattern") : problem) +
                            ", expected a host name such as tokens.shop.test");
      continue;
    }
    auto value = read_scalar_text(entry.value, entry.key);
    if (!value) continue;
    if (!is_ip_literal(*value) || !allowed_hosts().allows_address(*value)) {
      report(entry.value, "resolve: " + entry.key + ": found '" + *value +
                              "', expected an IP address on the allow-list; " + allow_hint());
      continue;
    }
    table[name] = *value;
  }
  return table;
}

std::optional<ReadyCheck> Builder::read_ready(const YamlNode& node, const std::string& target) {
  const std::string what = "ready check of " + target;
  if (!check_map(node, what, {"http", "tcp", "command", "timeout"},
                 "a map with http: URL, tcp: host:port or command: [program, args...]"))
    return std::nullopt;
  ReadyCheck ready;
  auto kind = exactly_one(node, what, {"http", "tcp", "command"});
  if (kind == "http") {
    if (auto url = read_url(*get(node, "http"), "http")) ready.http_url = *url;
  } else if (kind == "tcp") {
    ready.tcp = read_endpoint(*get(node, "tcp"), "tcp");
  } else if (kind == "command") {
    if (auto argv = read_argv(*get(node, "command"), "command")) ready.command = std::move(*argv);
  }
  if (const YamlNode* n = get(node, "timeout")) {
    if (auto d = read_duration(*n, "timeout", true)) ready.timeout = *d;
  }
  return ready;
}

std::optional<ProcessAttach> Builder::read_attach(const YamlNode& node, const std::string& target) {
  const std::string what = "attach of " + target;
  if (!check_map(node, what,
                 {"pid", "pidfile", "name", "pid_command", "pid_url", "pid_field", "restart_command", "ready"},
                 "a map with one of pid, pidfile, name, pid_command, pid_url (and optionally restart_command, "
                 "ready)")) {
    return std::nullopt;
  }
  ProcessAttach attach;
  auto kind = exactly_one(node, what, {"pid", "pidfile", "name", "pid_command", "pid_url"});
  if (kind == "pid") {
    if (auto pid = read_integer(*get(node, "pid"), "pid", 1, INT_MAX)) attach.pid = static_cast<int>(*pid);
  } else if (kind == "pidfile") {
    if (auto text = read_text(*get(node, "pidfile"), "pidfile")) attach.pidfile = *text;
  } else if (kind == "name") {
    const YamlNode& n = *get(node, "name");
    if (auto text = read_text(n, "name")) {
      if (text->size() > 15) {
        report(n, "name: found '" + *text + "' (" + std::to_string(text->size()) +
                      " characters), expected the process name as in /proc/<pid>/comm, at most 15 characters");
      } else {
        attach.name = *text;
      }
    }
  } else if (kind == "pid_command") {
    if (auto argv = read_argv(*get(node, "pid_command"), "pid_command")) attach.pid_command = std::move(*argv);
  } else if (kind == "pid_url") {
    if (auto url = read_url(*get(node, "pid_url"), "pid_url")) attach.pid_url = *url;
  }
  if (const YamlEntry* field = node.find("pid_field")) {
    if (kind != "pid_url") {
      report_key(*field, "pid_field: only used with pid_url, expected pid_url next to it (or no pid_field)");
    } else if (auto text = read_text(field->value, "pid_field")) {
      attach.pid_field = *text;
    }
  }
  if (const YamlNode* n = get(node, "restart_command")) {
    if (auto argv = read_argv(*n, "restart_command")) attach.restart_command = std::move(*argv);
  }
  if (const YamlNode* n = get(node, "ready")) attach.ready = read_ready(*n, target);
  return attach;
}

namespace {
constexpr std::array<std::string_view, 4> kPatroniRoles{"primary", "replica", "sync_replica", "any"};
constexpr std::array<std::string_view, 2> kPatroniProcesses{"postgres", "patroni"};
}  // namespace

std::optional<PatroniRole> Builder::read_patroni(const YamlNode& node, const std::string& target) {
  const std::string what = "patroni of " + target;
  if (!check_map(node, what, {"apis", "role", "process", "etcd", "restart", "timeout"},
                 "a map with apis (the members' REST APIs, host:port), role, and optionally process, etcd, "
                 "restart, timeout")) {
    return std::nullopt;
  }
  PatroniRole patroni;
  // A list of loopback host:port addresses, at least one.
  auto read_endpoints = [&](const YamlNode& list, std::string_view label, std::string_view example) {
    std::vector<std::string> out;
    const std::string expected = "a list of host:port addresses such as " + std::string(example);
    if (list.kind != Kind::sequence) {
      wrong_type(list, label, expected);
      return out;
    }
    if (list.items.empty()) {
      report(list, std::string(label) + ": found an empty list, expected " + expected);
      return out;
    }
    for (const auto& item : list.items) {
      if (auto endpoint = read_endpoint(item, label)) out.push_back(endpoint->to_string());
    }
    return out;
  };
  if (const YamlNode* n = require(
          node, "apis", what, "the REST API of every member, e.g. apis: [\"127.0.0.11:8008\", \"127.0.0.12:8008\"]")) {
    patroni.apis = read_endpoints(*n, "apis", "\"127.0.0.11:8008\"");
  }
  if (const YamlNode* n = get(node, "role")) {
    if (auto text = read_text(*n, "role")) {
      if (std::find(kPatroniRoles.begin(), kPatroniRoles.end(), *text) == kPatroniRoles.end()) {
        report(*n, "role: found '" + *text + "', expected one of primary, replica, sync_replica, any");
      } else {
        patroni.role = *text;
      }
    }
  }
  if (const YamlNode* n = get(node, "process")) {
    if (auto text = read_text(*n, "process")) {
      if (std::find(kPatroniProcesses.begin(), kPatroniProcesses.end(), *text) == kPatroniProcesses.end()) {
        report(*n, "process: found '" + *text + "', expected postgres (the postmaster) or patroni");
      } else {
        patroni.process = *text;
      }
    }
  }
  if (const YamlNode* n = get(node, "etcd")) patroni.etcd = read_endpoints(*n, "etcd", "\"127.0.0.21:2379\"");
  if (const YamlNode* n = get(node, "restart")) {
    if (auto argv = read_argv(*n, "restart")) patroni.restart = std::move(*argv);
  }
  if (const YamlNode* n = get(node, "timeout")) {
    if (auto d = read_duration(*n, "timeout", true)) patroni.timeout = *d;
  }
  return patroni;
}

std::optional<ProxyPlacement> Builder::read_proxy(const YamlNode& node, const std::string& target, const Target& parsed,
                                                  bool has_endpoint) {
  const std::string what = "proxy of " + target;
  if (!check_map(node, what, {"listen", "upstream"},
                 "a map with listen: host:port and optionally upstream: host:port")) {
    return std::nullopt;
  }
  std::optional<Endpoint> listen;
  std::optional<Endpoint> upstream;
  if (const YamlNode* n = require(node, "listen", what, "the address the proxy listens on, e.g. 127.0.0.1:18080")) {
    listen = read_endpoint(*n, "listen");
  }
  if (const YamlNode* n = get(node, "upstream")) {
    upstream = read_endpoint(*n, "upstream");
  } else if (has_endpoint) {
    upstream = parsed.endpoint;  // may be empty if the endpoint itself was wrong (already reported)
  } else {
    report(node, what +
                     " has no 'upstream' and the target has no 'endpoint', expected upstream: host:port "
                     "(where the proxy forwards to)");
  }
  if (!listen || !upstream) return std::nullopt;
  if (same_endpoint(*listen, *upstream)) {
    report(*get(node, "listen"), "listen: found " + listen->to_string() +
                                     ", which is also the upstream, expected a different address (the proxy would "
                                     "forward to itself)");
    return std::nullopt;
  }
  return ProxyPlacement{*listen, *upstream};
}

}  // namespace chaosplus::spec::reading
