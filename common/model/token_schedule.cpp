#include "common/model/token_schedule.h"

#include <algorithm>

namespace tailsweep {

int64_t topk_tokens_after(int64_t tokens, int64_t r) {
  return (r > 0 && tokens - r - 1 > 1) ? tokens - r : tokens;
}

int64_t pomt_tokens_after(int64_t tokens, int64_t r) {
  return (r > 0 && tokens - r - 2 > 1) ? tokens - r : tokens;
}

int64_t tome_tokens_after(int64_t tokens, int64_t r) {
  const int64_t merged = std::min(r, (tokens - 1) / 2);
  return merged > 0 ? tokens - merged : tokens;
}

TokenSchedule token_schedule(const MethodSpec& method, const VitConfig& config) {
  TokenSchedule schedule;
  schedule.tokens_in =
      method.kind == MethodKind::kRandom ? method.keep_tokens : config.total_tokens();
  const std::vector<int64_t> tome_r = tome_requested_r(method, config.depth);
  int64_t tokens = schedule.tokens_in;
  for (int64_t block = 0; block < config.depth; ++block) {
    schedule.tokens_into_block.push_back(tokens);
    switch (method.kind) {
      case MethodKind::kTopK:
        tokens = topk_tokens_after(tokens, method.r);
        break;
      case MethodKind::kPomt:
        if (block == method.layer) tokens = pomt_tokens_after(tokens, method.r);
        break;
      case MethodKind::kTome:
        tokens = tome_tokens_after(tokens, tome_r[static_cast<std::size_t>(block)]);
        break;
      case MethodKind::kNone:
      case MethodKind::kRandom:
        break;
    }
    schedule.tokens_after_block.push_back(tokens);
  }
  return schedule;
}

double attention_work_share(const MethodSpec& method, const VitConfig& config) {
  const TokenSchedule schedule = token_schedule(method, config);
  double kept = 0;
  for (const int64_t tokens : schedule.tokens_into_block) {
    kept += static_cast<double>(tokens) * static_cast<double>(tokens);
  }
  const double full = static_cast<double>(config.total_tokens());
  return kept / (static_cast<double>(config.depth) * full * full);
}

}  // namespace tailsweep
