#include <fmt/format.h>

#include "agent/cli/commands.h"
#include "common/util/cli_main.h"

namespace tailsweep::agent {

void add_model_run_options(CLI::App* command, ModelRunOptions& options,
                           const std::string& seed_help) {
  command->add_option("--model", options.model, kModelSpecHelp)->required();
  command
      ->add_option("--weights", options.weights,
                   "timm-named model.safetensors (default: random weights from --seed)")
      ->check(CLI::ExistingFile);
  command->add_option("--threads", options.threads, "compute threads (0 = one per core)")
      ->capture_default_str()
      ->check(tailsweep::cli::kNonNegative);
  command->add_option("--seed", options.seed, seed_help)->capture_default_str();
}

}  // namespace tailsweep::agent
