// The rounds protocol's pure parts (analysis/rounds.h), on hand-made round
// medians whose answers can be worked out by hand.
#include "analysis/rounds.h"

#include <algorithm>
#include <set>
#include <vector>

#include <gtest/gtest.h>

namespace tailsweep {
namespace {

using Seconds = std::chrono::duration<double>;

RoundsRule rule_with(double precision, Seconds cap = Seconds(10)) {
  RoundsRule rule;
  rule.precision = precision;
  rule.time_cap = cap;
  return rule;
}

std::vector<RoundMedian> rounds_of(const std::vector<double>& medians, std::size_t first = 0) {
  std::vector<RoundMedian> out;
  for (std::size_t i = 0; i < medians.size(); ++i) out.push_back({first + i, medians[i]});
  return out;
}

TEST(SliceDone, NeedsBothTheSamplesAndTheTime) {
  RoundsRule rule;
  rule.slice = Seconds(0.05);
  rule.min_slice_samples = 3;
  EXPECT_FALSE(slice_done(2, Seconds(1.0), rule));   // long samples, too few
  EXPECT_FALSE(slice_done(50, Seconds(0.04), rule));  // many short ones, too little time
  EXPECT_TRUE(slice_done(3, Seconds(0.05), rule));
}

TEST(RoundsStop, NoIntervalBeforeSixRoundsEvenWhenIdentical) {
  const std::vector<double> five(5, 2.0);
  EXPECT_EQ(rounds_stop(five, Seconds(0.1), rule_with(0.01)), StopReason::kContinue);
  const std::vector<double> six(6, 2.0);
  EXPECT_EQ(rounds_stop(six, Seconds(0.1), rule_with(0.01)), StopReason::kPrecisionReached);
}

TEST(RoundsStop, SixRoundsNeedEveryMedianWithinThePrecision) {
  // With six round medians the 95% interval is [min, max] (coverage
  // 1 - 2/64 = 96.9%): 2.00 +- 0.03 is 1.5% of the median.
  const std::vector<double> medians{1.97, 2.0, 2.0, 2.0, 2.0, 2.03};
  EXPECT_EQ(rounds_stop(medians, Seconds(0.1), rule_with(0.02)), StopReason::kPrecisionReached);
  EXPECT_EQ(rounds_stop(medians, Seconds(0.1), rule_with(0.01)), StopReason::kContinue);
  EXPECT_EQ(rounds_stop(medians, Seconds(10), rule_with(0.01, Seconds(10))), StopReason::kTimeCap);
}

TEST(RoundsStop, TheCapWaitsForTheMinimumOfRounds) {
  // A stall: two rounds of 300 ms samples used the whole 1.5 s budget.
  const RoundsRule rule = rule_with(0.03, Seconds(1.5));
  EXPECT_EQ(rounds_stop(std::vector<double>{300, 310}, Seconds(1.8), rule), StopReason::kContinue);
  EXPECT_EQ(rounds_stop(std::vector<double>{300, 310, 20, 21, 20, 22}, Seconds(2.0), rule),
            StopReason::kTimeCap);
  const auto baseline = rounds_of({10, 10});
  EXPECT_EQ(paired_stop(rounds_of({300, 310}), baseline, Seconds(1.8), rule),
            StopReason::kContinue);
}

TEST(RoundsStop, RespectsAHigherMinimumOfRounds) {
  RoundsRule rule = rule_with(0.01);
  rule.min_rounds = 10;
  EXPECT_EQ(rounds_stop(std::vector<double>(9, 1.0), Seconds(0), rule), StopReason::kContinue);
  EXPECT_EQ(rounds_stop(std::vector<double>(10, 1.0), Seconds(0), rule),
            StopReason::kPrecisionReached);
}

TEST(RoundVisits, EveryActivePointAndEveryReferenceOnceInASeededOrder) {
  const std::vector<bool> active{true, false, true, true, false};
  const std::vector<bool> reference{false, true, false, false, false};
  const auto visits = round_visits(active, reference, 7, 3);
  EXPECT_EQ(std::set<std::size_t>(visits.begin(), visits.end()),
            (std::set<std::size_t>{0, 1, 2, 3}));
  EXPECT_EQ(visits.size(), 4u);
  EXPECT_EQ(visits, round_visits(active, reference, 7, 3));  // the same seed and round
}

TEST(RoundVisits, TheOrderChangesFromRoundToRound) {
  const std::vector<bool> active(12, true);
  const std::vector<bool> reference(12, false);
  std::set<std::vector<std::size_t>> orders;
  for (std::size_t round = 0; round < 5; ++round) {
    orders.insert(round_visits(active, reference, 1, round));
  }
  EXPECT_EQ(orders.size(), 5u);
}

TEST(RoundVisits, NothingWhenOnlyReferencesAreLeft) {
  const std::vector<bool> active{false, true, false};
  const std::vector<bool> reference{false, true, true};
  EXPECT_TRUE(round_visits(active, reference, 0, 9).empty());
}

TEST(PairedRatio, CancelsWhatTheMachineDidToBothInARound) {
  // The machine is 50% slower in rounds 2 and 3; the point is always 0.8 of
  // the baseline. Unpaired, the medians spread by 50%; paired, not at all.
  const std::vector<double> state{1.0, 1.0, 1.5, 1.5, 1.0, 1.0, 1.0};
  std::vector<double> baseline, point;
  for (const double s : state) {
    baseline.push_back(10.0 * s);
    point.push_back(8.0 * s);
  }
  const auto ratio = paired_ratio(rounds_of(point), rounds_of(baseline));
  ASSERT_TRUE(ratio);
  EXPECT_DOUBLE_EQ(ratio->median, 0.8);
  ASSERT_TRUE(ratio->ci95_low && ratio->ci95_high);
  EXPECT_DOUBLE_EQ(*ratio->ci95_low, 0.8);
  EXPECT_DOUBLE_EQ(*ratio->ci95_high, 0.8);
  EXPECT_EQ(ratio->rounds, 7u);
}

TEST(PairedRatio, UsesOnlyTheRoundsBothWereMeasuredIn) {
  // The point stopped after round 3 (rounds 0..3); the baseline went on to 6.
  const auto point = rounds_of({5, 5, 5, 5});
  const auto baseline = rounds_of({10, 10, 10, 10, 20, 20, 20});
  const auto ratio = paired_ratio(point, baseline);
  ASSERT_TRUE(ratio);
  EXPECT_DOUBLE_EQ(ratio->median, 0.5);
  EXPECT_EQ(ratio->rounds, 4u);
  EXPECT_FALSE(ratio->ci95_low);  // four ratios are too few for a 95% interval
  EXPECT_FALSE(paired_ratio(rounds_of({1, 1}, 5), rounds_of({1, 1}, 0)));  // nothing in common
}

TEST(PairedStop, StopsOnThePrecisionOfTheRatioNotOfTheLatency) {
  // Both drift by 40% from round to round, together: the latency's CI is
  // wide, the ratio's is nil.
  std::vector<double> baseline, point;
  for (int i = 0; i < 8; ++i) {
    const double state = i % 2 == 0 ? 1.0 : 1.4;
    baseline.push_back(10 * state);
    point.push_back(7 * state);
  }
  const RoundsRule rule = rule_with(0.01);
  EXPECT_EQ(rounds_stop(point, Seconds(1), rule), StopReason::kContinue);
  EXPECT_EQ(paired_stop(rounds_of(point), rounds_of(baseline), Seconds(1), rule),
            StopReason::kPrecisionReached);
}

TEST(PairedStop, ANoisyRatioRunsToTheCap) {
  const auto baseline = rounds_of({10, 10, 10, 10, 10, 10, 10, 10});
  const auto point = rounds_of({7, 8, 7, 8, 7, 8, 7, 8});
  const RoundsRule rule = rule_with(0.01, Seconds(2));
  EXPECT_EQ(paired_stop(point, baseline, Seconds(1), rule), StopReason::kContinue);
  EXPECT_EQ(paired_stop(point, baseline, Seconds(2), rule), StopReason::kTimeCap);
}

TEST(SentinelDrift, IsTheLargestSmoothedRoundMedianOverTheSmallest) {
  // Running medians of three: 10, 10.02, 10.02 (from 10, 10.05, 9.98, 10.02, 10.04).
  const Drift steady = sentinel_drift(std::vector<double>{10, 10.05, 9.98, 10.02, 10.04}, 0.01);
  EXPECT_DOUBLE_EQ(steady.max_over_min, 10.02 / 10);
  EXPECT_FALSE(steady.exceeds_precision);
  EXPECT_EQ(steady.rounds, 5u);
  // A machine that turns 1.5x slower for three rounds: running medians
  // 10, 15, 15, 15, 10.
  const Drift drifting = sentinel_drift(std::vector<double>{10, 10, 15, 15, 15, 10, 10}, 0.01);
  EXPECT_DOUBLE_EQ(drifting.max_over_min, 1.5);
  EXPECT_TRUE(drifting.exceeds_precision);
  EXPECT_EQ(sentinel_drift({}, 0.01).rounds, 0u);
}

TEST(SentinelDrift, OneSlowRoundIsNoiseNotDrift) {
  const Drift hiccup = sentinel_drift(std::vector<double>{10, 10, 15, 10, 10, 10}, 0.01);
  EXPECT_DOUBLE_EQ(hiccup.max_over_min, 1.0);
  // With fewer than three rounds there is nothing to smooth.
  EXPECT_DOUBLE_EQ(sentinel_drift(std::vector<double>{10, 12}, 0.01).max_over_min, 1.2);
}

}  // namespace
}  // namespace tailsweep
