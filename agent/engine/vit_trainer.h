#pragma once
// Training a ViT from scratch with LibTorch's autograd, for `tailsweep-agent
// train`. The inference engine (vit_model.h) has no backward pass; this file
// runs timm's block with differentiable ATen ops over the very tensors of a
// VitWeights, so what it trains is what the engine loads (timm names, LayerNorm
// eps 1e-6, exact GELU, CLS pooling).
// Agent-internal header (ATen types).
#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include <ATen/core/Tensor.h>

#include "agent/engine/training_run.h"  // TrainSettings
#include "agent/engine/vit_weights.h"
#include "common/model/model_config.h"

namespace tailsweep::agent {

// A training set in memory: normalised images (N, C, H, W) and labels (N).
struct TrainingData {
  at::Tensor images;
  at::Tensor labels;  // int64
};

struct EpochReport {
  int epoch = 0;  // 1-based
  double train_loss = 0;
  double train_top1 = 0;
  double test_top1 = 0;  // NaN when no test set was given
  double lr_end = 0;
  std::chrono::duration<double> elapsed{};  // since training started
};

// Initial weights as timm initialises a ViT: truncated-normal(0.02) matrices,
// zero biases, LayerNorm (1, 0), pos_embed normal(0.02), CLS normal(1e-6),
// the patch convolution as PyTorch's default (uniform +-1/sqrt(fan_in)).
VitWeights initial_training_weights(const VitConfig& config, uint64_t seed);

// Trains in place. `on_step(step, steps_total)` is called after every
// optimiser step (for progress); `on_epoch` after each epoch. Deterministic
// for a seed and a thread count.
void train_vit(const VitConfig& config, VitWeights& weights, const TrainingData& train,
               const TrainingData* test, const TrainSettings& settings,
               const std::function<void(int64_t, int64_t)>& on_step,
               const std::function<void(const EpochReport&)>& on_epoch);

// Top-1 of the autograd forward pass (no token reduction), in batches.
double training_model_top1(const VitConfig& config, const VitWeights& weights,
                           const TrainingData& data, int64_t batch);

}  // namespace tailsweep::agent
