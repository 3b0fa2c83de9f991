#include "runner/redaction.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <vector>

namespace chaosplus::runner {
namespace {

// Deeper than any record we write; a deeper one is not walked (nor printed).
constexpr int kMaxDepth = 32;

// Replaces secret values in place and collects them; false when `j` is nested deeper than kMaxDepth.
bool redact(nlohmann::json& j, std::vector<std::string>& secrets, int depth) {
  if (depth > kMaxDepth) return false;
  if (j.is_object()) {
    for (auto& [key, value] : j.items()) {
      if (is_secret_key(key)) {
        if (value.is_string()) secrets.push_back(value.get<std::string>());
        else if (!value.is_null()) secrets.push_back(value.dump());
        value = std::string(kRedacted);
      } else if (!redact(value, secrets, depth + 1)) {
        return false;
      }
    }
  } else if (j.is_array()) {
    for (auto& value : j) {
      if (!redact(value, secrets, depth + 1)) return false;
    }
  }
  return true;
}

struct Redacted {
  std::string text;  // the record as it may be shown
  std::vector<std::string> secrets;
  bool readable = false;
};

Redacted redacted(std::string_view record) {
  Redacted out;
  nlohmann::json j = nlohmann::json::parse(record, nullptr, false);
  if (j.is_discarded() || !redact(j, out.secrets, 0)) {
    out.text = "(unreadable record of " + std::to_string(record.size()) + " bytes, not shown)";
    return out;
  }
  out.readable = true;
  out.text = j.dump();
  return out;
}

void replace_all(std::string& text, std::string_view what, std::string_view with) {
  if (what.empty()) return;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + with.size())) {
    text.replace(at, what.size(), with);
  }
}

}  // namespace

bool is_secret_key(std::string_view key) {
  std::string lower(key);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (std::string_view word : {"token", "password", "secret", "credential", "authorization", "api_key", "apikey"}) {
    if (lower.find(word) != std::string::npos) return true;
  }
  return false;
}

std::string redact_record(std::string_view record) { return redacted(record).text; }

std::string redact_secrets(std::string_view text, std::string_view record) {
  std::string out(text);
  Redacted r = redacted(record);
  if (!r.readable) {
    replace_all(out, record, r.text);
    return out;
  }
  // Longest first, so a secret that contains another is replaced whole.
  std::sort(r.secrets.begin(), r.secrets.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  for (const std::string& secret : r.secrets) replace_all(out, secret, kRedacted);
  return out;
}

}  // namespace chaosplus::runner
