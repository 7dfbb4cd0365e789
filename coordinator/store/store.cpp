// Store: opening, agents and devices, sweeps and the jobs they plan.
// The queue (leases, results, failures) is in job_queue.cpp, the counts in
// store_status.cpp.
#include "coordinator/store/store.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "common/util/errors.h"
#include "common/util/sha256.h"
#include "common/util/text.h"
#include "common/wire/strict_json.h"
#include "coordinator/store/job_rows.h"
#include "coordinator/store/result_bodies.h"
#include "coordinator/store/result_ingest.h"

namespace tailsweep::store {
namespace {

// schema/010_composable_views.sql: it creates latency_steps.
constexpr int kLatencyStepsMigration = 10;

void require_json(std::string_view text, std::string_view what) { parse_strict_json(text, what); }

void validate_registration(const AgentRegistration& registration) {
  check_name("device name", registration.device_name);
  for (const std::string& tag : registration.tags) check_name("tag", tag);
  const std::string& kind = registration.device_kind;
  if (kind != "cpu" && kind != "cuda" && kind != "jetson" && kind != "sim") {
    throw InputError(fmt::format("device kind '{}' is not one of cpu, cuda, jetson, sim", kind));
  }
  if ((kind == "sim") != registration.simulated) {
    throw InputError(fmt::format(
        "device '{}': kind 'sim' and simulated=true go together (got kind '{}', simulated={})",
        registration.device_name, kind, registration.simulated));
  }
  if (!is_sha256_hex(registration.token_sha256)) {
    // A guard against storing a token in clear by mistake.
    throw InputError("an agent's token must be stored as its SHA-256 (64 lower-case hex digits)");
  }
  if (!parse_strict_json(registration.facts_json, "device facts").is_object()) {
    throw InputError("device facts must be a JSON object");
  }
}

void validate_planned_job(const PlannedJob& job, std::size_t index) {
  const bool agent_kind = is_agent_result_kind(job.kind);
  const bool coordinator_kind = job.kind == "schedule" || job.kind == "match" ||
                                job.kind == "hdp_latency" || job.kind == "design_step";
  if (!agent_kind && !coordinator_kind) {
    throw InputError(fmt::format(
        "job {}: kind '{}' is not one of profile, latency, eval, accuracy_curve, architecture, "
        "schedule, match, hdp_latency, design_step",
        index, job.kind));
  }
  const std::string_view expected_runner = agent_kind ? kRunnerAgent : kRunnerCoordinator;
  if (job.runner != expected_runner) {
    throw InputError(fmt::format("job {}: a '{}' job runs on the {}, not the '{}'", index, job.kind,
                                 expected_runner, job.runner));
  }
  if (job.max_attempts < 1) {
    throw InputError(fmt::format("job {}: max_attempts must be at least 1", index));
  }
  for (const std::size_t dependency : job.depends_on) {
    if (dependency >= index) {
      throw InputError(fmt::format(
          "job {}: depends on job {} of the same batch; a job may depend only on earlier ones",
          index, dependency));
    }
  }
  require_json(job.spec_json, fmt::format("job {}'s spec", index));
}

}  // namespace

std::string_view to_string(SubmitOutcome outcome) {
  switch (outcome) {
    case SubmitOutcome::accepted:
      return "accepted";
    case SubmitOutcome::duplicate:
      return "duplicate";
    case SubmitOutcome::conflict:
      return "conflict";
    case SubmitOutcome::stale_lease:
      return "stale_lease";
    case SubmitOutcome::unknown_job:
      return "unknown_job";
  }
  return "unknown";
}

std::string_view to_string(FailOutcome outcome) {
  switch (outcome) {
    case FailOutcome::requeued:
      return "requeued";
    case FailOutcome::failed:
      return "failed";
    case FailOutcome::stale_lease:
      return "stale_lease";
    case FailOutcome::unknown_job:
      return "unknown_job";
  }
  return "unknown";
}

Store Store::open(const std::string& path) {
  Database db(path, OpenOptions{});
  require_current_schema(db);
  return Store(std::move(db));
}

MigrationReport Store::migrate(const std::string& path) {
  Database db(path, OpenOptions{.read_only = false, .create = true});
  // Migration 010 added latency_steps; the profiles stored before it get
  // theirs in the same transaction.
  return apply_migrations(db, embedded_migrations(),
                          [](Database& migrated, int number, MigrationReport& report) {
                            if (number == kLatencyStepsMigration) {
                              backfill_latency_steps(migrated, report.step_backfill);
                            }
                          });
}

// ---- agents and devices ----

RegisteredAgent Store::register_agent(const AgentRegistration& registration) {
  validate_registration(registration);
  Transaction transaction(db_);
  RegisteredAgent registered;
  {
    auto known = db_.cached("SELECT kind FROM devices WHERE name = ?");
    known->bind(1, registration.device_name);
    if (known->step() && known->column_text(0) != registration.device_kind) {
      throw DeviceKindConflict(fmt::format(
          "device \"{}\" is registered as kind '{}', not '{}': its results stay labelled as "
          "they were measured; give this agent another name (--name)",
          registration.device_name, known->column_text(0), registration.device_kind));
    }
  }
  {
    auto upsert = db_.cached(
        "INSERT INTO devices (name, kind, simulated, tags, facts, first_seen, last_seen) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) "
        "ON CONFLICT (name) DO UPDATE SET "
        "tags = excluded.tags, facts = excluded.facts, last_seen = excluded.last_seen, "
        "retired_at = NULL RETURNING id");
    upsert->bind(1, registration.device_name)
        .bind(2, registration.device_kind)
        .bind(3, registration.simulated)
        .bind(4, nlohmann::json(registration.tags).dump())
        .bind(5, registration.facts_json)
        .bind(6, registration.now_s);
    upsert->step();
    registered.device_id = upsert->column_int64(0);
  }
  {
    auto existing = db_.cached("SELECT 1 FROM agents WHERE token_hash = ?");
    existing->bind(1, registration.token_sha256);
    if (existing->step()) throw InputError("this agent token is already registered");
  }
  auto insert = db_.cached(
      "INSERT INTO agents (device_id, token_hash, version, git_sha, registered_at, last_seen) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?5)");
  insert->bind(1, registered.device_id)
      .bind(2, registration.token_sha256)
      .bind(3, registration.version)
      .bind(4, registration.git_sha)
      .bind(5, registration.now_s);
  insert->execute();
  registered.agent_id = db_.last_insert_rowid();
  transaction.commit();
  return registered;
}

std::optional<AgentRow> Store::agent_by_token_hash(std::string_view token_sha256) {
  auto query = db_.cached(
      "SELECT a.id, a.device_id, d.name, d.simulated, a.version, a.git_sha, a.registered_at, "
      "a.last_seen FROM agents a JOIN devices d ON d.id = a.device_id WHERE a.token_hash = ?");
  query->bind(1, token_sha256);
  if (!query->step()) return std::nullopt;
  return AgentRow{query->column_int64(0),      query->column_int64(1), query->column_text(2),
                  query->column_int64(3) != 0, query->column_text(4),  query->column_text(5),
                  query->column_double(6),     query->column_double(7)};
}

void Store::touch_agent(int64_t agent_id, double now_s) {
  Transaction transaction(db_);
  {
    auto agent = db_.cached("UPDATE agents SET last_seen = ?2 WHERE id = ?1 RETURNING device_id");
    agent->bind(1, agent_id).bind(2, now_s);
    if (!agent->step()) throw InputError(fmt::format("no agent {}", agent_id));
    const int64_t device_id = agent->column_int64(0);
    agent->step();  // finishes the statement: one agent, one row
    auto device = db_.cached("UPDATE devices SET last_seen = max(last_seen, ?2) WHERE id = ?1");
    device->bind(1, device_id).bind(2, now_s);
    device->execute();
  }
  transaction.commit();
}

// ---- sweeps and jobs ----

int64_t Store::create_sweep(std::string_view name, std::string_view spec_json,
                            const std::vector<PlannedJob>& jobs, double now_s) {
  if (name.empty()) throw InputError("a sweep needs a name");
  require_json(spec_json, "the sweep's spec");
  Transaction transaction(db_);
  auto insert =
      db_.cached("INSERT INTO sweeps (name, spec, state, created_at) VALUES (?, ?, 'running', ?)");
  insert->bind(1, name).bind(2, spec_json).bind(3, now_s);
  insert->execute();
  const int64_t sweep_id = db_.last_insert_rowid();
  insert_jobs(sweep_id, jobs, now_s);
  // A sweep planned with no jobs at all has nothing left to do.
  finish_sweep_if_complete(sweep_id, now_s);
  transaction.commit();
  return sweep_id;
}

std::vector<int64_t> Store::add_jobs(int64_t sweep_id, const std::vector<PlannedJob>& jobs,
                                     double now_s) {
  Transaction transaction(db_);
  {
    auto sweep = db_.cached("SELECT state FROM sweeps WHERE id = ?");
    sweep->bind(1, sweep_id);
    if (!sweep->step()) throw InputError(fmt::format("no sweep {}", sweep_id));
    if (sweep->column_text(0) == "cancelled") {
      throw InputError(fmt::format("sweep {} is cancelled: no jobs can be added", sweep_id));
    }
  }
  {
    auto reopen = db_.cached(
        "UPDATE sweeps SET state = 'running', finished_at = NULL WHERE id = ? AND state <> "
        "'running'");
    reopen->bind(1, sweep_id);
    reopen->execute();
  }
  std::vector<int64_t> ids = insert_jobs(sweep_id, jobs, now_s);
  finish_sweep_if_complete(sweep_id, now_s);
  transaction.commit();
  return ids;
}

std::vector<int64_t> Store::insert_jobs(int64_t sweep_id, const std::vector<PlannedJob>& jobs,
                                        double now_s) {
  std::vector<int64_t> ids;
  ids.reserve(jobs.size());
  std::vector<int64_t> failed_on_arrival;
  for (std::size_t index = 0; index < jobs.size(); ++index) {
    const PlannedJob& job = jobs[index];
    validate_planned_job(job, index);
    if (job.device_id) {
      auto device = db_.cached("SELECT 1 FROM devices WHERE id = ?");
      device->bind(1, *job.device_id);
      if (!device->step()) {
        throw InputError(fmt::format("job {}: no device {}", index, *job.device_id));
      }
    }
    // The initial state follows from the dependencies: all done -> queued.
    bool all_done = true;
    std::optional<std::string> dead_dependency;
    for (const int64_t dependency : job.depends_on_job_ids) {
      auto state = db_.cached("SELECT state FROM jobs WHERE id = ?");
      state->bind(1, dependency);
      if (!state->step()) {
        throw InputError(
            fmt::format("job {}: depends on job {}, which does not exist", index, dependency));
      }
      const std::string dependency_state = state->column_text(0);
      all_done = all_done && dependency_state == "done";
      if (dependency_state == "failed" || dependency_state == "cancelled") {
        dead_dependency = fmt::format("dependency job {} is {}", dependency, dependency_state);
      }
    }
    all_done = all_done && job.depends_on.empty();
    const std::string state = dead_dependency ? "failed" : all_done ? "queued" : "waiting";

    auto insert = db_.cached(
        "INSERT INTO jobs (sweep_id, kind, runner, device_id, spec, state, priority, "
        "max_attempts, last_error, created_at, updated_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)");
    insert->bind(1, sweep_id)
        .bind(2, job.kind)
        .bind(3, job.runner)
        .bind(4, job.device_id)
        .bind(5, job.spec_json)
        .bind(6, state)
        .bind(7, job.priority)
        .bind(8, job.max_attempts)
        .bind(9, dead_dependency)
        .bind(10, now_s);
    insert->execute();
    const int64_t id = db_.last_insert_rowid();
    ids.push_back(id);
    if (dead_dependency) failed_on_arrival.push_back(id);

    std::vector<int64_t> dependencies = job.depends_on_job_ids;
    for (const std::size_t dependency : job.depends_on) dependencies.push_back(ids[dependency]);
    for (const int64_t dependency : dependencies) {
      auto link = db_.cached(
          "INSERT OR IGNORE INTO job_dependencies (job_id, depends_on_job_id) VALUES (?, ?)");
      link->bind(1, id).bind(2, dependency);
      link->execute();
    }
  }
  // Later jobs of this batch may depend on one that failed on arrival.
  for (const int64_t id : failed_on_arrival) {
    finish_job(id, "failed", std::nullopt, now_s);
  }
  return ids;
}

void Store::set_job_spec(int64_t job_id, std::string_view spec_json, double now_s) {
  require_json(spec_json, "the job's spec");
  Transaction transaction(db_);
  auto update = db_.cached(
      "UPDATE jobs SET spec = ?2, updated_at = ?3 WHERE id = ?1 AND state IN ('waiting', "
      "'queued')");
  update->bind(1, job_id).bind(2, spec_json).bind(3, now_s);
  update->execute();
  if (db_.changes() == 0) {
    const auto existing = job(job_id);
    if (!existing) throw InputError(fmt::format("no job {}", job_id));
    throw InputError(fmt::format("job {} is {}: only a waiting or queued job's spec can change",
                                 job_id, existing->state));
  }
  transaction.commit();
}

std::optional<JobRow> Store::job(int64_t job_id) {
  auto query = db_.cached(fmt::format("SELECT {} FROM jobs WHERE id = ?", kJobColumns));
  query->bind(1, job_id);
  if (!query->step()) return std::nullopt;
  return read_job_row(*query);
}

void Store::cancel_sweep(int64_t sweep_id, double now_s) {
  Transaction transaction(db_);
  {
    auto sweep = db_.cached("SELECT 1 FROM sweeps WHERE id = ?");
    sweep->bind(1, sweep_id);
    if (!sweep->step()) throw InputError(fmt::format("no sweep {}", sweep_id));
  }
  auto cancel_jobs = db_.cached(
      "UPDATE jobs SET state = 'cancelled', lease_expires_at = NULL, updated_at = ?2 "
      "WHERE sweep_id = ?1 AND state IN ('waiting', 'queued', 'leased')");
  cancel_jobs->bind(1, sweep_id).bind(2, now_s);
  cancel_jobs->execute();
  auto cancel_sweep = db_.cached(
      "UPDATE sweeps SET state = 'cancelled', finished_at = ?2 WHERE id = ?1 AND state = "
      "'running'");
  cancel_sweep->bind(1, sweep_id).bind(2, now_s);
  cancel_sweep->execute();
  transaction.commit();
}

}  // namespace tailsweep::store
