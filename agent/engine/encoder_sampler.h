#pragma once
// The engine as a latency sampler for one design-space architecture
// (agent/engine/encoder_model.h): the model with seeded random weights on a
// compute device, a fixed input per batch size, one timed forward pass at a
// time. What agent/measure needs of LibTorch for it, behind a plain header.
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "agent/device/device_facts.h"
#include "common/design/architecture.h"

namespace tailsweep::agent {

class ComputeDevice;

class EncoderSampler {
 public:
  // Builds the model on the device (weights and inputs from `seed`; inputs
  // drawn on the CPU, so a seed gives the same inputs on every device).
  // threads 0: one per hardware thread. InputError for an invalid architecture.
  EncoderSampler(const design::Architecture& architecture, uint64_t seed, int threads,
                 const std::vector<int64_t>& batches, const ComputeDevice& device);
  ~EncoderSampler();
  EncoderSampler(const EncoderSampler&) = delete;
  EncoderSampler& operator=(const EncoderSampler&) = delete;

  // One forward pass of this batch, synchronised with the device before the
  // clock starts and before it stops.
  std::chrono::duration<double, std::milli> time_forward(int64_t batch);
  // Elements of the model's weights (equals the architecture's count).
  int64_t parameter_count() const;
  // The results' `device` object, with the GPU's facts after the run.
  nlohmann::json device_json(const HostFacts& host) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tailsweep::agent
