// The headless Chromium driver (tests/support/chromium.h) against pages of our own: what the report
// and dashboard tests rely on works, and a blocked network is really blocked.
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <sstream>

#include "net/http_server.h"
#include "support/chromium.h"
#include "support/support.h"

namespace chaosplus::testing {
namespace {

using namespace std::chrono_literals;

const char* kPage = R"(<!doctype html>
<html><head><title>driver</title></head>
<body style="margin:0">
<button id="go" style="position:absolute; left:300px; top:200px; width:120px; height:40px">go</button>
<p id="result">nothing yet</p>
<script>
  let clicks = 0;
  document.getElementById('go').addEventListener('click', (e) => {
    clicks += 1;
    document.getElementById('result').textContent = 'clicked ' + clicks + (e.isTrusted ? ' trusted' : ' synthetic');
  });
  setTimeout(() => { window.ready = true; }, 200);
</script>
</body></html>)";

std::string file_url(const std::string& path) { return "file://" + path; }

// Every process whose command line names `needle`.
std::vector<pid_t> processes_naming(const std::string& needle) {
  std::vector<pid_t> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = read_file(entry.path().string() + "/cmdline");
    for (auto& c : cmdline)
      if (c == '\0') c = ' ';
    if (cmdline.find(needle) != std::string::npos) found.push_back(std::stoi(name));
  }
  return found;
}

// Live (not zombie) processes of process group `group`: a zombie is dead, left to its parent (init).
std::vector<pid_t> live_members(pid_t group) {
  std::vector<pid_t> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = read_file(entry.path().string() + "/stat");
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 2));
    char state = 0;
    pid_t parent = 0, pgrp = 0;
    fields >> state >> parent >> pgrp;
    if (pgrp == group && state != 'Z') found.push_back(std::stoi(name));
  }
  return found;
}

// A loopback HTTP server that counts the requests it answers.
class CountingServer {
 public:
  explicit CountingServer(std::string page = "pong")
      : server_({}, [this, page](const net::Request&) {
          ++requests_;
          auto response = net::Response::text(200, page);
          if (page.starts_with("<!doctype")) response.set_header("Content-Type", "text/html");
          response.set_header("Access-Control-Allow-Origin", "*");
          return response;
        }) {
    if (!server_.start().ok()) throw std::runtime_error("the counting server did not start");
  }
  std::string origin() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }
  int requests() const { return requests_; }

 private:
  std::atomic<int> requests_{0};
  net::HttpServer server_;
};

// A fetch from the page: "ok <status>" or "refused: <error>".
std::string fetch_js(const std::string& url) {
  return "fetch('" + url +
         "', {mode: 'cors', cache: 'no-store'})"
         ".then(r => 'ok ' + r.status, e => 'refused: ' + e.message)";
}

TEST(BrowserDriver, OpensAFileEvaluatesAndWaits) {
  TempDir dir;
  write_file(dir.file("page.html"), kPage);
  Chromium browser;
  browser.open(file_url(dir.file("page.html")));
  EXPECT_EQ(browser.evaluate("1 + 2"), 3);
  EXPECT_EQ(browser.evaluate("document.title"), "driver");
  EXPECT_EQ(browser.evaluate("({a: [1, 'x'], b: null})"), nlohmann::json::parse(R"({"a": [1, "x"], "b": null})"));
  EXPECT_TRUE(browser.evaluate("undefined").is_null());
  EXPECT_EQ(browser.evaluate("new Promise(r => setTimeout(() => r('later'), 50))"), "later");
  EXPECT_TRUE(browser.wait_for("window.ready === true", 10s));
  EXPECT_FALSE(browser.wait_for("window.never === true", 300ms));
  EXPECT_FALSE(browser.wait_for("document.querySelector('#missing').textContent === 'x'", 200ms));  // throws: false
  EXPECT_THROW(browser.evaluate("nosuchfunction()"), std::runtime_error);
  EXPECT_THROW(browser.evaluate("Promise.reject(new Error('rejected'))"), std::runtime_error);
  EXPECT_THROW(browser.open("file:///nonexistent/chaosplus/page.html"), std::runtime_error);
}

TEST(BrowserDriver, ARealClickChangesTheDom) {
  TempDir dir;
  write_file(dir.file("page.html"), kPage);
  Chromium browser;
  browser.open(file_url(dir.file("page.html")));
  EXPECT_EQ(browser.evaluate("document.getElementById('result').textContent"), "nothing yet");
  browser.click("#go");
  EXPECT_TRUE(browser.wait_for("document.getElementById('result').textContent === 'clicked 1 trusted'", 5s))
      << browser.evaluate("document.getElementById('result').textContent");
  browser.click("#go");
  EXPECT_TRUE(browser.wait_for("document.getElementById('result').textContent === 'clicked 2 trusted'", 5s));
  EXPECT_THROW(browser.click("#nothing-here"), std::runtime_error);
  // A confirm() is answered OK (a HALT button may ask first).
  EXPECT_EQ(browser.evaluate("confirm('really halt?')"), true);
  EXPECT_EQ(browser.dialogs(), std::vector<std::string>{"confirm: really halt?"});
  EXPECT_TRUE(browser.errors().empty()) << browser.errors().front();
}

TEST(BrowserDriver, AScreenshotIsAPngOfTheViewportOrTheWholePage) {
  TempDir dir;
  write_file(dir.file("tall.html"),
             "<!doctype html><body style='margin:0'><div style='height:2000px; background:#36c'></div></body>");
  Chromium browser({.width = 640, .height = 480});
  browser.open(file_url(dir.file("tall.html")));
  browser.screenshot(dir.file("view.png"));
  const PngSize view = png_size(read_file(dir.file("view.png")));
  EXPECT_EQ(view.width, 640);
  EXPECT_EQ(view.height, 480);
  browser.screenshot(dir.file("page.png"), true);
  const PngSize page = png_size(read_file(dir.file("page.png")));
  EXPECT_EQ(page.width, 640);
  EXPECT_EQ(page.height, 2000);
  EXPECT_EQ(png_size("not a png").width, 0);
}

TEST(BrowserDriver, ExceptionsAndConsoleErrorsAreReported) {
  TempDir dir;
  write_file(dir.file("bad.html"), R"(<!doctype html><body><script>
    console.log('hello', 42);
    console.error('bad thing 7');
    setTimeout(() => { throw new Error('boom 42'); }, 10);
    Promise.reject(new Error('unhandled 9'));
  </script></body>)");
  Chromium browser;
  browser.open(file_url(dir.file("bad.html")));
  auto has = [&](const std::vector<std::string>& lines, const std::string& text) {
    for (const auto& line : lines)
      if (line.find(text) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(wait_until([&] { return has(browser.errors(), "boom 42"); }, 10s));
  EXPECT_TRUE(has(browser.errors(), "unhandled 9"));
  EXPECT_TRUE(has(browser.errors(), "console.error: bad thing 7"));
  EXPECT_TRUE(has(browser.console(), "log: hello 42"));
  EXPECT_FALSE(has(browser.errors(), "hello"));
}

// The block is proved against a server that is listening and answers when the network is on.
TEST(BrowserDriver, OfflineRefusesALoopbackServerThatIsListening) {
  TempDir dir;
  write_file(dir.file("page.html"), kPage);
  CountingServer server;
  Chromium browser;
  browser.open(file_url(dir.file("page.html")));
  const std::string url = server.origin() + "/ping";
  EXPECT_EQ(browser.evaluate(fetch_js(url)), "ok 200");
  EXPECT_EQ(server.requests(), 1);

  browser.offline();
  const std::string answer = browser.evaluate(fetch_js(url + "?again")).get<std::string>();
  EXPECT_TRUE(answer.starts_with("refused: ")) << answer;
  EXPECT_EQ(server.requests(), 1) << "the request reached the server";
  ASSERT_EQ(browser.blocked_requests().size(), 1u);
  EXPECT_EQ(browser.blocked_requests()[0], url + "?again");
  EXPECT_FALSE(browser.errors().empty()) << "a refused request is an error of the page";
  // Files still open: a report is read from file:// with the network off.
  browser.open(file_url(dir.file("page.html")));
  EXPECT_EQ(browser.evaluate("document.title"), "driver");
}

TEST(BrowserDriver, AllowOnlyLetsOneOriginThrough) {
  CountingServer allowed("<!doctype html><title>served</title>");
  CountingServer other;
  Chromium browser;
  browser.allow_only(allowed.origin());
  browser.open(allowed.origin() + "/");
  EXPECT_EQ(browser.evaluate("document.title"), "served");
  EXPECT_EQ(browser.evaluate(fetch_js(allowed.origin() + "/again")), "ok 200");
  const std::string answer = browser.evaluate(fetch_js(other.origin() + "/ping")).get<std::string>();
  EXPECT_TRUE(answer.starts_with("refused: ")) << answer;
  EXPECT_EQ(other.requests(), 0);
  EXPECT_EQ(browser.blocked_requests(), std::vector<std::string>{other.origin() + "/ping"});
}

TEST(BrowserDriver, ABrowserThatDoesNotStartIsAnError) {
  const auto start = std::chrono::steady_clock::now();
  try {
    Chromium browser({.executable = "/bin/false"});
    ADD_FAILURE() << "a browser that exits at once started";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("closed its pipe"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s) << "it waited for the call's deadline instead";
  EXPECT_THROW(Chromium({.executable = "/nonexistent/chromium"}), std::runtime_error);
}

TEST(BrowserDriver, NothingIsLeftRunningAfterward) {
  std::string profile;
  pid_t pid = 0;
  {
    Chromium browser;
    profile = browser.profile_dir();
    pid = browser.pid();
    browser.open("about:blank");
    EXPECT_GE(processes_naming(profile).size(), 3u) << "the browser's processes carry its profile dir";
    EXPECT_GE(live_members(pid).size(), 3u) << "the browser's helpers are in its process group";
  }
  EXPECT_TRUE(pid_gone(pid));
  EXPECT_TRUE(live_members(pid).empty()) << "a process of the browser's group is left";
  EXPECT_TRUE(processes_naming(profile).empty());
  EXPECT_FALSE(std::filesystem::exists(profile));
}

}  // namespace
}  // namespace chaosplus::testing
