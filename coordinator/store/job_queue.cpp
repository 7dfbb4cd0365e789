// Store: the job queue. Leases, heartbeats, results, failures, expiry, and
// the state changes that follow a job's end (dependants, sweep completion).
#include <algorithm>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "common/util/errors.h"
#include "common/util/sha256.h"
#include "common/wire/strict_json.h"
#include "coordinator/store/design_steps.h"
#include "coordinator/store/job_rows.h"
#include "coordinator/store/result_bodies.h"
#include "coordinator/store/result_checks.h"
#include "coordinator/store/result_ingest.h"
#include "coordinator/store/store.h"
#include "tailsweep/build_info.h"

namespace tailsweep::store {
namespace {

constexpr std::size_t kLeaseIdBytes = 16;  // 128 bits

bool holds_current_lease(const JobRow& job, std::string_view lease_id, int64_t agent_id) {
  return job.state == "leased" && job.lease_id == lease_id && job.lease_agent_id == agent_id;
}

// A lease that ran out (a partition, a coordinator whose disk was full) but
// that no other agent has taken since: the job is queued with it as its last
// lease. Its agent's result is still the job's, and its heartbeat takes the
// lease back, so a fault shorter than the next lease costs no rerun.
bool holds_unclaimed_lease(const JobRow& job, std::string_view lease_id, int64_t agent_id) {
  return job.state == "queued" && job.lease_id == lease_id && job.lease_agent_id == agent_id;
}

void record_failure(Database& db, int64_t job_id, std::optional<int64_t> agent_id, int64_t attempt,
                    std::string_view error, double now_s) {
  auto insert = db.cached(
      "INSERT INTO failures (job_id, agent_id, attempt, error, at) VALUES (?, ?, ?, ?, ?)");
  insert->bind(1, job_id).bind(2, agent_id).bind(3, attempt).bind(4, error).bind(5, now_s);
  insert->execute();
}

// An expired lease stays the job's last (holds_unclaimed_lease); one its
// agent gave up with a failure report does not, so that a heartbeat of it
// still on its way cannot bring back what the agent stopped.
enum class LastLease { kept, dropped };

void requeue(Database& db, int64_t job_id, std::string_view error, double now_s,
             LastLease last_lease) {
  auto update =
      db.cached(last_lease == LastLease::kept
                    ? "UPDATE jobs SET state = 'queued', lease_expires_at = NULL, last_error = ?2, "
                      "updated_at = ?3 WHERE id = ?1"
                    : "UPDATE jobs SET state = 'queued', lease_id = NULL, lease_agent_id = NULL, "
                      "lease_expires_at = NULL, last_error = ?2, updated_at = ?3 WHERE id = ?1");
  update->bind(1, job_id).bind(2, error).bind(3, now_s);
  update->execute();
}

}  // namespace

Store::AgentDevice Store::agent_device(int64_t agent_id) {
  auto query = db_.cached(
      "SELECT a.device_id, d.simulated, a.left_at IS NOT NULL FROM agents a "
      "JOIN devices d ON d.id = a.device_id WHERE a.id = ?");
  query->bind(1, agent_id);
  if (!query->step()) throw InputError(fmt::format("no agent {}", agent_id));
  return AgentDevice{query->column_int64(0), query->column_int64(1) != 0,
                     query->column_int64(2) != 0};
}

// Two seeks on the partial index jobs_queued_for_agents (one for the device,
// one for "any real device") instead of one query with an OR, which SQLite
// could not answer from the index.
std::optional<int64_t> Store::best_queued_job_for(const AgentDevice& device) {
  struct Candidate {
    int64_t id = 0;
    int64_t priority = 0;
  };
  std::optional<Candidate> best;
  {
    auto own = db_.cached(
        "SELECT id, priority FROM jobs WHERE state = 'queued' AND runner = 'agent' "
        "AND device_id = ? ORDER BY priority DESC, id LIMIT 1");
    own->bind(1, device.device_id);
    if (own->step()) best = Candidate{own->column_int64(0), own->column_int64(1)};
  }
  if (!device.simulated) {
    auto any = db_.cached(
        "SELECT id, priority FROM jobs WHERE state = 'queued' AND runner = 'agent' "
        "AND device_id IS NULL ORDER BY priority DESC, id LIMIT 1");
    if (any->step()) {
      const Candidate candidate{any->column_int64(0), any->column_int64(1)};
      if (!best || candidate.priority > best->priority ||
          (candidate.priority == best->priority && candidate.id < best->id)) {
        best = candidate;
      }
    }
  }
  if (!best) return std::nullopt;
  return best->id;
}

std::optional<Lease> Store::lease_job(int64_t agent_id, double now_s, double ttl_s) {
  if (!(ttl_s > 0)) throw InputError(fmt::format("a lease needs a positive ttl, not {}", ttl_s));
  Transaction transaction(db_);
  const AgentDevice device = agent_device(agent_id);
  requeue_expired_in_transaction(now_s);
  // An agent that said goodbye may still have a long-poll waiting on the
  // server side; it must not be handed a job nobody will run.
  const std::optional<int64_t> job_id = device.left ? std::nullopt : best_queued_job_for(device);
  if (!job_id) {
    transaction.commit();  // keeps any requeued leases
    return std::nullopt;
  }
  Lease lease;
  lease.job_id = *job_id;
  lease.lease_id = random_hex(kLeaseIdBytes);
  lease.expires_at_s = now_s + ttl_s;
  {
    auto claim = db_.cached(
        "UPDATE jobs SET state = 'leased', lease_id = ?2, lease_agent_id = ?3, "
        "lease_expires_at = ?4, attempts = attempts + 1, updated_at = ?5 "
        "WHERE id = ?1 AND state = 'queued' RETURNING kind, spec, sweep_id, attempts");
    claim->bind(1, lease.job_id)
        .bind(2, lease.lease_id)
        .bind(3, agent_id)
        .bind(4, lease.expires_at_s)
        .bind(5, now_s);
    if (!claim->step()) {
      // Cannot happen under BEGIN IMMEDIATE: nobody else writes in between.
      throw std::logic_error(fmt::format("job {} was queued and then was not", lease.job_id));
    }
    lease.kind = claim->column_text(0);
    lease.spec_json = claim->column_text(1);
    lease.sweep_id = claim->column_optional_int64(2);
    lease.attempt = claim->column_int64(3);
    claim->step();  // finishes the statement
  }
  transaction.commit();
  return lease;
}

bool Store::heartbeat(int64_t job_id, std::string_view lease_id, int64_t agent_id, double now_s,
                      double ttl_s) {
  if (!(ttl_s > 0)) throw InputError(fmt::format("a lease needs a positive ttl, not {}", ttl_s));
  Transaction transaction(db_);
  // The current lease, even past its expiry if not yet reclaimed, or one
  // that expired and that nobody has taken since (holds_unclaimed_lease):
  // the same attempt goes on.
  auto renew = db_.cached(
      "UPDATE jobs SET state = 'leased', lease_expires_at = ?4 + ?5, updated_at = ?4 "
      "WHERE id = ?1 AND state IN ('leased', 'queued') AND lease_id = ?2 AND "
      "lease_agent_id = ?3");
  renew->bind(1, job_id).bind(2, lease_id).bind(3, agent_id).bind(4, now_s).bind(5, ttl_s);
  renew->execute();
  const bool renewed = db_.changes() == 1;
  transaction.commit();
  return renewed;
}

SubmitOutcome Store::submit_result(int64_t job_id, std::string_view lease_id, int64_t agent_id,
                                   std::string_view body_json, double now_s) {
  const std::optional<JobRow> existing = job(job_id);
  if (!existing) return SubmitOutcome::unknown_job;
  return submit_result(
      job_id, lease_id, agent_id,
      parse_result(existing->kind, parse_strict_json(body_json, "the result body")), now_s);
}

SubmitOutcome Store::submit_result(int64_t job_id, std::string_view lease_id, int64_t agent_id,
                                   const ParsedResult& result, double now_s) {
  Transaction transaction(db_);
  const std::optional<JobRow> existing = job(job_id);
  if (!existing) return SubmitOutcome::unknown_job;
  if (existing->kind != result.kind) {
    throw InputError(
        fmt::format("job {} is a {} job, not {}", job_id, existing->kind, result.kind));
  }
  const std::string& body_sha256 = result.body_sha256;
  if (existing->state == "done") {
    // An agent retrying a post whose answer it lost must not store twice.
    auto previous =
        db_.cached("SELECT lease_id, agent_id, body_sha256 FROM results WHERE job_id = ?");
    previous->bind(1, job_id);
    if (previous->step() && previous->column_optional_text(0) == lease_id &&
        previous->column_optional_int64(1) == agent_id) {
      return previous->column_text(2) == body_sha256 ? SubmitOutcome::duplicate
                                                     : SubmitOutcome::conflict;
    }
    return SubmitOutcome::stale_lease;
  }
  if (!holds_current_lease(*existing, lease_id, agent_id) &&
      !holds_unclaimed_lease(*existing, lease_id, agent_id)) {
    return SubmitOutcome::stale_lease;
  }

  auto agent = db_.cached(
      "SELECT a.device_id, a.version, a.git_sha, d.facts, d.simulated FROM agents a "
      "JOIN devices d ON d.id = a.device_id WHERE a.id = ?");
  agent->bind(1, agent_id);
  if (!agent->step()) throw InputError(fmt::format("no agent {}", agent_id));
  const int64_t device_id = agent->column_int64(0);

  // Checked against its job before anything is written: a body that does
  // not answer this job stores nothing.
  const AgentResultBody& body = result.body;
  check_result_against_job(existing->spec_json, body, agent->column_int64(4) != 0);
  const BodyProvenance& provenance = provenance_of(body);

  int64_t result_id = 0;
  {
    // The body's own provenance is the most precise; the registration's is
    // the fallback.
    auto insert = db_.cached(
        "INSERT INTO results (job_id, lease_id, agent_id, device_id, received_at, "
        "agent_version, git_sha, device_facts, body, body_sha256) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    insert->bind(1, job_id)
        .bind(2, lease_id)
        .bind(3, agent_id)
        .bind(4, device_id)
        .bind(5, now_s)
        .bind(6, provenance.version.value_or(agent->column_text(1)))
        .bind(7, provenance.git_sha.value_or(agent->column_text(2)))
        .bind(8, provenance.device_json.value_or(agent->column_text(3)))
        .bind(9, result.body_json)
        .bind(10, body_sha256);
    insert->execute();
    result_id = db_.last_insert_rowid();
  }
  insert_result_rows(db_, ResultTarget{result_id, job_id, device_id}, body);
  finish_job(job_id, "done", std::nullopt, now_s);
  transaction.commit();
  return SubmitOutcome::accepted;
}

FailOutcome Store::fail_job(int64_t job_id, std::string_view lease_id, int64_t agent_id,
                            std::string_view error, double now_s) {
  Transaction transaction(db_);
  const std::optional<JobRow> existing = job(job_id);
  if (!existing) return FailOutcome::unknown_job;
  if (!holds_current_lease(*existing, lease_id, agent_id)) return FailOutcome::stale_lease;
  const std::string message = error.empty() ? "the agent gave no reason" : std::string(error);
  record_failure(db_, job_id, agent_id, existing->attempts, message, now_s);
  FailOutcome outcome = FailOutcome::requeued;
  if (existing->attempts >= existing->max_attempts) {
    finish_job(job_id, "failed", message, now_s);
    outcome = FailOutcome::failed;
  } else {
    requeue(db_, job_id, message, now_s, LastLease::dropped);
  }
  transaction.commit();
  return outcome;
}

bool Store::has_work_for(int64_t agent_id) {
  const AgentDevice device = agent_device(agent_id);
  return !device.left && best_queued_job_for(device).has_value();
}

bool Store::maintenance_due(double now_s) {
  auto due = db_.cached(
      "SELECT EXISTS (SELECT 1 FROM jobs WHERE state = 'leased' AND lease_expires_at <= ?1) OR "
      "EXISTS (SELECT 1 FROM jobs WHERE state = 'queued' AND runner = 'coordinator')");
  due->bind(1, now_s);
  due->step();
  return due->column_int64(0) != 0;
}

int Store::requeue_expired(double now_s) {
  Transaction transaction(db_);
  const int expired = requeue_expired_in_transaction(now_s);
  transaction.commit();
  return expired;
}

int Store::requeue_expired_in_transaction(double now_s) {
  struct Expired {
    int64_t id = 0;
    int64_t agent_id = 0;
    int64_t attempts = 0;
    int64_t max_attempts = 0;
    double expired_at_s = 0;
  };
  std::vector<Expired> expired;
  {
    // INDEXED BY: without statistics SQLite would rather scan jobs_by_state.
    auto query = db_.cached(
        "SELECT id, lease_agent_id, attempts, max_attempts, lease_expires_at "
        "FROM jobs INDEXED BY jobs_leased_by_expiry "
        "WHERE state = 'leased' AND lease_expires_at <= ?");
    query->bind(1, now_s);
    while (query->step()) {
      expired.push_back(Expired{query->column_int64(0), query->column_int64(1),
                                query->column_int64(2), query->column_int64(3),
                                query->column_double(4)});
    }
  }
  for (const Expired& lease : expired) {
    const std::string error = fmt::format(
        "lease expired at {:.3f} without a result or heartbeat from agent {} (attempt {} of {})",
        lease.expired_at_s, lease.agent_id, lease.attempts, lease.max_attempts);
    record_failure(db_, lease.id, lease.agent_id, lease.attempts, error, now_s);
    if (lease.attempts >= lease.max_attempts) {
      finish_job(lease.id, "failed", error, now_s);
    } else {
      requeue(db_, lease.id, error, now_s, LastLease::kept);
    }
  }
  return static_cast<int>(expired.size());
}

bool Store::has_queued_work_for(int64_t agent_id) {
  return best_queued_job_for(agent_device(agent_id)).has_value();
}

void Store::finish_job(int64_t job_id, std::string_view state,
                       const std::optional<std::string>& last_error, double now_s) {
  std::vector<int64_t> sweeps;
  std::optional<std::string> root_error;
  {
    auto update = db_.cached(
        "UPDATE jobs SET state = ?2, last_error = coalesce(?3, last_error), "
        "lease_expires_at = NULL, updated_at = ?4 WHERE id = ?1 RETURNING sweep_id, last_error");
    update->bind(1, job_id).bind(2, state).bind(3, last_error).bind(4, now_s);
    if (!update->step())
      throw std::logic_error(fmt::format("finishing job {}: no such job", job_id));
    if (const auto sweep = update->column_optional_int64(0)) sweeps.push_back(*sweep);
    root_error = update->column_optional_text(1);
    update->step();
  }
  if (state == "done") {
    auto ready = db_.cached(
        "UPDATE jobs SET state = 'queued', updated_at = ?2 WHERE state = 'waiting' "
        "AND id IN (SELECT job_id FROM job_dependencies WHERE depends_on_job_id = ?1) "
        "AND NOT EXISTS (SELECT 1 FROM job_dependencies d JOIN jobs dependency "
        "ON dependency.id = d.depends_on_job_id WHERE d.job_id = jobs.id "
        "AND dependency.state <> 'done')");
    ready->bind(1, job_id).bind(2, now_s);
    ready->execute();
  } else if (state == "failed") {
    // A failed job fails everything waiting on it, transitively, each naming
    // the dependency that failed.
    struct Failed {
      int64_t id = 0;
      std::string error;
    };
    std::vector<Failed> pending{{job_id, root_error.value_or("failed")}};
    while (!pending.empty()) {
      const Failed failed = pending.back();
      pending.pop_back();
      auto dependants = db_.cached(
          "UPDATE jobs SET state = 'failed', last_error = ?2, updated_at = ?3 "
          "WHERE state IN ('waiting', 'queued') AND id IN "
          "(SELECT job_id FROM job_dependencies WHERE depends_on_job_id = ?1) "
          "RETURNING id, sweep_id, last_error");
      dependants->bind(1, failed.id)
          .bind(2, fmt::format("dependency job {} failed: {}", failed.id, failed.error))
          .bind(3, now_s);
      while (dependants->step()) {
        pending.push_back(Failed{dependants->column_int64(0), dependants->column_text(2)});
        if (const auto sweep = dependants->column_optional_int64(1)) sweeps.push_back(*sweep);
      }
    }
  }
  std::sort(sweeps.begin(), sweeps.end());
  sweeps.erase(std::unique(sweeps.begin(), sweeps.end()), sweeps.end());
  for (const int64_t sweep : sweeps) finish_sweep_if_complete(sweep, now_s);
}

void Store::finish_sweep_if_complete(int64_t sweep_id, double now_s) {
  auto finish = db_.cached(
      "UPDATE sweeps SET finished_at = ?2, state = CASE WHEN EXISTS (SELECT 1 FROM jobs "
      "WHERE sweep_id = ?1 AND state = 'failed') THEN 'failed' ELSE 'done' END "
      "WHERE id = ?1 AND state = 'running' AND NOT EXISTS (SELECT 1 FROM jobs "
      "WHERE sweep_id = ?1 AND state IN ('waiting', 'queued', 'leased'))");
  finish->bind(1, sweep_id).bind(2, now_s);
  finish->execute();
}

// ---- jobs the coordinator runs itself ----

std::vector<JobRow> Store::ready_coordinator_jobs() {
  auto query = db_.cached(
      fmt::format("SELECT {} FROM jobs WHERE state = 'queued' AND runner = 'coordinator' "
                  "ORDER BY priority DESC, id",
                  kJobColumns));
  std::vector<JobRow> jobs;
  while (query->step()) jobs.push_back(read_job_row(*query));
  return jobs;
}

void Store::complete_coordinator_job(int64_t job_id, std::string_view body_json, double now_s) {
  Transaction transaction(db_);
  const std::optional<JobRow> existing = job(job_id);
  if (!existing) throw InputError(fmt::format("no job {}", job_id));
  if (existing->runner != kRunnerCoordinator || existing->state != "queued") {
    throw InputError(fmt::format("job {} is a {} '{}' job, not a queued coordinator job", job_id,
                                 existing->state, existing->kind));
  }
  const nlohmann::json body = parse_strict_json(body_json, "the result body");
  std::optional<int64_t> device_id = existing->device_id;
  if (existing->kind == "schedule") {
    const ScheduleBody parsed = parse_schedule_body(body);
    device_id = parsed.device_id;
    ScheduleRow row{existing->sweep_id,
                    job_id,
                    parsed.device_id,
                    parsed.model,
                    parsed.batch,
                    parsed.method,
                    parsed.alpha,
                    parsed.tokens_total,
                    parsed.n_star,
                    parsed.r,
                    parsed.layer,
                    parsed.latency_at_n_star_ms,
                    parsed.baseline_latency_ms,
                    parsed.source_job_ids,
                    "reference",
                    parsed.tokens_total - parsed.r,
                    std::nullopt,
                    std::nullopt,
                    parsed.validity};
    insert_schedule_in_transaction(row, now_s);
    if (parsed.aligned) {
      row.variant = "aligned";
      row.r = parsed.aligned->r;
      row.tokens_after_pruning = parsed.aligned->tokens_after_pruning;
      row.step_below = parsed.aligned->step_below;
      row.step_above = parsed.aligned->step_above;
      insert_schedule_in_transaction(row, now_s);
    }
  } else if (existing->kind == "match") {
    const MatchBody parsed = parse_match_body(body);
    device_id = parsed.device_id;
    insert_matches(existing->sweep_id, job_id, parsed, now_s);
  } else if (existing->kind == "design_step") {
    const DesignStepBody parsed = parse_design_step_body(body);
    device_id = parsed.device_id;
    insert_design_step(db_, existing->sweep_id, job_id, parsed);
  }
  auto insert = db_.cached(
      "INSERT INTO results (job_id, device_id, received_at, agent_version, git_sha, body, "
      "body_sha256) VALUES (?, ?, ?, ?, ?, ?, ?)");
  insert->bind(1, job_id)
      .bind(2, device_id)
      .bind(3, now_s)
      .bind(4, fmt::format("tailsweep {}", build_info::kVersion))
      .bind(5, build_info::kGitSha)
      .bind(6, body_json)
      .bind(7, sha256_hex(body_json));
  insert->execute();
  finish_job(job_id, "done", std::nullopt, now_s);
  transaction.commit();
}

void Store::fail_coordinator_job(int64_t job_id, std::string_view error, double now_s) {
  Transaction transaction(db_);
  const std::optional<JobRow> existing = job(job_id);
  if (!existing || existing->runner != kRunnerCoordinator || is_terminal_state(existing->state)) {
    throw InputError(fmt::format("job {} is not an unfinished coordinator job", job_id));
  }
  record_failure(db_, job_id, std::nullopt, existing->attempts, error, now_s);
  finish_job(job_id, "failed", std::string(error), now_s);
  transaction.commit();
}

void Store::insert_matches(std::optional<int64_t> sweep_id, int64_t job_id, const MatchBody& body,
                           double now_s) {
  for (const MatchedMethod& match : body.matches) {
    auto insert = db_.cached(
        "INSERT INTO matched_baselines (sweep_id, job_id, latency_job_id, device_id, model, "
        "batch, target_method, target_latency_ms, family, method, latency_ms, relative_gap, "
        "within_tolerance, tolerance, candidates, created_at, target_reached_precision, "
        "reached_precision) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    insert->bind(1, sweep_id)
        .bind(2, job_id)
        .bind(3, body.latency_job_id)
        .bind(4, body.device_id)
        .bind(5, body.model)
        .bind(6, body.batch)
        .bind(7, body.target_method)
        .bind(8, body.target_latency_ms)
        .bind(9, match.family)
        .bind(10, match.method)
        .bind(11, match.latency_ms)
        .bind(12, match.relative_gap)
        .bind(13, match.within_tolerance)
        .bind(14, body.tolerance)
        .bind(15, match.candidates)
        .bind(16, now_s)
        .bind(17, body.target_reached_precision)
        .bind(18, match.reached_precision);
    try {
      insert->execute();
    } catch (const SqliteError& error) {
      throw InputError(
          fmt::format("matched baseline for device {} refused: {}", body.device_id, error.what()));
    }
  }
}

int64_t Store::insert_schedule(const ScheduleRow& schedule, double now_s) {
  Transaction transaction(db_);
  const int64_t id = insert_schedule_in_transaction(schedule, now_s);
  transaction.commit();
  return id;
}

int64_t Store::insert_schedule_in_transaction(const ScheduleRow& schedule, double now_s) {
  auto insert = db_.cached(
      "INSERT INTO schedules (sweep_id, job_id, device_id, model, batch, method, alpha, "
      "tokens_total, n_star, r, layer, latency_at_n_star_ms, baseline_latency_ms, "
      "source_job_ids, created_at, variant, tokens_after_pruning, step_below, step_above, "
      "curve_points, curve_points_below_precision, curve_points_unstable, "
      "n_star_reached_precision) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  const std::optional<CurveValidity>& validity = schedule.validity;
  insert->bind(1, schedule.sweep_id)
      .bind(2, schedule.job_id)
      .bind(3, schedule.device_id)
      .bind(4, schedule.model)
      .bind(5, schedule.batch)
      .bind(6, schedule.method)
      .bind(7, schedule.alpha)
      .bind(8, schedule.tokens_total)
      .bind(9, schedule.n_star)
      .bind(10, schedule.r)
      .bind(11, schedule.layer)
      .bind(12, schedule.latency_at_n_star_ms)
      .bind(13, schedule.baseline_latency_ms)
      .bind(14, nlohmann::json(schedule.source_job_ids).dump())
      .bind(15, now_s)
      .bind(16, schedule.variant)
      .bind(17, schedule.tokens_after_pruning)
      .bind(18, schedule.step_below)
      .bind(19, schedule.step_above)
      .bind(20, validity ? std::optional(validity->points) : std::nullopt)
      .bind(21, validity ? std::optional(validity->below_precision) : std::nullopt)
      .bind(22, validity ? std::optional(validity->unstable) : std::nullopt)
      .bind(23, validity ? validity->n_star_reached_precision : std::nullopt);
  try {
    insert->execute();
  } catch (const SqliteError& error) {
    // A CHECK or foreign key: the schedule itself is wrong.
    throw InputError(
        fmt::format("schedule for device {} refused: {}", schedule.device_id, error.what()));
  }
  return db_.last_insert_rowid();
}

}  // namespace tailsweep::store
