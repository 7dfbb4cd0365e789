#pragma once
// A surrogate with an uncertainty estimate: an ensemble of gradient-boosted
// tree regressors (XGBoost, Debian's libxgboost-dev), each fitted to its own
// bootstrap resample of the measurements with its own seed; the prediction
// is the members' mean and the uncertainty their standard deviation.
// ProTran used one AdaBoost of 500 trees with the spread of its trees; the
// bootstrap ensemble is our choice (docs/design_space.md): boosted trees fit
// residuals, so the spread of one booster's trees says little of its error.
// Deterministic for a seed (one thread). Histogram splits and 100 rounds:
// on the 2-vCPU VM, a 5-fold error and an ensemble on 200 architectures took
// 1.0 s where exact splits and 200 rounds took 7.7 s, for the same error.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace tailsweep::surrogate {

struct EnsembleSettings {
  std::size_t members = 8;
  int rounds = 100;  // boosting rounds per member
  int max_depth = 4;
  double learning_rate = 0.1;
  uint64_t seed = 0;
};

struct Prediction {
  std::vector<double> mean;
  std::vector<double> stddev;  // over the members
};

// Rows of features, one row per sample, all of the same width.
using FeatureRows = std::vector<std::vector<float>>;

class TreeEnsemble {
 public:
  // Fits every member; InputError for fewer than 2 rows, rows of different
  // widths, or a target that is not finite. std::runtime_error when
  // XGBoost fails, with its message.
  TreeEnsemble(const FeatureRows& rows, const std::vector<double>& targets,
               const EnsembleSettings& settings);
  ~TreeEnsemble();
  TreeEnsemble(const TreeEnsemble&) = delete;
  TreeEnsemble& operator=(const TreeEnsemble&) = delete;

  Prediction predict(const FeatureRows& rows) const;

 private:
  struct Member;
  std::vector<std::unique_ptr<Member>> members_;
  std::size_t width_ = 0;
};

}  // namespace tailsweep::surrogate
