#pragma once
// Talking to one running extension (docs/extensions.md): the executable is started through the
// start gate (targets/gated_child.h) with a socket on stdin and pipes on stdout and stderr; requests
// go out one JSON object per line, replies, events and checkpoints come back one per line. Every
// wait has a deadline; an extension that does not answer in time is killed with its process group.
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "core/result.h"
#include "core/units.h"
#include "extension/protocol.h"
#include "net/socket.h"
#include "spec/experiment.h"
#include "targets/gated_child.h"
#include "targets/process.h"

namespace chaosplus::extension {

// What the caller does with the lines an extension may send before its reply.
struct Handlers {
  // {"event": "<name>", fields...}: fields without "event".
  std::function<void(const std::string& name, const nlohmann::json& fields)> on_event;
  // {"checkpoint": <record>}: the caller stores the record (the ledger) before the extension goes
  // on; an error is sent back and the extension must not change anything. Unset: refused.
  std::function<Status(const nlohmann::json& record)> on_checkpoint;
};

class Session {
 public:
  // Starts `command` (argv[0] looked up as targets::find_executable does). `before_exec` gets its
  // identity before it runs.
  static Result<std::unique_ptr<Session>> start(const spec::ExtensionCommand& command,
                                                const targets::BeforeExec& before_exec = {});
  ~Session();  // finish() with a short grace
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Sends {"protocol": 1, "id": n, "request": kind, ...body} and waits for the line with that id.
  // Errors: the extension's own {"ok": false, "error": ...}, a line that is not a JSON object or
  // not a known kind, its exit before answering, or no answer within `timeout`. After any error but
  // the extension's own, the session is over (the process is stopped).
  Result<nlohmann::json> request(const std::string& kind, const nlohmann::json& body, Duration timeout,
                                 const Handlers& handlers = {});

  // Closes its stdin and waits up to `grace` for it to exit, then kills its group. Its exit code
  // (128 + signal when killed).
  Result<int> finish(Duration grace = std::chrono::seconds(5));

  const targets::ProcessId& id() const { return id_; }
  const std::string& name() const { return name_; }
  // The last 2 KiB it wrote to stderr, for messages.
  const std::string& stderr_tail() const { return err_tail_; }

 private:
  Session() = default;
  enum class Read { line, eof, timeout };
  Read read_line(std::chrono::steady_clock::time_point deadline, std::string& line);
  void drain_stderr();
  Status send_line(const std::string& line, std::chrono::steady_clock::time_point deadline);
  Error fail(const std::string& what);  // stops the process, adds the stderr tail

  std::string name_;
  targets::ProcessId id_;
  net::Fd in_, out_, err_, log_;
  std::string out_buf_;
  std::string err_tail_;
  long long next_id_ = 0;
  bool over_ = false;
  std::optional<int> exit_code_;
};

// One session for one request: start, ask, finish.
Result<nlohmann::json> call(const spec::ExtensionCommand& command, const std::string& kind, const nlohmann::json& body,
                            Duration timeout, const Handlers& handlers = {},
                            const targets::BeforeExec& before_exec = {});

// Asks for its `describe` reply and reads it (protocol.h).
Result<Description> describe(const spec::ExtensionCommand& command, Duration timeout = std::chrono::seconds(10));

}  // namespace chaosplus::extension
