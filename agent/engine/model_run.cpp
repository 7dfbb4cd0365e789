#include "agent/engine/model_run.h"

#include <fmt/format.h>

namespace tailsweep::agent {

std::string ModelRunOptions::weights_label() const {
  return weights.empty() ? fmt::format("random(seed={})", seed) : weights;
}

}  // namespace tailsweep::agent
