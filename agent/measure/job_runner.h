#pragma once
// What an agent does with a job the coordinator leased it: the job's spec
// (common/protocol.h) becomes the same request the CLI builds for
// `tailsweep-agent profile` / `eval`, on this agent's device and threads,
// and runs in-process. Also how the agent describes its device when it
// registers. Plain types only (no LibTorch in this header).
#include <atomic>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/device/device_facts.h"
#include "agent/fleet/agent_loop.h"
#include "agent/measure/evaluation.h"
#include "agent/measure/profiling.h"
#include "common/wire/protocol.h"

namespace tailsweep::agent {

// The agent's own settings that every job runs under.
struct AgentDevice {
  std::string device = "cpu";  // cpu, cuda[:N] or sim:NAME (common/device_spec.h)
  int threads = 0;             // 0: one per hardware thread
  // Where a job's relative paths (its weights) are read from (--data-dir);
  // empty: the working directory.
  std::string data_dir;

  bool simulated() const;
  // The NAME of sim:NAME; empty otherwise.
  std::string simulated_gpu_name() const;
};

// Throws InputError unless the device is cpu, cuda[:N] or a known sim:NAME.
// (Whether that GPU is usable is found out when a job runs there.)
void check_agent_device(const AgentDevice& device);

// A path from a job spec on this agent: an absolute one as given, a
// relative one inside data_dir. InputError for a relative path that leaves
// data_dir ("../x"): a spec names files in the agent's data, nowhere else.
std::string resolve_job_path(const std::string& path, const std::string& data_dir);

// Spec -> request. Throw InputError for a spec this agent must not or cannot
// run (an eval job on a simulated device; an accuracy_curve without tokens).
ProfileRequest profile_request_for(const protocol::ProfileJobSpec& spec, const AgentDevice& device);
EvalRequest eval_request_for(const std::string& kind, const protocol::EvalJobSpec& spec,
                             const AgentDevice& device);

// Runs the job and returns its result document; throws on any failure
// (InputError for a bad or unknown job, anything else from the run).
// `cancel`, when set, stops the measurement at its next sample (a profile
// returns the points it finished, marked interrupted; an eval throws).
nlohmann::json run_job(const protocol::JobAssignment& job, const AgentDevice& device,
                       const std::atomic<bool>* cancel = nullptr);

// run_job that never throws, the agent loop's JobRunner: the result, or the
// failure as one line (LibTorch's backtraces cut: error_message).
JobOutcome run_job_reporting_errors(const protocol::JobAssignment& job, const AgentDevice& device,
                                    const std::atomic<bool>* cancel = nullptr);

// Registration: the device's kind (sim; jetson on a Jetson board, whatever it
// computes on; else cuda or cpu) and its facts: for a simulated GPU, the
// `device` object a simulated profile writes (kind "sim", simulated true, the
// GPU's spec) without running anything; for the CPU or a GPU, the `device`
// object its results carry (ComputeDevice::describe). Building them
// configures the compute runtime (threads, BLAS), and for a GPU checks that
// it is usable (InputError otherwise).
std::string device_kind(const AgentDevice& device, const HostFacts& host);
nlohmann::json device_facts(const AgentDevice& device, const HostFacts& host);
nlohmann::json simulated_device_json(const std::string& gpu_name, const HostFacts& host);

}  // namespace tailsweep::agent
