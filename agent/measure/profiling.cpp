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
#include "agent/measure/measurement_run.h"
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

void check_options(const ProfileRequest& options) {
  check_measurement_options(options);
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
    document.power = simulated_power_info();
  } else {
    const ComputeDevice compute_device(device_spec);
    PowerWatch power = watch_power(compute_device, options.power_period_ms);
    document.power = power.info;
    const auto sampler = make_latency_sampler(options, device_spec, &compute_device, config,
                                              batches, methods, plan.configurations);
    measured = measure_all(*sampler, options, protocol, plan, power.sampler.get());
    device = sampler->device_json(host);
    variants = sampler->variants();
    hdp = hdp_of_points(*sampler, plan, methods);
  }

  for (const PointResult* result : in_stable_order(measured.outcome)) {
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
  document.measurement = measurement_body(options, protocol, plan, measured, threads);
  warn_about(document.measurement, document.points.size(), options, threads);
  return protocol::to_json(document);
}

}  // namespace tailsweep::agent
