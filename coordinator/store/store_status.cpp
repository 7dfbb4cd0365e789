// Store: counts and listings for status pages, the CLI and /metrics.
#include <fmt/core.h>

#include "common/util/errors.h"
#include "coordinator/store/store.h"

namespace tailsweep::store {
namespace {

constexpr std::string_view kJobStates[] = {"waiting", "queued", "leased",
                                           "done",    "failed", "cancelled"};

// Where a job runs, in words: its device, or who may take it.
constexpr std::string_view kDeviceOfJob =
    "CASE WHEN d.name IS NOT NULL THEN d.name WHEN j.runner = 'coordinator' THEN "
    "'(coordinator)' ELSE '(any real device)' END";

StateCounts zero_counts() {
  StateCounts counts;
  for (const std::string_view state : kJobStates) counts[std::string(state)] = 0;
  return counts;
}

}  // namespace

std::string_view device_state(const DeviceRow& device, double now_s, double ttl_s) {
  if (device.retired_at_s) return "retired";
  if (device.active_leases > 0) return "busy";
  if (device.present_agent_seen_s && now_s - *device.present_agent_seen_s <= ttl_s) {
    return "online";
  }
  return "offline";
}

std::vector<DeviceRow> Store::devices() {
  auto query = db_.cached(
      "SELECT d.id, d.name, d.kind, d.simulated, d.tags, d.facts, d.first_seen, d.last_seen, "
      "(SELECT count(*) FROM agents a WHERE a.device_id = d.id), d.retired_at, "
      "(SELECT max(a.last_seen) FROM agents a WHERE a.device_id = d.id AND a.left_at IS NULL), "
      "(SELECT count(*) FROM jobs j JOIN agents a ON a.id = j.lease_agent_id "
      " WHERE j.state = 'leased' AND a.device_id = d.id), "
      "coalesce((SELECT a.version FROM agents a WHERE a.device_id = d.id ORDER BY a.id DESC "
      " LIMIT 1), ''), "
      "coalesce((SELECT a.git_sha FROM agents a WHERE a.device_id = d.id ORDER BY a.id DESC "
      " LIMIT 1), '') "
      "FROM devices d ORDER BY d.name");
  std::vector<DeviceRow> rows;
  while (query->step()) {
    rows.push_back(DeviceRow{query->column_int64(0), query->column_text(1), query->column_text(2),
                             query->column_int64(3) != 0, query->column_text(4),
                             query->column_text(5), query->column_double(6),
                             query->column_double(7), query->column_int64(8),
                             query->column_optional_double(9), query->column_optional_double(10),
                             query->column_int64(11), query->column_text(12),
                             query->column_text(13)});
  }
  return rows;
}

int64_t Store::retire_device(std::string_view name, double now_s) {
  Transaction transaction(db_);
  auto device = db_.cached("UPDATE devices SET retired_at = ?2 WHERE name = ?1 RETURNING id");
  device->bind(1, name).bind(2, now_s);
  if (!device->step()) throw InputError(fmt::format("no device named '{}'", name));
  const int64_t device_id = device->column_int64(0);
  device->step();
  std::vector<int64_t> unfinished;
  {
    auto jobs = db_.cached(
        "SELECT id FROM jobs WHERE device_id = ? AND state IN ('waiting', 'queued', 'leased') "
        "ORDER BY id");
    jobs->bind(1, device_id);
    while (jobs->step()) unfinished.push_back(jobs->column_int64(0));
  }
  // A job may already have failed as a dependant of an earlier one here.
  int64_t failed = 0;
  for (const int64_t job_id : unfinished) {
    const std::optional<JobRow> row = job(job_id);
    if (!row || (row->state != "waiting" && row->state != "queued" && row->state != "leased")) {
      continue;
    }
    finish_job(job_id, "failed", fmt::format("device {} was retired", name), now_s);
    ++failed;
  }
  transaction.commit();
  return failed;
}

void Store::agent_left(int64_t agent_id, double now_s) {
  auto left = db_.cached("UPDATE agents SET left_at = ?2 WHERE id = ?1");
  left->bind(1, agent_id).bind(2, now_s);
  left->execute();
}

SweepStatus Store::sweep_status(int64_t sweep_id) {
  SweepStatus status;
  {
    auto sweep =
        db_.cached("SELECT id, name, state, created_at, finished_at FROM sweeps WHERE id = ?");
    sweep->bind(1, sweep_id);
    if (!sweep->step()) throw InputError(fmt::format("no sweep {}", sweep_id));
    status.id = sweep->column_int64(0);
    status.name = sweep->column_text(1);
    status.state = sweep->column_text(2);
    status.created_at_s = sweep->column_double(3);
    status.finished_at_s = sweep->column_optional_double(4);
  }
  status.jobs = zero_counts();
  auto per_device = db_.cached(fmt::format(
      "SELECT j.device_id, {}, j.state, count(*) FROM jobs j "
      "LEFT JOIN devices d ON d.id = j.device_id WHERE j.sweep_id = ? GROUP BY 1, 2, 3 ORDER BY 2",
      kDeviceOfJob));
  per_device->bind(1, sweep_id);
  while (per_device->step()) {
    const std::optional<int64_t> device_id = per_device->column_optional_int64(0);
    const std::string device = per_device->column_text(1);
    const std::string state = per_device->column_text(2);
    const int64_t count = per_device->column_int64(3);
    if (status.per_device.empty() || status.per_device.back().device != device) {
      status.per_device.push_back(DeviceJobCounts{device_id, device, zero_counts()});
    }
    status.per_device.back().jobs[state] += count;
    status.jobs[state] += count;
  }
  auto per_kind = db_.cached(
      "SELECT kind, state, count(*) FROM jobs WHERE sweep_id = ? GROUP BY 1, 2 ORDER BY 1");
  per_kind->bind(1, sweep_id);
  while (per_kind->step()) {
    const std::string kind = per_kind->column_text(0);
    if (status.per_kind.empty() || status.per_kind.back().first != kind) {
      status.per_kind.emplace_back(kind, zero_counts());
    }
    status.per_kind.back().second[per_kind->column_text(1)] += per_kind->column_int64(2);
  }
  auto failed = db_.cached(fmt::format(
      "SELECT j.id, j.kind, {}, j.attempts, coalesce(j.last_error, 'no error recorded') "
      "FROM jobs j LEFT JOIN devices d ON d.id = j.device_id "
      "WHERE j.sweep_id = ? AND j.state = 'failed' ORDER BY j.id LIMIT {}",
      kDeviceOfJob, kMaxFailuresListed));
  failed->bind(1, sweep_id);
  while (failed->step()) {
    status.failures.push_back(FailedJob{failed->column_int64(0), failed->column_text(1),
                                        failed->column_text(2), failed->column_int64(3),
                                        failed->column_text(4)});
  }
  return status;
}

std::vector<SweepSummary> Store::sweeps(int64_t limit) {
  std::vector<SweepSummary> list;
  {
    auto sweeps = db_.cached(
        "SELECT id, name, state, created_at, finished_at FROM sweeps ORDER BY id DESC LIMIT ?");
    sweeps->bind(1, limit);
    while (sweeps->step()) {
      list.push_back(SweepSummary{sweeps->column_int64(0), sweeps->column_text(1),
                                  sweeps->column_text(2), sweeps->column_double(3),
                                  sweeps->column_optional_double(4), zero_counts()});
    }
  }
  if (list.empty()) return list;
  auto counts = db_.cached(
      "SELECT sweep_id, state, count(*) FROM jobs WHERE sweep_id >= ? GROUP BY 1, 2");
  counts->bind(1, list.back().id);
  while (counts->step()) {
    const int64_t id = counts->column_int64(0);
    for (SweepSummary& sweep : list) {
      if (sweep.id == id) sweep.jobs[counts->column_text(1)] += counts->column_int64(2);
    }
  }
  return list;
}

QueueCounts Store::queue_counts() {
  QueueCounts counts;
  counts.jobs = zero_counts();
  {
    auto by_state = db_.cached("SELECT state, count(*) FROM jobs GROUP BY state");
    while (by_state->step()) counts.jobs[by_state->column_text(0)] = by_state->column_int64(1);
  }
  counts.active_leases = counts.jobs["leased"];
  auto totals = db_.cached("SELECT (SELECT count(*) FROM agents), (SELECT count(*) FROM devices)");
  totals->step();
  counts.agents = totals->column_int64(0);
  counts.devices = totals->column_int64(1);
  return counts;
}

}  // namespace tailsweep::store
