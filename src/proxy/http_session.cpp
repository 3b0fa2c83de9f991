#include "proxy/http_session.h"

#include <algorithm>

namespace chaosplus::proxy {

namespace {
// Consumed entries at the front of a queue vector are dropped in bulk past this many.
constexpr std::size_t kCompactAfter = 64;
}  // namespace

HttpSession::HttpSession(HttpCounters* counters) : counters_(counters) {}

void HttpSession::add_rule(std::uint64_t toxic_id, const ToxicSpec& spec, std::uint64_t seed,
                           std::shared_ptr<ToxicCounters> counters) {
  rules_.emplace_back(toxic_id, spec, seed, std::move(counters));
}

void HttpSession::update_rule(std::uint64_t toxic_id, const ToxicSpec& spec) {
  for (auto& rule : rules_) {
    if (rule.toxic_id() == toxic_id) rule.reconfigure(spec);
  }
}

void HttpSession::remove_rule(std::uint64_t toxic_id, TimePoint now) {
  std::erase_if(rules_, [&](const HttpRule& rule) { return rule.toxic_id() == toxic_id; });
  for (std::size_t i = first_segment_; i < segments_.size(); ++i) {
    if (segments_[i].rule == toxic_id) segments_[i].release = std::min(segments_[i].release, now);
  }
  for (std::size_t i = first_exchange_; i < exchanges_.size(); ++i) {
    Exchange& exchange = exchanges_[i];
    if (exchange.delay_rule == toxic_id) exchange.due = std::min(exchange.due, now);
    if (exchange.abort_rule == toxic_id) exchange.abort_rule = 0;
  }
}

// ---- requests ----

void HttpSession::from_client(std::string_view bytes, TimePoint now, Outputs& out) {
  if (dead_ || client_end_ != StreamEnd::none) return;
  while (!bytes.empty() && !dead_) {
    if (requests_.opaque()) {
      send_up(bytes, now, out);
      return;
    }
    if (requests_.idle()) head_held_ = has_rules();  // a head is held only to decide on it
    const bool head_piece = requests_.idle() || requests_.in_head();
    auto progress = requests_.feed(bytes);
    if (progress.opaque) {
      requests_unframed(now, out);
      // No request awaits a response, so nothing the server sends can be framed as an answer:
      // stop framing that way too, and the session can be dropped (the links may splice).
      if (outstanding() == 0 && !responses_.opaque()) responses_.make_opaque("the requests are not HTTP/1.x");
      send_up(bytes, now, out);
      return;
    }
    std::string_view piece = bytes.substr(0, progress.consumed);
    bytes.remove_prefix(progress.consumed);
    if (head_piece && head_held_) {
      head_.append(piece);
    } else if (!swallowing_) {
      send_up(piece, now, out);
    }
    if (progress.head_done) decide(now, out);
    if (progress.message_done) swallowing_ = false;
  }
}

void HttpSession::decide(TimePoint now, Outputs& out) {
  const MessageHead& request = requests_.head();
  Exchange exchange;
  exchange.method = request.method;
  exchange.due = now;
  ++requests_framed_;
  if (!head_held_) {  // its head began to pass before an HTTP toxic came: it goes on untouched
    exchanges_.push_back(std::move(exchange));
    return;
  }
  head_held_ = false;
  const std::string_view path = request_path(request.target);
  HttpRule* status = nullptr;
  const HttpRule* abort = nullptr;
  std::chrono::microseconds delay{0};
  for (auto& rule : rules_) {
    if (!rule.hits(request.method, path)) continue;
    switch (rule.type()) {
      case ToxicType::http_status:
        if (!status) status = &rule;
        break;
      case ToxicType::http_delay:
        delay += rule.draw_delay();
        exchange.delay_rule = rule.toxic_id();
        rule.count_acted();
        break;
      case ToxicType::http_abort:
        if (!abort) abort = &rule;
        break;
      default: break;
    }
  }
  if (exchange.delay_rule != 0) {
    if (counters_) ++counters_->delayed;
    // This request and every byte after it wait; an answer waits as long as the request would.
    hold_from_here(now + delay, exchange.delay_rule);
    exchange.due = last_release_;
  }
  if (status) {
    if (counters_) ++counters_->answered;
    status->count_acted();
    exchange.answered = true;
    exchange.close_after = answer_closes(request);
    exchange.answer = status->answer(request, exchange.close_after);
    head_.clear();
    swallowing_ = request.body != BodyKind::none;
    exchanges_.push_back(std::move(exchange));
    if (responses_.idle()) emit_due_answers(now, out);
    return;
  }
  if (abort) {
    exchange.abort_rule = abort->toxic_id();
    exchange.abort_after = abort->abort_after();
    exchange.abort_resets = abort->abort_resets();
  }
  exchanges_.push_back(std::move(exchange));
  send_up(head_.all(), now, out);
  head_.clear();
}

void HttpSession::send_up(std::string_view bytes, TimePoint now, Outputs& out) {
  if (bytes.empty()) return;
  if (first_segment_ == segments_.size()) {
    out.upstream.write(bytes, now);
    return;
  }
  held_.append(bytes);
  segments_.back().size += bytes.size();
}

void HttpSession::hold_from_here(TimePoint release, std::uint64_t rule) {
  // Never before what is already held: a delayed request cannot overtake an earlier one.
  last_release_ = std::max(release, last_release_);
  segments_.push_back({0, last_release_, rule});
}

void HttpSession::release_head(TimePoint now, Outputs& out) {
  head_held_ = false;
  send_up(head_.all(), now, out);
  head_.clear();
}

void HttpSession::release_segments(TimePoint now, Outputs& out) {
  while (first_segment_ < segments_.size() && segments_[first_segment_].release <= now) {
    std::size_t size = segments_[first_segment_].size;
    ++first_segment_;
    if (size > 0) {
      out.upstream.write(held_.front(size), now);
      held_.consume(size);
    }
  }
  if (first_segment_ == segments_.size()) {
    segments_.clear();
    first_segment_ = 0;
  }
}

void HttpSession::client_end(StreamEnd how, TimePoint now, Outputs& out) {
  if (dead_ || client_end_ != StreamEnd::none) return;
  client_end_ = how;
  if (head_held_) release_head(now, out);  // an unfinished head goes on as it is
  if (first_segment_ == segments_.size()) {
    client_end_passed_ = true;
    out.upstream.end(how, now);
  }
}

// ---- responses ----

void HttpSession::from_server(std::string_view bytes, TimePoint now, Outputs& out) {
  if (dead_ || server_end_ != StreamEnd::none) return;
  if (!server_held_.empty()) {
    server_held_.append(bytes);
    return;
  }
  process_server(bytes, now, out);
}

void HttpSession::process_server(std::string_view bytes, TimePoint now, Outputs& out) {
  while (!bytes.empty() && !dead_) {
    if (responses_.opaque()) {
      out.downstream.write(bytes, now);
      return;
    }
    if (responses_.idle()) {
      emit_due_answers(now, out);
      if (dead_) return;
    }
    Exchange* exchange = front();
    if (!exchange) {  // bytes no request asked for: a server-first protocol, or not HTTP
      responses_unframed(now, out);
      out.downstream.write(bytes, now);
      return;
    }
    if (exchange->answered) {  // its answer is not due yet; the server's bytes come after it
      server_held_.append(bytes);
      return;
    }
    if (responses_.idle()) responses_.expect_response_to(exchange->method);
    const bool head_piece = responses_.idle() || responses_.in_head();
    auto progress = responses_.feed(bytes);
    if (progress.opaque) {
      responses_unframed(now, out);
      out.downstream.write(bytes, now);
      return;
    }
    std::string_view piece = bytes.substr(0, progress.consumed);
    bytes.remove_prefix(progress.consumed);
    const MessageHead& response = responses_.head();
    if (exchange->abort_rule != 0 && !response.interim()) {
      if (cut_response(*exchange, piece, head_piece, progress, now, out)) return;
    } else {
      out.downstream.write(piece, now);
    }
    if (progress.message_done && !response.interim()) {  // after 1xx the final response follows
      const bool tunnel = response.tunnel;
      pop_exchange();
      if (tunnel) {
        responses_unframed(now, out);
        out.downstream.write(bytes, now);
        return;
      }
      emit_due_answers(now, out);  // answers that waited for this response
    }
  }
}

bool HttpSession::cut_response(const Exchange& exchange, std::string_view piece, bool head_piece,
                               const HttpFramer::Progress& progress, TimePoint now, Outputs& out) {
  if (head_piece) {
    out.downstream.write(piece, now);
    if (!progress.head_done) return false;
    if (!progress.message_done && exchange.abort_after > 0) return false;
    cut(exchange, now, out);  // no body, or not one byte of it wanted
    return true;
  }
  const std::uint64_t total = responses_.body_bytes();
  const std::uint64_t before = total - piece.size();
  std::uint64_t limit = exchange.abort_after;
  // A body shorter than the limit is still cut, before its last byte: the client must notice.
  if (progress.message_done) limit = std::min(limit, total - 1);
  if (!progress.message_done && total < limit) {
    out.downstream.write(piece, now);
    return false;
  }
  out.downstream.write(piece.substr(0, static_cast<std::size_t>(limit - before)), now);
  cut(exchange, now, out);
  return true;
}

void HttpSession::cut(const Exchange& exchange, TimePoint now, Outputs& out) {
  if (counters_) ++counters_->aborted;
  for (auto& rule : rules_) {
    if (rule.toxic_id() == exchange.abort_rule) rule.count_acted();
  }
  dead_ = true;
  out.downstream.end(exchange.abort_resets ? StreamEnd::reset : StreamEnd::close, now);
}

void HttpSession::emit_due_answers(TimePoint now, Outputs& out) {
  while (!dead_) {
    Exchange* exchange = front();
    if (!exchange || !exchange->answered || exchange->due > now) return;
    const bool close = exchange->close_after;
    out.downstream.write(exchange->answer, now);
    pop_exchange();
    if (close) {
      dead_ = true;
      out.downstream.end(StreamEnd::close, now);
    }
  }
}

void HttpSession::server_end(StreamEnd how, TimePoint now, Outputs& out) {
  if (dead_ || server_end_ != StreamEnd::none) return;
  server_end_ = how;
  if (server_held_.empty()) finish_server(now, out);  // else advance() finishes after the held bytes
}

void HttpSession::finish_server(TimePoint now, Outputs& out) {
  if (!responses_.opaque()) {
    Exchange* exchange = front();
    if (exchange && !exchange->answered && !responses_.idle() && responses_.finish()) {
      // A body that ran until the server closed is complete now.
      if (exchange->abort_rule != 0) {
        cut(*exchange, now, out);
        return;
      }
      pop_exchange();
    }
    emit_due_answers(now, out);
    if (dead_) return;
    exchange = front();
    if (exchange && exchange->answered) return;  // an answer is not due yet: the end waits for it
  }
  server_end_passed_ = true;
  out.downstream.end(server_end_, now);
}

void HttpSession::pop_exchange() {
  ++first_exchange_;
  if (first_exchange_ == exchanges_.size()) {
    exchanges_.clear();
    first_exchange_ = 0;
  } else if (first_exchange_ >= kCompactAfter && first_exchange_ * 2 >= exchanges_.size()) {
    exchanges_.erase(exchanges_.begin(), exchanges_.begin() + static_cast<std::ptrdiff_t>(first_exchange_));
    first_exchange_ = 0;
  }
}

// ---- both ----

Step HttpSession::advance(TimePoint now, Outputs& out) {
  if (dead_) return {};
  if (head_held_ && !has_rules()) release_head(now, out);  // the last HTTP toxic went away
  release_segments(now, out);
  if (client_end_ != StreamEnd::none && !client_end_passed_ && first_segment_ == segments_.size()) {
    client_end_passed_ = true;
    out.upstream.end(client_end_, now);
  }
  if (responses_.idle() || responses_.opaque()) emit_due_answers(now, out);
  if (!server_held_.empty() && !dead_) {
    Exchange* exchange = front();
    if (!exchange || !exchange->answered) {
      std::string bytes(server_held_.all());
      server_held_.clear();
      process_server(bytes, now, out);
    }
  }
  if (server_end_ != StreamEnd::none && !server_end_passed_ && server_held_.empty() && !dead_) {
    finish_server(now, out);
  }
  return {next_wake(), ConnectionFate::carry_on};
}

TimePoint HttpSession::next_wake() const {
  TimePoint wake = TimePoint::max();
  if (dead_) return wake;
  if (first_segment_ < segments_.size()) wake = segments_[first_segment_].release;
  if (outstanding() > 0 && exchanges_[first_exchange_].answered) wake = std::min(wake, exchanges_[first_exchange_].due);
  return wake;
}

bool HttpSession::spent() const {
  return opaque() && !dead_ && head_.empty() && segments_.empty() && server_held_.empty() && outstanding() == 0 &&
         (client_end_ == StreamEnd::none || client_end_passed_) &&
         (server_end_ == StreamEnd::none || server_end_passed_);
}

void HttpSession::count_unframed() {
  if (counters_ && has_rules() && !counted_unframed_) {
    ++counters_->unframed;
    counted_unframed_ = true;
  }
}

void HttpSession::requests_unframed(TimePoint now, Outputs& out) {
  count_unframed();
  if (!requests_.opaque()) requests_.make_opaque("the responses stopped being HTTP/1.x");
  swallowing_ = false;
  if (head_held_) release_head(now, out);
}

void HttpSession::responses_unframed(TimePoint now, Outputs& out) {
  count_unframed();
  if (!responses_.opaque()) responses_.make_opaque("the requests stopped being HTTP/1.x");
  requests_unframed(now, out);
  // Answers still owed go out at once: the stream can no longer tell where they belong.
  while (Exchange* exchange = front()) {
    if (exchange->answered) {
      out.downstream.write(exchange->answer, now);
      if (exchange->close_after) {
        dead_ = true;
        out.downstream.end(StreamEnd::close, now);
      }
    }
    pop_exchange();
    if (dead_) return;
  }
}

}  // namespace chaosplus::proxy
