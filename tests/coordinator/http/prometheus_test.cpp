#include "coordinator/http/prometheus.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace tailsweep::http {
namespace {

TEST(Prometheus, RendersFamiliesWithHelpTypeAndLabels) {
  const std::vector<MetricFamily> families = {
      {"tailsweep_http_open_connections", "Open HTTP connections.", MetricType::gauge, {{{}, 3}}},
      {"tailsweep_http_responses_total",
       "HTTP responses by status class.",
       MetricType::counter,
       {{{{"class", "2xx"}}, 10}, {{{"class", "4xx"}, {"route", "/v1/jobs"}}, 2}}},
  };
  EXPECT_EQ(render_prometheus(families),
            "# HELP tailsweep_http_open_connections Open HTTP connections.\n"
            "# TYPE tailsweep_http_open_connections gauge\n"
            "tailsweep_http_open_connections 3\n"
            "# HELP tailsweep_http_responses_total HTTP responses by status class.\n"
            "# TYPE tailsweep_http_responses_total counter\n"
            "tailsweep_http_responses_total{class=\"2xx\"} 10\n"
            "tailsweep_http_responses_total{class=\"4xx\",route=\"/v1/jobs\"} 2\n");
}

TEST(Prometheus, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(escape_help_text("line\\one\nline \"two\""), "line\\\\one\\nline \"two\"");
  const std::vector<MetricFamily> families = {
      {"m", "h", MetricType::untyped, {{{{"device", "orin \"nano\""}}, 1}}}};
  EXPECT_EQ(render_prometheus(families),
            "# HELP m h\n# TYPE m untyped\nm{device=\"orin \\\"nano\\\"\"} 1\n");
}

TEST(Prometheus, FormatsValues) {
  EXPECT_EQ(format_metric_value(0), "0");
  EXPECT_EQ(format_metric_value(1234567), "1234567");
  EXPECT_EQ(format_metric_value(-2), "-2");
  EXPECT_EQ(format_metric_value(0.25), "0.25");
  EXPECT_EQ(format_metric_value(std::nan("")), "NaN");
  EXPECT_EQ(format_metric_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_metric_value(-std::numeric_limits<double>::infinity()), "-Inf");
}

TEST(Prometheus, RejectsNamesItWouldNotScrape) {
  const auto render_named = [](std::string name, std::string label) {
    return render_prometheus(
        {{std::move(name), "h", MetricType::gauge, {{{{std::move(label), "v"}}, 1}}}});
  };
  EXPECT_NO_THROW(render_named("ok_name:sub", "ok_label"));
  EXPECT_THROW(render_named("9starts_with_digit", "l"), std::invalid_argument);
  EXPECT_THROW(render_named("has-dash", "l"), std::invalid_argument);
  EXPECT_THROW(render_named("", "l"), std::invalid_argument);
  EXPECT_THROW(render_named("m", "has:colon"), std::invalid_argument);
  EXPECT_THROW(render_named("m", "__reserved"), std::invalid_argument);
}

}  // namespace
}  // namespace tailsweep::http
