#pragma once
// `tailsweep-agent infer`: one forward pass of a batch read from a
// safetensors file, its logits written to another. No LibTorch here.
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "agent/engine/model_run.h"

namespace tailsweep::agent {

struct InferRequest {
  ModelRunOptions run;
  std::string method = "none";
  std::string input;  // safetensors file holding the float tensor "input" (B x C x H x W)
  std::string out;    // safetensors file to write "logits" (B x classes) to
};

// Runs it and returns the summary: what ran, the tokens per block, the time.
nlohmann::json run_inference(const InferRequest& request);

}  // namespace tailsweep::agent
