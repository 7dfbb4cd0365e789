#include "analysis/pomt_schedule.h"

#include <algorithm>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
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
// The step-aligned variant, worked by hand on DeiT's 197 tokens.
PomtSchedule schedule_at(int64_t n_star) {
  PomtSchedule schedule;
  schedule.n_star = n_star;
  schedule.r = std::max<int64_t>(0, 196 - (n_star + 1));
  schedule.tokens_after_pruning = 197 - schedule.r;
  return schedule;
}

using Steps = std::vector<std::pair<int64_t, int64_t>>;

TEST(AlignToSteps, JustBelowACliffItLandsBelowItWhereTheReferenceLandsAbove) {
  // The simulated Nano: n* = 127 below the 128 -> 129 cliff. The reference
  // prunes R = 68 and runs on 129 tokens, past the cliff; aligned, R = 69
  // and 128 tokens, the last count below it.
  const AlignedSchedule aligned = align_to_steps(schedule_at(127), Steps{{128, 129}}, 197);
  EXPECT_EQ(schedule_at(127).tokens_after_pruning, 129);
  EXPECT_EQ(aligned.tokens_after_pruning, 128);
  EXPECT_EQ(aligned.r, 69);
  EXPECT_TRUE(aligned.moved());
  EXPECT_EQ(aligned.step_below, 128);
  EXPECT_EQ(aligned.step_above, 129);
}

TEST(AlignToSteps, AnNStarAtTheTopOfAStepStaysThere) {
  // n* = 128 is the last count below the cliff: the reference's 130 is past
  // it; aligned, the pruning keeps n* itself.
  const AlignedSchedule aligned = align_to_steps(schedule_at(128), Steps{{128, 129}}, 197);
  EXPECT_EQ(aligned.tokens_after_pruning, 128);
  EXPECT_EQ(aligned.r, 69);
}

TEST(AlignToSteps, OnACoarseGridAStepSomewhereAboveNStarIsNotCrossed) {
  // Grid 2:197:5: the step lies somewhere in (127, 132]; 129 may be past
  // it, 127 is known to be below.
  const AlignedSchedule aligned = align_to_steps(schedule_at(127), Steps{{127, 132}}, 197);
  EXPECT_EQ(aligned.tokens_after_pruning, 127);
  EXPECT_EQ(aligned.r, 70);
}

TEST(AlignToSteps, WithNoStepNearTheReferenceRuleStands) {
  for (const Steps& steps : {Steps{}, Steps{{64, 65}}, Steps{{100, 101}, {160, 161}},
                             Steps{{126, 127}}, Steps{{129, 130}}}) {
    const AlignedSchedule aligned = align_to_steps(schedule_at(127), steps, 197);
    EXPECT_FALSE(aligned.moved()) << steps.size();
    EXPECT_EQ(aligned.tokens_after_pruning, 129);
    EXPECT_EQ(aligned.r, 68);
  }
}

TEST(AlignToSteps, TwoStepsNearTheLowerWins) {
  // Steps after 127 and after 128 (say two kernels' cliffs): 127 is below both.
  const AlignedSchedule aligned =
      align_to_steps(schedule_at(127), Steps{{128, 129}, {127, 128}}, 197);
  EXPECT_EQ(aligned.tokens_after_pruning, 127);
  EXPECT_EQ(aligned.step_below, 127);
}

TEST(AlignToSteps, AtTheTopOfTheCurveItPrunesTheOneTokenPastTheLastStep) {
  // n* = 196: the reference clamps R at 0 and runs all 197 tokens, past a
  // step at 196 -> 197; aligned, R = 1.
  const AlignedSchedule aligned = align_to_steps(schedule_at(196), Steps{{196, 197}}, 197);
  EXPECT_EQ(schedule_at(196).r, 0);
  EXPECT_EQ(aligned.r, 1);
  EXPECT_EQ(aligned.tokens_after_pruning, 196);
}

TEST(AlignToSteps, RefusesAStepThatDoesNotRise) {
  EXPECT_THROW(align_to_steps(schedule_at(127), Steps{{129, 128}}, 197), InputError);
}

TEST(GridMismatch, NamesTheCountsOnlyOneCurveHas) {
  const std::vector<CurvePoint> latency = {{2, 1.0}, {7, 1.1}, {12, 1.2}, {197, 2.0}};
  const std::vector<CurvePoint> accuracy = {{2, 0.1}, {12, 0.5}, {17, 0.6}, {197, 0.9}};
  const GridMismatch mismatch = grid_mismatch(latency, accuracy);
  EXPECT_TRUE(mismatch.any());
  EXPECT_EQ(mismatch.latency_only, (std::vector<int64_t>{7}));
  EXPECT_EQ(mismatch.accuracy_only, (std::vector<int64_t>{17}));
  EXPECT_FALSE(grid_mismatch(latency, latency).any());
}

TEST(ResolveTokensTotal, TheOptionThenTheModelThenTheCurve) {
  const std::vector<CurvePoint> latency = {{2, 1.0}, {150, 2.0}};
  const std::vector<CurvePoint> accuracy = {{2, 0.1}, {160, 0.9}};
  EXPECT_EQ(resolve_tokens_total(197, std::nullopt, latency, accuracy).value, 197);
  EXPECT_EQ(resolve_tokens_total(197, std::nullopt, latency, accuracy).source, "option");
  EXPECT_EQ(resolve_tokens_total(197, 197, latency, accuracy).value, 197);
  EXPECT_EQ(resolve_tokens_total(std::nullopt, 197, latency, accuracy).source, "model");
  const TokensTotal from_curve =
      resolve_tokens_total(std::nullopt, std::nullopt, latency, accuracy);
  EXPECT_EQ(from_curve.value, 160);  // the largest count on either curve
  EXPECT_EQ(from_curve.source, "curve");
}

TEST(ResolveTokensTotal, RefusesAnOptionThatContradictsTheModelOrTheCurve) {
  const std::vector<CurvePoint> latency = {{2, 1.0}, {197, 2.0}};
  const std::vector<CurvePoint> accuracy = {{2, 0.1}, {197, 0.9}};
  try {
    resolve_tokens_total(65, 197, latency, accuracy);
    FAIL() << "no error";
  } catch (const InputError& error) {
    EXPECT_THAT(error.what(), ::testing::HasSubstr("contradicts the model"));
  }
  try {
    resolve_tokens_total(150, std::nullopt, latency, accuracy);
    FAIL() << "no error";
  } catch (const InputError& error) {
    EXPECT_THAT(error.what(), ::testing::HasSubstr("reach 197 tokens, past N = 150"));
  }
  EXPECT_THROW(resolve_tokens_total(std::nullopt, 150, latency, accuracy), InputError);
}

}  // namespace tailsweep::schedule
