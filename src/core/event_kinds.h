#pragma once
// Every kind of event that goes on the run's stream, declared once with what it means. The journal
// doc (docs/journal.md) describes each one, and a test holds the code to this list: an event type
// published anywhere under src/ that is not declared here fails it.
#include <span>
#include <string_view>

namespace chaosplus {

struct EventKind {
  std::string_view type;     // "fault.injected"
  std::string_view meaning;  // one line for people
};

std::span<const EventKind> event_kinds();
bool is_declared_event(std::string_view type);

}  // namespace chaosplus
