// The result documents: what the agent's writer makes, the coordinator's
// reader takes back unchanged; version 3 is read strictly, older versions as
// they always were.
#include "common/wire/result_document.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/util/errors.h"

namespace tailsweep::protocol {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

std::string refusal(const std::function<void()>& read) {
  try {
    read();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(accepted)";
}

HdpCounts block_counts(int64_t heads_pruned, int64_t blocks_pruned) {
  HdpCounts c;
  c.heads = 6;
  c.heads_pruned = heads_pruned;
  c.blocks = 100;
  c.blocks_pruned = blocks_pruned;
  c.macs = 1000;
  c.macs_skipped = 10 * blocks_pruned;
  c.frac_macs_dropped = 7;
  c.int_macs = 500;
  return c;
}

ProfilePoint latency_point(const std::string& method, double median_ms) {
  ProfilePoint p;
  p.batch = 4;
  p.tokens = 65;
  p.visit_index = 1;
  p.median_ms = median_ms;
  p.median_ci95_low_ms = median_ms * 0.99;
  p.median_ci95_high_ms = median_ms * 1.01;
  p.median_ci95_relative_half_width = 0.01;
  p.p5_ms = p.p25_ms = p.p75_ms = p.p95_ms = p.mean_ms = median_ms;
  p.stddev_ms = 0.1;
  p.mad_ms = 0.05;
  p.min_ms = median_ms * 0.9;
  p.max_ms = median_ms * 1.2;
  p.iqr_ms = 0.1;
  p.samples = 2;
  p.stable = true;
  p.reached_precision = true;
  p.precision_of = "median";
  p.raw_ms = {median_ms, 12.3456789};
  p.raw_round = {0, 1};
  p.rounds = 2;
  p.load_average = 1.5;
  p.steal_fraction = std::nullopt;
  p.power = PointPower{3.0, 4.0, 0.03, 0.0075, 12};
  p.method = method;
  return p;
}

MeasurementDocument latency_document() {
  MeasurementDocument d;
  d.provenance = {"tailsweep-agent profile",
                  "0.1.0",
                  "abc1234",
                  "Release",
                  "2026-11-30T03:00:00Z",
                  12.5,
                  R"({"kind":"cpu","simulated":false})",
                  false};
  d.model = "fmnist-vit";
  d.shape = ModelShape{192, 6, 6, 65};
  d.weights = "random (seed 1)";
  d.mode = "model";
  d.weight_kernel = "dense";
  d.variants = {{std::nullopt, "dense", std::nullopt, 1000}};
  d.methods = std::vector<std::string>{"none", "hdp:heads=0.1"};
  d.measurement.schema_version = kResultSchemaVersion;
  d.measurement.points_planned = 2;
  d.measurement.method = {0.02, 0.95, 10, 6, 0.05, 10.0, 1.0, 1, "rounds", 0};
  RoundsBody rounds;
  rounds.count = 1;
  rounds.sentinel_batch = 4;
  rounds.sentinel_method = "none";
  rounds.drift = 1.01;
  rounds.max_load_average = 1.5;
  rounds.rounds = {{0, 2, 2.0, 1.5, 0.0}};
  d.measurement.rounds = rounds;
  d.power.available = true;
  d.power.sensor = "hwmon";
  d.power.period_ms = 10;
  d.power.idle_w = 1.0;
  d.points = {latency_point("none", 2.0), latency_point("hdp:heads=0.1", 2.5)};
  d.points[1].ratio = PairedRatioBody{1.25, 1.2, 1.3, 2, 4, std::nullopt, "none"};
  d.points[1].precision_of = "ratio";
  d.points[1].hdp = hdp_body_of({block_counts(1, 10), block_counts(2, 20)});
  return d;
}

TEST(ResultDocument, ALatencyDocumentReadsBackAsItWasWritten) {
  const json written = to_json(latency_document());
  EXPECT_EQ(written.at("schema_version"), kResultSchemaVersion);
  const LatencyBody read = parse_latency_body(written);
  EXPECT_EQ(to_json(read), written);  // every field, both ways
  EXPECT_EQ(read.points[1].hdp->total.heads_pruned, 3);
  EXPECT_EQ(read.points[1].hdp->per_block.size(), 2u);
  EXPECT_EQ(read.points[1].ratio->to_method, "none");
  EXPECT_EQ(read.measurement.method.protocol, "rounds");
  EXPECT_EQ(read.provenance.device_simulated, false);
  // The same document is no profile: its points carry methods.
  EXPECT_THAT(refusal([&] { parse_profile_body(written); }), HasSubstr("points[0].method"));
}

TEST(ResultDocument, RawSamplesKeepSixSignificantDigits) {
  MeasurementDocument d = latency_document();
  d.points[0].raw_ms = {12.3456789, 0.000123456789, 1234567.89, 0.0};
  const json raw = to_json(d).at("points").at(0).at("raw_ms");
  EXPECT_EQ(raw.dump(), "[12.3457,0.000123457,1234570.0,0.0]");
}

TEST(ResultDocument, VersionThreeIsReadStrictly) {
  const json written = to_json(latency_document());
  json unknown = written;
  unknown["colour"] = "blue";
  EXPECT_THAT(refusal([&] { parse_latency_body(unknown); }), HasSubstr("colour: unknown field"));
  json point_unknown = written;
  point_unknown["points"][0]["extra_ms"] = 1;
  EXPECT_THAT(refusal([&] { parse_latency_body(point_unknown); }),
              HasSubstr("points[0].extra_ms: unknown field"));
  json missing = written;
  missing["points"][0].erase("visit_index");
  EXPECT_THAT(refusal([&] { parse_latency_body(missing); }),
              HasSubstr("points[0].visit_index: missing"));
  json no_interval = written;  // an interval too few samples had is null, never left out
  no_interval["points"][0].erase("median_ci95_low_ms");
  EXPECT_THAT(refusal([&] { parse_latency_body(no_interval); }),
              HasSubstr("points[0].median_ci95_low_ms: missing"));
  json settings = written;
  settings["method"].erase("time_cap_s");
  EXPECT_THAT(refusal([&] { parse_latency_body(settings); }), HasSubstr("method.time_cap_s"));
  json newer = written;
  newer["schema_version"] = kResultSchemaVersion + 1;
  EXPECT_THAT(refusal([&] { parse_latency_body(newer); }), HasSubstr("update it"));
}

// An older agent's document: the fields it never wrote are left empty and
// fields the coordinator does not know are ignored, as before version 3.
TEST(ResultDocument, VersionTwoIsReadAsBefore) {
  json old = to_json(latency_document());
  old["schema_version"] = 2;
  for (const char* key : {"tool", "build_type", "started_at", "weights", "points_planned",
                          "methods", "variants", "paired_clusters", "hdp_shares"}) {
    old.erase(key);
  }
  old["model"] = {{"name", "fmnist-vit"}};
  old["method"] = {{"precision", 0.02}, {"protocol", "rounds"}};
  for (json& point : old["points"]) {
    point.erase("visit_index");
    point.erase("precision_of");
    point["power"].erase("readings");
    if (point.contains("hdp")) point["hdp"].erase("per_block");
  }
  old["points"][0]["something_new"] = true;
  const LatencyBody read = parse_latency_body(old);
  EXPECT_EQ(read.measurement.schema_version, 2);
  EXPECT_FALSE(read.points[0].visit_index);
  EXPECT_FALSE(read.points[0].precision_of);
  EXPECT_FALSE(read.measurement.points_planned);
  EXPECT_FALSE(read.measurement.method.time_cap_s);
  EXPECT_EQ(read.measurement.method.precision, 0.02);
  EXPECT_TRUE(read.points[1].hdp->per_block.empty());
  EXPECT_EQ(read.points[1].hdp->total.heads_pruned, 3);
}

TEST(ResultDocument, HdpBlocksMustAddUpToTheirTotals) {
  json written = to_json(latency_document());
  json& hdp = written["points"][1]["hdp"];
  hdp["per_block"][0]["heads_pruned"] = 0;
  hdp["per_block"][0]["heads_pruned_share"] = 0.0;
  EXPECT_THAT(refusal([&] { parse_latency_body(written); }),
              HasSubstr("points[1].hdp.per_block: the blocks' counts do not add up"));
  hdp["per_block"][0]["heads_pruned"] = 1;
  hdp["per_block"][0]["heads_pruned_share"] = 0.5;  // not 1 / 6
  EXPECT_THAT(refusal([&] { parse_latency_body(written); }),
              HasSubstr("per_block[0].heads_pruned_share: is not heads_pruned / heads"));
}

EvalBody hdp_eval() {
  EvalBody e;
  e.schema_version = kResultSchemaVersion;
  e.provenance = {"tailsweep-agent eval", "0.1.0", "abc1234",           "Release",
                  "2026-11-30T03:00:00Z", 40.0,    R"({"kind":"cpu"})", std::nullopt};
  e.model = "fmnist-vit";
  e.weights = "weights.safetensors";
  e.weights_sha256 = std::string(64, 'a');
  e.dataset = "fashion-mnist";
  e.split = "test";
  e.method = "hdp:heads=0.1";
  e.seed = 1;
  e.batch = 64;
  e.images = 1000;
  e.images_per_s = 900.0;
  e.top1 = 0.88;
  e.top5 = 0.99;
  e.top1_correct.assign(1000, false);
  for (int i = 0; i < 880; ++i) e.top1_correct[static_cast<std::size_t>(i * 1000 / 880)] = true;
  e.images_sha256 = std::string(64, 'b');
  e.latency = EvalLatencyBody{64, 20.0, 19.0, 22.0, 20.5, 0.5, 0.01, 30, true, true, 0.3125};
  e.hdp = hdp_body_of({block_counts(1, 10), block_counts(3, 30)});
  return e;
}

TEST(ResultDocument, AnEvalReadsBackAndGivesItsHdpShares) {
  const json written = to_json(hdp_eval());
  const EvalBody read = parse_eval_body(written);
  EXPECT_EQ(to_json(read), written);
  const HdpMeasuredShares shares = hdp_shares_of(read, 9);
  EXPECT_EQ(shares.method, "hdp:heads=0.1");
  EXPECT_EQ(shares.heads_pruned, (std::vector<double>{1.0 / 6, 3.0 / 6}));
  EXPECT_EQ(shares.blocks_pruned, (std::vector<double>{0.1, 0.3}));
  EXPECT_EQ(shares.source_job_id, 9);
  EvalBody plain = hdp_eval();
  plain.method = "none";
  plain.hdp.reset();
  EXPECT_THAT(refusal([&] { hdp_shares_of(plain, 9); }), HasSubstr("measured no HDP shares"));
  // An eval document is not a curve's, nor the other way round.
  EXPECT_THAT(refusal([&] { parse_accuracy_curve_body(written); }), HasSubstr("kind"));
}

TEST(ResultDocument, PerImageBitsAreCheckedAgainstTop1) {
  EXPECT_EQ(bits_to_hex({true, false, false, false, false, false, false, false, false, true}),
            "0102");
  EXPECT_EQ(bits_from_hex("0102", 10), (std::vector<bool>{true, false, false, false, false, false,
                                                          false, false, false, true}));
  EXPECT_THAT(refusal([] { bits_from_hex("0104", 10); }), HasSubstr("past the last image"));
  EXPECT_THAT(refusal([] { bits_from_hex("01", 10); }), HasSubstr("2 hex digits for 10 images"));
  EXPECT_THAT(refusal([] { bits_from_hex("0G02", 10); }), HasSubstr("hex digits"));
  json written = to_json(hdp_eval());
  written["top1"] = 0.87;  // 870 images, but 880 bits say right
  EXPECT_THAT(refusal([&] { parse_eval_body(written); }),
              HasSubstr("top1_correct: 880 images right is not top1 0.87 of 1000"));
}

TEST(ResultDocument, AnAccuracyCurveReadsBackAsItWasWritten) {
  AccuracyCurveBody curve;
  static_cast<EvalRun&>(curve) = hdp_eval();
  curve.method = "random";
  curve.points = {{65, "random:65", 0.88, 0.99, 1000}, {33, "random:33", 0.80, 0.97, 1000}};
  const json written = to_json(curve);
  EXPECT_EQ(to_json(parse_accuracy_curve_body(written)), written);
  json with_top1 = written;
  with_top1["top1"] = 0.5;
  EXPECT_THAT(refusal([&] { parse_accuracy_curve_body(with_top1); }),
              HasSubstr("top1: a curve keeps it per point"));
}

}  // namespace
}  // namespace tailsweep::protocol
