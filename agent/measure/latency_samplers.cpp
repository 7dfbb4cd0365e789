#include "agent/measure/latency_samplers.h"

#include <chrono>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "agent/data/clustered_weights.h"
#include "agent/data/safetensors.h"
#include "agent/device/gpu_sim.h"
#include "agent/engine/compute_device.h"
#include "agent/engine/runtime.h"
#include "agent/engine/weights_check.h"
#include "agent/measure/simulated_hdp.h"
#include "common/util/errors.h"

namespace tailsweep::agent {
namespace {

using Clock = std::chrono::steady_clock;

// Measures the engine on this machine's CPU or one of its CUDA GPUs.
class EngineLatency final : public LatencySampler {
 public:
  EngineLatency(const ProfileRequest& options, const VitConfig& config,
                const std::vector<int64_t>& batches, const std::vector<MethodSpec>& methods,
                const std::vector<TimedConfiguration>& configurations, const ComputeDevice& device)
      : sampler_(EngineSamplerOptions{config, options.run.weights, options.run.seed,
                                      options.run.threads, batches, options.mode == "block",
                                      methods, options.run.weight_kernel, options.run.clusters,
                                      options.paired_clusters},
                 device),
        configurations_(configurations) {
    if (!options.hdp_shares.empty()) {
      throw InputError(
          "HDP shares are a simulated device's input; a real device measures what HDP prunes");
    }
  }

  double sample(const ProfilePoint& point) override {
    if (point.method < 0) return sampler_.time_forward(point.batch, point.tokens, -1).count();
    const TimedConfiguration& c = configurations_.at(static_cast<std::size_t>(point.method));
    return sampler_.time_forward(point.batch, point.tokens, static_cast<int>(c.method), c.variant)
        .count();
  }

  void warm_up(const ProfilePoint& point, std::chrono::duration<double> at_least) override {
    const auto until = Clock::now() + at_least;
    do {
      sample(point);
    } while (Clock::now() < until);
  }

  const std::vector<WeightVariant>& variants() const override { return sampler_.variants(); }
  nlohmann::json device_json(const HostFacts& host) const override {
    return sampler_.device_json(host);
  }
  std::vector<HdpCounts> hdp_per_block(const ProfilePoint& point) override {
    if (point.method < 0) return {};
    const TimedConfiguration& c = configurations_.at(static_cast<std::size_t>(point.method));
    return sampler_.hdp_per_block(point.batch, static_cast<int>(c.method), c.variant);
  }

 private:
  EngineSampler sampler_;
  std::vector<TimedConfiguration> configurations_;
};

bool file_is_clustered(const std::string& path) {
  return !path.empty() && clustering::is_clustered(safetensors::read_file(path));
}

// Draws from the kernel-level model of a GPU (agent/device/gpu_sim.h).
// Always labelled simulated; latency only. No model is built, so the
// variants' weight_bytes and codebook hashes stay unknown (0, empty).
class SimLatency final : public LatencySampler {
 public:
  SimLatency(const ProfileRequest& options, const DeviceSpec& device, const VitConfig& config,
             const std::vector<MethodSpec>& methods,
             const std::vector<TimedConfiguration>& configurations)
      : gpu_(sim::find_simulated_gpu(device.simulated_gpu), options.run.seed),
        config_(config),
        block_mode_(options.mode == "block"),
        methods_(methods),
        configurations_(configurations),
        // Which heads HDP prunes depends on the data, which a simulated
        // device never sees: its shares come from a real device's evaluation.
        hdp_inputs_(simulated_hdp_inputs(methods, options.hdp_shares, config)) {
    // Weights do not change a simulated latency, but bad ones are refused
    // the same way on every device.
    if (!options.run.weights.empty()) check_weights_file(config, options.run.weights);
    // As on a real device: clustering at load needs dense weights (the file
    // has passed check_weights_file, so it reads).
    const bool clustered_file = file_is_clustered(options.run.weights);
    const bool clusters_at_load = options.run.clusters != 0 || !options.paired_clusters.empty();
    if (clusters_at_load && clustered_file) {
      throw InputError(fmt::format("{}: already clustered; clustering at load needs dense weights",
                                   options.run.weights));
    }
    const bool lookup = options.run.weight_kernel == WeightKernel::kLookup;
    if (lookup && !clusters_at_load && !clustered_file) {
      throw InputError(
          "--weight-kernel lookup needs clustered weights (make them with tailsweep-agent "
          "cluster, or give --clusters or --paired-clusters)");
    }
    if (lookup && block_mode_) {
      throw InputError("--weight-kernel lookup times whole models (--mode model)");
    }
    // The lookup kernel reads the blocks' weights as one byte each: the
    // model's GEMMs read a quarter of the weight bytes, with the same
    // arithmetic (docs/cluster.md). With paired clusters the weights as
    // given run dense, as on a real device.
    const bool paired = !options.paired_clusters.empty();
    // What run_weights checks on a real device (paired K are checked with
    // the request's options).
    if (options.run.clusters != 0 && (options.run.clusters < 2 || options.run.clusters > 256)) {
      throw InputError(fmt::format("--clusters must be 0 (as given) or in 2..256, got {}",
                                   options.run.clusters));
    }
    variants_.push_back(
        {options.run.clusters, paired ? WeightKernel::kDense : options.run.weight_kernel, "", 0});
    for (const int64_t clusters : options.paired_clusters) {
      variants_.push_back({clusters, options.run.weight_kernel, "", 0});
    }
  }

  // A model has no caches or clocks to warm.
  void warm_up(const ProfilePoint&, std::chrono::duration<double>) override {}

  double sample(const ProfilePoint& point) override {
    double model_ms = 0;
    if (block_mode_) {
      model_ms = sim::vit_block_ms(gpu_.spec(), config_, point.batch, point.tokens);
    } else if (point.method >= 0) {
      const TimedConfiguration& c = configurations_.at(static_cast<std::size_t>(point.method));
      const double bytes = variants_.at(c.variant).kernel == WeightKernel::kLookup ? 1.0 : 4.0;
      const auto& hdp = hdp_inputs_.at(c.method);
      model_ms = sim::vit_forward_ms(gpu_.spec(), config_, point.batch, methods_.at(c.method),
                                     bytes, hdp ? &*hdp : nullptr);
    } else {
      MethodSpec keep;
      keep.kind = MethodKind::kRandom;
      keep.keep_tokens = point.tokens;
      const double bytes = variants_.front().kernel == WeightKernel::kLookup ? 1.0 : 4.0;
      model_ms = sim::vit_forward_ms(gpu_.spec(), config_, point.batch, keep, bytes);
    }
    return gpu_.sample_ms(model_ms);
  }

  const std::vector<WeightVariant>& variants() const override { return variants_; }
  nlohmann::json device_json(const HostFacts& host) const override {
    return simulated_device_json(gpu_.spec(), host);
  }
  // What the model assumed, from the measured shares.
  std::vector<HdpCounts> hdp_per_block(const ProfilePoint& point) override {
    if (point.method < 0) return {};
    const TimedConfiguration& c = configurations_.at(static_cast<std::size_t>(point.method));
    const auto& hdp = hdp_inputs_.at(c.method);
    if (!hdp) return {};
    return simulated_hdp_counts(methods_.at(c.method), config_, point.batch, *hdp);
  }

 private:
  sim::SimulatedGpu gpu_;
  VitConfig config_;
  bool block_mode_;
  std::vector<MethodSpec> methods_;
  std::vector<TimedConfiguration> configurations_;
  std::vector<std::optional<std::vector<sim::HdpBlockShares>>> hdp_inputs_;
  std::vector<WeightVariant> variants_;
};

}  // namespace

std::unique_ptr<LatencySampler> make_latency_sampler(
    const ProfileRequest& request, const DeviceSpec& device_spec,
    const ComputeDevice* compute_device, const VitConfig& config,
    const std::vector<int64_t>& batches, const std::vector<MethodSpec>& methods,
    const std::vector<TimedConfiguration>& configurations) {
  if (device_spec.simulated()) {
    return std::make_unique<SimLatency>(request, device_spec, config, methods, configurations);
  }
  return std::make_unique<EngineLatency>(request, config, batches, methods, configurations,
                                         *compute_device);
}

}  // namespace tailsweep::agent
