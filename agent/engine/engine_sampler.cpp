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
        model(options.config, load(options), compute_device.torch_device(),
              options.weight_kernel),
        block_mode(options.block_mode),
        seed(options.seed),
        methods(options.methods) {
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

  VitWeights load(const EngineSamplerOptions& options) {
    RunWeights loaded = run_weights(options.config, options.weights, options.seed, options.clusters);
    clustered_sha256 = std::move(loaded.clustered_sha256);
    return std::move(loaded.weights);
  }

  const ComputeDevice& device;
  RuntimeInfo runtime;
  std::string clustered_sha256;  // set by load(), before model is built
  VitModel model;
  bool block_mode;
  uint64_t seed;
  std::vector<MethodSpec> methods;
  std::map<int64_t, at::Tensor> inputs;
};

EngineSampler::EngineSampler(const EngineSamplerOptions& options, const ComputeDevice& device)
    : impl_(std::make_unique<Impl>(options, device)) {}

const std::string& EngineSampler::clustered_sha256() const { return impl_->clustered_sha256; }

EngineSampler::~EngineSampler() = default;

std::chrono::duration<double, std::milli> EngineSampler::time_forward(int64_t batch, int64_t tokens,
                                                                      int method) {
  Impl& s = *impl_;
  const at::Tensor& input = s.inputs.at(batch);
  // Nothing queued before the clock starts, everything done before it stops.
  s.device.synchronize();
  const auto before = Clock::now();
  if (s.block_mode) {
    s.model.forward_block(s.model.config().depth / 2, input.narrow(1, 0, tokens));
  } else if (method >= 0) {
    s.model.forward(input, s.methods.at(static_cast<std::size_t>(method)), {s.seed});
  } else {
    MethodSpec keep;
    keep.kind = MethodKind::kRandom;
    keep.keep_tokens = tokens;
    s.model.forward(input, keep, {s.seed + static_cast<uint64_t>(tokens)});
  }
  s.device.synchronize();
  return Clock::now() - before;
}

nlohmann::json EngineSampler::device_json(const HostFacts& host) const {
  nlohmann::json device = impl_->device.describe(impl_->runtime, host);
  if (impl_->device.is_cuda()) device["gpu_after"] = impl_->device.gpu_now();
  return device;
}

}  // namespace tailsweep::agent
