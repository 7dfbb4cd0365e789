#pragma once
// How the points of a profile are measured (docs/profile.md): in rounds
// (the default), or POMT's fixed time per point in one block (for
// comparison). Knows nothing of what a point runs on: a PointSampler does.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "agent/device/machine_load.h"
#include "agent/device/power.h"
#include "analysis/profile_plan.h"
#include "analysis/rounds.h"
#include "analysis/statistics.h"

namespace tailsweep::agent {

class PointSampler {
 public:
  virtual ~PointSampler() = default;
  // One timed forward pass, in milliseconds (for a simulated device, its simulated time).
  virtual double sample(const ProfilePoint& point) = 0;
  // Untimed passes: at least one, then until `at_least` has passed.
  virtual void warm_up(const ProfilePoint& point, std::chrono::duration<double> at_least) = 0;
};

using SteadyClock = std::chrono::steady_clock;

struct PointResult {
  ProfilePoint point;
  // Its place in the first round (or the block order), which is its index
  // in MeasurementPlan::points: both loops start in the plan's order.
  std::size_t first_visit = 0;
  std::vector<double> samples_ms;      // in the order taken
  std::vector<std::size_t> sample_round;  // the round of each sample (all 0 in a block)
  // One per slice, in the order taken: one per round for a point, several
  // for a reference (it brackets the points of its batch).
  std::vector<RoundMedian> round_medians;
  std::vector<std::size_t> slice_samples;  // samples in each slice, as round_medians
  std::size_t rounds = 0;                  // distinct rounds visited
  StopReason stop = StopReason::kContinue;
  stats::Summary pooled;  // of all samples: the spread, percentiles
  // The latency and its 95% CI: over the round medians in rounds, over the
  // samples in a block.
  stats::Summary estimate;
  std::optional<PairedRatio> ratio;  // to its reference point, in rounds
  machine_load::LoadTally load;
  std::vector<std::pair<SteadyClock::time_point, SteadyClock::time_point>> windows;  // timed
  std::optional<power::WindowPower> power;  // over all its windows; passes_with_power counted
  std::size_t passes_with_power = 0;
};

// One round: the sentinel's median in it, and what the machine did meanwhile.
struct RoundRecord {
  std::size_t round = 0;
  std::size_t points_visited = 0;
  std::optional<double> sentinel_median_ms;
  std::optional<double> load_average;  // read at the round's start
  std::optional<double> steal_fraction;  // over the round
};

struct MeasurementPlan {
  std::vector<ProfilePoint> points;  // in the order of the first visit
  // Per point, the index of the point its ratio is taken to (its batch's
  // unpruned configuration), or nullopt: none for the references themselves.
  std::vector<std::optional<std::size_t>> reference_of;
  std::size_t sentinel = 0;  // the reference point of the largest batch
  uint64_t seed = 0;
};

struct MeasurementOutcome {
  // In plan order. When interrupted: in blocks, the points finished; in
  // rounds, every point with a round behind it, done or not.
  std::vector<PointResult> points;
  std::vector<RoundRecord> rounds;  // empty for a block measurement
  bool interrupted = false;
  std::chrono::duration<double> elapsed{0};
};

// Rounds until every non-reference point is done (precision or cap). In
// each round a reference is measured again after every kBracketEvery points
// of its batch (analysis/rounds.h, bracket_with_references).
inline constexpr std::size_t kBracketEvery = 8;
MeasurementOutcome measure_in_rounds(PointSampler& sampler, const MeasurementPlan& plan,
                                     const RoundsRule& rule, const std::atomic<bool>* interrupt);
// Each point in one block until the stopping rule (POMT's fixed time, or
// the adaptive rule of profile_plan.h), in plan order.
MeasurementOutcome measure_in_blocks(PointSampler& sampler, const MeasurementPlan& plan,
                                     const StoppingRule& rule, const std::atomic<bool>* interrupt,
                                     const std::vector<std::string>& method_names);

// Fills each point's power from its windows (after the run, so no window waits for the sensor).
void attach_power(MeasurementOutcome& outcome, const power::Sampler& power_sampler);

}  // namespace tailsweep::agent
