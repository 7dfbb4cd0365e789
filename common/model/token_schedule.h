#pragma once
// How many tokens each block sees under a method: a pure function of the
// method, the depth and the tokens entering the first block. The engine must
// produce exactly these counts (tested), and the coordinator uses them to
// reason about work without running a model.
#include <cstdint>
#include <vector>

#include "common/model/method_spec.h"

namespace tailsweep {

struct TokenSchedule {
  int64_t tokens_in = 0;                    // after the embedding (and random keep)
  std::vector<int64_t> tokens_into_block;   // what block i computes attention on
  std::vector<int64_t> tokens_after_block;  // what block i hands on
};

// The count each method leaves after one block, given n tokens entering it
// (CLS included); these are the definitions the engine implements:
//   Top-K: n - r when r > 0 and n - r - 1 > 1 (at least two patch tokens kept)
//   POMT:  n - r in its block when r > 0 and n - r - 2 > 1 (R+1 fused into 1)
//   ToMe:  n - min(r, (n - 1) / 2)  (CLS protected, at most half merged)
int64_t topk_tokens_after(int64_t tokens, int64_t r);
int64_t pomt_tokens_after(int64_t tokens, int64_t r);
int64_t tome_tokens_after(int64_t tokens, int64_t r);

TokenSchedule token_schedule(const MethodSpec& method, const VitConfig& config);

// The share of the unpruned model's attention multiply-accumulates (Q.K^T
// and P.V: n^2 per head in every block) that a method's token counts leave:
// the sum over blocks of n^2, over depth * N^2. What HDP prunes on top is
// counted by the engine (docs/hdp.md), not here.
double attention_work_share(const MethodSpec& method, const VitConfig& config);

}  // namespace tailsweep
