// The report's HDP table and figures on hand-made rows: the attention work
// each method skipped (token pruning and HDP's own count composed), the
// paired latency change per device, and the families on shared axes.
#include "coordinator/report/hdp_report.h"

#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/model/method_spec.h"
#include "common/model/model_config.h"
#include "common/model/token_schedule.h"

namespace tailsweep::report {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr const char* kHeads = "hdp:heads=0.1,blocks=1,approx=0,frac=8";
constexpr const char* kComposed = "pomt:58+hdp:heads=0,blocks=0.5,approx=0,frac=8";

EvaluationRow evaluation(std::string method, double top1, std::optional<HdpShares> hdp = {}) {
  EvaluationRow row;
  row.model = "fmnist-vit";
  row.method = std::move(method);
  row.dataset = "fashion-mnist";
  row.split = "test";
  row.images = 10000;
  row.batch = 64;
  row.top1 = top1;
  row.top5 = 0.99;
  row.device = {"local-cpu", false};
  row.hdp = hdp;
  return row;
}

MethodLatencyRow timed(std::string method, int64_t batch, double ratio,
                       std::optional<double> heads_pruned = {}) {
  return {{"local-cpu", false}, "fmnist-vit", batch,       std::move(method), 10.0, true, ratio,
          ratio - 0.02,         ratio + 0.03, heads_pruned};
}

ReportData hdp_sweep() {
  ReportData data;
  data.evaluations = {evaluation("none", 0.89), evaluation("topk:8", 0.86),
                      evaluation(kHeads, 0.88, HdpShares{0.25, 0, 0.25}),
                      evaluation(kComposed, 0.85, HdpShares{0, 0.5, 0.5})};
  data.method_latencies = {timed("none", 1, 1.0), timed("topk:8", 1, 0.8),
                           timed(kHeads, 1, 1.05, 0.2), timed(kHeads, 64, 0.97, 0.22),
                           timed(kComposed, 1, 0.7, 0.0)};
  return data;
}

TEST(HdpReport, FamiliesNameTheTokenMethodAndHdp) {
  EXPECT_EQ(method_family_name("none"), "none");
  EXPECT_EQ(method_family_name("topk:8"), "topk");
  EXPECT_EQ(method_family_name(kHeads), "hdp");
  EXPECT_EQ(method_family_name(kComposed), "pomt+hdp");
  EXPECT_EQ(method_family_name("tome:8+hdp:blocks=0.5"), "tome+hdp");
  EXPECT_EQ(method_family_name("magic:3"), "other");
}

// HDP alone skips what it counted; with POMT, what it counted is a share of
// the work POMT's tokens left.
TEST(HdpReport, AttentionWorkSkippedComposesTokensAndHdp) {
  const ReportData data = hdp_sweep();
  const VitConfig config = parse_model_spec("fmnist-vit");
  EXPECT_DOUBLE_EQ(*attention_work_skipped(data.evaluations[0]), 0.0);
  EXPECT_DOUBLE_EQ(*attention_work_skipped(data.evaluations[1]),
                   1 - attention_work_share(parse_method_spec("topk:8"), config));
  EXPECT_DOUBLE_EQ(*attention_work_skipped(data.evaluations[2]), 0.25);
  const double pomt = attention_work_share(parse_method_spec("pomt:58"), config);
  ASSERT_LT(pomt, 1.0);
  EXPECT_DOUBLE_EQ(*attention_work_skipped(data.evaluations[3]), 1 - pomt * 0.5);
  EvaluationRow unknown = data.evaluations[0];
  unknown.model = "no-such-model";
  EXPECT_FALSE(attention_work_skipped(unknown));
}

TEST(HdpReport, TheTableHasOneRowPerHdpEvaluationWithItsLatencyPerDevice) {
  const ReportData data = hdp_sweep();
  const Table table = hdp_table(accuracy_rows(data.evaluations), data.method_latencies);
  ASSERT_EQ(table.rows.size(), 2u);
  const std::vector<std::string>& heads =
      table.rows[0][2] == kHeads ? table.rows[0] : table.rows[1];
  EXPECT_EQ(heads[5], "-1.0");   // top-1 vs none, points
  EXPECT_EQ(heads[6], "25.0");   // heads pruned
  EXPECT_EQ(heads[7], "0.0");    // blocks pruned
  EXPECT_EQ(heads[9], "25.0");   // attention work skipped
  EXPECT_EQ(heads[10],
            "local-cpu: b1 +5.0% ±3.0, b64 -3.0% ±3.0 (timing input, b64: 22.0% of heads pruned)");
  const std::vector<std::string>& composed =
      table.rows[0][2] == kHeads ? table.rows[1] : table.rows[0];
  EXPECT_THAT(composed[10], HasSubstr("b1 -30.0%"));
  // A simulated device's row says its heads are the model's, from the shares.
  std::vector<MethodLatencyRow> with_sim = data.method_latencies;
  with_sim.push_back(timed(kHeads, 1, 1.2, 0.25));
  with_sim.back().device = {"nano", true};
  const Table both = hdp_table(accuracy_rows(data.evaluations), with_sim);
  const std::string& text = both.rows[0][2] == kHeads ? both.rows[0][10] : both.rows[1][10];
  EXPECT_THAT(text, HasSubstr("; nano (simulated): b1 +20.0% ±3.0 (modelled from the "
                              "evaluation's shares, b1: 25.0% of heads pruned)"));
}

TEST(HdpReport, FiguresPutEveryFamilyOnTheSameAxes) {
  const ReportData data = hdp_sweep();
  std::vector<NamedPlot> plots = hdp_plots(data);
  for (NamedPlot& plot : paired_latency_plots(data)) plots.push_back(std::move(plot));
  std::vector<std::string> names;
  for (const NamedPlot& plot : plots) names.push_back(plot.file_name);
  EXPECT_THAT(names, ElementsAre("accuracy-vs-attention-fmnist-vit.svg",
                                 "accuracy-vs-paired-latency-local-cpu-fmnist-vit-b1.svg",
                                 "accuracy-vs-paired-latency-local-cpu-fmnist-vit-b64.svg"));
  std::vector<std::string> families;
  for (const Series& series : plots[0].plot.series) families.push_back(series.label);
  EXPECT_THAT(families, ElementsAre("none", "topk", "hdp", "pomt+hdp"));

  // At batch 1 every method was timed: none at 0, the others at their change.
  std::vector<std::pair<std::string, double>> points;
  for (const Series& series : plots[1].plot.series) {
    if (series.label == "Pareto front") continue;
    for (std::size_t i = 0; i < series.x.size(); ++i) {
      points.emplace_back(series.point_labels[i], series.x[i]);
    }
  }
  EXPECT_EQ(points.size(), 4u);
  for (const auto& [method, x] : points) {
    if (method == "none") {
      EXPECT_DOUBLE_EQ(x, 0);
    } else if (method == kHeads) {
      EXPECT_NEAR(x, 5.0, 1e-9);
    } else if (method == kComposed) {
      EXPECT_NEAR(x, -30.0, 1e-9);
    }
  }
  // At batch 64 only the HDP setting and the baseline.
  std::size_t at_64 = 0;
  for (const Series& series : plots[2].plot.series) {
    if (series.label != "Pareto front") at_64 += series.x.size();
  }
  EXPECT_EQ(at_64, 2u);

  // A sweep without HDP gets no attention figure; the paired ones stay.
  ReportData plain = data;
  plain.evaluations.resize(2);
  EXPECT_TRUE(hdp_plots(plain).empty());
  EXPECT_EQ(paired_latency_plots(plain).size(), 2u);
}

// The paired-latency figure draws the Pareto front: the methods no other
// beats on both latency and top-1, through them in order of latency.
TEST(HdpReport, ThePairedLatencyFigureDrawsTheParetoFront) {
  const ReportData data = hdp_sweep();
  const NamedPlot plot = paired_latency_plots(data).at(0);
  ASSERT_FALSE(plot.plot.series.empty());
  const Series& front = plot.plot.series.front();
  ASSERT_EQ(front.label, "Pareto front");
  EXPECT_EQ(front.style, SeriesStyle::line);
  ASSERT_GE(front.x.size(), 2u);
  EXPECT_TRUE(std::is_sorted(front.x.begin(), front.x.end()));
  // Every other point is dominated by, or on, the front.
  for (const Series& series : plot.plot.series) {
    if (series.label == "Pareto front") continue;
    for (std::size_t i = 0; i < series.x.size(); ++i) {
      bool covered = false;
      for (std::size_t j = 0; j < front.x.size(); ++j) {
        covered = covered || (front.x[j] <= series.x[i] && front.y[j] >= series.y[i]);
      }
      EXPECT_TRUE(covered) << series.point_labels[i];
    }
  }
}

}  // namespace
}  // namespace tailsweep::report
