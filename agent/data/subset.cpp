#include "agent/data/subset.h"

#include <algorithm>
#include <random>

#include <fmt/format.h>

#include "common/util/errors.h"

namespace tailsweep::datasets {

std::vector<std::size_t> stratified_subset(std::span<const int32_t> labels, int classes,
                                           std::size_t limit, uint64_t seed) {
  std::vector<std::vector<std::size_t>> by_class(static_cast<std::size_t>(classes));
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= classes) {
      throw InputError(
          fmt::format("label {} at index {} is outside 0..{}", labels[i], i, classes - 1));
    }
    by_class[static_cast<std::size_t>(labels[i])].push_back(i);
  }
  if (limit >= labels.size()) {
    std::vector<std::size_t> all(labels.size());
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
    return all;
  }
  // Shares: limit / classes each, the remainder to the lowest ids, then any
  // class's shortfall handed round-robin to classes that still have images.
  std::vector<std::size_t> share(by_class.size(), limit / by_class.size());
  for (std::size_t c = 0; c < limit % by_class.size(); ++c) share[c] += 1;
  std::size_t shortfall = 0;
  for (std::size_t c = 0; c < by_class.size(); ++c) {
    if (share[c] > by_class[c].size()) {
      shortfall += share[c] - by_class[c].size();
      share[c] = by_class[c].size();
    }
  }
  while (shortfall > 0) {
    bool gave = false;
    for (std::size_t c = 0; c < by_class.size() && shortfall > 0; ++c) {
      if (share[c] < by_class[c].size()) {
        share[c] += 1;
        shortfall -= 1;
        gave = true;
      }
    }
    if (!gave) break;
  }
  // Within each class, the first `share` of a seeded Fisher-Yates shuffle
  // (our own draws: std::shuffle's are implementation-defined).
  std::mt19937_64 rng(seed);
  std::vector<std::size_t> chosen;
  chosen.reserve(limit);
  for (std::size_t c = 0; c < by_class.size(); ++c) {
    auto& members = by_class[c];
    for (std::size_t i = members.size(); i > 1; --i) {
      std::swap(members[i - 1], members[static_cast<std::size_t>(rng() % i)]);
    }
    chosen.insert(chosen.end(), members.begin(),
                  members.begin() + static_cast<std::ptrdiff_t>(share[c]));
  }
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

}  // namespace tailsweep::datasets
