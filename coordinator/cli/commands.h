#pragma once
#include <cstdio>

#include <CLI/CLI.hpp>

#include "coordinator/store/migrations.h"

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

// What `db migrate` and `serve` say of the steps migration 010 found for the
// profiles stored before it (the count on `out`, unreadable bodies on stderr).
void print_step_backfill(const store::StepBackfill& backfill, std::FILE* out);

}  // namespace tailsweep::cli
