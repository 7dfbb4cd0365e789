#pragma once
// The rounds protocol of `profile` (docs/profile.md), as pure functions:
// which points a round visits and in what order, when a point is done, a
// point's latency and CI from its round medians, paired ratios to a baseline
// measured in the same rounds, and the sentinel's drift.
//
// Why rounds: a point measured in one contiguous block gets a tight CI
// around whatever state the machine was in during that block (a VM's slow
// phase, a neighbour's burst), and a rerun lands outside it. Visiting every
// point in every round, a short slice each time, spreads each point over
// the whole run. The CI is then taken over the round medians (the method of
// batch means): each round is one observation, so the interval widens with
// the machine's round-to-round changes instead of ignoring them, and it
// stays distribution-free (the binomial interval of statistics.h), so one
// hiccup round moves neither the estimate nor the interval much.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "analysis/profile_plan.h"

namespace tailsweep {

struct RoundsRule {
  double precision = 0.01;    // target relative half-width of the 95% CI of the round medians
  std::size_t min_rounds = 6;  // at least 6: fewer round medians have no 95% interval
  // One visit's slice: samples until their sampled time reaches `slice`,
  // and at least min_slice_samples of them.
  std::chrono::duration<double> slice{0.05};
  std::size_t min_slice_samples = 3;
  // Sampled time per point, all rounds together; it ends a point only once
  // the point has min_rounds rounds.
  std::chrono::duration<double> time_cap{10.0};
};

// Whether a slice has enough: min_slice_samples samples and `slice` of sampled time.
bool slice_done(std::size_t samples, std::chrono::duration<double> sampled, const RoundsRule& rule);

// One slice of a point: its median, its round, and its place in the whole
// run's sequence of visits (which slice came when).
struct RoundMedian {
  std::size_t round = 0;
  double median_ms = 0;
  std::size_t sequence = 0;
};

// One value per round: the median of the point's slices in that round (a
// reference has several per round, every other point one), by round.
std::vector<double> per_round_medians(std::span<const RoundMedian> slices);

// A point after some rounds: kPrecisionReached once it has min_rounds round
// medians whose 95% CI is within the precision of their median; kTimeCap
// once its sampled time reached the cap and it has min_rounds rounds (a
// stall must not end a point before it has an interval); kContinue otherwise.
StopReason rounds_stop(std::span<const double> round_medians_ms,
                       std::chrono::duration<double> sampled, const RoundsRule& rule);

// A point paired with a baseline (its batch's unpruned configuration) is
// done when its paired ratio (below) is precise: kPrecisionReached once the
// ratio has min_rounds rounds and its 95% CI is within the precision of it.
// What a configuration costs relative to the baseline is what its users
// compare, and the pairing makes it precise where the machine's drift keeps
// the absolute latency from ever being so.
StopReason paired_stop(std::span<const RoundMedian> point, std::span<const RoundMedian> baseline,
                       std::chrono::duration<double> sampled, const RoundsRule& rule);

// The indices of the points to visit in round `round`, in a seeded random
// order that differs from round to round: every point still active, plus
// every reference point (always, for as long as any point is active, so
// each ratio has its baseline in every round). Empty when no point other
// than the references is active: the run is over.
std::vector<std::size_t> round_visits(const std::vector<bool>& active, const std::vector<bool>& reference,
                                      uint64_t seed, std::size_t round);


// The order of a round's visits with the references bracketing the points:
// each reference first, then the points in their given order, with a
// point's reference again after every `every` of its points and at the end.
// A round of 196 points takes seconds; without this, a point and the one
// reference slice of its round could be that far apart, and the pairing
// would cancel little of what the machine did. Points without a reference
// pass through.
std::vector<std::size_t> bracket_with_references(
    std::span<const std::size_t> points, std::span<const std::optional<std::size_t>> reference_of,
    std::size_t every);

// A point's latency relative to its baseline: in each round both were
// measured in, the point's slice median over the baseline's nearest in the
// run (the mean of the two around it when it is bracketed), then the median
// of those ratios and its distribution-free 95% CI (none with fewer than 6
// rounds). Pairing slices close in time cancels what the machine did to both.
struct PairedRatio {
  double median = 0;
  std::optional<double> ci95_low, ci95_high;
  std::size_t rounds = 0;
};
// nullopt when the two share no round. Rounds are ascending in both.
std::optional<PairedRatio> paired_ratio(std::span<const RoundMedian> point,
                                        std::span<const RoundMedian> baseline);

// The sentinel's drift over the run: its round medians smoothed by a
// running median of three consecutive rounds (so that one slice's sampling
// noise is not called drift: a simulated device, whose samples are
// independent, drifted by "2.8%" over 13 rounds without it), then the
// largest over the smallest. Fewer than three rounds: the raw medians. A
// drift above 1 + precision means an unpaired latency of this run could be
// off by more than its stated precision depending on when it was measured;
// the run says so.
struct Drift {
  double max_over_min = 1;
  std::size_t rounds = 0;
  bool exceeds_precision = false;
};
Drift sentinel_drift(std::span<const double> round_medians_ms, double precision);

}  // namespace tailsweep
