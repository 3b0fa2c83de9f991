#include "support/chromium.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string_view>
#include <thread>

namespace chaosplus::testing {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

std::string base64_decode(const std::string& text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  out.reserve(text.size() * 3 / 4);
  unsigned bits = 0;
  int count = 0;
  for (char c : text) {
    if (c == '=') break;
    int v = value(c);
    if (v < 0) throw std::runtime_error("chromium: a screenshot's base64 has a bad character");
    bits = (bits << 6) | static_cast<unsigned>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xff));
    }
  }
  return out;
}

// The text of a console call's arguments, as the DevTools console would show them.
std::string console_text(const json& args) {
  std::string text;
  for (const auto& arg : args) {
    if (!text.empty()) text += ' ';
    if (arg.contains("value")) {
      text += arg["value"].is_string() ? arg["value"].get<std::string>() : arg["value"].dump();
    } else if (arg.contains("description")) {
      text += arg["description"].get<std::string>();
    } else {
      text += arg.value("type", "?");
    }
  }
  return text;
}

std::string exception_text(const json& details) {
  std::string text = details.value("text", "exception");
  if (details.contains("exception") && details["exception"].contains("description"))
    text += ": " + details["exception"]["description"].get<std::string>();
  if (details.contains("url"))
    text += " (" + details["url"].get<std::string>() + ":" + std::to_string(details.value("lineNumber", 0) + 1) + ")";
  return text;
}

bool always_allowed(const std::string& url) {
  return url.starts_with("file:") || url.starts_with("data:") || url.starts_with("blob:");
}

}  // namespace

struct Chromium::Impl {
  Options options;
  std::string profile;
  pid_t pid = -1;
  int fd = -1;  // our end of the socket the browser has as fd 3 and fd 4
  std::thread reader;
  std::string session;

  mutable std::mutex mutex;
  std::condition_variable changed;
  std::mutex write_mutex;
  int next_id = 1;
  std::map<int, json> replies;
  std::set<int> unawaited;          // ids of messages sent without waiting for their answer
  bool closed = false;              // the browser closed its end
  std::set<std::string> lifecycle;  // "<loaderId> <event name>" seen so far
  std::vector<std::string> console;
  std::vector<std::string> errors;
  std::vector<std::string> blocked;
  std::vector<std::string> dialogs;
  bool filtering = false;
  std::string allowed_origin;  // empty: nothing but always_allowed()

  void start();
  void read_loop();
  void on_event(const json& message);
  void write(const json& message);
  json call(const std::string& method, json params = json::object(), bool in_session = true,
            std::chrono::milliseconds timeout = std::chrono::milliseconds(0));
  void stop();
  std::string log_tail() const;
};

std::string Chromium::Impl::log_tail() const {
  std::ifstream in(profile + "/chromium.log", std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text.size() > 4000 ? text.substr(text.size() - 4000) : text;
}

void Chromium::Impl::start() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "chaosplus-chromium-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("chromium: mkdtemp failed");
  profile = tmpl;
  if (::access(options.executable.c_str(), X_OK) != 0)
    throw std::runtime_error("chromium: " + options.executable +
                             " is not an executable (scripts/setup.sh installs it)");

  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
    throw std::runtime_error("chromium: socketpair failed");
  const std::string log = profile + "/chromium.log";
  std::vector<std::string> argv = {
      options.executable, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--no-default-browser-check", "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--disable-extensions", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
      // No host name resolves: only loopback addresses (our servers) are reachable.
      "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.*", "--user-data-dir=" + profile,
      "--window-size=" + std::to_string(options.width) + "," + std::to_string(options.height),
      "--remote-debugging-pipe", "about:blank"};
  // Its crash handler and caches would go under ~/.config and ~/.cache: keep them in the profile.
  std::vector<std::string> env = {"HOME=" + profile + "/home", "XDG_CONFIG_HOME=" + profile + "/config",
                                  "XDG_CACHE_HOME=" + profile + "/cache"};
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    if (!entry.starts_with("HOME=") && !entry.starts_with("XDG_CONFIG_HOME=") && !entry.starts_with("XDG_CACHE_HOME="))
      env.emplace_back(entry);
  }
  // Everything the child needs is made before fork: after it, only system calls (other threads of
  // the test may hold the allocator's lock).
  std::vector<char*> args, envp;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  sigset_t none;
  sigemptyset(&none);
  pid = ::fork();
  if (pid < 0) throw std::runtime_error("chromium: fork failed");
  if (pid == 0) {
    ::setpgid(0, 0);
    // Above 3 and 4 first, so the dup2s below never meet their own source (which would keep CLOEXEC).
    int end = ::fcntl(pair[1], F_DUPFD, 10);
    ::dup2(end, 3);
    ::dup2(end, 4);
    int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(out, 1);
    ::dup2(out, 2);
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  ::close(pair[1]);
  fd = pair[0];
  reader = std::thread([this] { read_loop(); });

  const json target = call("Target.createTarget", {{"url", "about:blank"}}, false);
  const json attached = call("Target.attachToTarget", {{"targetId", target["targetId"]}, {"flatten", true}}, false);
  session = attached["sessionId"].get<std::string>();
  call("Page.enable");
  call("Page.setLifecycleEventsEnabled", {{"enabled", true}});
  call("Runtime.enable");
  call("Log.enable");
  call("Inspector.enable");
  call("Network.enable");
  call("Emulation.setDeviceMetricsOverride",
       {{"width", options.width}, {"height", options.height}, {"deviceScaleFactor", 1}, {"mobile", false}});
}

void Chromium::Impl::read_loop() {
  std::string buffer;
  char chunk[65536];
  while (true) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buffer.append(chunk, static_cast<size_t>(n));
    size_t end;
    while ((end = buffer.find('\0')) != std::string::npos) {
      json message = json::parse(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(end), nullptr, false);
      buffer.erase(0, end + 1);
      if (message.is_discarded()) continue;
      if (message.contains("id")) {
        const int id = message["id"].get<int>();
        std::lock_guard lock(mutex);
        if (unawaited.erase(id) > 0) continue;
        replies[id] = std::move(message);
        changed.notify_all();
      } else {
        on_event(message);
      }
    }
  }
  std::lock_guard lock(mutex);
  closed = true;
  changed.notify_all();
}

void Chromium::Impl::on_event(const json& message) {
  const std::string method = message.value("method", "");
  const json params = message.value("params", json::object());
  if (method == "Fetch.requestPaused") {
    const std::string url = params["request"].value("url", "");
    bool allow;
    {
      std::lock_guard lock(mutex);
      allow = always_allowed(url) ||
              (!allowed_origin.empty() && (url == allowed_origin || url.starts_with(allowed_origin + "/")));
      if (!allow) blocked.push_back(url);
    }
    // Answered from the reader thread: a paused request must not wait for the test's next call.
    json reply = {{"sessionId", message.value("sessionId", session)}, {"params", {{"requestId", params["requestId"]}}}};
    if (allow) {
      reply["method"] = "Fetch.continueRequest";
    } else {
      reply["method"] = "Fetch.failRequest";
      reply["params"]["errorReason"] = "BlockedByClient";
    }
    {
      std::lock_guard lock(mutex);
      reply["id"] = next_id;
      unawaited.insert(next_id++);
    }
    write(reply);
    return;
  }
  if (method == "Page.javascriptDialogOpening") {
    // A confirm() before a HALT or a start is answered yes, as the user pressing OK would; noted.
    json reply = {{"sessionId", message.value("sessionId", session)},
                  {"method", "Page.handleJavaScriptDialog"},
                  {"params", {{"accept", true}}}};
    {
      std::lock_guard lock(mutex);
      dialogs.push_back(params.value("type", "dialog") + ": " + params.value("message", ""));
      reply["id"] = next_id;
      unawaited.insert(next_id++);
    }
    write(reply);
    return;
  }
  std::lock_guard lock(mutex);
  if (method == "Page.lifecycleEvent") {
    lifecycle.insert(params.value("loaderId", "") + " " + params.value("name", ""));
    changed.notify_all();
  } else if (method == "Runtime.consoleAPICalled") {
    const std::string level = params.value("type", "log");
    const std::string text = level + ": " + console_text(params.value("args", json::array()));
    console.push_back(text);
    if (level == "error" || level == "assert") errors.push_back("console." + text);
  } else if (method == "Inspector.targetCrashed") {
    errors.push_back("the page's renderer crashed");
  } else if (method == "Runtime.exceptionThrown") {
    errors.push_back("exception: " + exception_text(params.value("exceptionDetails", json::object())));
  } else if (method == "Log.entryAdded") {
    const json& entry = params["entry"];
    if (entry.value("level", "") == "error") {
      std::string text = "log." + entry.value("source", "other") + ": " + entry.value("text", "");
      if (entry.contains("url")) text += " (" + entry["url"].get<std::string>() + ")";
      errors.push_back(text);
    }
  }
}

void Chromium::Impl::write(const json& message) {
  std::string text = message.dump();
  text.push_back('\0');
  std::lock_guard lock(write_mutex);
  size_t sent = 0;
  while (sent < text.size()) {
    ssize_t n = ::send(fd, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error("chromium: the browser closed its pipe; its log:\n" + log_tail());
    sent += static_cast<size_t>(n);
  }
}

json Chromium::Impl::call(const std::string& method, json params, bool in_session, std::chrono::milliseconds timeout) {
  if (timeout.count() == 0) timeout = options.call_timeout;
  json message = {{"method", method}, {"params", std::move(params)}};
  if (in_session) message["sessionId"] = session;
  int id;
  {
    std::lock_guard lock(mutex);
    id = next_id++;
  }
  message["id"] = id;
  write(message);
  std::unique_lock lock(mutex);
  const bool answered =
      changed.wait_until(lock, Clock::now() + timeout, [&] { return replies.contains(id) || closed; });
  if (!replies.contains(id)) {
    if (answered)
      throw std::runtime_error("chromium: no answer to " + method + ": the browser closed its pipe; its log:\n" +
                               log_tail());
    throw std::runtime_error("chromium: no answer to " + method + " within " + std::to_string(timeout.count()) + " ms");
  }
  json reply = std::move(replies[id]);
  replies.erase(id);
  if (reply.contains("error")) throw std::runtime_error("chromium: " + method + " failed: " + reply["error"].dump());
  return reply.value("result", json::object());
}

void Chromium::Impl::stop() {
  if (pid > 0) {
    try {
      if (fd >= 0) call("Browser.close", json::object(), false, std::chrono::seconds(5));
    } catch (const std::exception&) {
      // The browser may already be gone or hung: the SIGKILL below ends it either way.
    }
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    int status = 0;
    bool reaped = false;
    while (Clock::now() < deadline) {
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        reaped = true;
        break;
      }
      ::poll(nullptr, 0, 20);
    }
    // Its helpers (zygote, renderers) share its process group: none outlives the test.
    ::kill(-pid, SIGKILL);
    if (!reaped) ::waitpid(pid, &status, 0);
    pid = -1;
  }
  if (fd >= 0) {
    ::shutdown(fd, SHUT_RDWR);
    if (reader.joinable()) reader.join();
    ::close(fd);
    fd = -1;
  }
  if (!profile.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(profile, ec);
  }
}

Chromium::Chromium() : Chromium(Options{}) {}

Chromium::Chromium(Options options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  try {
    impl_->start();
  } catch (...) {
    impl_->stop();
    throw;
  }
}

Chromium::~Chromium() { impl_->stop(); }

void Chromium::open(const std::string& url) {
  const json result = impl_->call("Page.navigate", {{"url", url}});
  if (result.contains("errorText") && !result["errorText"].get<std::string>().empty())
    throw std::runtime_error("chromium: opening " + url + " failed: " + result["errorText"].get<std::string>());
  const std::string loaded = result.value("loaderId", "") + " load";
  std::unique_lock lock(impl_->mutex);
  if (!impl_->changed.wait_for(lock, impl_->options.call_timeout,
                               [&] { return impl_->lifecycle.contains(loaded) || impl_->closed; }) ||
      !impl_->lifecycle.contains(loaded))
    throw std::runtime_error("chromium: " + url + " did not finish loading within " +
                             std::to_string(impl_->options.call_timeout.count()) + " ms");
}

nlohmann::json Chromium::evaluate(const std::string& expression) {
  const json result =
      impl_->call("Runtime.evaluate",
                  {{"expression", expression}, {"returnByValue", true}, {"awaitPromise", true}, {"userGesture", true}});
  if (result.contains("exceptionDetails"))
    throw std::runtime_error("chromium: evaluating `" + expression + "` threw " +
                             exception_text(result["exceptionDetails"]));
  return result["result"].value("value", json());
}

bool Chromium::wait_for(const std::string& condition, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const std::string expression = "(() => { try { return !!(" + condition + "); } catch (e) { return false; } })()";
  while (true) {
    if (evaluate(expression).get<bool>()) return true;
    if (Clock::now() >= deadline) return false;
    ::poll(nullptr, 0, 25);  // the polling interval of a deadline-bounded wait
  }
}

void Chromium::click(const std::string& selector) {
  const json where =
      evaluate("(() => { const e = document.querySelector(" + json(selector).dump() +
               "); if (!e) return null; e.scrollIntoView({block: 'center', inline: 'center'});"
               " const r = e.getBoundingClientRect();"
               " return {x: r.left + r.width / 2, y: r.top + r.height / 2, w: r.width, h: r.height}; })()");
  if (where.is_null()) throw std::runtime_error("chromium: click: nothing matches " + selector);
  if (where["w"].get<double>() <= 0 || where["h"].get<double>() <= 0)
    throw std::runtime_error("chromium: click: " + selector + " has no size (hidden?)");
  const double x = where["x"].get<double>(), y = where["y"].get<double>();
  impl_->call("Input.dispatchMouseEvent", {{"type", "mouseMoved"}, {"x", x}, {"y", y}});
  for (const char* type : {"mousePressed", "mouseReleased"}) {
    impl_->call("Input.dispatchMouseEvent",
                {{"type", type}, {"x", x}, {"y", y}, {"button", "left"}, {"buttons", 1}, {"clickCount", 1}});
  }
}

void Chromium::screenshot(const std::string& path, bool full_page) {
  json params = {{"format", "png"}};
  if (full_page) {
    const json metrics = impl_->call("Page.getLayoutMetrics");
    const json& size = metrics["cssContentSize"];
    params["captureBeyondViewport"] = true;
    params["clip"] = {{"x", 0}, {"y", 0}, {"width", impl_->options.width}, {"height", size["height"]}, {"scale", 1}};
  }
  const json result = impl_->call("Page.captureScreenshot", params);
  const std::string bytes = base64_decode(result.value("data", ""));
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("chromium: cannot write the screenshot to " + path);
}

void Chromium::offline() {
  impl_->call("Network.emulateNetworkConditions",
              {{"offline", true}, {"latency", 0}, {"downloadThroughput", -1}, {"uploadThroughput", -1}});
  allow_only("");
}

void Chromium::allow_only(const std::string& origin) {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->allowed_origin = origin;
  }
  if (!impl_->filtering) {
    impl_->call("Fetch.enable", {{"patterns", json::array({{{"urlPattern", "*"}, {"requestStage", "Request"}}})}});
    impl_->filtering = true;
  }
}

std::vector<std::string> Chromium::blocked_requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->blocked;
}

std::vector<std::string> Chromium::dialogs() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->dialogs;
}

std::vector<std::string> Chromium::console() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->console;
}

std::vector<std::string> Chromium::errors() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->errors;
}

pid_t Chromium::pid() const { return impl_->pid; }
const std::string& Chromium::profile_dir() const { return impl_->profile; }

PngSize png_size(const std::string& bytes) {
  static const std::string signature = "\x89PNG\r\n\x1a\n";
  if (bytes.size() < 24 || bytes.compare(0, 8, signature) != 0 || bytes.compare(12, 4, "IHDR") != 0) return {};
  auto be32 = [&](size_t at) {
    return static_cast<int>(
        (static_cast<unsigned char>(bytes[at]) << 24) | (static_cast<unsigned char>(bytes[at + 1]) << 16) |
        (static_cast<unsigned char>(bytes[at + 2]) << 8) | static_cast<unsigned char>(bytes[at + 3]));
  };
  return {be32(16), be32(20)};
}

}  // namespace chaosplus::testing
