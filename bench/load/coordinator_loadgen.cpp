// tailsweep-loadgen: N lightweight simulated agents against one running
// coordinator (bench/README.md, "Coordinator load"). It creates its own
// work (a sweep of profile jobs for its agents' devices), then every agent
// leases and answers jobs as fast as the coordinator hands them out.
// Prints one JSON object: completed jobs per second, lease latency
// percentiles, errors by kind.
#include <sys/resource.h>

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <thread>
#include <utility>  // before Boost 1.74's awaitable.hpp, which needs std::exchange
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "bench/load/latency_summary.h"
#include "bench/load/sim_agent.h"
#include "common/util/cli_main.h"
#include "common/util/errors.h"
#include "tailsweep/build_info.h"

namespace {

namespace asio = boost::asio;
namespace loadgen = tailsweep::loadgen;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct LoadOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string port_file;
  int admin_port = 0;  // 0: --port (agents may go through a proxy, the admin not)
  std::string enroll_token;
  std::string admin_token;
  int agents = 1000;
  int workloads = 20;
  std::string model = "deit-tiny";
  std::string tokens = "2,197";
  double duration_s = 120;
  double lease_wait_s = 5;
  int samples_per_point = 3;
  double jobs_per_s_per_agent = 0;  // 0: as fast as the coordinator answers
  int threads = 1;
  std::string tag = "loadgen";
  std::string out;
};

int resolve_port(const LoadOptions& options) {
  if (options.port > 0) return options.port;
  std::ifstream file(options.port_file);
  int port = 0;
  if (!(file >> port) || port <= 0 || port > 65535) {
    throw tailsweep::InputError(
        fmt::format("no port: give --port, or a --port-file holding one ({})", options.port_file));
  }
  return port;
}

// Runs the context's work to completion on `threads` threads, then makes it
// reusable for the next phase.
void run_phase(asio::io_context& io, int threads) {
  std::vector<std::jthread> extra;
  for (int i = 1; i < threads; ++i) extra.emplace_back([&io] { io.run(); });
  io.run();
  extra.clear();  // joins
  io.restart();
}

// One sweep with `workloads` curve-only workloads over the agents' devices:
// each workload is one profile job per device (the seed tells them apart).
json sweep_spec(const LoadOptions& options) {
  json workloads = json::array();
  for (int i = 0; i < options.workloads; ++i) {
    workloads.push_back({{"model", options.model},
                         {"seed", i},
                         {"curves", {{"batches", {1}}, {"tokens", options.tokens}}}});
  }
  return {
      {"name", fmt::format("loadgen-{}-agents-{}-workloads", options.agents, options.workloads)},
      {"devices", {{"kinds", {"sim"}}, {"tags", {options.tag}}}},
      {"workloads", std::move(workloads)}};
}

// An admin POST on its own connection; throws on anything but `expected`.
json admin_post(asio::io_context& io, const asio::ip::tcp::endpoint& endpoint,
                const std::string& admin_token, const std::string& target, const json& body,
                unsigned expected) {
  loadgen::HttpConnection connection(io.get_executor(), endpoint);
  loadgen::HttpReply reply;
  std::exception_ptr failure;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        reply = co_await connection.post(target, admin_token, body.dump(), std::chrono::minutes(5));
      },
      [&](std::exception_ptr error) { failure = error; });
  run_phase(io, 1);
  if (failure) std::rethrow_exception(failure);
  if (reply.status != expected) {
    throw std::runtime_error(fmt::format("POST {}: HTTP {}: {}", target, reply.status, reply.body));
  }
  return json::parse(reply.body);
}

double cpu_seconds_used() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

json run_load(const LoadOptions& options) {
  asio::io_context io(options.threads);
  const asio::ip::tcp::endpoint endpoint(asio::ip::make_address(options.host),
                                         static_cast<unsigned short>(resolve_port(options)));

  // Phase 1: every agent registers (its own connection, kept for the run).
  std::vector<std::unique_ptr<loadgen::SimAgent>> agents;
  for (int i = 0; i < options.agents; ++i) {
    agents.push_back(std::make_unique<loadgen::SimAgent>(io.get_executor(), endpoint, i));
    asio::co_spawn(io, agents.back()->register_with(options.enroll_token, options.tag),
                   asio::detached);
  }
  const Clock::time_point register_start = Clock::now();
  run_phase(io, options.threads);
  const double register_s = std::chrono::duration<double>(Clock::now() - register_start).count();
  int registered = 0;
  for (const auto& agent : agents) registered += agent->registered() ? 1 : 0;
  if (registered == 0) throw std::runtime_error("no agent could register");

  // Phase 2: the work, planned over the devices that registered.
  const json spec = sweep_spec(options);
  const Clock::time_point sweep_start = Clock::now();
  const asio::ip::tcp::endpoint admin_endpoint =
      options.admin_port > 0
          ? asio::ip::tcp::endpoint(endpoint.address(),
                                    static_cast<unsigned short>(options.admin_port))
          : endpoint;
  const json sweep = admin_post(io, admin_endpoint, options.admin_token, "/v1/sweeps", spec, 201);
  const double sweep_create_s = std::chrono::duration<double>(Clock::now() - sweep_start).count();

  // Phase 3: lease -> result until every job is done or the time is up.
  loadgen::LoadRun run;
  run.jobs_planned = sweep.at("jobs").get<int64_t>();
  run.lease_wait_s = options.lease_wait_s;
  run.samples_per_point = options.samples_per_point;
  run.agents = options.agents;
  if (options.jobs_per_s_per_agent > 0) {
    run.pace_interval = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(1.0 / options.jobs_per_s_per_agent));
  }
  const double cpu_before_s = cpu_seconds_used();
  const Clock::time_point start = Clock::now();
  run.deadline = start + std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(options.duration_s));
  for (const auto& agent : agents) {
    if (agent->registered()) asio::co_spawn(io, agent->work(run), asio::detached);
  }
  run_phase(io, options.threads);
  const double loadgen_cpu_s = cpu_seconds_used() - cpu_before_s;
  // Includes the idle tail after the last job (open long polls running out).
  const double work_phase_s = std::chrono::duration<double>(Clock::now() - start).count();

  const bool all_done = run.jobs_completed.load() >= run.jobs_planned;
  // Agents still in a long poll when the last job completed return up to
  // wait_s later; that idle tail is not part of the throughput.
  const Clock::time_point end =
      all_done ? Clock::time_point(std::chrono::nanoseconds(run.last_completion_ns.load()))
               : run.deadline;
  const double elapsed_s = std::chrono::duration<double>(end - start).count();

  std::vector<double> lease_ms;
  std::vector<double> result_ms;
  int64_t leases_empty = 0;
  int64_t reconnects = 0;
  std::map<std::string, int64_t> errors;
  for (const auto& agent : agents) {
    const loadgen::AgentStats& stats = agent->stats();
    lease_ms.insert(lease_ms.end(), stats.lease_with_job_ms.begin(), stats.lease_with_job_ms.end());
    result_ms.insert(result_ms.end(), stats.result_ms.begin(), stats.result_ms.end());
    leases_empty += stats.leases_empty;
    reconnects += std::max(0, agent->connects() - 1);
    for (const auto& [kind, count] : stats.errors) errors[kind] += count;
  }
  int64_t error_total = 0;
  for (const auto& [kind, count] : errors) error_total += count;
  const int64_t completed = run.jobs_completed.load();
  return {
      {"tool", "tailsweep-loadgen"},
      {"version", tailsweep::build_info::kVersion},
      {"git_sha", tailsweep::build_info::kGitSha},
      {"note",
       "simulated agents posting synthetic results: a load test of the coordinator, "
       "not a measurement of any device"},
      {"requested",
       {{"agents", options.agents},
        {"workloads", options.workloads},
        {"model", options.model},
        {"tokens", options.tokens},
        {"duration_s", options.duration_s},
        {"lease_wait_s", options.lease_wait_s},
        {"samples_per_point", options.samples_per_point},
        {"jobs_per_s_per_agent", options.jobs_per_s_per_agent},
        {"offered_jobs_per_s", options.jobs_per_s_per_agent > 0
                                   ? json(options.jobs_per_s_per_agent * registered)
                                   : json("unlimited (closed loop)")},
        {"loadgen_threads", options.threads}}},
      {"agents_registered", registered},
      {"register_phase_s", register_s},
      {"sweep_id", sweep.at("sweep_id")},
      {"sweep_create_s", sweep_create_s},
      {"jobs_planned", run.jobs_planned},
      {"jobs_completed", completed},
      {"all_jobs_done", all_done},
      {"elapsed_s", elapsed_s},
      {"jobs_per_s", elapsed_s > 0 ? completed / elapsed_s : 0.0},
      {"lease_latency_ms", loadgen::latency_summary_json(std::move(lease_ms))},
      {"result_latency_ms", loadgen::latency_summary_json(std::move(result_ms))},
      {"leases_empty", leases_empty},
      {"reconnects", reconnects},
      {"work_phase_s", work_phase_s},
      {"loadgen_cpu_s", loadgen_cpu_s},  // over work_phase_s
      {"errors_total", error_total},
      {"errors", errors},
  };
}

}  // namespace

int main(int argc, char** argv) {
  LoadOptions options;
  CLI::App app{
      "tailsweep-loadgen: N simulated agents lease and answer profile jobs against a running "
      "coordinator as fast as it hands them out; prints throughput and lease latency as JSON"};
  app.add_option("--host", options.host, "the coordinator's address")->capture_default_str();
  app.add_option("--port", options.port, "the coordinator's port");
  app.add_option("--port-file", options.port_file, "file holding the port (serve --port-file)");
  app.add_option("--admin-port", options.admin_port,
                 "port for the admin request that creates the sweep (default: --port)")
      ->check(CLI::Range(1, 65535));
  app.add_option("--enroll-token", options.enroll_token, "enrollment token")
      ->envname("TAILSWEEP_ENROLL_TOKEN")
      ->required();
  app.add_option("--admin-token", options.admin_token, "admin token (creates the sweep)")
      ->envname("TAILSWEEP_ADMIN_TOKEN")
      ->required();
  app.add_option("--agents", options.agents, "simulated agents, one connection each")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_option("--workloads", options.workloads, "profile jobs per agent (sweep workloads)")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  app.add_option("--model", options.model, "model named in the jobs")->capture_default_str();
  app.add_option("--tokens", options.tokens, "token grid of the jobs (points per result)")
      ->capture_default_str();
  app.add_option("--duration-s", options.duration_s, "stop after this long if jobs remain")
      ->capture_default_str()
      ->check(tailsweep::cli::kPositive);
  app.add_option("--lease-wait-s", options.lease_wait_s, "long-poll wait of each lease")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 60.0));
  app.add_option("--samples-per-point", options.samples_per_point, "raw_ms samples per point")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--jobs-per-s-per-agent", options.jobs_per_s_per_agent,
                 "pace each agent to this rate (0: lease again at once, a closed loop)")
      ->capture_default_str()
      ->check(tailsweep::cli::kNonNegative);
  app.add_option("--threads", options.threads, "I/O threads of the load generator")
      ->capture_default_str()
      ->check(CLI::Range(1, 16));
  app.add_option("--tag", options.tag, "tag of the simulated devices (selects them)")
      ->capture_default_str();
  app.add_option("--out", options.out, "also write the JSON here");
  CLI11_PARSE(app, argc, argv);
  try {
    const json report = run_load(options);
    const std::string text = report.dump(2);
    fmt::print("{}\n", text);
    if (!options.out.empty()) {
      std::ofstream out(options.out);
      out << text << "\n";
      if (!out) throw std::runtime_error(fmt::format("cannot write {}", options.out));
    }
    return 0;
  } catch (const std::exception& error) {
    fmt::print(stderr, "tailsweep-loadgen: {}\n", error.what());
    return 1;
  }
}
