#include "agent/engine/inference_run.h"

#include <chrono>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "agent/engine/runtime.h"
#include "agent/engine/tensor_io.h"
#include "agent/engine/vit_model.h"
#include "agent/engine/vit_weights.h"
#include "common/model/method_spec.h"
#include "common/model/model_config.h"
#include "common/wire/result_document.h"

namespace tailsweep::agent {

nlohmann::json run_inference(const InferRequest& request) {
  const VitConfig config = parse_model_spec(request.run.model);
  const MethodSpec method = parse_method_spec(request.method);
  validate_for_model(method, config);
  const RuntimeInfo runtime = configure_runtime(request.run.threads);
  const RunWeights weights =
      run_weights(config, request.run.weights, request.run.seed, request.run.clusters);
  const VitModel model(config, weights.weights, at::kCPU, request.run.weight_kernel);
  const at::Tensor images = read_named_tensor(request.input, "input");

  ForwardTrace trace;
  const auto start = std::chrono::steady_clock::now();
  const at::Tensor logits = model.forward(images, method, {request.run.seed}, &trace);
  const std::chrono::duration<double, std::milli> elapsed =
      std::chrono::steady_clock::now() - start;
  write_named_tensor(request.out, "logits", logits);
  return {
      {"model", config.name},
      {"weights", request.run.weights_label()},
      {"weight_kernel", weight_kernel_name(request.run.weight_kernel)},
      {"clusters", request.run.clusters > 0 ? nlohmann::json(request.run.clusters) : nullptr},
      {"clustered_weights_sha256", weights.clustered_sha256.empty()
                                       ? nlohmann::json(nullptr)
                                       : nlohmann::json(weights.clustered_sha256)},
      {"method", to_string(method)},
      {"batch", images.size(0)},
      {"tokens_in", trace.tokens_in},
      {"tokens_after_block", trace.tokens_after_block},
      {"hdp", method.hdp ? protocol::to_json(protocol::hdp_body_of(trace.hdp_per_block))
                         : nlohmann::json(nullptr)},
      {"elapsed_ms", elapsed.count()},
      {"runtime", runtime},
      {"out", request.out},
  };
}

}  // namespace tailsweep::agent
