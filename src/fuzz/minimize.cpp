#include "fuzz/minimize.h"

#include <algorithm>
#include <cmath>

namespace chaosplus::fuzz {
namespace {

const net::Url& any_base() {
  static const net::Url kBase{"http", "127.0.0.1", 80, "/"};
  return kBase;
}

std::size_t size_of(const RequestCase& c) { return render(c, any_base()).size(); }

class Shrinker {
 public:
  Shrinker(RequestCase original, const std::function<bool(const RequestCase&)>& still_triggers, int max_attempts)
      : best_(std::move(original)), best_size_(size_of(best_)), still_(still_triggers), max_(max_attempts) {}

  // Keeps `candidate` when it is smaller and still triggers. Every call of still_triggers counts.
  bool attempt(const RequestCase& candidate) {
    if (attempts_ >= max_) return false;
    const std::size_t size = size_of(candidate);
    if (size >= best_size_) return false;  // only strictly smaller candidates cost a request
    ++attempts_;
    if (!still_(candidate)) return false;
    best_ = candidate;
    best_size_ = size;
    return true;
  }

  bool exhausted() const { return attempts_ >= max_; }
  int attempts() const { return attempts_; }
  RequestCase& best() { return best_; }

  // ddmin over a list of `n` items: `without(from, to)` makes the case without items [from, to).
  template <typename Without>
  bool drop_items(std::size_t n, Without without) {
    bool progress = false;
    std::size_t chunks = std::min<std::size_t>(2, n);
    while (n > 0 && chunks > 0 && !exhausted()) {
      const std::size_t size = (n + chunks - 1) / chunks;
      bool removed = false;
      for (std::size_t start = 0; start < n && !exhausted(); start += size) {
        if (attempt(without(start, std::min(n, start + size)))) {
          n -= std::min(n, start + size) - start;
          removed = progress = true;
          break;
        }
      }
      if (removed) {
        chunks = std::max<std::size_t>(std::min<std::size_t>(chunks - 1, n), std::min<std::size_t>(2, n));
      } else if (chunks >= n) {
        break;
      } else {
        chunks = std::min(n, chunks * 2);
      }
    }
    return progress;
  }

  bool bytes(std::optional<std::string> RequestCase::*field, std::size_t keep_prefix) {
    if (!(best_.*field)) return false;
    return drop_items((*(best_.*field)).size() - std::min(keep_prefix, (*(best_.*field)).size()),
                      [&](std::size_t from, std::size_t to) {
                        RequestCase c = best_;
                        (c.*field)->erase(keep_prefix + from, to - from);
                        return c;
                      });
  }

  // A raw request keeps its shape (request line, header lines, blank line, body) so that the
  // reproducer stays readable: whole header lines go first, then bytes of the body.
  struct RawParts {
    std::vector<std::string> lines;  // the request line first
    std::string eol;
    std::string body;
    bool framed = false;  // a blank line ends the head

    static RawParts of(const std::string& raw) {
      RawParts p;
      std::size_t end = raw.find("\r\n\r\n");
      p.eol = "\r\n";
      if (end == std::string::npos) {
        end = raw.find("\n\n");
        p.eol = "\n";
      }
      p.framed = end != std::string::npos;
      const std::string head = p.framed ? raw.substr(0, end) : raw;
      if (p.framed) p.body = raw.substr(end + 2 * p.eol.size());
      for (std::size_t start = 0; start <= head.size();) {
        std::size_t stop = head.find(p.eol, start);
        if (stop == std::string::npos) stop = head.size();
        p.lines.push_back(head.substr(start, stop - start));
        start = stop + p.eol.size();
      }
      return p;
    }
    std::string join() const {
      std::string out;
      for (std::size_t i = 0; i < lines.size(); ++i) out += lines[i] + (i + 1 < lines.size() || framed ? eol : "");
      return framed ? out + eol + body : out;
    }
  };

  bool raw_lines() {
    const RawParts parts = RawParts::of(*best_.raw);
    if (parts.lines.size() < 2) return false;
    return drop_items(parts.lines.size() - 1, [&](std::size_t from, std::size_t to) {
      RawParts fewer = RawParts::of(*best_.raw);
      fewer.lines.erase(fewer.lines.begin() + 1 + static_cast<std::ptrdiff_t>(from),
                        fewer.lines.begin() + 1 + static_cast<std::ptrdiff_t>(to));
      RequestCase c = best_;
      c.raw = fewer.join();
      return c;
    });
  }

  bool raw_body_bytes() {
    const RawParts parts = RawParts::of(*best_.raw);
    if (!parts.framed || parts.body.empty()) return false;
    return drop_items(parts.body.size(), [&](std::size_t from, std::size_t to) {
      RawParts shorter = RawParts::of(*best_.raw);
      shorter.body.erase(from, to - from);
      RequestCase c = best_;
      c.raw = shorter.join();
      return c;
    });
  }

  bool lists() {
    bool progress = drop_items(best_.query.size(), [&](std::size_t from, std::size_t to) {
      RequestCase c = best_;
      c.query.erase(c.query.begin() + static_cast<std::ptrdiff_t>(from),
                    c.query.begin() + static_cast<std::ptrdiff_t>(to));
      return c;
    });
    progress |= drop_items(best_.headers.size(), [&](std::size_t from, std::size_t to) {
      RequestCase c = best_;
      c.headers.erase(c.headers.begin() + static_cast<std::ptrdiff_t>(from),
                      c.headers.begin() + static_cast<std::ptrdiff_t>(to));
      return c;
    });
    progress |= drop_items(best_.cookies.size(), [&](std::size_t from, std::size_t to) {
      RequestCase c = best_;
      auto first = c.cookies.begin();
      std::advance(first, static_cast<std::ptrdiff_t>(from));
      auto last = first;
      std::advance(last, static_cast<std::ptrdiff_t>(to - from));
      c.cookies.erase(first, last);
      return c;
    });
    return progress;
  }

  bool body_structure() {
    if (!best_.body || best_.raw_body) return false;
    bool progress = false;
    {
      RequestCase c = best_;
      c.body.reset();
      c.body_content_type.clear();
      if (attempt(c)) return true;
    }
    // Members of objects and items of arrays, container by container, outermost first.
    std::vector<Json::json_pointer> containers;
    collect_containers(*best_.body, Json::json_pointer(), containers);
    for (const auto& at : containers) {
      if (exhausted()) break;
      if (!best_.body || !best_.body->contains(at)) continue;
      const Json& node = (*best_.body)[at];
      if (node.is_array()) {
        progress |= drop_items(node.size(), [&](std::size_t from, std::size_t to) {
          RequestCase c = best_;
          Json& items = (*c.body)[at];
          items.erase(items.begin() + static_cast<std::ptrdiff_t>(from),
                      items.begin() + static_cast<std::ptrdiff_t>(to));
          return c;
        });
      } else if (node.is_object()) {
        std::vector<std::string> keys;
        for (const auto& [key, value] : node.items()) keys.push_back(key);
        progress |= drop_items(keys.size(), [&](std::size_t from, std::size_t to) {
          RequestCase c = best_;
          Json& members = (*c.body)[at];
          for (std::size_t i = from; i < to; ++i) members.erase(keys[i]);
          return c;
        });
      }
    }
    return progress;
  }

  // Leaves: strings halved then trimmed, numbers toward 0 and 1, containers emptied.
  bool leaves() {
    bool progress = false;
    for (std::size_t i = 0; i < best_.query.size() && !exhausted(); ++i)
      progress |= shrink_value([i](RequestCase& c) -> Json& { return c.query[i].second; });
    std::vector<std::string> names;
    for (const auto& [name, value] : best_.path_params) names.push_back(name);
    for (const auto& name : names)
      progress |= shrink_value([name](RequestCase& c) -> Json& { return c.path_params[name]; }, true);
    names.clear();
    for (const auto& [name, value] : best_.cookies) names.push_back(name);
    for (const auto& name : names)
      progress |= shrink_value([name](RequestCase& c) -> Json& { return c.cookies[name]; });
    for (std::size_t i = 0; i < best_.headers.size() && !exhausted(); ++i) progress |= shrink_header(i);
    if (best_.body && !best_.raw_body) {
      std::vector<Json::json_pointer> leaves;
      collect_leaves(*best_.body, Json::json_pointer(), leaves);
      for (const auto& at : leaves) {
        if (exhausted()) break;
        progress |= shrink_value([at](RequestCase& c) -> Json& { return (*c.body)[at]; });
      }
    }
    return progress;
  }

 private:
  static void collect_containers(const Json& v, const Json::json_pointer& at, std::vector<Json::json_pointer>& out) {
    if (!v.is_structured() || out.size() > 256) return;
    out.push_back(at);
    if (v.is_object()) {
      for (const auto& [key, item] : v.items()) collect_containers(item, at / key, out);
    } else {
      for (std::size_t i = 0; i < v.size() && i < 64; ++i) collect_containers(v[i], at / i, out);
    }
  }

  static void collect_leaves(const Json& v, const Json::json_pointer& at, std::vector<Json::json_pointer>& out) {
    if (out.size() > 512) return;
    if (v.is_object()) {
      for (const auto& [key, item] : v.items()) collect_leaves(item, at / key, out);
    } else if (v.is_array()) {
      for (std::size_t i = 0; i < v.size() && i < 64; ++i) collect_leaves(v[i], at / i, out);
    } else {
      out.push_back(at);
    }
  }

  // Simpler forms of one value, tried in order, keeping each that still triggers.
  template <typename Get>
  bool shrink_value(Get get, bool keep_nonempty = false) {
    bool progress = false;
    for (int round = 0; round < 64 && !exhausted(); ++round) {
      const Json current = get(best_);
      std::vector<Json> simpler;
      if (current.is_string()) {
        const std::string s = current.get<std::string>();
        if (s.size() > 1) simpler.push_back(s.substr(0, s.size() / 2));
        if (s.size() > 1) simpler.push_back(s.substr(s.size() / 2));
        if (!s.empty()) simpler.push_back(s.substr(0, s.size() - 1));
        if (!s.empty() && !keep_nonempty) simpler.push_back("");
      } else if (current.is_number_integer()) {
        const auto v = current.get<std::int64_t>();
        if (v != 0) simpler.push_back(0);
        if (v != 1 && v != 0) simpler.push_back(1);
        if (v / 2 != v && v / 2 != 0) simpler.push_back(v / 2);
      } else if (current.is_number_float()) {
        const double v = current.get<double>();
        if (v != 0) simpler.push_back(0);
        if (v != 1 && v != 0) simpler.push_back(1);
        if (std::trunc(v) != v && std::fabs(v) < 9e15) simpler.push_back(static_cast<std::int64_t>(v));
      } else if (current.is_structured() && !current.empty()) {
        simpler.push_back(current.is_array() ? Json::array() : Json::object());
      }
      bool kept = false;
      for (const auto& candidate : simpler) {
        RequestCase c = best_;
        get(c) = candidate;
        if (attempt(c)) {
          kept = progress = true;
          break;
        }
        if (exhausted()) break;
      }
      if (!kept) break;
    }
    return progress;
  }

  bool shrink_header(std::size_t i) {
    bool progress = false;
    for (int round = 0; round < 64 && !exhausted(); ++round) {
      const std::string s = best_.headers[i].second;
      bool kept = false;
      for (const std::string& candidate :
           {s.substr(0, s.size() / 2), s.substr(s.size() / 2), s.empty() ? s : s.substr(0, s.size() - 1)}) {
        if (candidate == s) continue;
        RequestCase c = best_;
        c.headers[i].second = candidate;
        if (attempt(c)) {
          kept = progress = true;
          break;
        }
      }
      if (!kept) break;
    }
    return progress;
  }

  RequestCase best_;
  std::size_t best_size_;
  const std::function<bool(const RequestCase&)>& still_;
  int max_;
  int attempts_ = 0;
};

}  // namespace

MinimizeResult minimize_case(RequestCase original, const std::function<bool(const RequestCase&)>& still_triggers,
                             int max_attempts) {
  const std::size_t original_size = size_of(original);
  Shrinker s(original, still_triggers, max_attempts);
  for (int round = 0; round < 16 && !s.exhausted(); ++round) {
    bool progress = false;
    if (s.best().raw) {
      progress |= s.raw_lines();
      progress |= s.raw_body_bytes();
    } else {
      progress |= s.lists();
      progress |= s.body_structure();
      if (s.best().raw_body) progress |= s.bytes(&RequestCase::raw_body, 0);
      progress |= s.leaves();
    }
    if (!progress) break;
  }
  MinimizeResult result{std::move(s.best()), s.attempts()};
  // The promise callers rely on (a reproducer no larger than what was found): attempt() only keeps
  // candidates no larger than the best so far, and this checks it once more.
  if (size_of(result.minimized) > original_size) result.minimized = std::move(original);
  return result;
}

RequestCase minimize(RequestCase original, std::function<bool(const RequestCase&)> still_triggers, int max_attempts) {
  return minimize_case(std::move(original), still_triggers, max_attempts).minimized;
}

}  // namespace chaosplus::fuzz
