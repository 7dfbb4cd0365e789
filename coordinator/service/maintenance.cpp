// The coordinator's own background work: expired leases back to the queue,
// and the jobs it runs itself (coordinator_jobs.h). A design step's fitting
// (seconds of XGBoost) runs here, on the maintenance thread, and only its
// result goes to the writer, which every agent's result waits for.
#include <map>
#include <memory>

#include <fmt/format.h>

#include "coordinator/service/coordinator_jobs.h"
#include "coordinator/service/coordinator_service.h"
#include "coordinator/store/sqlite.h"

namespace tailsweep::coordinator {

void CoordinatorService::run_coordinator_jobs(store::Store& store,
                                              const std::map<int64_t, DesignStepOutcome>& planned) {
  const auto fail = [&store](const store::JobRow& job, const std::exception& error) {
    fmt::print(stderr, "tailsweep: job {} ({}) failed: {}\n", job.id, job.kind, error.what());
    store.fail_coordinator_job(job.id, error.what(), unix_now_s());
  };
  for (const store::JobRow& job : store.ready_coordinator_jobs()) {
    try {
      if (job.kind == "design_step") {
        // Fitted on the maintenance thread; one that became ready since
        // waits for the next period.
        const auto outcome = planned.find(job.id);
        if (outcome != planned.end()) apply_design_step(store, job, outcome->second, unix_now_s());
        continue;
      }
      run_coordinator_job(store, job, unix_now_s());
    } catch (const store::SqliteError& error) {
      if (error.busy()) {
        // A busy database, not the job: its transaction rolled back, and the
        // job stays queued for the next period.
        fmt::print(stderr, "tailsweep: job {} ({}) postponed: {}\n", job.id, job.kind,
                   error.what());
        return;
      }
      fail(job, error);
    } catch (const std::exception& error) {
      fail(job, error);
    }
    waiters_.notify();  // agent jobs may have been queued, or a sweep finished
  }
}

std::map<int64_t, DesignStepOutcome> CoordinatorService::plan_design_steps(store::Store& store) {
  std::map<int64_t, DesignStepOutcome> planned;
  for (const store::JobRow& job : store.ready_coordinator_jobs()) {
    if (job.kind != "design_step") continue;
    try {
      planned.emplace(job.id, plan_design_step(store, job));
    } catch (const std::exception& error) {
      // Failed in the writer, like any coordinator job that throws.
      const std::string message = error.what();
      fmt::print(stderr, "tailsweep: job {} (design_step) failed: {}\n", job.id, message);
      writer_->submit_task(
          [job_id = job.id, message](store::Store& writer_store) {
            writer_store.fail_coordinator_job(job_id, message, unix_now_s());
          },
          /*may_make_work=*/false);
    }
  }
  return planned;
}

void CoordinatorService::run_maintenance() {
  std::unique_lock lock(maintenance_mutex_);
  while (!stopping_) {
    maintenance_wake_.wait_for(lock, options_.maintenance_period);
    if (stopping_) break;
    lock.unlock();
    try {
      // A read-only look first; the writes (requeueing expired leases, the
      // coordinator's own jobs) go through the writer, in its next batch,
      // never on a connection of their own that would compete with it.
      if (!maintenance_queued_.load() && stores_.local().maintenance_due(unix_now_s())) {
        auto planned = std::make_shared<std::map<int64_t, DesignStepOutcome>>(
            plan_design_steps(stores_.local()));
        maintenance_queued_ = true;
        writer_->submit_task(
            [this, planned](store::Store& store) {
              maintenance_queued_ = false;
              if (store.requeue_expired(unix_now_s()) > 0) waiters_.notify();
              run_coordinator_jobs(store, *planned);
            },
            /*may_make_work=*/false);
      }
    } catch (const std::exception& error) {
      // The database briefly unavailable is not fatal: try again next period.
      fmt::print(stderr, "tailsweep: maintenance: {}\n", error.what());
    }
    lock.lock();
  }
}

}  // namespace tailsweep::coordinator
