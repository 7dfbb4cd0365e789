#include "coordinator/service/lease_waiters.h"

#include <set>

#include <fmt/format.h>

#include "common/wire/protocol.h"

namespace tailsweep::coordinator {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::seconds kRetryPeriod{1};

http::Response no_job() {
  return http::json_response(200, protocol::to_json(protocol::LeaseResponse{}));
}

}  // namespace

double unix_now_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::optional<http::Response> try_lease(store::Store& store, int64_t agent_id, double ttl_s) {
  const std::optional<store::Lease> lease = store.lease_job(agent_id, unix_now_s(), ttl_s);
  if (!lease) return std::nullopt;
  protocol::JobAssignment job;
  job.job_id = lease->job_id;
  job.lease_id = lease->lease_id;
  job.kind = lease->kind;
  job.spec = nlohmann::json::parse(lease->spec_json);
  job.attempt = lease->attempt;
  job.expires_at_s = lease->expires_at_s;
  return http::json_response(200, protocol::to_json(protocol::LeaseResponse{std::move(job)}));
}

LeaseWaiters::LeaseWaiters(StorePool& stores, Lease lease)
    : stores_(stores), lease_(std::move(lease)), thread_([this] { run(); }) {}

LeaseWaiters::~LeaseWaiters() { stop(); }

void LeaseWaiters::stop() {
  std::deque<Waiter> left;
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
    left.swap(waiters_);
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (Waiter& waiter : left) waiter.responder.send(no_job());
}

void LeaseWaiters::wait(int64_t agent_id, int64_t device_id, std::chrono::duration<double> wait,
                        http::Responder responder) {
  {
    const std::lock_guard lock(mutex_);
    if (!stopping_) {
      waiters_.push_back(Waiter{agent_id, device_id,
                                Clock::now() + std::chrono::duration_cast<Clock::duration>(wait),
                                std::move(responder)});
      return;
    }
  }
  responder.send(no_job());
}

void LeaseWaiters::notify() {
  {
    const std::lock_guard lock(mutex_);
    notified_ = true;
  }
  wake_.notify_all();
}

std::size_t LeaseWaiters::waiting() const {
  const std::lock_guard lock(mutex_);
  return waiters_.size();
}

void LeaseWaiters::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    auto until = Clock::now() + kRetryPeriod;
    for (const Waiter& waiter : waiters_) until = std::min(until, waiter.deadline);
    wake_.wait_until(lock, until, [this] { return stopping_ || notified_; });
    if (stopping_) break;
    notified_ = false;
    std::deque<Waiter> batch;
    batch.swap(waiters_);
    lock.unlock();
    serve_waiters(batch);
    lock.lock();
    // Whoever arrived meanwhile queues behind the ones still waiting.
    for (auto& waiter : waiters_) batch.push_back(std::move(waiter));
    waiters_.swap(batch);
  }
}

void LeaseWaiters::serve_waiters(std::deque<Waiter>& waiters) {
  store::Store* store = nullptr;
  try {
    store = &stores_.local();
  } catch (const std::exception& error) {
    fmt::print(stderr, "tailsweep: lease waiters cannot open the database: {}\n", error.what());
  }
  // Every agent of a device sees the same jobs: once one found nothing,
  // the others of that device would too (until the next notify).
  std::set<int64_t> devices_without_work;
  const auto now = Clock::now();
  std::deque<Waiter> still_waiting;
  for (Waiter& waiter : waiters) {
    bool work = false;
    if (store != nullptr && devices_without_work.count(waiter.device_id) == 0) {
      try {
        work = store->has_work_for(waiter.agent_id);
      } catch (const std::exception& error) {
        fmt::print(stderr, "tailsweep: lease waiters: {}\n", error.what());
      }
      if (!work) devices_without_work.insert(waiter.device_id);
    }
    if (work) {
      // Another agent may take the job first; then the writer hands the
      // responder back to wait() with the time left.
      lease_(waiter.agent_id, waiter.device_id,
             std::max(waiter.deadline - now, Clock::duration::zero()), std::move(waiter.responder));
    } else if (now >= waiter.deadline) {
      waiter.responder.send(no_job());
    } else {
      still_waiting.push_back(std::move(waiter));
    }
  }
  waiters.swap(still_waiting);
}

}  // namespace tailsweep::coordinator
