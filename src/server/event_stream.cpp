// GET /api/runs/{id}/events/stream: the run's events as Server-Sent Events, from the store.
#include "net/http_server.h"
#include "server/api_util.h"
#include "server/routes.h"
#include "server/sse.h"

namespace chaosplus::server {
namespace {

using Clock = std::chrono::steady_clock;

// Counts the stream among the open ones for as long as it lives.
class StreamSlot {
 public:
  explicit StreamSlot(std::atomic<int>& open) : open_(open) { ++open_; }
  ~StreamSlot() { --open_; }
  StreamSlot(const StreamSlot&) = delete;
  StreamSlot& operator=(const StreamSlot&) = delete;

 private:
  std::atomic<int>& open_;
};

}  // namespace

net::Response stream_events(ServerState& state, const std::string& id, const net::Request& request) {
  // Where to resume: the browser's Last-Event-ID on a reconnect, else ?after=.
  std::int64_t after = 0;
  std::string from(request.header("Last-Event-ID"));
  const char* from_what = "Last-Event-ID";
  if (from.empty()) {
    from = request.query_param("after");
    from_what = "after";
  }
  if (!from.empty()) {
    auto n = parse_count(from, 0, std::numeric_limits<long long>::max(), from_what);
    if (!n) return error_json(400, n.error());
    after = *n;
  }
  auto found = find_run(state, id);
  if (!found.row) return found.error;
  const store::RunRow run = *found.row;
  // A run that has ended and whose events were all sent: 204 tells EventSource not to reconnect.
  if (run.status != store::RunStatus::running && after >= run.events) {
    net::Response done;
    done.status = 204;
    return done;
  }
  if (state.streams.load() >= state.options.max_streams) {
    return error_json(503, "too many event streams open (" + std::to_string(state.options.max_streams) + ")");
  }

  net::Response response;
  response.headers = {
      {"Content-Type", "text/event-stream"}, {"Cache-Control", "no-store"}, {"X-Accel-Buffering", "no"}};
  ServerState* shared = &state;
  response.stream = [shared, run_id = run.run_id, after](net::ResponseStream& out) mutable {
    StreamSlot slot(shared->streams);
    const auto& o = shared->options;
    if (!out.write("retry: 1000\n\n")) return;
    auto quiet_since = Clock::now();
    bool verdict_sent = false;
    while (true) {
      // The status first: events stored before a status that says "ended" are then all read below.
      auto row = shared->store->find_run(run_id);
      auto events = shared->store->events(run_id, after, 500);
      if (!events || !row || !*row) {
        out.write(sse_message(after, "stream.error", "{\"error\":\"the store cannot be read\"}"));
        return;
      }
      for (const auto& e : *events) {
        if (!out.write(sse_message(e.seq, e.event.type, event_json(e)))) return;
        after = e.seq;
        verdict_sent = verdict_sent || e.event.type == "run.verdict";
      }
      if (!events->empty()) quiet_since = Clock::now();
      const bool ended = (*row)->status != store::RunStatus::running;
      if (events->size() < 500 && (verdict_sent || ended)) return;
      if (Clock::now() - quiet_since >= o.sse_keepalive) {
        if (!out.write(sse_comment("keep-alive"))) return;
        quiet_since = Clock::now();
      }
      if (events->size() < 500 && !out.wait(o.sse_poll)) return;
    }
  };
  return response;
}

}  // namespace chaosplus::server
