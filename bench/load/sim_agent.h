#pragma once
// A lightweight simulated agent: registers like tailsweep-agent, then leases
// profile jobs and answers each at once with a synthetic (but valid) result.
// It measures what the coordinator costs an agent, not any device.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without including it
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "bench/load/http_connection.h"

namespace tailsweep::loadgen {

// What every agent of one run shares. Counters are atomic so that the run
// may use more than one I/O thread.
struct LoadRun {
  std::chrono::steady_clock::time_point deadline;
  int64_t jobs_planned = 0;
  double lease_wait_s = 5;
  int samples_per_point = 3;
  // Zero: every agent leases again as soon as it posted (a closed loop that
  // finds the saturation throughput). Positive: each agent starts a job at
  // most this often, at its own phase, so the offered rate is
  // agents / pace_interval and latency is seen below saturation.
  std::chrono::steady_clock::duration pace_interval{0};
  int agents = 1;  // spreads the agents' phases over one pace interval
  std::atomic<int64_t> jobs_completed{0};
  // Steady-clock time of the latest accepted result, in nanoseconds.
  std::atomic<int64_t> last_completion_ns{0};

  bool finished() const;
  void record_completion(std::chrono::steady_clock::time_point at);
};

struct AgentStats {
  std::vector<double> lease_with_job_ms;  // request sent -> response with a job
  std::vector<double> result_ms;          // result sent -> accepted (200)
  int64_t leases_empty = 0;               // long polls that ended with no job
  int64_t results_accepted = 0;
  std::map<std::string, int64_t> errors;  // by kind
};

class SimAgent {
 public:
  SimAgent(boost::asio::any_io_executor executor, boost::asio::ip::tcp::endpoint endpoint,
           int index);

  // POST /v1/agents/register as "load-sim-<index>" (kind sim, the given
  // tag). On failure the agent stays unregistered and the error is counted.
  boost::asio::awaitable<void> register_with(std::string enroll_token, std::string tag);
  // Lease -> result until the run is finished.
  boost::asio::awaitable<void> work(LoadRun& run);

  bool registered() const { return !token_.empty(); }
  const AgentStats& stats() const { return stats_; }
  int connects() const { return connection_.connects(); }

 private:
  // One job: build the result from its spec and post it.
  boost::asio::awaitable<void> answer(LoadRun& run, const std::string& lease_body);
  boost::asio::awaitable<void> pause_after_error();
  boost::asio::awaitable<void> sleep_until(std::chrono::steady_clock::time_point at);
  void count_error(const std::string& kind) { ++stats_.errors[kind]; }
  void count_http_error(std::string_view route, const HttpReply& reply);

  HttpConnection connection_;
  int index_;
  std::string token_;
  AgentStats stats_;
};

}  // namespace tailsweep::loadgen
