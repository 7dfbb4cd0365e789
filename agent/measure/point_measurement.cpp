#include "agent/measure/point_measurement.h"

#include <algorithm>

#include <fmt/core.h>

#include "agent/measure/sampling.h"
#include "common/util/progress.h"

namespace tailsweep::agent {
namespace {

using Milliseconds = std::chrono::duration<double, std::milli>;

bool interrupted(const std::atomic<bool>* interrupt) {
  return interrupt != nullptr && interrupt->load(std::memory_order_relaxed);
}

double median_of(std::span<const double> values) { return stats::summarize(values).median; }


std::string describe(const ProfilePoint& point, const std::vector<std::string>& method_names) {
  return point.method < 0 ? fmt::format("batch {} tokens {}", point.batch, point.tokens)
                          : fmt::format("batch {} {}", point.batch,
                                        method_names.at(static_cast<std::size_t>(point.method)));
}

// One visit: a slice of timed samples, after one warm-up pass at the point's
// first visit only (the first call of a shape pays for its allocations and
// kernel choices). Later visits skip it: on the 2-vCPU VM the first timed call
// of a slice ran 1.1-1.6% over the slice's median with a warm-up before it and
// 1.4-1.9% without (deit-tiny, 2:197:5), and the slice's median does not see
// one slow call, while the warm-up cost about 15% of the device time.
struct Slice {
  std::vector<double> samples_ms;
  Milliseconds sampled{0};
  bool interrupted = false;
};

Slice take_slice(PointSampler& sampler, PointResult& result, const RoundsRule& rule,
                 const std::atomic<bool>* interrupt) {
  if (result.samples_ms.empty()) sampler.warm_up(result.point, std::chrono::duration<double>(0));
  const std::optional<double> load_average = machine_load::read_load_average();
  const std::optional<machine_load::CpuTicks> ticks_before = machine_load::read_cpu_ticks();
  Slice slice;
  const auto begin = SteadyClock::now();
  while (!slice_done(slice.samples_ms.size(), slice.sampled, rule)) {
    if (interrupted(interrupt)) {
      slice.interrupted = true;
      return slice;
    }
    slice.samples_ms.push_back(sampler.sample(result.point));
    slice.sampled += Milliseconds(slice.samples_ms.back());
  }
  result.windows.emplace_back(begin, SteadyClock::now());
  result.load.add_window(ticks_before, machine_load::read_cpu_ticks(), load_average);
  return slice;
}

void finish_point(PointResult& result) {
  if (result.samples_ms.empty()) return;
  result.pooled = stats::summarize(result.samples_ms);
  const std::vector<double> per_round = per_round_medians(result.round_medians);
  result.estimate = stats::summarize(per_round);
  result.rounds = per_round.size();
}

}  // namespace

MeasurementOutcome measure_in_rounds(PointSampler& sampler, const MeasurementPlan& plan,
                                     const RoundsRule& rule, const std::atomic<bool>* interrupt) {
  const auto since = SteadyClock::now();
  const std::size_t n = plan.points.size();
  MeasurementOutcome outcome;
  outcome.points.resize(n);
  // A plan of references only (a curve of one token count per batch, say)
  // has nothing to pair: each point then stops on its own.
  const bool pairs = std::any_of(plan.reference_of.begin(), plan.reference_of.end(),
                                 [](const auto& reference) { return reference.has_value(); });
  std::vector<bool> active(n, true), reference(n, false);
  std::vector<Milliseconds> sampled(n, Milliseconds(0));
  std::size_t measured_points = 0;
  for (std::size_t i = 0; i < n; ++i) {
    outcome.points[i].point = plan.points[i];
    outcome.points[i].first_visit = i;
    reference[i] = pairs && !plan.reference_of[i].has_value();
    measured_points += !reference[i];
  }
  ProgressLine progress;
  std::size_t done = 0;
  std::size_t sequence = 0;  // every slice's place in the run
  for (std::size_t round = 0; !outcome.interrupted; ++round) {
    // The first round keeps the plan's order (seeded already); later ones reshuffle.
    std::vector<std::size_t> visits = round_visits(active, reference, plan.seed, round);
    if (visits.empty()) break;
    if (round == 0) std::sort(visits.begin(), visits.end());
    if (pairs) {
      std::erase_if(visits, [&](std::size_t i) { return reference[i]; });
      visits = bracket_with_references(visits, plan.reference_of, kBracketEvery);
      // A reference comes while its batch has points left; the sentinel,
      // whose round medians are the run's drift, comes in every round.
      if (std::find(visits.begin(), visits.end(), plan.sentinel) == visits.end()) {
        visits.insert(visits.begin(), plan.sentinel);
      }
    }
    RoundRecord record{round, visits.size(), std::nullopt, machine_load::read_load_average(),
                       std::nullopt};
    const auto round_ticks = machine_load::read_cpu_ticks();
    std::vector<double> sentinel_slices;
    for (const std::size_t i : visits) {
      PointResult& result = outcome.points[i];
      Slice slice = take_slice(sampler, result, rule, interrupt);
      if (slice.interrupted) {
        outcome.interrupted = true;
        break;
      }
      result.round_medians.push_back({round, median_of(slice.samples_ms), sequence++});
      result.slice_samples.push_back(slice.samples_ms.size());
      result.samples_ms.insert(result.samples_ms.end(), slice.samples_ms.begin(),
                               slice.samples_ms.end());
      result.sample_round.insert(result.sample_round.end(), slice.samples_ms.size(), round);
      sampled[i] += slice.sampled;
      if (i == plan.sentinel) sentinel_slices.push_back(result.round_medians.back().median_ms);
    }
    // Whether a point is done is decided once the round is whole: the
    // reference slice that closes a point's bracket comes after it, and a
    // ratio judged before it (on the opening slice alone) is not the ratio
    // the document reports. A stalled closing slice once left a point
    // flagged reached_precision with a CI of [0.17, 0.85] around 0.85.
    for (const std::size_t i : visits) {
      if (outcome.interrupted || reference[i] || !active[i]) continue;
      PointResult& result = outcome.points[i];
      const std::optional<std::size_t>& to = plan.reference_of[i];
      result.stop = to ? paired_stop(result.round_medians, outcome.points[*to].round_medians,
                                     sampled[i], rule)
                       : rounds_stop(per_round_medians(result.round_medians), sampled[i], rule);
      if (result.stop != StopReason::kContinue) {
        active[i] = false;
        ++done;
      }
    }
    if (!sentinel_slices.empty()) {
      record.sentinel_median_ms = stats::summarize(sentinel_slices).median;
    }
    if (const auto ticks = machine_load::read_cpu_ticks(); round_ticks && ticks) {
      record.steal_fraction = machine_load::steal_fraction(*round_ticks, *ticks);
    }
    outcome.rounds.push_back(record);
    // Progress: each point done counts whole, each other by the share of its
    // time cap used, so the ETA is the worst case (every point to its cap).
    double progress_share = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (reference[i]) continue;
      progress_share += active[i] ? std::min(1.0, sampled[i] / rule.time_cap) : 1.0;
    }
    progress.update_fraction(
        progress_share / static_cast<double>(std::max<std::size_t>(measured_points, 1)),
        fmt::format("round {}: {} of {} points done", round + 1, done, measured_points));
  }
  for (std::size_t i = 0; i < n; ++i) {
    PointResult& result = outcome.points[i];
    finish_point(result);
    if (reference[i] && !result.samples_ms.empty()) {
      const std::vector<double> medians = per_round_medians(result.round_medians);
      // A reference is measured as long as anything else is; whether it
      // reached the precision is its own CI's business, never a cap.
      result.stop = rounds_stop(medians, Milliseconds(0), rule) == StopReason::kPrecisionReached
                        ? StopReason::kPrecisionReached
                        : StopReason::kTimeCap;
    }
    if (const auto& to = plan.reference_of[i]; to && !result.samples_ms.empty()) {
      result.ratio = paired_ratio(result.round_medians, outcome.points[*to].round_medians);
    }
  }
  if (outcome.interrupted) {
    // Every point has come some way in rounds: keep each with what it has
    // (one not yet done says reached_precision false); drop only the
    // points the last round never got to.
    std::erase_if(outcome.points,
                  [](const PointResult& result) { return result.samples_ms.empty(); });
  }
  outcome.elapsed = SteadyClock::now() - since;
  return outcome;
}

MeasurementOutcome measure_in_blocks(PointSampler& sampler, const MeasurementPlan& plan,
                                     const StoppingRule& rule, const std::atomic<bool>* interrupt,
                                     const std::vector<std::string>& method_names) {
  const auto since = SteadyClock::now();
  MeasurementOutcome outcome;
  ProgressLine progress;
  for (std::size_t i = 0; i < plan.points.size(); ++i) {
    PointResult result;
    result.point = plan.points[i];
    result.first_visit = i;
    sampler.warm_up(result.point, std::chrono::duration<double>(0));
    const std::optional<double> load_average = machine_load::read_load_average();
    const std::optional<machine_load::CpuTicks> ticks_before = machine_load::read_cpu_ticks();
    const auto begin = SteadyClock::now();
    std::optional<Sampled> sampled =
        sample_until_stop([&] { return sampler.sample(result.point); }, rule, interrupt);
    if (!sampled) {
      outcome.interrupted = true;
      break;
    }
    result.windows.emplace_back(begin, SteadyClock::now());
    result.load.add_window(ticks_before, machine_load::read_cpu_ticks(), load_average);
    result.samples_ms = std::move(sampled->samples_ms);
    result.sample_round.assign(result.samples_ms.size(), 0);
    result.stop = sampled->stop;
    result.pooled = stats::summarize(result.samples_ms);
    result.estimate = result.pooled;
    result.round_medians.push_back({0, result.pooled.median, i});
    result.slice_samples.push_back(result.samples_ms.size());
    result.rounds = 1;
    progress.update(i + 1, plan.points.size(),
                    fmt::format("{}: {:.3f} ms +-{:.1f}% ({} samples{})",
                                describe(result.point, method_names), result.pooled.median,
                                100 * result.pooled.median_ci_relative_half_width,
                                result.pooled.count,
                                result.stop == StopReason::kTimeCap ? ", time cap" : ""));
    outcome.points.push_back(std::move(result));
  }
  outcome.elapsed = SteadyClock::now() - since;
  return outcome;
}

void attach_power(MeasurementOutcome& outcome, const power::Sampler& power_sampler) {
  for (PointResult& result : outcome.points) {
    power::WindowPower total;
    std::chrono::duration<double> covered{0};
    bool any = false;
    // Passes are counted per window: a window the sensor missed adds neither
    // energy nor passes, so joules per pass stay right.
    std::size_t passes = 0;
    for (std::size_t w = 0; w < result.windows.size(); ++w) {
      const auto& [begin, end] = result.windows[w];
      const std::size_t in_window = result.slice_samples.at(w);  // one window per slice
      const std::optional<power::WindowPower> window = power_sampler.window(begin, end);
      if (!window) continue;
      any = true;
      const std::chrono::duration<double> length = end - begin;
      total.energy_j += window->energy_j;
      total.peak_w = std::max(total.peak_w, window->peak_w);
      total.readings += window->readings;
      covered += length;
      passes += in_window;
    }
    if (!any || covered.count() <= 0) continue;
    total.average_w = total.energy_j / covered.count();
    result.power = total;
    result.passes_with_power = passes;
  }
}

}  // namespace tailsweep::agent
