#include "bugs.h"

#include <unistd.h>

namespace chaosplus::demo {

const std::vector<std::string>& Bugs::names() {
  static const std::vector<std::string> names = {
      "boundary-500",  "stack-leak",     "schema-drift",       "use-after-delete", "bola",
      "sql-injection", "path-traversal", "template-injection", "reflected-xss",    "cors",
      "crash",         "hang",           "memory-leak",        "accept-invalid",   "fail-open"};
  return names;
}

Result<Bugs> Bugs::parse(const std::vector<std::string>& values) {
  Bugs bugs;
  for (const auto& value : values) {
    std::size_t start = 0;
    while (start <= value.size()) {
      const std::size_t comma = std::min(value.find(',', start), value.size());
      const std::string name = value.substr(start, comma - start);
      start = comma + 1;
      if (name.empty() || name == "none") continue;  // "none": an explicit empty set (e.g. from a variable)
      if (name == "all") {
        bugs.set_.set();
        continue;
      }
      bool known = false;
      for (std::size_t i = 0; i < names().size(); ++i) {
        if (names()[i] == name) {
          bugs.set_.set(i);
          known = true;
        }
      }
      if (!known) {
        std::string list;
        for (const auto& n : names()) list += (list.empty() ? "" : ", ") + n;
        return Error{"unknown bug '" + name + "' (known: " + list + ", or all, or none)", ErrorCode::invalid_argument};
      }
    }
  }
  return bugs;
}

bool Bugs::trigger(Bug bug) const {
  if (!on(bug)) return false;
  report_hit(bug);
  return true;
}

std::string Bugs::describe() const {
  std::string out;
  for (std::size_t i = 0; i < names().size(); ++i) {
    if (set_.test(i)) out += (out.empty() ? "" : ",") + names()[i];
  }
  return out.empty() ? "none" : out;
}

void report_hit(Bug bug) {
  const std::string line = "bug-hit: " + Bugs::names()[static_cast<std::size_t>(bug)] + "\n";
  // One write(2) of a short line is atomic on a pipe or file; nothing to do if stderr is gone.
  [[maybe_unused]] auto written = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace chaosplus::demo
