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

TEST(PairedRatio, PairsEachSliceWithTheReferenceSlicesAroundIt) {
  // One round: the reference at sequence 0 (fast machine, 10 ms) and 9
  // (slow, 20 ms); a point at 1 (fast, 8 ms) and one at 8 (slow, 16 ms).
  // Each is 0.8 of the reference nearest in time; averaged with the one
  // around it they read 8/15 and 16/15.
  const std::vector<RoundMedian> reference = {{0, 10.0, 0}, {0, 20.0, 9}};
  const auto early = paired_ratio(std::vector<RoundMedian>{{0, 8.0, 1}}, reference);
  ASSERT_TRUE(early);
  EXPECT_DOUBLE_EQ(early->median, 8.0 / 15.0);  // bracketed: the mean of both
  // With the reference measured right before each point, pairing is exact.
  const std::vector<RoundMedian> close = {{0, 10.0, 0}, {0, 20.0, 7}, {0, 20.0, 9}};
  const auto late = paired_ratio(std::vector<RoundMedian>{{0, 16.0, 8}}, close);
  EXPECT_DOUBLE_EQ(late->median, 0.8);
  // A slice after the round's last reference slice pairs with it alone.
  const auto after = paired_ratio(std::vector<RoundMedian>{{0, 16.0, 10}}, reference);
  EXPECT_DOUBLE_EQ(after->median, 0.8);
}

TEST(PerRoundMedians, OneValuePerRound) {
  const std::vector<RoundMedian> slices = {{0, 10, 0}, {0, 12, 3}, {0, 20, 5}, {1, 7, 6}};
  EXPECT_EQ(per_round_medians(slices), (std::vector<double>{12, 7}));
  EXPECT_TRUE(per_round_medians({}).empty());
}

TEST(BracketWithReferences, EachPointHasItsReferenceNearOnBothSides) {
  // Points 1..5 refer to 0 (batch 1), 7..8 to 6 (batch 4); 9 to nothing.
  std::vector<std::optional<std::size_t>> reference_of(10);
  for (const std::size_t p : {1, 2, 3, 4, 5}) reference_of[p] = 0;
  for (const std::size_t p : {7, 8}) reference_of[p] = 6;
  const std::vector<std::size_t> points = {3, 7, 1, 9, 2, 8, 5, 4};
  EXPECT_EQ(bracket_with_references(points, reference_of, 2),
            (std::vector<std::size_t>{0, 6, 3, 7, 1, 0, 9, 2, 8, 6, 5, 0, 4, 0}));
  // Every 8: each reference before its points and once after them.
  EXPECT_EQ(bracket_with_references(points, reference_of, 8),
            (std::vector<std::size_t>{0, 6, 3, 7, 1, 9, 2, 8, 5, 4, 0, 6}));
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
