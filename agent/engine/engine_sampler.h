#pragma once
// The engine as a latency sampler: one model on one compute device, with a
// fixed input per batch size, timing one forward pass at a time. What
// agent/measure's profiling needs of LibTorch, behind a header without it.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "agent/device/device_facts.h"
#include "agent/engine/model_run.h"
#include "common/model/hdp_counts.h"
#include "common/model/method_spec.h"
#include "common/model/model_config.h"

namespace tailsweep::agent {

class ComputeDevice;

struct EngineSamplerOptions {
  VitConfig config;
  std::string weights;              // empty: random weights from seed
  uint64_t seed = 0;                // random weights, the inputs, and random:N's tokens
  int threads = 0;                  // 0: one per hardware thread
  std::vector<int64_t> batches;     // one input is drawn per batch size
  bool block_mode = false;          // time one block on token embeddings instead of the model
  std::vector<MethodSpec> methods;  // what a method index below refers to
  WeightKernel weight_kernel = WeightKernel::kDense;
  int64_t clusters = 0;  // clustered at load (vit_weights.h run_weights)
  // Paired clustering (docs/cluster.md): beside the weights as loaded (dense,
  // run on the dense kernel), one more model per K, those same weights
  // clustered to K at load and run on weight_kernel. Needs clusters == 0.
  std::vector<int64_t> paired_clusters;
};

// One model the sampler holds: variant 0 is the weights as loaded, variant
// i >= 1 those clustered to paired_clusters[i - 1].
struct WeightVariant {
  int64_t clusters = 0;  // 0: not clustered at load (options.clusters for variant 0)
  WeightKernel kernel = WeightKernel::kDense;
  std::string clustered_sha256;  // of the codebooks clustered at load; empty without
  int64_t weight_bytes = 0;      // read per forward pass (VitModel::weight_bytes)
};

class EngineSampler {
 public:
  // Builds the model on the device and draws the inputs (on the CPU, so a
  // seed gives the same inputs on every device). InputError for weights
  // that do not fit the config.
  EngineSampler(const EngineSamplerOptions& options, const ComputeDevice& device);
  ~EngineSampler();
  EngineSampler(const EngineSampler&) = delete;
  EngineSampler& operator=(const EngineSampler&) = delete;

  // One timed forward pass, synchronised with the device before the clock
  // starts and before it stops. method < 0: the curve's random:tokens (the
  // token subset drawn inside the call, as in POMT's protocol); otherwise
  // the index of a method, on the full input. In block mode, one block on
  // `tokens` tokens.
  // `variant` picks the model (WeightVariant).
  std::chrono::duration<double, std::milli> time_forward(int64_t batch, int64_t tokens, int method,
                                                         std::size_t variant = 0);

  const std::vector<WeightVariant>& variants() const;

  // What Hybrid Dynamic Pruning does in one untimed pass of this method
  // (per block; empty when the method has no hdp).
  std::vector<HdpCounts> hdp_per_block(int64_t batch, int method, std::size_t variant = 0);

  // The results' `device` object, with the GPU's facts after the run.
  nlohmann::json device_json(const HostFacts& host) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tailsweep::agent
