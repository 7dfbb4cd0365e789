#pragma once
// Class-stratified subsets: `--limit 1000` on a 10-class set takes 100 images
// of each class, drawn with a seed, never "the first 1000" (POMT's accuracy
// curve used the first ~1024 images of an unshuffled ImageNet folder: about
// 20 of its 1000 classes).
#include <cstdint>
#include <span>
#include <vector>

namespace tailsweep::datasets {

// Indices into `labels` (sorted ascending), limit / classes from each class;
// the remainder goes one each to the lowest class ids. A class with fewer
// images than its share gives all it has, and the shortfall is spread over
// the others. limit >= labels.size() returns every index. labels must be
// < classes (InputError otherwise).
std::vector<std::size_t> stratified_subset(std::span<const int32_t> labels, int classes,
                                           std::size_t limit, uint64_t seed);

}  // namespace tailsweep::datasets
