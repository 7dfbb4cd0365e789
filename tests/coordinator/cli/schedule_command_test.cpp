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
