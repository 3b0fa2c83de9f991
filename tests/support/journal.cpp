#include "support/journal.h"

#include "support/support.h"

namespace chaosplus::testing {

std::vector<nlohmann::json> journal_events(const std::string& path, const std::string& type) {
  std::vector<nlohmann::json> out;
  for (const auto& line : read_lines(path)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.value("type", "") == type) out.push_back(j);
  }
  return out;
}

}  // namespace chaosplus::testing
