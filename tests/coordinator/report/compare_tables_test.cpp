// Two sweeps side by side: what moved beyond its CIs, and what did not.
#include "coordinator/report/compare_tables.h"

#include <gtest/gtest.h>

namespace tailsweep::report {
namespace {

LatencyCurve curve(double scale, double half_width_ms) {
  LatencyCurve c;
  c.device = {"cpu-1", false};
  c.model = "fmnist-vit";
  c.batch = 1;
  for (const int64_t tokens : {65, 33, 17}) {
    const double ms = scale * static_cast<double>(tokens) / 10;
    c.points.push_back({tokens, ms, ms - half_width_ms, ms + half_width_ms, {}, {}, {}, {}});
  }
  return c;
}

MethodLatencyRow latency(const std::string& method, double ms, std::optional<double> ratio) {
  MethodLatencyRow row{{"cpu-1", false}, "fmnist-vit", 1, method, ms, true, {}, {}, {}, {}};
  row.ratio = ratio;
  if (ratio) {
    row.ratio_ci95_low = *ratio - 0.01;
    row.ratio_ci95_high = *ratio + 0.01;
  }
  return row;
}

TEST(CompareTables, IntervalsThatDoNotOverlapAreBeyondTheirCis) {
  EXPECT_EQ(beyond_intervals(1.0, 2.0, 2.5, 3.0), true);
  EXPECT_EQ(beyond_intervals(1.0, 2.0, 1.9, 3.0), false);
  EXPECT_EQ(beyond_intervals(2.5, 3.0, 1.0, 2.0), true);
  EXPECT_EQ(beyond_intervals(1.0, 2.0, std::nullopt, 3.0), std::nullopt);
}

TEST(CompareTables, ACurveThatMovedSaysHowManyPointsLeftTheirCis) {
  ReportData a, b;
  a.latency_curves = {curve(1.0, 0.05)};
  b.latency_curves = {curve(1.1, 0.05)};           // 10% slower: 6.5 -> 7.15 ms, beyond +-0.05
  b.latency_curves[0].points[2].median_ms = 1.72;  // 17 tokens: 1.70 -> 1.72, within the CIs
  b.latency_curves[0].points[2].ci95_low_ms = 1.67;
  b.latency_curves[0].points[2].ci95_high_ms = 1.77;
  const Table table = compare_curves_table(a, b);
  ASSERT_EQ(table.rows.size(), 1u);
  EXPECT_EQ(table.rows[0], (std::vector<std::string>{"cpu-1", "fmnist-vit", "1", "3", "2", "0",
                                                     "+10.0", "+10.0", "65"}));
}

TEST(CompareTables, MethodLatenciesCompareTheirMediansAndPairedRatios) {
  ReportData a, b;
  a.method_latencies = {latency("none", 10.0, std::nullopt), latency("pomt:58", 8.0, 0.80)};
  // The machine got 20% slower; the method's ratio to none stayed the same.
  b.method_latencies = {latency("none", 12.0, std::nullopt), latency("pomt:58", 9.6, 0.805),
                        latency("topk:8", 9.0, 0.75)};  // only in B: not compared
  const Table table = compare_latency_table(a, b);
  ASSERT_EQ(table.rows.size(), 2u);
  EXPECT_EQ(table.rows[0][3], "none");
  EXPECT_EQ(table.rows[0][6], "+20.0");
  EXPECT_EQ(table.rows[0][9], "");  // no ratio to compare
  EXPECT_EQ(table.rows[1],
            (std::vector<std::string>{"cpu-1", "fmnist-vit", "1", "pomt:58", "8.00", "9.60",
                                      "+20.0", "-20.0% ±1.0", "-19.5% ±1.0", "yes"}));
  b.method_latencies[1].ratio = 0.9;
  b.method_latencies[1].ratio_ci95_low = 0.89;
  b.method_latencies[1].ratio_ci95_high = 0.91;
  EXPECT_EQ(compare_latency_table(a, b).rows[1][9], "no");
}

TEST(CompareTables, AccuracyIsComparedOnTheSameImages) {
  EvaluationRow e;
  e.model = "fmnist-vit";
  e.method = "pomt:58";
  e.dataset = "fashion-mnist";
  e.split = "test";
  e.images = 100;
  e.top1 = 0.9;
  e.images_sha256 = std::string(64, 'a');
  e.top1_correct.assign(100, false);
  for (std::size_t i = 0; i < 90; ++i) e.top1_correct[i] = true;
  ReportData a, b;
  a.evaluations = {e};
  b.evaluations = {e};
  const Table table = compare_accuracy_table(a, b);
  ASSERT_EQ(table.rows.size(), 1u);
  EXPECT_EQ(table.rows[0][5], "+0");  // 100 images: top-1 is known to about ±6 points
  EXPECT_EQ(table.rows[0][6], "1.000 (within noise)");
  EXPECT_TRUE(compare_tables(ReportData{}, b).empty());
}

}  // namespace
}  // namespace tailsweep::report
