#include "agent/engine/image_data.h"

#include <numeric>
#include <vector>

#include <ATen/ATen.h>

namespace tailsweep::agent {

at::Tensor normalised_grey_images(const datasets::ImageSet& set,
                                  std::span<const std::size_t> indices) {
  const int64_t pixels = set.height * set.width;
  at::Tensor images =
      at::empty({static_cast<int64_t>(indices.size()), 1, set.height, set.width}, at::kFloat);
  float* out = images.data_ptr<float>();
  constexpr double kScale = 1.0 / (255.0 * kFashionMnistStd);
  constexpr double kShift = kFashionMnistMean / kFashionMnistStd;
  for (std::size_t i = 0; i < indices.size(); ++i) {
    const uint8_t* in = set.pixels.data() + static_cast<int64_t>(indices[i]) * pixels;
    for (int64_t p = 0; p < pixels; ++p) {
      out[static_cast<int64_t>(i) * pixels + p] = static_cast<float>(in[p] * kScale - kShift);
    }
  }
  return images;
}

TrainingData training_data(const datasets::ImageSet& set) {
  std::vector<std::size_t> all(static_cast<std::size_t>(set.count));
  std::iota(all.begin(), all.end(), std::size_t{0});
  TrainingData data;
  data.images = normalised_grey_images(set, all);
  data.labels = at::empty({set.count}, at::kLong);
  int64_t* labels = data.labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < set.count; ++i) labels[i] = set.labels[static_cast<std::size_t>(i)];
  return data;
}

}  // namespace tailsweep::agent
