// tailsweep-agent eval: top-1/top-5 of a model under a method on a dataset,
// with that configuration's latency; or, with --tokens, the accuracy curve
// A(n) that POMT's schedule needs.
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "agent/cli/commands.h"
#include "agent/engine/accuracy_session.h"
#include "agent/measure/evaluation.h"
#include "analysis/profile_plan.h"
#include "common/model/model_config.h"
#include "common/model/method_spec.h"
#include "common/util/cli_main.h"
#include "common/util/errors.h"
#include "common/util/progress.h"

namespace tailsweep::agent {
namespace {

struct EvalOptions {
  EvalRequest request;
  std::string tokens;  // --tokens' text, parsed into the request once
  std::string out;
};

void run_eval(EvalOptions options) {
  if (!options.tokens.empty()) {
    options.request.tokens = parse_token_grid(
        options.tokens, parse_model_spec(options.request.run.model).total_tokens());
  }
  const EvalRequest& request = options.request;
  // Refuse an unwritable --out before spending minutes on the evaluation.
  std::ofstream out_file;
  if (!options.out.empty()) {
    out_file.open(options.out, std::ios::trunc);
    if (!out_file) throw InputError(fmt::format("cannot write {}", options.out));
  }
  ProgressLine progress;
  const nlohmann::json result = run_evaluation(request, [&](std::size_t done, std::size_t total) {
    progress.update(done, total, "images");
  });
  const std::string text = result.dump();
  if (options.out.empty()) {
    fmt::print("{}\n", text);
  } else {
    out_file << text << "\n";
    if (!out_file.flush()) throw InputError(fmt::format("cannot write {}", options.out));
    fmt::print(stderr, "tailsweep-agent: wrote the {} result to {}\n",
               result.at("kind").get<std::string>(), options.out);
  }
  if (result.contains("top1")) {
    fmt::print(stderr,
               "eval: {} {} on {} images of {}: top-1 {:.4f}, top-5 {:.4f}, {:.3f} ms "
               "per batch of {}; {:.0f} images/s\n",
               result["model"].get<std::string>(), result["method"].get<std::string>(),
               result["images"].get<int64_t>(), result["dataset"].get<std::string>(),
               result["top1"].get<double>(), result["top5"].get<double>(),
               result["latency"]["median_ms"].get<double>(),
               result["latency"]["batch"].get<int64_t>(), result["images_per_s"].get<double>());
  } else {
    fmt::print(stderr,
               "eval: accuracy curve of {} at {} token counts on {} images; {:.0f} "
               "images/s\n",
               result["model"].get<std::string>(), result["points"].size(),
               result["images"].get<int64_t>(), result["images_per_s"].get<double>());
  }
}

}  // namespace

void register_eval_command(CLI::App& app) {
  auto options = std::make_shared<EvalOptions>();
  CLI::App* command = app.add_subcommand(
      "eval",
      "Top-1 and top-5 of a model under a token-reduction method on a labelled dataset, with "
      "the latency of that configuration at that batch size; with --tokens, the accuracy "
      "curve A(n) (random:n at every n). JSON out (docs/eval.md).");
  command->footer(
      "Example:\n  tailsweep-agent eval --model fmnist-vit --weights W.safetensors --dataset "
      "fashion-mnist --method pomt:58 --limit 1000 --out eval.json");
  add_model_run_options(command, options->request.run,
                        "seed for the --limit subset, random:N draws and random weights");
  add_clusters_option(command, options->request.run);
  EvalRequest& r = options->request;
  command
      ->add_option("--device", r.device,
                   "cpu or cuda[:N]: where the model runs and is timed (never simulated)")
      ->capture_default_str();
  command->add_option("--dataset", r.dataset, kDatasetSpecHelp)->capture_default_str();
  command->add_option("--split", r.split, "train | test (Fashion-MNIST)")->capture_default_str();
  command
      ->add_option("--limit", r.limit,
                   "evaluate a class-stratified subset of this many images (0 = all)")
      ->capture_default_str()
      ->check(tailsweep::cli::kNonNegative);
  command->add_option("--method", r.method, kMethodSpecHelp)->capture_default_str();
  command->add_option("--tokens", options->tokens,
                      "accuracy-curve mode: token counts with CLS, 2:197[:STEP] or 2,50,100");
  command->add_option("--batch", r.batch, "images per forward pass")
      ->capture_default_str()
      ->check(tailsweep::cli::kPositive);
  command
      ->add_option("--latency-precision", r.latency_precision,
                   "relative half-width of the latency median's 95% CI")
      ->capture_default_str()
      ->check(CLI::Range(0.0001, 0.5));
  command
      ->add_option("--latency-time-cap", r.latency_time_cap_s,
                   "seconds the latency measurement may take")
      ->capture_default_str()
      ->check(tailsweep::cli::kPositive);
  command->add_option("--out", options->out, "write the JSON here (default: stdout)");
  command->callback([options] { run_eval(*options); });
}

}  // namespace tailsweep::agent
