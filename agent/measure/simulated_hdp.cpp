#include "agent/measure/simulated_hdp.h"

#include <cmath>

#include <fmt/core.h>

#include "common/model/token_schedule.h"
#include "common/util/errors.h"

namespace tailsweep::agent {

std::vector<std::optional<std::vector<sim::HdpBlockShares>>> simulated_hdp_inputs(
    const std::vector<MethodSpec>& methods, const std::vector<protocol::HdpMeasuredShares>& shares,
    const VitConfig& config) {
  std::vector<std::optional<std::vector<sim::HdpBlockShares>>> inputs;
  for (const MethodSpec& method : methods) {
    if (!method.hdp) {
      inputs.emplace_back();
      continue;
    }
    const std::string name = to_string(method);
    const protocol::HdpMeasuredShares* found = nullptr;
    for (const protocol::HdpMeasuredShares& measured : shares) {
      if (to_string(parse_method_spec(measured.method)) == name) found = &measured;
    }
    if (!found) {
      throw InputError(fmt::format(
          "{}: a simulated GPU models HDP from the shares an evaluation on a real device "
          "measured (what HDP prunes depends on the images); give them with --hdp-shares "
          "EVAL.json, as a sweep's \"hdp\" does (docs/hdp.md)",
          name));
    }
    for (const std::size_t blocks : {found->heads_pruned.size(), found->blocks_pruned.size()}) {
      if (static_cast<int64_t>(blocks) != config.depth) {
        throw InputError(fmt::format("{}: HDP shares for {} blocks; {} has {}", name, blocks,
                                     config.name, config.depth));
      }
    }
    std::vector<sim::HdpBlockShares> blocks;
    for (std::size_t i = 0; i < found->heads_pruned.size(); ++i) {
      blocks.push_back({found->heads_pruned[i], found->blocks_pruned[i]});
    }
    inputs.emplace_back(std::move(blocks));
  }
  return inputs;
}

std::vector<HdpCounts> simulated_hdp_counts(const MethodSpec& method, const VitConfig& config,
                                            int64_t batch,
                                            const std::vector<sim::HdpBlockShares>& shares) {
  const TokenSchedule schedule = token_schedule(method, config);
  const int64_t d = config.head_dim();
  std::vector<HdpCounts> per_block;
  for (std::size_t b = 0; b < shares.size(); ++b) {
    const int64_t n = schedule.tokens_into_block[b];
    const int64_t blocks_per_head = ((n + 1) / 2) * ((n + 1) / 2);
    HdpCounts counts;
    counts.heads = batch * config.num_heads;
    counts.heads_pruned = std::llround(static_cast<double>(counts.heads) * shares[b].heads_pruned);
    const int64_t kept = counts.heads - counts.heads_pruned;
    counts.blocks = kept * blocks_per_head;
    counts.blocks_pruned =
        std::llround(static_cast<double>(counts.blocks) * shares[b].blocks_pruned);
    const int64_t entries = n * n;
    counts.macs = 2 * counts.heads * entries * d;
    // Each pruned block drops up to 4 entries; at the matrix's odd edge
    // fewer, which the share of entries below approximates.
    const auto computed = static_cast<int64_t>(
        std::llround(static_cast<double>(kept * entries) * (1 - shares[b].blocks_pruned)));
    counts.macs_skipped = counts.macs - 2 * computed * d;
    counts.frac_macs_dropped = method.hdp->approximate ? computed * d : 0;
    counts.int_macs = counts.heads * entries * d;
    per_block.push_back(counts);
  }
  return per_block;
}

}  // namespace tailsweep::agent
