// tailsweep sweep create|status|wait|cancel, and tailsweep devices: the user's
// side of a running coordinator (docs/sweeps.md).
#include <chrono>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "common/util/cli_main.h"
#include "common/util/errors.h"
#include "common/util/progress.h"
#include "common/util/text.h"
#include "common/wire/strict_json.h"
#include "coordinator/cli/admin_client.h"
#include "coordinator/cli/commands.h"

namespace tailsweep::cli {
namespace {

using nlohmann::json;

struct SweepOptions {
  AdminConnection connection;
  std::string spec_file;
  int64_t sweep_id = 0;
  double timeout_s = 0;  // wait: 0 = no limit
  double log_every_s = 30;  // wait, when stderr is no terminal: a line this often
  bool json_output = false;
  bool skip_offline = false;  // create
  std::string device_name;    // devices retire
};

int64_t count_of(const json& jobs, const char* state) {
  return jobs.contains(state) ? jobs.at(state).get<int64_t>() : 0;
}

int64_t total_of(const json& jobs) {
  int64_t total = 0;
  for (const auto& [state, count] : jobs.items()) total += count.get<int64_t>();
  return total;
}

int64_t finished_of(const json& jobs) {
  return count_of(jobs, "done") + count_of(jobs, "failed") + count_of(jobs, "cancelled");
}

std::string counts_text(const json& jobs) {
  std::string text;
  for (const char* state : {"waiting", "queued", "leased", "done", "failed", "cancelled"}) {
    if (count_of(jobs, state) == 0) continue;
    text += fmt::format("{}{} {}", text.empty() ? "" : ", ", count_of(jobs, state), state);
  }
  return text.empty() ? "no jobs" : text;
}

// A name from the coordinator, as the terminal should show it: names are
// checked at registration, but a database from before that is not.
std::string shown(const json& name) { return printable(name.get<std::string>()); }

void print_status(const json& status) {
  fmt::print("sweep {} ({}): {}, {}/{} jobs finished\n", status.at("sweep_id").get<int64_t>(),
             shown(status.at("name")), status.at("state").get<std::string>(),
             finished_of(status.at("jobs")), total_of(status.at("jobs")));
  for (const json& device : status.at("devices")) {
    fmt::print("  {:<32} {}\n", shown(device.at("device")), counts_text(device.at("jobs")));
  }
  // Why jobs failed, so that nobody has to dig in the database for it.
  const json& failures = status.at("failures");
  if (failures.empty()) return;
  fmt::print("failed jobs:\n");
  for (const json& failed : failures) {
    fmt::print("  job {} ({} on {}, {} attempts): {}\n", failed.at("job_id").get<int64_t>(),
               shown(failed.at("kind")), shown(failed.at("device")),
               failed.at("attempts").get<int64_t>(), shown(failed.at("error")));
  }
  const int64_t failed_count = count_of(status.at("jobs"), "failed");
  if (failed_count > static_cast<int64_t>(failures.size())) {
    fmt::print("  ... and {} more (SELECT * FROM job_view WHERE state = 'failed')\n",
               failed_count - static_cast<int64_t>(failures.size()));
  }
}

json read_spec(const std::string& path) { return read_json_file(path, "the sweep spec"); }

void create(const SweepOptions& options) {
  json spec = read_spec(options.spec_file);
  if (options.skip_offline) {
    if (!spec.is_object())
      throw InputError(fmt::format("{}: not a JSON object", options.spec_file));
    spec["devices"]["skip_offline"] = true;
  }
  const json answer = admin_call(options.connection, "POST", "/v1/sweeps", spec);
  if (options.json_output) {
    fmt::print("{}\n", answer.dump());
  } else {
    fmt::print("sweep {} created: {} jobs\n", answer.at("sweep_id").get<int64_t>(),
               answer.at("jobs").get<int64_t>());
  }
  // Said now, not discovered at `sweep wait`: these jobs wait for their agents.
  const json offline = answer.value("offline_devices", json::array());
  if (!offline.empty()) {
    std::string names;
    for (const json& name : offline) names += (names.empty() ? "" : ", ") + shown(name);
    fmt::print(stderr,
               "tailsweep: warning: no agent is running for {} (offline): their jobs wait until "
               "one is. Start their agents, `tailsweep devices retire NAME` a device that is "
               "gone, or create the sweep with --skip-offline.\n",
               names);
  }
}

std::string sweep_path(int64_t id) { return fmt::format("/v1/sweeps/{}", id); }

void status(const SweepOptions& options) {
  const json answer = admin_call(options.connection, "GET", sweep_path(options.sweep_id));
  options.json_output ? fmt::print("{}\n", answer.dump()) : print_status(answer);
}

void wait(const SweepOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  ProgressLine progress;
  // A log (the main job's, CI's) gets a plain line now and then instead of
  // the terminal's progress line, so that a long wait is not silence.
  auto last_line = started - std::chrono::hours(1);
  for (;;) {
    const json answer = admin_call(options.connection, "GET", sweep_path(options.sweep_id));
    const json& jobs = answer.at("jobs");
    const std::string state = answer.at("state").get<std::string>();
    // Jobs are added as schedules arrive, so the total can grow.
    const auto total = static_cast<std::size_t>(total_of(jobs));
    if (state == "running") {
      progress.update(static_cast<std::size_t>(finished_of(jobs)), total + 1, counts_text(jobs));
      const auto now = std::chrono::steady_clock::now();
      if (!progress.enabled() && options.log_every_s > 0 &&
          now - last_line >= std::chrono::duration<double>(options.log_every_s)) {
        fmt::print(stderr, "sweep {}: {:.0f} s, {}/{} jobs finished ({})\n", options.sweep_id,
                   std::chrono::duration<double>(now - started).count(), finished_of(jobs), total,
                   counts_text(jobs));
        last_line = now;
      }
    }
    if (state != "running") {
      options.json_output ? fmt::print("{}\n", answer.dump()) : print_status(answer);
      if (state != "done") {
        throw std::runtime_error(fmt::format("sweep {} ended {}", options.sweep_id, state));
      }
      return;
    }
    const std::chrono::duration<double> waited = std::chrono::steady_clock::now() - started;
    if (options.timeout_s > 0 && waited.count() > options.timeout_s) {
      throw std::runtime_error(fmt::format("sweep {} still running after {:.0f} s: {}",
                                           options.sweep_id, waited.count(), counts_text(jobs)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

void cancel(const SweepOptions& options) {
  admin_call(options.connection, "POST", sweep_path(options.sweep_id) + "/cancel");
  status(options);
}

void retire_device(const SweepOptions& options) {
  if (!is_valid_name(options.device_name)) {
    throw InputError(fmt::format("device name: {}", invalid_name_message(options.device_name)));
  }
  const json answer = admin_call(options.connection, "POST",
                                 fmt::format("/v1/devices/{}/retire", options.device_name));
  if (options.json_output) {
    fmt::print("{}\n", answer.dump());
    return;
  }
  fmt::print("device {} retired: new sweeps leave it out; {} unfinished job(s) of it failed\n",
             shown(answer.at("device")), answer.at("jobs_failed").get<int64_t>());
}

void list_devices(const SweepOptions& options) {
  const json answer = admin_call(options.connection, "GET", "/v1/devices");
  if (options.json_output) {
    fmt::print("{}\n", answer.dump());
    return;
  }
  const double now_s =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  fmt::print("{:<4} {:<32} {:<7} {:<10} {:<8} {:<7} {}\n", "id", "name", "kind", "simulated",
             "state", "agents", "last seen");
  for (const json& device : answer.at("devices")) {
    fmt::print("{:<4} {:<32} {:<7} {:<10} {:<8} {:<7} {:.0f} s ago\n",
               device.at("id").get<int64_t>(), shown(device.at("name")), shown(device.at("kind")),
               device.at("simulated").get<bool>() ? "yes" : "no",
               device.at("state").get<std::string>(), device.at("agents").get<int64_t>(),
               now_s - device.at("last_seen_s").get<double>());
  }
}

CLI::App* add_sweep_id(CLI::App* command, SweepOptions& options) {
  command->add_option("id", options.sweep_id, "sweep id")->required()->check(cli::kId);
  return command;
}

}  // namespace

void register_sweep_commands(CLI::App& app) {
  auto options = std::make_shared<SweepOptions>();
  CLI::App* sweep =
      app.add_subcommand("sweep", "Create, follow and cancel fleet-wide sweeps (docs/sweeps.md)");
  sweep->footer(
      "Example:\n  tailsweep sweep create examples/sweeps/smoke.json --coordinator "
      "http://127.0.0.1:8470 --admin-token-file admin.token");
  sweep->require_subcommand(1);
  const auto common = [&](CLI::App* command) {
    add_admin_connection_options(command, options->connection);
    command->add_flag("--json", options->json_output, "print the coordinator's JSON");
  };
  CLI::App* create_command =
      sweep->add_subcommand("create", "Submit a sweep spec; prints the sweep id");
  create_command->footer(
      "Example:\n  tailsweep sweep create examples/sweeps/smoke.json --coordinator "
      "http://127.0.0.1:8470 --admin-token-file admin.token");
  create_command->add_option("spec", options->spec_file, "sweep spec (JSON)")
      ->required()
      ->check(CLI::ExistingFile);
  create_command->add_flag("--skip-offline", options->skip_offline,
                           "leave out devices no agent is running for (sets the spec's "
                           "devices.skip_offline)");
  common(create_command);
  create_command->callback([options] { create(*options); });

  CLI::App* status_command =
      add_sweep_id(sweep->add_subcommand("status", "Progress per device"), *options);
  status_command->footer(
      "Example:\n  tailsweep sweep status 1 --coordinator http://127.0.0.1:8470 --admin-token-file "
      "admin.token");
  common(status_command);
  status_command->callback([options] { status(*options); });

  CLI::App* wait_command = add_sweep_id(
      sweep->add_subcommand("wait", "Block until the sweep ends; exit 1 unless it is done"),
      *options);
  wait_command->footer(
      "Example:\n  tailsweep sweep wait 1 --timeout 3600 --coordinator http://127.0.0.1:8470 "
      "--admin-token-file admin.token");
  wait_command->add_option("--timeout", options->timeout_s, "give up after this many seconds");
  wait_command
      ->add_option("--log-every", options->log_every_s,
                   "when stderr is not a terminal, a progress line this often (seconds; 0: none)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  common(wait_command);
  wait_command->callback([options] { wait(*options); });

  CLI::App* cancel_command =
      add_sweep_id(sweep->add_subcommand("cancel", "Cancel every unfinished job"), *options);
  cancel_command->footer(
      "Example:\n  tailsweep sweep cancel 1 --coordinator http://127.0.0.1:8470 --admin-token-file "
      "admin.token");
  common(cancel_command);
  cancel_command->callback([options] { cancel(*options); });

  CLI::App* devices = app.add_subcommand(
      "devices", "List the fleet: state (busy, online, offline, retired) and last seen");
  devices->footer(
      "Example:\n  tailsweep devices --coordinator http://127.0.0.1:8470 --admin-token-file "
      "admin.token");
  common(devices);
  devices->require_subcommand(0, 1);
  CLI::App* retire = devices->add_subcommand(
      "retire",
      "Take a device out of new sweeps and fail its unfinished jobs; an agent that registers "
      "it again brings it back");
  retire->footer(
      "Example:\n  tailsweep devices retire nano-2 --coordinator http://127.0.0.1:8470 "
      "--admin-token-file admin.token");
  retire->add_option("name", options->device_name, "the device's name")->required();
  retire->fallthrough();  // --coordinator and the token are the devices command's options
  retire->callback([options] { retire_device(*options); });
  devices->callback([options, devices] {
    if (devices->got_subcommand("retire")) return;
    list_devices(*options);
  });
}

}  // namespace tailsweep::cli
