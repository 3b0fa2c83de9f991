#include "dns/rules.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace chaosplus::dns {
namespace {

constexpr std::array<std::pair<Answer, std::string_view>, 6> kAnswers{{{Answer::nxdomain, "nxdomain"},
                                                                       {Answer::servfail, "servfail"},
                                                                       {Answer::refused, "refused"},
                                                                       {Answer::timeout, "timeout"},
                                                                       {Answer::delay, "delay"},
                                                                       {Answer::address, "address"}}};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// Closes and unlocks on scope exit.
class LockFile {
 public:
  explicit LockFile(const std::string& path) : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    if (fd_ >= 0) {
      while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
      }
    }
  }
  ~LockFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  LockFile(const LockFile&) = delete;
  LockFile& operator=(const LockFile&) = delete;
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
};

}  // namespace

std::string_view answer_name(Answer a) {
  for (const auto& [answer, name] : kAnswers) {
    if (answer == a) return name;
  }
  return "?";
}

std::optional<Answer> answer_from_name(std::string_view name) {
  for (const auto& [answer, n] : kAnswers) {
    if (n == name) return answer;
  }
  return std::nullopt;
}

std::string name_problem(std::string_view pattern) {
  std::string_view name = pattern;
  if (name.starts_with("*.")) name.remove_prefix(2);
  if (name.empty()) return "an empty name";
  if (name.size() > 253) return "longer than 253 characters";
  if (name.ends_with('.')) return "a trailing dot (write the name without it)";
  std::size_t label = 0;
  for (const char c : name) {
    if (c == '.') {
      if (label == 0) return "an empty label";
      label = 0;
      continue;
    }
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      return std::string("the character '") + c + "' (expected letters, digits, '-', '_', and '*.' only in front)";
    }
    if (++label > 63) return "a label longer than 63 characters";
  }
  return {};
}

Result<std::vector<std::string>> parse_name_list(std::string_view list) {
  std::vector<std::string> names;
  std::stringstream in{std::string(list)};
  for (std::string item; std::getline(in, item, ',');) {
    std::string name = lower(trim(item));
    if (const std::string problem = name_problem(name); !problem.empty()) {
      return Error{"name '" + name + "' has " + problem, ErrorCode::invalid_argument};
    }
    names.push_back(std::move(name));
  }
  if (names.empty()) return Error{"no names (expected a name or '*.suffix', comma-separated)"};
  return names;
}

bool name_matches(std::string_view pattern, std::string_view name) {
  if (pattern.starts_with("*.")) {
    const std::string_view suffix = pattern.substr(1);  // ".suffix"
    return name.size() > suffix.size() && name.ends_with(suffix);
  }
  return pattern == name;
}

const Rule* match(const RuleFile& file, std::string_view name) {
  for (const Rule& r : file.rules) {
    for (const std::string& p : r.names) {
      if (name_matches(p, name)) return &r;
    }
  }
  return nullptr;
}

std::string to_json(const RuleFile& file) {
  nlohmann::json rules = nlohmann::json::array();
  for (const Rule& r : file.rules) {
    rules.push_back({{"id", r.id},
                     {"names", r.names},
                     {"answer", answer_name(r.answer)},
                     {"delay_ms", r.delay_ms},
                     {"address", r.address},
                     {"share", r.share}});
  }
  return nlohmann::json{{"resolve", file.resolve}, {"rules", rules}}.dump(2) + "\n";
}

Result<RuleFile> from_json(std::string_view text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error{"not a JSON object"};
  RuleFile file;
  try {
    if (j.contains("resolve")) file.resolve = j.at("resolve").get<std::map<std::string, std::string>>();
    for (const auto& r : j.value("rules", nlohmann::json::array())) {
      Rule rule;
      rule.id = r.at("id").get<std::string>();
      rule.names = r.at("names").get<std::vector<std::string>>();
      const auto answer = answer_from_name(r.at("answer").get<std::string>());
      if (!answer) return Error{"rule " + rule.id + ": unknown answer"};
      rule.answer = *answer;
      rule.delay_ms = r.value("delay_ms", std::int64_t{0});
      rule.address = r.value("address", std::string());
      rule.share = r.value("share", 1.0);
      file.rules.push_back(std::move(rule));
    }
  } catch (const nlohmann::json::exception& e) {
    return Error{std::string("unexpected shape: ") + e.what()};
  }
  return file;
}

Result<RuleFile> read_rules(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{"cannot read " + path + ": " + std::strerror(errno), ErrorCode::not_found};
  std::stringstream text;
  text << in.rdbuf();
  auto file = from_json(text.str());
  if (!file) return Error{path + ": " + file.error()};
  return file;
}

Status write_rules(const std::string& path, const RuleFile& file) {
  const std::string temp = path + ".tmp";
  const std::string text = to_json(file);
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Error{"cannot write " + temp + ": " + std::strerror(errno), ErrorCode::io_error};
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = errno;
      ::close(fd);
      ::unlink(temp.c_str());
      return Error{"cannot write " + temp + ": " + std::strerror(error), ErrorCode::io_error};
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    return Error{"cannot rename " + temp + " to " + path + ": " + std::strerror(error), ErrorCode::io_error};
  }
  return ok_status();
}

Status edit_rules(const std::string& path, const std::function<void(RuleFile&)>& edit, bool create) {
  LockFile lock(path + ".lock");
  if (!lock.ok()) return Error{"cannot lock " + path + ".lock: " + std::strerror(errno), ErrorCode::io_error};
  RuleFile file;
  if (auto read = read_rules(path)) {
    file = std::move(read).value();
  } else if (!create || ::access(path.c_str(), F_OK) == 0) {
    return Error{read.failure()};
  }
  edit(file);
  return write_rules(path, file);
}

}  // namespace chaosplus::dns
