// The rounds and blocks loops (measure/point_measurement.h) against a fake
// machine whose speed changes under them: what rounds promise is that the
// change lands in every point's CI and cancels out of the paired ratios.
#include "agent/measure/point_measurement.h"

#include <atomic>
#include <map>
#include <optional>
#include <set>

#include <gtest/gtest.h>

namespace tailsweep::agent {
namespace {

using Seconds = std::chrono::duration<double>;

// Each point has a base latency; the machine alternates between its normal
// speed and 1.5x slower (a VM's slow phase) every `phase` samples, whatever
// is being measured.
class DriftingMachine final : public PointSampler {
 public:
  explicit DriftingMachine(std::map<int, double> base_ms, std::size_t phase = 300)
      : base_ms_(std::move(base_ms)), phase_(phase) {}
  double sample(const ProfilePoint& point) override {
    const double state = (samples_++ / phase_) % 2 == 0 ? 1.0 : 1.5;
    if (interrupt_after_ > 0 && samples_ >= interrupt_after_ && interrupt_ != nullptr) {
      interrupt_->store(true);
    }
    sampled_methods_.insert(point.method);
    return base_ms_.at(point.method) * state;
  }
  void warm_up(const ProfilePoint& point, Seconds) override {
    ++warm_ups_;
    // Whether the point had been sampled before it was warmed up.
    warmed_after_sampling_ += sampled_methods_.count(point.method);
  }

  std::size_t samples_ = 0;
  std::size_t warm_ups_ = 0;
  std::size_t warmed_after_sampling_ = 0;
  std::set<int> sampled_methods_;
  std::size_t interrupt_after_ = 0;
  std::atomic<bool>* interrupt_ = nullptr;

 private:
  std::map<int, double> base_ms_;
  std::size_t phase_;
};

// Method 0 is the baseline (10 ms); 1 and 2 cost 0.8 and 1.2 of it.
MeasurementPlan three_methods() {
  MeasurementPlan plan;
  plan.points = {{1, 197, 1}, {1, 197, 0}, {1, 197, 2}};
  plan.reference_of = {1, std::nullopt, 1};
  plan.sentinel = 1;
  plan.seed = 3;
  return plan;
}

RoundsRule rule(double precision, double cap_s) {
  RoundsRule r;
  r.precision = precision;
  r.slice = Seconds(0.05);
  r.min_slice_samples = 3;
  r.time_cap = Seconds(cap_s);
  return r;
}

TEST(MeasureInRounds, PairedRatiosCancelTheMachinesDrift) {
  // A round is 3 points x 5 samples (10 ms each, 50 ms slices): the machine
  // changes speed every three rounds.
  DriftingMachine machine({{0, 10.0}, {1, 8.0}, {2, 12.0}}, 45);
  const MeasurementOutcome outcome =
      measure_in_rounds(machine, three_methods(), rule(0.01, 30), nullptr);
  ASSERT_EQ(outcome.points.size(), 3u);
  EXPECT_FALSE(outcome.interrupted);
  for (const std::size_t i : {0u, 2u}) {
    const PointResult& point = outcome.points[i];
    ASSERT_TRUE(point.ratio) << i;
    EXPECT_EQ(point.stop, StopReason::kPrecisionReached) << i;
    EXPECT_NEAR(point.ratio->median, i == 0 ? 0.8 : 1.2, 0.8 * 0.01) << i;
    ASSERT_TRUE(point.ratio->ci95_low && point.ratio->ci95_high);
    EXPECT_LE(*point.ratio->ci95_low, i == 0 ? 0.8 : 1.2);
    EXPECT_GE(*point.ratio->ci95_high, i == 0 ? 0.8 : 1.2);
  }
  // The machine's two states both show in each point's rounds, so its CI of
  // the round medians spans them rather than sitting tight around one.
  const PointResult& baseline = outcome.points[1];
  EXPECT_FALSE(baseline.ratio);
  EXPECT_LE(baseline.estimate.median_ci_low, 10.0 * 1.01);
  EXPECT_GE(baseline.estimate.median_ci_high, 15.0 * 0.99);
}

TEST(MeasureInRounds, TheReferenceBracketsThePointsInEveryRound) {
  DriftingMachine machine({{0, 10.0}, {1, 8.0}, {2, 12.0}});
  const MeasurementOutcome outcome =
      measure_in_rounds(machine, three_methods(), rule(0.01, 30), nullptr);
  const PointResult& baseline = outcome.points[1];
  // Two points, fewer than kBracketEvery: the reference before them and after.
  ASSERT_EQ(baseline.round_medians.size(), 2 * outcome.rounds.size());
  EXPECT_EQ(baseline.rounds, outcome.rounds.size());
  for (std::size_t r = 0; r < outcome.rounds.size(); ++r) {
    const RoundMedian& first = baseline.round_medians[2 * r];
    const RoundMedian& last = baseline.round_medians[2 * r + 1];
    EXPECT_EQ(first.round, r);
    EXPECT_EQ(last.round, r);
    EXPECT_EQ(last.sequence, first.sequence + 3);  // first, point, point, last
    ASSERT_TRUE(outcome.rounds[r].sentinel_median_ms);
    EXPECT_DOUBLE_EQ(*outcome.rounds[r].sentinel_median_ms,
                     (first.median_ms + last.median_ms) / 2);  // the median of two
  }
  // Every sample carries its round; a point's rounds are ascending.
  for (const PointResult& point : outcome.points) {
    ASSERT_EQ(point.sample_round.size(), point.samples_ms.size());
    EXPECT_TRUE(std::is_sorted(point.sample_round.begin(), point.sample_round.end()));
    EXPECT_EQ(std::set<std::size_t>(point.sample_round.begin(), point.sample_round.end()).size(),
              point.rounds);
    EXPECT_EQ(point.slice_samples.size(), point.round_medians.size());
  }
  // One warm-up pass per point, before its first slice; later visits have none.
  std::size_t visits = 0;
  for (const PointResult& point : outcome.points) visits += point.round_medians.size();
  EXPECT_GT(visits, outcome.points.size());
  EXPECT_EQ(machine.warm_ups_, outcome.points.size());
  EXPECT_EQ(machine.warmed_after_sampling_, 0u);
}

// A machine that stalls (100 ms samples) during one stretch of the
// reference, method 0: stretches counted from the first, a new one starting
// wherever the method changes (so a round's closing reference slice and the
// next round's opening one are one stretch).
class StallingMachine final : public PointSampler {
 public:
  explicit StallingMachine(std::size_t stalled_slice) : stalled_slice_(stalled_slice) {}
  double sample(const ProfilePoint& point) override {
    if (last_method_ && *last_method_ != point.method) ++slice_;
    last_method_ = point.method;
    if (point.method == 0) return slice_ == stalled_slice_ ? 100.0 : 10.0;
    return point.method == 1 ? 8.0 : 12.0;
  }
  void warm_up(const ProfilePoint&, Seconds) override {}

 private:
  std::size_t stalled_slice_;
  std::size_t slice_ = 0;
  std::optional<int> last_method_;
};

// A point is done only on the ratio the document reports: when the slice
// that closes its bracket stalls in the round it would have stopped in
// (each round: reference, point, point, reference; the sixth round's
// closing reference is stretch 3 x 5 + 3), its ratio for that round is far
// off, and it goes on until the interval it reports is within the precision.
TEST(MeasureInRounds, APointStopsOnlyOnceItsBracketIsClosed) {
  StallingMachine machine(3 * 5 + 3);
  const double precision = 0.01;
  const MeasurementOutcome outcome =
      measure_in_rounds(machine, three_methods(), rule(precision, 30), nullptr);
  for (const std::size_t i : {0u, 2u}) {
    const PointResult& point = outcome.points[i];
    ASSERT_TRUE(point.ratio) << i;
    EXPECT_EQ(point.stop, StopReason::kPrecisionReached) << i;
    EXPECT_GT(point.ratio->rounds, 6u) << i;  // not stopped on the stalled round
    ASSERT_TRUE(point.ratio->ci95_low && point.ratio->ci95_high) << i;
    // What reached_precision promises, on the reported interval.
    EXPECT_LE(point.ratio->median - *point.ratio->ci95_low, precision * point.ratio->median) << i;
    EXPECT_LE(*point.ratio->ci95_high - point.ratio->median, precision * point.ratio->median) << i;
    EXPECT_DOUBLE_EQ(point.ratio->median, i == 0 ? 0.8 : 1.2) << i;
  }
}

TEST(MeasureInRounds, AnUnpairedPlanStopsEachPointOnItsOwnInterval) {
  DriftingMachine machine({{0, 10.0}, {1, 20.0}});
  MeasurementPlan plan;
  plan.points = {{1, 197, 0}, {4, 197, 1}};
  plan.reference_of = {std::nullopt, std::nullopt};
  plan.sentinel = 1;
  // No drift within the first 300 samples: six rounds of identical medians.
  const MeasurementOutcome outcome = measure_in_rounds(machine, plan, rule(0.01, 30), nullptr);
  ASSERT_EQ(outcome.points.size(), 2u);
  for (const PointResult& point : outcome.points) {
    EXPECT_EQ(point.stop, StopReason::kPrecisionReached);
    EXPECT_EQ(point.round_medians.size(), 6u);
    EXPECT_EQ(point.rounds, 6u);
    EXPECT_FALSE(point.ratio);
  }
}

TEST(MeasureInRounds, TheCapEndsAPointThatNeverGetsPrecise) {
  // Slices of 50-60 ms of 10 or 15 ms samples; the state changes every
  // ten samples, so the round medians never agree to 0.1%. The cap (0.5 s
  // of sampled time) ends it in the round that reaches it.
  DriftingMachine machine({{0, 10.0}}, 10);
  MeasurementPlan plan;
  plan.points = {{1, 197, 0}};
  plan.reference_of = {std::nullopt};
  const MeasurementOutcome outcome = measure_in_rounds(machine, plan, rule(0.001, 0.5), nullptr);
  ASSERT_EQ(outcome.points.size(), 1u);
  EXPECT_EQ(outcome.points[0].stop, StopReason::kTimeCap);
  const PointResult& point = outcome.points[0];
  double total_ms = 0, last_round_ms = 0;
  for (std::size_t i = 0; i < point.samples_ms.size(); ++i) {
    total_ms += point.samples_ms[i];
    if (point.sample_round[i] == point.round_medians.back().round) last_round_ms += point.samples_ms[i];
  }
  EXPECT_GE(total_ms, 500.0);
  EXPECT_LT(total_ms - last_round_ms, 500.0);
}

TEST(MeasureInRounds, AnInterruptKeepsEveryPointWithWhatItHas) {
  std::atomic<bool> interrupt{false};
  DriftingMachine machine({{0, 10.0}, {1, 8.0}, {2, 12.0}});
  machine.interrupt_ = &interrupt;
  machine.interrupt_after_ = 40;  // in the third round, before anything is precise
  const MeasurementOutcome outcome =
      measure_in_rounds(machine, three_methods(), rule(0.01, 30), &interrupt);
  EXPECT_TRUE(outcome.interrupted);
  ASSERT_EQ(outcome.points.size(), 3u);  // the third round had begun: all were measured
  for (const PointResult& point : outcome.points) {
    EXPECT_FALSE(point.samples_ms.empty());
    EXPECT_NE(point.stop, StopReason::kPrecisionReached);  // not one had six rounds
  }
}

TEST(MeasureInBlocks, EachPointInOneBlockInPlanOrder) {
  DriftingMachine machine({{0, 10.0}, {1, 8.0}, {2, 12.0}});
  const StoppingRule block_rule{0.01, 10, Seconds(10), false};
  const MeasurementOutcome outcome =
      measure_in_blocks(machine, three_methods(), block_rule, nullptr, {"a", "b", "c"});
  ASSERT_EQ(outcome.points.size(), 3u);
  EXPECT_TRUE(outcome.rounds.empty());
  for (std::size_t i = 0; i < 3; ++i) {
    const PointResult& point = outcome.points[i];
    EXPECT_EQ(point.first_visit, i);
    EXPECT_EQ(point.round_medians.size(), 1u);
    EXPECT_EQ(point.stop, StopReason::kPrecisionReached);
    // In one block, a point sees one state of the machine: its CI is tight
    // around it (the very failure rounds fix; here all three fit in the
    // first 300 samples, so the state is the fast one).
    EXPECT_DOUBLE_EQ(point.estimate.median, point.point.method == 0   ? 10.0
                                            : point.point.method == 1 ? 8.0
                                                                      : 12.0);
  }
}

}  // namespace
}  // namespace tailsweep::agent
