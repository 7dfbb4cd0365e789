#include "coordinator/surrogate/architecture_features.h"

#include <cmath>

#include <fmt/format.h>

#include "common/util/errors.h"

namespace tailsweep::surrogate {

std::size_t feature_count(std::size_t layer_slots) {
  return layer_slots * kFeaturesPerLayer + kGlobalFeatures;
}

std::vector<std::string> feature_names(std::size_t layer_slots) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < layer_slots; ++i) {
    for (const char* name : {"hidden", "heads", "sa_sdp", "sa_wma", "l_dft", "l_dct", "ff_layers",
                             "ff_width1", "ff_width2", "ff_width3"}) {
      names.push_back(fmt::format("layer{}_{}", i, name));
    }
  }
  for (const char* name : {"layers", "sequence_length", "log10_parameters", "log10_flops"}) {
    names.emplace_back(name);
  }
  return names;
}

std::vector<float> architecture_features(const design::Architecture& architecture,
                                         std::size_t layer_slots) {
  if (architecture.layers.size() > layer_slots) {
    throw InputError(fmt::format("an architecture of {} layers does not fit {} feature slots",
                                 architecture.layers.size(), layer_slots));
  }
  std::vector<float> features(feature_count(layer_slots), 0.0f);
  for (std::size_t i = 0; i < architecture.layers.size(); ++i) {
    const design::EncoderLayer& layer = architecture.layers[i];
    float* slot = features.data() + i * kFeaturesPerLayer;
    slot[0] = static_cast<float>(layer.hidden);
    slot[1] = static_cast<float>(layer.heads);
    slot[2 + static_cast<std::size_t>(layer.operation)] = 1.0f;
    slot[6] = static_cast<float>(layer.feed_forward.size());
    for (std::size_t j = 0; j < layer.feed_forward.size() && j < 3; ++j) {
      slot[7 + j] = static_cast<float>(layer.feed_forward[j]);
    }
  }
  float* global = features.data() + layer_slots * kFeaturesPerLayer;
  global[0] = static_cast<float>(architecture.layers.size());
  global[1] = static_cast<float>(architecture.sequence_length);
  global[2] = static_cast<float>(std::log10(architecture.parameter_count()));
  global[3] = static_cast<float>(std::log10(architecture.forward_flops(1)));
  return features;
}

}  // namespace tailsweep::surrogate
