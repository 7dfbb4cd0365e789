#pragma once
// Hybrid Dynamic Pruning on a simulated device (docs/hdp.md). What HDP
// prunes depends on the images, which a GPU model never sees, so the model
// takes its input from an evaluation on a real device: the share of heads
// and of 2x2 blocks it pruned in each block. Pure functions.
#include <cstdint>
#include <optional>
#include <vector>

#include "agent/device/gpu_sim.h"
#include "common/model/hdp_counts.h"
#include "common/model/method_spec.h"
#include "common/model/model_config.h"
#include "common/wire/protocol.h"

namespace tailsweep::agent {

// Per method (as many as `methods`): the per-block shares its model uses,
// or nullopt for a method without HDP. InputError naming the method when
// one with HDP has no shares, or shares for another depth.
std::vector<std::optional<std::vector<sim::HdpBlockShares>>> simulated_hdp_inputs(
    const std::vector<MethodSpec>& methods, const std::vector<protocol::HdpMeasuredShares>& shares,
    const VitConfig& config);

// What the model assumes HDP pruned in one forward pass of `batch` images,
// in the engine's counts (hdp_counts.h), so that a simulated result says it
// as a measured one does: heads pruned, their blocks pruned, and the
// attention multiply-accumulates that leaves, at the tokens each block sees.
std::vector<HdpCounts> simulated_hdp_counts(const MethodSpec& method, const VitConfig& config,
                                            int64_t batch,
                                            const std::vector<sim::HdpBlockShares>& shares);

}  // namespace tailsweep::agent
