#pragma once
// The agent <-> coordinator protocol (docs/protocol.md): every request and
// response body as a typed struct, parsed strictly at the edge (unknown
// fields, wrong types and out-of-range values are InputErrors naming the
// field) and written back with to_json. Both sides use these.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/design/architecture.h"

namespace tailsweep {
class JsonFields;
}

namespace tailsweep::protocol {

// The longest long-poll the coordinator holds (seconds).
inline constexpr double kMaxLeaseWaitS = 60.0;

// POST /v1/agents/register (enrollment token)
struct RegisterRequest {
  std::string name;  // the device's name, unique in the fleet
  std::string kind;  // cpu | cuda | jetson | sim
  std::vector<std::string> tags;
  nlohmann::json facts = nlohmann::json::object();  // the `device` object of a result
  std::string version;
  std::string git_sha;
};
RegisterRequest parse_register_request(const nlohmann::json& body);
nlohmann::json to_json(const RegisterRequest& request);

struct RegisterResponse {
  int64_t agent_id = 0;
  int64_t device_id = 0;
  std::string token;  // the agent's own bearer token; shown once, stored hashed
  double lease_ttl_s = 0;
  double heartbeat_interval_s = 0;
};
RegisterResponse parse_register_response(const nlohmann::json& body);
nlohmann::json to_json(const RegisterResponse& response);

// POST /v1/lease (agent token)
struct LeaseRequest {
  double wait_s = 0;  // 0..kMaxLeaseWaitS: how long to hold the request open for work
};
LeaseRequest parse_lease_request(const nlohmann::json& body);
nlohmann::json to_json(const LeaseRequest& request);

struct JobAssignment {
  int64_t job_id = 0;
  std::string lease_id;
  std::string kind;  // profile | latency | eval | accuracy_curve | architecture
  nlohmann::json spec = nlohmann::json::object();
  int64_t attempt = 1;
  double expires_at_s = 0;
};
// {"job": null} when the wait ended with no work.
struct LeaseResponse {
  std::optional<JobAssignment> job;
};
LeaseResponse parse_lease_response(const nlohmann::json& body);
nlohmann::json to_json(const LeaseResponse& response);

// POST /v1/jobs/{id}/heartbeat
struct HeartbeatRequest {
  std::string lease_id;
};
HeartbeatRequest parse_heartbeat_request(const nlohmann::json& body);
nlohmann::json to_json(const HeartbeatRequest& request);

// POST /v1/jobs/{id}/result
struct ResultRequest {
  std::string lease_id;
  nlohmann::json result = nlohmann::json::object();  // what profile / eval wrote
};
ResultRequest parse_result_request(const nlohmann::json& body);
nlohmann::json to_json(const ResultRequest& request);

// POST /v1/jobs/{id}/failure
struct FailureRequest {
  std::string lease_id;
  std::string error;
};
FailureRequest parse_failure_request(const nlohmann::json& body);
nlohmann::json to_json(const FailureRequest& request);

// ---- job specs: what an agent runs ----

// What HDP pruned in each block of an evaluation on a real device: the
// input from which a simulated device models HDP's latency (docs/hdp.md).
struct HdpMeasuredShares {
  std::string method;                    // one of the job's methods, with HDP
  std::vector<double> heads_pruned;      // per block: of the (image, head) pairs
  std::vector<double> blocks_pruned;     // per block: of the kept heads' 2x2 blocks
  std::optional<int64_t> source_job_id;  // the evaluation that measured them
};

nlohmann::json to_json(const HdpMeasuredShares& shares);

// One element of a latency job's "hdp_shares", read strictly (InputError
// naming the field).
HdpMeasuredShares read_hdp_shares(const JsonFields& fields);

// kind "profile": a latency curve (agent/profiling.h); kind "latency": the
// latency of whole configurations, each method on the full input.
struct ProfileJobSpec {
  std::string model;
  std::optional<std::string> weights;  // a path on the agent; absent: random weights
  std::vector<int64_t> batches{1};
  std::string tokens;                // profile: grid, "2:197:5" or "2,50,100"
  std::vector<std::string> methods;  // latency: method specs (exactly one of the two)
  double precision = 0.01;
  std::string mode = "model";
  // "rounds" (the default) or "blocks" (docs/profile.md). Written only when
  // not the default, so an agent from before rounds still takes the job.
  std::string protocol = "rounds";
  double time_cap_s = 10.0;
  double warmup_s = 2.0;
  uint64_t seed = 0;
  // latency only: each method also timed on the weights clustered at load
  // to each K (2..256, each once) in the same rounds, on weight_kernel
  // ("dense": decoded at load; "lookup": the CPU's lookup GEMM), paired with
  // the dense "none" (docs/cluster.md). Written only when set, so older
  // agents still read every other job.
  std::vector<int64_t> paired_clusters;
  std::string weight_kernel = "dense";
  // latency only, for a simulated device: the shares its model of each HDP
  // method uses. Written only when set.
  std::vector<HdpMeasuredShares> hdp_shares;
};
ProfileJobSpec parse_profile_job_spec(const nlohmann::json& spec);
nlohmann::json to_json(const ProfileJobSpec& spec);

// A job's or a sweep's "batches" (batch sizes >= 1, at least one), and its
// stopping rule's "precision", "time_cap_s" and "warmup_s", each read where
// present over the given defaults. InputError naming the field.
std::vector<int64_t> read_batches(const JsonFields& fields);
void read_stopping_rule(const JsonFields& fields, double& precision, double& time_cap_s,
                        double& warmup_s);

// kind "architecture": one design-space architecture (common/design/
// architecture.h) with random weights from `seed`, each batch on its full
// sequence, in rounds to `precision` (agent/measure/architecture_profiling.h).
struct ArchitectureJobSpec {
  design::Architecture architecture;
  std::vector<int64_t> batches{1};
  double precision = 0.02;
  double time_cap_s = 10.0;
  double warmup_s = 1.0;
  uint64_t seed = 0;
};
ArchitectureJobSpec parse_architecture_job_spec(const nlohmann::json& spec);
nlohmann::json to_json(const ArchitectureJobSpec& spec);

// kind "eval" (one method) or "accuracy_curve" (tokens set: random:n over the grid).
struct EvalJobSpec {
  std::string model;
  std::optional<std::string> weights;
  std::string dataset = "fashion-mnist";
  std::string split = "test";
  int64_t limit = 0;
  std::string method = "none";
  std::optional<std::string> tokens;  // accuracy_curve only
  int64_t batch = 64;
  uint64_t seed = 0;
  // 0: the weights as given; 2..256: clustered at load (docs/cluster.md).
  // Written only when set, so older agents still read every other job.
  int64_t clusters = 0;
};
EvalJobSpec parse_eval_job_spec(const nlohmann::json& spec);
nlohmann::json to_json(const EvalJobSpec& spec);

// The error body of every non-2xx answer: {"error": {"code", "message"}}.
struct ErrorBody {
  std::string code;
  std::string message;
};
// Best effort: a body that is not this shape gives code "unknown" and the
// raw text (truncated) as the message, for the client's log line.
ErrorBody parse_error_body(std::string_view text);

}  // namespace tailsweep::protocol
