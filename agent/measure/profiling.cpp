// Latency against the token count, to a stated precision: what `profile`
// runs and what an agent runs for a profile job. docs/profile.md has the
// method and the output format.
#include "agent/measure/profiling.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <thread>
#include <tuple>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "agent/data/clustered_weights.h"
#include "agent/device/device_facts.h"
#include "agent/device/device_spec.h"
#include "agent/device/gpu_sim.h"
#include "agent/device/power.h"
#include "agent/engine/compute_device.h"
#include "agent/engine/engine_sampler.h"
#include "agent/engine/runtime.h"
#include "agent/engine/weights_check.h"
#include "agent/measure/latency_samplers.h"
#include "agent/measure/point_measurement.h"
#include "agent/measure/provenance.h"
#include "analysis/profile_plan.h"
#include "analysis/statistics.h"
#include "common/model/method_spec.h"
#include "common/model/model_config.h"
#include "common/util/errors.h"
#include "common/wire/protocol.h"
#include "common/wire/result_document.h"

namespace tailsweep::agent {
namespace {

using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

constexpr std::chrono::milliseconds kIdleWindow{1000};

void check_options(const ProfileRequest& options) {
  if (!(options.precision > 0.0 && options.precision < 1.0)) {
    throw InputError(fmt::format("--precision {} is outside (0, 1)", options.precision));
  }
  if (options.mode != "model" && options.mode != "block") {
    throw InputError(fmt::format("--mode '{}': expected model or block", options.mode));
  }
  if (options.methods.empty() == options.tokens.empty()) {
    throw InputError("give either a token grid (--tokens) or methods to time (--methods)");
  }
  if (!options.methods.empty() && options.mode != "model") {
    throw InputError("--methods times whole forward passes: it needs --mode model");
  }
  if (!options.paired_clusters.empty()) {
    if (options.methods.empty()) {
      throw InputError("--paired-clusters times methods on clustered weights: it needs --methods");
    }
    if (options.run.clusters != 0) {
      throw InputError(
          "--paired-clusters pairs clustered models with the dense weights as given: "
          "leave out --clusters");
    }
    std::vector<int64_t> seen;
    for (const int64_t k : options.paired_clusters) {
      if (k < 2 || k > 256) {
        throw InputError(fmt::format("--paired-clusters: {} is outside 2..256", k));
      }
      if (std::find(seen.begin(), seen.end(), k) != seen.end()) {
        throw InputError(fmt::format("--paired-clusters: {} is listed twice", k));
      }
      seen.push_back(k);
    }
  }
  if (!options.methods.empty() && options.fixed_time_s > 0) {
    throw InputError("--fixed-time is POMT's protocol for curves; --methods is always adaptive");
  }
  if (options.protocol != "rounds" && options.protocol != "blocks") {
    throw InputError(
        fmt::format("--protocol '{}': expected rounds or blocks", options.protocol));
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

// POMT's own protocol, kept for comparison: every point sampled for a fixed
// time, whatever its spread, visiting the grid from most tokens to fewest.
std::vector<ProfilePoint> descending_points(const std::vector<int64_t>& batches,
                                            const std::vector<int64_t>& tokens) {
  std::vector<ProfilePoint> points;
  for (const int64_t batch : batches) {
    for (auto n = tokens.rbegin(); n != tokens.rend(); ++n) points.push_back({batch, *n});
  }
  return points;
}

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

using MethodNames = std::vector<std::string>;

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

// The models timed: the weights as given, then one per paired K.
std::vector<protocol::WeightVariantBody> variant_bodies(
    const std::vector<WeightVariant>& variants) {
  std::vector<protocol::WeightVariantBody> out;
  for (const WeightVariant& v : variants) {
    protocol::WeightVariantBody body;
    if (v.clusters > 0) body.clusters = v.clusters;
    body.weight_kernel = weight_kernel_name(v.kernel);
    if (!v.clustered_sha256.empty()) body.clustered_weights_sha256 = v.clustered_sha256;
    // Not known on a simulated device, which builds no model.
    if (v.weight_bytes > 0) body.weight_bytes_per_forward = v.weight_bytes;
    out.push_back(std::move(body));
  }
  return out;
}

enum class Protocol { kRounds, kBlocks, kFixedTime };

Protocol protocol_of(const ProfileRequest& options) {
  if (options.fixed_time_s > 0) return Protocol::kFixedTime;
  return options.protocol == "blocks" ? Protocol::kBlocks : Protocol::kRounds;
}

// What to measure, in the order of the first visit, and what each point's
// ratio is taken to: on a curve, its batch's largest token count; among
// methods, its batch's "none" on the weights as given when the job lists it.
struct PointPlan {
  MeasurementPlan measurement;
  // When the points are methods: each timed configuration (a method on a
  // weight variant; the variants as given first), with its canonical method
  // text and its K (0: the weights as given).
  std::vector<TimedConfiguration> configurations;
  MethodNames methods;
  std::vector<int64_t> clusters;
  MethodNames labels;  // for progress: "none", "topk:8 k=64"
};

PointPlan plan_points(const ProfileRequest& options, const VitConfig& config,
                      const std::vector<int64_t>& batches, const std::vector<MethodSpec>& methods,
                      Protocol protocol) {
  PointPlan plan;
  MeasurementPlan& m = plan.measurement;
  m.seed = options.run.seed;
  if (!methods.empty()) {
    std::vector<int64_t> variant_clusters{options.run.clusters};
    variant_clusters.insert(variant_clusters.end(), options.paired_clusters.begin(),
                            options.paired_clusters.end());
    for (std::size_t variant = 0; variant < variant_clusters.size(); ++variant) {
      for (std::size_t method = 0; method < methods.size(); ++method) {
        const int64_t k = variant == 0 ? 0 : variant_clusters[variant];
        plan.configurations.push_back({method, variant});
        plan.methods.push_back(to_string(methods[method]));
        plan.clusters.push_back(k);
        plan.labels.push_back(k == 0 ? plan.methods.back()
                                     : fmt::format("{} k={}", plan.methods.back(), k));
      }
    }
    m.points = shuffled_method_points(batches, plan.configurations.size(), config.total_tokens(),
                                      options.run.seed);
  } else {
    const std::vector<int64_t> tokens =
        checked_token_counts(options.tokens, config.total_tokens());
    m.points = protocol == Protocol::kFixedTime ? descending_points(batches, tokens)
                                                : shuffled_points(batches, tokens, m.seed);
  }
  // The first "none" is on the weights as given (variant 0 comes first).
  const auto none = std::find(plan.methods.begin(), plan.methods.end(), "none");
  const int none_index = static_cast<int>(none - plan.methods.begin());
  int64_t top_tokens = 0;
  for (const ProfilePoint& p : m.points) top_tokens = std::max(top_tokens, p.tokens);
  const auto is_reference = [&](const ProfilePoint& p) {
    if (p.method < 0) return p.tokens == top_tokens;
    return none != plan.methods.end() && p.method == none_index;
  };
  m.reference_of.assign(m.points.size(), std::nullopt);
  for (std::size_t i = 0; i < m.points.size(); ++i) {
    if (is_reference(m.points[i])) continue;
    for (std::size_t j = 0; j < m.points.size(); ++j) {
      if (m.points[j].batch == m.points[i].batch && is_reference(m.points[j])) m.reference_of[i] = j;
    }
  }
  // The sentinel: the reference of the largest batch (or, with nothing to
  // pair, the heaviest point: the largest batch with all its tokens).
  std::size_t sentinel = 0;
  for (std::size_t i = 1; i < m.points.size(); ++i) {
    const ProfilePoint& a = m.points[sentinel];
    const ProfilePoint& b = m.points[i];
    const bool b_ref = is_reference(b), a_ref = is_reference(a);
    if (std::make_tuple(b_ref, b.batch, b.tokens, -b.method) >
        std::make_tuple(a_ref, a.batch, a.tokens, -a.method)) {
      sentinel = i;
    }
  }
  m.sentinel = sentinel;
  return plan;
}

// What HDP does on each method point that uses it: one untimed pass each,
// after the measurement.
using HdpByPoint = std::map<std::pair<int64_t, int>, std::vector<HdpCounts>>;
HdpByPoint hdp_of_points(LatencySampler& sampler, const PointPlan& plan,
                         const std::vector<MethodSpec>& methods) {
  HdpByPoint counted;
  for (const ProfilePoint& point : plan.measurement.points) {
    if (point.method < 0) continue;
    const TimedConfiguration& c = plan.configurations.at(static_cast<std::size_t>(point.method));
    if (!methods.at(c.method).hdp) continue;
    std::vector<HdpCounts> per_block = sampler.hdp_per_block(point);
    if (!per_block.empty()) counted[{point.batch, point.method}] = std::move(per_block);
  }
  return counted;
}

struct Measured {
  MeasurementOutcome outcome;
  std::size_t capped = 0;  // points that hit the time cap short of the precision
};

Measured measure_all(PointSampler& sampler, const ProfileRequest& options, Protocol protocol,
                     const PointPlan& plan, const power::Sampler* power_sampler) {
  // Warm up on the sentinel: the most expensive configuration.
  sampler.warm_up(plan.measurement.points.at(plan.measurement.sentinel),
                  Seconds(options.warmup_s));
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

nlohmann::json run_profiling(const ProfileRequest& options) {
  const DeviceSpec device_spec = parse_device_spec(options.device);
  check_options(options);
  const VitConfig config = parse_model_spec(options.run.model);
  const std::vector<int64_t> batches = checked_batches(options.batches);
  std::vector<MethodSpec> methods;
  for (const std::string& text : options.methods) {
    methods.push_back(parse_method_spec(text));
    validate_for_model(methods.back(), config);
  }
  const auto started = std::chrono::system_clock::now();
  const HostFacts host = read_host_facts();
  const Protocol protocol = protocol_of(options);
  const PointPlan plan = plan_points(options, config, batches, methods, protocol);

  Measured measured;
  protocol::MeasurementDocument document;
  std::vector<WeightVariant> variants;
  HdpByPoint hdp;
  nlohmann::json device;
  if (device_spec.simulated()) {
    const auto sampler = make_latency_sampler(options, device_spec, nullptr, config, batches,
                                              methods, plan.configurations);
    measured = measure_all(*sampler, options, protocol, plan, nullptr);
    device = sampler->device_json(host);
    variants = sampler->variants();
    hdp = hdp_of_points(*sampler, plan, methods);
    document.power.unavailable_reason =
        "simulated device: it has no sensors, and power is never simulated";
  } else {
    const ComputeDevice compute_device(device_spec);
    const std::chrono::milliseconds power_period(options.power_period_ms);
    power::SensorProbe probe = power_period.count() > 0
                                   ? compute_device.find_power_sensor()
                                   : power::SensorProbe{nullptr, "not sampled (--power-period 0)"};
    std::unique_ptr<power::Sampler> power_sampler;
    if (probe.sensor) {
      document.power.available = true;
      document.power.sensor = probe.sensor->description();
      document.power.period_ms = power_period.count();
      power_sampler = std::make_unique<power::Sampler>(std::move(probe.sensor), power_period);
      // Idle baseline: the board (or GPU) at rest, before the model is even built.
      const auto idle_begin = Clock::now();
      std::this_thread::sleep_for(kIdleWindow);
      if (const auto idle = power_sampler->window(idle_begin, Clock::now())) {
        document.power.idle_w = idle->average_w;
      }
    } else {
      document.power.unavailable_reason = probe.unavailable_reason;
    }
    const auto sampler = make_latency_sampler(options, device_spec, &compute_device, config,
                                              batches, methods, plan.configurations);
    measured = measure_all(*sampler, options, protocol, plan, power_sampler.get());
    device = sampler->device_json(host);
    variants = sampler->variants();
    hdp = hdp_of_points(*sampler, plan, methods);
  }

  // Points in a stable order: batch, then method, then tokens.
  std::vector<const PointResult*> ordered;
  for (const PointResult& result : measured.outcome.points) ordered.push_back(&result);
  std::sort(ordered.begin(), ordered.end(), [](const PointResult* a, const PointResult* b) {
    return std::tie(a->point.batch, a->point.method, a->point.tokens) <
           std::tie(b->point.batch, b->point.method, b->point.tokens);
  });
  for (const PointResult* result : ordered) {
    document.points.push_back(point_body(*result, plan.measurement, plan.methods, plan.clusters));
    const auto counted = hdp.find({result->point.batch, result->point.method});
    if (counted != hdp.end()) document.points.back().hdp = protocol::hdp_body_of(counted->second);
  }
  const int threads = options.run.threads > 0 ? options.run.threads : host.logical_cpus.value_or(1);

  document.provenance = this_build_provenance("tailsweep-agent profile", started, device);
  document.provenance.elapsed_s = measured.outcome.elapsed.count();
  document.model = config.name;
  document.shape =
      protocol::ModelShape{config.embed_dim, config.depth, config.num_heads, config.total_tokens()};
  document.weights = options.run.weights_label();
  document.mode = options.mode;
  document.weight_kernel = weight_kernel_name(options.run.weight_kernel);
  if (options.run.clusters > 0) document.clusters = options.run.clusters;
  if (!variants.front().clustered_sha256.empty()) {
    document.clustered_weights_sha256 = variants.front().clustered_sha256;
  }
  if (!options.paired_clusters.empty()) document.paired_clusters = options.paired_clusters;
  document.variants = variant_bodies(variants);
  if (!options.hdp_shares.empty()) document.hdp_shares = options.hdp_shares;
  if (!plan.methods.empty()) document.methods = plan.methods;
  protocol::MeasurementBody& m = document.measurement;
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

  if (measured.capped > 0) {
    fmt::print(stderr,
               "tailsweep-agent: {} of {} points hit the {:g} s cap before reaching {:.1f}% "
               "precision (flagged reached_precision: false)\n",
               measured.capped, document.points.size(), options.time_cap_s,
               100 * options.precision);
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
  return protocol::to_json(document);
}

}  // namespace tailsweep::agent
