#include "fuzz/finding_output.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "fuzz/binding.h"
#include "fuzz/encoding.h"

namespace chaosplus::fuzz {
namespace {

using Json = nlohmann::json;

// Text for people (titles, evidence quoting a binary body) made valid UTF-8: nlohmann's writer
// replaces what is not UTF-8 with U+FFFD.
std::string printable(const std::string& text) {
  if (valid_utf8(text)) return text;
  return Json::parse(Json(text).dump(-1, ' ', false, Json::error_handler_t::replace)).get<std::string>();
}

// Request bytes as JSON: text when they are UTF-8, else base64, so they come back byte for byte.
Json bytes_to_json(const std::string& bytes) {
  if (valid_utf8(bytes)) return bytes;
  return Json{{"base64", base64_encode(bytes)}};
}

// Reads the fields of one JSON object, keeping the first error with its path
// ("findings[1].trigger.rule: expected a string").
class Fields {
 public:
  Fields(const Json& json, std::string where, std::string* error)
      : json_(json), where_(std::move(where)), error_(error) {
    if (!json_.is_object()) fail("", "expected an object, got " + std::string(json_.type_name()));
  }

  const Json* get(const char* key, bool required) {
    if (!json_.is_object()) return nullptr;
    const auto it = json_.find(key);
    if (it == json_.end() || it->is_null()) {
      if (required) fail(key, "missing");
      return nullptr;
    }
    return &*it;
  }

  void text(const char* key, std::string& out, bool required = false) {
    if (const Json* v = get(key, required)) {
      if (v->is_string()) out = v->get<std::string>();
      else fail(key, "expected a string, got " + std::string(v->type_name()));
    }
  }

  template <typename Int>
  void integer(const char* key, Int& out) {
    if (const Json* v = get(key, false)) {
      if (!v->is_number_integer()) return fail(key, "expected a whole number, got " + v->dump());
      if constexpr (std::is_unsigned_v<Int>) {
        if (v->is_number_unsigned()) out = v->get<Int>();
        else fail(key, "expected a whole number not below 0, got " + v->dump());
      } else {
        out = v->get<Int>();
      }
    }
  }

  void texts(const char* key, std::vector<std::string>& out) {
    if (const Json* v = get(key, false)) {
      if (!v->is_array()) return fail(key, "expected a list of strings");
      for (const Json& item : *v) {
        if (!item.is_string()) return fail(key, "expected a list of strings, got " + item.dump());
        out.push_back(item.get<std::string>());
      }
    }
  }

  // A string, or {"base64": "..."} (bytes_to_json).
  std::optional<std::string> bytes(const Json& v, const std::string& key) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_object() && v.size() == 1 && v.contains("base64") && v["base64"].is_string()) {
      if (auto decoded = base64_decode(v["base64"].get<std::string>())) return decoded;
      fail(key, "base64: not valid base64");
      return std::nullopt;
    }
    fail(key, "expected a string or {\"base64\": \"...\"}");
    return std::nullopt;
  }

  void fail(const std::string& key, const std::string& what) {
    if (!error_->empty()) return;
    const std::string at = path(key);
    *error_ = at.empty() ? what : at + ": " + what;
  }
  std::string path(const std::string& key) const {
    if (key.empty()) return where_;
    return where_.empty() ? key : where_ + "." + key;
  }
  bool failed() const { return !error_->empty(); }

 private:
  const Json& json_;
  std::string where_;
  std::string* error_;
};

Result<Finding> finding_at(const Json& json, const std::string& where) {
  std::string error;
  Fields f(json, where, &error);
  Finding finding;
  f.text("engine", finding.engine, true);
  f.text("oracle", finding.oracle, true);
  f.text("operation", finding.operation);
  f.text("signature", finding.signature);
  std::string severity;
  f.text("severity", severity, true);
  if (!severity.empty()) {
    if (auto parsed = parse_severity(severity)) finding.severity = *parsed;
    else f.fail("severity", parsed.error());
  }
  f.text("title", finding.title);
  f.text("evidence", finding.evidence);
  f.text("wfc", finding.wfc);
  if (const Json* trigger = f.get("trigger", true)) {
    Fields t(*trigger, f.path("trigger"), &error);
    t.text("rule", finding.trigger.rule, true);
    t.text("value", finding.trigger.value);
  }
  if (const Json* request = f.get("request", false)) {
    if (auto parsed = request_case_from_json(*request)) finding.request = *parsed;
    else f.fail("request", parsed.error());
  }
  if (const Json* raw = f.get("raw_request", true)) {
    if (auto bytes = f.bytes(*raw, "raw_request")) finding.raw_request = *bytes;
  }
  f.text("curl", finding.curl);
  f.integer("original_bytes", finding.original_bytes);
  if (const Json* setup = f.get("setup_requests", false)) {
    if (!setup->is_array()) f.fail("setup_requests", "expected a list");
    else
      for (std::size_t i = 0; i < setup->size() && !f.failed(); ++i) {
        if (auto bytes = f.bytes((*setup)[i], "setup_requests[" + std::to_string(i) + "]"))
          finding.setup_requests.push_back(*bytes);
      }
  }
  if (const Json* bindings = f.get("bindings", false)) {  // absent (older files): none
    if (!bindings->is_array()) f.fail("bindings", "expected a list");
    else
      for (std::size_t i = 0; i < bindings->size() && !f.failed(); ++i) {
        Fields b((*bindings)[i], f.path("bindings[" + std::to_string(i) + "]"), &error);
        Binding binding;
        b.integer("setup_index", binding.setup_index);
        b.text("source", binding.source, true);
        b.text("path_template", binding.path_template);
        b.text("param", binding.param);
        b.text("placeholder", binding.placeholder, true);
        if (b.failed()) break;
        if (auto checked = check_binding(binding, finding.setup_requests.size()); !checked) b.fail("", checked.error());
        else finding.bindings.push_back(std::move(binding));
      }
  }
  f.text("base_url", finding.base_url);
  f.text("phase", finding.phase);
  f.texts("active_faults", finding.active_faults);
  if (const Json* without = f.get("without_faults", false)) {
    if (without->is_boolean()) finding.without_faults = without->get<bool>();
    else f.fail("without_faults", "expected true, false or null");
  }
  f.integer("count", finding.count);
  f.integer("first_seen_ms", finding.first_seen_ms);
  std::string id;
  f.text("id", id);
  if (!f.failed() && !id.empty() && id != finding.id())
    f.fail("id", id + " does not match the finding's engine, operation, oracle and signature (their id is " +
                     finding.id() + ")");
  if (!error.empty()) return Error{error, ErrorCode::invalid_argument};
  return finding;
}

}  // namespace

Json to_json(const Finding& finding) {
  Json out = {
      {"id", finding.id()},
      {"engine", finding.engine},
      {"oracle", finding.oracle},
      {"operation", finding.operation},
      {"signature", printable(finding.signature)},
      {"severity", std::string(severity_name(finding.severity))},
      {"title", printable(finding.title)},
      {"evidence", printable(finding.evidence)},
      {"wfc", finding.wfc},
      {"trigger", {{"rule", finding.trigger.rule}, {"value", printable(finding.trigger.value)}}},
      {"request", to_json(finding.request)},
      {"raw_request", bytes_to_json(finding.raw_request)},
      {"curl", printable(finding.curl)},
      {"original_bytes", finding.original_bytes},
      {"setup_requests", Json::array()},
      {"base_url", finding.base_url},
      {"phase", finding.phase},
      {"active_faults", finding.active_faults},
      {"without_faults", finding.without_faults ? Json(*finding.without_faults) : Json(nullptr)},
      {"count", finding.count},
      {"first_seen_ms", finding.first_seen_ms},
  };
  for (const auto& setup : finding.setup_requests) out["setup_requests"].push_back(bytes_to_json(setup));
  if (!finding.bindings.empty()) {
    Json& bindings = out["bindings"] = Json::array();
    for (const Binding& b : finding.bindings) {
      Json one = {{"setup_index", b.setup_index}, {"source", b.source}};
      if (!b.path_template.empty()) one["path_template"] = b.path_template;
      if (!b.param.empty()) one["param"] = b.param;
      one["placeholder"] = b.placeholder;  // path text as sent: percent-encoded ASCII
      bindings.push_back(std::move(one));
    }
  }
  return out;
}

Result<Finding> finding_from_json(const Json& json) { return finding_at(json, ""); }

Json to_json(const FindingsFile& file) {
  Json tool = {{"name", file.tool.name}, {"version", file.tool.version}};
  if (!file.tool.information_uri.empty()) tool["information_uri"] = file.tool.information_uri;
  Json out = {{"chaosplus_findings", 1}, {"tool", tool}, {"base_url", file.base_url}};
  if (!file.openapi.empty()) out["openapi"] = file.openapi;
  out["seed"] = file.seed;
  out["started_at"] = file.started_at;
  out["findings"] = Json::array();
  for (const Finding& finding : file.findings) out["findings"].push_back(to_json(finding));
  return out;
}

Result<FindingsFile> findings_file_from_json(const Json& json) {
  std::string error;
  Fields f(json, "", &error);
  FindingsFile file;
  if (const Json* version = f.get("chaosplus_findings", true)) {
    if (*version != 1)
      f.fail("chaosplus_findings",
             "this chaosplus reads version 1 of the findings file, this one is " + version->dump());
  }
  if (const Json* tool = f.get("tool", false)) {
    Fields t(*tool, "tool", &error);
    t.text("name", file.tool.name);
    t.text("version", file.tool.version);
    t.text("information_uri", file.tool.information_uri);
  }
  f.text("base_url", file.base_url);
  f.text("openapi", file.openapi);
  f.integer("seed", file.seed);
  f.text("started_at", file.started_at);
  if (const Json* findings = f.get("findings", true)) {
    if (!findings->is_array()) f.fail("findings", "expected a list");
    else
      for (std::size_t i = 0; i < findings->size() && !f.failed(); ++i) {
        auto finding = finding_at((*findings)[i], "findings[" + std::to_string(i) + "]");
        if (!finding) f.fail("", finding.error());
        else file.findings.push_back(std::move(*finding));
      }
  }
  if (!error.empty()) return Error{error, ErrorCode::invalid_argument};
  return file;
}

Status write_file_atomically(const std::string& path, const std::string& content) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path folder = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::random_device random;
  const std::string temp = (folder / ("." + target.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
                                      std::to_string(random())))
                               .string();
  auto failed = [&](const std::string& what, int err) -> Status {
    ::unlink(temp.c_str());
    return Error{path + ": cannot write (" + what + ": " + std::strerror(err) + ")", ErrorCode::io_error};
  };
  // Owner only: a reproducer may carry the credentials it was sent with.
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Error{path + ": cannot write (" + temp + ": " + std::strerror(errno) + ")", ErrorCode::io_error};
  std::size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      ::close(fd);
      return failed("write", err);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    return failed("fsync", err);
  }
  if (::close(fd) != 0) return failed("close", errno);
  if (::rename(temp.c_str(), path.c_str()) != 0) return failed("rename", errno);
  // The rename is durable once the folder's entry is.
  if (const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return ok_status();
}

Status write_findings_file(const std::string& path, const FindingsFile& file) {
  // Every byte string went through bytes_to_json or printable; `replace` only guards fields
  // written by others (a request case's values) from turning a finding into an exception.
  return write_file_atomically(path, to_json(file).dump(2, ' ', false, Json::error_handler_t::replace) + "\n");
}

Status write_sarif_file(const std::string& path, const std::vector<Finding>& findings, const ToolInfo& tool,
                        const openapi::Document* document) {
  return write_file_atomically(
      path, to_sarif(findings, tool, document).dump(2, ' ', false, Json::error_handler_t::replace) + "\n");
}

Result<FindingsFile> read_findings_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{path + ": cannot read (" + std::strerror(errno) + ")", ErrorCode::not_found};
  std::stringstream text;
  text << in.rdbuf();
  Json json;
  try {
    json = Json::parse(text.str());
  } catch (const Json::parse_error& e) {
    return Error{path + ": not JSON (" + e.what() + ")", ErrorCode::invalid_argument};
  }
  auto file = findings_file_from_json(json);
  if (!file) return Error{path + ": " + file.error(), ErrorCode::invalid_argument};
  return file;
}

Event finding_event(const Finding& finding) {
  // The journal's JSON writer copies strings as they are: every text goes in as valid UTF-8.
  Event event = finding.engine == "security" ? Event("security.finding") : Event("fuzz.finding");
  event.with("id", finding.id())
      .with("engine", finding.engine)
      .with("oracle", finding.oracle)
      .with("operation", finding.operation)
      .with("signature", printable(finding.signature))
      .with("severity", std::string(severity_name(finding.severity)))
      .with("title", printable(finding.title))
      .with("evidence", printable(finding.evidence))
      .with("wfc", finding.wfc)
      .with("trigger", finding.trigger.rule + (finding.trigger.value.empty() ? "" : " " + finding.trigger.value))
      .with("curl", printable(finding.curl));
  // A protocol mutation can be a megabyte of headers: the stream carries its head, the findings
  // file all of it.
  std::string raw = finding.raw_request.substr(0, kEventRequestBytes);
  if (raw.size() < finding.raw_request.size()) {
    // Not in the middle of a UTF-8 sequence: drop a last sequence the cut left incomplete.
    std::size_t lead = raw.size();
    while (lead > 0 && (static_cast<unsigned char>(raw[lead - 1]) & 0xc0) == 0x80) --lead;
    if (lead > 0) {
      const auto c = static_cast<unsigned char>(raw[lead - 1]);
      const std::size_t length = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
      if (raw.size() - (lead - 1) < length) raw.resize(lead - 1);
    }
    event.with("raw_request_truncated", true);
  }
  if (valid_utf8(raw)) event.with("raw_request", raw);
  else event.with("raw_request_base64", base64_encode(raw));
  event.with("request_bytes", finding.raw_request.size())
      .with("original_bytes", finding.original_bytes)
      .with("setup_requests", finding.setup_requests.size())
      .with("base_url", finding.base_url)
      .with("phase", finding.phase)
      .with("active_faults", Json(finding.active_faults).dump(-1, ' ', false, Json::error_handler_t::replace));
  if (finding.without_faults) event.with("without_faults", *finding.without_faults);
  event.with("count", finding.count).with("first_seen_ms", finding.first_seen_ms);
  return event;
}

Event started_event(const std::string& engine, const std::string& name, const std::string& base_url,
                    std::size_t operations, std::uint64_t seed) {
  Event event = engine == "security" ? Event("security.started") : Event("fuzz.started");
  event.with("name", name)
      .with("base_url", base_url)
      .with("operations", operations)
      // The journal's numbers are int64: a seed above that range is written as text, whole.
      .with("seed", seed <= static_cast<std::uint64_t>(INT64_MAX) ? FieldValue(static_cast<std::int64_t>(seed))
                                                                  : FieldValue(std::to_string(seed)));
  return event;
}

Event summary_event(const std::string& engine, const std::string& name, std::uint64_t requests, double duration_s,
                    const std::vector<Finding>& findings) {
  Json by_severity = Json::object();
  for (const Finding& f : findings) {
    const std::string severity(severity_name(f.severity));
    by_severity[severity] = by_severity.value(severity, 0) + 1;
  }
  Event event = engine == "security" ? Event("security.summary") : Event("fuzz.summary");
  event.with("name", name)
      .with("requests", requests)
      .with("requests_per_s", duration_s > 0 ? static_cast<double>(requests) / duration_s : 0.0)
      .with("findings", findings.size())
      .with("by_severity", by_severity.dump())
      .with("duration_s", duration_s);
  return event;
}

bool any_at_or_above(const std::vector<Finding>& findings, Severity threshold) {
  return std::any_of(findings.begin(), findings.end(),
                     [threshold](const Finding& f) { return f.severity >= threshold; });
}

std::string format_findings(const std::vector<Finding>& findings) {
  if (findings.empty()) return "no findings\n";
  std::size_t oracle_width = 0, operation_width = 0;
  for (const Finding& f : findings) {
    oracle_width = std::max(oracle_width, f.oracle.size());
    operation_width = std::max(operation_width, (f.operation.empty() ? std::string("-") : f.operation).size());
  }
  std::string out;
  for (const Finding& f : findings) {
    char head[64];
    std::snprintf(head, sizeof head, "%-8s %s ", std::string(severity_name(f.severity)).c_str(), f.id().c_str());
    std::string line = head;
    line += f.oracle + std::string(oracle_width - f.oracle.size() + 2, ' ');
    const std::string operation = f.operation.empty() ? "-" : f.operation;
    line += operation + std::string(operation_width - operation.size() + 2, ' ');
    line += printable(f.title);
    if (f.count > 1) line += " (x" + std::to_string(f.count) + ")";
    if (!f.active_faults.empty()) {
      line += "  [faults:";
      for (std::size_t i = 0; i < f.active_faults.size(); ++i) line += (i == 0 ? " " : ", ") + f.active_faults[i];
      line += "]";
      if (f.without_faults) line += *f.without_faults ? " (also without faults)" : " (only with faults)";
    }
    out += line + "\n";
  }
  return out;
}

}  // namespace chaosplus::fuzz
