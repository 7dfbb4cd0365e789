// tailsweep-agent run: the agent daemon's command. Checks the flags, finds
// the enrollment token and the device's name, turns SIGINT/SIGTERM into a
// stop, and hands the fleet loop (agent/fleet/agent_loop.h) this device's
// registration and the job runner (agent/measure/job_runner.h). Built to
// outlive a coordinator restart, a lost database and its own restart
// (docs/agent.md).
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "agent/cli/commands.h"
#include "agent/device/device_spec.h"
#include "agent/engine/runtime.h"
#include "agent/fleet/agent_loop.h"
#include "agent/fleet/result_outbox.h"
#include "agent/measure/job_runner.h"
#include "common/util/coordinator_url.h"
#include "common/util/errors.h"
#include "common/util/secrets.h"
#include "common/util/text.h"
#include "tailsweep/build_info.h"

namespace tailsweep::agent {
namespace {

namespace fs = std::filesystem;

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
      log_event(
          fmt::format("received {}: stopping after the current job (signal again to exit "
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
  checked_coordinator_url(options.coordinator);
  check_agent_device(options.device);
  if (!(options.wait_s > 0 && options.wait_s <= protocol::kMaxLeaseWaitS)) {
    throw InputError(
        fmt::format("--wait-s {} is outside (0, {}]", options.wait_s, protocol::kMaxLeaseWaitS));
  }
  if (options.max_jobs < 0) throw InputError("--max-jobs must be 0 (no limit) or more");
  if (!options.ca_cert.empty() && !fs::is_regular_file(options.ca_cert)) {
    throw InputError(fmt::format("--ca-cert {}: no such file", options.ca_cert));
  }
}

void run_agent(RunOptions options) {
  check_options(options);
  const std::string token = resolve_secret(
      SecretSource{options.enroll_token, options.enroll_token_file, "TAILSWEEP_ENROLL_TOKEN"},
      "enrollment token");
  if (options.name.empty()) options.name = default_agent_name(options.device);
  check_name("--name", options.name);
  for (const std::string& tag : options.tags) check_name("--tags:", tag);
  const fs::path state_dir =
      options.state_dir.empty() ? default_state_root() / options.name : fs::path(options.state_dir);
  const StateDirLock lock(state_dir);
  // Relative paths in jobs (weights) are read from here, whatever folder a
  // later restart happens in: fixed now as an absolute path.
  std::error_code error;
  options.device.data_dir =
      fs::absolute(
          options.device.data_dir.empty() ? fs::current_path() : fs::path(options.device.data_dir),
          error)
          .lexically_normal()
          .string();
  if (error || !fs::is_directory(options.device.data_dir)) {
    throw InputError(fmt::format("--data-dir {}: not a folder", options.device.data_dir));
  }
  StopFlag stop;
  // Before any other thread starts, so every thread shares the handlers.
  const SignalWatcher signals(stop);
  // What the coordinator learns of this device; building it configures the
  // runtime and, for a GPU, checks that it is usable.
  const HostFacts host = read_host_facts();
  protocol::RegisterRequest registration;
  registration.name = options.name;
  registration.kind = device_kind(options.device, host);
  registration.tags = options.tags;
  registration.facts = device_facts(options.device, host);
  registration.version = build_info::kVersion;
  registration.git_sha = build_info::kGitSha;
  AgentLoop agent(AgentLoopOptions{options.coordinator, options.ca_cert, options.wait_s,
                                   options.max_jobs, options.exit_when_idle_s},
                  std::move(registration), token, state_dir, stop,
                  [device = options.device](const protocol::JobAssignment& job,
                                            const std::atomic<bool>& cancel) {
                    return run_job_reporting_errors(job, device, &cancel);
                  });
  log_event(fmt::format("starting: coordinator {}, device {}, state {}, data {}",
                        options.coordinator, options.device.device, state_dir.string(),
                        options.device.data_dir));
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
  command->footer(
      "Example:\n  tailsweep-agent run --coordinator http://127.0.0.1:8470 --enroll-token-file "
      "enroll.token --device sim:jetson-nano");
  command->add_option("--coordinator", options->coordinator,
                      "the coordinator's URL, http://HOST:PORT or https://HOST:PORT");
  command->add_option("--enroll-token", options->enroll_token,
                      "enrollment token (visible in ps: prefer --enroll-token-file or "
                      "TAILSWEEP_ENROLL_TOKEN)");
  command->add_option("--enroll-token-file", options->enroll_token_file,
                      "file holding the enrollment token");
  command
      ->add_option("--device", options->device.device,
                   device_spec_help() +
                       "; a simulated agent takes latency jobs only, never "
                       "accuracy")
      ->capture_default_str();
  command->add_option("--name", options->name,
                      "this device's name in the fleet (default: the host name, plus -sim-NAME "
                      "for a simulated device or -cudaN for a GPU)");
  command->add_option("--tags", options->tags, "tags for sweep selectors, e.g. lab,orin")
      ->delimiter(',');
  command->add_option("--ca-cert", options->ca_cert,
                      "PEM certificate to verify an https coordinator against");
  command->add_option("--data-dir", options->device.data_dir,
                      "folder that relative paths in jobs (a sweep's weights) are read from "
                      "(default: the folder the agent starts in)");
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
