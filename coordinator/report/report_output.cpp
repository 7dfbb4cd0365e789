#include "coordinator/report/report_output.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <system_error>

#include <fmt/core.h>

#include "common/util/errors.h"
#include "coordinator/report/report_formats.h"
#include "coordinator/report/report_json.h"
#include "coordinator/report/report_plots.h"
#include "coordinator/report/report_tables.h"

namespace tailsweep::report {
namespace {

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw InputError(fmt::format("cannot write '{}'", path.string()));
}

}  // namespace

std::vector<std::string> write_report(const ReportData& data,
                                      const std::filesystem::path& out_dir) {
  std::error_code error;
  std::filesystem::create_directories(out_dir, error);
  if (error || !std::filesystem::is_directory(out_dir)) {
    throw InputError(fmt::format("cannot create the output folder '{}': {}", out_dir.string(),
                                 error ? error.message() : "not a folder"));
  }
  std::vector<std::string> written;
  auto write = [&](const std::string& name, const std::string& text) {
    write_file(out_dir / name, text);
    written.push_back(name);
  };
  const std::vector<Table> tables = report_tables(data);
  // The documents show the tables that have rows (what a sweep lacks of what
  // it planned is said in data.missing); every CSV is written, for scripts.
  std::vector<Table> shown;
  std::copy_if(tables.begin(), tables.end(), std::back_inserter(shown),
               [](const Table& table) { return !table.rows.empty(); });
  // Markdown first: an unwritable folder fails before anything else is done.
  write("tables.md", render_markdown(data.provenance, shown, data.missing));
  write("tables.tex", render_latex(data.provenance, shown, data.missing));
  write("report.json", report_json(data).dump(2) + "\n");
  for (const Table& table : tables) write(table.file_stem + ".csv", render_csv(table));
  for (const NamedPlot& plot : report_plots(data)) write(plot.file_name, render_svg(plot.plot));
  return written;
}

}  // namespace tailsweep::report
