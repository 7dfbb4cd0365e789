// What every measurement document's run shares (measurement_run.h).
#include "agent/measure/measurement_run.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>
#include <tuple>

#include <fmt/core.h>

#include "agent/engine/compute_device.h"
#include "analysis/profile_plan.h"
#include "analysis/statistics.h"
#include "common/util/errors.h"

namespace tailsweep::agent {
namespace {

using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

constexpr std::chrono::milliseconds kIdleWindow{1000};

// Average and peak watts over the point's timed windows, and joules per
// forward pass and per image; null when there is no sensor or too few
// readings fell in its windows.
std::optional<protocol::PointPower> point_power(const PointResult& result) {
  if (!result.power || result.passes_with_power == 0) return std::nullopt;
  const double passes = static_cast<double>(result.passes_with_power);
  const double joules_per_pass = result.power->energy_j / passes;
  return protocol::PointPower{result.power->average_w, result.power->peak_w, joules_per_pass,
                              joules_per_pass / static_cast<double>(result.point.batch),
                              static_cast<int64_t>(result.power->readings)};
}

// What a point's ratio (or the sentinel) is taken to: tokens on a curve, a
// method among methods.
struct Reference {
  int64_t batch = 0;
  std::optional<int64_t> tokens;
  std::optional<std::string> method;
};
Reference reference_of(const ProfilePoint& reference, const MethodNames& methods) {
  if (reference.method < 0) return {reference.batch, reference.tokens, std::nullopt};
  return {reference.batch, std::nullopt, methods.at(static_cast<std::size_t>(reference.method))};
}

std::optional<protocol::PairedRatioBody> point_ratio(const PointResult& result,
                                                     const MeasurementPlan& plan,
                                                     const MethodNames& methods) {
  if (!result.ratio) return std::nullopt;
  const std::size_t index = result.first_visit;  // the first round keeps the plan's order
  const Reference to = reference_of(plan.points.at(*plan.reference_of.at(index)), methods);
  return protocol::PairedRatioBody{result.ratio->median,
                                   result.ratio->ci95_low,
                                   result.ratio->ci95_high,
                                   static_cast<int64_t>(result.ratio->rounds),
                                   to.batch,
                                   to.tokens,
                                   to.method};
}

// The sentinel's round medians, the run's drift, and what the machine did
// in each round.
protocol::RoundsBody rounds_body(const Measured& measured, const PointPlan& plan, double precision,
                                 int threads) {
  const MeasurementOutcome& outcome = measured.outcome;
  protocol::RoundsBody body;
  std::vector<double> sentinel_ms;
  for (const RoundRecord& round : outcome.rounds) {
    if (round.sentinel_median_ms) sentinel_ms.push_back(*round.sentinel_median_ms);
    if (round.load_average)
      body.max_load_average = std::max(body.max_load_average, *round.load_average);
    body.rounds.push_back({static_cast<int64_t>(round.round),
                           static_cast<int64_t>(round.points_visited), round.sentinel_median_ms,
                           round.load_average, round.steal_fraction});
  }
  const Drift drift = sentinel_drift(sentinel_ms, precision);
  const Reference sentinel =
      reference_of(plan.measurement.points.at(plan.measurement.sentinel), plan.methods);
  body.count = static_cast<int64_t>(outcome.rounds.size());
  body.sentinel_batch = sentinel.batch;
  body.sentinel_tokens = sentinel.tokens;
  body.sentinel_method = sentinel.method;
  if (!sentinel_ms.empty()) body.drift = drift.max_over_min;
  body.drift_exceeds_precision = drift.exceeds_precision;
  body.load_above_threads = body.max_load_average > threads + 0.5;
  return body;
}

std::string protocol_text(Protocol protocol, const ProfileRequest& options) {
  switch (protocol) {
    case Protocol::kRounds:
      return fmt::format(
          "rounds: every point visited each round in a seeded order, {:g} s slices; the median "
          "and its CI over the round medians",
          options.slice_s);
    case Protocol::kBlocks:
      return "blocks: each point to the precision in one block, random order";
    case Protocol::kFixedTime:
      break;
  }
  return fmt::format("fixed {} s per point, descending (POMT's)", options.fixed_time_s);
}

}  // namespace

Protocol protocol_of(const ProfileRequest& options) {
  if (options.fixed_time_s > 0) return Protocol::kFixedTime;
  return options.protocol == "blocks" ? Protocol::kBlocks : Protocol::kRounds;
}

void check_measurement_options(const ProfileRequest& options) {
  if (!(options.precision > 0.0 && options.precision < 1.0)) {
    throw InputError(fmt::format("--precision {} is outside (0, 1)", options.precision));
  }
  if (options.protocol != "rounds" && options.protocol != "blocks") {
    throw InputError(fmt::format("--protocol '{}': expected rounds or blocks", options.protocol));
  }
  if (!(options.slice_s > 0) || options.min_rounds < 6 || options.min_slice_samples < 1) {
    throw InputError(
        "--slice must be positive, --min-rounds at least 6 (fewer round medians have no 95% "
        "interval) and --min-slice-samples at least 1");
  }
  if (options.power_period_ms < 0) {
    throw InputError("--power-period must be 0 (no power sampling) or more milliseconds");
  }
  if (!(options.time_cap_s > 0) || !(options.warmup_s >= 0)) {
    throw InputError("--time-cap must be positive and --warmup not negative");
  }
}

PowerWatch watch_power(const ComputeDevice& device, int period_ms) {
  PowerWatch watch;
  const std::chrono::milliseconds period(period_ms);
  power::SensorProbe probe = period.count() > 0
                                 ? device.find_power_sensor()
                                 : power::SensorProbe{nullptr, "not sampled (--power-period 0)"};
  if (!probe.sensor) {
    watch.info.unavailable_reason = probe.unavailable_reason;
    return watch;
  }
  watch.info.available = true;
  watch.info.sensor = probe.sensor->description();
  watch.info.period_ms = period.count();
  watch.sampler = std::make_unique<power::Sampler>(std::move(probe.sensor), period);
  // Idle baseline: the board (or GPU) at rest, before the model is even built.
  const auto idle_begin = Clock::now();
  std::this_thread::sleep_for(kIdleWindow);
  if (const auto idle = watch.sampler->window(idle_begin, Clock::now())) {
    watch.info.idle_w = idle->average_w;
  }
  return watch;
}

protocol::PowerInfoBody simulated_power_info() {
  protocol::PowerInfoBody info;
  info.unavailable_reason = "simulated device: it has no sensors, and power is never simulated";
  return info;
}

std::vector<const PointResult*> in_stable_order(const MeasurementOutcome& outcome) {
  std::vector<const PointResult*> ordered;
  for (const PointResult& result : outcome.points) ordered.push_back(&result);
  std::sort(ordered.begin(), ordered.end(), [](const PointResult* a, const PointResult* b) {
    return std::tie(a->point.batch, a->point.method, a->point.tokens) <
           std::tie(b->point.batch, b->point.method, b->point.tokens);
  });
  return ordered;
}

Measured measure_all(PointSampler& sampler, const ProfileRequest& options, Protocol protocol,
                     const PointPlan& plan, const power::Sampler* power_sampler) {
  // Warm up on the sentinel: the most expensive configuration.
  sampler.warm_up(plan.measurement.points.at(plan.measurement.sentinel), Seconds(options.warmup_s));
  Measured measured;
  if (protocol == Protocol::kRounds) {
    const RoundsRule rule{options.precision, options.min_rounds, Seconds(options.slice_s),
                          options.min_slice_samples, Seconds(options.time_cap_s)};
    measured.outcome = measure_in_rounds(sampler, plan.measurement, rule, options.interrupt);
  } else {
    const bool fixed = protocol == Protocol::kFixedTime;
    const StoppingRule rule{options.precision, options.min_samples,
                            Seconds(fixed ? options.fixed_time_s : options.time_cap_s), fixed};
    measured.outcome =
        measure_in_blocks(sampler, plan.measurement, rule, options.interrupt, plan.labels);
  }
  if (power_sampler != nullptr) attach_power(measured.outcome, *power_sampler);
  for (const PointResult& result : measured.outcome.points) {
    measured.capped += result.stop == StopReason::kTimeCap;
  }
  return measured;
}

protocol::ProfilePoint point_body(const PointResult& result, const MeasurementPlan& plan,
                                  const MethodNames& methods,
                                  const std::vector<int64_t>& clusters) {
  const stats::Summary& e = result.estimate;  // the latency and its CI
  const stats::Summary& s = result.pooled;    // the spread of every sample
  protocol::ProfilePoint point;
  point.batch = result.point.batch;
  point.tokens = result.point.tokens;
  point.visit_index = static_cast<int64_t>(result.first_visit);
  point.median_ms = e.median;
  // Too few rounds (or samples) for an interval: null, never a 0 that step
  // detection would read as one.
  if (e.has_median_ci) {
    point.median_ci95_low_ms = e.median_ci_low;
    point.median_ci95_high_ms = e.median_ci_high;
    point.median_ci95_relative_half_width = e.median_ci_relative_half_width;
  }
  point.rounds = static_cast<int64_t>(result.rounds);
  point.ratio = point_ratio(result, plan, methods);
  point.mean_ms = s.mean;
  point.stddev_ms = s.stddev;
  point.min_ms = s.min;
  point.max_ms = s.max;
  point.p5_ms = s.p5;
  point.p25_ms = s.p25;
  point.p75_ms = s.p75;
  point.p95_ms = s.p95;
  point.mad_ms = s.mad;
  point.iqr_ms = s.iqr;
  point.samples = static_cast<int64_t>(s.count);
  point.stable = s.stable;
  point.reached_precision = result.stop == StopReason::kPrecisionReached;
  // Whose CI the precision applies to: a paired point stops on its ratio's,
  // any other on its median's.
  point.precision_of = result.ratio ? "ratio" : "median";
  point.load_average = result.load.mean_load_average();
  point.steal_fraction = result.load.steal_fraction();
  point.power = point_power(result);
  point.raw_ms = result.samples_ms;
  point.raw_round.assign(result.sample_round.begin(), result.sample_round.end());
  if (result.point.method >= 0) {
    const auto configuration = static_cast<std::size_t>(result.point.method);
    point.method = methods.at(configuration);
    // Only a paired clustered model's points carry K.
    if (clusters.at(configuration) != 0) point.clusters = clusters.at(configuration);
  }
  return point;
}

protocol::MeasurementBody measurement_body(const ProfileRequest& options, Protocol protocol,
                                           const PointPlan& plan, const Measured& measured,
                                           int threads) {
  protocol::MeasurementBody m;
  m.schema_version = protocol::kResultSchemaVersion;
  m.interrupted = measured.outcome.interrupted;
  m.points_planned = static_cast<int64_t>(plan.measurement.points.size());
  m.method = {options.precision,
              0.95,
              static_cast<int64_t>(options.min_samples),
              static_cast<int64_t>(options.min_rounds),
              options.slice_s,
              protocol == Protocol::kFixedTime ? options.fixed_time_s : options.time_cap_s,
              options.warmup_s,
              static_cast<int64_t>(options.run.seed),
              protocol_text(protocol, options),
              static_cast<int64_t>(measured.capped)};
  if (protocol == Protocol::kRounds) {
    m.rounds = rounds_body(measured, plan, options.precision, threads);
  }
  return m;
}

void warn_about(const protocol::MeasurementBody& m, std::size_t points,
                const ProfileRequest& options, int threads) {
  const int64_t capped = m.method.points_at_time_cap.value_or(0);
  if (capped > 0) {
    fmt::print(stderr,
               "tailsweep-agent: {} of {} points hit the {:g} s cap before reaching {:.1f}% "
               "precision (flagged reached_precision: false)\n",
               capped, points, options.time_cap_s, 100 * options.precision);
  }
  if (m.rounds && m.rounds->drift_exceeds_precision) {
    fmt::print(stderr,
               "tailsweep-agent: the sentinel drifted by {:.1f}% over the run, more than the "
               "{:.1f}% precision: compare configurations by their paired ratios\n",
               100 * (m.rounds->drift.value_or(1) - 1), 100 * options.precision);
  }
  if (m.rounds && m.rounds->load_above_threads) {
    fmt::print(stderr,
               "tailsweep-agent: the load average reached {:.1f} with {} measuring threads: "
               "something else was running\n",
               m.rounds->max_load_average, threads);
  }
}

}  // namespace tailsweep::agent
