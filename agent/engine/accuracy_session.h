#pragma once
// The engine as an accuracy counter: one model on one compute device over
// one labelled dataset, counting top-1/top-5 hits for batches of images
// under token-reduction methods, and timing the forward pass of one batch.
// What agent/measure's evaluation needs of LibTorch, behind a header
// without it.
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "agent/engine/model_run.h"
#include "common/model/hdp_counts.h"
#include "common/model/method_spec.h"
#include "common/model/model_config.h"

namespace tailsweep::agent {

class ComputeDevice;

// The --dataset grammar, for help texts.
inline constexpr const char* kDatasetSpecHelp =
    "fashion-mnist (Debian's dataset-fashion-mnist) | fashion-mnist:DIR | "
    "imagenet-folder:PATH (one sub-folder per class, JPEG/PNG; class = sorted folder order)";

struct AccuracyTally {
  int64_t top1 = 0;
  int64_t top5 = 0;
  int64_t images = 0;
  std::vector<bool> top1_correct;        // per image, in the order counted
  std::vector<HdpCounts> hdp_per_block;  // empty unless the method has hdp
};

class AccuracySession {
 public:
  // Opens the dataset (InputError when it or its classes do not fit the
  // model) and builds the model on the device.
  // run: the weights, their seed and clustering (threads are set apart).
  AccuracySession(const VitConfig& config, const ModelRunOptions& run,
                  const ComputeDevice& device, const std::string& dataset,
                  const std::string& split);
  ~AccuracySession();
  AccuracySession(const AccuracySession&) = delete;
  AccuracySession& operator=(const AccuracySession&) = delete;

  std::string dataset_name() const;  // "fashion-mnist", "imagenet-folder:PATH"
  // The weights clustered at load: their SHA-256 (empty without --clusters)
  // and the tensor bytes before and after.
  const std::string& clustered_sha256() const;
  std::pair<std::size_t, std::size_t> tensor_bytes() const;
  std::string split() const;
  int classes() const;
  const std::vector<int32_t>& labels() const;

  // Decodes these images once and runs each method on them (random draws
  // from `seed`), adding the hits to tallies[m]. InputError naming an image
  // that cannot be decoded.
  void count(std::span<const std::size_t> images, const std::vector<MethodSpec>& methods,
             uint64_t seed, std::vector<AccuracyTally>& tallies);

  // Keeps these images on the device for time_forward.
  void stage_for_timing(std::span<const std::size_t> images);
  // One forward pass of the staged images, synchronised with the device
  // before the clock starts and before it stops.
  std::chrono::duration<double, std::milli> time_forward(const MethodSpec& method, uint64_t seed);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tailsweep::agent
