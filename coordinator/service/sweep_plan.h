#pragma once
// Sweep specs (docs/sweeps.md) parsed strictly, and expanded into jobs for
// the devices they select. Pure: no SQLite, no HTTP, so every rule of the
// expansion is unit-tested.
//
// Per workload (a model with its weights):
//   profile         one per selected device: its latency curve, every batch
//   accuracy_curve  once, on any real device: A(n) is device-independent
//   schedule        per (device, batch), run by the coordinator once that
//                   device's curve and the accuracy curve are done
//   eval            once per method, on any real device (the baseline
//                   "none" always); POMT's eval is added when a schedule
//                   gives its R (one per distinct R); with "clustering",
//                   one more per K: the baseline on weights clustered to K
//                   values per matrix at load (docs/cluster.md)
//   latency         with "clustering", one per selected device: the dense
//                   and clustered models timed in the same rounds
//   eval            with "hdp", once per setting, on any real device
//   latency         with "hdp", one per selected real device: "none" and
//                   every setting in the same rounds
//   hdp_latency     with "hdp", one per selected simulated device, run by
//                   the coordinator once the settings' evals are done: it
//                   queues that device's latency job with the shares of
//                   heads and blocks they measured (its model's input)
// and for "design_space":
//   architecture    per (architecture of the sample, selected device)
// and, once a schedule has POMT's R (coordinator/service/coordinator_jobs.h):
//   latency         on that device and batch: the baseline, every method
//                   asked, POMT at R and the matching candidates, each timed
//                   on the full input
//   match           run by the coordinator: the Top-K and ToMe r closest in
//                   latency to POMT's, whose evals it then queues
// With "hdp" and its "pomt", the schedule also queues each setting composed
// with POMT at R (pomt:R@L+hdp:...): its eval, and its latency (in the
// device's latency job, or on a simulated device by an hdp_latency job).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/wire/protocol.h"
#include "coordinator/service/design_sweep.h"
#include "coordinator/store/store.h"

namespace tailsweep::coordinator {

// Queue priorities: curves first (the schedules wait on them), then the
// per-device latency jobs, the accuracy curve, and the evaluations.
inline constexpr int64_t kProfilePriority = 20;
inline constexpr int64_t kLatencyPriority = 15;
inline constexpr int64_t kAccuracyPriority = 10;
inline constexpr int64_t kEvalPriority = 0;

struct DeviceSelector {
  std::vector<std::string> names;  // each list empty: no constraint
  std::vector<std::string> kinds;
  std::vector<std::string> tags;  // any of them
  bool skip_offline = false;      // leave out devices whose agents are gone
};

struct CurveSettings {
  std::vector<int64_t> batches{1};
  std::string tokens = "2:197:5";
  double precision = 0.01;
  double time_cap_s = 10.0;
  double warmup_s = 2.0;
};

struct AccuracySettings {
  std::string dataset = "fashion-mnist";
  std::string split = "test";
  std::string tokens = "2:197:5";
  int64_t limit = 0;
  int64_t batch = 64;
};

struct ScheduleSettings {
  double alpha = 0.5;
  int64_t layer = 3;
  // "variants": ["reference"] or ["reference", "aligned"] (the default): the
  // step-aligned schedule (analysis/pomt_schedule.h) beside POMT's own,
  // evaluated and timed like it.
  bool aligned = true;
};

struct EvaluationSettings {
  std::string dataset = "fashion-mnist";
  std::string split = "test";
  int64_t limit = 0;
  int64_t batch = 64;
  std::vector<std::string> methods;  // besides the baseline "none"
  bool pomt = true;                  // evaluate POMT at each schedule's R
  bool matched = true;               // and Top-K / ToMe at POMT's latency, per device
  double match_tolerance = 0.05;     // what "matched" means: within 5% where the grid allows
};

// A paired latency job's batches and stopping rule.
struct PairedLatencySettings {
  std::vector<int64_t> batches{1};
  double precision = 0.01;
  double time_cap_s = 10.0;
  double warmup_s = 2.0;
};

// The paired latency job of weight clustering, one per selected device:
// "none" on the weights as given and on each K, in the same rounds.
struct ClusteringLatencySettings {
  PairedLatencySettings timing;
  // auto: the lookup GEMM on cpu and sim devices, decoded at load (dense)
  // on cuda and jetson ones, where no lookup kernel exists yet.
  std::string weight_kernel = "auto";
};

// Weight clustering (Tabani et al., as Deep Compression's weight sharing):
// the dense model evaluated with its weights clustered to each K, and
// timed beside the dense one on every device ("latency": false to skip).
struct ClusteringSettings {
  std::vector<int64_t> clusters;  // each 2..256, each once
  std::optional<ClusteringLatencySettings> latency{std::in_place};
};

// Hybrid Dynamic Pruning (Jaradat et al., docs/hdp.md): a grid of settings,
// each evaluated, and timed beside "none" on every selected device; a
// simulated one models them from the shares of heads and blocks that the
// evaluations measured (what HDP prunes depends on the images, which a GPU
// model does not see).
struct HdpSettings {
  std::vector<std::string> settings;  // canonical method specs, "hdp:heads=...,..."
  // Each setting also composed with POMT at every schedule's R (needs
  // "schedule" and evaluations.pomt).
  bool pomt = true;
  std::optional<PairedLatencySettings> latency{std::in_place};
};

struct Workload {
  std::string model;
  std::optional<std::string> weights;  // a path on the agents
  uint64_t seed = 0;
  std::optional<CurveSettings> curves;
  std::optional<AccuracySettings> accuracy;
  std::optional<ScheduleSettings> schedule;  // needs curves and accuracy
  std::optional<EvaluationSettings> evaluations;
  std::optional<ClusteringSettings> clustering;  // needs evaluations (its dataset)
  std::optional<HdpSettings> hdp;                // needs evaluations (its dataset)
};

// Attempts a job may use before it fails (each lease that expires or
// failure an agent reports uses one), unless the sweep asks for another.
inline constexpr int64_t kDefaultMaxAttempts = 3;
inline constexpr int64_t kMaxMaxAttempts = 100;

struct SweepSpec {
  std::string name;
  DeviceSelector devices;
  std::vector<Workload> workloads;  // may be empty when design_space is set
  // EdgeTran's design space: a sample of architectures, each timed on every
  // selected device (coordinator/service/design_sweep.h).
  std::optional<DesignSweepSettings> design_space;
  int64_t max_attempts = kDefaultMaxAttempts;  // every job's, those queued later included
};

// Throws InputError naming the field: unknown fields, unknown models, bad
// grids, methods the model cannot run, a schedule without its curves.
SweepSpec parse_sweep_spec(const nlohmann::json& spec);

struct FleetDevice {
  int64_t id = 0;
  std::string name;
  std::string kind;
  bool simulated = false;
  std::vector<std::string> tags;
  bool online = true;  // an agent of it is present (store::device_state); retired ones are left out
};

bool selects(const DeviceSelector& selector, const FleetDevice& device);

// The default of `tailsweep serve --max-sweep-jobs`: far above a real
// sweep (the ImageNet example plans 13 jobs per Jetson), and small enough
// that planning and storing a sweep holds the writer well under a second.
inline constexpr std::size_t kDefaultMaxSweepJobs = 10'000;

// The jobs of a sweep over the fleet as it is now. Throws InputError when
// the selector matches no device, when accuracy or evaluations are asked
// and no real (non-simulated) device is selected to run them, or when the
// sweep would plan more than max_jobs jobs.
std::vector<store::PlannedJob> plan_sweep(const SweepSpec& spec,
                                          const std::vector<FleetDevice>& fleet,
                                          std::size_t max_jobs = kDefaultMaxSweepJobs);

// The spec of a schedule job (what the coordinator needs to compute it and
// to queue POMT's evaluation afterwards).
struct ScheduleJobSpec {
  int64_t device_id = 0;
  std::string model;
  int64_t batch = 1;
  double alpha = 0.5;
  int64_t layer = 3;
  int64_t tokens_total = 0;
  std::optional<nlohmann::json> pomt_eval;  // an EvalJobSpec without its method
  // A ProfileJobSpec with the methods to time on this device once R is known
  // (POMT's is added); absent: no per-device method latencies.
  std::optional<nlohmann::json> latency_job;
  bool matched = false;  // queue a match job after the latency job
  double match_tolerance = 0.05;
  bool aligned = false;  // also the step-aligned variant (its eval and its latency)
  // HDP settings ("hdp:...") composed with POMT's reference R: each
  // evaluated, and timed: in the latency job on a real device; on a
  // simulated one by an hdp_latency job once the evaluations have measured
  // what its model needs (coordinator_jobs.h).
  std::vector<std::string> hdp_methods;
  bool device_simulated = false;
};
ScheduleJobSpec parse_schedule_job_spec(const nlohmann::json& spec);
nlohmann::json to_json(const ScheduleJobSpec& spec);

// The spec of an hdp_latency job: a simulated device's latency job of HDP
// methods, queued once the evaluations it depends on have measured what
// each method pruned per block (its hdp_shares are filled in then).
struct HdpLatencyJobSpec {
  int64_t device_id = 0;
  protocol::ProfileJobSpec latency_job;
};
HdpLatencyJobSpec parse_hdp_latency_job_spec(const nlohmann::json& spec);
nlohmann::json to_json(const HdpLatencyJobSpec& spec);
// The coordinator job that queues `latency` on a simulated device once the
// evaluations it will depend on are done (the caller sets the dependencies).
store::PlannedJob hdp_latency_job(int64_t device_id, protocol::ProfileJobSpec latency);

}  // namespace tailsweep::coordinator
