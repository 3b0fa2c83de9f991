#include "fuzz/crash_guard.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

namespace chaosplus::fuzz {
namespace {

constexpr std::size_t kMaxSignatures = 64;  // bounded: each one costs a look per generated request
constexpr std::size_t kLong = 256;

// Numbers are classed by sign alone, whatever their type: an input that kills a target with -1
// usually does with -1.5, "-1" and -9223372036854775809 too.
std::string sign_class(double v) {
  if (std::isnan(v)) return "nan";
  return std::signbit(v) ? "<0" : v == 0 ? "=0" : ">0";  // -0 reads as negative to a sign check
}

// Text that reads as a number is classed as one: path and query values travel as text.
std::string string_class(const std::string& s) {
  if (s.empty()) return "str:empty";
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() + s.size() && !std::isspace(static_cast<unsigned char>(s.front()))) return sign_class(v);
  if (std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
    return "str:ctrl";
  if (s.front() == '-') return "str:-";  // what a parser reading a number sees first
  if (std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) return "str:utf8";
  return s.size() > kLong ? "str:long" : "str";
}

}  // namespace

std::string CrashGuard::value_class(const Json& value) {
  if (value.is_number()) return sign_class(value.get<double>());
  if (value.is_string()) return string_class(value.get<std::string>());
  if (value.is_boolean()) return "bool";
  if (value.is_null()) return "null";
  if (value.is_array()) return value.empty() ? "array:empty" : "array";
  return value.empty() ? "object:empty" : "object";
}

CrashGuard::Signature CrashGuard::signature_of(const RequestCase& request) {
  Signature s;
  s.operation = request.operation_id;
  for (const auto& [name, value] : request.path_params) s.params.emplace_back("path:" + name, value_class(value));
  for (const auto& [name, value] : request.query) s.params.emplace_back("query:" + name, value_class(value));
  // The body's top-level fields too: a crash on a body value must not guard the whole operation.
  if (request.raw_body) s.params.emplace_back("body", "raw");
  else if (request.body && request.body->is_object()) {
    for (const auto& [name, value] : request.body->items()) s.params.emplace_back("body:" + name, value_class(value));
  } else if (request.body) s.params.emplace_back("body", value_class(*request.body));
  std::sort(s.params.begin(), s.params.end());
  s.params.erase(std::unique(s.params.begin(), s.params.end()), s.params.end());
  return s;
}

// Every parameter class of the signature is in the request (the request may have more).
bool CrashGuard::covers(const Signature& signature, const Signature& request) {
  if (signature.operation != request.operation) return false;
  return std::includes(request.params.begin(), request.params.end(), signature.params.begin(), signature.params.end());
}

void CrashGuard::add(Signature signature) {
  if (signatures_.size() >= kMaxSignatures) return;
  for (const Signature& s : signatures_) {
    if (covers(s, signature)) return;  // already guarded by something as general
  }
  // A more general signature replaces the ones it covers.
  std::erase_if(signatures_, [&](const Signature& s) { return covers(signature, s); });
  signatures_.push_back(std::move(signature));
}

void CrashGuard::confirm(const RequestCase& culprit) {
  if (culprit.raw || culprit.operation_id.empty()) return;  // raw framing: no structure to class
  Signature s = signature_of(culprit);
  // What this culprit shares with an earlier one of the same operation is what mattered.
  std::vector<Signature> shared;
  for (const Signature& earlier : signatures_) {
    if (earlier.operation != s.operation) continue;
    Signature common;
    common.operation = s.operation;
    std::set_intersection(earlier.params.begin(), earlier.params.end(), s.params.begin(), s.params.end(),
                          std::back_inserter(common.params));
    if (!common.params.empty()) shared.push_back(std::move(common));
  }
  // A culprit without parameters would guard the whole operation: down-weighting covers that case.
  if (!s.params.empty()) add(std::move(s));
  for (Signature& c : shared) add(std::move(c));
}

bool CrashGuard::matches(const RequestCase& request) const {
  if (signatures_.empty() || request.raw || request.operation_id.empty()) return false;
  const Signature s = signature_of(request);
  return std::any_of(signatures_.begin(), signatures_.end(), [&](const Signature& g) { return covers(g, s); });
}

}  // namespace chaosplus::fuzz
