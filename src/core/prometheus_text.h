#pragma once
// Prometheus text exposition format 0.0.4, written by hand (Debian has no prometheus-cpp): the
// /metrics of `chaosplus server` and of the fault proxy's API both use this writer, so names,
// escaping and number forms are the same everywhere.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chaosplus {

// The Content-Type of a /metrics answer.
inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class PrometheusText {
 public:
  enum class Type { counter, gauge };

  // Starts a family: its HELP and TYPE lines. Its samples follow with sample(). A family started
  // twice is a bug in the caller (Prometheus refuses such a page); it throws std::logic_error.
  PrometheusText& family(std::string_view name, Type type, std::string_view help);
  // A sample of the family started last. Label values are escaped; NaN and infinities written as
  // Prometheus spells them; whole numbers without an exponent.
  PrometheusText& sample(const MetricLabels& labels, double value);
  PrometheusText& sample(double value) { return sample({}, value); }

  const std::string& text() const { return text_; }

  // Whether `name` is a valid metric or label name ([a-zA-Z_:][a-zA-Z0-9_:]*; labels without ':').
  static bool valid_metric_name(std::string_view name);
  static bool valid_label_name(std::string_view name);
  // "1", "0.25", "NaN", "+Inf", "1.5e+20".
  static std::string format_value(double value);

 private:
  std::string text_;
  std::string current_;                // the family samples belong to
  std::vector<std::string> families_;  // every family started, to refuse a second start
};

}  // namespace chaosplus
