#pragma once
// The JSON bodies that results carry, parsed strictly into typed structs at
// the edge, before anything is stored: a body missing a required field, or
// with one of the wrong type, is refused with an InputError that names the
// field (e.g. "profile result: points[2].median_ms: missing"). Pure: no SQLite.
//
// A field written as "nullable" below must be present but may be null; an
// "optional" one may also be absent. Nulls are kept as nulls, never guessed.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace tailsweep::store {

// Provenance every body may carry at its top level (the agent's "version",
// "git_sha" and "device" object, as `tailsweep-agent profile` writes them).
struct BodyProvenance {
  std::optional<std::string> version;
  std::optional<std::string> git_sha;
  std::optional<std::string> device_json;  // the "device" object, serialised
  std::optional<bool> device_simulated;    // its "simulated", when it has one
};

struct PointPower {
  std::optional<double> average_w;
  std::optional<double> peak_w;
  std::optional<double> joules_per_forward;
  std::optional<double> joules_per_image;
};

// A point's latency relative to its batch's reference point (schema 2):
// the median of the per-round ratios and its 95% CI (docs/profile.md).
struct PairedRatioBody {
  double median = 0;
  std::optional<double> ci95_low, ci95_high;  // nullable: too few rounds
  int64_t rounds = 0;
  int64_t to_batch = 0;
  std::optional<int64_t> to_tokens;        // on a curve
  std::optional<std::string> to_method;    // among methods
};

// The top-level "power" object: whether a sensor was used, and otherwise why not.
struct PowerInfoBody {
  bool available = false;
  std::optional<std::string> sensor;
  std::optional<double> idle_w;
  std::optional<std::string> unavailable_reason;
  // Why a point has no energy: the agent's reason, or the sensor's silence.
  std::string null_reason_for(const std::optional<PointPower>& point) const;
};

// What Hybrid Dynamic Pruning did (docs/hdp.md): the totals of the "hdp"
// object of an eval result or a latency point (its per-block counts stay in
// the stored body).
struct HdpBody {
  int64_t heads = 0, heads_pruned = 0;  // (image, head) pairs
  int64_t blocks = 0, blocks_pruned = 0;
  int64_t attention_macs = 0, attention_macs_skipped = 0;
  int64_t frac_macs_dropped = 0;
};

// One element of "points" in docs/profile.md.
struct ProfilePoint {
  int64_t batch = 0;
  int64_t tokens = 0;
  double median_ms = 0;
  std::optional<double> median_ci95_low_ms;  // optional: too few samples for an interval
  std::optional<double> median_ci95_high_ms;
  double p5_ms = 0, p25_ms = 0, p75_ms = 0, p95_ms = 0;
  double mean_ms = 0, stddev_ms = 0, mad_ms = 0;
  int64_t samples = 0;
  bool stable = false;
  bool reached_precision = false;
  std::vector<double> raw_ms;         // every sample
  std::optional<PointPower> power;    // nullable: null when there is no sensor
  std::optional<std::string> method;  // optional: set on the points of a latency job
  // Schema 2 (absent from version 1 bodies):
  std::optional<int64_t> rounds;         // round medians behind median_ms (1: one block)
  std::optional<PairedRatioBody> ratio;  // nullable: a reference point, or not paired
  std::optional<double> load_average;    // nullable: /proc/loadavg unreadable
  std::optional<double> steal_fraction;  // nullable: /proc/stat unreadable
  std::vector<int64_t> raw_round;        // the round of each raw sample; as long as raw_ms
  // A latency point timed on weights clustered at load to K (a paired
  // clustering job, docs/cluster.md); absent on the weights as given.
  std::optional<int64_t> clusters;
  std::optional<HdpBody> hdp;  // a method with HDP: what one pass of the batch pruned
};

// One round of a rounds measurement.
struct RoundRecordBody {
  int64_t round = 0;
  int64_t points_visited = 0;
  std::optional<double> sentinel_median_ms, load_average, steal_fraction;
};

// The top-level "rounds" object (schema 2, rounds protocol): the sentinel,
// the run's drift and what the machine did in each round.
struct RoundsBody {
  int64_t count = 0;
  int64_t sentinel_batch = 0;
  std::optional<int64_t> sentinel_tokens;
  std::optional<std::string> sentinel_method;
  std::optional<double> drift;  // max/min of the sentinel's round medians
  bool drift_exceeds_precision = false;
  double max_load_average = 0;
  bool load_above_threads = false;
  std::vector<RoundRecordBody> rounds;
};

// How a profile or latency body was measured.
struct MeasurementBody {
  int64_t schema_version = 1;  // absent in version 1 bodies
  bool interrupted = false;    // "interrupted": the points measured before a stop
  std::optional<std::string> protocol;  // "method"."protocol"
  std::optional<double> precision;      // "method"."precision"
  std::optional<RoundsBody> rounds;     // null unless measured in rounds
};

// The output of `tailsweep-agent profile` (docs/profile.md).
struct ProfileBody {
  BodyProvenance provenance;
  std::string model;  // model.name
  std::string mode;   // "model" or "block"
  PowerInfoBody power;
  MeasurementBody measurement;
  std::vector<ProfilePoint> points;  // at least one
};

// A 'latency' job's result: a profile document (`profile --methods`) whose
// points each carry their "method"; the points of a curve carry none.
// One model a latency job timed: the weights as given, then one per
// paired K (the document's "variants"; absent from older agents).
struct WeightVariantBody {
  std::optional<int64_t> clusters;  // null: the weights as given
  std::string weight_kernel;        // dense | lookup
  std::optional<std::string> clustered_weights_sha256;
  std::optional<int64_t> weight_bytes_per_forward;  // null: no model built (simulated)
};

struct LatencyBody {
  BodyProvenance provenance;
  std::string model;
  MeasurementBody measurement;
  std::vector<ProfilePoint> points;  // at least one, each with method
  std::vector<WeightVariantBody> variants;  // empty from agents before paired clustering
  PowerInfoBody power;
};

// {"model","weights_sha256"(nullable),"dataset","split","method","batch",
//  "images","top1","top5","latency"(nullable: {"median_ms",...})}
struct EvalBody {
  BodyProvenance provenance;
  std::string model;
  std::optional<std::string> weights_sha256;
  std::string dataset;
  std::string split;
  std::string method;
  int64_t batch = 0;
  int64_t images = 0;
  double top1 = 0;  // fractions in [0, 1]
  double top5 = 0;
  std::optional<double> latency_median_ms;
  // Weights clustered at load (docs/cluster.md); absent otherwise.
  struct Clustering {
    int64_t clusters = 0;
    std::string weights_sha256;
    int64_t dense_tensor_bytes = 0;
    int64_t clustered_tensor_bytes = 0;
  };
  std::optional<Clustering> clustering;
  std::optional<HdpBody> hdp;  // a method with HDP: what it pruned over the images
};

struct AccuracyPoint {
  int64_t tokens = 0;
  double top1 = 0;
  double top5 = 0;
  int64_t images = 0;
};

// The eval body's "model", "weights_sha256", "dataset", "split" and "method",
// plus "points": [{"tokens","top1","top5","images"}, ...] (at least one). Its
// other eval fields, when present, are kept in the stored body only.
struct AccuracyCurveBody {
  BodyProvenance provenance;
  std::string model;
  std::optional<std::string> weights_sha256;
  std::string dataset;
  std::string split;
  std::string method;
  std::vector<AccuracyPoint> points;
};

// How many of the points a schedule was computed from did not reach their
// precision or were unstable, and whether the point at n* reached it (null:
// the curve has no point at n*).
struct CurveValidity {
  int64_t points = 0;
  int64_t below_precision = 0;
  int64_t unstable = 0;
  std::optional<bool> n_star_reached_precision;
};

// What a 'schedule' job (run by the coordinator itself) produces.
// {"device_id","model","batch","method"("pomt"),"alpha","tokens_total","n_star",
//  "r","layer","latency_at_n_star_ms"(nullable),"baseline_latency_ms"(nullable),
//  "source_job_ids":[...]}
struct ScheduleBody {
  int64_t device_id = 0;
  std::string model;
  int64_t batch = 0;
  std::string method = "pomt";
  double alpha = 0.5;
  int64_t tokens_total = 0;
  int64_t n_star = 0;
  int64_t r = 0;
  int64_t layer = 0;
  std::optional<double> latency_at_n_star_ms;
  std::optional<double> baseline_latency_ms;
  std::vector<int64_t> source_job_ids;
  // Optional "aligned": {"r","tokens_after_pruning","step_below","step_above"}
  // (the steps nullable): the step-aligned variant of the same n*.
  struct Aligned {
    int64_t r = 0;
    int64_t tokens_after_pruning = 0;
    std::optional<int64_t> step_below, step_above;
  };
  std::optional<Aligned> aligned;
  // Optional "validity": {"points","below_precision","unstable",
  // "n_star_reached_precision" (nullable)}: what the curve held.
  std::optional<CurveValidity> validity;
};

// What a 'match' job (run by the coordinator) produces: for one (device,
// model, batch), the method of each family closest in latency to POMT's.
// {"device_id","model","batch","target_method","target_latency_ms","tolerance",
//  "latency_job_id","matches":[{"family","method","latency_ms","relative_gap",
//  "within_tolerance","candidates"}, ...]}
struct MatchedMethod {
  std::string family;
  std::string method;
  double latency_ms = 0;
  double relative_gap = 0;
  bool within_tolerance = false;
  int64_t candidates = 0;
  std::optional<bool> reached_precision;  // its latency's; absent from old bodies
};
struct MatchBody {
  int64_t device_id = 0;
  std::string model;
  int64_t batch = 0;
  std::string target_method;
  double target_latency_ms = 0;
  double tolerance = 0;
  int64_t latency_job_id = 0;
  std::vector<MatchedMethod> matches;
  std::optional<bool> target_reached_precision;  // absent from old bodies
};

ProfileBody parse_profile_body(const nlohmann::json& body);
LatencyBody parse_latency_body(const nlohmann::json& body);
EvalBody parse_eval_body(const nlohmann::json& body);
AccuracyCurveBody parse_accuracy_curve_body(const nlohmann::json& body);
ScheduleBody parse_schedule_body(const nlohmann::json& body);
MatchBody parse_match_body(const nlohmann::json& body);

}  // namespace tailsweep::store
