#pragma once
// The JSON bodies that results carry, parsed strictly into typed structs at
// the edge, before anything is stored: a body missing a required field, or
// with one of the wrong type, is refused with an InputError that names the
// field (e.g. "schedule result: n_star: missing"). The agents' documents are
// defined in common/wire/result_document.h; the coordinator's own (schedule
// and match) here. Pure: no SQLite.
//
// A field written as "nullable" below must be present but may be null; an
// "optional" one may also be absent. Nulls are kept as nulls, never guessed.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/wire/result_document.h"

namespace tailsweep::store {

// The agent's result documents, defined once in common/wire, as the store
// names them.
using protocol::AccuracyCurveBody;
using protocol::AccuracyPoint;
using protocol::ArchitectureDocument;
using protocol::BodyProvenance;
using protocol::EvalBody;
using protocol::HdpBody;
using protocol::LatencyBody;
using protocol::MeasurementBody;
using protocol::PairedRatioBody;
using protocol::parse_accuracy_curve_body;
using protocol::parse_eval_body;
using protocol::parse_latency_body;
using protocol::parse_profile_body;
using protocol::PointPower;
using protocol::PowerInfoBody;
using protocol::ProfileBody;
using protocol::ProfilePoint;
using protocol::RoundRecordBody;
using protocol::RoundsBody;
using protocol::WeightVariantBody;

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

ScheduleBody parse_schedule_body(const nlohmann::json& body);
MatchBody parse_match_body(const nlohmann::json& body);

}  // namespace tailsweep::store
