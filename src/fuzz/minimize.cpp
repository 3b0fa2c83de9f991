#include "fuzz/minimize.h"

#include <string>
#include <utility>
#include <vector>

namespace chaosplus::fuzz {
namespace {

// Sizes are compared as rendered against one fixed base: only differences between candidates matter.
const net::Url& size_base() {
  static const net::Url base = *net::Url::parse("http://127.0.0.1:1/");
  return base;
}

std::size_t rendered_size(const RequestCase& c) { return render(c, size_base()).size(); }

// Smaller versions of a JSON value, most aggressive first: members and elements dropped, strings
// emptied and halved, numbers toward 0, true to false; one level of nested shrinking per member.
std::vector<Json> smaller(const Json& value, int depth) {
  std::vector<Json> out;
  if (value.is_object()) {
    for (auto it = value.begin(); it != value.end(); ++it) {
      Json copy = value;
      copy.erase(it.key());
      out.push_back(std::move(copy));
    }
    if (depth < 4 && value.size() <= 32) {
      for (auto it = value.begin(); it != value.end(); ++it) {
        for (Json& child : smaller(it.value(), depth + 1)) {
          Json copy = value;
          copy[it.key()] = std::move(child);
          out.push_back(std::move(copy));
        }
      }
    }
  } else if (value.is_array()) {
    const std::size_t n = value.size();
    if (n > 1) {
      out.emplace_back(Json(value.begin(), value.begin() + static_cast<std::ptrdiff_t>(n / 2)));
      out.emplace_back(Json(value.begin() + static_cast<std::ptrdiff_t>(n / 2), value.end()));
    }
    if (n <= 16) {
      for (std::size_t i = 0; i < n; ++i) {
        Json copy = value;
        copy.erase(copy.begin() + static_cast<std::ptrdiff_t>(i));
        out.push_back(std::move(copy));
      }
    }
    if (depth < 4 && n <= 16) {
      for (std::size_t i = 0; i < n; ++i) {
        for (Json& child : smaller(value[i], depth + 1)) {
          Json copy = value;
          copy[i] = std::move(child);
          out.push_back(std::move(copy));
        }
      }
    }
  } else if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    if (!s.empty()) {
      out.emplace_back("");
      if (s.size() > 1) out.emplace_back(s.substr(0, s.size() / 2));
      if (s.size() > 1) out.emplace_back(s.substr(s.size() / 2));
      if (s.size() > 2) out.emplace_back(s.substr(0, s.size() - 1));
    }
  } else if (value.is_number_integer()) {
    const std::int64_t n = value.get<std::int64_t>();
    if (n != 0) out.emplace_back(0);
    if (n / 2 != 0 && n / 2 != n) out.emplace_back(n / 2);
    if (n < -1 || n > 1) out.emplace_back(n > 0 ? 1 : -1);
  } else if (value.is_number_unsigned()) {
    const std::uint64_t n = value.get<std::uint64_t>();
    if (n != 0) out.emplace_back(0);
    if (n / 2 != 0) out.emplace_back(n / 2);
  } else if (value.is_number_float()) {
    const double d = value.get<double>();
    if (d != 0) out.emplace_back(0);
    if (d != static_cast<double>(static_cast<std::int64_t>(d)) && d > -9e18 && d < 9e18)
      out.emplace_back(static_cast<std::int64_t>(d));
  } else if (value.is_boolean() && value.get<bool>()) {
    out.emplace_back(false);
  }
  return out;
}

// Byte strings with chunks removed, ddmin style: halves, quarters... down to single bytes (bounded).
std::vector<std::string> smaller_bytes(const std::string& bytes) {
  std::vector<std::string> out;
  const std::size_t n = bytes.size();
  if (n == 0) return out;
  out.emplace_back();
  for (std::size_t parts = 2; parts <= 64 && parts <= n; parts *= 2) {
    const std::size_t chunk = (n + parts - 1) / parts;
    for (std::size_t at = 0; at < n; at += chunk) {
      out.push_back(bytes.substr(0, at) + bytes.substr(std::min(n, at + chunk)));
    }
  }
  return out;
}

// A raw request: header lines dropped one at a time (the request line kept), then the body shrunk.
std::vector<std::string> smaller_raw(const std::string& raw) {
  std::vector<std::string> out;
  std::size_t head_end = raw.find("\r\n\r\n");
  std::size_t eol_size = 2;
  if (head_end == std::string::npos) {
    head_end = raw.find("\n\n");
    eol_size = 1;
  }
  if (head_end == std::string::npos) return smaller_bytes(raw);
  const std::string eol = eol_size == 2 ? "\r\n" : "\n";
  const std::string head = raw.substr(0, head_end);
  const std::string body = raw.substr(head_end + 2 * eol_size);
  std::vector<std::string> lines;
  for (std::size_t start = 0; start <= head.size();) {
    std::size_t end = head.find(eol, start);
    if (end == std::string::npos) end = head.size();
    lines.push_back(head.substr(start, end - start));
    start = end + eol_size;
  }
  auto join = [&](const std::vector<std::string>& ls, const std::string& b) {
    std::string s;
    for (const std::string& l : ls) s += l + eol;
    return s + eol + b;
  };
  for (std::size_t i = lines.size(); i-- > 1;) {
    std::vector<std::string> fewer = lines;
    fewer.erase(fewer.begin() + static_cast<std::ptrdiff_t>(i));
    out.push_back(join(fewer, body));
  }
  for (std::string& b : smaller_bytes(body)) out.push_back(join(lines, b));
  return out;
}

// Every one-step-smaller variant of a case, in the order they are tried.
std::vector<RequestCase> candidates(const RequestCase& c) {
  std::vector<RequestCase> out;
  if (c.raw) {
    for (std::string& r : smaller_raw(*c.raw)) {
      RequestCase next = c;
      next.raw = std::move(r);
      out.push_back(std::move(next));
    }
    return out;
  }
  for (std::size_t i = c.query.size(); i-- > 0;) {
    RequestCase next = c;
    next.query.erase(next.query.begin() + static_cast<std::ptrdiff_t>(i));
    out.push_back(std::move(next));
  }
  for (std::size_t i = c.headers.size(); i-- > 0;) {
    RequestCase next = c;
    next.headers.erase(next.headers.begin() + static_cast<std::ptrdiff_t>(i));
    out.push_back(std::move(next));
  }
  for (const auto& [name, value] : c.cookies) {
    RequestCase next = c;
    next.cookies.erase(name);
    out.push_back(std::move(next));
  }
  if (c.raw_body) {
    for (std::string& b : smaller_bytes(*c.raw_body)) {
      RequestCase next = c;
      next.raw_body = std::move(b);
      out.push_back(std::move(next));
    }
  } else if (c.body) {
    for (Json& b : smaller(*c.body, 0)) {
      RequestCase next = c;
      next.body = std::move(b);
      out.push_back(std::move(next));
    }
  }
  for (std::size_t i = 0; i < c.query.size(); ++i) {
    for (Json& v : smaller(c.query[i].second, 2)) {
      RequestCase next = c;
      next.query[i].second = std::move(v);
      out.push_back(std::move(next));
    }
  }
  for (const auto& [name, value] : c.path_params) {
    for (Json& v : smaller(value, 2)) {
      if (v.is_string() && v.get_ref<const std::string&>().empty()) continue;  // the route must still match
      RequestCase next = c;
      next.path_params[name] = std::move(v);
      out.push_back(std::move(next));
    }
  }
  for (std::size_t i = 0; i < c.headers.size(); ++i) {
    const std::string& v = c.headers[i].second;
    if (v.size() < 2) continue;
    RequestCase next = c;
    next.headers[i].second = v.substr(0, v.size() / 2);
    out.push_back(std::move(next));
  }
  return out;
}

}  // namespace

MinimizeResult minimize_case(RequestCase original, const std::function<bool(const RequestCase&)>& still_triggers,
                             int max_attempts) {
  MinimizeResult result{original, 0};
  std::size_t best_size = rendered_size(original);
  bool progress = true;
  while (progress && result.attempts < max_attempts) {
    progress = false;
    for (RequestCase& candidate : candidates(result.minimized)) {
      if (result.attempts >= max_attempts) break;
      const std::size_t size = rendered_size(candidate);
      if (size >= best_size) continue;  // only strictly smaller candidates cost a request
      ++result.attempts;
      if (still_triggers(candidate)) {
        result.minimized = std::move(candidate);
        best_size = size;
        progress = true;
        break;  // start over from the smaller case
      }
    }
  }
  return result;
}

RequestCase minimize(RequestCase original, std::function<bool(const RequestCase&)> still_triggers, int max_attempts) {
  return minimize_case(std::move(original), still_triggers, max_attempts).minimized;
}

}  // namespace chaosplus::fuzz
