#pragma once
// A tiny SVG plot writer: line and scatter series, an optional band (a 95%
// CI), dashed vertical markers, axes with "nice" ticks. Hand-written SVG, no
// dependencies, so every report renders on any coordinator. Pure functions.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tailsweep::report {

// Ticks at 1, 2 or 5 times a power of ten, covering [low, high] with about
// target_count ticks (after Heckbert's "nice numbers"). The first tick is <= low and
// the last >= high. low == high widens the range around the value; non-finite
// input gives no ticks.
std::vector<double> nice_ticks(double low, double high, int target_count = 6);

// A tick's text with no more decimals than the step needs ("0.25", "40").
std::string format_tick(double value, double step);

enum class SeriesStyle { line, points };

struct Series {
  std::string label;
  std::vector<double> x;
  std::vector<double> y;
  SeriesStyle style = SeriesStyle::line;
  std::string color = "#1f77b4";
  // A band between these (as wide as x), drawn under the series.
  std::vector<double> band_low;
  std::vector<double> band_high;
  // A text beside each point (as wide as x, or empty).
  std::vector<std::string> point_labels;
};

struct VerticalMarker {
  double x = 0;
  std::string label;
  std::string color = "#d62728";
  bool dashed = true;
};

struct PlotSpec {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<Series> series;
  std::vector<VerticalMarker> markers;
  int width_px = 760;
  int height_px = 460;
};

// A standalone SVG document. Text is XML-escaped.
std::string render_svg(const PlotSpec& plot);

std::string escape_xml(std::string_view text);

}  // namespace tailsweep::report
