#include "analysis/latency_steps.h"

#include <gtest/gtest.h>

#include "common/util/errors.h"

namespace tailsweep::schedule {
namespace {

LatencyPoint at(int64_t tokens, double ms, double half_width = 0.05) {
  return {tokens, ms, ms - half_width, ms + half_width};
}

// A staircase: flat-ish plateaus (+0.1 ms per point) and one wave cliff
// between 128 and 129 tokens.
TEST(LatencySteps, FindsTheCliffOfAStaircaseWithItsHeightAndSaving) {
  std::vector<LatencyPoint> curve;
  for (int64_t n = 120; n <= 128; ++n) curve.push_back(at(n, 10.0 + 0.1 * (n - 120)));
  for (int64_t n = 129; n <= 136; ++n) curve.push_back(at(n, 14.0 + 0.1 * (n - 129)));
  const auto steps = find_latency_steps(curve);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].tokens_below, 128);
  EXPECT_EQ(steps[0].tokens_above, 129);
  EXPECT_NEAR(steps[0].height_ms, 14.0 - 10.8, 1e-9);
  EXPECT_NEAR(steps[0].height_fraction, 3.2 / 10.8, 1e-9);
  EXPECT_NEAR(steps[0].saved_from_full_ms, 14.7 - 10.8, 1e-9);
}

TEST(LatencySteps, ASteadySlopeHasNoSteps) {
  // Every neighbour rises 5% with tight CIs: separated and tall, but no steeper than the slope.
  std::vector<LatencyPoint> curve;
  double ms = 10;
  for (int64_t n = 2; n <= 197; n += 5, ms *= 1.05) curve.push_back(at(n, ms, 0.01));
  EXPECT_TRUE(find_latency_steps(curve).empty());
}

TEST(LatencySteps, NoiseIsNotAStep) {
  // A 5% jump, but the CIs overlap: the measurement cannot tell it from noise.
  const std::vector<LatencyPoint> curve = {at(10, 10.0, 0.1), at(11, 10.0, 0.1), at(12, 10.5, 0.4),
                                           at(13, 10.5, 0.1)};
  EXPECT_TRUE(find_latency_steps(curve).empty());
  // The same jump measured tightly is one.
  const std::vector<LatencyPoint> tight = {at(10, 10.0, 0.01), at(11, 10.0, 0.01),
                                           at(12, 10.5, 0.01), at(13, 10.5, 0.01)};
  ASSERT_EQ(find_latency_steps(tight).size(), 1u);
  EXPECT_EQ(find_latency_steps(tight)[0].tokens_above, 12);
}

TEST(LatencySteps, UnsortedInputIsSortedAndDuplicatesRefused) {
  const std::vector<LatencyPoint> curve = {at(13, 10.5, 0.01), at(10, 10.0, 0.01),
                                           at(12, 10.5, 0.01), at(11, 10.0, 0.01)};
  EXPECT_EQ(find_latency_steps(curve).size(), 1u);
  const std::vector<LatencyPoint> twice = {at(10, 1), at(10, 2)};
  EXPECT_THROW(find_latency_steps(twice), InputError);
}

TEST(PairedCurve, ScalesEachRatioByItsReferenceAndMakesTheReferenceExact) {
  const std::vector<PairedPoint> points = {
      {{50, 9.0, 7.0, 12.0}, 0.4, 0.39, 0.42, 197},    // measured while the machine was slow
      {{100, 11.0, 9.0, 14.0}, 0.6, std::nullopt, std::nullopt, 197},  // no interval: the ratio
      {{150, 16.0, 15.0, 17.0}, std::nullopt, std::nullopt, std::nullopt, std::nullopt},
      {{160, 16.0, 15.0, 17.0}, 0.7, 0.69, 0.71, 999},  // its reference is not in the curve
      {{197, 20.0, 18.0, 22.0}, std::nullopt, std::nullopt, std::nullopt, std::nullopt}};
  const std::vector<LatencyPoint> curve = paired_curve(points);
  ASSERT_EQ(curve.size(), 5u);
  EXPECT_DOUBLE_EQ(curve[0].median_ms, 8.0);
  EXPECT_DOUBLE_EQ(curve[0].ci_low_ms, 0.39 * 20.0);
  EXPECT_DOUBLE_EQ(curve[0].ci_high_ms, 0.42 * 20.0);
  EXPECT_DOUBLE_EQ(curve[1].ci_low_ms, 12.0);
  EXPECT_DOUBLE_EQ(curve[1].ci_high_ms, 12.0);
  EXPECT_DOUBLE_EQ(curve[2].median_ms, 16.0);  // unpaired: as measured
  EXPECT_DOUBLE_EQ(curve[2].ci_low_ms, 15.0);
  EXPECT_DOUBLE_EQ(curve[3].median_ms, 16.0);
  EXPECT_DOUBLE_EQ(curve[4].median_ms, 20.0);
  EXPECT_DOUBLE_EQ(curve[4].ci_low_ms, 20.0);  // the scale of the others: exact
  EXPECT_DOUBLE_EQ(curve[4].ci_high_ms, 20.0);
}

}  // namespace
}  // namespace tailsweep::schedule
