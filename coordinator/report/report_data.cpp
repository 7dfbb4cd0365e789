// The sweep's rows, read once on a read-only connection. Everything is tied to
// the sweep through jobs.sweep_id, so results of other sweeps on the same
// devices never leak into this report.
#include "coordinator/report/report_data.h"

#include <chrono>
#include <ctime>
#include <map>
#include <tuple>
#include <utility>

#include <fmt/chrono.h>
#include <fmt/core.h>

#include "common/model/token_schedule.h"
#include "common/util/errors.h"
#include "common/wire/result_document.h"
#include "coordinator/store/migrations.h"
#include "coordinator/store/sqlite.h"
#include "tailsweep/build_info.h"

namespace tailsweep::report {
namespace {

using store::Database;
using store::Statement;

// Of the agents' results only: the coordinator's own (schedules) carry its
// build, which the report names separately.
std::vector<std::string> distinct_agent_texts(Database& db, const std::string& column,
                                              int64_t sweep_id) {
  Statement statement = db.prepare(fmt::format(
      "SELECT DISTINCT r.{0} FROM results r JOIN jobs j ON j.id = r.job_id "
      "WHERE j.sweep_id = ?1 AND r.agent_id IS NOT NULL AND r.{0} IS NOT NULL ORDER BY 1",
      column));
  statement.bind(1, sweep_id);
  std::vector<std::string> values;
  while (statement.step()) values.push_back(statement.column_text(0));
  return values;
}

Provenance load_provenance(Database& db, int64_t sweep_id) {
  Provenance provenance;
  provenance.sweep_id = sweep_id;
  Statement sweep =
      db.prepare("SELECT name, state, created_at, finished_at FROM sweeps WHERE id = ?");
  sweep.bind(1, sweep_id);
  if (!sweep.step()) throw InputError(fmt::format("no sweep {} in '{}'", sweep_id, db.path()));
  provenance.sweep_name = sweep.column_text(0);
  provenance.sweep_state = sweep.column_text(1);
  provenance.created_at_s = sweep.column_double(2);
  provenance.finished_at_s = sweep.column_optional_double(3);

  Statement devices = db.prepare(
      "SELECT name, simulated FROM devices WHERE id IN ("
      "  SELECT device_id FROM jobs WHERE sweep_id = ?1 AND device_id IS NOT NULL"
      "  UNION SELECT r.device_id FROM results r JOIN jobs j ON j.id = r.job_id"
      "        WHERE j.sweep_id = ?1 AND r.device_id IS NOT NULL) "
      "ORDER BY simulated, name");
  devices.bind(1, sweep_id);
  while (devices.step()) {
    provenance.devices.push_back({devices.column_text(0), devices.column_int64(1) != 0});
  }
  provenance.git_shas = distinct_agent_texts(db, "git_sha", sweep_id);
  provenance.agent_versions = distinct_agent_texts(db, "agent_version", sweep_id);
  const auto now = std::chrono::system_clock::now();
  provenance.generated_at_utc =
      format_utc(std::chrono::duration<double>(now.time_since_epoch()).count());
  provenance.tailsweep_git_sha = build_info::kGitSha;
  return provenance;
}

std::vector<LatencyCurve> load_latency_curves(Database& db, int64_t sweep_id) {
  // Whole-model curves only ('block' mode measures one block, not L(n)).
  Statement statement = db.prepare(
      "SELECT d.name, d.simulated, c.model, c.batch, c.tokens, c.median_ms, "
      "       c.median_ci95_low_ms, c.median_ci95_high_ms, c.ratio, c.ratio_ci95_low, "
      "       c.ratio_ci95_high, c.ratio_to_tokens "
      "FROM curve_points c JOIN jobs j ON j.id = c.job_id JOIN devices d ON d.id = c.device_id "
      "WHERE j.sweep_id = ? AND c.mode = 'model' "
      "ORDER BY d.simulated, d.name, c.model, c.batch, c.tokens, c.id");
  statement.bind(1, sweep_id);
  std::vector<LatencyCurve> curves;
  while (statement.step()) {
    const DeviceRef device{statement.column_text(0), statement.column_int64(1) != 0};
    const std::string model = statement.column_text(2);
    const int64_t batch = statement.column_int64(3);
    if (curves.empty() || curves.back().device.name != device.name ||
        curves.back().model != model || curves.back().batch != batch) {
      curves.push_back(LatencyCurve{device, model, batch, {}, {}, {}});
    }
    LatencyPointRow point{statement.column_int64(4),
                          statement.column_double(5),
                          statement.column_optional_double(6),
                          statement.column_optional_double(7),
                          statement.column_optional_double(8),
                          statement.column_optional_double(9),
                          statement.column_optional_double(10),
                          statement.column_optional_int64(11)};
    auto& points = curves.back().points;
    // Two profile jobs of one sweep measuring the same point: the later one wins
    // (ordered by id), so the step finder never sees a duplicate token count.
    if (!points.empty() && points.back().tokens == point.tokens) {
      points.back() = point;
    } else {
      points.push_back(point);
    }
  }
  for (LatencyCurve& curve : curves) {
    curve.paired = paired_points(curve.points);
    curve.steps = schedule::find_latency_steps(curve.paired);
  }
  return curves;
}

const LatencyCurve* find_curve(const std::vector<LatencyCurve>& curves, const std::string& device,
                               const std::string& model, int64_t batch) {
  for (const LatencyCurve& curve : curves) {
    if (curve.device.name == device && curve.model == model && curve.batch == batch) return &curve;
  }
  return nullptr;
}

// On the curve's paired scale (the reference's median times the ratio).
std::optional<double> latency_at(const LatencyCurve& curve, int64_t tokens) {
  for (const schedule::LatencyPoint& point : curve.paired) {
    if (point.tokens == tokens) return point.median_ms;
  }
  return std::nullopt;
}

std::vector<ScheduleEntry> load_schedules(Database& db, int64_t sweep_id,
                                          const std::vector<LatencyCurve>& curves) {
  Statement statement = db.prepare(
      "SELECT d.name, d.simulated, s.model, s.batch, s.alpha, s.tokens_total, s.n_star, s.r, "
      "       s.layer, s.latency_at_n_star_ms, s.baseline_latency_ms, s.variant, s.curve_points, "
      "       s.curve_points_below_precision, s.curve_points_unstable, s.n_star_reached_precision "
      "FROM schedules s JOIN devices d ON d.id = s.device_id WHERE s.sweep_id = ? "
      "ORDER BY d.simulated, d.name, s.model, s.batch, s.id");
  statement.bind(1, sweep_id);
  std::vector<ScheduleEntry> schedules;
  while (statement.step()) {
    ScheduleEntry entry;
    entry.device = {statement.column_text(0), statement.column_int64(1) != 0};
    entry.model = statement.column_text(2);
    entry.batch = statement.column_int64(3);
    entry.alpha = statement.column_double(4);
    entry.tokens_total = statement.column_int64(5);
    entry.n_star = statement.column_int64(6);
    entry.r = statement.column_int64(7);
    entry.layer = statement.column_int64(8);
    entry.latency_at_n_star_ms = statement.column_optional_double(9);
    entry.unpruned_latency_ms = statement.column_optional_double(10);
    entry.variant = statement.column_text(11);
    entry.curve_points = statement.column_optional_int64(12);
    entry.curve_points_below_precision = statement.column_optional_int64(13);
    entry.curve_points_unstable = statement.column_optional_int64(14);
    if (const auto reached = statement.column_optional_int64(15)) {
      entry.n_star_reached_precision = *reached != 0;
    }
    // The curve is the measurement itself; the schedule's copies are the fallback.
    if (const LatencyCurve* curve = find_curve(curves, entry.device.name, entry.model, entry.batch);
        curve != nullptr && !curve->paired.empty()) {
      if (auto at_n_star = latency_at(*curve, entry.n_star)) entry.latency_at_n_star_ms = at_n_star;
      entry.unpruned_latency_ms = curve->paired.back().median_ms;
      entry.steps = curve->steps;
      const int64_t after = pomt_tokens_after(entry.tokens_total, entry.r);
      for (const schedule::LatencyPoint& point : curve->paired) {
        if (point.tokens >= after) {
          entry.latency_after_pruning_ms = point.median_ms;
          entry.latency_after_pruning_at = point.tokens;
          break;
        }
      }
    }
    schedules.push_back(std::move(entry));
  }
  return schedules;
}

std::vector<EvaluationRow> load_evaluations(Database& db, int64_t sweep_id) {
  Statement statement = db.prepare(
      "SELECT e.model, e.method, e.dataset, e.split, e.images, e.batch, e.top1, e.top5, "
      "       e.latency_median_ms, d.name, d.simulated, e.hdp_heads, "
      "       CAST(e.hdp_heads_pruned AS REAL) / NULLIF(e.hdp_heads, 0), "
      "       CAST(e.hdp_blocks_pruned AS REAL) / NULLIF(e.hdp_blocks, 0), "
      "       CAST(e.hdp_attention_macs_skipped AS REAL) / NULLIF(e.hdp_attention_macs, 0), "
      "       e.images_sha256, e.top1_correct "
      "FROM evaluations e JOIN jobs j ON j.id = e.job_id JOIN devices d ON d.id = e.device_id "
      "WHERE j.sweep_id = ? AND e.clusters IS NULL ORDER BY e.model, e.dataset, e.split, e.id");
  statement.bind(1, sweep_id);
  std::vector<EvaluationRow> rows;
  while (statement.step()) {
    EvaluationRow row;
    row.model = statement.column_text(0);
    row.method = statement.column_text(1);
    row.dataset = statement.column_text(2);
    row.split = statement.column_text(3);
    row.images = statement.column_int64(4);
    row.batch = statement.column_int64(5);
    row.top1 = statement.column_double(6);
    row.top5 = statement.column_double(7);
    row.latency_median_ms = statement.column_optional_double(8);
    row.device = {statement.column_text(9), statement.column_int64(10) != 0};
    if (statement.column_optional_int64(11)) {
      row.hdp = HdpShares{statement.column_optional_double(12).value_or(0),
                          statement.column_optional_double(13).value_or(0),
                          statement.column_optional_double(14).value_or(0)};
    }
    row.images_sha256 = statement.column_optional_text(15);
    if (const std::optional<std::string> bits = statement.column_optional_text(16)) {
      row.top1_correct = protocol::bits_from_hex(*bits, static_cast<std::size_t>(row.images));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<ClusteringRow> load_clustering(Database& db, int64_t sweep_id) {
  Statement statement = db.prepare(
      "SELECT model, dataset, split, clusters, top1, dense_top1, images, dense_tensor_bytes, "
      "       clustered_tensor_bytes, clustered_weights_sha256, device "
      "FROM clustering_view WHERE sweep_id = ? ORDER BY model, dataset, split, clusters, job_id");
  statement.bind(1, sweep_id);
  std::vector<ClusteringRow> rows;
  while (statement.step()) {
    ClusteringRow row;
    row.model = statement.column_text(0);
    row.dataset = statement.column_text(1);
    row.split = statement.column_text(2);
    row.clusters = statement.column_int64(3);
    row.top1 = statement.column_double(4);
    row.dense_top1 = statement.column_optional_double(5);
    row.images = statement.column_int64(6);
    row.dense_tensor_bytes = statement.column_int64(7);
    row.clustered_tensor_bytes = statement.column_int64(8);
    row.weights_sha256 = statement.column_text(9);
    row.device = {statement.column_text(10), false};  // accuracy never comes from a simulation
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<ClusteringLatencyRow> load_clustering_latency(Database& db, int64_t sweep_id) {
  Statement statement = db.prepare(
      "SELECT device, simulated, model, batch, method, clusters, weight_kernel, median_ms, "
      "       dense_median_ms, ratio, ratio_ci95_low, ratio_ci95_high, reached_precision, "
      "       weight_bytes_per_forward, dense_weight_bytes_per_forward, joules_per_image, "
      "       dense_joules_per_image, power_null_reason "
      "FROM clustering_latency_view WHERE sweep_id = ? "
      "ORDER BY model, simulated, device, batch, method, clusters, job_id");
  statement.bind(1, sweep_id);
  std::vector<ClusteringLatencyRow> rows;
  while (statement.step()) {
    ClusteringLatencyRow row;
    row.device = {statement.column_text(0), statement.column_int64(1) != 0};
    row.model = statement.column_text(2);
    row.batch = statement.column_int64(3);
    row.method = statement.column_text(4);
    row.clusters = statement.column_int64(5);
    row.weight_kernel = statement.column_optional_text(6).value_or("");
    row.median_ms = statement.column_double(7);
    row.dense_median_ms = statement.column_optional_double(8);
    row.ratio = statement.column_optional_double(9);
    row.ratio_ci95_low = statement.column_optional_double(10);
    row.ratio_ci95_high = statement.column_optional_double(11);
    row.reached_precision = statement.column_int64(12) != 0;
    row.weight_bytes = statement.column_optional_int64(13);
    row.dense_weight_bytes = statement.column_optional_int64(14);
    row.joules_per_image = statement.column_optional_double(15);
    row.dense_joules_per_image = statement.column_optional_double(16);
    row.power_null_reason = statement.column_optional_text(17);
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<MethodLatencyRow> load_method_latencies(Database& db, int64_t sweep_id) {
  Statement statement = db.prepare(
      "SELECT d.name, d.simulated, m.model, m.batch, m.method, m.median_ms, m.reached_precision, "
      "       m.ratio, m.ratio_ci95_low, m.ratio_ci95_high, "
      "       CAST(m.hdp_heads_pruned AS REAL) / NULLIF(m.hdp_heads, 0) "
      "FROM method_latency m JOIN jobs j ON j.id = m.job_id JOIN devices d ON d.id = m.device_id "
      // A paired clustering job's rows are in clustering_latency, its dense
      // ones too: the paper table pairs each method with its own job's none.
      "WHERE j.sweep_id = ? AND NOT EXISTS (SELECT 1 FROM method_latency c "
      "  WHERE c.job_id = m.job_id AND c.clusters IS NOT NULL) "
      "ORDER BY m.id");
  statement.bind(1, sweep_id);
  std::vector<MethodLatencyRow> rows;
  while (statement.step()) {
    rows.push_back({{statement.column_text(0), statement.column_int64(1) != 0},
                    statement.column_text(2),
                    statement.column_int64(3),
                    statement.column_text(4),
                    statement.column_double(5),
                    statement.column_int64(6) != 0,
                    statement.column_optional_double(7),
                    statement.column_optional_double(8),
                    statement.column_optional_double(9),
                    statement.column_optional_double(10)});
  }
  return rows;
}

std::vector<MeasurementRow> load_measurements(Database& db, int64_t sweep_id) {
  Statement statement = db.prepare(
      "SELECT d.name, d.simulated, m.job_id, j.kind, json_extract(j.spec, '$.model'), "
      "       coalesce(m.protocol, ''), m.rounds, m.drift, m.drift_exceeds_precision, m.precision, "
      "       m.max_load_average, "
      "       (SELECT avg(r.steal_fraction) FROM measurement_rounds r WHERE r.result_id = "
      "m.result_id) "
      "FROM measurement_runs m JOIN jobs j ON j.id = m.job_id JOIN devices d ON d.id = m.device_id "
      // A design space's architectures have their own tables (design_report.h).
      "WHERE j.sweep_id = ? AND j.kind <> 'architecture' ORDER BY d.simulated, d.name, m.job_id");
  statement.bind(1, sweep_id);
  std::vector<MeasurementRow> rows;
  while (statement.step()) {
    MeasurementRow row;
    row.device = {statement.column_text(0), statement.column_int64(1) != 0};
    row.job_id = statement.column_int64(2);
    row.job_kind = statement.column_text(3);
    row.model = statement.column_text(4);
    row.protocol = statement.column_text(5);
    row.rounds = statement.column_optional_int64(6);
    row.drift = statement.column_optional_double(7);
    row.drift_exceeds_precision = statement.column_optional_int64(8).value_or(0) != 0;
    row.precision = statement.column_optional_double(9);
    row.max_load_average = statement.column_optional_double(10);
    row.steal_fraction = statement.column_optional_double(11);
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<MatchedRow> load_matched(Database& db, int64_t sweep_id) {
  Statement statement = db.prepare(
      "SELECT d.name, d.simulated, b.model, b.batch, b.target_method, b.target_latency_ms, "
      "       b.family, b.method, b.latency_ms, b.relative_gap, b.within_tolerance, b.tolerance, "
      "       b.target_reached_precision, b.reached_precision "
      "FROM matched_baselines b JOIN devices d ON d.id = b.device_id WHERE b.sweep_id = ? "
      "ORDER BY d.simulated, d.name, b.model, b.batch, b.family, b.id");
  statement.bind(1, sweep_id);
  std::vector<MatchedRow> rows;
  const auto flag = [&](int column) -> std::optional<bool> {
    const auto value = statement.column_optional_int64(column);
    return value ? std::optional<bool>(*value != 0) : std::nullopt;
  };
  while (statement.step()) {
    rows.push_back({{statement.column_text(0), statement.column_int64(1) != 0},
                    statement.column_text(2),
                    statement.column_int64(3),
                    statement.column_text(4),
                    statement.column_double(5),
                    statement.column_text(6),
                    statement.column_text(7),
                    statement.column_double(8),
                    statement.column_double(9),
                    statement.column_int64(10) != 0,
                    statement.column_double(11),
                    flag(12),
                    flag(13)});
  }
  return rows;
}

std::vector<AccuracyCurve> load_accuracy_curves(Database& db, int64_t sweep_id) {
  Statement statement = db.prepare(
      "SELECT a.model, a.dataset, a.split, a.method, a.tokens, a.top1, a.top5, a.images "
      "FROM accuracy_points a JOIN jobs j ON j.id = a.job_id WHERE j.sweep_id = ? "
      "ORDER BY a.model, a.dataset, a.split, a.method, a.tokens, a.id");
  statement.bind(1, sweep_id);
  std::vector<AccuracyCurve> curves;
  while (statement.step()) {
    AccuracyCurve key{statement.column_text(0),
                      statement.column_text(1),
                      statement.column_text(2),
                      statement.column_text(3),
                      {}};
    if (curves.empty() ||
        std::tie(curves.back().model, curves.back().dataset, curves.back().split,
                 curves.back().method) != std::tie(key.model, key.dataset, key.split, key.method)) {
      curves.push_back(std::move(key));
    }
    AccuracyPointRow point{statement.column_int64(4), statement.column_double(5),
                           statement.column_double(6), statement.column_int64(7)};
    auto& points = curves.back().points;
    if (!points.empty() && points.back().tokens == point.tokens) {
      points.back() = point;
    } else {
      points.push_back(point);
    }
  }
  return curves;
}

}  // namespace

std::string device_label(const DeviceRef& device) {
  return device.simulated ? device.name + " (simulated)" : device.name;
}

std::string format_utc(double unix_s) {
  const auto seconds = std::chrono::sys_seconds(std::chrono::seconds(static_cast<int64_t>(unix_s)));
  return fmt::format("{:%Y-%m-%d %H:%M:%S} UTC", seconds);
}

std::vector<schedule::LatencyPoint> paired_points(const std::vector<LatencyPointRow>& points) {
  std::vector<schedule::PairedPoint> paired;
  paired.reserve(points.size());
  for (const LatencyPointRow& point : points) {
    paired.push_back({{point.tokens, point.median_ms, point.ci95_low_ms.value_or(point.median_ms),
                       point.ci95_high_ms.value_or(point.median_ms)},
                      point.ratio,
                      point.ratio_ci95_low,
                      point.ratio_ci95_high,
                      point.ratio_to_tokens});
  }
  return schedule::paired_curve(paired);
}

namespace {

std::vector<ArchitectureRow> load_architectures(Database& db, int64_t sweep_id) {
  Statement statement = db.prepare(
      "SELECT device, simulated, model, layers, parameters, flops_per_input, batch, ms_per_input, "
      "reached_precision, joules_per_input, peak_w, power_null_reason FROM architecture_view "
      "WHERE sweep_id = ? ORDER BY simulated, device, batch, job_id");
  statement.bind(1, sweep_id);
  std::vector<ArchitectureRow> rows;
  while (statement.step()) {
    ArchitectureRow row;
    row.device = {statement.column_text(0), statement.column_int64(1) != 0};
    row.id = statement.column_text(2);
    row.layers = statement.column_int64(3);
    row.parameters = statement.column_double(4);
    row.flops_per_input = statement.column_double(5);
    row.batch = statement.column_int64(6);
    row.ms_per_input = statement.column_double(7);
    row.reached_precision = statement.column_int64(8) != 0;
    row.joules_per_input = statement.column_optional_double(9);
    row.peak_w = statement.column_optional_double(10);
    if (!statement.column_is_null(11)) row.power_null_reason = statement.column_text(11);
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<SurrogateFitRow> load_surrogate_fits(Database& db, int64_t sweep_id) {
  Statement statement = db.prepare(
      "SELECT device, simulated, model, target, step, samples, nmse, converged, null_reason "
      "FROM surrogate_fit_view WHERE sweep_id = ? ORDER BY simulated, device, model, target, step");
  statement.bind(1, sweep_id);
  std::vector<SurrogateFitRow> rows;
  while (statement.step()) {
    SurrogateFitRow row;
    row.device = {statement.column_text(0), statement.column_int64(1) != 0};
    row.selection = statement.column_text(2);
    row.target = statement.column_text(3);
    row.step = statement.column_int64(4);
    row.samples = statement.column_int64(5);
    row.nmse = statement.column_optional_double(6);
    row.converged = statement.column_int64(7) != 0;
    if (!statement.column_is_null(8)) row.null_reason = statement.column_text(8);
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace

ReportData load_report_data(const std::string& database_path, int64_t sweep_id) {
  Database db(database_path, store::OpenOptions{.read_only = true});
  store::require_tailsweep_database(db);
  ReportData data;
  std::vector<std::string> planned_kinds;  // the job kinds the sweep has
  try {
    data.provenance = load_provenance(db, sweep_id);
    data.latency_curves = load_latency_curves(db, sweep_id);
    data.schedules = load_schedules(db, sweep_id, data.latency_curves);
    data.evaluations = load_evaluations(db, sweep_id);
    data.clustering = load_clustering(db, sweep_id);
    data.clustering_latency = load_clustering_latency(db, sweep_id);
    data.method_latencies = load_method_latencies(db, sweep_id);
    data.measurements = load_measurements(db, sweep_id);
    data.matched = load_matched(db, sweep_id);
    data.accuracy_curves = load_accuracy_curves(db, sweep_id);
    data.architectures = load_architectures(db, sweep_id);
    data.surrogate_fits = load_surrogate_fits(db, sweep_id);
    Statement kinds = db.prepare("SELECT DISTINCT kind FROM jobs WHERE sweep_id = ?");
    kinds.bind(1, sweep_id);
    while (kinds.step()) planned_kinds.push_back(kinds.column_text(0));
    // A failed sweep says why first: the tables below are what it got done.
    Statement failed = db.prepare(
        "SELECT count(*) OVER (), id, kind, coalesce(last_error, 'no error recorded') FROM jobs "
        "WHERE sweep_id = ? AND state = 'failed' ORDER BY id LIMIT 1");
    failed.bind(1, sweep_id);
    if (failed.step()) {
      data.missing.push_back(fmt::format(
          "The sweep has {} failed job(s) (`tailsweep sweep status {}` lists them); the first, "
          "job {} ({}): {}",
          failed.column_int64(0), sweep_id, failed.column_int64(1), failed.column_text(2),
          failed.column_text(3)));
    }
  } catch (const store::SqliteError& error) {
    throw InputError(
        fmt::format("cannot read sweep {} from '{}': {}", sweep_id, database_path, error.what()));
  }
  // What is still missing, of what the sweep planned: a sweep that asked for
  // no schedules gets no "no schedules" line.
  const auto planned = [&](std::string_view kind) {
    return std::find(planned_kinds.begin(), planned_kinds.end(), kind) != planned_kinds.end();
  };
  if (planned("profile") && data.latency_curves.empty())
    data.missing.push_back("No latency curves: no profile result yet.");
  if (planned("schedule") && data.schedules.empty())
    data.missing.push_back("No schedules: no schedule job has run yet.");
  if (planned("eval") && data.evaluations.empty())
    data.missing.push_back("No evaluations: no eval result yet.");
  if (!data.schedules.empty() && data.method_latencies.empty()) {
    data.missing.push_back(
        "No method latencies: no latency job has finished yet (the paper table needs them).");
  }
  if (planned("architecture") && data.architectures.empty()) {
    data.missing.push_back("No architectures: no architecture result yet.");
  }
  if (planned("accuracy_curve") && data.accuracy_curves.empty()) {
    data.missing.push_back("No accuracy curve: no accuracy_curve result yet.");
  }
  return data;
}

}  // namespace tailsweep::report
