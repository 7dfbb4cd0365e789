#include "coordinator/surrogate/active_learning.h"

#include <algorithm>
#include <numeric>
#include <random>

#include <fmt/format.h>

#include "common/util/errors.h"

namespace tailsweep::surrogate {

double twice_max(const std::vector<double>& values) {
  double largest = 0;
  for (const double value : values) largest = std::max(largest, value);
  if (!(largest > 0)) throw InputError("no positive value to normalise by");
  return 2 * largest;
}

std::vector<bool> held_out(std::size_t samples, uint64_t seed) {
  if (samples < 3) {
    throw InputError(fmt::format("{} samples: a held-out error needs 3 or more", samples));
  }
  const std::size_t test = std::clamp<std::size_t>(samples / 5, 1, samples - 2);
  std::vector<std::size_t> order(samples);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::mt19937_64 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<bool> mask(samples, false);
  for (std::size_t i = 0; i < test; ++i) mask[order[i]] = true;
  return mask;
}

double normalised_mse(const std::vector<double>& predicted, const std::vector<double>& actual,
                      double scale) {
  if (predicted.size() != actual.size() || predicted.empty() || !(scale > 0)) {
    throw InputError("normalised MSE: predictions and measurements must pair up, scale > 0");
  }
  double sum = 0;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    const double error = (predicted[i] - actual[i]) / scale;
    sum += error * error;
  }
  return sum / static_cast<double>(actual.size());
}

HeldOutFit held_out_fit(const FeatureRows& rows, const std::vector<double>& targets,
                        const EnsembleSettings& settings, uint64_t split_seed) {
  const std::vector<bool> test = held_out(rows.size(), split_seed);
  FeatureRows train_rows, test_rows;
  std::vector<double> train_targets, test_targets;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    (test[i] ? test_rows : train_rows).push_back(rows[i]);
    (test[i] ? test_targets : train_targets).push_back(targets[i]);
  }
  HeldOutFit fit;
  fit.train = train_rows.size();
  fit.test = test_rows.size();
  fit.scale = twice_max(targets);
  const TreeEnsemble ensemble(train_rows, train_targets, settings);
  fit.nmse = normalised_mse(ensemble.predict(test_rows).mean, test_targets, fit.scale);
  return fit;
}

bool converged(const std::vector<double>& nmse_by_step, double max_nmse, std::size_t patience) {
  if (patience == 0 || nmse_by_step.size() < patience) return false;
  return std::all_of(nmse_by_step.end() - static_cast<std::ptrdiff_t>(patience), nmse_by_step.end(),
                     [&](double nmse) { return nmse <= max_nmse; });
}

std::vector<std::size_t> largest(const std::vector<double>& scores, std::size_t count) {
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  order.resize(std::min(count, order.size()));
  return order;
}

}  // namespace tailsweep::surrogate
