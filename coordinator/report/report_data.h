#pragma once
// The results of one sweep, read from the database into typed structs: the
// only part of `tailsweep report` that knows SQL. Renderers (report_tables.h,
// report_plots.h) are pure functions over these structs, so they are tested
// on hand-made data without a database.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analysis/latency_steps.h"

namespace tailsweep::report {

struct DeviceRef {
  std::string name;
  bool simulated = false;
};

// "orin-nano (simulated)" for simulated devices, the plain name otherwise:
// every table says so, so that no one mistakes a model for a measurement.
std::string device_label(const DeviceRef& device);

struct Provenance {
  int64_t sweep_id = 0;
  std::string sweep_name;
  std::string sweep_state;
  double created_at_s = 0;
  std::optional<double> finished_at_s;
  std::vector<DeviceRef> devices;           // every device with a job or result in the sweep
  std::vector<std::string> git_shas;        // distinct, of the sweep's results
  std::vector<std::string> agent_versions;  // distinct, of the sweep's results
  std::string generated_at_utc;             // ISO 8601, when the report was rendered
  std::string tailsweep_git_sha;            // the build that rendered it
};

struct LatencyPointRow {
  int64_t tokens = 0;
  double median_ms = 0;
  std::optional<double> ci95_low_ms;  // null with too few samples
  std::optional<double> ci95_high_ms;
  // Measured in rounds: the paired ratio to the curve's reference point.
  std::optional<double> ratio, ratio_ci95_low, ratio_ci95_high;
  std::optional<int64_t> ratio_to_tokens;
};

// L(n) of one (device, model, batch), whole-model mode, ascending tokens.
struct LatencyCurve {
  DeviceRef device;
  std::string model;
  int64_t batch = 1;
  std::vector<LatencyPointRow> points;
  // The curve on its reference's scale (schedule::paired_curve): what steps,
  // schedules and savings are read from. As measured when not paired.
  std::vector<schedule::LatencyPoint> paired;
  std::vector<schedule::LatencyStep> steps;  // find_latency_steps on `paired`
};

struct ScheduleEntry {
  DeviceRef device;
  std::string model;
  int64_t batch = 1;
  double alpha = 0.5;
  int64_t tokens_total = 0;
  int64_t n_star = 0;
  int64_t r = 0;
  int64_t layer = 0;
  // From the curve when it has the point, else as the schedule stored it.
  std::optional<double> latency_at_n_star_ms;
  std::optional<double> unpruned_latency_ms;  // at the curve's largest token count
  std::vector<schedule::LatencyStep> steps;   // of the matching curve
  std::string variant = "reference";         // or "aligned"
  // The curve at the tokens left after pruning, or at the next count it
  // measured above them (an upper bound on a staircase): what the schedule
  // promised. Null without a curve.
  std::optional<double> latency_after_pruning_ms;
  std::optional<int64_t> latency_after_pruning_at;  // the count it was read at
  // What the curve behind it held (null from schedules before 007_validity):
  // its points, those short of their precision, the unstable ones, and
  // whether the point at n* reached its precision.
  std::optional<int64_t> curve_points, curve_points_below_precision, curve_points_unstable;
  std::optional<bool> n_star_reached_precision;
};

// What Hybrid Dynamic Pruning pruned (docs/hdp.md), as shares of what it saw.
struct HdpShares {
  double heads_pruned = 0;            // of (image, head) pairs
  double blocks_pruned = 0;           // of the kept heads' 2x2 blocks
  double attention_macs_skipped = 0;  // of Q.K^T and P.V at the tokens each block saw
};

struct EvaluationRow {
  std::string model;
  std::string method;  // a method spec: none, pomt:58, topk:20, tome:8, ...
  std::string dataset;
  std::string split;
  int64_t images = 0;
  int64_t batch = 1;
  double top1 = 0;  // fractions in [0, 1]
  double top5 = 0;
  std::optional<double> latency_median_ms;
  DeviceRef device;  // where the result was measured
  std::optional<HdpShares> hdp;  // a method with HDP
  // Which images, and which of them it got right (docs/eval.md): empty from
  // agents before schema 3.
  std::optional<std::string> images_sha256;
  std::vector<bool> top1_correct;
};

struct AccuracyPointRow {
  int64_t tokens = 0;
  double top1 = 0;
  double top5 = 0;
  int64_t images = 0;
};

// A(n) of one model (per dataset, split and dropping method), ascending tokens.
struct AccuracyCurve {
  std::string model;
  std::string dataset;
  std::string split;
  std::string method;
  std::vector<AccuracyPointRow> points;
};

// One configuration timed on one device by a latency job (method_latency).
struct MethodLatencyRow {
  DeviceRef device;
  std::string model;
  int64_t batch = 1;
  std::string method;
  double median_ms = 0;
  bool reached_precision = false;
  // Measured in rounds: the ratio to the batch's "none" in the same rounds.
  std::optional<double> ratio, ratio_ci95_low, ratio_ci95_high;
  // A method with HDP: the heads it pruned on the timing input, which is not
  // the evaluation's images.
  std::optional<double> hdp_heads_pruned_share;
};

// How one profile or latency job measured (measurement_runs).
struct MeasurementRow {
  DeviceRef device;
  int64_t job_id = 0;
  std::string job_kind;
  std::string model;
  std::string protocol;
  std::optional<int64_t> rounds;
  std::optional<double> drift;  // the sentinel's max/min round median
  bool drift_exceeds_precision = false;
  std::optional<double> precision;
  std::optional<double> max_load_average;
  std::optional<double> steal_fraction;  // mean over its rounds
};

// The baseline of a family closest in latency to POMT's on one device.
struct MatchedRow {
  DeviceRef device;
  std::string model;
  int64_t batch = 1;
  std::string target_method;  // pomt:R
  double target_latency_ms = 0;
  std::string family;  // topk, tome
  std::string method;  // topk:r, tome:r
  double latency_ms = 0;
  double relative_gap = 0;
  bool within_tolerance = false;
  double tolerance = 0.05;
  // Whether POMT's and the chosen method's latencies reached their precision
  // (null from matches before 007_validity).
  std::optional<bool> target_reached_precision, reached_precision;
};

// An evaluation of weights clustered at load (docs/cluster.md), with the
// dense baseline's top-1 (clustering_view).
struct ClusteringRow {
  std::string model;
  std::string dataset;
  std::string split;
  int64_t clusters = 0;
  double top1 = 0;
  std::optional<double> dense_top1;  // none: no dense baseline evaluated in the sweep
  int64_t images = 0;
  int64_t dense_tensor_bytes = 0;
  int64_t clustered_tensor_bytes = 0;
  std::string weights_sha256;  // of the clustered tensors
  DeviceRef device;
};

// A method timed on a clustered model by a paired latency job, beside the
// same method on the weights as given in the same rounds
// (clustering_latency_view).
struct ClusteringLatencyRow {
  DeviceRef device;
  std::string model;
  int64_t batch = 1;
  std::string method;
  int64_t clusters = 0;
  std::string weight_kernel;  // empty: an agent that did not say
  double median_ms = 0;
  std::optional<double> dense_median_ms;
  // To the dense "none" of the batch, in the same rounds (none: not paired).
  std::optional<double> ratio, ratio_ci95_low, ratio_ci95_high;
  bool reached_precision = false;
  std::optional<int64_t> weight_bytes, dense_weight_bytes;  // read per forward pass
  std::optional<double> joules_per_image, dense_joules_per_image;
  std::optional<std::string> power_null_reason;  // why there is no energy
};

// One design-space architecture measured on one device at one batch
// (architecture_view).
struct ArchitectureRow {
  DeviceRef device;
  std::string id;
  int64_t layers = 0;
  double parameters = 0;
  double flops_per_input = 0;
  int64_t batch = 1;
  double ms_per_input = 0;
  bool reached_precision = false;
  std::optional<double> joules_per_input;
  std::optional<double> peak_w;
  std::optional<std::string> power_null_reason;
};

// One surrogate fit of a device's active-learning loop (surrogate_fit_view).
struct SurrogateFitRow {
  DeviceRef device;
  std::string selection;  // uncertainty | random
  std::string target;     // latency | energy | peak_power
  int64_t step = 0;
  int64_t samples = 0;
  std::optional<double> nmse;
  bool converged = false;
  std::optional<std::string> null_reason;
};

struct ReportData {
  Provenance provenance;
  std::vector<ScheduleEntry> schedules;
  std::vector<EvaluationRow> evaluations;  // of the weights as given
  std::vector<ClusteringRow> clustering;   // of weights clustered at load
  std::vector<ClusteringLatencyRow> clustering_latency;
  std::vector<MethodLatencyRow> method_latencies;
  std::vector<MatchedRow> matched;
  std::vector<MeasurementRow> measurements;
  std::vector<LatencyCurve> latency_curves;
  std::vector<AccuracyCurve> accuracy_curves;
  std::vector<ArchitectureRow> architectures;  // a design_space sweep's
  std::vector<SurrogateFitRow> surrogate_fits;
  // Lines saying what the sweep lacks ("no schedules yet", ...): a partial
  // sweep still renders what it has.
  std::vector<std::string> missing;
};

// "2026-11-23 06:39:43 UTC".
std::string format_utc(double unix_s);

// The curve on its reference's scale, a CI falling back to the median where
// it is null (schedule::paired_curve).
std::vector<schedule::LatencyPoint> paired_points(const std::vector<LatencyPointRow>& points);

// Reads sweep_id from the database file, opened read-only. InputError: the
// file is missing or not a tailsweep database (or not at this binary's
// schema), or the sweep is unknown.
ReportData load_report_data(const std::string& database_path, int64_t sweep_id);

}  // namespace tailsweep::report
