#include "agent/engine/engine_sampler.h"

#include <map>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include "agent/engine/compute_device.h"
#include "agent/engine/runtime.h"
#include "agent/engine/vit_model.h"
#include "agent/engine/vit_weights.h"

namespace tailsweep::agent {

using Clock = std::chrono::steady_clock;

struct EngineSampler::Impl {
  Impl(const EngineSamplerOptions& options, const ComputeDevice& compute_device)
      : device(compute_device),
        // The thread count is set before anything runs on ATen's pool (the
        // clustering at load below does).
        runtime(configure_runtime(options.threads)),
        block_mode(options.block_mode),
        seed(options.seed),
        methods(options.methods) {
    build_models(options);
    // One input per batch size, drawn on the CPU (the same on every device).
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(options.seed);
    const VitConfig& config = options.config;
    for (const int64_t batch : options.batches) {
      inputs[batch] =
          (block_mode ? at::randn({batch, config.total_tokens(), config.embed_dim}, generator)
                      : at::randn({batch, config.in_channels, config.image_size, config.image_size},
                                  generator))
              .to(compute_device.torch_device());
    }
  }

  void build_models(const EngineSamplerOptions& options) {
    RunWeights loaded =
        run_weights(options.config, options.weights, options.seed, options.clusters);
    const bool paired = !options.paired_clusters.empty();
    add_model(options.config, loaded, options.clusters,
              paired ? WeightKernel::kDense : options.weight_kernel);
    const std::string source = options.weights.empty() ? "random weights" : options.weights;
    for (const int64_t clusters : options.paired_clusters) {
      add_model(options.config, cluster_at_load(options.config, loaded.weights, source, clusters),
                clusters, options.weight_kernel);
    }
  }

  void add_model(const VitConfig& config, const RunWeights& weights, int64_t clusters,
                 WeightKernel kernel) {
    models.push_back(
        std::make_unique<VitModel>(config, weights.weights, device.torch_device(), kernel));
    variants.push_back({clusters, kernel, weights.clustered_sha256, models.back()->weight_bytes()});
  }

  const ComputeDevice& device;
  RuntimeInfo runtime;
  bool block_mode;
  uint64_t seed;
  std::vector<MethodSpec> methods;
  std::vector<std::unique_ptr<VitModel>> models;  // one per variant
  std::vector<WeightVariant> variants;
  std::map<int64_t, at::Tensor> inputs;
};

EngineSampler::EngineSampler(const EngineSamplerOptions& options, const ComputeDevice& device)
    : impl_(std::make_unique<Impl>(options, device)) {}

const std::vector<WeightVariant>& EngineSampler::variants() const { return impl_->variants; }

EngineSampler::~EngineSampler() = default;

std::chrono::duration<double, std::milli> EngineSampler::time_forward(int64_t batch, int64_t tokens,
                                                                      int method,
                                                                      std::size_t variant) {
  Impl& s = *impl_;
  const at::Tensor& input = s.inputs.at(batch);
  const VitModel& model = *s.models.at(variant);
  // Nothing queued before the clock starts, everything done before it stops.
  s.device.synchronize();
  const auto before = Clock::now();
  if (s.block_mode) {
    model.forward_block(model.config().depth / 2, input.narrow(1, 0, tokens));
  } else if (method >= 0) {
    model.forward(input, s.methods.at(static_cast<std::size_t>(method)), {s.seed});
  } else {
    MethodSpec keep;
    keep.kind = MethodKind::kRandom;
    keep.keep_tokens = tokens;
    model.forward(input, keep, {s.seed + static_cast<uint64_t>(tokens)});
  }
  s.device.synchronize();
  return Clock::now() - before;
}

std::vector<HdpCounts> EngineSampler::hdp_per_block(int64_t batch, int method,
                                                    std::size_t variant) {
  Impl& s = *impl_;
  const MethodSpec& spec = s.methods.at(static_cast<std::size_t>(method));
  if (!spec.hdp) return {};
  ForwardTrace trace;
  s.models.at(variant)->forward(s.inputs.at(batch), spec, {s.seed}, &trace);
  return trace.hdp_per_block;
}

nlohmann::json EngineSampler::device_json(const HostFacts& host) const {
  nlohmann::json device = impl_->device.describe(impl_->runtime, host);
  if (impl_->device.is_cuda()) device["gpu_after"] = impl_->device.gpu_now();
  return device;
}

}  // namespace tailsweep::agent
