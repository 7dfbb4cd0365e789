#pragma once
// Long-polled leases: an agent that asks for work when there is none waits
// here, holding no thread, until a job it can take is queued or its wait
// ends ({"job": null}). One thread retries the waiting agents whenever work
// may have appeared (notify), and at least once a second (leases that
// expire are requeued by the lease call itself).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
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
  LeaseWaiters(StorePool& stores, double lease_ttl_s);
  ~LeaseWaiters();  // answers every waiter {"job": null} and joins the thread
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
  double lease_ttl_s_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Waiter> waiters_;
  bool notified_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tailsweep::coordinator
