// tailsweep-agent infer: logits for a batch of images under a method spec.
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "agent/cli/commands.h"
#include "agent/engine/inference_run.h"
#include "common/model/method_spec.h"

namespace tailsweep::agent {
namespace {

void run_infer(const InferRequest& request) {
  // One JSON line on stdout: what ran, for scripts; the logits are in --out.
  fmt::print("{}\n", run_inference(request).dump());
}

}  // namespace

void register_infer_command(CLI::App& app) {
  auto options = std::make_shared<InferRequest>();
  CLI::App* command = app.add_subcommand(
      "infer",
      "Run one forward pass: reads the float tensor 'input' (B x C x H x W) from a safetensors "
      "file and writes the tensor 'logits' (B x classes).");
  command->footer(
      "Example:\n  tailsweep-agent infer --model deit-tiny --method topk:8 --input "
      "images.safetensors --out logits.safetensors");
  add_model_run_options(command, options->run, "seed for random weights and random:N");
  add_weight_kernel_option(command, options->run);
  add_clusters_option(command, options->run);
  command->add_option("--method", options->method, kMethodSpecHelp)->capture_default_str();
  command->add_option("--input", options->input, "safetensors file holding 'input'")
      ->required()
      ->check(CLI::ExistingFile);
  command->add_option("--out", options->out, "safetensors file to write 'logits' to")->required();
  command->callback([options] { run_infer(*options); });
}

}  // namespace tailsweep::agent
