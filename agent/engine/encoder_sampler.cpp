#include "agent/engine/encoder_sampler.h"

#include <map>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "agent/engine/compute_device.h"
#include "agent/engine/encoder_model.h"
#include "agent/engine/runtime.h"

namespace tailsweep::agent {

using Clock = std::chrono::steady_clock;

struct EncoderSampler::Impl {
  Impl(const design::Architecture& architecture, uint64_t seed, int threads,
       const std::vector<int64_t>& batches, const ComputeDevice& compute_device)
      : device(compute_device),
        // Set before anything runs on ATen's pool (building the weights does).
        runtime(configure_runtime(threads)),
        model(architecture, seed, compute_device.torch_device()) {
    for (const int64_t batch : batches) {
      // One input per batch, from its own seed so that adding a batch size
      // leaves the others' inputs as they were.
      inputs[batch] = model.example_input(batch, seed + static_cast<uint64_t>(batch));
    }
  }

  const ComputeDevice& device;
  RuntimeInfo runtime;
  EncoderModel model;
  std::map<int64_t, at::Tensor> inputs;
};

EncoderSampler::EncoderSampler(const design::Architecture& architecture, uint64_t seed, int threads,
                               const std::vector<int64_t>& batches, const ComputeDevice& device)
    : impl_(std::make_unique<Impl>(architecture, seed, threads, batches, device)) {}

EncoderSampler::~EncoderSampler() = default;

std::chrono::duration<double, std::milli> EncoderSampler::time_forward(int64_t batch) {
  Impl& s = *impl_;
  const at::Tensor& input = s.inputs.at(batch);
  // Nothing queued before the clock starts, everything done before it stops.
  s.device.synchronize();
  const auto before = Clock::now();
  s.model.forward(input);
  s.device.synchronize();
  return Clock::now() - before;
}

int64_t EncoderSampler::parameter_count() const { return impl_->model.parameter_count(); }

nlohmann::json EncoderSampler::device_json(const HostFacts& host) const {
  nlohmann::json device = impl_->device.describe(impl_->runtime, host);
  if (impl_->device.is_cuda()) device["gpu_after"] = impl_->device.gpu_now();
  return device;
}

}  // namespace tailsweep::agent
