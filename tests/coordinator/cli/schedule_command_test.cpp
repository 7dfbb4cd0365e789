// tailsweep schedule pomt, driven for real on files the test writes (CSV as
// the report writes them, JSON as the agent does) and on a database built
// with the store's API.
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../../support/run_command.h"
#include "../../support/temp_dir.h"
#include "../store/results_fixture.h"

namespace tailsweep {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using testing::run_command;

TEST(ScheduleCommand, PrintsRAndNStarOfAHandWorkedCase) {
  const testing::TempDir dir("tailsweep-schedule");
  // The case worked by hand in tests/common/pomt_schedule_test.cpp: n* = 150, R = 45.
  std::ofstream(dir / "l.csv") << "tokens,latency_ms\n100,5\n150,6\n197,10\n";
  std::ofstream(dir / "a.csv") << "tokens,top1\r\n100,0.4\r\n150,0.76\r\n\r\n197,0.8\r\n";
  const auto result =
      run_command(std::string(TAILSWEEP_BIN) + " schedule pomt --latency " +
                  (dir / "l.csv").string() + " --accuracy " + (dir / "a.csv").string());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto out = nlohmann::json::parse(result.out);
  EXPECT_EQ(out["n_star"], 150);
  EXPECT_EQ(out["R"], 45);
  EXPECT_EQ(out["tokens_after_pruning"], 152);
}

// A staircase: 10 ms up to 128 tokens, 20 ms from 129; top-1 = n / 197. U
// peaks at the top of the step, n* = 128. The reference prunes to n* + 2 =
// 130 tokens, past the cliff; --align steps keeps 128.
TEST(ScheduleCommand, AlignStepsLandsBelowTheStepTheReferenceCrosses) {
  const testing::TempDir dir("tailsweep-schedule");
  std::ofstream latency(dir / "l.csv");
  std::ofstream accuracy(dir / "a.csv");
  latency << "tokens,latency_ms\n";
  accuracy << "tokens,top1\n";
  for (int n = 100; n <= 197; ++n) {
    latency << n << "," << (n <= 128 ? 10 : 20) << "\n";
    accuracy << n << "," << n / 197.0 << "\n";
  }
  latency.close();
  accuracy.close();
  const std::string base = std::string(TAILSWEEP_BIN) + " schedule pomt --latency " +
                           (dir / "l.csv").string() + " --accuracy " + (dir / "a.csv").string();
  const auto reference = run_command(base);
  ASSERT_EQ(reference.exit_code, 0) << reference.err;
  const auto ref = nlohmann::json::parse(reference.out);
  EXPECT_EQ(ref["n_star"], 128);
  EXPECT_EQ(ref["tokens_after_pruning"], 130);
  EXPECT_EQ(ref["R"], 67);
  EXPECT_TRUE(ref["aligned_below_step"].is_null());

  const auto aligned_run = run_command(base + " --align steps");
  ASSERT_EQ(aligned_run.exit_code, 0) << aligned_run.err;
  const auto aligned = nlohmann::json::parse(aligned_run.out);
  EXPECT_EQ(aligned["n_star"], 128);
  EXPECT_EQ(aligned["tokens_after_pruning"], 128);
  EXPECT_EQ(aligned["R"], 69);
  EXPECT_EQ(aligned["reference_R"], 67);
  EXPECT_EQ(aligned["aligned_below_step"]["tokens_above"], 129);
  EXPECT_EQ(run_command(base + " --align nowhere").exit_code, 2);
}

TEST(ScheduleCommand, BadFilesGetOneLineAndExitTwo) {
  const testing::TempDir dir("tailsweep-schedule");
  std::ofstream(dir / "l.csv") << "tokens,ms\n100,5\n";
  std::ofstream(dir / "a.csv") << "tokens,top1\n100,x\n";
  const std::string base = std::string(TAILSWEEP_BIN) + " schedule pomt --accuracy " +
                           (dir / "a.csv").string() + " --latency ";
  auto result = run_command(base + (dir / "l.csv").string());
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("expected one of: tokens,latency_ms | "
                                    "tokens,median_ms,median_ci95_low_ms,median_ci95_high_ms | "
                                    "tokens,median_ms,median_ci95_low_ms,median_ci95_high_ms,"
                                    "paired_ms,paired_ci95_low_ms,paired_ci95_high_ms"));
  std::ofstream(dir / "l.csv") << "tokens,latency_ms\n100,5\n";
  result = run_command(base + (dir / "l.csv").string());
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("a.csv:2: top1 'x' is not a number"));
  std::ofstream(dir / "p.json") << R"({"points": [)";
  result = run_command(base + (dir / "p.json").string());
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("p.json"));
  // Files and a database at once, or a database without its selection.
  result = run_command(base + (dir / "l.csv").string() + " --db " + (dir / "l.csv").string());
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("either --latency FILE and --accuracy FILE, or --db FILE"));
  result = run_command(std::string(TAILSWEEP_BIN) + " schedule pomt --db " +
                       (dir / "l.csv").string() + " --device d --model m");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("--db needs --device, --model and --batch"));
  result = run_command(std::string(TAILSWEEP_BIN) + " schedule pomt --db " +
                       (dir / "l.csv").string() + " --device d --model m --batch 1");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("is not a tailsweep database"));
}

// The report's own CSVs, with their CIs (so a step is found) and their
// extra columns; grids that differ are named, not silently intersected; N
// comes from the curve when nothing names the model, and an N the curve
// passes is refused.
TEST(ScheduleCommand, ReadsTheReportsCsvsAndSaysWhereTheGridsDoNotLineUp) {
  const testing::TempDir dir("tailsweep-schedule");
  std::ofstream latency(dir / "latency-cpu-m-b1.csv");
  std::ofstream accuracy(dir / "accuracy-curve-m-d-random.csv");
  latency << "tokens,median_ms,median_ci95_low_ms,median_ci95_high_ms\n";
  accuracy << "tokens,top1,top5,images\n";
  for (int n = 120; n <= 140; ++n) {
    const double ms = (n <= 128 ? 10 : 14) + 0.01 * n;
    latency << n << "," << ms << "," << ms - 0.05 << "," << ms + 0.05 << "\n";
    if (n != 125) accuracy << n << "," << n / 140.0 << ",1,1000\n";
  }
  accuracy << "141,1,1,1000\n";
  latency.close();
  accuracy.close();
  const std::string base = std::string(TAILSWEEP_BIN) + " schedule pomt --latency " +
                           (dir / "latency-cpu-m-b1.csv").string() + " --accuracy " +
                           (dir / "accuracy-curve-m-d-random.csv").string();
  const auto result = run_command(base + " --align steps");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.err, HasSubstr("the two grids do not line up"));
  EXPECT_THAT(result.err, HasSubstr("latency only: 125"));
  EXPECT_THAT(result.err, HasSubstr("accuracy only: 141"));
  EXPECT_THAT(result.err, HasSubstr("N = 141 tokens, the largest count on the curves"));
  const auto out = nlohmann::json::parse(result.out);
  EXPECT_EQ(out["latency_only_tokens"], nlohmann::json::array({125}));
  EXPECT_EQ(out["accuracy_only_tokens"], nlohmann::json::array({141}));
  EXPECT_EQ(out["tokens_total"], 141);
  EXPECT_EQ(out["tokens_total_from"], "curve");
  EXPECT_EQ(out["grid_points"], 20);
  EXPECT_EQ(out["n_star"], 128);
  ASSERT_EQ(out["steps"].size(), 1u);
  EXPECT_EQ(out["steps"][0]["tokens_below"], 128);
  EXPECT_EQ(out["tokens_after_pruning"], 128);  // aligned below the step

  const auto past = run_command(base + " --tokens-total 135");
  EXPECT_EQ(past.exit_code, 2);
  EXPECT_THAT(past.err, HasSubstr("the curves reach 141 tokens, past N = 135 (from the option)"));
}

// The report's CSV carries the paired curve beside the measured medians:
// the schedule reads the paired one, as the report's own schedule did. Here
// the medians (a drifting machine) rise smoothly and show no step; the paired
// curve has one after 128.
TEST(ScheduleCommand, ReadsThePairedCurveOfTheReportsLatencyCsv) {
  const testing::TempDir dir("tailsweep-schedule");
  std::ofstream latency(dir / "latency.csv");
  std::ofstream accuracy(dir / "accuracy.csv");
  latency << "tokens,median_ms,median_ci95_low_ms,median_ci95_high_ms,paired_ms,"
             "paired_ci95_low_ms,paired_ci95_high_ms\n";
  accuracy << "tokens,top1\n";
  for (int n = 120; n <= 140; ++n) {
    const double drifting = 10 + 0.2 * (n - 120);
    const double paired = (n <= 128 ? 10 : 14) + 0.01 * n;
    latency << n << "," << drifting << "," << drifting - 1 << "," << drifting + 1 << "," << paired
            << "," << paired - 0.05 << "," << paired + 0.05 << "\n";
    accuracy << n << "," << n / 140.0 << "\n";
  }
  latency.close();
  accuracy.close();
  const auto result = run_command(std::string(TAILSWEEP_BIN) + " schedule pomt --latency " +
                                  (dir / "latency.csv").string() + " --accuracy " +
                                  (dir / "accuracy.csv").string());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto out = json::parse(result.out);
  EXPECT_THAT(out["latency_source"].get<std::string>(), HasSubstr("the paired curve"));
  ASSERT_EQ(out["steps"].size(), 1u);
  EXPECT_EQ(out["steps"][0]["tokens_below"], 128);
  EXPECT_EQ(out["n_star"], 128);
  // A paired cell left empty is an error naming the line, not a silent median.
  std::ofstream(dir / "latency.csv")
      << "tokens,median_ms,median_ci95_low_ms,median_ci95_high_ms,paired_ms,paired_ci95_low_ms,"
         "paired_ci95_high_ms\n120,10,9,11,,,\n";
  const auto empty = run_command(std::string(TAILSWEEP_BIN) + " schedule pomt --latency " +
                                 (dir / "latency.csv").string() + " --accuracy " +
                                 (dir / "accuracy.csv").string());
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_THAT(empty.err, HasSubstr("latency.csv:2: paired_ms is empty"));
}

// A staircase of 96..104 tokens with its step after 100, and A(n) = n/104:
// n* = 100; N = 197 from the profile's model, so R = 196 - 101 = 95 and the
// step-aligned R = 97 (lands on 100, below the step).
json staircase_accuracy_body() {
  json body = store::accuracy_curve_body();
  body["points"] = json::array();
  for (int n = 96; n <= 104; ++n) {
    body["points"].push_back({{"tokens", n}, {"top1", n / 104.0}, {"top5", 1.0}, {"images", 1000}});
  }
  return body;
}

void expect_staircase_schedule(const testing::CommandResult& result) {
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto out = json::parse(result.out);
  EXPECT_EQ(out["n_star"], 100);
  EXPECT_EQ(out["reference_R"], 95);
  EXPECT_EQ(out["R"], 97);
  EXPECT_EQ(out["tokens_total"], 197);
  EXPECT_EQ(out["tokens_total_from"], "model");
  EXPECT_EQ(out["aligned_below_step"]["tokens_above"], 101);
}

TEST(ScheduleCommand, ReadsTheAgentsProfileAndAccuracyCurveDocuments) {
  const testing::TempDir dir("tailsweep-schedule");
  json profile = store::staircase_profile_body(96, 104, 100);
  for (json point : json(profile["points"])) {
    point["batch"] = 4;
    profile["points"].push_back(point);
  }
  std::ofstream(dir / "profile.json") << profile.dump();
  std::ofstream(dir / "curve.json") << staircase_accuracy_body().dump();
  const std::string base = std::string(TAILSWEEP_BIN) + " schedule pomt --latency " +
                           (dir / "profile.json").string() + " --accuracy " +
                           (dir / "curve.json").string() + " --align steps";
  auto result = run_command(base);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("the profile has batches 1, 4; choose one with --batch"));
  expect_staircase_schedule(run_command(base + " --batch 4"));
  result = run_command(base + " --batch 4 --tokens-total 150");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("--tokens-total 150 contradicts the model"));
}

class ScheduleFromDatabase : public store::ResultsTest {};

TEST_F(ScheduleFromDatabase, ReadsTheNewestCurvesOfTheDeviceModelAndBatch) {
  const json grid = {{"model", "deit-tiny"}, {"batches", {1}}, {"tokens", "96:104"}};
  ASSERT_EQ(submit("profile", store::staircase_profile_body(96, 104, 100), grid),
            store::SubmitOutcome::accepted);
  ASSERT_EQ(
      submit("accuracy_curve", staircase_accuracy_body(),
             json{{"model", "deit-tiny"}, {"tokens", "96:104"}, {"batch", 64}, {"limit", 1000}}),
      store::SubmitOutcome::accepted);
  const std::string base = std::string(TAILSWEEP_BIN) + " schedule pomt --db " + path();
  expect_staircase_schedule(
      run_command(base + " --device cpu-1 --model deit-tiny --batch 1 --align steps"));
  const auto missing = run_command(base + " --device cpu-9 --model deit-tiny --batch 1");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("no profile of deit-tiny on cpu-9 at batch 1; the database "
                                     "has profiles of cpu-1 deit-tiny batch 1"));
}

}  // namespace
}  // namespace tailsweep
