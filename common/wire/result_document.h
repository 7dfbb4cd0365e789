#pragma once
// The result documents an agent sends (docs/protocol.md, "Result documents"),
// defined once: the agent fills these structs and writes them with to_json;
// the coordinator reads them back with the parse_* functions, strictly, into
// the same structs. Pure: no SQLite, no LibTorch.
//
// Versions. Every document carries "schema_version" (absent: 1). 1: each
// profile point measured in one block. 2: the rounds protocol, with per-point
// "rounds", "ratio", "load_average", "steal_fraction" and "raw_round", and a
// top-level "rounds" object. 3: every document (eval too) versioned and
// written from these structs; raw samples to 6 significant digits. A reader
// takes every version up to kResultSchemaVersion and refuses a newer one
// ("update the coordinator"). From version 3 a document is read strictly:
// every field is required (null where marked nullable) and an unknown field
// is refused. Versions 1 and 2, from older agents, are read as they always
// were: the fields the coordinator stores are required, the rest are taken
// when present and otherwise left empty, and extra fields are ignored.
//
// Raw samples (raw_ms) are written to 6 significant digits, a relative 5e-6:
// far below any clock's jitter, and a third of the text of a full double.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/design/architecture.h"
#include "common/model/hdp_counts.h"
#include "common/wire/protocol.h"

namespace tailsweep::protocol {

inline constexpr int64_t kResultSchemaVersion = 3;

// Provenance at a document's top level: which build measured it, where, when.
struct BodyProvenance {
  std::optional<std::string> tool;  // "tailsweep-agent profile" or "tailsweep-agent eval"
  std::optional<std::string> version;
  std::optional<std::string> git_sha;
  std::optional<std::string> build_type;
  std::optional<std::string> started_at;  // UTC, ISO 8601
  std::optional<double> elapsed_s;
  // The device facts object (docs/protocol.md, "Registration"), kept verbatim:
  // the coordinator reads only its "simulated" and stores the rest as text.
  std::optional<std::string> device_json;
  std::optional<bool> device_simulated;
};

// The "hdp" object: the totals, then each block's counts. Its shares are
// written from the counts and checked against them when read.
struct HdpBody {
  HdpCounts total;
  std::vector<HdpCounts> per_block;  // empty only in bodies that left it out (schema < 3)
};
HdpBody hdp_body_of(const std::vector<HdpCounts>& per_block);

struct PointPower {
  std::optional<double> average_w;
  std::optional<double> peak_w;
  std::optional<double> joules_per_forward;
  std::optional<double> joules_per_image;
  std::optional<int64_t> readings;  // the sensor readings in the point's windows
};

// A point's latency relative to its batch's reference point (schema 2):
// the median of the per-round ratios and its 95% CI (docs/profile.md).
struct PairedRatioBody {
  double median = 0;
  std::optional<double> ci95_low, ci95_high;  // nullable: too few rounds
  int64_t rounds = 0;
  int64_t to_batch = 0;
  std::optional<int64_t> to_tokens;      // on a curve
  std::optional<std::string> to_method;  // among methods
};

// One element of "points" (docs/profile.md).
struct ProfilePoint {
  int64_t batch = 0;
  int64_t tokens = 0;
  std::optional<int64_t> visit_index;  // its place in the first round's order
  double median_ms = 0;
  std::optional<double> median_ci95_low_ms;  // nullable: too few samples for an interval
  std::optional<double> median_ci95_high_ms;
  std::optional<double> median_ci95_relative_half_width;
  double p5_ms = 0, p25_ms = 0, p75_ms = 0, p95_ms = 0;
  double mean_ms = 0, stddev_ms = 0, mad_ms = 0;
  std::optional<double> min_ms, max_ms, iqr_ms;  // schema 3
  int64_t samples = 0;
  bool stable = false;
  bool reached_precision = false;
  std::optional<std::string> precision_of;  // "ratio" or "median" (schema 3)
  std::vector<double> raw_ms;               // every sample
  std::optional<PointPower> power;          // nullable: null when there is no sensor
  std::optional<std::string> method;        // optional: set on the points of a latency job
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

// The top-level "method" object: how the points were measured. Optional
// members may be absent from schema 1 and 2 bodies; schema 3 has them all.
struct MeasurementSettings {
  std::optional<double> precision;  // the CI half-width each point aimed for
  std::optional<double> confidence;
  std::optional<int64_t> min_samples, min_rounds;
  std::optional<double> slice_s, time_cap_s, warmup_s;
  std::optional<int64_t> order_seed;
  std::optional<std::string> protocol;  // in words
  std::optional<int64_t> points_at_time_cap;
};

// How a profile or latency document was measured.
struct MeasurementBody {
  int64_t schema_version = 1;  // absent in version 1 bodies
  bool interrupted = false;    // "interrupted": the points measured before a stop
  std::optional<int64_t> points_planned;
  MeasurementSettings method;
  std::optional<RoundsBody> rounds;  // null unless measured in rounds
};

// The top-level "power" object: whether a sensor was used, and otherwise why not.
struct PowerInfoBody {
  bool available = false;
  std::optional<std::string> sensor;
  std::optional<int64_t> period_ms;
  std::optional<double> idle_w;
  std::optional<std::string> unavailable_reason;
  // Why a point has no energy: the agent's reason, or the sensor's silence.
  std::string null_reason_for(const std::optional<PointPower>& point) const;
};

// One model a latency job timed: the weights as given, then one per
// paired K (the document's "variants"; absent from older agents).
struct WeightVariantBody {
  std::optional<int64_t> clusters;  // null: the weights as given
  std::string weight_kernel;        // dense | lookup
  std::optional<std::string> clustered_weights_sha256;
  std::optional<int64_t> weight_bytes_per_forward;  // null: no model built (simulated)
};

// The model's shape, as the "model" object states it beside its name.
struct ModelShape {
  int64_t dim = 0, depth = 0, heads = 0, tokens = 0;
};

// The output of `tailsweep-agent profile` (docs/profile.md): a latency curve
// (a 'profile' job) or, with --methods, the latency of whole configurations
// whose points each carry their "method" (a 'latency' job).
struct MeasurementDocument {
  BodyProvenance provenance;
  std::string model;                   // model.name
  std::optional<ModelShape> shape;     // the rest of "model"
  std::optional<std::string> weights;  // the weights' label
  std::string mode;                    // "model" or "block"
  std::optional<std::string> weight_kernel;
  std::optional<int64_t> clusters;  // weights clustered at load, as given
  std::optional<std::string> clustered_weights_sha256;
  std::optional<std::vector<int64_t>> paired_clusters;  // nullable
  std::vector<WeightVariantBody> variants;  // empty from agents before paired clustering
  std::optional<std::vector<HdpMeasuredShares>> hdp_shares;  // nullable: a simulated HDP's input
  std::optional<std::vector<std::string>> methods;           // nullable: a curve
  MeasurementBody measurement;
  PowerInfoBody power;
  std::vector<ProfilePoint> points;  // at least one
};

// The output of `tailsweep-agent profile --arch` (docs/design_space.md): one
// architecture of a design space with seeded random weights, timed at each
// batch size on its full sequence (an 'architecture' job's result). Its
// points carry no method; their "tokens" is the sequence length.
struct ArchitectureDocument {
  BodyProvenance provenance;
  design::Architecture architecture;
  // Written for readers of the JSON; a reader checks both against the
  // architecture, so a document cannot name one architecture and time another.
  std::string architecture_id;
  double parameters = 0;
  double flops_per_input = 0;  // forward_flops(1)
  MeasurementBody measurement;
  PowerInfoBody power;
  std::vector<ProfilePoint> points;  // at least one
};

// The same document as the coordinator reads it for each job kind: a
// profile's points carry no method; a latency job's points each carry one.
struct ProfileBody : MeasurementDocument {};
struct LatencyBody : MeasurementDocument {};

// The latency an eval measured on its first batch (docs/accuracy.md).
struct EvalLatencyBody {
  int64_t batch = 0;
  double median_ms = 0;
  std::optional<double> p5_ms, p95_ms, mean_ms, stddev_ms;
  std::optional<double> median_ci95_relative_half_width;  // nullable: too few samples
  std::optional<int64_t> samples;
  std::optional<bool> stable, reached_precision;
  std::optional<double> per_image_ms;
};

// Weights clustered at load (docs/cluster.md).
struct EvalClustering {
  int64_t clusters = 0;
  std::string weights_sha256;
  int64_t dense_tensor_bytes = 0;
  int64_t clustered_tensor_bytes = 0;
};

// What `tailsweep-agent eval` writes about any evaluation, with one method
// or along a token grid.
struct EvalRun {
  int64_t schema_version = 1;
  BodyProvenance provenance;
  std::string model;
  std::optional<std::string> weights;  // the weights' label
  std::optional<std::string> weights_sha256;
  std::string dataset;
  std::string split;
  std::string method;
  std::optional<int64_t> limit;  // nullable: the whole split
  std::optional<int64_t> seed;
  int64_t batch = 0;   // 0 only in an accuracy curve of schema < 3, which left it out
  int64_t images = 0;  // likewise
  std::optional<EvalClustering> clustering;
  std::optional<double> images_per_s;
};

// An 'eval' job's result: one method over the images.
struct EvalBody : EvalRun {
  double top1 = 0;  // fractions in [0, 1]
  double top5 = 0;
  // Schema 3: which images it got right (top-1), in the order of the
  // images, and which images those were (SHA-256 of the dataset, split and
  // image indices): two evals with the same images_sha256 can be compared
  // image by image (McNemar's test). Empty / absent from older agents.
  std::vector<bool> top1_correct;
  std::optional<std::string> images_sha256;
  std::optional<EvalLatencyBody> latency;  // nullable
  std::optional<HdpBody> hdp;              // a method with HDP: what it pruned over the images
};

struct AccuracyPoint {
  int64_t tokens = 0;
  std::optional<std::string> method;  // "random:N" (schema 3)
  double top1 = 0;
  double top5 = 0;
  int64_t images = 0;
};

// An 'accuracy_curve' job's result: random pruning to each token count.
struct AccuracyCurveBody : EvalRun {
  std::vector<AccuracyPoint> points;  // at least one
};

// Per-image bits as text: two hex digits per 8 images, image i in bit
// (i % 8) of byte i / 8, unused bits 0 ("top1_correct").
std::string bits_to_hex(const std::vector<bool>& bits);
// InputError unless hex holds exactly `count` bits that way.
std::vector<bool> bits_from_hex(std::string_view hex, std::size_t count);

// Strict readers: a missing, mistyped or (schema 3) unknown field is an
// InputError naming it ("profile result: points[2].median_ms: missing").
ProfileBody parse_profile_body(const nlohmann::json& body);
LatencyBody parse_latency_body(const nlohmann::json& body);
EvalBody parse_eval_body(const nlohmann::json& body);
AccuracyCurveBody parse_accuracy_curve_body(const nlohmann::json& body);
ArchitectureDocument parse_architecture_body(const nlohmann::json& body);

// The writers, as the agent sends them (always the current schema version).
nlohmann::json to_json(const MeasurementDocument& document);
nlohmann::json to_json(const ArchitectureDocument& document);
nlohmann::json to_json(const EvalBody& body);
nlohmann::json to_json(const AccuracyCurveBody& body);
nlohmann::json to_json(const HdpBody& hdp);

// The shares an eval result's "hdp" object measured, per block: a simulated
// device's input for HDP. InputError when the eval measured none.
HdpMeasuredShares hdp_shares_of(const EvalBody& eval, std::optional<int64_t> source_job_id);

}  // namespace tailsweep::protocol
