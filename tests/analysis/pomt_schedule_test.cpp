#include "analysis/pomt_schedule.h"

#include <gtest/gtest.h>

#include "common/util/errors.h"

namespace tailsweep::schedule {
namespace {

// Worked by hand, a = 0.5, N = 197:
//   n    L    A     U = 0.5 (1 - L/10) + 0.5 A/0.8
//   100  5    0.4   0.25 + 0.25  = 0.5
//   150  6    0.76  0.20 + 0.475 = 0.675   <- n*
//   197  10   0.8   0.0  + 0.5   = 0.5
// R = 196 - (150 + 1) = 45; pruning 45 of 197 leaves 152 = n* + 2.
TEST(PomtSchedule, MatchesAHandWorkedCase) {
  const std::vector<CurvePoint> latency = {{100, 5}, {150, 6}, {197, 10}, {50, 4}};
  const std::vector<CurvePoint> accuracy = {{100, 0.4}, {150, 0.76}, {197, 0.8}};
  const PomtSchedule s = pomt_schedule(latency, accuracy, 0.5, 197);
  EXPECT_EQ(s.grid, (std::vector<int64_t>{100, 150, 197}));  // 50 has no accuracy
  EXPECT_EQ(s.n_star, 150);
  EXPECT_EQ(s.r, 45);
  EXPECT_EQ(s.tokens_after_pruning, 152);
  EXPECT_DOUBLE_EQ(s.utility, 0.675);
  EXPECT_DOUBLE_EQ(s.latency_at_n_star_ms, 6);
  EXPECT_DOUBLE_EQ(s.baseline_latency_ms, 10);
  EXPECT_DOUBLE_EQ(s.accuracy_at_n_star, 0.76);
}

TEST(PomtSchedule, AlphaOneChasesLatencyAlphaZeroAccuracy) {
  const std::vector<CurvePoint> latency = {{2, 1}, {100, 5}, {197, 10}};
  const std::vector<CurvePoint> accuracy = {{2, 0.1}, {100, 0.7}, {197, 0.8}};
  EXPECT_EQ(pomt_schedule(latency, accuracy, 1.0, 197).n_star, 2);
  EXPECT_EQ(pomt_schedule(latency, accuracy, 0.0, 197).n_star, 197);
  EXPECT_EQ(pomt_schedule(latency, accuracy, 0.0, 197).r, 0);  // 196 - 198 clamps to 0
}

TEST(PomtSchedule, TiesGoToTheLargerTokenCount) {
  // U = 0.5 (1 - 5/10) + 0.5 (0.5/1) = 0.5 = 0.5 (1 - 10/10) + 0.5 (1/1).
  const std::vector<CurvePoint> latency = {{10, 5}, {20, 10}};
  const std::vector<CurvePoint> accuracy = {{10, 0.5}, {20, 1.0}};
  EXPECT_EQ(pomt_schedule(latency, accuracy, 0.5, 197).n_star, 20);
}

TEST(PomtSchedule, RefusesBadInput) {
  const std::vector<CurvePoint> latency = {{10, 5}};
  const std::vector<CurvePoint> accuracy = {{11, 0.5}};
  EXPECT_THROW(pomt_schedule(latency, accuracy, 0.5, 197), InputError);
  EXPECT_THROW(pomt_schedule(latency, latency, 1.5, 197), InputError);
  const std::vector<CurvePoint> twice = {{10, 5}, {10, 6}};
  EXPECT_THROW(pomt_schedule(twice, latency, 0.5, 197), InputError);
  const std::vector<CurvePoint> zero = {{10, 0}};
  EXPECT_THROW(pomt_schedule(zero, latency, 0.5, 197), InputError);
}

}  // namespace
}  // namespace tailsweep::schedule
