#pragma once
// The "design_space" part of a sweep spec (docs/sweeps.md, docs/design_space.md):
// a seeded sample of architectures from a design space, each measured on
// every selected device by an 'architecture' job (latency per batch, energy
// and peak power where the device has a sensor). Pure: no SQLite, no HTTP.
#include <cstddef>
#include <cstdint>
#include <optional>
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
// A surrogate's held-out error needs a fifth held out and enough left to fit.
inline constexpr int64_t kMinSamplesToFit = 5;
inline constexpr int64_t kDesignStepPriority = 5;

// ProTran's loop (docs/design_space.md): after the first sample, a
// 'design_step' job per device fits the surrogates, then queues the next
// batch of architectures and the next step, until every fitted target's
// held-out error has stayed under max_nmse for `patience` steps (then the
// predicted minima are measured while they are predicted to beat the best
// measured), or the budget is spent.
struct ActiveLearningSettings {
  int64_t batch = 8;     // architectures queued per step
  int64_t budget = 200;  // architectures measured per device at most, the first sample included
  int64_t pool = 512;    // random candidates scored per step
  std::vector<std::string> targets{"latency", "energy", "peak_power"};
  double max_nmse = 0.005;  // ProTran's limit
  int64_t patience = 3;     // steps in a row under it
  // uncertainty: the candidates whose summed normalised spread is largest;
  // random: the first candidates of a random pool (the baseline to compare with)
  std::string selection = "uncertainty";
  int64_t members = 8;  // boosted-tree regressors per surrogate
};

struct DesignSweepSettings {
  design::DesignSpace space;    // "space": absent, FlexiBERT 2.0's
  std::string sampler = "lhs";  // lhs | uniform
  // Architectures, 1..kMaxDesignSample: the whole sample, or with
  // active_learning the first one.
  int64_t count = 16;
  uint64_t seed = 0;                // the sample, the weights and the visiting order
  std::vector<int64_t> batches{1};  // each architecture at each batch
  double precision = 0.02;
  double time_cap_s = 10.0;
  double warmup_s = 1.0;
  std::optional<ActiveLearningSettings> active_learning;
  nlohmann::json source;  // the object as given: each design_step job carries it
};

// Strict: InputError naming the field ("sweep spec: design_space.count: ...").
DesignSweepSettings parse_design_sweep(const JsonFields& fields);

// The sample, in the sampler's order (the same on every call for a seed).
std::vector<design::Architecture> design_sample(const DesignSweepSettings& settings);

// The 'architecture' job spec of one architecture, with the sweep's timing.
nlohmann::json architecture_job_spec(const DesignSweepSettings& settings,
                                     design::Architecture architecture);
// One per architecture of the sample.
std::vector<nlohmann::json> architecture_job_specs(const DesignSweepSettings& settings);

// A 'design_step' job: which step of the loop, and the sweep's design_space.
struct DesignStepSpec {
  int64_t step = 1;
  DesignSweepSettings settings;
};
DesignStepSpec parse_design_step_spec(const nlohmann::json& spec);
nlohmann::json to_json(const DesignStepSpec& spec);

}  // namespace tailsweep::coordinator
