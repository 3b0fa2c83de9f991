#pragma once
// What the run's resolver answers, kept in one JSON file of the run's (the rules file) that the
// resolver reads again whenever it changes: the `resolve:` table of the run's started targets
// (names to loopback addresses) and the rules of the dns faults that are on. The runner writes the
// file when it starts the resolver; each dns fault adds its rule on inject and takes it out on
// revert (and undo), under a lock, by writing a new file and renaming it over the old one, so the
// resolver never reads half a file.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace chaosplus::dns {

enum class Answer { nxdomain, servfail, refused, timeout, delay, address };
std::string_view answer_name(Answer a);
std::optional<Answer> answer_from_name(std::string_view name);

struct Rule {
  std::string id;                  // the fault's: what revert removes
  std::vector<std::string> names;  // exact names, or "*.suffix" for every name below suffix
  Answer answer = Answer::nxdomain;
  std::int64_t delay_ms = 0;  // how long before the answer (for `delay`: the answer is the usual one)
  std::string address;        // for `address`: a loopback address, IPv4 or IPv6
  double share = 1.0;         // of the matching queries this rule answers
};

struct RuleFile {
  std::map<std::string, std::string> resolve;  // lower-case name -> loopback address
  std::vector<Rule> rules;                     // the first matching one answers
};

// A name or "*.suffix" pattern: labels of letters, digits, '-' and '_', 1-63 characters each, 253
// in all, no trailing dot; "" when fine, else what is wrong.
std::string name_problem(std::string_view pattern);
// "a.test, *.b.test" -> {"a.test", "*.b.test"} (lower case); an error names the bad entry.
Result<std::vector<std::string>> parse_name_list(std::string_view list);
// Exact (case-insensitive, `name` already lower case), or "*.s" for any name ending in ".s".
bool name_matches(std::string_view pattern, std::string_view name);
// The first rule with a pattern matching `name`.
const Rule* match(const RuleFile& file, std::string_view name);

std::string to_json(const RuleFile& file);
Result<RuleFile> from_json(std::string_view text);
// Reads the file; an error when it is missing or unreadable.
Result<RuleFile> read_rules(const std::string& path);
// Writes `file` to `path` through a temporary file and rename(2) (owner-only).
Status write_rules(const std::string& path, const RuleFile& file);
// Changes the file under an exclusive lock (`path`.lock): read, `edit`, write. A missing file is an
// error unless `create` (then edit starts from an empty one).
Status edit_rules(const std::string& path, const std::function<void(RuleFile&)>& edit, bool create = false);

}  // namespace chaosplus::dns
