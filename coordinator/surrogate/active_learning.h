#pragma once
// ProTran's active-learning loop as pure functions (docs/design_space.md):
// targets normalised by twice their largest measured value, the held-out
// error, convergence once the last `patience` fits all stayed at or below
// the normalised MSE limit, and the candidates whose summed uncertainty is
// largest.
//
// Where we differ from ProTran: its held-out error is of one 80/20 split.
// With 16 to 50 samples a fifth is 3 to 10 architectures, and the error of
// so few jumps from step to step (on the simulated AGX Orin, steps of 8 to
// 20 samples: 0.0002, 0.008, 0.035, 0.002, against a limit of 0.005). Ours is 5-fold
// cross-validated: each sample is held out once, by a surrogate fitted on four fifths, and the
// error is over all of them.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "coordinator/surrogate/tree_ensemble.h"

namespace tailsweep::surrogate {

// ProTran's convergence limit on the held-out normalised MSE.
inline constexpr double kProTranMaxNmse = 0.005;

// Twice the largest value (ProTran's normaliser); InputError when there is
// no positive value.
double twice_max(const std::vector<double>& values);

// The fold of each sample: a seeded shuffle cut into `folds` parts as equal
// as can be. InputError unless 2 <= folds and 2 * folds <= samples (each fit
// keeps at least half the samples).
std::vector<std::size_t> fold_of(std::size_t samples, std::size_t folds, uint64_t seed);

// Mean of ((predicted - actual) / scale)^2.
double normalised_mse(const std::vector<double>& predicted, const std::vector<double>& actual,
                      double scale);

inline constexpr std::size_t kFolds = 5;

struct HeldOutFit {
  std::size_t train = 0;  // samples each fold's surrogate was fitted on (the smallest)
  std::size_t test = 0;   // samples held out in all: every one, once
  double nmse = 0;        // normalised by twice the largest value
  double scale = 0;
};
// Cross-validated: per fold, an ensemble fitted on the other folds predicts
// it. Fewer samples than 2 * kFolds: as
// many folds as leave each fit half of them (at least 2 folds, 4 samples).
HeldOutFit held_out_fit(const FeatureRows& rows, const std::vector<double>& targets,
                        const EnsembleSettings& settings, uint64_t split_seed);

// A surrogate fitted on one set of measurements, tested on another (an
// independent sample): its normalised MSE (by twice the test set's largest
// value) and the median of |predicted - measured| / measured.
struct TestError {
  double nmse = 0;
  double median_relative_error = 0;
};
TestError test_error(const FeatureRows& train_rows, const std::vector<double>& train_targets,
                     const FeatureRows& test_rows, const std::vector<double>& test_targets,
                     const EnsembleSettings& settings);

// Whether the last `patience` values of a target's held-out errors, in step
// order, are all at or below max_nmse.
bool converged(const std::vector<double>& nmse_by_step, double max_nmse, std::size_t patience);

// The indices of the `count` largest scores, largest first (ties: lower index first).
std::vector<std::size_t> largest(const std::vector<double>& scores, std::size_t count);

}  // namespace tailsweep::surrogate
