#include "spec/interpolate.h"

#include <cctype>
#include <cstdlib>

namespace chaosplus::spec {
namespace {

bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

}  // namespace

EnvLookup process_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

EnvLookup with_overrides(std::map<std::string, std::string> values, EnvLookup fallback) {
  return [values = std::move(values),
          fallback = std::move(fallback)](std::string_view name) -> std::optional<std::string> {
    if (auto it = values.find(std::string(name)); it != values.end()) return it->second;
    return fallback ? fallback(name) : std::nullopt;
  };
}

Result<std::pair<std::string, std::string>> parse_variable_assignment(std::string_view text) {
  const std::size_t equals = text.find('=');
  const std::string_view name = text.substr(0, equals);
  bool valid_name = equals != std::string_view::npos && !name.empty() && is_name_start(name.front());
  for (char c : name) valid_name = valid_name && is_name_char(c);
  if (!valid_name) {
    return Error{"--var '" + std::string(text) +
                 "': expected KEY=VALUE with KEY made of letters, digits and _ (not starting with a digit)"};
  }
  return std::pair{std::string(name), std::string(text.substr(equals + 1))};
}

Interpolation interpolate(std::string_view input, const EnvLookup& lookup) {
  Interpolation out;
  std::size_t i = 0;
  while (i < input.size()) {
    if (input.compare(i, 3, "$${") == 0) {  // escaped: a literal "${"
      out.text += "${";
      i += 3;
      continue;
    }
    if (input.compare(i, 2, "${") != 0) {
      out.text += input[i++];
      continue;
    }
    const std::size_t start = i;
    const std::size_t close = input.find('}', i + 2);
    if (close == std::string_view::npos) {
      out.errors.push_back({start, "unterminated '${' in '" + std::string(input) +
                                       "', expected ${NAME} or ${NAME:-default} (write $${ for a literal ${)"});
      break;
    }
    const std::string_view inner = input.substr(i + 2, close - i - 2);
    const std::size_t sep = inner.find(":-");
    const std::string_view name = inner.substr(0, sep);
    bool valid_name = !name.empty() && is_name_start(name.front());
    for (char c : name) valid_name = valid_name && is_name_char(c);
    i = close + 1;
    if (!valid_name) {
      out.errors.push_back({start, "'${" + std::string(inner) +
                                       "}' is not a variable reference, expected ${NAME} or ${NAME:-default} with NAME "
                                       "made of letters, digits and _"});
      continue;
    }
    std::optional<std::string> value = lookup ? lookup(name) : std::nullopt;
    if (sep != std::string_view::npos) {
      if (!value || value->empty()) value = std::string(inner.substr(sep + 2));
    } else if (!value) {
      out.errors.push_back({start, "environment variable '" + std::string(name) +
                                       "' is not set, expected it to be defined (in the environment or with --var " +
                                       std::string(name) + "=..., or give a default: ${" + std::string(name) +
                                       ":-value})"});
      continue;
    }
    out.text += *value;
  }
  return out;
}

}  // namespace chaosplus::spec
