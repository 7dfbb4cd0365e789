// tailsweep schedule pomt, driven for real on CSV files the test writes.
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../../support/run_command.h"
#include "../../support/temp_dir.h"

namespace tailsweep {
namespace {

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
  EXPECT_THAT(result.err, HasSubstr("expected 'tokens,latency_ms'"));
  std::ofstream(dir / "l.csv") << "tokens,latency_ms\n100,5\n";
  result = run_command(base + (dir / "l.csv").string());
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("a.csv:2: '100,x' is not TOKENS,NUMBER"));
}

}  // namespace
}  // namespace tailsweep
