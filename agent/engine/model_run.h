#pragma once
// What every job that runs a model needs to know, for the CLI commands and
// for jobs an agent receives from the coordinator. Plain types only.
#include <cstdint>
#include <string>

namespace tailsweep::agent {

struct ModelRunOptions {
  std::string model;
  std::string weights;  // empty: random weights from seed
  int threads = 0;      // 0: one per hardware thread
  uint64_t seed = 0;

  // "random(seed=S)" or the weights path, for reports.
  std::string weights_label() const;
};

}  // namespace tailsweep::agent
