#include "coordinator/store/query_format.h"

#include <algorithm>

#include <fmt/core.h>

#include "common/util/errors.h"
#include "common/util/text.h"

namespace tailsweep::store {
namespace {

// Doubles print in their shortest form that reads back to the same value.
std::string cell_text(const nlohmann::json& value, std::string_view null_text) {
  if (value.is_null()) return std::string(null_text);
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_float()) return fmt::format("{}", value.get<double>());
  return value.dump();
}

// Display width in code points: UTF-8 continuation bytes take no column.
std::size_t display_width(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  }));
}

// A table cell stays on one line, and a stored name cannot send escape
// sequences to the terminal: control characters are written as \xNN.
std::string one_line(std::string_view text) { return printable(text); }

void append_padded(std::string& line, const std::string& text, std::size_t width,
                   bool right_align) {
  const std::string padding(width - std::min(width, display_width(text)), ' ');
  line += right_align ? padding + text : text + padding;
}

}  // namespace

std::string truncation_note(const QueryResult& result) {
  if (result.truncated_by == "max_bytes") return "truncated at the byte limit";
  return "truncated at the row limit";
}

QueryFormat parse_query_format(std::string_view text) {
  if (text == "table") return QueryFormat::table;
  if (text == "csv") return QueryFormat::csv;
  if (text == "json") return QueryFormat::json;
  throw InputError(fmt::format("format '{}' is not one of table, csv, json", text));
}

std::string render_table(const QueryResult& result) {
  const std::size_t columns = result.columns.size();
  std::vector<std::size_t> widths(columns);
  std::vector<bool> numeric(columns, true);
  std::vector<std::vector<std::string>> cells;
  for (std::size_t c = 0; c < columns; ++c) widths[c] = display_width(result.columns[c]);
  for (const auto& row : result.rows) {
    std::vector<std::string> texts;
    for (std::size_t c = 0; c < columns; ++c) {
      texts.push_back(one_line(cell_text(row[c], "NULL")));
      widths[c] = std::max(widths[c], display_width(texts.back()));
      if (!row[c].is_null() && !row[c].is_number()) numeric[c] = false;
    }
    cells.push_back(std::move(texts));
  }
  std::string out;
  const auto append_line = [&](const std::vector<std::string>& texts) {
    std::string line;
    for (std::size_t c = 0; c < columns; ++c) {
      if (c > 0) line += "  ";
      append_padded(line, texts[c], widths[c], numeric[c]);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  };
  if (columns > 0) {
    append_line(result.columns);
    std::vector<std::string> rules;
    for (const std::size_t width : widths) rules.emplace_back(width, '-');
    append_line(rules);
    for (const auto& texts : cells) append_line(texts);
  }
  out += fmt::format("({} row{}{})\n", result.rows.size(), result.rows.size() == 1 ? "" : "s",
                     result.truncated ? ", " + truncation_note(result) : "");
  return out;
}

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

std::string render_csv(const QueryResult& result) {
  std::string out;
  const auto append_record = [&](const auto& values, auto to_text) {
    for (std::size_t c = 0; c < values.size(); ++c) {
      if (c > 0) out += ',';
      out += csv_field(to_text(values[c]));
    }
    out += "\r\n";
  };
  append_record(result.columns, [](const std::string& name) { return name; });
  for (const auto& row : result.rows) {
    append_record(row, [](const nlohmann::json& value) { return cell_text(value, ""); });
  }
  return out;
}

std::string render_json(const QueryResult& result) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& row : result.rows) rows.push_back(row);
  return nlohmann::json{
             {"columns", result.columns},
             {"rows", rows},
             {"truncated", result.truncated},
             {"truncated_by", result.truncated_by.empty() ? nlohmann::json(nullptr)
                                                          : nlohmann::json(result.truncated_by)}}
             // Text that is not UTF-8 is replaced, not an exception.
             .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
         "\n";
}

std::string render(const QueryResult& result, QueryFormat format) {
  switch (format) {
    case QueryFormat::table:
      return render_table(result);
    case QueryFormat::csv:
      return render_csv(result);
    case QueryFormat::json:
      return render_json(result);
  }
  return render_json(result);
}

}  // namespace tailsweep::store
