#pragma once
// The token-reduction steps of POMT, Top-K, ToMe and the random-keep curve
// protocol, as pure functions of tensors. x is (B, N, C) with CLS at index 0;
// probs is the softmaxed attention (B, H, N, N) of the same block; values and
// keys are (B, H, N, d). Definitions follow the reference code (see
// docs/engine.md); the only intended difference is that every sort here is
// stable, so equal scores break ties by token index and runs are repeatable.
#include <cstdint>

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

namespace tailsweep::agent {

// Keeps CLS and keep_tokens-1 patch tokens drawn at random for each image,
// in their original order. (The reference draws one unseeded set for the
// whole batch; per image and seeded gives a lower-variance, repeatable A(n).)
at::Tensor random_keep(const at::Tensor& x, int64_t keep_tokens, at::Generator& generator);

// Top-K: score = attention from CLS averaged over heads; keeps CLS and the
// N-R-1 best patch tokens in descending score order. Returns x unchanged when
// r == 0 or fewer than two patch tokens would remain.
at::Tensor topk_scores(const at::Tensor& probs);  // (B, N-1)
at::Tensor topk_prune(const at::Tensor& x, const at::Tensor& probs, int64_t r);

// POMT: score = attention received (max over heads, summed over query rows,
// CLS row and column excluded, divided by its maximum over the whole batch,
// as the reference does) + softmax over tokens of the value magnitude (max
// over heads, summed over features), CLS dropped after the softmax.
at::Tensor pomt_scores(const at::Tensor& probs, const at::Tensor& values);  // (B, N-1)
// Keeps [CLS, best N-R-2 patch tokens in score order, mean of the other R+1].
// Returns x unchanged when r == 0 or N-R-2 <= 1.
at::Tensor pomt_prune(const at::Tensor& x, const at::Tensor& scores, int64_t r);

// ToMe bipartite soft matching with size-weighted merging. size is (B, N, 1)
// (tokens each row stands for); keys_mean is the keys averaged over heads
// (B, N, d). r is clamped to (N-1)/2 with CLS protected.
struct TomeState {
  at::Tensor x;
  at::Tensor size;
};
TomeState tome_merge(const at::Tensor& x, const at::Tensor& size, const at::Tensor& keys_mean,
                     int64_t r);

}  // namespace tailsweep::agent
