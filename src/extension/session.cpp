#include "extension/session.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

#include "targets/launch.h"
#include "targets/program.h"

extern char** environ;

namespace chaosplus::extension {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

// A line longer than this is a broken extension, not a reply.
constexpr std::size_t kMaxLine = 4 * 1024 * 1024;
constexpr std::size_t kStderrTail = 2048;

int wait_ms(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 1000));
}

std::vector<std::string> environment(const spec::ExtensionCommand& command) {
  std::map<std::string, std::string> vars;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string entry(*e);
    const auto eq = entry.find('=');
    if (eq != std::string::npos) vars[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto& [k, v] : command.env) vars[k] = v;
  vars["CHAOSPLUS_EXTENSION_PROTOCOL"] = std::to_string(kProtocolVersion);
  vars["CHAOSPLUS_EXTENSION_NAME"] = command.name;
  std::vector<std::string> out;
  for (const auto& [k, v] : vars) out.push_back(k + "=" + v);
  return out;
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

Result<std::unique_ptr<Session>> Session::start(const spec::ExtensionCommand& command,
                                                const targets::BeforeExec& before_exec) {
  const std::string who = "extension '" + command.name + "'";
  if (command.argv.empty()) return Error{who + " has an empty command"};
  auto path = targets::find_executable(command.argv.front(), targets::default_search_dir(), command.cwd);
  if (!path) return Error{who + ": " + path.error()};

  // stdin is a socket, so a request to an extension that already exited fails with EPIPE
  // (MSG_NOSIGNAL) instead of a SIGPIPE to the runner.
  int in[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0) {
    return Error{who + ": socketpair: " + std::strerror(errno)};
  }
  net::Fd in_child(in[0]), in_ours(in[1]);
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return Error{who + ": pipe: " + std::strerror(errno)};
  net::Fd out_ours(out[0]), out_child(out[1]);
  if (::pipe2(err, O_CLOEXEC) != 0) return Error{who + ": pipe: " + std::strerror(errno)};
  net::Fd err_ours(err[0]), err_child(err[1]);
  ::fcntl(out_ours.get(), F_SETFL, O_NONBLOCK);
  ::fcntl(err_ours.get(), F_SETFL, O_NONBLOCK);
  ::fcntl(in_ours.get(), F_SETFL, O_NONBLOCK);

  std::unique_ptr<Session> session(new Session());  // private constructor: make_unique cannot reach it
  session->name_ = command.name;
  if (!command.log.empty()) {
    session->log_ = net::Fd(::open(command.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (!session->log_.valid())
      return Error{who + ": cannot open its log " + command.log + ": " + std::strerror(errno)};
  }

  targets::ChildPlan plan;
  plan.path = *path;
  plan.argv = command.argv;
  plan.env = environment(command);
  plan.cwd = command.cwd;
  plan.stdin_fd = in_child.get();
  plan.stdout_fd = out_child.get();
  plan.stderr_fd = err_child.get();
  plan.new_session = false;     // its own process group, stopped with what it starts
  plan.die_with_parent = true;  // a killed runner leaves no extension half way; recover reverts it
  auto id = targets::start_gated(plan, before_exec);
  if (!id) return Error{who + ": cannot start " + targets::describe_command(command.argv) + ": " + id.error()};
  session->id_ = *id;
  session->in_ = std::move(in_ours);
  session->out_ = std::move(out_ours);
  session->err_ = std::move(err_ours);
  return session;
}

Session::~Session() { (void)finish(std::chrono::seconds(2)); }

void Session::drain_stderr() {
  if (!err_.valid()) return;
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(err_.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {
      err_.reset();
      return;
    }
    if (n < 0) return;  // EAGAIN: nothing more for now
    if (log_.valid()) (void)!::write(log_.get(), buf, static_cast<std::size_t>(n));
    err_tail_.append(buf, static_cast<std::size_t>(n));
    if (err_tail_.size() > kStderrTail) err_tail_.erase(0, err_tail_.size() - kStderrTail);
  }
}

Session::Read Session::read_line(Clock::time_point deadline, std::string& line) {
  while (true) {
    if (const auto nl = out_buf_.find('\n'); nl != std::string::npos) {
      line = out_buf_.substr(0, nl);
      out_buf_.erase(0, nl + 1);
      return Read::line;
    }
    if (out_buf_.size() > kMaxLine) {
      line = out_buf_.substr(0, 200);
      out_buf_.clear();
      return Read::line;  // judged (and refused) as an unreadable line by the caller
    }
    if (!out_.valid()) return Read::eof;
    const auto now = Clock::now();
    if (now >= deadline) return Read::timeout;
    std::array<pollfd, 2> fds{pollfd{out_.get(), POLLIN, 0}, pollfd{err_.valid() ? err_.get() : -1, POLLIN, 0}};
    if (::poll(fds.data(), fds.size(), wait_ms(deadline)) < 0 && errno != EINTR) return Read::eof;
    drain_stderr();
    char buf[16384];
    while (true) {
      const ssize_t n = ::read(out_.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) {
        out_.reset();
        // A last line without its newline still counts.
        if (!out_buf_.empty()) out_buf_.push_back('\n');
        break;
      }
      if (n < 0) break;
      out_buf_.append(buf, static_cast<std::size_t>(n));
      if (out_buf_.find('\n') != std::string::npos || out_buf_.size() > kMaxLine) break;
    }
  }
}

Status Session::send_line(const std::string& line, Clock::time_point deadline) {
  std::string_view rest = line;
  while (!rest.empty()) {
    const ssize_t n = ::send(in_.get(), rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n > 0) {
      rest.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      if (Clock::now() >= deadline) return Error{"it did not read its input in time"};
      pollfd fd{in_.get(), POLLOUT, 0};
      ::poll(&fd, 1, wait_ms(deadline));
      drain_stderr();
      continue;
    }
    return Error{std::string("writing to its stdin: ") + std::strerror(errno)};
  }
  return ok_status();
}

Error Session::fail(const std::string& what) {
  over_ = true;
  in_.reset();
  (void)targets::stop(id_, Duration::zero());
  drain_stderr();
  std::string tail = err_tail_;
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == ' ')) tail.pop_back();
  if (const auto nl = tail.rfind('\n', tail.size() > 300 ? tail.size() - 300 : 0); tail.size() > 300) {
    tail = "..." + tail.substr(nl == std::string::npos ? tail.size() - 300 : nl + 1);
  }
  return Error{"extension '" + name_ + "' " + what + (tail.empty() ? "" : " (its stderr: " + tail + ")")};
}

Result<json> Session::request(const std::string& kind, const json& body, Duration timeout, const Handlers& handlers) {
  if (over_) return Error{"extension '" + name_ + "': its session is over"};
  const auto deadline = Clock::now() + timeout;
  const long long id = ++next_id_;
  json message = body.is_object() ? body : json::object();
  message["protocol"] = kProtocolVersion;
  message["id"] = id;
  message["request"] = kind;
  if (auto s = send_line(message.dump() + "\n", deadline); !s) {
    // An extension that already ended refuses the write (EPIPE): whether it ended before or after
    // the write began is a race, so both are told as what they are, an exit before the answer.
    const auto code = finish(std::chrono::seconds(2));
    return fail("exited before answering the " + kind + " request (it stopped reading its stdin: " + s.error() +
                (code ? "; exit code " + std::to_string(*code) : "") + ")");
  }
  int line_number = 0;
  while (true) {
    std::string line;
    const Read read = read_line(deadline, line);
    if (read == Read::timeout) {
      return fail("did not answer the " + kind + " request within " + format_duration(timeout) + "; it was stopped");
    }
    if (read == Read::eof) {
      const auto code = finish(std::chrono::seconds(2));
      return fail("exited before answering the " + kind + " request" +
                  (code ? " (exit code " + std::to_string(*code) + ")" : ""));
    }
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank lines are allowed
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      return fail("wrote a line that is not a JSON object while answering " + kind + ": " + line.substr(0, 200));
    }
    if (const auto e = j.find("event"); e != j.end()) {
      if (!e->is_string() || e->get<std::string>().empty())
        return fail("wrote an event without a name: " + line.substr(0, 200));
      const std::string event_name = e->get<std::string>();
      j.erase("event");
      if (handlers.on_event) handlers.on_event(event_name, j);
      continue;
    }
    if (const auto c = j.find("checkpoint"); c != j.end()) {
      Status stored = handlers.on_checkpoint ? handlers.on_checkpoint(*c)
                                             : Status(Error{"checkpoints are taken only during inject"});
      json answer = stored ? json{{"checkpointed", true}} : json{{"checkpointed", false}, {"error", stored.error()}};
      if (auto s = send_line(answer.dump() + "\n", deadline); !s)
        return fail("cannot be answered a checkpoint: " + s.error());
      continue;
    }
    const auto reply_id = j.find("id");
    if (reply_id == j.end()) {
      return fail("wrote a line that is no reply, event or checkpoint while answering " + kind + ": " +
                  line.substr(0, 200));
    }
    if (!reply_id->is_number_integer() || reply_id->get<long long>() != id) {
      return fail("answered with id " + reply_id->dump() + " where " + std::to_string(id) + " was asked");
    }
    const auto ok = j.find("ok");
    if (ok == j.end() || !ok->is_boolean()) return fail("answered " + kind + " without \"ok\": true or false");
    if (!ok->get<bool>()) {
      const auto error = j.find("error");
      return Error{
          "extension '" + name_ + "' refused " + kind + ": " +
          (error != j.end() && error->is_string() ? error->get<std::string>() : std::string("(no error given)"))};
    }
    return j;
  }
}

Result<int> Session::finish(Duration grace) {
  if (exit_code_) return *exit_code_;
  in_.reset();  // end of file on its stdin: it should exit 0
  const auto deadline = Clock::now() + grace;
  while (true) {
    int status = 0;
    const pid_t r = ::waitpid(id_.pid, &status, WNOHANG);
    if (r == id_.pid) {
      exit_code_ = exit_code_of(status);
      break;
    }
    if (r < 0 && errno != EINTR) {  // not our child any more: nothing to reap
      exit_code_ = -1;
      break;
    }
    if (Clock::now() >= deadline) {
      ::kill(-id_.pid, SIGKILL);  // not reaped yet, so the group id is still its own
      ::kill(id_.pid, SIGKILL);
      while (::waitpid(id_.pid, &status, 0) < 0 && errno == EINTR) {
      }
      exit_code_ = exit_code_of(status);
      break;
    }
    // Its output is read while waiting, so a chatty extension never blocks on a full pipe.
    std::array<pollfd, 2> fds{pollfd{out_.valid() ? out_.get() : -1, POLLIN, 0},
                              pollfd{err_.valid() ? err_.get() : -1, POLLIN, 0}};
    ::poll(fds.data(), fds.size(), std::min(wait_ms(deadline), 10));
    drain_stderr();
    if (out_.valid()) {
      char buf[4096];
      const ssize_t n = ::read(out_.get(), buf, sizeof buf);
      if (n == 0) out_.reset();
    }
  }
  drain_stderr();
  over_ = true;
  return *exit_code_;
}

Result<json> call(const spec::ExtensionCommand& command, const std::string& kind, const json& body, Duration timeout,
                  const Handlers& handlers, const targets::BeforeExec& before_exec) {
  auto session = Session::start(command, before_exec);
  if (!session) return Error{session.error()};
  auto reply = (*session)->request(kind, body, timeout, handlers);
  (void)(*session)->finish();
  return reply;
}

Result<Description> describe(const spec::ExtensionCommand& command, Duration timeout) {
  auto reply = call(command, "describe", json::object(), timeout);
  if (!reply) return Error{reply.error()};
  auto d = parse_description(*reply);
  if (!d) return Error{"extension '" + command.name + "': " + d.error()};
  return d;
}

}  // namespace chaosplus::extension
