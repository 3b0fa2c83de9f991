#include "core/prometheus_text.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace chaosplus {
namespace {

bool name_char(char c, bool first, bool colon) {
  const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
  return letter || (!first && c >= '0' && c <= '9');
}

bool valid_name(std::string_view name, bool colon) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!name_char(name[i], i == 0, colon)) return false;
  }
  return true;
}

// HELP text escapes backslash and newline; label values also the double quote.
std::string escape(std::string_view text, bool quote) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (quote && c == '"') out += "\\\"";
    else out += c;
  }
  return out;
}

}  // namespace

bool PrometheusText::valid_metric_name(std::string_view name) { return valid_name(name, true); }
bool PrometheusText::valid_label_name(std::string_view name) { return valid_name(name, false); }

std::string PrometheusText::format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[64];
  if (value == std::trunc(value) && std::fabs(value) < 1e15) {
    std::snprintf(buffer, sizeof buffer, "%.0f", value);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.17g", value);
    // The shortest form that reads back the same: the full 17 digits only when needed.
    for (int digits = 6; digits < 17; ++digits) {
      char shorter[64];
      std::snprintf(shorter, sizeof shorter, "%.*g", digits, value);
      if (std::strtod(shorter, nullptr) == value) {
        std::snprintf(buffer, sizeof buffer, "%s", shorter);
        break;
      }
    }
  }
  return buffer;
}

PrometheusText& PrometheusText::family(std::string_view name, Type type, std::string_view help) {
  if (!valid_metric_name(name)) throw std::logic_error("invalid metric name '" + std::string(name) + "'");
  if (std::find(families_.begin(), families_.end(), name) != families_.end()) {
    throw std::logic_error("metric family '" + std::string(name) + "' written twice");
  }
  families_.emplace_back(name);
  current_ = std::string(name);
  text_ += "# HELP " + current_ + " " + escape(help, false) + "\n";
  text_ += "# TYPE " + current_ + " " + (type == Type::counter ? "counter" : "gauge") + "\n";
  return *this;
}

PrometheusText& PrometheusText::sample(const MetricLabels& labels, double value) {
  if (current_.empty()) throw std::logic_error("a metric sample before its family");
  text_ += current_;
  if (!labels.empty()) {
    text_ += '{';
    bool first = true;
    for (const auto& [name, label_value] : labels) {
      if (!valid_label_name(name)) throw std::logic_error("invalid label name '" + name + "'");
      if (!first) text_ += ',';
      first = false;
      text_ += name + "=\"" + escape(label_value, true) + "\"";
    }
    text_ += '}';
  }
  text_ += ' ' + format_value(value) + '\n';
  return *this;
}

}  // namespace chaosplus
