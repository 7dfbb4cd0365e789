#pragma once
// ProTran's active-learning loop as pure functions (docs/design_space.md):
// targets normalised by twice their largest measured value, a seeded 80/20
// split for the held-out error, convergence once the last `patience` fits
// all stayed at or below the normalised MSE limit, and the candidates whose
// summed uncertainty is largest.
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

// Which samples are held out: a seeded fifth (at least 1), never so many
// that fewer than 2 remain to fit. InputError for fewer than 3 samples.
std::vector<bool> held_out(std::size_t samples, uint64_t seed);

// Mean of ((predicted - actual) / scale)^2.
double normalised_mse(const std::vector<double>& predicted, const std::vector<double>& actual,
                      double scale);

struct HeldOutFit {
  std::size_t train = 0;
  std::size_t test = 0;
  double nmse = 0;  // on the held-out fifth, normalised by twice the largest value
  double scale = 0;
};
// Fits an ensemble on the kept samples and measures it on the held-out ones.
HeldOutFit held_out_fit(const FeatureRows& rows, const std::vector<double>& targets,
                        const EnsembleSettings& settings, uint64_t split_seed);

// Whether the last `patience` values of a target's held-out errors, in step
// order, are all at or below max_nmse.
bool converged(const std::vector<double>& nmse_by_step, double max_nmse, std::size_t patience);

// The indices of the `count` largest scores, largest first (ties: lower index first).
std::vector<std::size_t> largest(const std::vector<double>& scores, std::size_t count);

}  // namespace tailsweep::surrogate
