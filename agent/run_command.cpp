// tailsweep-agent run: the agent daemon. Registers with a coordinator, then
// long-polls for jobs, runs each one in-process while a heartbeat thread
// keeps its lease, keeps the result in an on-disk outbox and posts it.
// Built to outlive a coordinator restart, a lost database and its own
// restart (docs/agent.md).
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>
#include <type_traits>

#include "agent/commands.h"
#include "agent/coordinator_client.h"
#include "agent/job_runner.h"
#include "agent/result_outbox.h"
#include "common/device_spec.h"
#include "common/errors.h"
#include "common/text.h"
#include "tailsweep/build_info.h"

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

struct RunOptions {
  std::string coordinator;
  std::string enroll_token;
  std::string enroll_token_file;
  AgentDevice device;
  std::string name;
  std::vector<std::string> tags;
  std::string ca_cert;
  std::string state_dir;
  double wait_s = 30;
  int64_t max_jobs = 0;          // 0: no limit
  double exit_when_idle_s = -1;  // < 0: never
};

// One line per event on stderr, with a UTC timestamp. One fwrite per line,
// so lines from the heartbeat thread never interleave with the main one's.
void log_event(const std::string& message) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis = std::chrono::duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  const std::string line = fmt::format("{}.{:03}Z tailsweep-agent: {}\n", stamp, millis, message);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

// The agent's "please stop" state: set by the first SIGINT/SIGTERM, waited
// on by every backoff sleep so a stopping agent does not sit out a delay.
class StopFlag {
 public:
  void request() {
    {
      const std::lock_guard lock(mutex_);
      requested_ = true;
    }
    changed_.notify_all();
  }
  bool requested() {
    const std::lock_guard lock(mutex_);
    return requested_;
  }
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
};

// Thrown out of a retry loop when a stop was requested while it waited.
struct StopRequested {};

// SIGINT/SIGTERM: the first asks the agent to stop after the current job;
// the second exits at once. A handler may only do async-signal-safe things,
// so it writes the signal number to a pipe and a thread turns that into a
// StopFlag request and a log line. RAII: restores the old handlers.
class SignalWatcher {
 public:
  explicit SignalWatcher(StopFlag& stop) : stop_(stop) {
    if (::pipe2(pipe_fds_, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    write_fd_ = pipe_fds_[1];
    signals_seen_ = 0;
    struct sigaction action {};
    action.sa_handler = &SignalWatcher::on_signal;
    // Restart interrupted system calls: the signal only sets a flag, and the
    // code it lands in (curl, LibTorch, file writes) need not see EINTR.
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int_);
    sigaction(SIGTERM, &action, &old_term_);
    thread_ = std::thread([this] { watch(); });
  }
  ~SignalWatcher() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
    const char quit = 0;
    [[maybe_unused]] const ssize_t ignored = ::write(pipe_fds_[1], &quit, 1);
    thread_.join();
    ::close(pipe_fds_[0]);
    ::close(pipe_fds_[1]);
  }
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  static void on_signal(int signal) {
    if (signals_seen_.fetch_add(1) >= 1) {
      constexpr char message[] = "tailsweep-agent: second signal: exiting now\n";
      [[maybe_unused]] const ssize_t ignored = ::write(STDERR_FILENO, message, sizeof message - 1);
      ::_exit(128 + signal);
    }
    const char number = static_cast<char>(signal);
    [[maybe_unused]] const ssize_t ignored = ::write(write_fd_, &number, 1);
  }

  void watch() {
    char number = 0;
    while (true) {
      const ssize_t got = ::read(pipe_fds_[0], &number, 1);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0 || number == 0) return;
      log_event(fmt::format("received {}: stopping after the current job (signal again to exit "
                            "now)",
                            number == SIGINT ? "SIGINT" : "SIGTERM"));
      stop_.request();
    }
  }

  static inline std::atomic<int> signals_seen_{0};
  static inline int write_fd_ = -1;
  StopFlag& stop_;
  int pipe_fds_[2] = {-1, -1};
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
  std::thread thread_;
};

std::string trim(std::string text) {
  const auto blank = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  while (!text.empty() && blank(text.back())) text.pop_back();
  std::size_t first = 0;
  while (first < text.size() && blank(text[first])) ++first;
  return text.substr(first);
}

// --enroll-token, else --enroll-token-file, else $TAILSWEEP_ENROLL_TOKEN.
std::string enrollment_token(const RunOptions& options) {
  if (!options.enroll_token.empty()) return options.enroll_token;
  if (!options.enroll_token_file.empty()) {
    std::ifstream file(options.enroll_token_file);
    if (!file) throw InputError(fmt::format("cannot read --enroll-token-file {}", options.enroll_token_file));
    std::ostringstream text;
    text << file.rdbuf();
    std::string token = trim(text.str());
    if (token.empty()) throw InputError(fmt::format("{} is empty", options.enroll_token_file));
    return token;
  }
  if (const char* from_env = std::getenv("TAILSWEEP_ENROLL_TOKEN"); from_env != nullptr && *from_env) {
    return trim(from_env);
  }
  throw InputError(
      "no enrollment token: pass --enroll-token-file FILE (or --enroll-token, or set "
      "TAILSWEEP_ENROLL_TOKEN)");
}

std::string default_agent_name(const AgentDevice& device) {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::strcpy(host, "agent");
  // The host's short name: a fleet name has no room for a domain, and a
  // host name may hold characters that names may not (common/text.h).
  std::string name(host, std::strcspn(host, "."));
  for (char& c : name) {
    if (!is_valid_name(std::string(1, c)) && c != '_' && c != '-') c = '-';
  }
  if (name.empty() || !is_valid_name(name.substr(0, 1))) name = "agent-" + name;
  name = name.substr(0, 40);  // room for the suffixes below within the length limit
  const DeviceSpec spec = parse_device_spec(device.device);
  if (spec.simulated()) name += "-sim-" + spec.simulated_gpu;
  if (spec.kind == DeviceKind::kCuda) name += fmt::format("-cuda{}", spec.cuda_index);
  return name;
}

void check_options(const RunOptions& options) {
  if (options.coordinator.empty()) throw InputError("--coordinator URL is required");
  if (!options.coordinator.starts_with("http://") && !options.coordinator.starts_with("https://")) {
    throw InputError(fmt::format("--coordinator '{}': expected http://HOST:PORT or https://HOST:PORT",
                                 options.coordinator));
  }
  check_agent_device(options.device);
  if (!(options.wait_s > 0 && options.wait_s <= protocol::kMaxLeaseWaitS)) {
    throw InputError(fmt::format("--wait-s {} is outside (0, {}]", options.wait_s,
                                 protocol::kMaxLeaseWaitS));
  }
  if (options.max_jobs < 0) throw InputError("--max-jobs must be 0 (no limit) or more");
  if (!options.ca_cert.empty() && !fs::is_regular_file(options.ca_cert)) {
    throw InputError(fmt::format("--ca-cert {}: no such file", options.ca_cert));
  }
}

ClientOptions client_options(const RunOptions& options) {
  ClientOptions client;
  client.base_url = options.coordinator;
  client.ca_cert_file = options.ca_cert;
  return client;
}

class Agent {
 public:
  Agent(const RunOptions& options, std::string enrollment_token, fs::path state_dir,
        StopFlag& stop)
      : options_(options),
        enrollment_token_(std::move(enrollment_token)),
        outbox_(state_dir / "outbox"),
        stop_(stop),
        client_(client_options(options)),
        random_(std::random_device{}()) {}

  void run() {
    const HostFacts host = read_host_facts();
    registration_.name = options_.name;
    registration_.kind = device_kind(options_.device, host);
    registration_.tags = options_.tags;
    registration_.facts = device_facts(options_.device, host);
    registration_.version = build_info::kVersion;
    registration_.git_sha = build_info::kGitSha;
    register_until_accepted();
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
      const std::optional<protocol::JobAssignment> job =
          with_retries("lease", [&] { return client_.lease(wait); }, true);
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

 private:
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
        log_event(fmt::format("register: retrying in {} ms: {}", delay.count(), error.what()));
        if (stop_.wait_for(delay)) throw StopRequested{};
      } catch (const CoordinatorUnavailable& error) {
        const milliseconds delay = backoff_delay(attempt++, kBackoffBase, kBackoffCap, random_());
        log_event(fmt::format("register: retrying in {} ms: {}", delay.count(), error.what()));
        if (stop_.wait_for(delay)) throw StopRequested{};
      }
    }
    log_event(fmt::format("registered as agent {} (device {}, name {}, kind {}); lease ttl {} s, "
                          "heartbeat every {} s",
                          registered_.agent_id, registered_.device_id, registration_.name,
                          registration_.kind, registered_.lease_ttl_s,
                          registered_.heartbeat_interval_s));
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
      outcome = run_job_reporting_errors(job, options_.device);
      lease_lost = heartbeats.lease_lost();
    }
    const double elapsed_s = Seconds(Clock::now() - start).count();
    const std::string lease_note = lease_lost ? " (its lease was lost meanwhile)" : "";
    if (!outcome.result) {
      log_event(fmt::format("job {} failed after {:.1f} s{}: {}", job.job_id, elapsed_s,
                            lease_note, outcome.error));
      report_failure(job, outcome.error);
      return;
    }
    log_event(fmt::format("job {} finished in {:.1f} s{}", job.job_id, elapsed_s, lease_note));
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
      log_event(fmt::format("job {}: posting the result left in {}", entry.job_id,
                            entry.file.string()));
      deliver(entry);
    }
  }

  const RunOptions& options_;
  std::string enrollment_token_;
  ResultOutbox outbox_;
  StopFlag& stop_;
  CoordinatorClient client_;
  std::mt19937_64 random_;
  protocol::RegisterRequest registration_;
  protocol::RegisterResponse registered_;
};

void run_agent(RunOptions options) {
  check_options(options);
  const std::string token = enrollment_token(options);
  if (options.name.empty()) options.name = default_agent_name(options.device);
  check_name("--name", options.name);
  for (const std::string& tag : options.tags) check_name("--tags:", tag);
  const fs::path state_dir = options.state_dir.empty() ? default_state_root() / options.name
                                                       : fs::path(options.state_dir);
  const StateDirLock lock(state_dir);
  StopFlag stop;
  // Before any other thread starts, so every thread shares the handlers.
  const SignalWatcher signals(stop);
  Agent agent(options, token, state_dir, stop);
  log_event(fmt::format("starting: coordinator {}, device {}, state {}", options.coordinator,
                        options.device.device, state_dir.string()));
  try {
    agent.run();
  } catch (const StopRequested&) {
    log_event("stopped while waiting for the coordinator; unsent results stay in the outbox");
  }
}

}  // namespace

void register_run_command(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* command = app.add_subcommand(
      "run",
      "Run as an agent of a coordinator: register, take jobs, measure, post results "
      "(docs/agent.md)");
  command->add_option("--coordinator", options->coordinator,
                      "the coordinator's URL, http://HOST:PORT or https://HOST:PORT");
  command->add_option("--enroll-token", options->enroll_token,
                      "enrollment token (visible in ps: prefer --enroll-token-file or "
                      "TAILSWEEP_ENROLL_TOKEN)");
  command->add_option("--enroll-token-file", options->enroll_token_file,
                      "file holding the enrollment token");
  command->add_option("--device", options->device.device,
                      device_spec_help() + "; a simulated agent takes latency jobs only, never "
                      "accuracy")
      ->capture_default_str();
  command->add_option("--name", options->name,
                      "this device's name in the fleet (default: the host name, plus -sim-NAME "
                      "for a simulated device or -cudaN for a GPU)");
  command->add_option("--tags", options->tags, "tags for sweep selectors, e.g. lab,orin")
      ->delimiter(',');
  command->add_option("--ca-cert", options->ca_cert,
                      "PEM certificate to verify an https coordinator against");
  command->add_option("--state-dir", options->state_dir,
                      "folder for the outbox of unsent results (default: "
                      "$XDG_STATE_HOME or ~/.local/state, /tailsweep-agent/NAME)");
  command->add_option("--threads", options->device.threads, "compute threads (0 = one per core)")
      ->capture_default_str();
  command->add_option("--wait-s", options->wait_s, "long-poll wait for a job, seconds")
      ->capture_default_str();
  command->add_option("--max-jobs", options->max_jobs, "exit after this many jobs (0 = no limit)")
      ->capture_default_str();
  command->add_option("--exit-when-idle", options->exit_when_idle_s,
                      "exit after this many seconds without a job (default: never)");
  command->callback([options] { run_agent(*options); });
}

}  // namespace tailsweep::agent
