#pragma once
// Writes a rendered report into a folder: tables.md, tables.tex, report.json,
// one CSV per table and the SVG figures (docs/report.md lists them).
#include <filesystem>
#include <string>
#include <vector>

#include "coordinator/report/report_data.h"

namespace tailsweep::report {

// Creates out_dir when missing. InputError when it cannot be created or a
// file in it cannot be written. Returns the names of the files written.
std::vector<std::string> write_report(const ReportData& data, const std::filesystem::path& out_dir);

}  // namespace tailsweep::report
