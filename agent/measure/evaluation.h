#pragma once
// Accuracy of a model under a token-reduction method on a labelled dataset,
// with the latency of that configuration: what `tailsweep-agent eval` runs,
// and what an agent runs for an eval job. Plain types only in this header.
#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "agent/engine/model_run.h"

namespace tailsweep::agent {

struct EvalRequest {
  // Empty weights: random weights from the seed (accuracy is then chance).
  // The seed also draws the --limit subset and random:N's tokens.
  ModelRunOptions run;
  std::string device = "cpu";  // cpu or cuda[:N]: where the model runs and is timed
  std::string dataset = "fashion-mnist";
  std::string split = "test";
  int64_t limit = 0;  // 0: every image; else a class-stratified subset drawn with seed
  std::string method = "none";
  // Non-empty: the accuracy curve A(n), method random:n at every token
  // count n (with CLS), instead of one method.
  std::vector<int64_t> tokens;
  int64_t batch = 64;
  double latency_precision = 0.02;  // of the latency measurement's median
  double latency_time_cap_s = 10.0;
  // When set, the evaluation stops before its next batch or timed pass and
  // throws Interrupted (an agent whose lease was lost).
  const std::atomic<bool>* interrupt = nullptr;
};

// What run_evaluation throws when its interrupt was set.
class Interrupted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// (images done, images total) during the accuracy pass.
using EvalProgress = std::function<void(std::size_t, std::size_t)>;

// Runs the evaluation and returns the result document (docs/eval.md).
// Throws InputError on bad requests, missing datasets and unreadable images.
nlohmann::json run_evaluation(const EvalRequest& request, const EvalProgress& progress = {});

}  // namespace tailsweep::agent
