#pragma once
// Renderers for a QueryResult: an aligned text table for people, CSV
// (RFC 4180) for spreadsheets and scripts, JSON as the canonical form.
#include <string>
#include <string_view>

#include "coordinator/store/read_only_query.h"

namespace tailsweep::store {

enum class QueryFormat { table, csv, json };

// "table", "csv" or "json"; InputError otherwise.
QueryFormat parse_query_format(std::string_view text);

// Columns padded to their widest cell, numeric columns (header included)
// right-aligned, NULL spelled out, and a last line counting the rows (and
// saying if they were cut).
std::string render_table(const QueryResult& result);

// A header line, then one line per row, CRLF-terminated. A field with a
// comma, a double quote, CR or LF is quoted, its quotes doubled; NULL is an
// empty field. Truncation is not marked in the data: callers say it aside.
std::string render_csv(const QueryResult& result);

// {"columns": [...], "rows": [[...], ...], "truncated": bool,
//  "truncated_by": "max_rows" | "max_bytes" | null}
std::string render_json(const QueryResult& result);

std::string render(const QueryResult& result, QueryFormat format);

// "truncated at the row limit" or "... byte limit", for a truncated result.
std::string truncation_note(const QueryResult& result);

// One CSV field, quoted when RFC 4180 requires it.
std::string csv_field(std::string_view text);

}  // namespace tailsweep::store
