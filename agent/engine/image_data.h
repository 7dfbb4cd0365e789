#pragma once
// Images as the models see them: Fashion-MNIST normalised with its own mean
// and standard deviation, 1 x 28 x 28. Agent-internal header (ATen types).
#include <span>

#include <ATen/core/Tensor.h>

#include "agent/data/idx.h"
#include "agent/engine/vit_trainer.h"

namespace tailsweep::agent {

// Fashion-MNIST's training-set pixel statistics (of x / 255), the usual
// normalisation for models trained on it; train and eval both use these.
inline constexpr double kFashionMnistMean = 0.2860;
inline constexpr double kFashionMnistStd = 0.3530;

// (indices.size(), 1, H, W) float, (x / 255 - mean) / std.
at::Tensor normalised_grey_images(const datasets::ImageSet& set,
                                  std::span<const std::size_t> indices);

// Every image and label of the set.
TrainingData training_data(const datasets::ImageSet& set);

}  // namespace tailsweep::agent
