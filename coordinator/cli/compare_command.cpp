// tailsweep compare: two sweeps side by side, relative to the first, with
// which differences lie beyond their confidence intervals (docs/report.md).
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <fmt/core.h>

#include "common/util/cli_main.h"
#include "common/util/errors.h"
#include "coordinator/cli/commands.h"
#include "coordinator/report/compare_tables.h"
#include "coordinator/report/report_data.h"
#include "coordinator/report/report_formats.h"

namespace tailsweep::cli {
namespace {

struct CompareOptions {
  std::string database_path;
  std::string database_b_path;  // empty: the same database
  int64_t sweep_a = 0;
  int64_t sweep_b = 0;
  std::string csv_dir;
};

void run_compare(const CompareOptions& options) {
  const report::ReportData a = report::load_report_data(options.database_path, options.sweep_a);
  const report::ReportData b = report::load_report_data(
      options.database_b_path.empty() ? options.database_path : options.database_b_path,
      options.sweep_b);
  const std::vector<report::Table> tables = report::compare_tables(a, b);
  std::string text = fmt::format("# tailsweep compare: B = sweep {} against A = sweep {}\n\n",
                                 options.sweep_b, options.sweep_a);
  for (const auto& [label, data] : {std::pair{"A", &a}, std::pair{"B", &b}}) {
    for (const std::string& line : report::provenance_lines(data->provenance)) {
      text += fmt::format("- {}: {}\n", label, report::escape_markdown(line));
    }
  }
  text += "\n";
  if (tables.empty()) {
    text +=
        "> Nothing was measured in both sweeps: no curve, method latency or evaluation "
        "with the same device, model, batch and method.\n";
  }
  fmt::print("{}{}", text, report::markdown_tables(tables));
  if (options.csv_dir.empty()) return;
  std::filesystem::create_directories(options.csv_dir);
  for (const report::Table& table : tables) {
    const auto path = std::filesystem::path(options.csv_dir) / (table.file_stem + ".csv");
    std::ofstream(path, std::ios::binary) << report::render_csv(table);
  }
  fmt::print(stderr, "tailsweep: wrote {} CSV file(s) to {}\n", tables.size(), options.csv_dir);
}

}  // namespace

void register_compare_command(CLI::App& app) {
  auto options = std::make_shared<CompareOptions>();
  CLI::App* command = app.add_subcommand(
      "compare",
      "Two sweeps side by side: B relative to A, and which differences lie beyond their 95% "
      "CIs (e.g. a rerun on the same machine)");
  command->footer(
      "Example:\n  tailsweep compare --db results.db 3 4\n"
      "  tailsweep compare --db before.db --db-b after.db 1 1 --csv compare/");
  command->add_option("--db", options->database_path, "the SQLite database file (sweep A's)")
      ->required()
      ->check(CLI::ExistingFile);
  command->add_option("--db-b", options->database_b_path, "sweep B's database, when another")
      ->check(CLI::ExistingFile);
  command->add_option("a", options->sweep_a, "sweep A's id (the reference)")
      ->required()
      ->check(cli::kId);
  command->add_option("b", options->sweep_b, "sweep B's id")->required()->check(cli::kId);
  command->add_option("--csv", options->csv_dir, "also write each table as CSV into this folder");
  command->callback([options] { run_compare(*options); });
}

}  // namespace tailsweep::cli
