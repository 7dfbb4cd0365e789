#pragma once
#include <CLI/CLI.hpp>

namespace tailsweep::cli {

void register_tokens_command(CLI::App& app);
void register_db_command(CLI::App& app);
void register_sql_command(CLI::App& app);

}  // namespace tailsweep::cli
