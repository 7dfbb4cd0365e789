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

#include <fmt/chrono.h>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "agent/data/clustered_weights.h"
#include "agent/device/device_facts.h"
#include "agent/device/device_spec.h"
#include "agent/device/gpu_sim.h"
#include "agent/device/power.h"
#include "agent/engine/compute_device.h"
#include "agent/engine/engine_sampler.h"
#include "agent/engine/hdp_counts.h"
#include "agent/engine/runtime.h"
#include "agent/engine/weights_check.h"
#include "agent/measure/latency_samplers.h"
#include "agent/measure/point_measurement.h"
#include "analysis/profile_plan.h"
#include "analysis/statistics.h"
#include "common/model/method_spec.h"
#include "common/model/model_config.h"
#include "common/util/errors.h"
#include "common/wire/protocol.h"
#include "tailsweep/build_info.h"

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
nlohmann::json power_json(const PointResult& result) {
  if (!result.power || result.passes_with_power == 0) return nullptr;
  const double passes = static_cast<double>(result.passes_with_power);
  const double joules_per_pass = result.power->energy_j / passes;
  return {{"average_w", result.power->average_w},
          {"peak_w", result.power->peak_w},
          {"joules_per_forward", joules_per_pass},
          {"joules_per_image", joules_per_pass / static_cast<double>(result.point.batch)},
          {"readings", result.power->readings}};
}

nlohmann::json or_null(bool present, double value) {
  return present ? nlohmann::json(value) : nlohmann::json(nullptr);
}

template <typename T>
nlohmann::json or_null(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

using MethodNames = std::vector<std::string>;

// What a point's ratio is taken to: {"tokens": N} on a curve, {"method": M}.
nlohmann::json reference_json(const ProfilePoint& reference, const MethodNames& methods) {
  if (reference.method < 0) return {{"batch", reference.batch}, {"tokens", reference.tokens}};
  return {{"batch", reference.batch},
          {"method", methods.at(static_cast<std::size_t>(reference.method))}};
}

nlohmann::json ratio_json(const PointResult& result, const MeasurementPlan& plan,
                          const MethodNames& methods) {
  if (!result.ratio) return nullptr;
  const std::size_t index = result.first_visit;  // the first round keeps the plan's order
  return {{"to", reference_json(plan.points.at(*plan.reference_of.at(index)), methods)},
          {"median", result.ratio->median},
          {"ci95_low", or_null(result.ratio->ci95_low)},
          {"ci95_high", or_null(result.ratio->ci95_high)},
          {"rounds", result.ratio->rounds}};
}

nlohmann::json point_json(const PointResult& result, const MeasurementPlan& plan,
                          const MethodNames& methods, const std::vector<int64_t>& clusters) {
  const stats::Summary& e = result.estimate;  // the latency and its CI
  const stats::Summary& s = result.pooled;    // the spread of every sample
  nlohmann::json point = {{"batch", result.point.batch},
                          {"tokens", result.point.tokens},
                          {"visit_index", result.first_visit},
                          {"median_ms", e.median},
                          // Too few rounds (or samples) for an interval: null,
                          // never a 0 that step detection would read as one.
                          {"median_ci95_low_ms", or_null(e.has_median_ci, e.median_ci_low)},
                          {"median_ci95_high_ms", or_null(e.has_median_ci, e.median_ci_high)},
                          {"median_ci95_relative_half_width",
                           or_null(e.has_median_ci, e.median_ci_relative_half_width)},
                          {"rounds", result.rounds},
                          {"ratio", ratio_json(result, plan, methods)},
                          {"mean_ms", s.mean},
                          {"stddev_ms", s.stddev},
                          {"min_ms", s.min},
                          {"max_ms", s.max},
                          {"p5_ms", s.p5},
                          {"p25_ms", s.p25},
                          {"p75_ms", s.p75},
                          {"p95_ms", s.p95},
                          {"mad_ms", s.mad},
                          {"iqr_ms", s.iqr},
                          {"samples", s.count},
                          {"stable", s.stable},
                          {"reached_precision", result.stop == StopReason::kPrecisionReached},
                          // Whose CI the precision applies to: a paired point
                          // stops on its ratio's, any other on its median's.
                          {"precision_of", result.ratio ? "ratio" : "median"},
                          {"load_average", or_null(result.load.mean_load_average())},
                          {"steal_fraction", or_null(result.load.steal_fraction())},
                          {"power", power_json(result)},
                          {"raw_ms", result.samples_ms},
                          {"raw_round", result.sample_round}};
  if (result.point.method >= 0) {
    const auto configuration = static_cast<std::size_t>(result.point.method);
    point["method"] = methods.at(configuration);
    // Only a paired clustered model's points carry K.
    if (clusters.at(configuration) != 0) point["clusters"] = clusters.at(configuration);
  }
  return point;
}

// The models timed: the weights as given, then one per paired K.
nlohmann::json variants_json(const std::vector<WeightVariant>& variants) {
  nlohmann::json out = nlohmann::json::array();
  for (const WeightVariant& v : variants) {
    out.push_back(
        {{"clusters", v.clusters > 0 ? nlohmann::json(v.clusters) : nlohmann::json(nullptr)},
         {"weight_kernel", weight_kernel_name(v.kernel)},
         {"clustered_weights_sha256", v.clustered_sha256.empty()
                                          ? nlohmann::json(nullptr)
                                          : nlohmann::json(v.clustered_sha256)},
         // Not known on a simulated device, which builds no model.
         {"weight_bytes_per_forward",
          v.weight_bytes > 0 ? nlohmann::json(v.weight_bytes) : nlohmann::json(nullptr)}});
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
nlohmann::json rounds_json(const Measured& measured, const PointPlan& plan, double precision,
                           int threads) {
  const MeasurementOutcome& outcome = measured.outcome;
  std::vector<double> sentinel_ms;
  nlohmann::json rounds = nlohmann::json::array();
  double max_load = 0;
  for (const RoundRecord& round : outcome.rounds) {
    if (round.sentinel_median_ms) sentinel_ms.push_back(*round.sentinel_median_ms);
    if (round.load_average) max_load = std::max(max_load, *round.load_average);
    rounds.push_back({{"round", round.round},
                      {"points_visited", round.points_visited},
                      {"sentinel_median_ms", or_null(round.sentinel_median_ms)},
                      {"load_average", or_null(round.load_average)},
                      {"steal_fraction", or_null(round.steal_fraction)}});
  }
  const Drift drift = sentinel_drift(sentinel_ms, precision);
  const ProfilePoint& sentinel = plan.measurement.points.at(plan.measurement.sentinel);
  const nlohmann::json sentinel_json = reference_json(sentinel, plan.methods);
  return {{"count", outcome.rounds.size()},
          {"sentinel", sentinel_json},
          {"drift", sentinel_ms.empty() ? nlohmann::json(nullptr) : nlohmann::json(drift.max_over_min)},
          {"drift_exceeds_precision", drift.exceeds_precision},
          {"max_load_average", max_load},
          {"load_above_threads", max_load > threads + 0.5},
          {"rounds", rounds}};
}

// The measured shares a simulated device modelled HDP from; null without.
nlohmann::json hdp_shares_json(const std::vector<protocol::HdpMeasuredShares>& shares) {
  if (shares.empty()) return nullptr;
  nlohmann::json list = nlohmann::json::array();
  for (const protocol::HdpMeasuredShares& measured : shares)
    list.push_back(protocol::to_json(measured));
  return list;
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
  nlohmann::json device;
  nlohmann::json power_info;
  std::vector<WeightVariant> variants;
  HdpByPoint hdp;
  if (device_spec.simulated()) {
    const auto sampler = make_latency_sampler(options, device_spec, nullptr, config, batches,
                                              methods, plan.configurations);
    measured = measure_all(*sampler, options, protocol, plan, nullptr);
    device = sampler->device_json(host);
    variants = sampler->variants();
    hdp = hdp_of_points(*sampler, plan, methods);
    power_info = {{"available", false},
                  {"reason", "simulated device: it has no sensors, and power is never simulated"}};
  } else {
    const ComputeDevice compute_device(device_spec);
    const std::chrono::milliseconds power_period(options.power_period_ms);
    power::SensorProbe probe = power_period.count() > 0
                                   ? compute_device.find_power_sensor()
                                   : power::SensorProbe{nullptr, "not sampled (--power-period 0)"};
    std::unique_ptr<power::Sampler> power_sampler;
    if (probe.sensor) {
      const std::string sensor = probe.sensor->description();
      power_sampler = std::make_unique<power::Sampler>(std::move(probe.sensor), power_period);
      // Idle baseline: the board (or GPU) at rest, before the model is even built.
      const auto idle_begin = Clock::now();
      std::this_thread::sleep_for(kIdleWindow);
      const auto idle = power_sampler->window(idle_begin, Clock::now());
      power_info = {{"available", true},
                    {"sensor", sensor},
                    {"period_ms", power_period.count()},
                    {"idle_w", idle ? nlohmann::json(idle->average_w) : nlohmann::json(nullptr)}};
    } else {
      power_info = {{"available", false}, {"reason", probe.unavailable_reason}};
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
  nlohmann::json points = nlohmann::json::array();
  for (const PointResult* result : ordered) {
    points.push_back(point_json(*result, plan.measurement, plan.methods, plan.clusters));
    const auto counted = hdp.find({result->point.batch, result->point.method});
    if (counted != hdp.end()) points.back()["hdp"] = hdp_json(counted->second);
  }
  const int threads = options.run.threads > 0 ? options.run.threads : host.logical_cpus.value_or(1);
  const nlohmann::json rounds =
      protocol == Protocol::kRounds
          ? rounds_json(measured, plan, options.precision, threads)
          : nlohmann::json(nullptr);
  std::string protocol_text;
  switch (protocol) {
    case Protocol::kRounds:
      protocol_text = fmt::format(
          "rounds: every point visited each round in a seeded order, {:g} s slices; the median "
          "and its CI over the round medians",
          options.slice_s);
      break;
    case Protocol::kBlocks:
      protocol_text = "blocks: each point to the precision in one block, random order";
      break;
    case Protocol::kFixedTime:
      protocol_text = fmt::format("fixed {} s per point, descending (POMT's)", options.fixed_time_s);
      break;
  }

  const nlohmann::json report = {
      {"tool", "tailsweep-agent profile"},
      {"schema_version", protocol::kProfileSchemaVersion},
      {"version", build_info::kVersion},
      {"git_sha", build_info::kGitSha},
      {"build_type", build_info::kBuildType},
      {"started_at",
       fmt::format("{:%FT%TZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(started)))},
      {"elapsed_s", measured.outcome.elapsed.count()},
      {"model",
       {{"name", config.name},
        {"dim", config.embed_dim},
        {"depth", config.depth},
        {"heads", config.num_heads},
        {"tokens", config.total_tokens()}}},
      {"weights", options.run.weights_label()},
      {"mode", options.mode},
      {"weight_kernel", weight_kernel_name(options.run.weight_kernel)},
      {"clusters", options.run.clusters > 0 ? nlohmann::json(options.run.clusters) : nullptr},
      {"clustered_weights_sha256", variants.front().clustered_sha256.empty()
                                       ? nlohmann::json(nullptr)
                                       : nlohmann::json(variants.front().clustered_sha256)},
      {"paired_clusters", options.paired_clusters.empty()
                              ? nlohmann::json(nullptr)
                              : nlohmann::json(options.paired_clusters)},
      {"variants", variants_json(variants)},
      {"hdp_shares", hdp_shares_json(options.hdp_shares)},
      {"methods", plan.methods.empty() ? nlohmann::json(nullptr) : nlohmann::json(plan.methods)},
      {"method",
       {{"precision", options.precision},
        {"confidence", 0.95},
        {"min_samples", options.min_samples},
        {"min_rounds", options.min_rounds},
        {"slice_s", options.slice_s},
        {"time_cap_s",
         protocol == Protocol::kFixedTime ? options.fixed_time_s : options.time_cap_s},
        {"warmup_s", options.warmup_s},
        {"order_seed", options.run.seed},
        {"protocol", protocol_text},
        {"points_at_time_cap", measured.capped}}},
      {"rounds", rounds},
      {"device", device},
      {"power", power_info},
      {"points_planned", plan.measurement.points.size()},
      {"interrupted", measured.outcome.interrupted},
      {"points", points},
  };
  if (measured.capped > 0) {
    fmt::print(stderr,
               "tailsweep-agent: {} of {} points hit the {:g} s cap before reaching {:.1f}% "
               "precision (flagged reached_precision: false)\n",
               measured.capped, points.size(), options.time_cap_s, 100 * options.precision);
  }
  if (!rounds.is_null() && rounds["drift_exceeds_precision"].get<bool>()) {
    fmt::print(stderr,
               "tailsweep-agent: the sentinel drifted by {:.1f}% over the run, more than the "
               "{:.1f}% precision: compare configurations by their paired ratios\n",
               100 * (rounds["drift"].get<double>() - 1), 100 * options.precision);
  }
  if (!rounds.is_null() && rounds["load_above_threads"].get<bool>()) {
    fmt::print(stderr,
               "tailsweep-agent: the load average reached {:.1f} with {} measuring threads: "
               "something else was running\n",
               rounds["max_load_average"].get<double>(), threads);
  }
  return report;
}

}  // namespace tailsweep::agent
