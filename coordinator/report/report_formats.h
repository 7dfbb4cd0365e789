#pragma once
// The report's tables as text: Markdown (tables.md), CSV (one file per table)
// and LaTeX (tables.tex, booktabs), each opening with the provenance. Pure.
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/report/report_data.h"
#include "coordinator/report/report_tables.h"

namespace tailsweep::report {

// "sweep 3 'fmnist-pomt' (done)", the devices, SHAs... one line each.
std::vector<std::string> provenance_lines(const Provenance& provenance);

// A heading per table, the provenance on top, the missing lines under it.
std::string render_markdown(const Provenance& provenance, const std::vector<Table>& tables,
                            const std::vector<std::string>& missing);
// Each table under a "## title" heading, without the provenance.
std::string markdown_tables(const std::vector<Table>& tables);
// RFC 4180 (CRLF, quoted where needed), a header line first.
std::string render_csv(const Table& table);
// booktabs tabulars in table floats; provenance as comments so the file can be \input.
std::string render_latex(const Provenance& provenance, const std::vector<Table>& tables,
                         const std::vector<std::string>& missing);

// '|' and the characters Markdown would take as emphasis or code, escaped.
std::string escape_markdown(std::string_view text);
// \ { } $ & # ^ _ ~ % escaped for LaTeX's text mode.
std::string escape_latex(std::string_view text);

}  // namespace tailsweep::report
