#include "coordinator/report/report_formats.h"

#include <cstdlib>

#include <fmt/core.h>

#include "common/util/text.h"
#include "coordinator/store/query_format.h"

namespace tailsweep::report {
namespace {

std::string join(const std::vector<std::string>& items, std::string_view separator,
                 std::string_view when_empty) {
  if (items.empty()) return std::string(when_empty);
  std::string text;
  for (const std::string& item : items) {
    if (!text.empty()) text += separator;
    text += item;
  }
  return text;
}

// Numbers are right-aligned in LaTeX: a column is numeric when every
// non-empty cell is a number.
bool is_numeric_column(const Grid& grid, std::size_t column) {
  bool any = false;
  for (const auto& row : grid.rows) {
    const std::string& cell = row[column];
    if (cell.empty()) continue;
    char* end = nullptr;
    std::strtod(cell.c_str(), &end);
    if (end != cell.c_str() + cell.size()) return false;
    any = true;
  }
  return any;
}

}  // namespace

std::vector<std::string> provenance_lines(const Provenance& p) {
  std::vector<std::string> devices;
  for (const DeviceRef& device : p.devices) devices.push_back(device_label(device));
  return {
      fmt::format("sweep: {} '{}', state {}", p.sweep_id, p.sweep_name, p.sweep_state),
      fmt::format("created: {}; finished: {}", format_utc(p.created_at_s),
                  p.finished_at_s ? format_utc(*p.finished_at_s) : "not yet"),
      fmt::format("devices: {}", join(devices, ", ", "none")),
      fmt::format("agent git SHAs: {}", join(p.git_shas, ", ", "none recorded")),
      fmt::format("agent versions: {}", join(p.agent_versions, ", ", "none recorded")),
      fmt::format("generated: {} by tailsweep {}", p.generated_at_utc, p.tailsweep_git_sha),
  };
}

std::string escape_markdown(std::string_view text) {
  std::string escaped;
  for (const char c : text) {
    if (c == '|' || c == '\\' || c == '*' || c == '_' || c == '`' || c == '<' || c == '[' ||
        c == ']') {
      escaped += '\\';
    }
    escaped += (c == '\n' || c == '\r') ? ' ' : c;
  }
  return escaped;
}

std::string escape_latex(std::string_view text) {
  std::string escaped;
  for (const char c : text) {
    switch (c) {
      case '\\':
        escaped += "\\textbackslash{}";
        break;
      case '~':
        escaped += "\\textasciitilde{}";
        break;
      case '^':
        escaped += "\\textasciicircum{}";
        break;
      case '&':
      case '%':
      case '$':
      case '#':
      case '_':
      case '{':
      case '}':
        escaped += '\\';
        escaped += c;
        break;
      case '<':
        escaped += "\\textless{}";
        break;
      case '>':
        escaped += "\\textgreater{}";
        break;
      case '\n':
      case '\r':
        escaped += ' ';
        break;
      default:
        escaped += c;
    }
  }
  // The one non-ASCII sign the tables write: LaTeX without inputenc's
  // utf8 (pdflatex before 2018) would choke on it.
  for (std::size_t at = escaped.find("\u00b1"); at != std::string::npos;
       at = escaped.find("\u00b1", at)) {
    escaped.replace(at, 2, "$\\pm$");
  }
  return escaped;
}

std::string render_markdown(const Provenance& provenance, const std::vector<Table>& tables,
                            const std::vector<std::string>& missing) {
  std::string text = fmt::format("# tailsweep report: sweep {} ({})\n\n", provenance.sweep_id,
                                 escape_markdown(provenance.sweep_name));
  for (const std::string& line : provenance_lines(provenance)) {
    text.append("- ").append(escape_markdown(line)).append("\n");
  }
  text += "\n";
  for (const std::string& line : missing)
    text.append("> ").append(escape_markdown(line)).append("\n\n");
  return text + markdown_tables(tables);
}

std::string markdown_tables(const std::vector<Table>& tables) {
  std::string text;
  for (const Table& table : tables) {
    text.append("## ").append(escape_markdown(table.title)).append("\n\n");
    if (table.rows.empty()) {
      text += "(no rows)\n\n";
      continue;
    }
    auto add_row = [&text](const std::vector<std::string>& cells) {
      text += "|";
      for (const std::string& cell : cells)
        text.append(" ").append(escape_markdown(cell)).append(" |");
      text += "\n";
    };
    add_row(table.columns);
    text += "|";
    const Grid shown{table.columns, table.rows};
    for (std::size_t i = 0; i < table.columns.size(); ++i) {
      text += is_numeric_column(shown, i) ? "---:|" : "---|";
    }
    text += "\n";
    for (const auto& row : table.rows) add_row(row);
    text += "\n";
  }
  return text;
}

std::string render_csv(const Table& table) {
  auto line = [](const std::vector<std::string>& cells) {
    std::string text;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (i > 0) text += ',';
      text += store::csv_field(cells[i]);
    }
    return text + "\r\n";
  };
  const Grid grid = table.csv.value_or(Grid{table.columns, table.rows});
  std::string text = line(grid.columns);
  for (const auto& row : grid.rows) text += line(row);
  return text;
}

std::string render_latex(const Provenance& provenance, const std::vector<Table>& tables,
                         const std::vector<std::string>& missing) {
  // Requires \usepackage{booktabs}. A comment needs no escaping, only no
  // line break: one in a sweep or device name would end the comment and
  // make the rest of the name live LaTeX. printable() writes it as \x0a.
  std::string text = "% tailsweep report (needs \\usepackage{booktabs})\n";
  for (const std::string& line : provenance_lines(provenance))
    text.append("% ").append(printable(line)).append("\n");
  text += "\n";
  for (const std::string& line : missing) {
    text.append("\\noindent\\emph{").append(escape_latex(line)).append("}\\par\n");
  }
  for (const Table& table : tables) {
    // A narrow grid is a paper's comparison table: both columns of a
    // two-column paper (table* is plain table in a one-column one).
    const std::string environment = table.latex ? "table*" : "table";
    text.append("\n% ")
        .append(printable(table.file_stem))
        .append("\n\\begin{")
        .append(environment)
        .append("}[ht]\n\\centering\n");
    text.append("\\caption{").append(escape_latex(table.title)).append("}\n");
    const Grid grid = table.latex.value_or(Grid{table.columns, table.rows});
    std::string alignment;
    for (std::size_t i = 0; i < grid.columns.size(); ++i) {
      alignment += is_numeric_column(grid, i) ? 'r' : 'l';
    }
    // A narrow grid is meant to fit: small type and tight columns.
    if (table.latex) text += "\\small\\setlength{\\tabcolsep}{4pt}\n";
    text.append("\\begin{tabular}{").append(alignment).append("}\n\\toprule\n");
    auto add_row = [&text](const std::vector<std::string>& cells) {
      for (std::size_t i = 0; i < cells.size(); ++i) {
        if (i > 0) text += " & ";
        text += escape_latex(cells[i]);
      }
      text += " \\\\\n";
    };
    add_row(grid.columns);
    text += "\\midrule\n";
    for (const auto& row : grid.rows) add_row(row);
    text += "\\bottomrule\n\\end{tabular}\n";
    // Our own LaTeX, not a user's text: written as it is.
    if (!table.latex_note.empty()) {
      text.append("\\par\\footnotesize ").append(table.latex_note).append("\n");
    }
    text.append("\\end{").append(environment).append("}\n");
  }
  return text;
}

}  // namespace tailsweep::report
