#pragma once
// Unpacks a parsed result body into its tables: a profile into curve_points
// and power, a latency job's into method_latency, an eval into evaluations,
// an accuracy curve into accuracy_points, an architecture into architectures
// and architecture_measurements. Runs inside the caller's transaction.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json_fwd.hpp>

#include "coordinator/store/migrations.h"
#include "coordinator/store/result_bodies.h"
#include "coordinator/store/sqlite.h"

namespace tailsweep::store {

using AgentResultBody =
    std::variant<ProfileBody, LatencyBody, EvalBody, AccuracyCurveBody, ArchitectureDocument>;

// The agent job kinds whose results are unpacked into tables.
bool is_agent_result_kind(std::string_view kind);

// Parses body as the result of a job of this kind; InputError when it does
// not fit (or the kind has no result body).
AgentResultBody parse_agent_result_body(std::string_view kind, const nlohmann::json& body);

const BodyProvenance& provenance_of(const AgentResultBody& body);

// A result read once, on the request's thread, before the writer sees it:
// the document in its struct, and the text and digest that are stored.
struct ParsedResult {
  std::string kind;  // of the job it was read for
  AgentResultBody body;
  std::string body_json;
  std::string body_sha256;
};
ParsedResult parse_result(std::string_view kind, const nlohmann::json& body);

struct ResultTarget {
  int64_t result_id = 0;
  int64_t job_id = 0;
  int64_t device_id = 0;
};

void insert_result_rows(Database& db, const ResultTarget& target, const AgentResultBody& body);

// Finds the steps of every stored profile that has none, from its stored
// body (migration 010's code step); counts what it read and what it could not.
void backfill_latency_steps(Database& db, StepBackfill& backfill);

}  // namespace tailsweep::store
