#pragma once
// Group commit: every write the coordinator's routes make runs on one thread
// with one connection, many operations to a transaction. Each operation is
// a savepoint inside it (store::Transaction nests), so one that fails rolls
// back alone; the answers go out only after the COMMIT, so an "accepted"
// result is always a stored one.
//
// Why: a commit costs far more than the work in it (every changed page of
// the jobs table and its indexes written to the WAL again), and writers on
// several connections throw away each other's page caches. Batching turns
// per-job commits into per-batch commits.
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "coordinator/http/router.h"
#include "coordinator/service/commit_health.h"
#include "coordinator/store/store.h"

namespace tailsweep::coordinator {

class WriteBatcher {
 public:
  // An operation: its answer, or nothing to hand the responder to `otherwise`
  // after the commit (a lease with no job goes on to wait).
  using Operation = std::function<std::optional<http::Response>(store::Store&)>;
  using Otherwise = std::function<void(http::Responder)>;

  // Opens its own connection to the database. after_commit runs on the
  // writer thread after a batch in which some operation said it may have
  // made work (a result that unblocks jobs, a new sweep): wake the waiters.
  WriteBatcher(const std::string& db_path, std::function<void()> after_commit);
  ~WriteBatcher();  // runs what is queued, then joins
  WriteBatcher(const WriteBatcher&) = delete;
  WriteBatcher& operator=(const WriteBatcher&) = delete;

  void submit(Operation operation, http::Responder responder, bool may_make_work,
              Otherwise otherwise = {});
  // A write nobody waits for (maintenance): run in the next batch like the
  // others; an error is logged.
  void submit_task(std::function<void(store::Store&)> task, bool may_make_work);

 private:
  struct Pending {
    Operation operation;
    std::optional<http::Responder> responder;  // none for a task
    bool may_make_work = false;
    Otherwise otherwise;
  };
  void run();
  void run_batch(std::deque<Pending>& batch);

  store::Store store_;
  CommitHealth health_;  // used on the writer thread only
  std::function<void()> after_commit_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tailsweep::coordinator
