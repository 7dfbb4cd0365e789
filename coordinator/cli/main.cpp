// tailsweep: the coordinator and the user's command line.
#include <CLI/CLI.hpp>

#include "common/util/cli_main.h"
#include "coordinator/cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"tailsweep: fleet benchmarks of token-pruned vision transformers", "tailsweep"};
  app.require_subcommand(1);
  app.footer(
      "Example (README.md, \"Running a fleet by hand\"):\n"
      "  tailsweep serve --db results.db --listen 127.0.0.1:8470 --enroll-token-file enroll.token "
      "--admin-token-file admin.token &\n"
      "  tailsweep sweep create examples/sweeps/smoke.json --coordinator http://127.0.0.1:8470 "
      "--admin-token-file admin.token");
  tailsweep::cli::register_tokens_command(app);
  tailsweep::cli::register_db_command(app);
  tailsweep::cli::register_serve_command(app);
  tailsweep::cli::register_schedule_command(app);
  tailsweep::cli::register_sweep_commands(app);
  tailsweep::cli::register_sql_command(app);
  tailsweep::cli::register_report_command(app);
  tailsweep::cli::register_compare_command(app);
  tailsweep::cli::register_design_commands(app);
  return tailsweep::run_cli(app, argc, argv, "tailsweep");
}
