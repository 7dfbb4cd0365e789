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

std::vector<DeviceRow> Store::devices() {
  auto query = db_.cached(
      "SELECT d.id, d.name, d.kind, d.simulated, d.tags, d.facts, d.first_seen, d.last_seen, "
      "(SELECT count(*) FROM agents a WHERE a.device_id = d.id) FROM devices d ORDER BY d.name");
  std::vector<DeviceRow> rows;
  while (query->step()) {
    rows.push_back(DeviceRow{query->column_int64(0), query->column_text(1), query->column_text(2),
                             query->column_int64(3) != 0, query->column_text(4),
                             query->column_text(5), query->column_double(6),
                             query->column_double(7), query->column_int64(8)});
  }
  return rows;
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
