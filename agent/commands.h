#pragma once
// Each agent command registers its CLI11 subcommand here; main wires them up.
#include <CLI/CLI.hpp>

namespace tailsweep::agent {

void register_infer_command(CLI::App& app);
void register_profile_command(CLI::App& app);

}  // namespace tailsweep::agent
