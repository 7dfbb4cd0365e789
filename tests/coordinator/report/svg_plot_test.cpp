// The SVG writer: nice ticks as a pure function, and documents that are
// well-formed enough for browsers (one root, a polyline per line series).
#include "coordinator/report/svg_plot.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tailsweep::report {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

TEST(NiceTicks, CoverTheRangeWithRoundSteps) {
  EXPECT_THAT(nice_ticks(0, 100, 6), ElementsAre(0, 20, 40, 60, 80, 100));
  EXPECT_THAT(nice_ticks(2, 197, 6), ElementsAre(0, 50, 100, 150, 200));
  EXPECT_THAT(nice_ticks(10.2, 21.4, 6), ElementsAre(10, 12, 14, 16, 18, 20, 22));
}

TEST(NiceTicks, SmallStepsSnapToTheirGrid) {
  const auto ticks = nice_ticks(0.1, 0.35, 6);
  ASSERT_FALSE(ticks.empty());
  EXPECT_LE(ticks.front(), 0.1);
  EXPECT_GE(ticks.back(), 0.35);
  EXPECT_EQ(format_tick(ticks[1], ticks[1] - ticks[0]), "0.15");
}

TEST(NiceTicks, ADegenerateRangeIsWidenedAndNonFiniteGivesNone) {
  const auto ticks = nice_ticks(5, 5);
  ASSERT_GE(ticks.size(), 2u);
  EXPECT_LT(ticks.front(), 5);
  EXPECT_GT(ticks.back(), 5);
  EXPECT_THAT(nice_ticks(0, 0), Not(::testing::IsEmpty()));
  EXPECT_TRUE(nice_ticks(0, std::numeric_limits<double>::infinity()).empty());
  EXPECT_TRUE(nice_ticks(std::numeric_limits<double>::quiet_NaN(), 1).empty());
}

TEST(NiceTicks, NegativeRangesAndReversedBounds) {
  EXPECT_THAT(nice_ticks(-3, 3, 7), ElementsAre(-3, -2, -1, 0, 1, 2, 3));
  EXPECT_THAT(nice_ticks(100, 0, 6), ElementsAre(0, 20, 40, 60, 80, 100));
}

TEST(FormatTick, UsesAsManyDecimalsAsTheStep) {
  EXPECT_EQ(format_tick(40, 20), "40");
  EXPECT_EQ(format_tick(0.25, 0.05), "0.25");
  EXPECT_EQ(format_tick(1.5, 0.5), "1.5");
}

TEST(RenderSvg, ALineSeriesIsOnePolylineWithEveryPoint) {
  PlotSpec plot;
  plot.title = "L(n) on orin <sim> & co";
  plot.x_label = "tokens";
  plot.y_label = "ms";
  Series series;
  series.x = {1, 2, 3, 4};
  series.y = {10, 11, 20, 21};
  series.band_low = {9, 10, 19, 20};
  series.band_high = {11, 12, 21, 22};
  plot.series.push_back(series);
  plot.markers.push_back({2.5, "+9.0 ms", "#d62728", true});
  const std::string svg = render_svg(plot);
  EXPECT_THAT(svg, StartsWith("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  EXPECT_THAT(svg, HasSubstr("</svg>\n"));
  EXPECT_EQ(count_of(svg, "<svg"), 1u);
  ASSERT_EQ(count_of(svg, "<polyline"), 1u);
  const std::size_t start = svg.find("points=\"", svg.find("<polyline")) + 8;
  const std::string points = svg.substr(start, svg.find('"', start) - start);
  EXPECT_EQ(count_of(points, ","), 4u);      // four x,y pairs
  EXPECT_EQ(count_of(svg, "<polygon"), 1u);  // the CI band
  EXPECT_THAT(svg, HasSubstr("stroke-dasharray"));
  EXPECT_THAT(svg, HasSubstr("L(n) on orin &lt;sim&gt; &amp; co"));
  EXPECT_THAT(svg, Not(HasSubstr("<sim>")));
}

TEST(RenderSvg, APointSeriesHasNoPolylineButItsLabels) {
  PlotSpec plot;
  Series series;
  series.style = SeriesStyle::points;
  series.x = {15, 20};
  series.y = {88.5, 90};
  series.point_labels = {"pomt:58", "none"};
  plot.series.push_back(series);
  const std::string svg = render_svg(plot);
  EXPECT_EQ(count_of(svg, "<polyline"), 0u);
  EXPECT_EQ(count_of(svg, "<circle"), 2u);
  EXPECT_THAT(svg, HasSubstr(">pomt:58</text>"));
}

TEST(RenderSvg, AnEmptyPlotStillRenders) {
  const std::string svg = render_svg(PlotSpec{});
  EXPECT_THAT(svg, StartsWith("<svg"));
  EXPECT_THAT(svg, HasSubstr("</svg>"));
}

// The legend sits under the x axis's label, outside the plot area, so it can
// never cover a point: every legend entry's text is below the figure's
// original height, and the document grows by the rows it takes.
TEST(RenderSvg, TheLegendIsBelowThePlotAndWrapsNeverCoveringData) {
  PlotSpec plot;
  plot.width_px = 400;
  plot.height_px = 300;
  for (const char* label :
       {"local-jetson-nano (simulated)", "local-jetson-orin-nano (simulated)", "local-cpu"}) {
    Series series;
    series.label = label;
    series.x = {0, 1};
    series.y = {0, 1};  // a point in the top right corner, where the legend used to be
    plot.series.push_back(series);
  }
  const std::string svg = render_svg(plot);
  for (const char* label : {">local-jetson-nano (simulated)</text>",
                            ">local-jetson-orin-nano (simulated)</text>", ">local-cpu</text>"}) {
    const std::size_t end = svg.find(label);
    ASSERT_NE(end, std::string::npos) << label;
    const std::size_t start = svg.rfind("<text", end);
    const std::size_t y_at = svg.find("y=\"", start) + 3;
    EXPECT_GT(std::stod(svg.substr(y_at, svg.find('"', y_at) - y_at)), 300.0) << label;
  }
  // Three rows at 400 px wide: the height grows by them.
  EXPECT_THAT(svg, HasSubstr("height=\"360\""));
  // Without labels, the figure keeps its size.
  for (Series& series : plot.series) series.label.clear();
  EXPECT_THAT(render_svg(plot), HasSubstr("height=\"300\""));
}

}  // namespace
}  // namespace tailsweep::report
