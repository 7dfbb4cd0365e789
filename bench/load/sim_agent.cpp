#include "bench/load/sim_agent.h"

#include <algorithm>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/load/synthetic_profile.h"
#include "common/wire/protocol.h"
#include "tailsweep/build_info.h"

namespace tailsweep::loadgen {
namespace {

namespace asio = boost::asio;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Registration and results are answered at once; this only catches a hang.
constexpr std::chrono::milliseconds kShortRequestTimeout{30000};
// A long poll is held up to its wait; allow that plus the same margin.
constexpr std::chrono::milliseconds kLongPollMargin{30000};
// After an error, wait a little instead of hammering a struggling server.
constexpr std::chrono::milliseconds kErrorPause{200};

double elapsed_ms(Clock::time_point since) {
  return std::chrono::duration<double, std::milli>(Clock::now() - since).count();
}

}  // namespace

bool LoadRun::finished() const {
  return Clock::now() >= deadline || jobs_completed.load() >= jobs_planned;
}

void LoadRun::record_completion(Clock::time_point at) {
  const int64_t at_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch()).count();
  int64_t seen = last_completion_ns.load();
  while (seen < at_ns && !last_completion_ns.compare_exchange_weak(seen, at_ns)) {
  }
  jobs_completed += 1;
}

SimAgent::SimAgent(asio::any_io_executor executor, asio::ip::tcp::endpoint endpoint, int index)
    : connection_(std::move(executor), endpoint), index_(index) {}

void SimAgent::count_http_error(std::string_view route, const HttpReply& reply) {
  const protocol::ErrorBody error = protocol::parse_error_body(reply.body);
  count_error(fmt::format("{}: HTTP {} {}", route, reply.status, error.code));
}

asio::awaitable<void> SimAgent::pause_after_error() {
  co_await sleep_until(Clock::now() + kErrorPause);
}

asio::awaitable<void> SimAgent::sleep_until(Clock::time_point at) {
  asio::steady_timer timer(co_await asio::this_coro::executor, at);
  co_await timer.async_wait(asio::use_awaitable);
}

asio::awaitable<void> SimAgent::register_with(std::string enroll_token, std::string tag) {
  protocol::RegisterRequest request;
  request.name = fmt::format("load-sim-{}", index_);
  request.kind = "sim";
  request.tags = {tag};
  request.facts = loadgen_device_facts();
  request.version = build_info::kVersion;
  request.git_sha = build_info::kGitSha;
  try {
    const HttpReply reply =
        co_await connection_.post("/v1/agents/register", enroll_token,
                                  protocol::to_json(request).dump(), kShortRequestTimeout);
    if (reply.status != 201) {
      count_http_error("register", reply);
      co_return;
    }
    token_ = protocol::parse_register_response(json::parse(reply.body)).token;
  } catch (const boost::system::system_error& error) {
    count_error(fmt::format("register: network: {}", error.code().message()));
  } catch (const std::exception&) {
    count_error("register: bad response");
  }
}

asio::awaitable<void> SimAgent::work(LoadRun& run) {
  const std::string lease_request =
      protocol::to_json(protocol::LeaseRequest{run.lease_wait_s}).dump();
  const auto lease_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::duration<double>(run.lease_wait_s)) +
                             kLongPollMargin;
  const bool paced = run.pace_interval > Clock::duration::zero();
  Clock::time_point next_start = Clock::now() + run.pace_interval * index_ / run.agents;
  while (!run.finished()) {
    if (paced) {
      // No catching up in bursts after a slow answer: the next slot is one
      // interval after this one or now, whichever is later.
      if (next_start > Clock::now()) co_await sleep_until(next_start);
      next_start = std::max(next_start, Clock::now()) + run.pace_interval;
      if (run.finished()) break;
    }
    const Clock::time_point sent = Clock::now();
    HttpReply reply;
    try {
      reply = co_await connection_.post("/v1/lease", token_, lease_request, lease_timeout);
    } catch (const boost::system::system_error& error) {
      count_error(fmt::format("lease: network: {}", error.code().message()));
    }
    if (reply.status == 0) {
      co_await pause_after_error();
      continue;
    }
    const double latency_ms = elapsed_ms(sent);
    if (reply.status != 200) {
      count_http_error("lease", reply);
      co_await pause_after_error();
      continue;
    }
    bool has_job = false;
    try {
      has_job = !json::parse(reply.body).at("job").is_null();
    } catch (const std::exception&) {
      count_error("lease: bad response");
      continue;
    }
    if (!has_job) {
      ++stats_.leases_empty;
      continue;
    }
    stats_.lease_with_job_ms.push_back(latency_ms);
    co_await answer(run, reply.body);
  }
}

asio::awaitable<void> SimAgent::answer(LoadRun& run, const std::string& lease_body) {
  protocol::JobAssignment job;
  protocol::ResultRequest result;
  try {
    job = *protocol::parse_lease_response(json::parse(lease_body)).job;
    if (job.kind != "profile") throw std::runtime_error("not a profile job");
    result.lease_id = job.lease_id;
    result.result = synthetic_profile_result(job.spec, run.samples_per_point);
  } catch (const std::exception& error) {
    // Not this benchmark's work: the job is left to expire rather than
    // failed, so a shared coordinator's real jobs are not touched.
    count_error(fmt::format("lease: unusable job: {}", error.what()));
    co_return;
  }
  const Clock::time_point sent = Clock::now();
  try {
    const HttpReply reply =
        co_await connection_.post(fmt::format("/v1/jobs/{}/result", job.job_id), token_,
                                  protocol::to_json(result).dump(), kShortRequestTimeout);
    if (reply.status != 200) {
      count_http_error("result", reply);
      co_return;
    }
  } catch (const boost::system::system_error& error) {
    count_error(fmt::format("result: network: {}", error.code().message()));
    co_return;
  }
  const Clock::time_point accepted = Clock::now();
  stats_.result_ms.push_back(std::chrono::duration<double, std::milli>(accepted - sent).count());
  ++stats_.results_accepted;
  run.record_completion(accepted);
}

}  // namespace tailsweep::loadgen
