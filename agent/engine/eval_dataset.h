#pragma once
// Labelled images for `tailsweep-agent eval`, loaded a batch at a time (an
// ImageNet validation set does not fit in memory as floats).
// Agent-internal header (ATen types).
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "common/model/model_config.h"

namespace tailsweep::agent {

class EvalDataset {
 public:
  virtual ~EvalDataset() = default;
  // "fashion-mnist", or "imagenet-folder:PATH".
  virtual std::string name() const = 0;
  virtual std::string split() const = 0;
  virtual int classes() const = 0;
  // One label per image, 0 <= label < classes().
  virtual const std::vector<int32_t>& labels() const = 0;
  // The model's input for these images: (indices.size(), C, H, W) float.
  // Throws InputError naming a file that cannot be decoded.
  virtual at::Tensor load(std::span<const std::size_t> indices) const = 0;
};

// Opens a dataset for a model, checking that its images and classes fit the
// model (InputError otherwise). split is "train" or "test" for Fashion-MNIST;
// an image folder is its own split.
std::unique_ptr<EvalDataset> open_eval_dataset(const std::string& spec, const std::string& split,
                                               const VitConfig& config);

}  // namespace tailsweep::agent
