// The coordinator's side of the eval and accuracy-curve documents: strict
// reading into the structs of result_document.h.
#include <algorithm>
#include <cmath>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "common/util/errors.h"
#include "common/util/json_fields.h"
#include "common/util/sha256.h"
#include "common/wire/document_fields.h"
#include "common/wire/result_document.h"

namespace tailsweep::protocol {
namespace {

using nlohmann::json;
using namespace document;

EvalRun read_eval_run(const JsonFields& fields, Version version, std::string_view kind) {
  EvalRun run;
  run.schema_version = version.number;
  run.provenance = read_provenance(fields, version);
  if (version.strict() && fields.text("kind") != kind) {
    fields.fail("kind", fmt::format("expected '{}' for this job", kind));
  }
  run.model = fields.text("model");
  run.weights = since_3(fields, version, "weights", [&] { return fields.text("weights"); });
  run.weights_sha256 = fields.nullable_text("weights_sha256");
  run.dataset = fields.text("dataset");
  run.split = fields.text("split");
  run.method = fields.text("method");
  if (version.strict()) run.limit = nullable_integer(fields, "limit", 1);
  const auto integer = [&](const char* key, int64_t minimum) {
    return since_3(fields, version, key, [&] { return fields.integer(key, minimum); });
  };
  run.seed = integer("seed", 0);
  // An eval has always said its batch and images; a curve from version 3.
  if (kind == "eval" || version.strict() || fields.has("batch")) {
    run.batch = fields.integer("batch", 1);
  }
  if (kind == "eval" || version.strict() || fields.has("images")) {
    run.images = fields.integer("images", 1);
  }
  run.images_per_s =
      since_3(fields, version, "images_per_s", [&] { return fields.number("images_per_s"); });
  if (fields.has("clusters")) {
    EvalClustering clustering;
    clustering.clusters = fields.integer("clusters", 2);
    if (clustering.clusters > 256) fields.fail("clusters", "more than 256");
    clustering.weights_sha256 = fields.text("clustered_weights_sha256");
    if (!is_sha256_hex(clustering.weights_sha256)) {
      fields.fail("clustered_weights_sha256", "not a SHA-256 in hex");
    }
    clustering.dense_tensor_bytes = fields.integer("dense_tensor_bytes", 1);
    clustering.clustered_tensor_bytes = fields.integer("clustered_tensor_bytes", 1);
    run.clustering = clustering;
  }
  return run;
}

// The keys every eval document may have; each kind adds its own.
const std::initializer_list<std::string_view> kEvalKeys = {
    "tool", "kind", "schema_version", "version", "git_sha", "build_type", "started_at", "model",
    "weights", "weights_sha256", "dataset", "split", "limit", "seed", "batch", "images", "device",
    "clusters", "clustered_weights_sha256", "dense_tensor_bytes", "clustered_tensor_bytes",
    "method", "images_per_s", "elapsed_s",
    // eval
    "top1", "top5", "top1_correct", "images_sha256", "hdp", "latency",
    // accuracy_curve
    "points"};

std::optional<EvalLatencyBody> read_eval_latency(const JsonFields& fields, Version version) {
  if (fields.is_null("latency")) return std::nullopt;
  const JsonFields l = fields.object("latency");
  reject_unknown_if(l, version,
                    {"batch", "median_ms", "p5_ms", "p95_ms", "mean_ms", "stddev_ms",
                     "median_ci95_relative_half_width", "samples", "stable", "reached_precision",
                     "per_image_ms"});
  EvalLatencyBody out;
  out.median_ms = l.number("median_ms");
  if (!version.strict()) return out;
  out.batch = l.integer("batch", 1);
  out.p5_ms = l.number("p5_ms");
  out.p95_ms = l.number("p95_ms");
  out.mean_ms = l.number("mean_ms");
  out.stddev_ms = l.number("stddev_ms");
  out.median_ci95_relative_half_width = l.nullable_number("median_ci95_relative_half_width");
  out.samples = l.integer("samples", 1);
  out.stable = l.boolean("stable");
  out.reached_precision = l.boolean("reached_precision");
  out.per_image_ms = l.number("per_image_ms");
  return out;
}

}  // namespace

EvalBody parse_eval_body(const json& body) {
  const JsonFields fields(body, "eval result");
  const Version version = read_version(fields);
  reject_unknown_if(fields, version, kEvalKeys);
  if (fields.has("points")) fields.fail("points", "an eval has one method, not a curve");
  EvalBody result;
  static_cast<EvalRun&>(result) = read_eval_run(fields, version, "eval");
  result.top1 = fields.fraction("top1");
  result.top5 = fields.fraction("top5");
  if (version.strict()) {
    const std::string hex = fields.text("top1_correct");
    try {
      result.top1_correct = bits_from_hex(hex, static_cast<std::size_t>(result.images));
    } catch (const InputError& error) {
      fields.fail("top1_correct", error.what());
    }
    const auto right = std::count(result.top1_correct.begin(), result.top1_correct.end(), true);
    if (std::abs(static_cast<double>(right) - result.top1 * static_cast<double>(result.images)) >
        0.5) {
      fields.fail("top1_correct", fmt::format("{} images right is not top1 {} of {}", right,
                                              result.top1, result.images));
    }
    result.images_sha256 = fields.text("images_sha256");
    if (!is_sha256_hex(*result.images_sha256)) {
      fields.fail("images_sha256", "not a SHA-256 in hex");
    }
  }
  result.latency = read_eval_latency(fields, version);
  result.hdp = read_hdp(fields, version);
  return result;
}

AccuracyCurveBody parse_accuracy_curve_body(const json& body) {
  const JsonFields fields(body, "accuracy-curve result");
  const Version version = read_version(fields);
  reject_unknown_if(fields, version, kEvalKeys);
  AccuracyCurveBody result;
  static_cast<EvalRun&>(result) = read_eval_run(fields, version, "accuracy_curve");
  for (const char* key : {"top1", "top5", "hdp", "latency"}) {
    if (version.strict() && fields.has(key)) fields.fail(key, "a curve keeps it per point");
  }
  const json& points = fields.array("points", true);
  for (std::size_t i = 0; i < points.size(); ++i) {
    const JsonFields point = fields.element("points", i, points[i]);
    reject_unknown_if(point, version, {"tokens", "method", "top1", "top5", "images"});
    result.points.push_back(
        AccuracyPoint{point.integer("tokens", 1),
                      since_3(point, version, "method", [&] { return point.text("method"); }),
                      point.fraction("top1"), point.fraction("top5"), point.integer("images", 1)});
  }
  return result;
}

std::vector<bool> bits_from_hex(std::string_view hex, std::size_t count) {
  if (hex.size() != 2 * ((count + 7) / 8)) {
    throw InputError(fmt::format("{} hex digits for {} images (expected {})", hex.size(), count,
                                 2 * ((count + 7) / 8)));
  }
  const auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    throw InputError("expected lower-case hex digits");
  };
  std::vector<bool> bits(count);
  for (std::size_t byte = 0; byte < hex.size() / 2; ++byte) {
    const int value = digit(hex[2 * byte]) * 16 + digit(hex[2 * byte + 1]);
    for (std::size_t bit = 0; bit < 8; ++bit) {
      const std::size_t i = 8 * byte + bit;
      const bool set = (value >> bit) & 1;
      if (i < count) {
        bits[i] = set;
      } else if (set) {
        throw InputError("a bit is set past the last image");
      }
    }
  }
  return bits;
}

HdpMeasuredShares hdp_shares_of(const EvalBody& eval, std::optional<int64_t> source_job_id) {
  if (!eval.hdp) {
    throw InputError(
        fmt::format("eval result: hdp: missing: '{}' measured no HDP shares", eval.method));
  }
  if (eval.hdp->per_block.empty()) {
    throw InputError("eval result: hdp.per_block: missing: the eval kept no per-block counts");
  }
  HdpMeasuredShares shares;
  shares.method = eval.method;
  for (const HdpCounts& block : eval.hdp->per_block) {
    shares.heads_pruned.push_back(block.heads_pruned_share());
    shares.blocks_pruned.push_back(block.blocks_pruned_share());
  }
  shares.source_job_id = source_job_id;
  return shares;
}

}  // namespace tailsweep::protocol
