// tailsweep-agent infer: logits for a batch of images under a method spec.
#include <ATen/ATen.h>
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "agent/commands.h"
#include "agent/runtime.h"
#include "agent/tensor_io.h"
#include "agent/vit_model.h"
#include "agent/vit_weights.h"
#include "common/method_spec.h"
#include "common/model_config.h"

namespace tailsweep::agent {
namespace {

struct InferOptions {
  ModelRunOptions run;
  std::string method = "none";
  std::string input;
  std::string out;
};

void run_infer(const InferOptions& options) {
  const VitConfig config = parse_model_spec(options.run.model);
  const MethodSpec method = parse_method_spec(options.method);
  validate_for_model(method, config);
  const RuntimeInfo runtime = configure_runtime(options.run.threads);
  const VitModel model(
      config, load_or_random_weights(config, options.run.weights, options.run.seed));
  const at::Tensor images = read_named_tensor(options.input, "input");

  ForwardTrace trace;
  const auto start = std::chrono::steady_clock::now();
  const at::Tensor logits = model.forward(images, method, {options.run.seed}, &trace);
  const std::chrono::duration<double, std::milli> elapsed =
      std::chrono::steady_clock::now() - start;
  write_named_tensor(options.out, "logits", logits);

  // One JSON line on stdout: what ran, for scripts; the logits are in --out.
  const nlohmann::json summary = {
      {"model", config.name},
      {"weights", options.run.weights_label()},
      {"method", to_string(method)},
      {"batch", images.size(0)},
      {"tokens_in", trace.tokens_in},
      {"tokens_after_block", trace.tokens_after_block},
      {"elapsed_ms", elapsed.count()},
      {"runtime", runtime},
      {"out", options.out},
  };
  fmt::print("{}\n", summary.dump());
}

}  // namespace

void register_infer_command(CLI::App& app) {
  auto options = std::make_shared<InferOptions>();
  CLI::App* command = app.add_subcommand(
      "infer",
      "Run one forward pass: reads the float tensor 'input' (B x C x H x W) from a safetensors "
      "file and writes the tensor 'logits' (B x classes).");
  add_model_run_options(command, options->run, "seed for random weights and random:N");
  command->add_option("--method", options->method, kMethodSpecHelp)
      ->capture_default_str();
  command->add_option("--input", options->input, "safetensors file holding 'input'")
      ->required()
      ->check(CLI::ExistingFile);
  command->add_option("--out", options->out, "safetensors file to write 'logits' to")->required();
  command->callback([options] { run_infer(*options); });
}

}  // namespace tailsweep::agent
