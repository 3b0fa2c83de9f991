#pragma once
// A strict reader of the Prometheus text exposition format 0.0.4, for tests of /metrics pages: it
// refuses what Prometheus would refuse (a sample of a family without TYPE, a family declared twice,
// broken label syntax or escapes, a value that is not a number), so "parses" means "scrapes".
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace chaosplus::testing {

struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct PromPage {
  std::vector<PromSample> samples;
  std::map<std::string, std::string> types;  // family -> counter, gauge, ...
  std::string error;                         // "line N: why"; empty when the page is good
  bool ok() const { return error.empty(); }
  // The value of the sample with this name and (at least) these labels; nullopt when none.
  std::optional<double> value(const std::string& name, const std::map<std::string, std::string>& labels = {}) const;
};

PromPage parse_prometheus(const std::string& text);

}  // namespace chaosplus::testing
