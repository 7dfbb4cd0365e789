// tailsweep-agent: runs vision transformers on this device for tailsweep.
#include <CLI/CLI.hpp>

#include "agent/cli/commands.h"
#include "agent/engine/runtime.h"
#include "common/util/cli_main.h"

int main(int argc, char** argv) {
  CLI::App app{"tailsweep-agent: measures vision transformers on this device", "tailsweep-agent"};
  app.footer(
      "Example:\n"
      "  tailsweep-agent profile --model fmnist-vit --tokens 2:197:5 --batch 1,4 --out curve.json\n"
      "  tailsweep-agent run --coordinator http://127.0.0.1:8470 --enroll-token-file enroll.token");
  app.require_subcommand(1);
  tailsweep::agent::register_infer_command(app);
  tailsweep::agent::register_profile_command(app);
  tailsweep::agent::register_train_command(app);
  tailsweep::agent::register_eval_command(app);
  tailsweep::agent::register_run_command(app);
  tailsweep::agent::register_cluster_command(app);
  return tailsweep::run_cli(app, argc, argv, "tailsweep-agent", tailsweep::agent::error_message);
}
