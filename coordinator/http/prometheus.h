#pragma once
// Renders metrics in the Prometheus text exposition format (version 0.0.4):
// one "# HELP" and "# TYPE" line per family, then its samples with labels.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tailsweep::http {

inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

enum class MetricType { counter, gauge, untyped };

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

struct MetricSample {
  MetricLabels labels;
  double value = 0.0;
};

struct MetricFamily {
  std::string name;  // [a-zA-Z_:][a-zA-Z0-9_:]*; counters conventionally end in _total
  std::string help;
  MetricType type = MetricType::untyped;
  std::vector<MetricSample> samples;
};

// Throws std::invalid_argument for a metric or label name Prometheus would reject.
std::string render_prometheus(const std::vector<MetricFamily>& families);

// Label values escape '\\', '"' and newlines; HELP text escapes '\\' and newlines.
std::string escape_label_value(std::string_view value);
std::string escape_help_text(std::string_view text);
// Integers print without a fraction, non-finite values as NaN, +Inf, -Inf.
std::string format_metric_value(double value);

}  // namespace tailsweep::http
