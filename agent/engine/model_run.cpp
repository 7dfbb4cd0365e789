#include "agent/engine/model_run.h"

#include <fmt/format.h>

#include "common/util/errors.h"

namespace tailsweep::agent {

WeightKernel parse_weight_kernel(const std::string& name) {
  if (name == "dense") return WeightKernel::kDense;
  if (name == "lookup") return WeightKernel::kLookup;
  throw InputError("unknown weight kernel '" + name + "' (dense or lookup)");
}

const char* weight_kernel_name(WeightKernel kernel) {
  return kernel == WeightKernel::kDense ? "dense" : "lookup";
}

std::string ModelRunOptions::weights_label() const {
  return weights.empty() ? fmt::format("random(seed={})", seed) : weights;
}

}  // namespace tailsweep::agent
