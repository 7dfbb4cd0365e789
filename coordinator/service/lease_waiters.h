#pragma once
// Long-polled leases: an agent that asks for work when there is none waits
// here, holding no thread, until a job it can take is queued or its wait
// ends ({"job": null}). One thread looks again whenever work may have
// appeared (notify), and at least once a second (the maintenance write
// requeues expired leases). Looking is read-only: only an agent for which
// a job is queued is handed to `lease`, which leases through the writer, so
// idle long-polls never compete with the group commit for the write lock.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "coordinator/http/router.h"
#include "coordinator/service/store_pool.h"

namespace tailsweep::coordinator {

// Wall-clock seconds since the epoch: the store's time base.
double unix_now_s();

// The lease response for an agent, or nothing when no job is available.
// Runs store.lease_job, and turns the lease into the protocol's body.
std::optional<http::Response> try_lease(store::Store& store, int64_t agent_id, double ttl_s);

class LeaseWaiters {
 public:
  // Leases for the agent (through the writer) or, finding nothing after
  // all, hands the responder back to wait() for what is left of `wait`.
  using Lease = std::function<void(int64_t agent_id, int64_t device_id,
                                   std::chrono::duration<double> wait, http::Responder)>;

  LeaseWaiters(StorePool& stores, Lease lease);
  ~LeaseWaiters();  // stop()
  // Answers every waiter {"job": null} and joins the thread; a later wait()
  // is answered at once. Idempotent. After it, `lease` is never called.
  void stop();
  LeaseWaiters(const LeaseWaiters&) = delete;
  LeaseWaiters& operator=(const LeaseWaiters&) = delete;

  void wait(int64_t agent_id, int64_t device_id, std::chrono::duration<double> wait,
            http::Responder responder);
  // Work may have become available (a sweep created, a job requeued, a
  // dependency done): retry the waiters now.
  void notify();
  std::size_t waiting() const;

 private:
  struct Waiter {
    int64_t agent_id;
    int64_t device_id;
    std::chrono::steady_clock::time_point deadline;
    http::Responder responder;
  };
  void run();
  void serve_waiters(std::deque<Waiter>& waiters);

  StorePool& stores_;
  Lease lease_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Waiter> waiters_;
  bool notified_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tailsweep::coordinator
