// The cost and throughput tables on hand-made data, worked by hand.
#include "coordinator/report/cost_tables.h"

#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/model/model_config.h"
#include "coordinator/report/report_json.h"

namespace tailsweep::report {
namespace {

using ::testing::ElementsAre;

TEST(TokensPerBlockText, CompressesRunsOfEqualCounts) {
  EXPECT_EQ(tokens_per_block_text({197, 197, 197, 74, 74, 74}), "197x3, 74x3");
  EXPECT_EQ(tokens_per_block_text({197, 189, 181}), "197, 189, 181");
  EXPECT_EQ(tokens_per_block_text({}), "");
}

MethodLatencyRow timed(const std::string& device, int64_t batch, const std::string& method,
                       double ms, std::optional<double> ratio = std::nullopt) {
  MethodLatencyRow row;
  row.device = {device, device == "nano"};
  row.model = "fmnist-vit";
  row.batch = batch;
  row.method = method;
  row.median_ms = ms;
  row.reached_precision = true;
  if (ratio) {
    row.ratio = ratio;
    row.ratio_ci95_low = *ratio - 0.01;
    row.ratio_ci95_high = *ratio + 0.02;
  }
  return row;
}

EvaluationRow evaluated(const std::string& method) {
  EvaluationRow row;
  row.model = "fmnist-vit";
  row.method = method;
  return row;
}

TEST(CostTable, TokensAndGflopsOfEachMethodAgainstNone) {
  ReportData data;
  data.method_latencies = {timed("cpu", 1, "none", 6), timed("cpu", 1, "pomt:123", 5),
                           timed("cpu", 1, "topk:1", 5.9)};  // a candidate, not evaluated
  data.evaluations = {evaluated("pomt:123"),
                      evaluated("magic:3")};  // a method this build cannot parse
  const Table table = cost_table(cost_rows(data));
  ASSERT_EQ(table.rows.size(), 2u);
  // fmnist-vit: 6 blocks, 197 tokens; POMT at layer 3 leaves 74 in blocks 4-6.
  const VitConfig config = parse_model_spec("fmnist-vit");
  EXPECT_EQ(config.depth, 6);
  const std::vector<int64_t> pomt = {197, 197, 197, 197, 74, 74};
  EXPECT_THAT(table.rows[1],
              ElementsAre("fmnist-vit", "pomt:123", "197x4, 74x2", ::testing::_, ::testing::_));
  const double full = config.forward_flops(1, std::vector<int64_t>(6, 197));
  const double pruned = config.forward_flops(1, pomt);
  EXPECT_EQ(table.rows[1][4], fmt::format("{:+.1f}", 100 * (pruned / full - 1)));
  EXPECT_EQ(table.csv->rows[1][2], "197 197 197 197 74 74");
  EXPECT_EQ(table.rows[0][4], "+0.0");
}

TEST(ThroughputTable, TheLargestBatchPerDeviceOnThePairedScale) {
  ReportData data;
  data.method_latencies = {timed("cpu", 1, "none", 6),         timed("cpu", 4, "none", 20),
                           timed("cpu", 4, "topk:8", 19, 0.8), timed("cpu", 1, "topk:8", 5, 0.9),
                           timed("nano", 1, "none", 10),       timed("nano", 1, "topk:8", 9, 0.5),
                           timed("nano", 1, "topk:30", 7, 0.4)};  // a candidate, not evaluated
  data.evaluations = {evaluated("topk:8")};
  const Table table = throughput_table(throughput_rows(data));
  ASSERT_EQ(table.rows.size(), 4u);
  // The CPU at batch 4: none 4000/20 = 200 images/s; topk:8 on the paired
  // scale 0.8 x 20 = 16 ms, 250 images/s, +25% (1/0.8), CI [1/0.82, 1/0.79].
  EXPECT_THAT(table.rows[0], ElementsAre("cpu", "fmnist-vit", "4", "none", "200", ""));
  EXPECT_EQ(table.rows[1][4], "250");
  EXPECT_EQ(table.rows[1][5], "+25.0% ±3.0");  // the wider side: 1.25 - 1/0.82
  EXPECT_EQ(table.csv->rows[1][6], "25");
  EXPECT_NEAR(std::stod(table.csv->rows[1][7]), 100 * (1 / 0.82 - 1), 1e-6);
  EXPECT_NEAR(std::stod(table.csv->rows[1][8]), 100 * (1 / 0.79 - 1), 1e-6);
  // The simulated Nano at its only batch, after the real CPU.
  EXPECT_EQ(table.rows[2][0], "nano (simulated)");
  EXPECT_EQ(table.rows[3][4], "200");  // 0.5 x 10 ms = 5 ms

  // report.json carries the same rows as numbers, and the work per method.
  const nlohmann::json json = report_json(data);
  ASSERT_EQ(json["throughput"].size(), 4u);
  EXPECT_EQ(json["throughput"][0]["device"]["name"], "cpu");
  EXPECT_TRUE(json["throughput"][0]["speedup_vs_none"].is_null());
  EXPECT_NEAR(json["throughput"][1]["speedup_vs_none"].get<double>(), 1.25, 1e-12);
  EXPECT_NEAR(json["throughput"][1]["speedup_ci95_low"].get<double>(), 1 / 0.82, 1e-12);
  EXPECT_NEAR(json["throughput"][1]["images_per_s"].get<double>(), 250, 1e-9);
  EXPECT_EQ(json["throughput"][2]["device"]["simulated"], true);
  ASSERT_EQ(json["cost"].size(), 2u);
  EXPECT_EQ(json["cost"][1]["method"], "topk:8");
  EXPECT_EQ(json["cost"][1]["tokens_per_block"].size(), 6u);
  EXPECT_EQ(json["cost"][0]["gflops_change_percent"], 0.0);
}

}  // namespace
}  // namespace tailsweep::report
