#include "coordinator/report/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/core.h>

namespace tailsweep::report {
namespace {

// The nearest "nice" number to value: 1, 2, 5 or 10 times a power of ten.
double nice_number(double value) {
  const double exponent = std::floor(std::log10(value));
  const double fraction = value / std::pow(10.0, exponent);
  const double nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10;
  return nice * std::pow(10.0, exponent);
}

struct Range {
  double low = std::numeric_limits<double>::infinity();
  double high = -std::numeric_limits<double>::infinity();
  void add(double value) {
    if (!std::isfinite(value)) return;
    low = std::min(low, value);
    high = std::max(high, value);
  }
  bool empty() const { return low > high; }
};

// Plot area margins, in pixels: room for tick labels, axis labels and the title.
constexpr double kLeftPx = 72, kRightPx = 24, kTopPx = 44, kBottomPx = 56;
constexpr double kLegendRowPx = 18;

struct Frame {
  double x_low, x_high, y_low, y_high;
  double width_px, height_px;
  double px(double x) const {
    return kLeftPx + (x - x_low) / (x_high - x_low) * (width_px - kLeftPx - kRightPx);
  }
  double py(double y) const {
    return height_px - kBottomPx -
           (y - y_low) / (y_high - y_low) * (height_px - kTopPx - kBottomPx);
  }
};

std::string text_element(double x, double y, std::string_view text, std::string_view anchor,
                         std::string_view extra = "") {
  return fmt::format(
      "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"{}\" font-family=\"sans-serif\" "
      "font-size=\"12\"{}>{}</text>\n",
      x, y, anchor, extra, escape_xml(text));
}

std::string axes(const PlotSpec& plot, const Frame& frame, const std::vector<double>& x_ticks,
                 const std::vector<double>& y_ticks) {
  const double bottom = frame.py(frame.y_low);
  const double left = frame.px(frame.x_low);
  std::string svg = fmt::format(
      "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"none\" "
      "stroke=\"#333\"/>\n",
      left, frame.py(frame.y_high), frame.px(frame.x_high) - left, bottom - frame.py(frame.y_high));
  const double x_step = x_ticks.size() > 1 ? x_ticks[1] - x_ticks[0] : 1;
  for (const double tick : x_ticks) {
    const double x = frame.px(tick);
    svg += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" "
        "stroke=\"#333\"/>\n",
        x, bottom, bottom + 5);
    svg += text_element(x, bottom + 18, format_tick(tick, x_step), "middle");
  }
  const double y_step = y_ticks.size() > 1 ? y_ticks[1] - y_ticks[0] : 1;
  for (const double tick : y_ticks) {
    const double y = frame.py(tick);
    svg += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" "
        "stroke=\"#333\"/>\n",
        left - 5, y, left);
    svg += text_element(left - 8, y + 4, format_tick(tick, y_step), "end");
  }
  svg += text_element((left + frame.px(frame.x_high)) / 2, frame.height_px - 14, plot.x_label,
                      "middle");
  const double y_middle = (bottom + frame.py(frame.y_high)) / 2;
  svg += text_element(18, y_middle, plot.y_label, "middle",
                      fmt::format(" transform=\"rotate(-90 18 {:.1f})\"", y_middle));
  svg += text_element(frame.width_px / 2, 24, plot.title, "middle", " font-weight=\"bold\"");
  return svg;
}

std::string series_svg(const Series& series, const Frame& frame) {
  std::string svg;
  const std::size_t n = std::min(series.x.size(), series.y.size());
  if (series.band_low.size() == n && series.band_high.size() == n && n > 0) {
    // The band's outline: along the highs, then back along the lows.
    std::string points;
    for (std::size_t i = 0; i < n; ++i) {
      points += fmt::format("{:.1f},{:.1f} ", frame.px(series.x[i]), frame.py(series.band_high[i]));
    }
    for (std::size_t i = n; i-- > 0;) {
      points += fmt::format("{:.1f},{:.1f} ", frame.px(series.x[i]), frame.py(series.band_low[i]));
    }
    svg +=
        fmt::format("<polygon points=\"{}\" fill=\"{}\" fill-opacity=\"0.2\" stroke=\"none\"/>\n",
                    points, series.color);
  }
  if (series.style == SeriesStyle::line && n > 0) {
    std::string points;
    for (std::size_t i = 0; i < n; ++i) {
      if (i > 0) points += ' ';
      points += fmt::format("{:.1f},{:.1f}", frame.px(series.x[i]), frame.py(series.y[i]));
    }
    svg +=
        fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\"/>\n",
                    points, series.color);
  }
  for (std::size_t i = 0; i < n; ++i) {
    const double x = frame.px(series.x[i]);
    const double y = frame.py(series.y[i]);
    svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{}\" fill=\"{}\"/>\n", x, y,
                       series.style == SeriesStyle::points ? 4 : 2, series.color);
    if (i < series.point_labels.size())
      svg += text_element(x + 6, y - 6, series.point_labels[i], "start");
  }
  return svg;
}

std::string marker_svg(const VerticalMarker& marker, const Frame& frame, int index) {
  const double x = frame.px(marker.x);
  const double top = frame.py(frame.y_high);
  std::string svg = fmt::format(
      "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"{3}\"{4}/>\n", x,
      top, frame.py(frame.y_low), marker.color, marker.dashed ? " stroke-dasharray=\"5,4\"" : "");
  // Labels stagger downwards so that neighbouring markers stay readable.
  svg += text_element(x + 3, top + 14 + 14 * (index % 4), marker.label, "start",
                      fmt::format(" fill=\"{}\"", marker.color));
  return svg;
}

// The legend sits under the plot, below the x axis's label, where no data
// or point label can be: entries flow left to right and wrap at the plot's
// width. Text width is estimated (7 px a character at 12 px sans-serif).
struct LegendEntry {
  const Series* series;
  double x, y;
};
std::vector<LegendEntry> legend_layout(const PlotSpec& plot) {
  std::vector<LegendEntry> entries;
  const double right = plot.width_px - kRightPx;
  double x = kLeftPx;
  double y = plot.height_px + kLegendRowPx - 4;
  for (const Series& series : plot.series) {
    if (series.label.empty()) continue;
    const double width = 18 + 7.0 * static_cast<double>(series.label.size()) + 16;
    if (x > kLeftPx && x + width > right) {
      x = kLeftPx;
      y += kLegendRowPx;
    }
    entries.push_back({&series, x, y});
    x += width;
  }
  return entries;
}

double legend_height_px(const std::vector<LegendEntry>& entries) {
  if (entries.empty()) return 0;
  return entries.back().y - entries.front().y + kLegendRowPx + 6;
}

std::string legend_svg(const std::vector<LegendEntry>& entries) {
  std::string svg;
  for (const LegendEntry& entry : entries) {
    svg += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"12\" height=\"4\" fill=\"{}\"/>\n",
                       entry.x, entry.y - 6, entry.series->color);
    svg += text_element(entry.x + 18, entry.y, entry.series->label, "start");
  }
  return svg;
}

}  // namespace

std::vector<double> nice_ticks(double low, double high, int target_count) {
  if (!std::isfinite(low) || !std::isfinite(high)) return {};
  if (low > high) std::swap(low, high);
  if (low == high) {
    const double pad = low == 0 ? 1 : std::abs(low) * 0.1;
    low -= pad;
    high += pad;
  }
  target_count = std::max(target_count, 2);
  // The step straight from the span (not from a rounded span, as Heckbert
  // does): his rounding can double the step and leave only three ticks.
  const double step = nice_number((high - low) / (target_count - 1));
  const double first = std::floor(low / step) * step;
  const double last = std::ceil(high / step) * step;
  std::vector<double> ticks;
  for (double tick = first; tick <= last + step / 2; tick += step) {
    // Snap to the step's grid so that 0.1 + 0.2 prints as 0.3, and -0 as 0.
    double snapped = std::round(tick / step) * step;
    if (std::abs(snapped) < step * 1e-9) snapped = 0;
    ticks.push_back(snapped);
  }
  return ticks;
}

std::string format_tick(double value, double step) {
  const int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
  return fmt::format("{:.{}f}", value, std::clamp(decimals, 0, 12));
}

std::string escape_xml(std::string_view text) {
  std::string escaped;
  for (const char c : text) {
    switch (c) {
      case '&':
        escaped += "&amp;";
        break;
      case '<':
        escaped += "&lt;";
        break;
      case '>':
        escaped += "&gt;";
        break;
      case '"':
        escaped += "&quot;";
        break;
      case '\'':
        escaped += "&apos;";
        break;
      default:
        escaped += c;
    }
  }
  return escaped;
}

std::string render_svg(const PlotSpec& plot) {
  Range x_range;
  Range y_range;
  for (const Series& series : plot.series) {
    for (const double x : series.x) x_range.add(x);
    for (const double y : series.y) y_range.add(y);
    for (const double y : series.band_low) y_range.add(y);
    for (const double y : series.band_high) y_range.add(y);
  }
  for (const VerticalMarker& marker : plot.markers) x_range.add(marker.x);
  if (x_range.empty()) x_range = {0, 1};
  if (y_range.empty()) y_range = {0, 1};
  const std::vector<double> x_ticks = nice_ticks(x_range.low, x_range.high);
  const std::vector<double> y_ticks = nice_ticks(y_range.low, y_range.high);
  const Frame frame{x_ticks.front(),
                    x_ticks.back(),
                    y_ticks.front(),
                    y_ticks.back(),
                    static_cast<double>(plot.width_px),
                    static_cast<double>(plot.height_px)};

  const std::vector<LegendEntry> legend = legend_layout(plot);
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      plot.width_px, plot.height_px + static_cast<int>(std::ceil(legend_height_px(legend))));
  svg += axes(plot, frame, x_ticks, y_ticks);
  for (const Series& series : plot.series) svg += series_svg(series, frame);
  for (std::size_t i = 0; i < plot.markers.size(); ++i) {
    svg += marker_svg(plot.markers[i], frame, static_cast<int>(i));
  }
  svg += legend_svg(legend);
  svg += "</svg>\n";
  return svg;
}

}  // namespace tailsweep::report
