#pragma once
// An architecture as the numbers a surrogate sees (docs/design_space.md):
// per layer slot its hidden size, heads, operation (one-hot), feed-forward
// depth and widths, zeros for slots past its last layer; then its layer
// count, sequence length, and the logarithms of its parameters and FLOPs.
// Our choice: ProTran embeds architectures with FlexiBERT 2.0's graph
// embedding, whose code we do not reuse; trees split on these directly.
#include <cstddef>
#include <string>
#include <vector>

#include "common/design/architecture.h"

namespace tailsweep::surrogate {

inline constexpr std::size_t kFeaturesPerLayer = 10;
inline constexpr std::size_t kGlobalFeatures = 4;

std::size_t feature_count(std::size_t layer_slots);
std::vector<std::string> feature_names(std::size_t layer_slots);
// InputError when the architecture has more layers than slots.
std::vector<float> architecture_features(const design::Architecture& architecture,
                                         std::size_t layer_slots);

}  // namespace tailsweep::surrogate
