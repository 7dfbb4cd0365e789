#include "coordinator/http/prometheus.h"

#include <cmath>
#include <stdexcept>

#include <fmt/core.h>

namespace tailsweep::http {
namespace {

bool is_valid_name(std::string_view name, bool allow_colon) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
    const bool digit = c >= '0' && c <= '9';
    if (!letter && !(digit && i > 0)) return false;
  }
  return true;
}

std::string_view type_name(MetricType type) {
  switch (type) {
    case MetricType::counter:
      return "counter";
    case MetricType::gauge:
      return "gauge";
    case MetricType::untyped:
      break;
  }
  return "untyped";
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string escaped;
  escaped.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '"') {
      escaped += "\\\"";
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

std::string escape_help_text(std::string_view text) {
  std::string escaped;
  escaped.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

std::string format_metric_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Counters are whole numbers; print them exactly rather than as 1e+06.
  if (value == std::trunc(value) && std::fabs(value) < 1e15) {
    return fmt::format("{}", static_cast<long long>(value));
  }
  return fmt::format("{}", value);  // shortest form that reads back exactly
}

std::string render_prometheus(const std::vector<MetricFamily>& families) {
  std::string text;
  for (const MetricFamily& family : families) {
    if (!is_valid_name(family.name, true)) {
      throw std::invalid_argument(fmt::format("bad Prometheus metric name \"{}\"", family.name));
    }
    text += fmt::format("# HELP {} {}\n", family.name, escape_help_text(family.help));
    text += fmt::format("# TYPE {} {}\n", family.name, type_name(family.type));
    for (const MetricSample& sample : family.samples) {
      text += family.name;
      if (!sample.labels.empty()) {
        text += '{';
        for (std::size_t i = 0; i < sample.labels.size(); ++i) {
          const auto& [label, value] = sample.labels[i];
          // "__" prefixes are reserved for Prometheus itself.
          if (!is_valid_name(label, false) || label.rfind("__", 0) == 0) {
            throw std::invalid_argument(fmt::format("bad Prometheus label name \"{}\"", label));
          }
          text += fmt::format("{}{}=\"{}\"", i == 0 ? "" : ",", label, escape_label_value(value));
        }
        text += '}';
      }
      text += ' ';
      text += format_metric_value(sample.value);
      text += '\n';
    }
  }
  return text;
}

}  // namespace tailsweep::http
