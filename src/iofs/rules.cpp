#include "iofs/rules.h"

#include <fnmatch.h>

#include <array>
#include <cerrno>
#include <nlohmann/json.hpp>

namespace chaosplus::iofs {
namespace {

constexpr std::array<std::string_view, 12> kOpNames{"open",   "read",   "write", "fsync",   "flush",   "truncate",
                                                    "unlink", "rename", "mkdir", "getattr", "readdir", "statfs"};

struct NamedErrno {
  std::string_view name;
  int value;
};
constexpr std::array<NamedErrno, 10> kErrnos{{{"EIO", EIO},
                                              {"ENOSPC", ENOSPC},
                                              {"EACCES", EACCES},
                                              {"EPERM", EPERM},
                                              {"EROFS", EROFS},
                                              {"EDQUOT", EDQUOT},
                                              {"EFBIG", EFBIG},
                                              {"ENOENT", ENOENT},
                                              {"EAGAIN", EAGAIN},
                                              {"EINTR", EINTR}}};
constexpr std::array<std::string_view, 10> kErrnoNames{"EIO",    "ENOSPC", "EACCES", "EPERM",  "EROFS",
                                                       "EDQUOT", "EFBIG",  "ENOENT", "EAGAIN", "EINTR"};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::span<const std::string_view> op_names() { return kOpNames; }

std::optional<Op> op_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kOpNames.size(); ++i) {
    if (kOpNames[i] == name) return static_cast<Op>(1u << i);
  }
  return std::nullopt;
}

std::span<const std::string_view> errno_names() { return kErrnoNames; }

std::optional<int> errno_from_name(std::string_view name) {
  for (const auto& e : kErrnos) {
    if (e.name == name) return e.value;
  }
  return std::nullopt;
}

bool Rule::covers(std::string_view relative) const {
  if (files.empty()) return true;
  if (relative.empty()) return false;
  const std::string subject(files.find('/') == std::string::npos && relative.rfind('/') != std::string_view::npos
                                ? relative.substr(relative.rfind('/') + 1)
                                : relative);
  return ::fnmatch(files.c_str(), subject.c_str(), 0) == 0;
}

Result<std::uint32_t> parse_ops(std::string_view list) {
  std::uint32_t ops = 0;
  while (true) {
    const auto comma = list.find(',');
    const std::string_view item = trim(list.substr(0, comma));
    auto op = op_from_name(item);
    if (!op) {
      std::string known;
      for (auto n : kOpNames) known += (known.empty() ? "" : ", ") + std::string(n);
      return Error{"found '" + std::string(item) + "', expected operations among " + known};
    }
    ops |= static_cast<std::uint32_t>(*op);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return ops;
}

std::string to_json(const Rule& rule) {
  return nlohmann::json{{"errno", rule.error},
                        {"delay_us", std::chrono::duration_cast<std::chrono::microseconds>(rule.delay).count()},
                        {"ops", rule.ops},
                        {"share", rule.share},
                        {"files", rule.files}}
      .dump();
}

Result<Rule> rule_from_json(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error{"not a JSON object"};
  try {
    Rule rule;
    rule.error = j.at("errno").get<int>();
    rule.delay = std::chrono::microseconds(j.at("delay_us").get<std::int64_t>());
    rule.ops = j.at("ops").get<std::uint32_t>();
    rule.share = j.at("share").get<double>();
    rule.files = j.at("files").get<std::string>();
    if (rule.error < 0 || rule.delay.count() < 0 || rule.share < 0 || rule.share > 1)
      return Error{"values out of range"};
    return rule;
  } catch (const nlohmann::json::exception& e) {
    return Error{e.what()};
  }
}

}  // namespace chaosplus::iofs
