#include "agent/fleet/agent_loop.h"

#include <chrono>
#include <ctime>
#include <random>
#include <thread>
#include <type_traits>

#include <fmt/format.h>

#include "agent/fleet/coordinator_client.h"
#include "agent/fleet/result_outbox.h"
#include "common/util/errors.h"

namespace tailsweep::agent {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;
using std::chrono::milliseconds;

constexpr milliseconds kBackoffBase{500};
constexpr milliseconds kBackoffCap{30'000};
// An empty lease answer that came back well before the wait we asked for
// means the coordinator is not long-polling; pause so we do not hammer it.
constexpr Seconds kEmptyLeasePause{1.0};
// A goodbye is a courtesy: an exiting agent does not wait long for it.
constexpr milliseconds kGoodbyeTimeout{2'000};

}  // namespace

void log_event(const std::string& message) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  const std::string line = fmt::format("{}.{:03}Z tailsweep-agent: {}\n", stamp, millis, message);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

void StopFlag::request() {
  {
    const std::lock_guard lock(mutex_);
    requested_ = true;
  }
  raised_ = true;
  changed_.notify_all();
}

bool StopFlag::requested() {
  const std::lock_guard lock(mutex_);
  return requested_;
}

class AgentLoop::Impl {
 public:
  Impl(AgentLoopOptions options, protocol::RegisterRequest registration,
       std::string enrollment_token, const fs::path& state_dir, StopFlag& stop, JobRunner run_job)
      : options_(std::move(options)),
        enrollment_token_(std::move(enrollment_token)),
        outbox_(state_dir / "outbox"),
        stop_(stop),
        client_(ClientOptions{options_.coordinator, options_.ca_cert}),
        random_(std::random_device{}()),
        run_job_(std::move(run_job)),
        registration_(std::move(registration)) {}

  void run() {
    register_until_accepted();
    try {
      serve();
    } catch (const StopRequested&) {
      say_goodbye();
      throw;
    }
    say_goodbye();
  }

 private:
  // Leases and runs jobs until a stop, --max-jobs or --exit-when-idle.
  void serve() {
    deliver_pending();

    int64_t jobs_done = 0;
    Clock::time_point idle_since = Clock::now();
    while (!stop_.requested()) {
      if (options_.max_jobs > 0 && jobs_done >= options_.max_jobs) {
        log_event(fmt::format("ran {} job(s) (--max-jobs): exiting", jobs_done));
        return;
      }
      deliver_pending();
      Seconds wait{options_.wait_s};
      if (options_.exit_when_idle_s >= 0) {
        const Seconds left = Seconds(options_.exit_when_idle_s) - (Clock::now() - idle_since);
        if (left <= Seconds::zero()) {
          log_event(fmt::format("no work for {} s (--exit-when-idle): exiting",
                                options_.exit_when_idle_s));
          return;
        }
        wait = std::min(wait, left);
      }
      const Clock::time_point asked = Clock::now();
      const std::optional<protocol::JobAssignment> job = with_retries(
          "lease", [&] { return client_.lease(wait, stop_.raised()); }, true);
      if (!job) {
        if (Clock::now() - asked < wait / 2) stop_.wait_for(std::min(kEmptyLeasePause, wait));
        continue;
      }
      if (stop_.requested()) {
        report_failure(*job, "the agent is stopping (signal) and did not start the job");
        break;
      }
      run_leased_job(*job);
      ++jobs_done;
      idle_since = Clock::now();
    }
    log_event("stopped");
  }

  // A clean exit tells the coordinator, so that the device shows offline now.
  void say_goodbye() {
    if (registered_.agent_id == 0) return;
    if (!client_.goodbye(kGoodbyeTimeout)) {
      log_event(
          "the coordinator did not take the goodbye: the device shows offline once its "
          "lease TTL has passed");
    }
  }

  // Calls `call` until it gets an answer worth acting on: no answer or a 5xx
  // backs off (full jitter) and tries again, forever; a 401 registers again
  // and retries with the new token. A stop request ends the wait with
  // StopRequested. `retry_unexpected`: also back off on answers the
  // protocol does not allow (used by the lease loop, which has nothing
  // better to do than wait for a fixed coordinator).
  template <typename Call>
  std::invoke_result_t<Call> with_retries(std::string_view what, Call call,
                                          bool retry_unexpected = false) {
    int attempt = 0;
    int unauthorized_in_a_row = 0;
    while (true) {
      std::string reason;
      try {
        return call();
      } catch (const TransportError& error) {
        reason = error.what();
      } catch (const CoordinatorUnavailable& error) {
        reason = error.what();
      } catch (const UnexpectedAnswer& error) {
        if (!retry_unexpected) throw;
        reason = error.what();
      } catch (const Unauthorized& error) {
        // Twice in a row right after registering means something else is
        // wrong; back off rather than re-register in a tight loop.
        if (unauthorized_in_a_row++ == 0) {
          log_event(fmt::format("{}: the coordinator no longer knows this agent: registering again",
                                what));
          register_until_accepted();
          continue;
        }
        reason = error.what();
        register_until_accepted();
      }
      if (stop_.requested()) throw StopRequested{};  // an abandoned call is no failure
      const milliseconds delay = backoff_delay(attempt++, kBackoffBase, kBackoffCap, random_());
      log_event(fmt::format("{}: retrying in {} ms: {}", what, delay.count(), reason));
      if (stop_.wait_for(delay)) throw StopRequested{};
    }
  }

  void register_until_accepted() {
    int attempt = 0;
    while (true) {
      try {
        registered_ = client_.register_agent(registration_, enrollment_token_);
        break;
      } catch (const Unauthorized& error) {
        // A wrong enrollment token does not fix itself: say so and stop.
        throw InputError(error.what());
      } catch (const TransportError& error) {
        const milliseconds delay = backoff_delay(attempt++, kBackoffBase, kBackoffCap, random_());
        log_event(fmt::format("register: retrying in {} ms: {}{}", delay.count(), error.what(),
                              error.hint()));
        if (stop_.wait_for(delay)) throw StopRequested{};
      } catch (const CoordinatorUnavailable& error) {
        const milliseconds delay = backoff_delay(attempt++, kBackoffBase, kBackoffCap, random_());
        log_event(fmt::format("register: retrying in {} ms: {}", delay.count(), error.what()));
        if (stop_.wait_for(delay)) throw StopRequested{};
      }
    }
    log_event(
        fmt::format("registered as agent {} (device {}, name {}, kind {}); lease ttl {} s, "
                    "heartbeat every {} s",
                    registered_.agent_id, registered_.device_id, registration_.name,
                    registration_.kind, registered_.lease_ttl_s, registered_.heartbeat_interval_s));
  }

  milliseconds heartbeat_interval() const {
    double seconds = registered_.heartbeat_interval_s;
    // Without a usable interval, beat three times per lease.
    if (!(seconds > 0)) seconds = registered_.lease_ttl_s > 0 ? registered_.lease_ttl_s / 3 : 10;
    return std::chrono::duration_cast<milliseconds>(Seconds(seconds));
  }

  void run_leased_job(const protocol::JobAssignment& job) {
    log_event(fmt::format("leased job {} ({}, attempt {})", job.job_id, job.kind, job.attempt));
    const Clock::time_point start = Clock::now();
    JobOutcome outcome;
    bool lease_lost = false;
    {
      const HeartbeatLoop heartbeats(client_.options(), client_.agent_token(), job.job_id,
                                     job.lease_id, heartbeat_interval(), log_event);
      outcome = run_job_(job, heartbeats.lease_lost_flag());
      lease_lost = heartbeats.lease_lost();
    }
    const double elapsed_s = Seconds(Clock::now() - start).count();
    if (lease_lost) {
      // The coordinator would refuse the result and the failure report
      // alike: the job is someone else's now.
      log_event(fmt::format("job {} stopped after {:.1f} s: its lease was lost; nothing is posted",
                            job.job_id, elapsed_s));
      return;
    }
    if (!outcome.result) {
      log_event(fmt::format("job {} failed after {:.1f} s: {}", job.job_id, elapsed_s,
                            outcome.error));
      report_failure(job, outcome.error);
      return;
    }
    log_event(fmt::format("job {} finished in {:.1f} s", job.job_id, elapsed_s));
    PendingResult entry{job.job_id, job.lease_id, std::move(*outcome.result), {}};
    try {
      entry.file = outbox_.put(entry.job_id, entry.lease_id, entry.result);
    } catch (const std::exception& error) {
      // Posting it unprotected beats throwing away the measurement.
      log_event(fmt::format("job {}: cannot keep the result in the outbox ({}); posting it anyway",
                            job.job_id, error.what()));
    }
    deliver(entry);
  }

  // Posts one result and settles its outbox file by the answer.
  void deliver(const PendingResult& entry) {
    const auto forget = [&] {
      if (!entry.file.empty()) outbox_.remove(entry);
    };
    Answer<ResultOutcome> answer{ResultOutcome::rejected, ""};
    try {
      answer = with_retries(fmt::format("job {}: post result", entry.job_id), [&] {
        return client_.post_result(entry.job_id, entry.lease_id, entry.result);
      });
    } catch (const UnexpectedAnswer& error) {
      log_event(fmt::format("job {}: result kept in the outbox: {}", entry.job_id, error.what()));
      return;
    }
    switch (answer.outcome) {
      case ResultOutcome::accepted:
      case ResultOutcome::duplicate:
        log_event(fmt::format("job {}: posted: {}", entry.job_id, to_string(answer.outcome)));
        forget();
        return;
      case ResultOutcome::stale:
      case ResultOutcome::conflict:
      case ResultOutcome::unknown_job:
        log_event(fmt::format("job {}: result refused ({}): dropped: {}", entry.job_id,
                              to_string(answer.outcome), answer.detail));
        forget();
        return;
      case ResultOutcome::rejected:
        if (!entry.file.empty()) outbox_.set_aside(entry);
        log_event(fmt::format("job {}: result rejected, kept in {}: {}", entry.job_id,
                              outbox_.rejected_folder().string(), answer.detail));
        report_failure(JobRef{entry.job_id, entry.lease_id},
                       "the coordinator rejected the result: " + answer.detail);
        return;
    }
  }

  struct JobRef {
    int64_t job_id;
    std::string lease_id;
  };
  void report_failure(const protocol::JobAssignment& job, const std::string& error) {
    report_failure(JobRef{job.job_id, job.lease_id}, error);
  }
  void report_failure(const JobRef& job, const std::string& error) {
    try {
      const Answer<FailureOutcome> answer =
          with_retries(fmt::format("job {}: post failure", job.job_id),
                       [&] { return client_.post_failure(job.job_id, job.lease_id, error); });
      log_event(fmt::format("job {}: failure reported: {}{}", job.job_id, to_string(answer.outcome),
                            answer.detail.empty() ? "" : " (" + answer.detail + ")"));
    } catch (const UnexpectedAnswer& unexpected) {
      log_event(fmt::format("job {}: failure report not taken: {}", job.job_id, unexpected.what()));
    }
  }

  // Results from before a restart or an outage go first, so the coordinator
  // hears about finished work before it hands out more.
  void deliver_pending() {
    OutboxScan scan = outbox_.pending();
    for (const std::string& problem : scan.problems) log_event(problem);
    for (const PendingResult& entry : scan.results) {
      log_event(
          fmt::format("job {}: posting the result left in {}", entry.job_id, entry.file.string()));
      deliver(entry);
    }
  }

  AgentLoopOptions options_;
  std::string enrollment_token_;
  ResultOutbox outbox_;
  StopFlag& stop_;
  CoordinatorClient client_;
  std::mt19937_64 random_;
  JobRunner run_job_;
  protocol::RegisterRequest registration_;
  protocol::RegisterResponse registered_;
};

AgentLoop::AgentLoop(AgentLoopOptions options, protocol::RegisterRequest registration,
                     std::string enrollment_token, const fs::path& state_dir, StopFlag& stop,
                     JobRunner run_job)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(registration),
                                   std::move(enrollment_token), state_dir, stop,
                                   std::move(run_job))) {}

AgentLoop::~AgentLoop() = default;

void AgentLoop::run() { impl_->run(); }

}  // namespace tailsweep::agent
