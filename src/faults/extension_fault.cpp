#include "faults/extension_fault.h"

#include <nlohmann/json.hpp>

#include <array>

#include "extension/session.h"
#include "faults/registry.h"
#include "faults/system_tool.h"
#include "faults/target_handle.h"

namespace chaosplus::faults {
namespace {

using nlohmann::json;

constexpr auto kRevertFinishGrace = std::chrono::seconds(5);

json command_json(const spec::ExtensionCommand& c) {
  return {{"name", c.name}, {"argv", c.argv},
          {"env", c.env},   {"cwd", c.cwd},
          {"log", c.log},   {"timeout_ms", std::chrono::duration_cast<std::chrono::milliseconds>(c.timeout).count()}};
}

spec::ExtensionCommand command_from(const json& j) {
  spec::ExtensionCommand c;
  c.name = j.at("name").get<std::string>();
  c.argv = j.at("argv").get<std::vector<std::string>>();
  c.env = j.value("env", std::map<std::string, std::string>());
  c.cwd = j.value("cwd", std::string());
  c.log = j.value("log", std::string());
  c.timeout = std::chrono::milliseconds(j.value("timeout_ms", 30000LL));
  return c;
}

extension::Handlers event_handlers(const std::string& extension, const std::string& fault, const EventSink& publish) {
  extension::Handlers h;
  if (!publish) return h;
  h.on_event = [=](const std::string& name, const json& fields) {
    Event e("extension.event");
    e.with("extension", extension).with("fault", fault).with("event", name);
    for (const auto& [key, value] : fields.items()) {
      if (key == "extension" || key == "fault" || key == "event") continue;  // ours
      if (value.is_string()) e.with(key, value.get<std::string>());
      else if (value.is_boolean()) e.with(key, value.get<bool>());
      else if (value.is_number_integer()) e.with(key, value.get<std::int64_t>());
      else if (value.is_number()) e.with(key, value.get<double>());
      else e.with(key, value.dump());
    }
    publish(std::move(e));
  };
  return h;
}

class ExtensionFault final : public Fault {
 public:
  ExtensionFault(const spec::ExtensionCall& call, std::string target, EventSink publish)
      : call_(call), target_(std::move(target)), publish_(std::move(publish)) {}

  std::string kind() const override { return std::string(kExtensionFaultKind); }

  std::string summary() const override {
    return call_.extension + " " + call_.operation + " on " + target_ + " " + call_.params_json;
  }

  std::string record() const override {
    json r{{"command", command_json(call_.command)},
           {"fault", call_.operation},
           {"params", json::parse(call_.params_json.empty() ? "{}" : call_.params_json)},
           {"target", target_},
           {"record", record_}};
    if (process_) r["extension_pid"] = process_->pid, r["extension_start_time"] = process_->start_time;
    return r.dump();
  }

  Status inject(HaltSwitch&) override {
    auto handlers = event_handlers(call_.extension, call_.operation, publish_);
    // The extension's own record is in the ledger before it changes anything.
    handlers.on_checkpoint = [this](const json& checkpoint) {
      record_ = checkpoint;
      return record_changed();
    };
    // Its identity is in the ledger before it runs: an undo stops it first if it still acts.
    auto before_exec = [this](const targets::ProcessId& id) {
      process_ = id;
      started_ = true;
      return record_changed();
    };
    auto session = extension::Session::start(call_.command, before_exec);
    if (!session) return Error{session.error()};
    json body{{"fault", call_.operation}, {"params", json::parse(record_params())}, {"target", {{"name", target_}}}};
    auto reply = (*session)->request("inject", body, call_.command.timeout, handlers);
    (void)(*session)->finish();
    if (!reply) return Error{reply.error()};
    if (const auto r = reply->find("record"); r != reply->end()) record_ = *r;
    process_.reset();  // it has exited: nothing to stop at undo
    return record_changed();
  }

  Status revert(HaltSwitch&) override {
    if (!started_) return ok_status();  // the extension never ran, so it changed nothing
    return revert_extension_fault(record(), publish_);
  }

 private:
  std::string record_params() const { return call_.params_json.empty() ? "{}" : call_.params_json; }

  spec::ExtensionCall call_;
  std::string target_;
  EventSink publish_;
  json record_;  // the extension's own record; null until its checkpoint or reply
  std::optional<targets::ProcessId> process_;
  bool started_ = false;
};

}  // namespace

Result<std::unique_ptr<Fault>> make_extension_fault(const spec::Fault& fault, TargetHandle& target) {
  if (!fault.extension) return Error{"fault of type extension without an extension call"};
  if (fault.extension->params_json.empty()) {
    return Error{"the parameters of extension '" + fault.extension->extension +
                 "' were not checked against its describe reply (extension::resolve)"};
  }
  return std::unique_ptr<Fault>(std::make_unique<ExtensionFault>(*fault.extension, target.name(), target.publish));
}

Status revert_extension_fault(std::string_view record, const EventSink& publish) {
  json r = json::parse(record, nullptr, false);
  if (r.is_discarded() || !r.is_object()) return Error{"unreadable extension fault record"};
  try {
    const spec::ExtensionCommand command = command_from(r.at("command"));
    const std::string fault = r.at("fault").get<std::string>();
    // An extension process of this fault still running (its runner was killed while it injected)
    // is stopped first: its change must have happened, or never happen, before the revert.
    if (r.contains("extension_pid")) {
      if (auto s = stop_recorded_tool(r.at("extension_pid").get<int>(), r.value("extension_start_time", 0ULL)); !s) {
        return s;
      }
    }
    json body{{"fault", fault},
              {"params", r.value("params", json::object())},
              {"record", r.value("record", json())},
              {"target", {{"name", r.value("target", std::string())}}}};
    auto session = extension::Session::start(command);
    if (!session) return Error{session.error()};
    auto reply = (*session)->request("revert", body, command.timeout, event_handlers(command.name, fault, publish));
    (void)(*session)->finish(kRevertFinishGrace);
    if (!reply) return Error{reply.error()};
    return ok_status();
  } catch (const json::exception& e) {
    return Error{"extension fault record is incomplete: " + std::string(e.what())};
  }
}

// ---- the family -------------------------------------------------------------------------------

namespace {

// Its settings are the extension's own: the loader reads them (spec/builder_extensions.cpp) and
// extension::resolve checks them against the extension's describe reply.
constexpr std::string_view kSchema = R"json({
  "description": "a fault an external extension offers (docs/extensions.md)",
  "type": "object",
  "additionalProperties": false,
  "required": ["target", "extension", "fault"],
  "properties": {
    "target": {"$ref": "#/definitions/identifier", "description": "the name of the target it acts on"},
    "at": {"$ref": "#/definitions/duration", "description": "when it starts, from the start of its phase"},
    "for": {"$ref": "#/definitions/duration", "description": "how long it stays on; default until the end of its phase"},
    "extension": {"$ref": "#/definitions/identifier", "description": "the name of an extension of the extensions block"},
    "fault": {"type": "string", "minLength": 1, "description": "a fault the extension offers (its describe reply)"},
    "params": {"$ref": "#/definitions/extensionParams"}
  }
})json";

const std::array<spec::FaultType, 1>& types() {
  static const std::array<spec::FaultType, 1> kTypes{{
      {"extension",
       spec::Capability::any,
       {},
       "a fault an external extension offers (docs/extensions.md)",
       false,
       {},
       false,
       kSchema},
  }};
  return kTypes;
}

constexpr std::array<std::string_view, 1> kKinds{kExtensionFaultKind};

Status undo_extension(std::string_view, std::string_view record) { return revert_extension_fault(record); }

}  // namespace

FaultFamily extension_fault_family() { return {"extension", types(), kKinds, make_extension_fault, undo_extension}; }

}  // namespace chaosplus::faults
