#pragma once
// The coordinator's domain operations on its SQLite database: agents and
// devices, sweeps and their jobs, the lease-based job queue, and the results
// that agents send back (stored with provenance and unpacked into tables).
//
// Time is always passed in (now_s, unix seconds) so that tests control it.
// Every write is one transaction (BEGIN IMMEDIATE): it all happens or none of
// it does. Bad input (an unknown sweep, a malformed body) is an InputError.
//
// A Store is one SQLite connection: not thread-safe. Give each thread its own
// Store on the same file; WAL mode and busy_timeout serialise their writes.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/errors.h"
#include "coordinator/store/migrations.h"
#include "coordinator/store/result_bodies.h"
#include "coordinator/store/result_ingest.h"
#include "coordinator/store/sqlite.h"

namespace tailsweep::store {

// A registration under a device name that the fleet knows as another kind.
// The device's stored results are labelled by its kind (a simulated curve
// must never show as real), so the kind of a name never changes.
class DeviceKindConflict : public InputError {
 public:
  using InputError::InputError;
};

struct AgentRegistration {
  std::string device_name;
  std::string device_kind;  // cpu, cuda, jetson or sim
  bool simulated = false;   // must be true exactly for kind 'sim'
  std::vector<std::string> tags;
  std::string facts_json = "{}";  // the agent's device facts, a JSON object
  std::string token_sha256;       // sha256_hex(token): the token itself is never stored
  std::string version;
  std::string git_sha;
  double now_s = 0;
};

struct RegisteredAgent {
  int64_t agent_id = 0;
  int64_t device_id = 0;
};

struct AgentRow {
  int64_t id = 0;
  int64_t device_id = 0;
  std::string device_name;
  bool device_simulated = false;
  std::string version;
  std::string git_sha;
  double registered_at_s = 0;
  double last_seen_s = 0;
};

inline constexpr std::string_view kRunnerAgent = "agent";
inline constexpr std::string_view kRunnerCoordinator = "coordinator";

// A job the planner wants. Dependencies point at earlier jobs of the same
// batch (depends_on: indexes into the vector, each below the job's own, which
// rules out cycles) or at jobs already stored (depends_on_job_ids).
struct PlannedJob {
  std::string kind;  // profile, eval, accuracy_curve (agent) or schedule (coordinator)
  std::string runner = std::string(kRunnerAgent);
  std::optional<int64_t> device_id;  // empty: any real (non-simulated) device
  std::string spec_json = "{}";      // the payload the runner executes
  int64_t priority = 0;              // higher first
  int64_t max_attempts = 3;
  std::vector<std::size_t> depends_on;
  std::vector<int64_t> depends_on_job_ids;
};

struct Lease {
  int64_t job_id = 0;
  std::string lease_id;  // 128 random bits, hex: required to heartbeat or submit
  std::string kind;
  std::string spec_json;
  std::optional<int64_t> sweep_id;
  int64_t attempt = 0;  // 1 for the first lease of the job
  double expires_at_s = 0;
};

enum class SubmitOutcome {
  accepted,     // stored; the job is done
  duplicate,    // the same lease already delivered this exact body: nothing stored twice
  conflict,     // the same lease already delivered a different body: refused
  stale_lease,  // not the job's current lease (expired and requeued, cancelled, another's)
  unknown_job,
};
std::string_view to_string(SubmitOutcome outcome);

enum class FailOutcome {
  requeued,  // attempts remain: the job is queued again
  failed,    // that was the last attempt: the job (and its dependants) failed
  stale_lease,
  unknown_job,
};
std::string_view to_string(FailOutcome outcome);

struct JobRow {
  int64_t id = 0;
  std::optional<int64_t> sweep_id;
  std::string kind;
  std::string runner;
  std::optional<int64_t> device_id;
  std::string spec_json;
  std::string state;
  int64_t priority = 0;
  int64_t attempts = 0;
  int64_t max_attempts = 0;
  std::optional<std::string> lease_id;
  std::optional<int64_t> lease_agent_id;
  std::optional<double> lease_expires_at_s;
  std::optional<std::string> last_error;
  double created_at_s = 0;
  double updated_at_s = 0;
};

using StateCounts = std::map<std::string, int64_t>;  // job state -> count

struct DeviceJobCounts {
  std::optional<int64_t> device_id;  // empty: jobs for any real device, or the coordinator's
  std::string device;
  StateCounts jobs;
};

// A failed job of a sweep, with the error it failed with.
struct FailedJob {
  int64_t job_id = 0;
  std::string kind;
  std::string device;  // as in DeviceJobCounts
  int64_t attempts = 0;
  std::string error;
};

// One line of the sweep list: what GET /v1/sweeps shows.
struct SweepSummary {
  int64_t id = 0;
  std::string name;
  std::string state;
  double created_at_s = 0;
  std::optional<double> finished_at_s;
  StateCounts jobs;
};

struct SweepStatus : SweepSummary {
  std::vector<DeviceJobCounts> per_device;
  std::vector<std::pair<std::string, StateCounts>> per_kind;  // by kind, alphabetical
  std::vector<FailedJob> failures;  // the first kMaxFailuresListed failed jobs, by id
};
inline constexpr int64_t kMaxFailuresListed = 50;

struct DeviceRow {
  int64_t id = 0;
  std::string name;
  std::string kind;
  bool simulated = false;
  std::string tags_json;
  std::string facts_json;
  double first_seen_s = 0;
  double last_seen_s = 0;
  int64_t agents = 0;
  std::optional<double> retired_at_s;  // `devices retire`; cleared when an agent registers it
  // When the last of its agents that has not said goodbye was seen (null:
  // every agent of the device left cleanly, or it never had one).
  std::optional<double> present_agent_seen_s;
  int64_t active_leases = 0;
  // Its newest agent's build (empty before any agent registered it).
  std::string agent_version;
  std::string agent_git_sha;
};

// busy (an agent of it holds a lease), online (an agent that has not left
// was seen within ttl_s), offline, or retired. Pure.
std::string_view device_state(const DeviceRow& device, double now_s, double ttl_s);

struct QueueCounts {
  StateCounts jobs;  // every state, zeros included
  int64_t active_leases = 0;
  int64_t agents = 0;
  int64_t devices = 0;
};

struct MatchBody;  // result_bodies.h

struct ScheduleRow {
  std::optional<int64_t> sweep_id;
  std::optional<int64_t> job_id;
  int64_t device_id = 0;
  std::string model;
  int64_t batch = 1;
  std::string method = "pomt";
  double alpha = 0.5;
  int64_t tokens_total = 0;
  int64_t n_star = 0;
  int64_t r = 0;
  int64_t layer = 3;
  std::optional<double> latency_at_n_star_ms;
  std::optional<double> baseline_latency_ms;
  std::vector<int64_t> source_job_ids;
  std::string variant = "reference";  // or "aligned" (003_rounds.sql)
  std::optional<int64_t> tokens_after_pruning;
  std::optional<int64_t> step_below, step_above;  // the step an aligned row moved below
  // What the curve behind it held (007_validity.sql); absent from old bodies.
  std::optional<CurveValidity> validity;
};

class Store {
 public:
  // Opens a database already at this binary's schema version; otherwise an
  // InputError says to run `tailsweep db migrate` (or to use a newer binary).
  static Store open(const std::string& path);
  // Creates the file if needed and applies the pending migrations.
  static MigrationReport migrate(const std::string& path);

  // ---- agents and devices ----
  // Upserts the device by name (tags, facts, last_seen) and adds an agent
  // for it holding the token's hash. A name already registered with another
  // kind throws DeviceKindConflict and changes nothing. Names and tags must
  // pass check_name (common/text.h).
  RegisteredAgent register_agent(const AgentRegistration& registration);
  std::optional<AgentRow> agent_by_token_hash(std::string_view token_sha256);
  void touch_agent(int64_t agent_id, double now_s);
  std::vector<DeviceRow> devices();

  // ---- sweeps and jobs ----
  // Jobs without dependencies start queued, the others waiting.
  int64_t create_sweep(std::string_view name, std::string_view spec_json,
                       const std::vector<PlannedJob>& jobs, double now_s);
  // Jobs the planner adds to a sweep later (e.g. evaluations once a schedule
  // exists); returns their ids in order. A dependency already failed or
  // cancelled fails the new job at once. A finished sweep runs again.
  std::vector<int64_t> add_jobs(int64_t sweep_id, const std::vector<PlannedJob>& jobs,
                                double now_s);
  // Replaces the payload of a job that has not started (waiting or queued).
  void set_job_spec(int64_t job_id, std::string_view spec_json, double now_s);
  std::optional<JobRow> job(int64_t job_id);
  // Non-terminal jobs become cancelled; a lease held on one turns stale.
  void cancel_sweep(int64_t sweep_id, double now_s);
  SweepStatus sweep_status(int64_t sweep_id);
  // The newest sweeps first, at most `limit`.
  std::vector<SweepSummary> sweeps(int64_t limit);
  // Takes the device out of sweep planning and fails its unfinished jobs
  // ("device NAME was retired"), with their dependants; returns how many.
  // InputError for an unknown name.
  int64_t retire_device(std::string_view name, double now_s);
  // The agent exited cleanly: its device no longer counts it as present.
  void agent_left(int64_t agent_id, double now_s);

  // ---- the agents' queue ----
  // Claims the best queued agent job for the agent's device: one for that
  // device, or for any device when this one is real (a simulated device never
  // gets those). Highest priority first, then lowest id. Expired leases are
  // requeued first, in the same transaction.
  std::optional<Lease> lease_job(int64_t agent_id, double now_s, double ttl_s);
  // Extends the lease to now + ttl if this agent holds it: the job's current
  // lease (expired or not), or its last one if it expired and no other agent
  // has taken the job since (the job is leased again under it, the same
  // attempt).
  bool heartbeat(int64_t job_id, std::string_view lease_id, int64_t agent_id, double now_s,
                 double ttl_s);
  // Stores the body (its typed rows too, by the job's kind), marks the job
  // done, queues the dependants now ready and finishes the sweep when all its
  // jobs are. A lease that expired still counts while no other agent has
  // taken the job since (its result is the job's all the same). A
  // malformed body throws InputError and nothing is stored. The result was
  // read before (parse_result, off the writer's thread); only its checks
  // against the job and its rows run here.
  SubmitOutcome submit_result(int64_t job_id, std::string_view lease_id, int64_t agent_id,
                              const ParsedResult& result, double now_s);
  // The same from the body's text: reads it here, by the job's kind.
  SubmitOutcome submit_result(int64_t job_id, std::string_view lease_id, int64_t agent_id,
                              std::string_view body_json, double now_s);
  // Records the failure; requeues the job, or fails it (and its dependants)
  // when it has used its max_attempts.
  FailOutcome fail_job(int64_t job_id, std::string_view lease_id, int64_t agent_id,
                       std::string_view error, double now_s);
  // Expired leases go back to the queue, or fail at max_attempts; each is a
  // failures row. Returns how many leases expired.
  int requeue_expired(double now_s);
  // Read-only checks, so that idle polling never takes the write lock: a
  // job this agent could lease now; a lease that has expired or a
  // coordinator job that is ready (work for the maintenance write).
  bool has_work_for(int64_t agent_id);
  bool maintenance_due(double now_s);
  // A cheap check for long-polling: is there a job this agent could lease?
  bool has_queued_work_for(int64_t agent_id);
  QueueCounts queue_counts();

  // ---- jobs the coordinator runs itself (kind 'schedule') ----
  std::vector<JobRow> ready_coordinator_jobs();
  // Stores the body as the job's result; for a 'schedule' job the body is a
  // schedule (result_bodies.h) and becomes a schedules row, for a 'match'
  // job matched_baselines rows.
  void complete_coordinator_job(int64_t job_id, std::string_view body_json, double now_s);
  void fail_coordinator_job(int64_t job_id, std::string_view error, double now_s);
  int64_t insert_schedule(const ScheduleRow& schedule, double now_s);

  Database& database() { return db_; }

 private:
  explicit Store(Database db) : db_(std::move(db)) {}

  std::vector<int64_t> insert_jobs(int64_t sweep_id, const std::vector<PlannedJob>& jobs,
                                   double now_s);
  int requeue_expired_in_transaction(double now_s);
  struct AgentDevice {
    int64_t device_id = 0;
    bool simulated = false;
    bool left = false;  // said goodbye: takes no more jobs
  };
  AgentDevice agent_device(int64_t agent_id);
  std::optional<int64_t> best_queued_job_for(const AgentDevice& device);
  // Moves a job to done, failed or cancelled: clears its lease, queues the
  // dependants now ready (done) or fails them (failed), and finishes the
  // sweeps whose jobs are now all terminal.
  void finish_job(int64_t job_id, std::string_view state,
                  const std::optional<std::string>& last_error, double now_s);
  void finish_sweep_if_complete(int64_t sweep_id, double now_s);
  int64_t insert_schedule_in_transaction(const ScheduleRow& schedule, double now_s);
  void insert_matches(std::optional<int64_t> sweep_id, int64_t job_id, const MatchBody& body,
                      double now_s);

  Database db_;
};

}  // namespace tailsweep::store
