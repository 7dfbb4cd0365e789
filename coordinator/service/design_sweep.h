#pragma once
// The "design_space" part of a sweep spec (docs/sweeps.md, docs/design_space.md):
// a seeded sample of architectures from a design space, each measured on
// every selected device by an 'architecture' job (latency per batch, energy
// and peak power where the device has a sensor). Pure: no SQLite, no HTTP.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/design/design_space.h"
#include "coordinator/store/store.h"

namespace tailsweep {
class JsonFields;
}

namespace tailsweep::coordinator {

inline constexpr int64_t kArchitecturePriority = 5;
// More than ProTran's budgets (a few hundred per device), few enough that
// one sweep's sample is planned and stored in well under a second.
inline constexpr int64_t kMaxDesignSample = 2'000;

struct DesignSweepSettings {
  design::DesignSpace space;        // "space": absent, FlexiBERT 2.0's
  std::string sampler = "lhs";      // lhs | uniform
  int64_t count = 16;               // architectures, 1..kMaxDesignSample
  uint64_t seed = 0;                // the sample, the weights and the visiting order
  std::vector<int64_t> batches{1};  // each architecture at each batch
  double precision = 0.02;
  double time_cap_s = 10.0;
  double warmup_s = 1.0;
};

// Strict: InputError naming the field ("sweep spec: design_space.count: ...").
DesignSweepSettings parse_design_sweep(const JsonFields& fields);

// The sample, in the sampler's order (the same on every call for a seed).
std::vector<design::Architecture> design_sample(const DesignSweepSettings& settings);

// One 'architecture' job spec per architecture of the sample.
std::vector<nlohmann::json> architecture_job_specs(const DesignSweepSettings& settings);

}  // namespace tailsweep::coordinator
