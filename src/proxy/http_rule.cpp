#include "proxy/http_rule.h"

#include <algorithm>

#include "net/http_message.h"

namespace chaosplus::proxy {

RequestMatch::RequestMatch(std::string_view methods, std::string_view path) {
  if (!methods.empty() && methods != "*") {
    std::size_t start = 0;
    while (start <= methods.size()) {
      std::size_t comma = methods.find(',', start);
      if (comma == std::string_view::npos) comma = methods.size();
      std::string_view method = methods.substr(start, comma - start);
      while (!method.empty() && method.front() == ' ') method.remove_prefix(1);
      while (!method.empty() && method.back() == ' ') method.remove_suffix(1);
      if (!method.empty()) methods_.emplace_back(method);
      start = comma + 1;
    }
  }
  any_path_ = path.empty() || path == "*";
  path_ = path;
  glob_ = path_.find('*') != std::string::npos;
}

bool RequestMatch::matches(std::string_view method, std::string_view path) const {
  if (!methods_.empty() && std::find(methods_.begin(), methods_.end(), method) == methods_.end()) return false;
  if (any_path_) return true;
  return glob_ ? glob_match(path_, path) : path == path_;
}

bool glob_match(std::string_view pattern, std::string_view text) {
  // Greedy with one backtrack point: linear enough for the short patterns users write.
  std::size_t p = 0, t = 0;
  std::size_t star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

HttpRule::HttpRule(std::uint64_t toxic_id, const ToxicSpec& spec, std::uint64_t seed,
                   std::shared_ptr<ToxicCounters> counters)
    : toxic_id_(toxic_id), type_(spec.type), random_(seed), counters_(std::move(counters)) {
  reconfigure(spec);
}

void HttpRule::reconfigure(const ToxicSpec& spec) {
  name_ = spec.name;
  toxicity_ = spec.toxicity;
  match_ = RequestMatch(spec.text("method"), spec.text("path"));
  status_ = static_cast<int>(spec.attribute("status"));
  body_ = spec.text("body");
  content_type_ = spec.text("content_type");
  delay_ = std::chrono::milliseconds(spec.attribute("delay"));
  jitter_ = std::chrono::milliseconds(spec.attribute("jitter"));
  abort_after_ = static_cast<std::uint64_t>(std::max<std::int64_t>(spec.attribute("bytes"), 0));
  abort_resets_ = spec.text("mode") == "reset";
}

bool HttpRule::hits(std::string_view method, std::string_view path) {
  if (!match_.matches(method, path)) return false;
  if (random_.unit() < toxicity_) return true;
  if (counters_) ++counters_->requests_skipped;
  return false;
}

void HttpRule::count_acted() {
  if (!counters_) return;
  ++counters_->requests;
  if (!acted_) ++counters_->connections;
  acted_ = true;
}

std::chrono::microseconds HttpRule::draw_delay() {
  auto delay = delay_;
  if (jitter_.count() > 0) delay += std::chrono::microseconds(random_.between(-jitter_.count(), jitter_.count()));
  return std::max(delay, std::chrono::microseconds(0));
}

std::string HttpRule::answer(const MessageHead& request, bool close) const {
  const bool body_allowed = status_ != 204 && status_ != 304;
  std::string out;
  out.reserve(160 + body_.size());
  out += "HTTP/1.1 ";
  out += std::to_string(status_);
  out += ' ';
  out += net::reason_phrase(status_);
  out += "\r\n";
  if (body_allowed) {
    if (!body_.empty()) out += "Content-Type: " + content_type_ + "\r\n";
    out += "Content-Length: " + std::to_string(body_.size()) + "\r\n";
  }
  // Lets a client, a probe or a report tell this answer from the server's.
  out += "X-Chaosplus-Toxic: " + name_ + "\r\n";
  if (close) {
    out += "Connection: close\r\n";
  } else if (request.minor_version == 0) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
  if (body_allowed && request.method != "HEAD") out += body_;
  return out;
}

bool answer_closes(const MessageHead& request) {
  return request.close || (request.expect_continue && request.body != BodyKind::none);
}

}  // namespace chaosplus::proxy
