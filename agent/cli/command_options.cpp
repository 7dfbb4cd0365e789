#include <map>

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

void add_clusters_option(CLI::App* command, ModelRunOptions& options) {
  command
      ->add_option("--clusters", options.clusters,
                   "cluster the weights to K shared values per matrix at load, as `cluster "
                   "--clusters K` would write them (2..256; 0: as given)")
      ->capture_default_str()
      ->check(CLI::Range(0, 256) & !CLI::IsMember({1}));
}

void add_weight_kernel_option(CLI::App* command, ModelRunOptions& options) {
  command
      ->add_option("--weight-kernel", options.weight_kernel,
                   "dense: run float32 matrices (a clustered file is decoded at load); lookup: the "
                   "blocks' Linear layers read a clustered file's uint8 indices and codebook "
                   "inside the product, on the CPU (docs/cluster.md)")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, WeightKernel>{{"dense", WeightKernel::kDense},
                                              {"lookup", WeightKernel::kLookup}}))
      ->default_str("dense");
}

}  // namespace tailsweep::agent
