#pragma once
// Reading jobs rows into JobRow, shared by the store's source files.
// Internal to coordinator/store.
#include "coordinator/store/sqlite.h"
#include "coordinator/store/store.h"

namespace tailsweep::store {

// The columns read_job_row expects, in order, for "SELECT <these> FROM jobs".
inline constexpr std::string_view kJobColumns =
    "id, sweep_id, kind, runner, device_id, spec, state, priority, attempts, max_attempts, "
    "lease_id, lease_agent_id, lease_expires_at, last_error, created_at, updated_at";

inline JobRow read_job_row(const Statement& row) {
  JobRow job;
  job.id = row.column_int64(0);
  job.sweep_id = row.column_optional_int64(1);
  job.kind = row.column_text(2);
  job.runner = row.column_text(3);
  job.device_id = row.column_optional_int64(4);
  job.spec_json = row.column_text(5);
  job.state = row.column_text(6);
  job.priority = row.column_int64(7);
  job.attempts = row.column_int64(8);
  job.max_attempts = row.column_int64(9);
  job.lease_id = row.column_optional_text(10);
  job.lease_agent_id = row.column_optional_int64(11);
  job.lease_expires_at_s = row.column_optional_double(12);
  job.last_error = row.column_optional_text(13);
  job.created_at_s = row.column_double(14);
  job.updated_at_s = row.column_double(15);
  return job;
}

inline bool is_terminal_state(std::string_view state) {
  return state == "done" || state == "failed" || state == "cancelled";
}

}  // namespace tailsweep::store
