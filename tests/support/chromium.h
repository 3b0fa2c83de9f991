#pragma once
// A headless Chromium for tests of the HTML report and the dashboard in a real browser: our own
// small driver speaking the Chrome DevTools Protocol over --remote-debugging-pipe (the browser reads
// commands on its fd 3 and writes replies and events on its fd 4, each a JSON text ended by '\0').
//
// The browser starts with a fresh profile in a temp dir, no background networking, and no host name
// resolving (only IP literals and file:// reach anything); offline() and allow_only() refuse every
// other request, so a page that tries to fetch from outside fails visibly (blocked_requests(),
// errors()). Every call has a deadline and throws std::runtime_error with what it waited for. The
// destructor closes the browser (Browser.close, SIGKILL of its process group after a deadline) and
// removes the profile: nothing is left running.
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace chaosplus::testing {

class Chromium {
 public:
  struct Options {
    int width = 1280;  // the viewport, in CSS pixels at a device scale factor of 1
    int height = 900;
    std::chrono::milliseconds call_timeout = std::chrono::seconds(30);  // every protocol call
    std::string executable = "/usr/bin/chromium";
  };

  Chromium();
  explicit Chromium(Options options);
  ~Chromium();
  Chromium(const Chromium&) = delete;
  Chromium& operator=(const Chromium&) = delete;

  // Navigates and waits for the page's load event; throws when the navigation fails.
  void open(const std::string& url);
  // Runtime.evaluate with returnByValue and awaitPromise: the value (null for undefined); throws
  // with the exception's text when the expression throws or its promise rejects.
  nlohmann::json evaluate(const std::string& expression);
  // Polls `condition` (a JS expression) until it is truthy; false when `timeout` passes first. An
  // exception thrown by the condition counts as false (an element not there yet).
  bool wait_for(const std::string& condition, std::chrono::milliseconds timeout);
  // A real left click (mouse moved, pressed, released) at the centre of the first element matching
  // the CSS selector, scrolled into view first; throws when nothing matches or it has no size.
  void click(const std::string& selector);
  // A PNG of the viewport, or of the whole page's height when `full_page`.
  void screenshot(const std::string& path, bool full_page = false);

  // No network at all (Network.emulateNetworkConditions offline, and every request refused but
  // file:, data: and blob: URLs).
  void offline();
  // Every request refused but file:, data:, blob: URLs and those of `origin` ("http://127.0.0.1:8080").
  void allow_only(const std::string& origin);
  // URLs refused so far by offline() or allow_only().
  std::vector<std::string> blocked_requests() const;

  // Dialogs the page opened (alert, confirm, prompt), "type: message"; each was accepted (OK).
  std::vector<std::string> dialogs() const;

  // Console messages so far, "level: text" (console.log is "log: ...").
  std::vector<std::string> console() const;
  // Uncaught exceptions, unhandled rejections, console.error and the browser's error log entries
  // (a failed resource load, a blocked request) so far: a page that works has none.
  std::vector<std::string> errors() const;

  pid_t pid() const;                       // the browser process (its process group's leader)
  const std::string& profile_dir() const;  // its --user-data-dir

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Width and height from a PNG's header; {0, 0} when the bytes are not a PNG.
struct PngSize {
  int width = 0;
  int height = 0;
};
PngSize png_size(const std::string& bytes);

}  // namespace chaosplus::testing
