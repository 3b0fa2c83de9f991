#include "runner/writes_line.h"

#include <cstdio>

namespace chaosplus::runner {

std::string writes_line(const Event& e, bool thresholds) {
  auto count = [&](const char* key) { return std::to_string(static_cast<long long>(e.number(key))); };
  auto secs = [&](const char* key) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2fs", e.number(key) / 1000);
    return std::string(buf);
  };
  std::string text = "writes " + e.text("name") + ": " + count("attempted") + " attempted, " + count("acknowledged") +
                     " acknowledged, " + count("failed") + " failed, " + count("unknown") + " unknown";
  if (e.flag("read_back")) {
    text += "; lost " + count("lost") + ", unexpected " + count("unexpected") + ", unknown committed " +
            count("unknown_committed");
    if (e.number("failed_committed") > 0) text += ", FAILED BUT COMMITTED " + count("failed_committed");
    text += "; RPO " + count("rpo_lost") + " write(s)";
    if (e.number("rpo_lost") > 1) text += " over " + secs("rpo_span_ms");
    if (!e.text("lost_ids").empty()) text += " (lost ids " + e.text("lost_ids") + ")";
  } else {
    text += "; NOT READ BACK: " + e.text("read_back_error");
  }
  if (e.find("rto_ms") != nullptr) {
    text += "; RTO " + secs("rto_ms");
    if (e.find("promotion_ms") != nullptr) {
      text += " (promotion " + secs("promotion_ms");
      if (e.find("reconnection_ms") != nullptr) text += ", reconnection " + secs("reconnection_ms");
      text += ")";
    }
    text += " after " + e.text("rto_fault");
  } else if (!e.text("rto_fault").empty()) {
    text += "; RTO not measured: no write succeeded after " + e.text("rto_fault");
  }
  text += e.number("split_brain") > 0 ? "; SPLIT BRAIN: " + e.text("split_brain_periods") : "; split brain: none";
  if (thresholds && !e.text("thresholds").empty()) text += "; thresholds: " + e.text("thresholds");
  return text;
}

}  // namespace chaosplus::runner
