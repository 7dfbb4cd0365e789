#pragma once
// `tailsweep-agent train`: a ViT trained on Fashion-MNIST from a seed, written
// as timm-named safetensors with a JSON log. No LibTorch in this header.
#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/data/idx.h"

namespace tailsweep::agent {

struct TrainSettings {
  int epochs = 10;
  int64_t batch = 128;
  double peak_lr = 2e-3;  // AdamW, after a linear warm-up, then cosine to 0
  double warmup_epochs = 1.0;
  double weight_decay = 0.05;  // matrices only: not biases, norms, embeddings
  double label_smoothing = 0.1;
  bool horizontal_flip = true;  // random left-right flip, half the images
  uint64_t seed = 0;
};

struct TrainRequest {
  std::string model = "fmnist-vit";
  std::string data_dir = datasets::kFashionMnistDir;
  std::string out;
  std::string log;   // default: OUT with .train.json
  std::string init;  // start from these weights instead of a fresh initialisation
  int threads = 0;
  std::size_t limit = 0;  // 0: all 60,000 training images
  TrainSettings settings;
};

// Trains, writing the log after every epoch and the weights at the end;
// progress and one line per epoch on stderr.
void run_training(const TrainRequest& request);

}  // namespace tailsweep::agent
