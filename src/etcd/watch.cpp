// A watch is one streamed POST to /v3/watch: the create request as the body, then newline-separated
// {"result": WatchResponse} objects for as long as the stream lives. It runs in a curl multi handle
// on the watch's own thread, so stop() can wake it at once (curl_multi_wakeup), and so a status
// check of a silent member can run beside the stream: etcd sends nothing on an idle watch, and a
// member that was paused (SIGSTOP) or cut off keeps the connection open without a word.
#include <thread>

#include "etcd/client_impl.h"
#include "etcd/wire.h"

namespace chaosplus::etcd {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct MultiDeleter {
  void operator()(CURLM* multi) const { curl_multi_cleanup(multi); }
};

}  // namespace

// The watch's state and thread. The thread holds it too, so a Watch destroyed from inside its own
// callback (which cannot join its own thread) leaves the thread to end on its own, safely.
struct WatchRunner {
  std::shared_ptr<Core> core;
  std::string prefix;
  std::int64_t next_revision = 0;  // where the next stream starts; 0 (from now) until a stream opened
  Client::OnEvents on_events;
  Client::OnError on_error;
  std::unique_ptr<CURLM, MultiDeleter> multi;
  std::atomic<bool> stopping{false};
  std::atomic<bool> streaming{false};
  std::thread thread;

  // One stream's state, fed by curl's write callback.
  struct Stream {
    WatchRunner* impl = nullptr;
    std::string buffer;    // bytes after the last newline
    std::string end;       // why the stream must end ("" while it may go on)
    bool created = false;  // etcd confirmed the watch
    bool reauthenticate = false;
    Clock::time_point last_data;
  };

  void run();
  std::string stream_once(std::size_t member, bool& created);
  void handle_line(Stream& stream, std::string_view line);
  void pause(Duration d) {
    // curl_multi_poll without transfers is a sleep that curl_multi_wakeup (stop()) cuts short.
    if (!stopping.load())
      curl_multi_poll(multi.get(), nullptr, 0,
                      static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(d).count()), nullptr);
  }
};

namespace {

std::size_t on_stream_bytes(char* data, std::size_t size, std::size_t count, void* user) {
  auto& stream = *static_cast<WatchRunner::Stream*>(user);
  stream.last_data = Clock::now();
  stream.buffer.append(data, size * count);
  std::size_t at = 0;
  for (auto end = stream.buffer.find('\n'); end != std::string::npos; end = stream.buffer.find('\n', at)) {
    stream.impl->handle_line(stream, std::string_view(stream.buffer).substr(at, end - at));
    at = end + 1;
    if (!stream.end.empty()) break;
  }
  stream.buffer.erase(0, at);
  // Anything but the full count makes curl end the transfer (CURLE_WRITE_ERROR).
  return stream.end.empty() ? size * count : 0;
}

}  // namespace

void WatchRunner::handle_line(Stream& stream, std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  if (line.empty()) return;
  auto answer = wire::classify(200, line);
  if (answer.kind == wire::Answer::Kind::reauthenticate) stream.reauthenticate = true;
  if (answer.kind != wire::Answer::Kind::ok) {
    stream.end = "etcd said: " + answer.failure.message;
    return;
  }
  if (!answer.body.contains("result")) {
    stream.end = "unexpected answer: " + std::string(line.substr(0, 200));
    return;
  }
  const json& result = answer.body["result"];
  if (result.value("created", false)) {
    stream.created = true;
    streaming.store(true);
    // A watch "from now" continues, after a break, from the revision the first stream began after.
    if (next_revision == 0) next_revision = wire::int64_field(result.value("header", json::object()), "revision") + 1;
  }
  if (auto events = result.find("events"); events != result.end() && events->is_array()) {
    std::vector<WatchEvent> batch;
    for (const auto& event : *events) {
      auto kv = wire::parse_key_value(event.value("kv", json::object()));
      if (!kv) {
        stream.end = kv.error();
        return;
      }
      if (kv->mod_revision < next_revision) continue;  // seen before a break: never deliver twice
      WatchEvent out;
      out.type = event.value("type", std::string{}) == "DELETE" ? WatchEvent::Type::erase : WatchEvent::Type::put;
      out.kv = std::move(*kv);
      batch.push_back(std::move(out));
    }
    if (!batch.empty()) {
      next_revision = batch.back().kv.mod_revision + 1;
      if (on_events) on_events(batch);
    }
  }
  if (result.value("canceled", false)) {
    const auto compacted = wire::int64_field(result, "compact_revision");
    if (compacted > 0) {
      // The revisions we wanted are gone: continue from the oldest one kept, and say what was lost.
      stream.end = "etcd compacted the history: revisions " + std::to_string(next_revision) + " to " +
                   std::to_string(compacted - 1) + " are lost; continuing from " + std::to_string(compacted);
      next_revision = compacted;
    } else {
      stream.end = "etcd cancelled the watch: " + result.value("cancel_reason", std::string("no reason given"));
    }
  }
}

std::string WatchRunner::stream_once(std::size_t member, bool& created) {
  const Options& options = core->options();
  const auto timeout = options.request_timeout;
  json create = {{"key", wire::base64_encode(prefix)},
                 {"range_end", wire::base64_encode(wire::prefix_range_end(prefix))}};
  if (next_revision > 0) create["start_revision"] = std::to_string(next_revision);

  transport::Exchange exchange;
  exchange.url = core->endpoint(member) + "/v3/watch";
  exchange.request = json{{"create_request", create}}.dump();
  exchange.cancel = &stopping;
  transport::Easy easy(curl_easy_init());
  transport::prepare_post(easy.get(), exchange, options, core->token(), timeout, Duration::zero());
  Stream stream;
  stream.impl = this;
  stream.last_data = Clock::now();
  curl_easy_setopt(easy.get(), CURLOPT_WRITEFUNCTION, on_stream_bytes);
  curl_easy_setopt(easy.get(), CURLOPT_WRITEDATA, &stream);
  curl_multi_add_handle(multi.get(), easy.get());

  // The status check of a member that has been silent for a while: one handle for every check of
  // this member, so its connection is reused.
  transport::Exchange probe_exchange;
  transport::Easy probe(curl_easy_init());
  bool probing = false;
  const auto idle_limit = std::max<Duration>(2 * timeout, std::chrono::seconds(2));
  const auto opened = Clock::now();

  std::string end;
  while (end.empty()) {
    int running = 0;
    curl_multi_perform(multi.get(), &running);
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi.get(), &queued)) {
      if (message->msg != CURLMSG_DONE) continue;
      if (message->easy_handle == easy.get()) {
        const CURLcode code = message->data.result;
        if (code == CURLE_OK && !stream.buffer.empty() && stream.end.empty()) {
          // A whole answer without a final newline: an error etcd sent before any stream began. (After
          // a broken transfer the rest is a cut-off line, and curl's failure the better account.)
          handle_line(stream, stream.buffer);
        }
        if (stream.end.empty()) {
          end =
              code == CURLE_OK ? "the member closed the stream" : transport::describe_failure(code, exchange, options);
        }
      } else if (probing && message->easy_handle == probe.get()) {
        long status = 0;
        curl_easy_getinfo(probe.get(), CURLINFO_RESPONSE_CODE, &status);
        const CURLcode code = message->data.result;
        auto answer = wire::classify(status, probe_exchange.response);
        if (code != CURLE_OK) {
          end = "silent for " + format_duration(idle_limit) +
                " and its status check failed: " + transport::describe_failure(code, probe_exchange, options);
        } else if (answer.kind != wire::Answer::Kind::ok) {
          end = "silent for " + format_duration(idle_limit) + " and its status check failed: " + answer.failure.message;
        } else if (wire::int64_field(answer.body, "leader") == 0) {
          end = "silent for " + format_duration(idle_limit) + " and it has no leader";
        } else {
          stream.last_data = Clock::now();  // alive, just nothing to tell
        }
        curl_multi_remove_handle(multi.get(), probe.get());
        probing = false;
      }
    }
    if (!stream.end.empty() && end.empty()) end = stream.end;
    if (!end.empty()) break;
    if (stopping.load()) {
      end = "stopped";
      break;
    }
    const auto now = Clock::now();
    if (!stream.created && now - opened > 2 * timeout) {
      end = "etcd did not confirm the watch within " + format_duration(2 * timeout);
      break;
    }
    if (!probing && now - stream.last_data > idle_limit) {
      probe_exchange = transport::Exchange{};
      probe_exchange.url = core->endpoint(member) + "/v3/maintenance/status";
      probe_exchange.request = "{}";
      probe_exchange.cancel = &stopping;
      curl_easy_reset(probe.get());
      transport::prepare_post(probe.get(), probe_exchange, options, core->token(), timeout, timeout);
      curl_multi_add_handle(multi.get(), probe.get());
      probing = true;
    }
    curl_multi_poll(multi.get(), nullptr, 0, 200, nullptr);
  }
  if (probing) curl_multi_remove_handle(multi.get(), probe.get());
  curl_multi_remove_handle(multi.get(), easy.get());
  streaming.store(false);
  created = stream.created;
  if (stream.reauthenticate) {
    CallOptions how;
    how.cancel = &stopping;
    (void)core->authenticate(how);
  }
  return core->endpoint(member) + "/v3/watch: " + end;
}

void WatchRunner::run() {
  std::size_t member = core->preferred();
  std::size_t failures = 0;  // streams in a row that etcd never confirmed
  while (!stopping.load()) {
    bool created = false;
    std::string why = stream_once(member, created);
    if (stopping.load()) break;
    if (on_error)
      on_error("watch of \"" + prefix + "\" broke, resuming from revision " + std::to_string(next_revision) + ": " +
               why);
    member = (member + 1) % core->members();  // the one that broke may be the one in trouble
    failures = created ? 0 : failures + 1;
    // Once every member failed, wait a little before the next round rather than spin.
    if (failures >= core->members())
      pause(std::min<Duration>(core->options().request_timeout, std::chrono::milliseconds(500)));
  }
}

struct Watch::Impl {
  std::shared_ptr<WatchRunner> runner;
};

Watch::Watch(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Watch::~Watch() { stop(); }

void Watch::stop() {
  if (!impl_ || !impl_->runner->thread.joinable()) return;
  auto& runner = *impl_->runner;
  runner.stopping.store(true);
  curl_multi_wakeup(runner.multi.get());
  if (runner.thread.get_id() == std::this_thread::get_id()) {
    runner.thread.detach();  // from its own callback: the thread ends after it, holding the runner
    return;
  }
  runner.thread.join();
}

bool Watch::streaming() const { return impl_ && impl_->runner->streaming.load(); }

std::unique_ptr<Watch> start_watch(std::shared_ptr<Core> core, const std::string& prefix, std::int64_t start_revision,
                                   Client::OnEvents on_events, Client::OnError on_error) {
  auto runner = std::make_shared<WatchRunner>();
  runner->core = std::move(core);
  runner->prefix = prefix;
  runner->next_revision = start_revision;
  runner->on_events = std::move(on_events);
  runner->on_error = std::move(on_error);
  runner->multi.reset(curl_multi_init());
  runner->thread = std::thread([runner] { runner->run(); });
  auto impl = std::make_unique<Watch::Impl>();
  impl->runner = std::move(runner);
  return std::make_unique<Watch>(std::move(impl));
}

}  // namespace chaosplus::etcd
