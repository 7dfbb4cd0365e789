#pragma once
// The agent's life in a fleet, without LibTorch: register (again whenever
// the coordinator forgets the token), long-poll for jobs, run each with a
// heartbeat thread keeping its lease, keep every result in the on-disk
// outbox until the coordinator has answered, and post what earlier runs
// left there first. What a job *is* comes in as a JobRunner, so this
// library knows nothing of models (docs/agent.md).
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/wire/protocol.h"

namespace tailsweep::agent {

// One line per event on stderr, with a UTC timestamp. One fwrite per line,
// so lines from the heartbeat thread never interleave with the main one's.
void log_event(const std::string& message);

// The agent's "please stop" state: set by the first SIGINT/SIGTERM, waited
// on by every backoff sleep so a stopping agent does not sit out a delay.
class StopFlag {
 public:
  void request();
  bool requested();
  // Set with request(), readable without the lock: what a blocking HTTP
  // call polls to end early.
  const std::atomic<bool>* raised() const { return &raised_; }
  // Sleeps up to `delay`; true when a stop was requested meanwhile.
  template <typename Duration>
  bool wait_for(Duration delay) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, delay, [this] { return requested_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool requested_ = false;
  std::atomic<bool> raised_{false};
};

// Thrown out of a retry loop when a stop was requested while it waited.
struct StopRequested {};

// A job's end: its result document, or the one-line error to report.
struct JobOutcome {
  std::optional<nlohmann::json> result;
  std::string error;  // set when result is empty
};
// Runs a leased job to its end; never throws. `cancel` is set when the
// coordinator says the lease is lost: the job should stop at its next
// sample, since its result would be refused.
using JobRunner =
    std::function<JobOutcome(const protocol::JobAssignment&, const std::atomic<bool>& cancel)>;

struct AgentLoopOptions {
  std::string coordinator;       // http(s)://HOST:PORT
  std::string ca_cert;           // PEM file for an https coordinator; empty: the system's
  double wait_s = 30;            // long-poll wait
  int64_t max_jobs = 0;          // exit after this many jobs; 0: no limit
  double exit_when_idle_s = -1;  // exit after this long without a job; < 0: never
};

class AgentLoop {
 public:
  // The state folder holds the outbox; the caller holds its lock.
  AgentLoop(AgentLoopOptions options, protocol::RegisterRequest registration,
            std::string enrollment_token, const std::filesystem::path& state_dir, StopFlag& stop,
            JobRunner run_job);
  ~AgentLoop();
  AgentLoop(const AgentLoop&) = delete;
  AgentLoop& operator=(const AgentLoop&) = delete;

  // Serves until a stop request, --max-jobs or --exit-when-idle. Throws
  // InputError when the enrollment token is refused, StopRequested when a
  // stop came while it waited for the coordinator.
  void run();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tailsweep::agent
