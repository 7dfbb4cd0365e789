#include "coordinator/store/result_bodies.h"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "common/errors.h"

namespace tailsweep::store {
namespace {

using nlohmann::json;

// Typed access to one JSON object's fields, naming the full path of a field
// in every error ("eval result: latency.median_ms: expected a number").
class Fields {
 public:
  Fields(const json& object, std::string what, std::string path = "")
      : object_(object), what_(std::move(what)), path_(std::move(path)) {
    if (!object_.is_object()) fail("", "expected a JSON object");
  }

  [[noreturn]] void fail(std::string_view key, std::string_view problem) const {
    const std::string where = path_.empty() ? std::string(key)
                              : key.empty() ? path_
                                            : fmt::format("{}.{}", path_, key);
    throw InputError(where.empty() ? fmt::format("{}: {}", what_, problem)
                                   : fmt::format("{}: {}: {}", what_, where, problem));
  }

  std::string child_path(std::string_view key) const {
    return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
  }
  const std::string& what() const { return what_; }

  bool has(std::string_view key) const { return object_.contains(key); }
  bool is_null(std::string_view key) const { return at(key).is_null(); }

  const json& at(std::string_view key) const {
    const auto found = object_.find(key);
    if (found == object_.end()) fail(key, "missing");
    return *found;
  }

  std::string text(std::string_view key) const {
    const json& value = at(key);
    if (!value.is_string() || value.get_ref<const std::string&>().empty()) {
      fail(key, "expected a non-empty string");
    }
    return value.get<std::string>();
  }
  std::optional<std::string> nullable_text(std::string_view key) const {
    return is_null(key) ? std::nullopt : std::optional(text(key));
  }
  std::optional<std::string> optional_text(std::string_view key) const {
    return has(key) ? nullable_text(key) : std::nullopt;
  }

  double number(std::string_view key) const {
    const json& value = at(key);
    if (!value.is_number()) fail(key, "expected a number");
    return value.get<double>();
  }
  std::optional<double> nullable_number(std::string_view key) const {
    return is_null(key) ? std::nullopt : std::optional(number(key));
  }
  std::optional<double> optional_number(std::string_view key) const {
    return has(key) ? nullable_number(key) : std::nullopt;
  }
  double fraction(std::string_view key) const {
    const double value = number(key);
    if (value < 0 || value > 1) fail(key, fmt::format("{} is not a fraction in [0, 1]", value));
    return value;
  }

  int64_t integer(std::string_view key, int64_t minimum) const {
    const json& value = at(key);
    if (!value.is_number_integer()) fail(key, "expected an integer");
    const auto result = value.get<int64_t>();
    if (result < minimum) fail(key, fmt::format("{} is below {}", result, minimum));
    return result;
  }

  bool boolean(std::string_view key) const {
    const json& value = at(key);
    if (!value.is_boolean()) fail(key, "expected true or false");
    return value.get<bool>();
  }

  const json& array(std::string_view key, bool non_empty) const {
    const json& value = at(key);
    if (!value.is_array()) fail(key, "expected an array");
    if (non_empty && value.empty()) fail(key, "expected at least one element");
    return value;
  }

  Fields object(std::string_view key) const { return Fields(at(key), what_, child_path(key)); }
  Fields element(std::string_view key, std::size_t index, const json& value) const {
    return Fields(value, what_, fmt::format("{}[{}]", child_path(key), index));
  }

 private:
  const json& object_;
  std::string what_;
  std::string path_;
};

BodyProvenance read_provenance(const Fields& fields) {
  BodyProvenance provenance;
  provenance.version = fields.optional_text("version");
  provenance.git_sha = fields.optional_text("git_sha");
  if (fields.has("device") && !fields.is_null("device")) {
    if (!fields.at("device").is_object()) fields.fail("device", "expected a JSON object");
    provenance.device_json = fields.at("device").dump();
  }
  return provenance;
}

std::optional<PointPower> read_point_power(const Fields& point) {
  if (point.is_null("power")) return std::nullopt;
  const Fields power = point.object("power");
  return PointPower{power.nullable_number("average_w"), power.nullable_number("peak_w"),
                    power.nullable_number("joules_per_forward"),
                    power.nullable_number("joules_per_image")};
}

ProfilePoint read_profile_point(const Fields& point) {
  ProfilePoint result;
  result.batch = point.integer("batch", 1);
  result.tokens = point.integer("tokens", 1);
  result.median_ms = point.number("median_ms");
  result.median_ci95_low_ms = point.optional_number("median_ci95_low_ms");
  result.median_ci95_high_ms = point.optional_number("median_ci95_high_ms");
  result.p5_ms = point.number("p5_ms");
  result.p25_ms = point.number("p25_ms");
  result.p75_ms = point.number("p75_ms");
  result.p95_ms = point.number("p95_ms");
  result.mean_ms = point.number("mean_ms");
  result.stddev_ms = point.number("stddev_ms");
  result.mad_ms = point.number("mad_ms");
  result.samples = point.integer("samples", 1);
  result.stable = point.boolean("stable");
  result.reached_precision = point.boolean("reached_precision");
  const json& raw = point.array("raw_ms", true);
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (!raw[i].is_number()) {
      point.fail(fmt::format("raw_ms[{}]", i), "expected a number (every sample is kept)");
    }
  }
  result.raw_ms_json = raw.dump();
  result.power = read_point_power(point);
  return result;
}

}  // namespace

json parse_json_text(std::string_view text, std::string_view what) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& error) {
    throw InputError(fmt::format("{} is not valid JSON: {}", what, error.what()));
  }
}

ProfileBody parse_profile_body(const json& body) {
  const Fields fields(body, "profile result");
  ProfileBody result;
  result.provenance = read_provenance(fields);
  result.model = fields.object("model").text("name");
  result.mode = fields.text("mode");
  if (result.mode != "model" && result.mode != "block") {
    fields.fail("mode", fmt::format("'{}' is neither 'model' nor 'block'", result.mode));
  }
  const Fields power = fields.object("power");
  result.power_available = power.boolean("available");
  if (result.power_available) {
    result.power_sensor = power.text("sensor");
    result.idle_w = power.nullable_number("idle_w");
  } else {
    result.power_unavailable_reason = power.text("reason");
  }
  const json& points = fields.array("points", true);
  for (std::size_t i = 0; i < points.size(); ++i) {
    result.points.push_back(read_profile_point(fields.element("points", i, points[i])));
  }
  return result;
}

EvalBody parse_eval_body(const json& body) {
  const Fields fields(body, "eval result");
  EvalBody result;
  result.provenance = read_provenance(fields);
  result.model = fields.text("model");
  result.weights_sha256 = fields.nullable_text("weights_sha256");
  result.dataset = fields.text("dataset");
  result.split = fields.text("split");
  result.method = fields.text("method");
  result.batch = fields.integer("batch", 1);
  result.images = fields.integer("images", 1);
  result.top1 = fields.fraction("top1");
  result.top5 = fields.fraction("top5");
  if (!fields.is_null("latency")) {
    result.latency_median_ms = fields.object("latency").number("median_ms");
  }
  return result;
}

AccuracyCurveBody parse_accuracy_curve_body(const json& body) {
  const Fields fields(body, "accuracy-curve result");
  AccuracyCurveBody result;
  result.provenance = read_provenance(fields);
  result.model = fields.text("model");
  result.weights_sha256 = fields.nullable_text("weights_sha256");
  result.dataset = fields.text("dataset");
  result.split = fields.text("split");
  result.method = fields.text("method");
  const json& points = fields.array("points", true);
  for (std::size_t i = 0; i < points.size(); ++i) {
    const Fields point = fields.element("points", i, points[i]);
    result.points.push_back(AccuracyPoint{point.integer("tokens", 1), point.fraction("top1"),
                                          point.fraction("top5"), point.integer("images", 1)});
  }
  return result;
}

ScheduleBody parse_schedule_body(const json& body) {
  const Fields fields(body, "schedule result");
  ScheduleBody result;
  result.device_id = fields.integer("device_id", 1);
  result.model = fields.text("model");
  result.batch = fields.integer("batch", 1);
  result.method = fields.text("method");
  if (result.method != "pomt") fields.fail("method", "only 'pomt' schedules are stored");
  result.alpha = fields.fraction("alpha");
  result.tokens_total = fields.integer("tokens_total", 2);
  result.n_star = fields.integer("n_star", 1);
  if (result.n_star > result.tokens_total) {
    fields.fail("n_star", fmt::format("{} exceeds tokens_total {}", result.n_star,
                                      result.tokens_total));
  }
  result.r = fields.integer("r", 0);
  result.layer = fields.integer("layer", 0);
  result.latency_at_n_star_ms = fields.nullable_number("latency_at_n_star_ms");
  result.baseline_latency_ms = fields.nullable_number("baseline_latency_ms");
  const json& sources = fields.array("source_job_ids", false);
  for (std::size_t i = 0; i < sources.size(); ++i) {
    if (!sources[i].is_number_integer()) {
      fields.fail(fmt::format("source_job_ids[{}]", i), "expected a job id");
    }
    result.source_job_ids.push_back(sources[i].get<int64_t>());
  }
  return result;
}

}  // namespace tailsweep::store
