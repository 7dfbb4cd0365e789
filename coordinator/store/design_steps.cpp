#include "coordinator/store/design_steps.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/util/errors.h"
#include "common/util/json_fields.h"
#include "common/wire/strict_json.h"

namespace tailsweep::store {

using nlohmann::json;

std::vector<MeasuredArchitecture> measured_architectures(Database& db, int64_t sweep_id,
                                                         int64_t device_id, int64_t batch) {
  auto rows = db.cached(
      "SELECT a.id, a.architecture, m.median_ms / m.batch, m.joules_per_input, m.peak_w, "
      "m.power_null_reason FROM architecture_measurements m "
      "JOIN architectures a ON a.id = m.architecture_id JOIN jobs j ON j.id = m.job_id "
      "WHERE j.sweep_id = ?1 AND m.device_id = ?2 AND m.batch = ?3 ORDER BY m.id");
  rows->bind(1, sweep_id).bind(2, device_id).bind(3, batch);
  std::vector<MeasuredArchitecture> out;
  while (rows->step()) {
    MeasuredArchitecture measured;
    measured.id = rows->column_text(0);
    measured.architecture = design::parse_architecture(
        parse_strict_json(rows->column_text(1), "a stored architecture"));
    measured.ms_per_input = rows->column_double(2);
    if (!rows->column_is_null(3)) measured.joules_per_input = rows->column_double(3);
    if (!rows->column_is_null(4)) measured.peak_w = rows->column_double(4);
    if (!rows->column_is_null(5)) measured.power_null_reason = rows->column_text(5);
    out.push_back(std::move(measured));
  }
  return out;
}

DesignStepBody parse_design_step_body(const json& body) {
  const JsonFields f(body, "design_step result");
  f.reject_unknown(
      {"device_id", "step", "batch", "selection", "phase", "measured", "fits", "queued", "stop"});
  DesignStepBody result;
  result.device_id = f.integer("device_id", 1);
  result.step = f.integer("step", 1);
  result.batch = f.integer("batch", 1);
  result.selection = f.text("selection");
  result.phase = f.text("phase");
  result.measured = f.integer("measured", 0);
  const json& fits = f.array("fits", false);
  for (std::size_t i = 0; i < fits.size(); ++i) {
    const JsonFields fit = f.element("fits", i, fits[i]);
    fit.reject_unknown(
        {"target", "samples", "train", "test", "nmse", "scale", "converged", "null_reason"});
    SurrogateFit parsed;
    parsed.target = fit.text("target");
    parsed.samples = fit.integer("samples", 0);
    if (!fit.is_null("train")) parsed.train = fit.integer("train", 1);
    if (!fit.is_null("test")) parsed.test = fit.integer("test", 1);
    parsed.nmse = fit.nullable_number("nmse");
    parsed.scale = fit.nullable_number("scale");
    parsed.converged = fit.boolean("converged");
    parsed.null_reason = fit.nullable_text("null_reason");
    if (parsed.nmse.has_value() == parsed.null_reason.has_value()) {
      fit.fail("nmse", "expected either a held-out error or the reason there is none");
    }
    result.fits.push_back(std::move(parsed));
  }
  result.queued = f.string_list("queued");
  result.stop = f.nullable_text("stop");
  return result;
}

json to_json(const DesignStepBody& body) {
  json fits = json::array();
  for (const SurrogateFit& fit : body.fits) {
    fits.push_back({{"target", fit.target},
                    {"samples", fit.samples},
                    {"train", fit.train ? json(*fit.train) : json(nullptr)},
                    {"test", fit.test ? json(*fit.test) : json(nullptr)},
                    {"nmse", fit.nmse ? json(*fit.nmse) : json(nullptr)},
                    {"scale", fit.scale ? json(*fit.scale) : json(nullptr)},
                    {"converged", fit.converged},
                    {"null_reason", fit.null_reason ? json(*fit.null_reason) : json(nullptr)}});
  }
  return {{"device_id", body.device_id},
          {"step", body.step},
          {"batch", body.batch},
          {"selection", body.selection},
          {"phase", body.phase},
          {"measured", body.measured},
          {"fits", std::move(fits)},
          {"queued", body.queued},
          {"stop", body.stop ? json(*body.stop) : json(nullptr)}};
}

void insert_design_step(Database& db, std::optional<int64_t> sweep_id, int64_t job_id,
                        const DesignStepBody& body) {
  for (const SurrogateFit& fit : body.fits) {
    db.cached(
          "INSERT INTO surrogate_fits (sweep_id, job_id, device_id, step, batch, target, "
          "selection, samples, train, test, nmse, scale, converged, null_reason) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        ->bind(1, sweep_id)
        .bind(2, job_id)
        .bind(3, body.device_id)
        .bind(4, body.step)
        .bind(5, body.batch)
        .bind(6, fit.target)
        .bind(7, body.selection)
        .bind(8, fit.samples)
        .bind(9, fit.train)
        .bind(10, fit.test)
        .bind(11, fit.nmse)
        .bind(12, fit.scale)
        .bind(13, fit.converged)
        .bind(14, fit.null_reason)
        .execute();
  }
}

std::vector<double> nmse_by_step(Database& db, int64_t sweep_id, int64_t device_id,
                                 const std::string& target) {
  auto rows = db.cached(
      "SELECT nmse FROM surrogate_fits WHERE sweep_id = ?1 AND device_id = ?2 AND target = ?3 "
      "AND nmse IS NOT NULL ORDER BY step");
  rows->bind(1, sweep_id).bind(2, device_id).bind(3, target);
  std::vector<double> out;
  while (rows->step()) out.push_back(rows->column_double(0));
  return out;
}

}  // namespace tailsweep::store
