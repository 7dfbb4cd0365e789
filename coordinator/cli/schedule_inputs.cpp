#include "coordinator/cli/schedule_inputs.h"

#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <span>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/util/errors.h"
#include "common/util/parse.h"
#include "common/wire/result_document.h"
#include "common/wire/strict_json.h"
#include "coordinator/report/report_tables.h"
#include "coordinator/store/curve_reads.h"
#include "coordinator/store/migrations.h"
#include "coordinator/store/sqlite.h"

namespace tailsweep::cli {
namespace {

// The report's latency-*.csv header (docs/report.md) over its first
// `columns` columns: 4 in reports from before it carried the paired curve.
std::string report_latency_header(std::size_t columns) {
  return fmt::format("{}", fmt::join(std::span(report::kLatencyCurveColumns).first(columns), ","));
}

std::string read_text(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw InputError(fmt::format("cannot read {}", path));
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

bool is_json(const std::string& path, const std::string& text) {
  if (path.ends_with(".json")) return true;
  const auto first = text.find_first_not_of(" \t\r\n");
  return first != std::string::npos && text[first] == '{';
}

// A CSV whose header is one of `headers` (each a list of column names):
// rows of numbers (an empty cell is nullopt), by column name.
struct CsvTable {
  std::vector<std::string> columns;
  std::vector<std::map<std::string, std::optional<double>>> rows;
  std::vector<int> line_numbers;
};

CsvTable read_csv(const std::string& path, const std::string& text,
                  const std::vector<std::string>& headers) {
  CsvTable table;
  int number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    std::string line =
        text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    start = end == std::string::npos ? text.size() : end + 1;
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (number == 1) {
      if (std::find(headers.begin(), headers.end(), line) == headers.end()) {
        throw InputError(fmt::format("{}: the header is '{}'; expected one of: {}", path, line,
                                     fmt::join(headers, " | ")));
      }
      for (const std::string_view column : split(line, ',')) table.columns.emplace_back(column);
      continue;
    }
    if (line.empty()) continue;
    const auto fields = split(line, ',');
    if (fields.size() != table.columns.size()) {
      throw InputError(fmt::format("{}:{}: {} cells, the header has {}", path, number,
                                   fields.size(), table.columns.size()));
    }
    std::map<std::string, std::optional<double>> row;
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (fields[i].empty()) {
        row[table.columns[i]] = std::nullopt;
        continue;
      }
      const auto value = parse_double(fields[i]);
      if (!value) {
        throw InputError(fmt::format("{}:{}: {} '{}' is not a number", path, number,
                                     table.columns[i], fields[i]));
      }
      row[table.columns[i]] = *value;
    }
    table.rows.push_back(std::move(row));
    table.line_numbers.push_back(number);
  }
  if (table.columns.empty()) throw InputError(fmt::format("{}: empty file", path));
  if (table.rows.empty()) throw InputError(fmt::format("{}: no data rows", path));
  return table;
}

double required(const CsvTable& table, std::size_t row, const std::string& column,
                const std::string& path) {
  const auto& value = table.rows[row].at(column);
  if (!value) {
    throw InputError(fmt::format("{}:{}: {} is empty", path, table.line_numbers[row], column));
  }
  return *value;
}

int64_t tokens_of(const CsvTable& table, std::size_t row, const std::string& path) {
  const double tokens = required(table, row, "tokens", path);
  // Range first: casting 1e300 or NaN to an integer is undefined.
  if (!(tokens >= 1 && tokens <= 1e9) ||
      tokens != static_cast<double>(static_cast<int64_t>(tokens))) {
    throw InputError(fmt::format("{}:{}: tokens {} is not a positive whole number", path,
                                 table.line_numbers[row], tokens));
  }
  return static_cast<int64_t>(tokens);
}

LatencyInput latency_from_profile(const std::string& path, const nlohmann::json& document,
                                  std::optional<int64_t> batch) {
  const protocol::ProfileBody body = protocol::parse_profile_body(document);
  if (body.methods) {
    throw InputError(fmt::format(
        "{}: a document of whole methods (profile --methods) has no curve; give a profile", path));
  }
  if (body.mode != "model") {
    throw InputError(fmt::format("{}: mode '{}' times one block, not L(n); POMT needs --mode model",
                                 path, body.mode));
  }
  std::set<int64_t> batches;
  for (const protocol::ProfilePoint& point : body.points) batches.insert(point.batch);
  if (!batch) {
    if (batches.size() > 1) {
      throw InputError(fmt::format("{}: the profile has batches {}; choose one with --batch", path,
                                   fmt::join(batches, ", ")));
    }
    batch = *batches.begin();
  } else if (!batches.contains(*batch)) {
    throw InputError(fmt::format("{}: no batch {} in the profile (it has {})", path, *batch,
                                 fmt::join(batches, ", ")));
  }
  // Paired with its reference where measured in rounds, as the coordinator
  // reads the same curve from the database.
  LatencyInput input;
  input.points = store::paired_latency_curve(body, *batch);
  if (body.shape) input.model_tokens = body.shape->tokens;
  input.source = fmt::format("{} (profile of {}, batch {})", path, body.model, *batch);
  return input;
}

}  // namespace

LatencyInput read_latency_file(const std::string& path, std::optional<int64_t> batch) {
  const std::string text = read_text(path);
  if (is_json(path, text)) {
    return latency_from_profile(path, parse_strict_json(text, path), batch);
  }
  if (batch) {
    throw InputError(
        fmt::format("{}: --batch chooses a batch of a profile JSON (or, with --db, "
                    "of the database); a CSV holds one curve",
                    path));
  }
  const CsvTable table = read_csv(path, text,
                                  {"tokens,latency_ms", report_latency_header(4),
                                   report_latency_header(report::kLatencyCurveColumns.size())});
  const bool report = table.columns.size() > 2;
  const bool paired = table.columns.size() == report::kLatencyCurveColumns.size();
  // The report's CSV from before it carried the paired curve holds only the
  // measured medians; the coordinator's schedule (and --db, and a profile
  // JSON here) use the paired curve, which cancels drift between rounds.
  LatencyInput input;
  input.source = fmt::format("{} ({})", path,
                             paired   ? "the report's CSV: the paired curve"
                             : report ? "the report's CSV: measured medians, not the paired curve "
                                        "the coordinator's schedule uses"
                                      : "CSV");
  const std::string prefix = paired ? "paired" : "median";
  for (std::size_t row = 0; row < table.rows.size(); ++row) {
    const double median = required(table, row, report ? prefix + "_ms" : "latency_ms", path);
    schedule::LatencyPoint point{tokens_of(table, row, path), median, median, median};
    if (report) {
      point.ci_low_ms = table.rows[row].at(prefix + "_ci95_low_ms").value_or(median);
      point.ci_high_ms = table.rows[row].at(prefix + "_ci95_high_ms").value_or(median);
    }
    input.points.push_back(point);
  }
  return input;
}

AccuracyInput read_accuracy_file(const std::string& path) {
  const std::string text = read_text(path);
  AccuracyInput input;
  if (is_json(path, text)) {
    const protocol::AccuracyCurveBody body =
        protocol::parse_accuracy_curve_body(parse_strict_json(text, path));
    for (const protocol::AccuracyPoint& point : body.points) {
      input.points.push_back({point.tokens, point.top1});
    }
    input.source = fmt::format("{} (accuracy curve of {} on {}/{})", path, body.model, body.dataset,
                               body.split);
    return input;
  }
  const CsvTable table = read_csv(path, text, {"tokens,top1", "tokens,top1,top5,images"});
  input.source =
      fmt::format("{} ({})", path, table.columns.size() == 4 ? "the report's CSV" : "CSV");
  for (std::size_t row = 0; row < table.rows.size(); ++row) {
    input.points.push_back({tokens_of(table, row, path), required(table, row, "top1", path)});
  }
  return input;
}

DatabaseInputs read_database_curves(const std::string& database_path, const std::string& device,
                                    const std::string& model, int64_t batch,
                                    std::optional<int64_t> sweep_id) {
  store::Database db(database_path, store::OpenOptions{.read_only = true});
  store::require_tailsweep_database(db);
  const store::CurveJobs jobs = store::find_curve_jobs(db, {device, model, batch, sweep_id});
  DatabaseInputs inputs;
  inputs.latency.points = store::paired_latency_curve(db, jobs.profile_job, batch);
  inputs.latency.model_tokens = jobs.model_tokens;
  inputs.latency.source = fmt::format("{}: profile job {} ({} on {}, batch {})", database_path,
                                      jobs.profile_job, model, device, batch);
  inputs.accuracy.points = store::accuracy_curve(db, jobs.accuracy_job);
  inputs.accuracy.source =
      fmt::format("{}: accuracy_curve job {} ({})", database_path, jobs.accuracy_job, model);
  return inputs;
}

}  // namespace tailsweep::cli
