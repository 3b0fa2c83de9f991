#include "extension/activity.h"

#include <csignal>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "core/event_bus.h"
#include "extension/session.h"
#include "targets/process.h"

namespace chaosplus::extension {
namespace {

using nlohmann::json;

// How long after its phase's end an activity has to answer before it is killed.
constexpr auto kAnswerGrace = std::chrono::seconds(30);

Result<std::vector<Judgment>> judgments_in(const json& reply, const std::string& who) {
  std::vector<Judgment> out;
  const auto list = reply.find("judgments");
  if (list == reply.end() || list->is_null()) return out;
  if (!list->is_array()) return Error{who + ": \"judgments\" must be an array"};
  for (const json& j : *list) {
    if (!j.is_object() || !j.contains("metric") || !j["metric"].is_string() || !j.contains("held") ||
        !j["held"].is_boolean()) {
      return Error{who + ": a judgment needs \"metric\" (text) and \"held\" (true or false): " + j.dump()};
    }
    Judgment judgment;
    judgment.metric = j["metric"].get<std::string>();
    judgment.threshold = j.value("threshold", std::string());
    judgment.held = j["held"].get<bool>();
    judgment.measured = j.value("measured", 0.0);
    judgment.message = j.value("message", std::string());
    out.push_back(std::move(judgment));
  }
  return out;
}

class ExtensionActivity final : public Activity {
 public:
  ExtensionActivity(spec::ExtensionCall call, ActivityContext context)
      : call_(std::move(call)), context_(std::move(context)) {}

  ~ExtensionActivity() override {
    stop();
    if (thread_.joinable()) thread_.join();
  }

  Status start(EventBus& bus, HaltSwitch&) override {
    auto session = Session::start(call_.command);
    if (!session) return Error{session.error()};
    {
      std::lock_guard lock(mutex_);
      process_ = (*session)->id();
    }
    thread_ = std::thread([this, &bus, s = std::move(*session)]() mutable { run(bus, *s); });
    return ok_status();
  }

  void stop() override {
    std::lock_guard lock(mutex_);
    if (!process_ || stopped_) return;
    stopped_ = true;
    (void)targets::send_signal(*process_, SIGTERM);  // "end now and answer"
  }

  Result<std::vector<Judgment>> finish() override {
    stop();
    if (thread_.joinable()) thread_.join();
    if (!result_) return Error{"extension activity '" + context_.name + "' never ran"};
    return *result_;
  }

 private:
  void run(EventBus& bus, Session& session) {
    Handlers handlers;
    handlers.on_event = [&](const std::string& name, const json& fields) {
      Event e("extension.event");
      e.with("extension", call_.extension).with("activity", context_.name).with("event", name);
      for (const auto& [key, value] : fields.items()) {
        if (key == "extension" || key == "activity" || key == "event") continue;
        if (value.is_string()) e.with(key, value.get<std::string>());
        else if (value.is_boolean()) e.with(key, value.get<bool>());
        else if (value.is_number_integer()) e.with(key, value.get<std::int64_t>());
        else if (value.is_number()) e.with(key, value.get<double>());
        else e.with(key, value.dump());
      }
      bus.publish(std::move(e));
    };
    json body{{"activity", call_.operation},
              {"params", json::parse(call_.params_json.empty() ? "{}" : call_.params_json)},
              {"name", context_.name},
              {"phase", context_.phase},
              {"duration_ms", std::chrono::duration_cast<std::chrono::milliseconds>(context_.duration).count()}};
    auto reply = session.request("run", body, context_.duration + kAnswerGrace, handlers);
    (void)session.finish();
    {
      std::lock_guard lock(mutex_);
      process_.reset();
    }
    result_ = reply ? judgments_in(*reply, "extension '" + call_.extension + "'")
                    : Result<std::vector<Judgment>>(Error{reply.error()});
  }

  spec::ExtensionCall call_;
  ActivityContext context_;
  std::thread thread_;
  std::mutex mutex_;
  std::optional<targets::ProcessId> process_;            // guarded by mutex_; set while its session runs
  bool stopped_ = false;                                 // guarded by mutex_
  std::optional<Result<std::vector<Judgment>>> result_;  // written by thread_ before it ends
};

}  // namespace

std::unique_ptr<Activity> ExtensionActivityConfig::make(const ActivityContext& context) const {
  return std::make_unique<ExtensionActivity>(call_, context);
}

}  // namespace chaosplus::extension
