#pragma once
// What the fuzz engine remembers of the requests that killed the target: a confirmed crash is
// reported once, and sending the same class of input again would only buy another restart wait
// while the rest of the API goes unsearched (cf. crash buckets in AFL, libFuzzer, RESTler).
//
// A signature is an operation and the value class of each path and query parameter and top-level
// body field of the request that killed the target (negative number, zero, empty string, control characters...).
// When a second culprit of the same operation is confirmed, what the two share becomes a signature
// too, so the guard generalizes to the parameter that mattered after a crash or two.
#include <string>
#include <utility>
#include <vector>

#include "fuzz/request_case.h"

namespace chaosplus::fuzz {

class CrashGuard {
 public:
  // A request that killed the target on its own (confirmed by a replay).
  void confirm(const RequestCase& culprit);
  // Whether sending `request` would repeat a confirmed crash class.
  bool matches(const RequestCase& request) const;
  std::size_t size() const { return signatures_.size(); }

  // The class of one parameter value: "<0", "=0", ">0" (numbers and numeric text),
  // "str:empty", "str:ctrl", "str:-", "str", ...
  static std::string value_class(const Json& value);

 private:
  struct Signature {
    std::string operation;
    std::vector<std::pair<std::string, std::string>> params;  // "path:id" -> class, sorted
  };
  static Signature signature_of(const RequestCase& request);
  static bool covers(const Signature& signature, const Signature& request);
  void add(Signature signature);

  std::vector<Signature> signatures_;
};

}  // namespace chaosplus::fuzz
