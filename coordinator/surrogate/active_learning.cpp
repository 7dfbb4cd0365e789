#include "coordinator/surrogate/active_learning.h"

#include <algorithm>
#include <cmath>
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

std::vector<std::size_t> fold_of(std::size_t samples, std::size_t folds, uint64_t seed) {
  if (folds < 2 || 2 * folds > samples) {
    throw InputError(
        fmt::format("{} folds of {} samples: cross-validation needs 2 or more folds "
                    "and twice as many samples",
                    folds, samples));
  }
  std::vector<std::size_t> order(samples);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::mt19937_64 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<std::size_t> fold(samples);
  for (std::size_t i = 0; i < samples; ++i) fold[order[i]] = i % folds;
  return fold;
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
  const std::size_t folds = std::min(kFolds, rows.size() / 2);
  const std::vector<std::size_t> fold = fold_of(rows.size(), folds, split_seed);
  std::vector<double> predicted(rows.size(), 0.0);
  HeldOutFit fit;
  fit.train = rows.size();
  for (std::size_t k = 0; k < folds; ++k) {
    FeatureRows train_rows, test_rows;
    std::vector<double> train_targets;
    std::vector<std::size_t> test_index;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (fold[i] == k) {
        test_rows.push_back(rows[i]);
        test_index.push_back(i);
      } else {
        train_rows.push_back(rows[i]);
        train_targets.push_back(targets[i]);
      }
    }
    fit.train = std::min(fit.train, train_rows.size());
    const TreeEnsemble ensemble(train_rows, train_targets, settings);
    const std::vector<double> mean = ensemble.predict(test_rows).mean;
    for (std::size_t j = 0; j < test_index.size(); ++j) predicted[test_index[j]] = mean[j];
  }
  fit.test = rows.size();
  fit.scale = twice_max(targets);
  fit.nmse = normalised_mse(predicted, targets, fit.scale);
  return fit;
}

TestError test_error(const FeatureRows& train_rows, const std::vector<double>& train_targets,
                     const FeatureRows& test_rows, const std::vector<double>& test_targets,
                     const EnsembleSettings& settings) {
  if (test_rows.empty() || test_rows.size() != test_targets.size()) {
    throw InputError("a test error needs test samples, each with its measurement");
  }
  const TreeEnsemble ensemble(train_rows, train_targets, settings);
  const std::vector<double> predicted = ensemble.predict(test_rows).mean;
  TestError error;
  error.nmse = normalised_mse(predicted, test_targets, twice_max(test_targets));
  std::vector<double> relative;
  for (std::size_t i = 0; i < predicted.size(); ++i) {
    if (test_targets[i] > 0) {
      relative.push_back(std::abs(predicted[i] - test_targets[i]) / test_targets[i]);
    }
  }
  if (relative.empty()) throw InputError("no positive test measurement");
  std::sort(relative.begin(), relative.end());
  const std::size_t n = relative.size();
  error.median_relative_error =
      n % 2 == 1 ? relative[n / 2] : 0.5 * (relative[n / 2 - 1] + relative[n / 2]);
  return error;
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
