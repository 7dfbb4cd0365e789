#pragma once
#include <CLI/CLI.hpp>

namespace tailsweep::cli {

void register_tokens_command(CLI::App& app);
void register_db_command(CLI::App& app);
void register_sql_command(CLI::App& app);
void register_serve_command(CLI::App& app);
void register_schedule_command(CLI::App& app);
void register_sweep_commands(CLI::App& app);  // sweep create|status|wait|cancel, devices
void register_report_command(CLI::App& app);
void register_compare_command(CLI::App& app);
void register_design_commands(CLI::App& app);  // design sample|check

}  // namespace tailsweep::cli
