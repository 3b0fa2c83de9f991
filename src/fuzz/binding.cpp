#include "fuzz/binding.h"

#include <algorithm>
#include <optional>

#include "fuzz/encoding.h"

namespace chaosplus::fuzz {
namespace {

Error bad(const std::string& what) { return Error{what, ErrorCode::invalid_argument}; }

}  // namespace

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    const std::size_t end = std::min(path.find('/', i), path.size());
    out.push_back(path.substr(i, end - i));
    i = end;
  }
  return out;
}

bool is_param_segment(std::string_view s) { return s.size() >= 2 && s.front() == '{' && s.back() == '}'; }

// The path of a Location value: "http://h:1/api/orders/4?x" -> "/api/orders/4".
std::string_view location_path(std::string_view location) {
  if (const auto scheme = location.find("://"); scheme != std::string_view::npos) {
    const auto slash = location.find('/', scheme + 3);
    location = slash == std::string_view::npos ? std::string_view("/") : location.substr(slash);
  }
  return location.substr(0, std::min(location.find_first_of("?#"), location.size()));
}

Status check_binding(const Binding& binding, std::size_t setup_count) {
  if (binding.setup_index >= setup_count)
    return bad("setup_index " + std::to_string(binding.setup_index) + ": there are " + std::to_string(setup_count) +
               " setup request(s)");
  if (binding.placeholder.empty()) return bad("placeholder: expected the value as it appears in the requests");
  if (binding.source == "header:Location") {
    const auto parts = segments(binding.path_template);
    const std::string wanted = "{" + binding.param + "}";
    if (binding.param.empty() || std::find(parts.begin(), parts.end(), wanted) == parts.end())
      return bad("source header:Location: expected a path_template holding {" + binding.param + "} (param)");
    return ok_status();
  }
  if (binding.source.starts_with("body:")) {
    const std::string pointer = binding.source.substr(5);
    try {
      (void)Json::json_pointer(pointer);
    } catch (const Json::exception&) {
      return bad("source '" + binding.source + "': expected a JSON pointer after body: (body:/id)");
    }
    return ok_status();
  }
  return bad("source '" + binding.source + "': expected header:Location or body:<JSON pointer>");
}

Result<std::string> read_binding(const Binding& binding, const Reply& reply) {
  if (reply.outcome != Outcome::response)
    return bad("got no response (" + std::string(outcome_name(reply.outcome)) + ")");
  if (binding.source == "header:Location") {
    if (!reply.response.has_header("Location"))
      return bad("gave no Location (status " + std::to_string(reply.response.status) + ")");
    const std::string_view location = reply.response.header("Location");
    const auto want = segments(binding.path_template);
    const auto have = segments(location_path(location));
    // The tail: the target may serve the document's paths under a base path.
    if (have.size() < want.size())
      return bad("gave Location " + std::string(location) + ", not " + binding.path_template);
    const std::size_t skip = have.size() - want.size();
    std::optional<std::string> value;
    for (std::size_t i = 0; i < want.size(); ++i) {
      if (is_param_segment(want[i])) {
        if (want[i].substr(1, want[i].size() - 2) == binding.param) value = std::string(have[skip + i]);
      } else if (want[i] != have[skip + i]) {
        return bad("gave Location " + std::string(location) + ", not " + binding.path_template);
      }
    }
    if (!value || value->empty())
      return bad("gave Location " + std::string(location) + " without {" + binding.param + "}");
    return *value;
  }
  if (binding.source.starts_with("body:")) {
    const Json body = Json::parse(reply.response.body, nullptr, false);
    if (body.is_discarded()) return bad("gave no JSON body (status " + std::to_string(reply.response.status) + ")");
    try {
      const Json::json_pointer pointer(binding.source.substr(5));
      if (!body.contains(pointer)) return bad("gave a body without " + binding.source.substr(5));
      const Json& value = body.at(pointer);
      if (value.is_object() || value.is_array() || value.is_null())
        return bad("gave " + value.dump() + " at " + binding.source.substr(5) + ", not a value");
      return percent_encode(scalar_text(value), PercentMode::path_segment);
    } catch (const Json::exception& e) {
      return bad(binding.source + ": " + e.what());
    }
  }
  return bad("source '" + binding.source + "' is not known");
}

std::size_t substitute_path(std::string& bytes, std::string_view placeholder, std::string_view value) {
  if (placeholder.empty()) return 0;
  // "PUT /users/me/orders/3?x=1 HTTP/1.1": the target is between the first two spaces.
  const std::size_t line_end = std::min(bytes.find("\r\n"), bytes.find('\n'));
  const std::size_t start = bytes.find(' ');
  if (start == std::string::npos || start >= line_end) return 0;
  const std::size_t target_end = std::min(bytes.find(' ', start + 1), line_end);
  const std::size_t path_end = std::min(bytes.find_first_of("?#", start + 1), target_end);
  std::string path = bytes.substr(start + 1, path_end - start - 1);
  std::string out;
  std::size_t replaced = 0;
  std::size_t i = 0;
  while (i <= path.size()) {
    const std::size_t end = std::min(path.find('/', i), path.size());
    const std::string_view segment = std::string_view(path).substr(i, end - i);
    if (segment == placeholder) {
      out += value;
      ++replaced;
    } else {
      out += segment;
    }
    if (end == path.size()) break;
    out += '/';
    i = end + 1;
  }
  if (replaced > 0) bytes.replace(start + 1, path_end - start - 1, out);
  return replaced;
}

Status apply_bindings(const std::vector<Binding>& bindings, std::size_t index, const Reply& reply,
                      std::vector<std::string>& setup, std::string& request) {
  for (const Binding& binding : bindings) {
    if (binding.setup_index != index) continue;
    auto value = read_binding(binding, reply);
    if (!value) return bad("setup request " + std::to_string(index + 1) + " " + value.error());
    for (std::size_t s = index + 1; s < setup.size(); ++s) substitute_path(setup[s], binding.placeholder, *value);
    substitute_path(request, binding.placeholder, *value);
  }
  return ok_status();
}

}  // namespace chaosplus::fuzz
