#pragma once
// What Hybrid Dynamic Pruning did (agent/engine/hybrid_pruning.h), in a
// header without LibTorch, for evaluation and profiling results.
#include <cstdint>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace tailsweep::agent {

// Summed over the images of one or more forward passes, per layer or in total.
struct HdpCounts {
  int64_t heads = 0;          // (image, head) pairs seen
  int64_t heads_pruned = 0;   // ... pruned: no Q.K^T, softmax or P.V
  int64_t blocks = 0;         // 2x2 blocks of the kept heads' attention matrices
  int64_t blocks_pruned = 0;  // ... masked out
  // Multiply-accumulates of Q.K^T and P.V without any pruning, and those
  // that pruned heads and pruned blocks' entries leave out.
  int64_t macs = 0;
  int64_t macs_skipped = 0;
  int64_t frac_macs_dropped = 0;  // the frac x frac products the approximation drops
  int64_t int_macs = 0;           // the integer product that decides, on every head

  HdpCounts& operator+=(const HdpCounts& other) {
    heads += other.heads;
    heads_pruned += other.heads_pruned;
    blocks += other.blocks;
    blocks_pruned += other.blocks_pruned;
    macs += other.macs;
    macs_skipped += other.macs_skipped;
    frac_macs_dropped += other.frac_macs_dropped;
    int_macs += other.int_macs;
    return *this;
  }
};

// The "hdp" object of infer, eval and profile results (docs/hdp.md): the
// counts in total and per block, with the pruned and skipped shares.
nlohmann::json hdp_json(const std::vector<HdpCounts>& per_block);

}  // namespace tailsweep::agent
