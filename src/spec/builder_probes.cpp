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

#include "db/pg_client.h"
#include "spec/address.h"
#include "spec/fault_catalog.h"
#include "spec/interpolate.h"
#include "spec/kernel_params.h"
#include "spec/schema.h"
#include "spec/suggest.h"
#include "spec/text_rules.h"
#include "spec/yaml_tree.h"

namespace chaosplus::spec::reading {

void Builder::read_steady_state(const YamlNode& node, Experiment& experiment) {
  if (!check_map(node, "steady_state", {"probes", "after"},
                 "a map with probes: [...] and optionally after: {within: 30s}"))
    return;
  if (const YamlNode* after = get(node, "after")) {
    if (check_map(*after, "steady_state.after", {"within"}, "a map with within: a duration, e.g. {within: 30s}")) {
      if (const YamlNode* n = get(*after, "within")) {
        if (auto d = read_duration(*n, "within", true)) experiment.steady_state.after_within = *d;
      }
    }
  }
  const YamlNode* probes = get(node, "probes");
  if (probes == nullptr) return;
  if (probes->kind != Kind::sequence) {
    wrong_type(*probes, "probes", "a list of probes");
    return;
  }
  std::map<std::string, int> lines;
  for (const auto& item : probes->items) {
    const std::size_t before = issues.size();
    Probe probe = read_probe(item);
    if (!probe.name.empty()) {
      declared_probes_.push_back(probe.name);
      if (auto [it, fresh] = lines.emplace(probe.name, item.mark.line); !fresh) {
        report(*get(item, "name"), "probe name '" + probe.name + "' is used twice (first at line " +
                                       std::to_string(it->second) + "), expected unique names");
        continue;
      }
    }
    if (issues.size() != before) continue;
    continuous_probes_[probe.name] = probe.every;
    experiment.steady_state.probes.push_back(std::move(probe));
  }
}

Probe Builder::read_probe(const YamlNode& node) {
  Probe probe;
  probe.mark = node.mark;
  if (!check_map(node, named(node, "probe"),
                 {"name", "http", "tcp", "command", "extension", "sql", "expect", "every", "tolerance"},
                 "a probe: a map with name and one of http, tcp, command, extension, sql")) {
    return probe;
  }
  std::string what = "probe";
  if (const YamlNode* n = require(node, "name", "probe", "a name such as checkout-ok")) {
    if (auto text = read_text(*n, "name")) {
      what = "probe '" + *text + "'";
      if (is_identifier(*text)) {
        probe.name = *text;
      } else {
        report(*n, "name: found '" + *text +
                       "', expected letters, digits, '.', '_' or '-', starting with a letter or digit (at most 64)");
      }
    }
  }
  // Each kind present is read (and its problems reported) even when more than one is present.
  auto kind = exactly_one(node, what, {"http", "tcp", "command", "extension", "sql"});
  if (const YamlNode* n = get(node, "http")) {
    if (auto http = read_http_probe(*n, what)) probe.kind = std::move(*http);
  }
  if (const YamlNode* n = get(node, "tcp")) {
    if (auto tcp = read_tcp_probe(*n, what)) probe.kind = std::move(*tcp);
  }
  if (const YamlNode* n = get(node, "command")) {
    if (auto command = read_command(*n, "command of " + what)) probe.kind = std::move(*command);
  }
  if (const YamlNode* n = get(node, "extension")) {
    if (auto extension = read_extension_probe(*n, what)) probe.kind = std::move(*extension);
  }
  if (const YamlNode* n = get(node, "sql")) {
    if (auto sql = read_sql_probe(*n, what)) probe.kind = std::move(*sql);
  }
  if (const YamlNode* n = get(node, "expect"); n && kind) probe.expect = read_expect(*n, what, *kind);
  if (const YamlNode* n = get(node, "every")) probe.every = read_duration(*n, "every", true);
  if (const YamlEntry* entry = node.find("tolerance")) {
    if (!node.find("every")) {
      report_key(*entry, "tolerance in " + what +
                             " applies only to a continuous probe, expected 'every' (e.g. every: 1s) beside it");
    }
    probe.tolerance = read_tolerance(entry->value);
  } else if (probe.every) {
    probe.tolerance = Tolerance{Comparison{CompareOp::greater_equal, 0.95}, std::nullopt};
  }
  return probe;
}

std::optional<HttpProbe> Builder::read_http_probe(const YamlNode& node, const std::string& probe) {
  const std::string what = "http of " + probe;
  if (!check_map(node, what, {"method", "url", "headers", "body", "timeout"},
                 "a map with url and optionally method, headers, body, timeout")) {
    return std::nullopt;
  }
  HttpProbe http;
  if (const YamlNode* n = get(node, "method")) {
    if (auto text = read_text(*n, "method")) {
      if (std::find(kHttpMethods.begin(), kHttpMethods.end(), *text) != kHttpMethods.end()) {
        http.method = *text;
      } else {
        report(*n, "method: found '" + *text + "', expected one of " + comma_list(kHttpMethods));
      }
    }
  }
  if (const YamlNode* n = require(node, "url", what, "a URL such as http://127.0.0.1:8080/health")) {
    if (auto url = read_url(*n, "url")) http.url = *url;
  }
  if (const YamlNode* n = get(node, "headers")) {
    http.headers = read_string_map(*n, "headers", is_header_name, "a header name (letters, digits and -)");
  }
  if (const YamlNode* n = get(node, "body")) {
    if (auto text = read_text(*n, "body", true)) http.body = *text;
  }
  if (const YamlNode* n = get(node, "timeout")) {
    if (auto d = read_duration(*n, "timeout", true)) http.timeout = *d;
  }
  return http;
}

std::optional<TcpProbe> Builder::read_tcp_probe(const YamlNode& node, const std::string& probe) {
  const std::string what = "tcp of " + probe;
  if (!check_map(node, what, {"address", "timeout"}, "a map with address: host:port and optionally timeout")) {
    return std::nullopt;
  }
  TcpProbe tcp;
  if (const YamlNode* n = require(node, "address", what, "an address such as 127.0.0.1:5432")) {
    if (auto endpoint = read_endpoint(*n, "address")) tcp.address = *endpoint;
  }
  if (const YamlNode* n = get(node, "timeout")) {
    if (auto d = read_duration(*n, "timeout", true)) tcp.timeout = *d;
  }
  return tcp;
}

std::optional<SqlProbe> Builder::read_sql_probe(const YamlNode& node, const std::string& probe) {
  const std::string what = "sql of " + probe;
  if (!check_map(node, what, {"dsn", "query", "timeout"},
                 "a map with dsn (a libpq connection string), query and optionally timeout")) {
    return std::nullopt;
  }
  SqlProbe sql;
  if (const YamlNode* n =
          require(node, "dsn", what, "a libpq connection string such as \"host=127.0.0.1 port=5432 dbname=postgres\"")) {
    if (auto text = read_text(*n, "dsn")) {
      // The same parser and loopback rule the probe connects with, so the file is wrong here or not at all.
      if (auto checked = db::check_loopback_conninfo(*text); checked.ok()) sql.dsn = *text;
      else report(*n, "dsn: " + checked.error());
    }
  }
  if (const YamlNode* n = require(node, "query", what, "an SQL statement such as \"SELECT 1\"")) {
    if (auto text = read_text(*n, "query")) sql.query = *text;
  }
  if (const YamlNode* n = get(node, "timeout")) {
    if (auto d = read_duration(*n, "timeout", true)) sql.timeout = *d;
  }
  return sql;
}

std::optional<CommandProbe> Builder::read_command(const YamlNode& node, const std::string& what) {
  if (!check_map(node, what, {"run", "timeout"}, "a map with run: [program, args...] and optionally timeout")) {
    return std::nullopt;
  }
  CommandProbe command;
  if (const YamlNode* n = require(node, "run", what, "the program and its arguments, e.g. run: [pg_isready, -q]")) {
    if (auto argv = read_argv(*n, "run")) command.argv = std::move(*argv);
  }
  if (const YamlNode* n = get(node, "timeout")) {
    if (auto d = read_duration(*n, "timeout", true)) command.timeout = *d;
  }
  return command;
}

Expectation Builder::read_expect(const YamlNode& node, const std::string& probe, std::string_view kind) {
  Expectation expect;
  const std::string what = "expect of " + probe;
  if (node.kind != Kind::map) {
    wrong_type(node, "expect", "a map of expectations");
    return expect;
  }
  static constexpr std::array<std::string_view, 4> http_keys{"status", "body_contains", "body_regex", "latency"};
  static constexpr std::array<std::string_view, 1> tcp_keys{"latency"};
  static constexpr std::array<std::string_view, 4> command_keys{"exit_code", "output_contains", "output_regex",
                                                                "latency"};
  static constexpr std::array<std::string_view, 5> sql_keys{"rows", "value", "output_contains", "output_regex",
                                                            "latency"};
  static constexpr std::array<std::string_view, 9> all_keys{
      "status", "body_contains", "body_regex", "latency", "exit_code", "output_contains", "output_regex", "rows", "value"};
  const std::span<const std::string_view> allowed = kind == "http"  ? std::span<const std::string_view>(http_keys)
                                                    : kind == "sql" ? std::span<const std::string_view>(sql_keys)
                                                    : kind == "tcp" || kind == "extension"
                                                        ? std::span<const std::string_view>(tcp_keys)
                                                        : std::span<const std::string_view>(command_keys);
  for (const auto& entry : node.entries) {
    if (std::find(allowed.begin(), allowed.end(), entry.key) != allowed.end()) continue;
    if (std::find(all_keys.begin(), all_keys.end(), entry.key) != all_keys.end()) {
      const char* article_kind = kind == "http"        ? "an HTTP"
                                 : kind == "tcp"       ? "a TCP"
                                 : kind == "extension" ? "an extension"
                                 : kind == "sql"       ? "an SQL"
                                                       : "a command";
      report_key(entry, "'" + entry.key + "' does not apply to " + article_kind + " probe, expected one of " +
                            comma_list(allowed));
    } else {
      unknown_key(entry, what, allowed);
    }
  }
  auto has = [&](std::string_view key) {
    return std::find(allowed.begin(), allowed.end(), key) != allowed.end() ? get(node, key) : nullptr;
  };
  if (const YamlNode* n = has("status")) expect.status = read_status(*n);
  if (const YamlNode* n = has("body_contains")) expect.body_contains = read_text(*n, "body_contains");
  if (const YamlNode* n = has("body_regex")) expect.body_regex = read_regex(*n, "body_regex");
  if (const YamlNode* n = has("latency")) expect.latency = read_comparison(*n, "latency", QuantityKind::duration);
  if (const YamlNode* n = has("exit_code")) {
    if (auto code = read_integer(*n, "exit_code", 0, 255)) expect.exit_code = static_cast<int>(*code);
  }
  if (const YamlNode* n = has("output_contains")) expect.output_contains = read_text(*n, "output_contains");
  if (const YamlNode* n = has("output_regex")) expect.output_regex = read_regex(*n, "output_regex");
  if (const YamlNode* n = has("rows")) {
    if (auto c = read_comparison(*n, "rows", QuantityKind::number)) {
      const bool whole = n->text.find_first_not_of("<>= \t0123456789") == std::string::npos;
      if (whole) expect.rows = *c;
      else report(*n, "rows: found '" + n->text + "', expected a whole number of rows, e.g. \">= 1\" or \"== 3\"");
    }
  }
  if (const YamlNode* n = has("value")) expect.value = read_scalar_text(*n, "value");
  return expect;
}

std::vector<int> Builder::read_status(const YamlNode& node) {
  std::vector<int> codes;
  if (node.kind == Kind::integer) {
    if (auto code = read_integer(node, "status", 100, 599)) codes.push_back(static_cast<int>(*code));
    return codes;
  }
  if (node.kind != Kind::sequence || node.items.empty()) {
    wrong_type(node, "status", "an HTTP status code from 100 to 599, or a non-empty list of them");
    return codes;
  }
  for (const auto& item : node.items) {
    if (auto code = read_integer(item, "status", 100, 599)) codes.push_back(static_cast<int>(*code));
  }
  return codes;
}

Tolerance Builder::read_tolerance(const YamlNode& node) {
  Tolerance tolerance{Comparison{CompareOp::greater_equal, 0.95}, std::nullopt};
  if (!check_map(node, "tolerance", {"success_rate", "window"}, "a map with success_rate and optionally window")) {
    return tolerance;
  }
  if (const YamlNode* n = get(node, "success_rate")) {
    if (auto c = read_comparison(*n, "success_rate", QuantityKind::percentage)) {
      if (c->op == CompareOp::greater_equal || c->op == CompareOp::greater) {
        tolerance.success_rate = *c;
      } else {
        report(*n, "success_rate: found '" + n->text +
                       "', expected '>= N%' or '> N%' (the share of results that must succeed)");
      }
    }
  }
  if (const YamlNode* n = get(node, "window")) tolerance.window = read_duration(*n, "window", true);
  return tolerance;
}

}  // namespace chaosplus::spec::reading
