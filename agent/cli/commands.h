#pragma once
// Each agent command registers its CLI11 subcommand here; main wires them up.
#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

#include "agent/engine/model_run.h"
#include "common/model/model_config.h"

namespace tailsweep::agent {

void register_infer_command(CLI::App& app);
void register_profile_command(CLI::App& app);
void register_train_command(CLI::App& app);
void register_eval_command(CLI::App& app);
void register_run_command(CLI::App& app);
void register_cluster_command(CLI::App& app);

// --model (required), --weights, --threads, --seed; seed_help says what else
// the seed decides in that command.
void add_model_run_options(CLI::App* command, ModelRunOptions& options,
                           const std::string& seed_help);
// --weight-kernel dense|lookup, for the commands that time a model.
void add_weight_kernel_option(CLI::App* command, ModelRunOptions& options);
// --clusters K: the weights clustered at load, for the commands that run one.
void add_clusters_option(CLI::App* command, ModelRunOptions& options);

}  // namespace tailsweep::agent
