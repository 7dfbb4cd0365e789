// The report's tables on hand-made data: baseline deltas, the method order,
// steps, and the Markdown, CSV and LaTeX renderers with their escaping.
#include "coordinator/report/report_tables.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "analysis/proportions.h"
#include "coordinator/report/report_formats.h"
#include "coordinator/report/report_json.h"
#include "coordinator/report/report_plots.h"

namespace tailsweep::report {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

EvaluationRow evaluation(const std::string& method, double top1, std::optional<double> latency_ms,
                         const std::string& device = "cpu-1") {
  EvaluationRow row;
  row.model = "fmnist-vit";
  row.method = method;
  row.dataset = "fashion-mnist";
  row.split = "test";
  row.images = 10000;
  row.batch = 64;
  row.top1 = top1;
  row.top5 = 0.99;
  row.latency_median_ms = latency_ms;
  row.device = {device, false};
  return row;
}

std::vector<std::string> methods_of(const std::vector<AccuracyRow>& rows) {
  std::vector<std::string> methods;
  for (const AccuracyRow& row : rows) methods.push_back(row.evaluation.method);
  return methods;
}

TEST(MethodRank, NoneThenPomtTopkTomeThenOthers) {
  EXPECT_LT(method_rank("none"), method_rank("pomt:58"));
  EXPECT_LT(method_rank("pomt:58@3"), method_rank("topk:20"));
  EXPECT_LT(method_rank("topk:20"), method_rank("tome:8"));
  EXPECT_LT(method_rank("tome:[1,2]"), method_rank("random:50"));
}

TEST(AccuracyRows, SortedByMethodWithChangesAgainstTheBaseline) {
  const auto rows =
      accuracy_rows({evaluation("tome:8", 0.88, 17.0), evaluation("random:50", 0.5, 9.0),
                     evaluation("pomt:58", 0.885, 15.0), evaluation("none", 0.90, 20.0),
                     evaluation("topk:20", 0.87, 16.0)});
  EXPECT_THAT(methods_of(rows), ElementsAre("none", "pomt:58", "topk:20", "tome:8", "random:50"));
  EXPECT_DOUBLE_EQ(*rows[0].top1_change_points, 0);
  EXPECT_NEAR(*rows[1].top1_change_points, -1.5, 1e-9);
  EXPECT_NEAR(*rows[1].latency_change_ms, -5.0, 1e-9);
  EXPECT_NEAR(*rows[1].latency_change_percent, -25.0, 1e-9);
}

TEST(AccuracyRows, NoBaselineOrAnotherDevicesLatencyGivesNoChange) {
  auto rows = accuracy_rows({evaluation("pomt:58", 0.885, 15.0)});
  EXPECT_FALSE(rows[0].top1_change_points);
  rows = accuracy_rows(
      {evaluation("none", 0.9, 20.0, "cpu-1"), evaluation("pomt:58", 0.885, 5.0, "cuda-1")});
  EXPECT_TRUE(rows[1].top1_change_points);  // accuracy does not depend on the device
  EXPECT_FALSE(rows[1].latency_change_ms);  // latency across devices compares hardware
  rows = accuracy_rows({evaluation("none", 0.9, std::nullopt), evaluation("pomt:58", 0.885, 5.0)});
  EXPECT_FALSE(rows[1].latency_change_ms);
}

TEST(AccuracyTable, ShowsPercentagesPointsAndTheDevice) {
  // The latency job on cpu-1 timed pomt:58 at batches 1 and 4, paired with
  // "none"; batch 4 twice (the later row wins); another device's row and an
  // unpaired one are not this evaluation's.
  const auto timed = [](std::string device, int64_t batch, std::optional<double> ratio) {
    MethodLatencyRow row{
        {std::move(device), false}, "fmnist-vit", batch, "pomt:58", 10.0, true, {}, {}, {}, {}};
    row.ratio = ratio;
    if (ratio) {
      row.ratio_ci95_low = *ratio - 0.004;
      row.ratio_ci95_high = *ratio + 0.006;
    }
    return row;
  };
  const std::vector<MethodLatencyRow> latencies = {
      timed("cpu-1", 4, 0.70), timed("cpu-1", 1, 0.848), timed("cpu-1", 4, 0.794),
      timed("cpu-2", 1, 0.5), timed("cpu-1", 8, std::nullopt)};
  const Table table = accuracy_table(
      accuracy_rows({evaluation("none", 0.90, 20.0), evaluation("pomt:58", 0.885, 15.0, "cpu-1")}),
      latencies);
  ASSERT_EQ(table.rows.size(), 2u);
  EXPECT_THAT(table.rows[1],
              ElementsAre("fmnist-vit", "pomt:58", "fashion-mnist/test", "10000",
                          "88.5 [87.9, 89.1]", "-1.5", "", "99.0", "b1 -15.2% ±0.6, b4 -20.6% ±0.6",
                          "64", "15.0", "-25.0", "cpu-1"));
}

// Two evaluations of the same 1,000 images: the difference is tested image
// by image, and 1.5 points from 40 against 25 discordant images is noise.
TEST(AccuracyRows, TheChangeIsTestedOnTheSameImages) {
  EvaluationRow none = evaluation("none", 0.900, std::nullopt);
  EvaluationRow pruned = evaluation("pomt:58", 0.885, std::nullopt);
  none.images = pruned.images = 1000;
  none.images_sha256 = pruned.images_sha256 = std::string(64, 'a');
  none.top1_correct.assign(1000, false);
  pruned.top1_correct.assign(1000, false);
  for (std::size_t i = 0; i < 860; ++i) none.top1_correct[i] = pruned.top1_correct[i] = true;
  for (std::size_t i = 860; i < 900; ++i) none.top1_correct[i] = true;    // 40 only none
  for (std::size_t i = 900; i < 925; ++i) pruned.top1_correct[i] = true;  // 25 only pruned
  std::vector<AccuracyRow> rows = accuracy_rows({none, pruned});
  ASSERT_TRUE(rows[1].top1_change_p);
  EXPECT_NEAR(*rows[1].top1_change_p, stats::mcnemar_exact_p(40, 25), 1e-12);
  EXPECT_GT(*rows[1].top1_change_p, 0.05);
  EXPECT_EQ(p_value_text(rows[1].top1_change_p),
            fmt::format("{:.3f} (within noise)", *rows[1].top1_change_p));
  EXPECT_FALSE(rows[0].top1_change_p);  // the baseline itself
  // Other images, or no per-image results: no test.
  pruned.images_sha256 = std::string(64, 'b');
  EXPECT_FALSE(paired_top1_p(pruned, none));
  pruned.images_sha256 = none.images_sha256;
  pruned.top1_correct.clear();
  EXPECT_FALSE(paired_top1_p(pruned, none));
  EXPECT_EQ(p_value_text(0.0004), "<0.001");
  EXPECT_EQ(p_value_text(0.012), "0.012");
}

TEST(MeasurementTable, ShowsDriftAndFlagsItPastThePrecision) {
  MeasurementRow drifting;
  drifting.device = {"cpu-1", false};
  drifting.job_id = 7;
  drifting.job_kind = "latency";
  drifting.model = "fmnist-vit";
  drifting.protocol = "rounds: every point visited each round";
  drifting.rounds = 58;
  drifting.drift = 1.577;
  drifting.drift_exceeds_precision = true;
  drifting.precision = 0.02;
  drifting.max_load_average = 1.38;
  drifting.steal_fraction = 0.001;
  MeasurementRow old;  // a version-1 result: nothing but what it is
  old.device = {"nano", true};
  old.job_id = 8;
  old.job_kind = "profile";
  old.model = "deit-tiny";
  const Table table = measurement_table({drifting, old});
  EXPECT_THAT(table.rows[0], ElementsAre("cpu-1", "7", "latency", "fmnist-vit", "rounds", "58",
                                         "57.7 !", "2.0", "1.38", "0.10"));
  EXPECT_THAT(table.rows[1],
              ElementsAre("nano (simulated)", "8", "profile", "deit-tiny", "", "", "", "", "", ""));
}

schedule::LatencyStep step(int64_t below, int64_t above, double height_ms) {
  schedule::LatencyStep s;
  s.tokens_below = below;
  s.tokens_above = above;
  s.height_ms = height_ms;
  return s;
}

TEST(ScheduleTable, SavedLatencyAndStepsWithTheSimulatedDeviceMarked) {
  ScheduleEntry entry;
  entry.device = {"orin", true};
  entry.model = "deit-tiny";
  entry.batch = 1;
  entry.tokens_total = 197;
  entry.n_star = 128;
  entry.r = 67;
  entry.layer = 3;
  entry.latency_at_n_star_ms = 10.0;
  entry.unpruned_latency_ms = 25.0;
  entry.steps = {step(128, 129, 11.0), step(64, 65, 5.25)};
  ScheduleEntry keeps_all = entry;  // R so large that the engine prunes nothing
  keeps_all.n_star = 1;
  keeps_all.r = 194;
  entry.latency_after_pruning_ms = 21.0;  // the curve at 133: past the step
  entry.latency_after_pruning_at = 133;
  ScheduleEntry aligned = entry;
  aligned.variant = "aligned";
  aligned.r = 69;  // lands on 128, below the step
  aligned.latency_after_pruning_ms = 10.0;
  aligned.latency_after_pruning_at = 128;
  aligned.curve_points = 40;
  aligned.curve_points_below_precision = 3;
  aligned.curve_points_unstable = 1;
  aligned.n_star_reached_precision = false;
  const auto timed = [](std::string method, double ratio) {
    MethodLatencyRow row{{"orin", true}, "deit-tiny",  1, std::move(method), 20.0, true, ratio,
                         ratio - 0.01,   ratio + 0.02, {}};
    return row;
  };
  const std::vector<MethodLatencyRow> latencies = {timed("pomt:67", 0.98), timed("pomt:69", 0.62)};
  const Table table = schedule_table({entry, aligned, keeps_all}, latencies);
  // 197 - 67 = 130 = n* + 2 tokens after pruning: just above the 128->129
  // step, so it promises (8.67/12) x (1 - 21/25) = 11.6%, and saves 2%: flagged.
  EXPECT_THAT(table.rows.at(0),
              ElementsAre("orin (simulated)", "deit-tiny", "1", "reference", "128", "67", "3",
                          "130", "10.0", "21.0 (at 133)", "25.0", "11.6", "2.0 ±2.0 !",
                          "128->129 (+11.0 ms), 64->65 (+5.2 ms)", ""));
  // The aligned variant lands below the step: (8.67/12) x (1 - 10/25) = 43.3%.
  EXPECT_THAT(
      table.rows.at(1),
      ElementsAre("orin (simulated)", "deit-tiny", "1", "aligned", "128", "69", "3", "128", "10.0",
                  "10.0", "25.0", "43.3", "38.0 ±2.0", "128->129 (+11.0 ms), 64->65 (+5.2 ms)",
                  "3 of 40 short of precision, 1 unstable; n* short of precision !"));
  EXPECT_EQ(table.rows.at(2).at(7), "197");  // R past everything: nothing is pruned
  keeps_all.curve_points = 40;
  keeps_all.curve_points_below_precision = 0;
  keeps_all.curve_points_unstable = 0;
  keeps_all.n_star_reached_precision = true;
  EXPECT_EQ(curve_validity_text(keeps_all), "all 40 reached precision");
  EXPECT_EQ(format_steps({}), "none");
}

TEST(PairedPoints, FallsBackToTheMedianWhereTheIntervalIsNull) {
  const auto measured = [](int64_t tokens, double ms, std::optional<double> low,
                            std::optional<double> high) {
    return LatencyPointRow{tokens, ms, low, high, {}, {}, {}, {}};
  };
  const std::vector<LatencyPointRow> points = {
      measured(120, 10.0, std::nullopt, std::nullopt), measured(124, 10.1, 10.05, 10.15),
      measured(128, 10.2, 10.1, 10.3),                 measured(129, 21.2, 21.1, 21.3),
      measured(133, 21.3, std::nullopt, std::nullopt), measured(137, 21.4, 21.3, 21.5)};
  EXPECT_EQ(format_steps(schedule::find_latency_steps(paired_points(points))),
            "128->129 (+11.0 ms)");
}

// A drifting machine: the 129-token point was measured while the machine
// was slow, so its median and wide CI overlap nothing useful, but its ratio
// to the reference (measured in the same rounds) places the step exactly.
TEST(PairedPoints, StepsAreFoundOnTheRatiosWhenThePointsArePaired) {
  std::vector<LatencyPointRow> points = {{124, 12.0, 9.0, 15.0, 0.50, 0.495, 0.505, 197},
                                         {128, 10.0, 8.0, 14.0, 0.51, 0.505, 0.515, 197},
                                         {129, 15.0, 9.0, 16.0, 0.90, 0.89, 0.91, 197},
                                         {133, 14.0, 10.0, 16.0, 0.91, 0.905, 0.915, 197},
                                         {197, 20.0, 15.0, 25.0, {}, {}, {}, {}}};
  // Unpaired, the intervals overlap everywhere: no step.
  std::vector<LatencyPointRow> unpaired = points;
  for (LatencyPointRow& point : unpaired) point.ratio.reset();
  EXPECT_EQ(format_steps(schedule::find_latency_steps(paired_points(unpaired))), "none");
  const auto paired = paired_points(points);
  EXPECT_DOUBLE_EQ(paired[2].median_ms, 0.90 * 20.0);
  EXPECT_DOUBLE_EQ(paired[4].ci_low_ms, 20.0);  // the reference is the scale: exact
  EXPECT_EQ(format_steps(schedule::find_latency_steps(paired)), "128->129 (+7.8 ms)");
}

Table small_table() {
  return Table{"t", "A_table: 100% & more", {"name", "value"}, {{"a_b|c", "1.5"}, {"x%&$#", ""}}};
}

TEST(Escaping, LatexAndMarkdownSpecials) {
  EXPECT_EQ(escape_latex("a_b % & $ # { } ~ ^ \\"),
            "a\\_b \\% \\& \\$ \\# \\{ \\} \\textasciitilde{} \\textasciicircum{} "
            "\\textbackslash{}");
  EXPECT_EQ(escape_markdown("a|b_c*d"), "a\\|b\\_c\\*d");
}

TEST(RenderCsv, QuotesWhereNeededWithCrlf) {
  const Table table{
      "t", "t", {"name", "steps"}, {{"a,b", "128->129 (+11.0 ms), 64->65 (+5.2 ms)"}}};
  EXPECT_EQ(render_csv(table),
            "name,steps\r\n\"a,b\",\"128->129 (+11.0 ms), 64->65 (+5.2 ms)\"\r\n");
}

Provenance provenance() {
  Provenance p;
  p.sweep_id = 7;
  p.sweep_name = "fmnist_pomt";
  p.sweep_state = "done";
  p.created_at_s = 0;
  p.finished_at_s = 3600;
  p.devices = {{"cpu-1", false}, {"orin", true}};
  p.git_shas = {"abc123"};
  p.agent_versions = {"0.1.0"};
  p.generated_at_utc = "2026-01-01 00:00:00 UTC";
  p.tailsweep_git_sha = "f00d";
  return p;
}

TEST(RenderMarkdown, ProvenanceHeadingsMissingLinesAndEscapedCells) {
  const std::string md =
      render_markdown(provenance(), {small_table()}, {"No schedules: none yet."});
  EXPECT_THAT(md, HasSubstr("# tailsweep report: sweep 7 (fmnist\\_pomt)"));
  EXPECT_THAT(md,
              HasSubstr("- created: 1970-01-01 00:00:00 UTC; finished: 1970-01-01 01:00:00 UTC"));
  EXPECT_THAT(md, HasSubstr("- devices: cpu-1, orin (simulated)"));
  EXPECT_THAT(md, HasSubstr("by tailsweep f00d"));
  EXPECT_THAT(md, HasSubstr("> No schedules: none yet."));
  EXPECT_THAT(md, HasSubstr("## A\\_table: 100% & more"));
  EXPECT_THAT(md, HasSubstr("| name | value |\n|---|---:|\n| a\\_b\\|c | 1.5 |\n"));
}

TEST(RenderLatex, BooktabsWithEscapedCellsAndProvenanceComments) {
  const std::string tex = render_latex(provenance(), {small_table()}, {});
  EXPECT_THAT(tex, HasSubstr("% sweep: 7 'fmnist_pomt', state done\n"));
  EXPECT_THAT(tex, HasSubstr("\\caption{A\\_table: 100\\% \\& more}"));
  EXPECT_THAT(tex, HasSubstr("\\begin{tabular}{lr}\n\\toprule\nname & value \\\\\n\\midrule\n"));
  EXPECT_THAT(tex, HasSubstr("a\\_b|c & 1.5 \\\\\nx\\%\\&\\$\\# &  \\\\\n\\bottomrule"));
}

// Before: a name with a newline ended the provenance comment, and the rest
// of the name (\input{...}) was live LaTeX in tables.tex.
TEST(RenderLatex, NamesCannotEscapeTheProvenanceComments) {
  Provenance p = provenance();
  p.sweep_name = "x\n\\input{/etc/passwd}";
  p.devices = {{"dev\r\n\\write18{rm -rf x}", false}};
  const std::string tex = render_latex(p, {small_table()}, {});
  std::size_t line_start = 0;
  while (line_start < tex.size()) {
    const std::size_t line_end = tex.find('\n', line_start);
    const std::string line = tex.substr(line_start, line_end - line_start);
    EXPECT_FALSE(line.starts_with("\\input") || line.starts_with("\\write18")) << line;
    if (line.find("input{/etc") != std::string::npos || line.find("write18") != std::string::npos) {
      EXPECT_TRUE(line.starts_with("% ")) << line;
    }
    if (line_end == std::string::npos) break;
    line_start = line_end + 1;
  }
  EXPECT_THAT(tex, HasSubstr("% sweep: 7 'x\\x0a\\input{/etc/passwd}', state done\n"));
}

TEST(ReportJson, CarriesNumbersDeltasAndNulls) {
  ReportData data;
  data.provenance = provenance();
  data.evaluations = {evaluation("pomt:58", 0.885, 15.0), evaluation("none", 0.9, 20.0)};
  data.missing = {"No schedules"};
  const nlohmann::json json = report_json(data);
  EXPECT_EQ(json["provenance"]["devices"][1]["simulated"], true);
  EXPECT_EQ(json["evaluations"][0]["method"], "none");
  EXPECT_NEAR(json["evaluations"][1]["latency_change_ms"].get<double>(), -5.0, 1e-9);
  EXPECT_TRUE(json["schedules"].empty());
  EXPECT_EQ(json["missing"][0], "No schedules");
}

TEST(ReportPlots, OnePerCurveModelAndEvaluatedModelWithSafeNames) {
  ReportData data;
  LatencyCurve curve;
  curve.device = {"jetson/orin nano", true};
  curve.model = "deit-tiny";
  curve.batch = 4;
  curve.points = {{100, 10, 9, 11, {}, {}, {}, {}}, {197, 20, 19, 21, {}, {}, {}, {}}};
  data.latency_curves = {curve};
  data.accuracy_curves = {{"deit-tiny", "fashion-mnist", "test", "random", {{100, 0.5, 0.9, 10}}}};
  data.evaluations = {evaluation("none", 0.9, 20.0)};
  std::vector<std::string> names;
  for (const NamedPlot& plot : report_plots(data)) names.push_back(plot.file_name);
  EXPECT_THAT(names, ElementsAre("latency-jetson_orin_nano-deit-tiny-b4.svg",
                                 "accuracy-deit-tiny.svg", "accuracy-vs-latency-fmnist-vit.svg"));
  EXPECT_THAT(latency_plot(curve, {}).plot.title, HasSubstr("(simulated)"));
}

}  // namespace
}  // namespace tailsweep::report
