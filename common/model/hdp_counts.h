#pragma once
// What Hybrid Dynamic Pruning did (docs/hdp.md), summed over the images of
// one or more forward passes, per block or in total: counted by the engine
// (agent/engine/hybrid_pruning.h) or modelled by a simulated device, and
// carried in result documents (common/wire/result_document.h).
#include <cstdint>

namespace tailsweep {

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
  double heads_pruned_share() const { return share(heads_pruned, heads); }
  double blocks_pruned_share() const { return share(blocks_pruned, blocks); }
  double macs_skipped_share() const { return share(macs_skipped, macs); }

 private:
  static double share(int64_t part, int64_t whole) {
    return whole > 0 ? static_cast<double>(part) / static_cast<double>(whole) : 0.0;
  }
};

}  // namespace tailsweep
