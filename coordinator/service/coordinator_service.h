#pragma once
// The coordinator behind `tailsweep serve`: every route of docs/protocol.md
// as a handler over the SQLite store, the long-poll waiters, and a
// maintenance thread (expired leases, schedules). Handlers run on the HTTP
// server's worker threads, each with its own database connection.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "coordinator/http/router.h"
#include "coordinator/http/server.h"
#include "coordinator/service/design_step.h"
#include "coordinator/service/lease_waiters.h"
#include "coordinator/service/store_pool.h"
#include "coordinator/service/sweep_plan.h"
#include "coordinator/service/task_queue.h"
#include "coordinator/service/write_batcher.h"
#include "coordinator/store/read_only_query.h"

namespace tailsweep::coordinator {

struct CoordinatorOptions {
  std::string db_path;
  std::string enroll_token;  // registers agents
  std::string admin_token;   // sweeps, devices, SQL
  double lease_ttl_s = 60;
  double heartbeat_interval_s = 10;
  std::chrono::milliseconds maintenance_period{500};
  int64_t sql_max_rows = 10000;
  std::size_t sql_max_bytes = store::kDefaultMaxAnswerBytes;
  std::chrono::milliseconds sql_timeout{10000};
  std::size_t max_sweep_jobs = kDefaultMaxSweepJobs;
  // Threads for /v1/sql, apart from the HTTP workers; queries past the
  // waiting limit are answered 503 too_many_queries.
  int sql_threads = 2;
  std::size_t sql_max_waiting = 8;
};

class CoordinatorService {
 public:
  // The database must exist at the current schema (serve migrates first).
  explicit CoordinatorService(CoordinatorOptions options);
  ~CoordinatorService();  // stops the maintenance thread, answers the waiters
  CoordinatorService(const CoordinatorService&) = delete;
  CoordinatorService& operator=(const CoordinatorService&) = delete;

  // The one route table (routes.cpp).
  http::Router router();
  // For /metrics: the HTTP server's own counters.
  void set_server_stats(std::function<http::ServerStats()> stats);

 private:
  // Handlers (routes.cpp maps paths to these).
  http::Response healthz(const http::Request& request);
  http::Response metrics(const http::Request& request);
  // The handlers that write queue their work on the writer (group commit)
  // and answer after its commit.
  void register_agent(http::Request request, http::Responder responder);
  void lease(http::Request request, http::Responder responder);
  // Leases through the writer; with nothing to lease, waits up to `wait`
  // (the route, and the long-poll waiters once a job is queued for them).
  void submit_lease(int64_t agent_id, int64_t device_id, std::chrono::duration<double> wait,
                    http::Responder responder, bool touch);
  void heartbeat(http::Request request, http::Responder responder);
  void result(http::Request request, http::Responder responder);
  void failure(http::Request request, http::Responder responder);
  void agent_goodbye(http::Request request, http::Responder responder);
  void retire_device(http::Request request, http::Responder responder);
  void create_sweep(http::Request request, http::Responder responder);
  void cancel_sweep(http::Request request, http::Responder responder);
  http::Response sweep_status(const http::Request& request);
  http::Response devices(const http::Request& request);
  // The dashboard (dashboard_routes.cpp).
  http::Response dashboard_page(const http::Request& request);
  http::Response dashboard_asset(const http::Request& request);
  http::Response sweeps(const http::Request& request);
  // Built on the SQL threads (it reads the whole sweep), not an HTTP worker.
  void sweep_report(http::Request request, http::Responder responder);
  http::Response build_sweep_report(const http::Request& request);
  void sql(http::Request request, http::Responder responder);
  http::Response run_sql(const http::Request& request);
  // Runs `work` on the SQL threads (apart from the HTTP workers that agents
  // need) and answers with what it returns; 503 too_many_queries when their
  // queue is full.
  void on_sql_threads(http::Request request, http::Responder responder,
                      http::Response (CoordinatorService::*work)(const http::Request&));

  void require_admin(const http::Request& request) const;
  store::AgentRow require_agent(const http::Request& request);
  // last_seen is written at most every few seconds per agent, not on every lease.
  bool agent_due_for_touch(int64_t agent_id, double now_s);
  void wake_for_new_work();
  void run_maintenance();
  // The ready design steps, fitted on the calling thread (a read-only store).
  std::map<int64_t, DesignStepOutcome> plan_design_steps(store::Store& store);
  // `planned`: the design steps the maintenance thread fitted, by job id.
  void run_coordinator_jobs(store::Store& store,
                            const std::map<int64_t, DesignStepOutcome>& planned);

  CoordinatorOptions options_;
  StorePool stores_;
  LeaseWaiters waiters_;
  std::mutex agents_mutex_;
  std::unordered_map<std::string, store::AgentRow> agents_by_token_hash_;
  std::unordered_map<int64_t, double> agent_touched_at_s_;
  std::function<http::ServerStats()> server_stats_;
  std::atomic<uint64_t> results_accepted_{0};
  std::atomic<uint64_t> results_refused_{0};
  std::mutex maintenance_mutex_;
  std::condition_variable maintenance_wake_;
  bool stopping_ = false;
  std::atomic<bool> maintenance_queued_{false};  // a maintenance write waits in the writer
  std::thread maintenance_;
  TaskQueue sql_queries_;
  // Declared last: built after, and destroyed before, what its operations use.
  std::unique_ptr<WriteBatcher> writer_;
};

}  // namespace tailsweep::coordinator
