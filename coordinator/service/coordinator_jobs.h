#pragma once
// The jobs the coordinator runs itself, once their dependencies are done
// (docs/sweeps.md):
//   schedule  POMT's n* and R from a device's curve and the accuracy curve;
//             then queues POMT's evaluation at R (once per distinct R), and
//             that device's latency job with a match job after it; with
//             HDP settings, each composed with POMT at R likewise
//   hdp_latency  once the evaluations of HDP methods are done: the shares of
//             heads and blocks each pruned per block, put into a simulated
//             device's latency job of those methods, which it then queues
//   match     from the latency job: the Top-K and ToMe r whose latency is
//             closest to POMT's (common/matched_latency.h); then queues their
//             evaluations (once per distinct method)
// Each runs in one transaction: its result and the jobs it queues land
// together or not at all.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "coordinator/store/store.h"

namespace tailsweep::coordinator {

// The spec of a match job.
struct MatchJobSpec {
  int64_t device_id = 0;
  std::string model;
  int64_t batch = 1;
  std::string target_method;  // canonical pomt:R[@L]
  double tolerance = 0.05;
  std::vector<std::string> families;   // topk, tome
  std::optional<nlohmann::json> eval;  // an EvalJobSpec without its method
};
MatchJobSpec parse_match_job_spec(const nlohmann::json& spec);
nlohmann::json to_json(const MatchJobSpec& spec);

// Runs one ready coordinator job and completes it; throws on failure (the
// caller records it as the job's failure).
void run_coordinator_job(store::Store& store, const store::JobRow& job, double now_s);

}  // namespace tailsweep::coordinator
