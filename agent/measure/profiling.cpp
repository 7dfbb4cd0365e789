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

#include "agent/device/device_facts.h"
#include "agent/device/device_spec.h"
#include "agent/device/gpu_sim.h"
#include "agent/device/power.h"
#include "agent/engine/compute_device.h"
#include "agent/engine/engine_sampler.h"
#include "agent/engine/runtime.h"
#include "agent/engine/weights_check.h"
#include "agent/measure/sampling.h"
#include "analysis/profile_plan.h"
#include "analysis/statistics.h"
#include "common/model/method_spec.h"
#include "common/model/model_config.h"
#include "common/util/errors.h"
#include "common/util/progress.h"
#include "tailsweep/build_info.h"

namespace tailsweep::agent {
namespace {

using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

struct PointResult {
  ProfilePoint point;
  std::size_t visit_index = 0;
  std::vector<double> samples_ms;
  StopReason stop = StopReason::kContinue;
  stats::Summary summary;        // of samples_ms, once they are final
  Clock::time_point begin, end;  // the timed window, for power
  std::optional<power::WindowPower> power;
};

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
  if (!options.methods.empty() && options.fixed_time_s > 0) {
    throw InputError("--fixed-time is POMT's protocol for curves; --methods is always adaptive");
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

// Samples one point until the stopping rule says so (sampling.h); nullopt
// when `interrupt` was set before the point finished.
template <typename Sampler>
std::optional<PointResult> measure_point(const ProfilePoint& point, std::size_t visit_index,
                                         Sampler& sampler, const StoppingRule& rule,
                                         const std::atomic<bool>* interrupt) {
  PointResult result{point, visit_index, {}, StopReason::kContinue, {}, {}, {}, {}};
  sampler.warm_up(point, Seconds(0));  // re-warms caches after the previous point
  result.begin = Clock::now();
  std::optional<Sampled> sampled =
      sample_until_stop([&] { return sampler(point); }, rule, interrupt);
  if (!sampled) return std::nullopt;
  result.end = Clock::now();
  result.samples_ms = std::move(sampled->samples_ms);
  result.stop = sampled->stop;
  result.summary = stats::summarize(result.samples_ms);
  return result;
}

// Average and peak watts over the point's timed window, and joules per
// forward pass and per image; null when there is no sensor or too few
// readings fell in the window.
nlohmann::json power_json(const PointResult& result) {
  if (!result.power) return nullptr;
  const double passes = static_cast<double>(result.samples_ms.size());
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

// The method text of a point ("none", "topk:8", ...), or empty for a curve point.
using MethodNames = std::vector<std::string>;

std::string method_of(const ProfilePoint& point, const MethodNames& methods) {
  return point.method < 0 ? std::string() : methods.at(static_cast<std::size_t>(point.method));
}

nlohmann::json point_json(const PointResult& result, const MethodNames& methods) {
  const stats::Summary& s = result.summary;
  nlohmann::json point = {{"batch", result.point.batch},
                          {"tokens", result.point.tokens},
                          {"visit_index", result.visit_index},
                          {"median_ms", s.median},
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
                          // Too few samples for an interval (a point cut off by the
                          // time cap): null, never a 0 that step detection would
                          // read as an interval.
                          {"median_ci95_low_ms", or_null(s.has_median_ci, s.median_ci_low)},
                          {"median_ci95_high_ms", or_null(s.has_median_ci, s.median_ci_high)},
                          {"median_ci95_relative_half_width",
                           or_null(s.has_median_ci, s.median_ci_relative_half_width)},
                          {"samples", s.count},
                          {"stable", s.stable},
                          {"reached_precision", result.stop == StopReason::kPrecisionReached},
                          {"power", power_json(result)},
                          {"raw_ms", result.samples_ms}};
  if (result.point.method >= 0) point["method"] = method_of(result.point, methods);
  return point;
}

std::string progress_detail(const PointResult& last, const MethodNames& methods) {
  const stats::Summary& s = last.summary;
  const std::string what = last.point.method < 0 ? fmt::format("tokens {}", last.point.tokens)
                                                 : method_of(last.point, methods);
  return fmt::format("batch {} {}: {:.3f} ms +-{:.1f}% ({} samples{})", last.point.batch, what,
                     s.median, 100 * s.median_ci_relative_half_width, s.count,
                     last.stop == StopReason::kTimeCap ? ", time cap" : "");
}

// Measures the engine on this machine's CPU or one of its CUDA GPUs.
class EngineLatency {
 public:
  EngineLatency(const ProfileRequest& options, const VitConfig& config,
                const std::vector<int64_t>& batches, std::vector<MethodSpec> methods,
                const ComputeDevice& device)
      : sampler_(
            EngineSamplerOptions{config, options.run.weights, options.run.seed, options.run.threads,
                                 batches, options.mode == "block", std::move(methods)},
            device) {}

  double operator()(const ProfilePoint& point) {
    return sampler_.time_forward(point.batch, point.tokens, point.method).count();
  }

  // Untimed passes: at least one, then until `at_least` has passed.
  void warm_up(const ProfilePoint& point, Seconds at_least) {
    const auto until = Clock::now() + at_least;
    do {
      (*this)(point);
    } while (Clock::now() < until);
  }

  nlohmann::json device_json(const HostFacts& host) const { return sampler_.device_json(host); }

 private:
  EngineSampler sampler_;
};

// Draws from the kernel-level model of a GPU (common/gpu_sim.h). Always
// labelled simulated; latency only.
class SimSampler {
 public:
  SimSampler(const ProfileRequest& options, const DeviceSpec& device, const VitConfig& config,
             std::vector<MethodSpec> methods)
      : gpu_(sim::find_simulated_gpu(device.simulated_gpu), options.run.seed),
        config_(config),
        block_mode_(options.mode == "block"),
        methods_(std::move(methods)) {
    // Weights do not change a simulated latency, but bad ones are refused
    // the same way on every device.
    if (!options.run.weights.empty()) check_weights_file(config, options.run.weights);
  }

  // A model has no caches or clocks to warm.
  void warm_up(const ProfilePoint&, Seconds) {}

  double operator()(const ProfilePoint& point) {
    double model_ms = 0;
    if (block_mode_) {
      model_ms = sim::vit_block_ms(gpu_.spec(), config_, point.batch, point.tokens);
    } else if (point.method >= 0) {
      model_ms = sim::vit_forward_ms(gpu_.spec(), config_, point.batch,
                                     methods_[static_cast<std::size_t>(point.method)]);
    } else {
      model_ms = sim::vit_forward_ms(gpu_.spec(), config_, point.batch, point.tokens);
    }
    return gpu_.sample_ms(model_ms);
  }

  nlohmann::json device_json(const HostFacts& host) const {
    return simulated_device_json(gpu_.spec(), host);
  }

 private:
  sim::SimulatedGpu gpu_;
  VitConfig config_;
  bool block_mode_;
  std::vector<MethodSpec> methods_;
};

struct Measured {
  nlohmann::json points = nlohmann::json::array();
  std::size_t capped = 0;    // points that hit the time cap short of the precision
  bool interrupted = false;  // stopped early: points holds those finished
  Seconds elapsed{0};
};

// What to measure, in the order to visit it.
struct PointPlan {
  std::vector<ProfilePoint> order;
  MethodNames methods;  // canonical texts, when the points are methods
};

PointPlan plan_points(const ProfileRequest& options, const VitConfig& config,
                      const std::vector<int64_t>& batches, const std::vector<MethodSpec>& methods,
                      bool fixed_time) {
  PointPlan plan;
  if (!methods.empty()) {
    for (const MethodSpec& method : methods) plan.methods.push_back(to_string(method));
    plan.order =
        shuffled_method_points(batches, methods.size(), config.total_tokens(), options.run.seed);
    return plan;
  }
  const std::vector<int64_t> tokens = checked_token_counts(options.tokens, config.total_tokens());
  plan.order = fixed_time ? descending_points(batches, tokens)
                          : shuffled_points(batches, tokens, options.run.seed);
  return plan;
}

template <typename Sampler>
Measured measure_all(Sampler& sampler, const ProfileRequest& options, const StoppingRule& rule,
                     const PointPlan& plan, power::Sampler* power_sampler) {
  // Warm up on the most expensive point: the largest batch with all tokens;
  // among methods, the first listed (a latency job lists the baseline first).
  const auto heaviest = std::max_element(plan.order.begin(), plan.order.end(),
                                         [](const ProfilePoint& a, const ProfilePoint& b) {
                                           return std::make_tuple(a.batch, a.tokens, -a.method) <
                                                  std::make_tuple(b.batch, b.tokens, -b.method);
                                         });
  sampler.warm_up(*heaviest, Seconds(options.warmup_s));
  const std::vector<ProfilePoint>& order = plan.order;
  std::vector<PointResult> results;
  const auto measuring_since = Clock::now();
  ProgressLine progress;
  Measured measured;
  for (std::size_t i = 0; i < order.size(); ++i) {
    std::optional<PointResult> point = measure_point(order[i], i, sampler, rule, options.interrupt);
    if (!point) {
      measured.interrupted = true;
      break;
    }
    results.push_back(std::move(*point));
    if (power_sampler != nullptr) {
      results.back().power = power_sampler->window(results.back().begin, results.back().end);
    }
    progress.update(i + 1, order.size(), progress_detail(results.back(), plan.methods));
  }
  measured.elapsed = Clock::now() - measuring_since;
  std::sort(results.begin(), results.end(), [](const PointResult& a, const PointResult& b) {
    return std::tie(a.point.batch, a.point.method, a.point.tokens) <
           std::tie(b.point.batch, b.point.method, b.point.tokens);
  });
  for (const auto& result : results) {
    measured.points.push_back(point_json(result, plan.methods));
    measured.capped += result.stop == StopReason::kTimeCap;
  }
  return measured;
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
  const bool fixed_time = options.fixed_time_s > 0;
  const StoppingRule rule{options.precision, options.min_samples,
                          Seconds(fixed_time ? options.fixed_time_s : options.time_cap_s),
                          fixed_time};
  const PointPlan plan = plan_points(options, config, batches, methods, fixed_time);

  Measured measured;
  nlohmann::json device;
  nlohmann::json power_info;
  if (device_spec.simulated()) {
    SimSampler sampler(options, device_spec, config, methods);
    measured = measure_all(sampler, options, rule, plan, nullptr);
    device = sampler.device_json(host);
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
    EngineLatency sampler(options, config, batches, methods, compute_device);
    measured = measure_all(sampler, options, rule, plan, power_sampler.get());
    device = sampler.device_json(host);
  }

  const nlohmann::json report = {
      {"tool", "tailsweep-agent profile"},
      {"version", build_info::kVersion},
      {"git_sha", build_info::kGitSha},
      {"build_type", build_info::kBuildType},
      {"started_at",
       fmt::format("{:%FT%TZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(started)))},
      {"elapsed_s", measured.elapsed.count()},
      {"model",
       {{"name", config.name},
        {"dim", config.embed_dim},
        {"depth", config.depth},
        {"heads", config.num_heads},
        {"tokens", config.total_tokens()}}},
      {"weights", options.run.weights_label()},
      {"mode", options.mode},
      {"methods", plan.methods.empty() ? nlohmann::json(nullptr) : nlohmann::json(plan.methods)},
      {"method",
       {{"precision", options.precision},
        {"confidence", 0.95},
        {"min_samples", options.min_samples},
        {"time_cap_s", rule.time_cap.count()},
        {"warmup_s", options.warmup_s},
        {"order_seed", options.run.seed},
        {"protocol",
         fixed_time ? fmt::format("fixed {} s per point, descending (POMT's)", options.fixed_time_s)
                    : std::string("adaptive: to the precision, random order")},
        {"points_at_time_cap", measured.capped}}},
      {"device", device},
      {"power", power_info},
      {"points_planned", plan.order.size()},
      {"interrupted", measured.interrupted},
      {"points", measured.points},
  };
  if (measured.capped > 0) {
    fmt::print(stderr,
               "tailsweep-agent: {} of {} points hit the {:g} s cap before reaching {:.1f}% "
               "precision (flagged reached_precision: false)\n",
               measured.capped, measured.points.size(), rule.time_cap.count(),
               100 * options.precision);
  }
  return report;
}

}  // namespace tailsweep::agent
