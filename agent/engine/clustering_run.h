#pragma once
// `tailsweep-agent cluster`: a model's weights clustered to k shared values
// per tensor, written as a clustered safetensors file
// (agent/data/clustered_weights.h). No LibTorch here.
#include <cstddef>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "agent/engine/model_run.h"

namespace tailsweep::agent {

struct ClusterRequest {
  ModelRunOptions run;  // the dense weights: a file, or random from the seed
  std::size_t clusters = 64;
  std::string init = "linear";  // linear | quantile
  bool all_tensors = false;
  std::string out;
};

// Clusters and writes; returns the report (per tensor: clusters used,
// iterations, error; bytes before and after; the time taken). InputError
// when the weights are already clustered or do not fit the model.
nlohmann::json run_clustering(const ClusterRequest& request);

}  // namespace tailsweep::agent
