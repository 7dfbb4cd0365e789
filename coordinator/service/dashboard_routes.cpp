// The dashboard's routes: its page and assets (no token: they hold none), the
// sweep list, and a sweep's report tables, rendered by the same code as
// `tailsweep report` so that both show the same numbers (docs/dashboard.md).
#include <algorithm>
#include <iterator>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/util/errors.h"
#include "common/util/parse.h"
#include "coordinator/report/report_data.h"
#include "coordinator/report/report_formats.h"
#include "coordinator/report/report_json.h"
#include "coordinator/report/report_tables.h"
#include "coordinator/service/coordinator_service.h"
#include "coordinator/service/dashboard.h"
#include "coordinator/service/route_helpers.h"

namespace tailsweep::coordinator {
namespace {

using http::ApiError;
using nlohmann::json;

constexpr int64_t kDefaultSweepsListed = 100;
constexpr int64_t kMaxSweepsListed = 1000;

http::Response asset_response(const DashboardAsset& asset, bool is_page) {
  http::Response response;
  response.body = std::string(asset.body);
  response.content_type = std::string(asset.content_type);
  response.headers = dashboard_headers(is_page);
  return response;
}

http::Response text_response(std::string body, std::string content_type,
                             const std::string& file_name) {
  http::Response response;
  response.body = std::move(body);
  response.content_type = std::move(content_type);
  response.headers = {
      {"Content-Disposition", fmt::format("attachment; filename=\"{}\"", file_name)},
      {"Cache-Control", "no-store"}};
  return response;
}

}  // namespace

const DashboardAsset* find_dashboard_asset(std::string_view name) {
  for (const DashboardAsset& asset : dashboard_assets()) {
    if (asset.name == name) return &asset;
  }
  return nullptr;
}

std::vector<std::pair<std::string, std::string>> dashboard_headers(bool is_page) {
  return {{"Content-Security-Policy",
           "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
           "img-src 'self' blob: data:; form-action 'self'; base-uri 'none'; "
           "frame-ancestors 'none'"},
          {"X-Content-Type-Options", "nosniff"},
          {"Referrer-Policy", "no-referrer"},
          {"X-Frame-Options", "DENY"},
          {"Cache-Control", is_page ? "no-cache" : "public, max-age=31536000, immutable"}};
}

http::Response CoordinatorService::dashboard_page(const http::Request&) {
  return asset_response(*find_dashboard_asset("index.html"), true);
}

http::Response CoordinatorService::dashboard_asset(const http::Request& request) {
  const std::string& name = request.path_params.at("name");
  const DashboardAsset* asset = name == "index.html" ? nullptr : find_dashboard_asset(name);
  if (asset == nullptr) {
    throw ApiError(ErrorCode::kNotFound, fmt::format("no dashboard asset '{}'", name));
  }
  return asset_response(*asset, false);
}

http::Response CoordinatorService::sweeps(const http::Request& request) {
  require_admin(request);
  int64_t limit = kDefaultSweepsListed;
  if (const auto found = request.query.find("limit"); found != request.query.end()) {
    const auto value = parse_integer(found->second);
    if (!value || *value < 1 || *value > kMaxSweepsListed) {
      throw ApiError(ErrorCode::kBadRequest, fmt::format("limit: '{}' is not a number from 1 to {}",
                                                         found->second, kMaxSweepsListed));
    }
    limit = *value;
  }
  json list = json::array();
  for (const store::SweepSummary& sweep : stores_.local().sweeps(limit)) {
    list.push_back(
        {{"sweep_id", sweep.id},
         {"name", sweep.name},
         {"state", sweep.state},
         {"created_at_s", sweep.created_at_s},
         {"finished_at_s", sweep.finished_at_s ? json(*sweep.finished_at_s) : json(nullptr)},
         {"jobs", state_counts(sweep.jobs)}});
  }
  return http::json_response(200, {{"sweeps", list}});
}

void CoordinatorService::sweep_report(http::Request request, http::Responder responder) {
  require_admin(request);
  path_id(request, "id");  // a bad id answers at once
  // The report reads every row of the sweep: on the SQL threads, with their
  // queue limit, so that it never holds a worker that agents need.
  on_sql_threads(std::move(request), responder, &CoordinatorService::build_sweep_report);
}

http::Response CoordinatorService::build_sweep_report(const http::Request& request) {
  const int64_t sweep_id = path_id(request, "id");
  const auto query = [&](const char* key, const char* fallback) {
    const auto found = request.query.find(key);
    return found == request.query.end() ? std::string(fallback) : found->second;
  };
  const std::string format = query("format", "json");
  report::ReportData data;
  try {
    data = report::load_report_data(options_.db_path, sweep_id);
  } catch (const InputError& error) {
    throw ApiError(ErrorCode::kNotFound, error.what());
  }
  const std::vector<report::Table> tables = report::report_tables(data);
  std::vector<report::Table> shown;
  std::copy_if(tables.begin(), tables.end(), std::back_inserter(shown),
               [](const report::Table& table) { return !table.rows.empty(); });
  if (format == "json") {
    json out = {{"sweep_id", sweep_id},
                {"provenance", report::provenance_lines(data.provenance)},
                {"missing", data.missing},
                {"tables", json::array()}};
    for (const report::Table& table : tables) {
      out["tables"].push_back({{"file_stem", table.file_stem},
                               {"title", table.title},
                               {"columns", table.columns},
                               {"rows", table.rows}});
    }
    return http::json_response(200, out);
  }
  if (format == "csv") {
    const std::string stem = query("table", "");
    for (const report::Table& table : tables) {
      if (table.file_stem == stem) {
        return text_response(report::render_csv(table), "text/csv; charset=utf-8", stem + ".csv");
      }
    }
    throw ApiError(
        ErrorCode::kNotFound,
        fmt::format("sweep {} has no table '{}' (format=json lists them)", sweep_id, stem));
  }
  if (format == "markdown") {
    return text_response(report::render_markdown(data.provenance, shown, data.missing),
                         "text/markdown; charset=utf-8", "tables.md");
  }
  if (format == "latex") {
    return text_response(report::render_latex(data.provenance, shown, data.missing),
                         "application/x-tex; charset=utf-8", "tables.tex");
  }
  if (format == "report-json") {
    return text_response(report::report_json(data).dump(2) + "\n", "application/json",
                         "report.json");
  }
  throw ApiError(
      ErrorCode::kBadRequest,
      fmt::format("format '{}': expected json, csv, markdown, latex or report-json", format));
}

}  // namespace tailsweep::coordinator
