#pragma once
// Latency curves L(n): what `tailsweep-agent profile` runs, and what an agent
// runs for a profile job. Plain types only in this header.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "agent/engine/model_run.h"
#include "common/wire/protocol.h"

namespace tailsweep::agent {

struct ProfileRequest {
  ModelRunOptions run;
  std::string device = "cpu";  // cpu, cuda[:N] or sim:NAME (common/device_spec.h)
  std::vector<int64_t> batches{1};
  std::vector<int64_t> tokens;  // the curve's token counts (with CLS); empty with methods
  // Instead of a curve: the latency of each of these method specs on the
  // full input (none, topk:8, pomt:58@3, tome:8, ...), every batch.
  std::vector<std::string> methods;
  // With methods: time each method also on the weights clustered at load to
  // each of these K (2..256), in the same rounds, its ratio paired with the
  // dense "none" (docs/cluster.md). The clustered models run on
  // run.weight_kernel, the weights as given on the dense kernel.
  std::vector<int64_t> paired_clusters;
  // On a simulated device, what each HDP method prunes per block, as an
  // evaluation on a real device measured it (docs/hdp.md): its model's input.
  std::vector<protocol::HdpMeasuredShares> hdp_shares;
  double precision = 0.01;
  std::string mode = "model";  // model | block
  double warmup_s = 2.0;
  double time_cap_s = 10.0;
  std::size_t min_samples = 10;  // blocks: samples per point, at least
  // How points are measured (docs/profile.md): "rounds" (the default) visits
  // every point in each round, a slice at a time, until each reaches the
  // precision or time_cap_s; "blocks" measures each point in one block.
  std::string protocol = "rounds";
  double slice_s = 0.05;             // rounds: sampled time per visit, at least
  std::size_t min_slice_samples = 3;  // rounds: samples per visit, at least
  std::size_t min_rounds = 6;         // rounds: before a point may stop
  double fixed_time_s = 0;  // > 0: POMT's protocol, for comparison (docs/profile.md)
  int power_period_ms = 10;  // power sensor read period; 0: no power sampling
  // When set (by a signal handler, say), measuring stops before the next
  // sample: the document holds the points finished, with "interrupted": true.
  const std::atomic<bool>* interrupt = nullptr;
};

// Measures every point and returns the document of docs/profile.md. Throws
// InputError on a bad request. Progress goes to stderr when it is a terminal.
nlohmann::json run_profiling(const ProfileRequest& request);

}  // namespace tailsweep::agent
