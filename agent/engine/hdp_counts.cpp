#include "agent/engine/hdp_counts.h"

#include <nlohmann/json.hpp>

namespace tailsweep::agent {
namespace {

double share(int64_t part, int64_t whole) {
  return whole > 0 ? static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

nlohmann::json counts_json(const HdpCounts& c) {
  return {{"heads", c.heads},
          {"heads_pruned", c.heads_pruned},
          {"heads_pruned_share", share(c.heads_pruned, c.heads)},
          {"blocks", c.blocks},
          {"blocks_pruned", c.blocks_pruned},
          {"blocks_pruned_share", share(c.blocks_pruned, c.blocks)},
          {"attention_macs", c.macs},
          {"attention_macs_skipped", c.macs_skipped},
          {"attention_macs_skipped_share", share(c.macs_skipped, c.macs)},
          {"frac_macs_dropped", c.frac_macs_dropped},
          {"int_macs", c.int_macs}};
}

}  // namespace

nlohmann::json hdp_json(const std::vector<HdpCounts>& per_block) {
  HdpCounts total;
  nlohmann::json blocks = nlohmann::json::array();
  for (const HdpCounts& counts : per_block) {
    total += counts;
    blocks.push_back(counts_json(counts));
  }
  nlohmann::json out = counts_json(total);
  out["per_block"] = std::move(blocks);
  return out;
}

}  // namespace tailsweep::agent
