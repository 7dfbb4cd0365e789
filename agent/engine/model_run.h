#pragma once
// What every job that runs a model needs to know, for the CLI commands and
// for jobs an agent receives from the coordinator. Plain types only.
#include <cstdint>
#include <string>

namespace tailsweep::agent {

// How the Linear layers use clustered weights (docs/cluster.md): kDense
// decodes them to float32 at load and runs the dense GEMM (same speed as
// the dense model, smaller file); kLookup reads each weight's uint8 index
// and the codebook inside the product (agent/engine/codebook_gemm.h), CPU
// only. kLookup needs a clustered weights file.
enum class WeightKernel { kDense, kLookup };
WeightKernel parse_weight_kernel(const std::string& name);  // InputError otherwise
const char* weight_kernel_name(WeightKernel kernel);

struct ModelRunOptions {
  std::string model;
  std::string weights;  // empty: random weights from seed
  int threads = 0;      // 0: one per hardware thread
  uint64_t seed = 0;
  WeightKernel weight_kernel = WeightKernel::kDense;
  // 0: the weights as given; 2..256: clustered to that many shared values per
  // matrix at load (vit_weights.h run_weights, docs/cluster.md).
  int64_t clusters = 0;

  // "random(seed=S)" or the weights path, for reports.
  std::string weights_label() const;
};

}  // namespace tailsweep::agent
