#pragma once
// A design space of heterogeneous encoders (docs/design_space.md): the
// choices per element, like FlexiBERT 2.0's, a check that an architecture
// lies in it, and the samplers ProTran's loop starts from (a Latin
// hypercube) and is compared against (uniform). Pure, seeded, so the same
// seed gives the same architectures everywhere.
#include <cstddef>
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/design/architecture.h"

namespace tailsweep::design {

struct DesignSpace {
  // What every architecture of the space takes in (Architecture's fields).
  InputKind input = InputKind::tokens;
  int64_t sequence_length = 128;
  int64_t vocabulary = 30'522;
  int64_t image_size = 224;
  int64_t patch_size = 16;
  int64_t in_channels = 3;
  // The choices, each a list of distinct values.
  std::vector<int64_t> layers{2, 4, 6, 8, 10, 12};
  std::vector<int64_t> hidden{128, 256, 512, 768};
  std::vector<int64_t> heads{2, 4, 8, 12};  // per layer: only those dividing its hidden
  std::vector<Operation> operations{std::begin(kOperations), std::end(kOperations)};
  std::vector<int64_t> feed_forward_layers{1, 2, 3};
  std::vector<int64_t> feed_forward_widths{256, 512, 1024, 2048, 3072, 4096};

  // Every combination the space holds, as a number (for the docs and for a
  // sanity check against the sample sizes): about 3.4e49 for the defaults.
  double size() const;
};

// Strict: every field optional (the defaults above), unknown fields refused,
// lists non-empty with distinct values in the architecture's limits; a
// hidden size that no listed head count divides is refused.
DesignSpace parse_design_space(const nlohmann::json& document);
nlohmann::json to_json(const DesignSpace& space);

// Throws InputError naming the first field of the architecture that the
// space does not hold ("layers[2].operation: l_dct is not in the space").
void check_in_space(const Architecture& architecture, const DesignSpace& space);

// `count` distinct architectures of the space from `seed`. Uniform: every
// choice drawn independently. Latin hypercube: each choice's dimension cut
// into `count` strata, each stratum used once (McKay et al. 1979), so the
// sample covers every dimension evenly however small it is. An architecture
// drawn twice is replaced by a uniform draw. Throws InputError when the space
// holds fewer than `count` architectures.
std::vector<Architecture> sample_uniform(const DesignSpace& space, std::size_t count,
                                         uint64_t seed);
std::vector<Architecture> sample_latin_hypercube(const DesignSpace& space, std::size_t count,
                                                 uint64_t seed);

}  // namespace tailsweep::design
