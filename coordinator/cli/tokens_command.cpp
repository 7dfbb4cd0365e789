// tailsweep tokens: the tokens each block sees under a method, and the work.
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "common/model/method_spec.h"
#include "common/model/model_config.h"
#include "common/model/token_schedule.h"
#include "common/util/cli_main.h"
#include "coordinator/cli/commands.h"

namespace tailsweep::cli {
namespace {

struct TokensOptions {
  std::string model;
  std::string method = "none";
  int64_t batch = 1;
  bool json = false;
};

void run_tokens(const TokensOptions& options) {
  const VitConfig config = parse_model_spec(options.model);
  const MethodSpec method = parse_method_spec(options.method);
  validate_for_model(method, config);
  const TokenSchedule schedule = token_schedule(method, config);
  const TokenSchedule baseline = token_schedule(MethodSpec{}, config);
  const double flops = config.forward_flops(options.batch, schedule.tokens_into_block);
  const double baseline_flops = config.forward_flops(options.batch, baseline.tokens_into_block);

  if (options.json) {
    fmt::print("{}\n", nlohmann::json{{"model", config.name},
                                      {"method", to_string(method)},
                                      {"batch", options.batch},
                                      {"tokens_in", schedule.tokens_in},
                                      {"tokens_into_block", schedule.tokens_into_block},
                                      {"tokens_after_block", schedule.tokens_after_block},
                                      {"gflops", flops / 1e9},
                                      {"gflops_baseline", baseline_flops / 1e9}}
                           .dump());
    return;
  }
  fmt::print("{} with {} (batch {}): {} tokens in\n", config.name, to_string(method), options.batch,
             schedule.tokens_in);
  fmt::print("{:>5}  {:>9}  {:>10}\n", "block", "tokens in", "tokens out");
  for (std::size_t i = 0; i < schedule.tokens_into_block.size(); ++i) {
    fmt::print("{:>5}  {:>9}  {:>10}\n", i, schedule.tokens_into_block[i],
               schedule.tokens_after_block[i]);
  }
  fmt::print("{:.3f} GFLOP per forward pass ({:.1f}% of the unpruned {:.3f})\n", flops / 1e9,
             100.0 * flops / baseline_flops, baseline_flops / 1e9);
}

}  // namespace

void register_tokens_command(CLI::App& app) {
  auto options = std::make_shared<TokensOptions>();
  CLI::App* command = app.add_subcommand(
      "tokens", "Print the tokens each block sees under a token-reduction method, and the FLOPs");
  command->footer("Example:\n  tailsweep tokens --model deit-small --method tome:13 --batch 4");
  command->add_option("--model", options->model, kModelSpecHelp)->required();
  command->add_option("--method", options->method, kMethodSpecHelp)->capture_default_str();
  command->add_option("--batch", options->batch, "batch size for the FLOP count")
      ->capture_default_str()
      ->check(tailsweep::cli::kPositive);
  command->add_flag("--json", options->json, "print one JSON object instead of a table");
  command->callback([options] { run_tokens(*options); });
}

}  // namespace tailsweep::cli
