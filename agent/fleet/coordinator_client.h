#pragma once
// The agent's side of the coordinator protocol (common/protocol.h): one
// method per route, typed structs in and out, and every HTTP status mapped
// to an outcome the agent loop can act on. Which answers are worth retrying
// is decided here, once:
//   TransportError (no answer) and CoordinatorUnavailable (5xx, 429): retry
//     the same call after a backoff;
//   Unauthorized (401): the coordinator does not know the token (it lost its
//     database, or the agent was revoked): register again;
//   UnexpectedAnswer: anything else the protocol does not allow; a bug or a
//     version mismatch, not worth retrying.
// Tokens never appear in a message. Not thread-safe: one client per thread
// (the heartbeat thread has its own; see HeartbeatLoop).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/util/http_client.h"
#include "common/wire/protocol.h"

namespace tailsweep::agent {

class Unauthorized : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class CoordinatorUnavailable : public std::runtime_error {
 public:
  CoordinatorUnavailable(const std::string& message, long status)
      : std::runtime_error(message), status_(status) {}
  long status() const { return status_; }

 private:
  long status_;
};

class UnexpectedAnswer : public std::runtime_error {
 public:
  UnexpectedAnswer(const std::string& message, long status)
      : std::runtime_error(message), status_(status) {}
  long status() const { return status_; }

 private:
  long status_;
};

enum class ResultOutcome {
  accepted,     // stored
  duplicate,    // the same result was stored before: done
  stale,        // 409 lease_lost: the lease expired and the job went to someone else
  conflict,     // 409 conflict: a different result is already stored for this job
  unknown_job,  // 404: the coordinator has no such job (lost its database?)
  rejected,     // 400: the result itself is malformed; re-posting will not help
};
enum class HeartbeatOutcome { renewed, lease_lost };
enum class FailureOutcome {
  requeued,  // the job goes back to the queue for another attempt
  failed,    // out of attempts: the job is marked failed
  refused,   // 409 / 404: the lease or the job is no longer ours
};

std::string_view to_string(ResultOutcome outcome);
std::string_view to_string(HeartbeatOutcome outcome);
std::string_view to_string(FailureOutcome outcome);

// An outcome with the coordinator's message when it refused (for the log).
template <typename Outcome>
struct Answer {
  Outcome outcome;
  std::string detail;
};

// Pure status -> outcome mappings (tested without a server). They throw
// Unauthorized, CoordinatorUnavailable or UnexpectedAnswer as described above.
Answer<ResultOutcome> result_outcome_of(const HttpResult& answer);
Answer<HeartbeatOutcome> heartbeat_outcome_of(const HttpResult& answer);
Answer<FailureOutcome> failure_outcome_of(const HttpResult& answer);

class CoordinatorClient {
 public:
  explicit CoordinatorClient(ClientOptions options, std::string agent_token = {});

  // POST /v1/agents/register with the enrollment token. Remembers the
  // returned agent token for every later call. A 401 here means the
  // enrollment token is wrong: Unauthorized.
  protocol::RegisterResponse register_agent(const protocol::RegisterRequest& request,
                                            const std::string& enrollment_token);

  // POST /v1/lease: waits up to `wait` for a job; nullopt when none came.
  // Setting *stop ends the wait within about a second (TransportError).
  std::optional<protocol::JobAssignment> lease(std::chrono::duration<double> wait,
                                               const std::atomic<bool>* stop = nullptr);
  // POST /v1/agents/goodbye: this agent is leaving (a clean exit). Best
  // effort: false when the coordinator did not take it.
  bool goodbye(std::chrono::milliseconds timeout);

  Answer<HeartbeatOutcome> heartbeat(int64_t job_id, const std::string& lease_id);
  Answer<ResultOutcome> post_result(int64_t job_id, const std::string& lease_id,
                                    const nlohmann::json& result);
  Answer<FailureOutcome> post_failure(int64_t job_id, const std::string& lease_id,
                                      const std::string& error);

  const ClientOptions& options() const { return options_; }
  const std::string& agent_token() const { return agent_token_; }

 private:
  HttpResult post(const std::string& path, const nlohmann::json& body, const std::string& token,
                  std::optional<std::chrono::milliseconds> timeout = {});

  ClientOptions options_;
  HttpClient http_;
  std::string agent_token_;
};

// Keeps one lease alive while its job runs on another thread: posts a
// heartbeat every `interval` from its own thread and client, and stops at
// the first lease_lost (or 401, which means the same: the coordinator no
// longer knows us), raising lease_lost_flag() for the job to stop. A heartbeat that gets no answer is logged and tried
// again at the next tick; the lease TTL is several intervals long. RAII:
// the destructor wakes the thread and joins it.
class HeartbeatLoop {
 public:
  using Log = std::function<void(const std::string&)>;

  HeartbeatLoop(ClientOptions options, std::string agent_token, int64_t job_id,
                std::string lease_id, std::chrono::milliseconds interval, Log log);
  ~HeartbeatLoop();
  HeartbeatLoop(const HeartbeatLoop&) = delete;
  HeartbeatLoop& operator=(const HeartbeatLoop&) = delete;

  bool lease_lost() const { return lease_lost_.load(); }
  // Set once the lease is lost: what the job polls to stop early.
  const std::atomic<bool>& lease_lost_flag() const { return lease_lost_; }
  int64_t renewals() const { return renewals_.load(); }

 private:
  void run();
  // True once the destructor asked the thread to stop (waits up to `delay`).
  bool stop_requested_within(std::chrono::milliseconds delay);

  ClientOptions options_;
  std::string agent_token_;
  int64_t job_id_;
  std::string lease_id_;
  std::chrono::milliseconds interval_;
  Log log_;
  std::atomic<bool> lease_lost_{false};
  std::atomic<int64_t> renewals_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts after every field it uses exists
};

}  // namespace tailsweep::agent
