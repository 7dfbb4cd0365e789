// tailsweep report: one sweep's tables and figures from the results database,
// read-only, into a folder (docs/report.md).
#include <memory>
#include <string>

#include <fmt/core.h>

#include "common/util/cli_main.h"
#include "coordinator/cli/commands.h"
#include "coordinator/report/report_data.h"
#include "coordinator/report/report_output.h"

namespace tailsweep::cli {
namespace {

struct ReportOptions {
  std::string database_path;
  int64_t sweep_id = 0;
  std::string out_dir;
};

void run_report(const ReportOptions& options) {
  const report::ReportData data = report::load_report_data(options.database_path, options.sweep_id);
  const auto written = report::write_report(data, options.out_dir);
  for (const std::string& line : data.missing) fmt::print(stderr, "tailsweep: note: {}\n", line);
  fmt::print("wrote {} files to {}\n", written.size(), options.out_dir);
}

}  // namespace

void register_report_command(CLI::App& app) {
  auto options = std::make_shared<ReportOptions>();
  CLI::App* command = app.add_subcommand(
      "report", "Render one sweep's tables (Markdown, CSV, LaTeX, JSON) and SVG plots");
  command->footer("Example:\n  tailsweep report --db results.db --sweep 1 --out results/sweep-1");
  command->add_option("--db", options->database_path, "the SQLite database file")->required();
  command->add_option("--sweep", options->sweep_id, "the sweep's id")->required()->check(cli::kId);
  command->add_option("--out", options->out_dir, "the folder to write (created when missing)")
      ->required();
  command->callback([options] { run_report(*options); });
}

}  // namespace tailsweep::cli
