// The design space's surrogates: architectures as features, the XGBoost
// ensemble (seeded, fitting what it is shown, uncertain where it was shown
// little), and ProTran's rules as pure functions.
#include <cmath>
#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/design/design_space.h"
#include "common/util/errors.h"
#include "coordinator/surrogate/active_learning.h"
#include "coordinator/surrogate/architecture_features.h"
#include "coordinator/surrogate/tree_ensemble.h"

namespace tailsweep::surrogate {
namespace {

using design::Operation;

TEST(ArchitectureFeatures, EachLayerInItsSlotThenTheGlobals) {
  design::Architecture a;
  a.layers = {{256, 4, Operation::l_dft, {1024, 512}}, {512, 8, Operation::sa_wma, {2048}}};
  const std::vector<float> f = architecture_features(a, 3);
  ASSERT_EQ(f.size(), 3 * kFeaturesPerLayer + kGlobalFeatures);
  ASSERT_EQ(feature_names(3).size(), f.size());
  EXPECT_EQ(feature_names(3)[4], "layer0_l_dft");
  const std::vector<float> first(f.begin(), f.begin() + 10);
  EXPECT_EQ(first, (std::vector<float>{256, 4, 0, 0, 1, 0, 2, 1024, 512, 0}));
  EXPECT_EQ(f[10 + 3], 1.0f);                                        // layer 1: sa_wma
  for (std::size_t i = 20; i < 30; ++i) EXPECT_EQ(f[i], 0.0f) << i;  // no third layer
  EXPECT_EQ(f[30], 2.0f);
  EXPECT_EQ(f[31], 128.0f);
  EXPECT_NEAR(f[32], std::log10(a.parameter_count()), 1e-5);
  EXPECT_THROW(architecture_features(a, 1), InputError);
}

// y = x0 + 2 x1 on a grid: the ensemble fits it, and the same seed gives
// the same numbers.
TEST(TreeEnsemble, FitsWhatItIsShownAndIsSeeded) {
  FeatureRows rows;
  std::vector<double> targets;
  for (int a = 0; a < 10; ++a) {
    for (int b = 0; b < 10; ++b) {
      rows.push_back({static_cast<float>(a), static_cast<float>(b)});
      targets.push_back(a + 2.0 * b);
    }
  }
  EnsembleSettings settings;
  settings.seed = 3;
  const TreeEnsemble ensemble(rows, targets, settings);
  const Prediction inside = ensemble.predict({{4, 5}, {7, 2}});
  EXPECT_NEAR(inside.mean[0], 14.0, 1.0);
  EXPECT_NEAR(inside.mean[1], 11.0, 1.0);
  const TreeEnsemble again(rows, targets, settings);
  EXPECT_EQ(again.predict({{4, 5}}).mean, ensemble.predict({{4, 5}}).mean);
  EXPECT_THROW(TreeEnsemble({{1.0f}}, {1.0}, settings), InputError);
  EXPECT_THROW(TreeEnsemble({{1.0f}, {2.0f, 3.0f}}, {1.0, 2.0}, settings), InputError);
  EXPECT_THROW(TreeEnsemble({{1.0f}, {2.0f}}, {1.0, NAN}, settings), InputError);
  EXPECT_THROW(ensemble.predict({{1.0f}}), InputError);
}

// Where it saw many samples it is sure; where only three, which each
// resample holds or misses, it is not.
TEST(TreeEnsemble, ItIsLessSureWhereItSawLittle) {
  FeatureRows rows;
  std::vector<double> targets;
  for (int i = 0; i < 90; ++i) {
    rows.push_back({static_cast<float>(i) / 100.0f});
    targets.push_back(10.0 + (i % 3));
  }
  for (const auto& [x, y] : {std::pair{9.0f, 100.0}, {9.5f, 50.0}, {10.0f, 150.0}}) {
    rows.push_back({x});
    targets.push_back(y);
  }
  const Prediction p = TreeEnsemble(rows, targets, EnsembleSettings{}).predict({{0.5f}, {9.5f}});
  EXPECT_GT(p.stddev[1], 10 * p.stddev[0]);
  EnsembleSettings one;
  one.members = 1;
  EXPECT_EQ(TreeEnsemble(rows, targets, one).predict({{9.5f}}).stddev[0], 0.0);
}

TEST(ActiveLearning, ProTransNormalisationSplitAndError) {
  EXPECT_DOUBLE_EQ(twice_max({3, 10, 7}), 20);
  EXPECT_THROW(twice_max({0, 0}), InputError);
  const std::vector<std::size_t> fold = fold_of(52, 5, 1);
  for (std::size_t k = 0; k < 5; ++k) {
    const auto size = std::count(fold.begin(), fold.end(), k);
    EXPECT_TRUE(size == 10 || size == 11) << k;
  }
  EXPECT_EQ(fold_of(52, 5, 1), fold);
  EXPECT_NE(fold_of(52, 5, 2), fold);
  EXPECT_THROW(fold_of(9, 5, 0), InputError);  // a fit would keep fewer than half
  EXPECT_THROW(fold_of(10, 1, 0), InputError);
  // Errors of 1 and 3 on a scale of 10: (0.01 + 0.09) / 2.
  EXPECT_DOUBLE_EQ(normalised_mse({11, 7}, {10, 10}, 10), 0.05);
}

TEST(ActiveLearning, ConvergedOnlyAfterPatienceFitsUnderTheLimit) {
  EXPECT_FALSE(converged({0.001, 0.001}, 0.005, 3));
  EXPECT_TRUE(converged({0.02, 0.004, 0.001, 0.005}, 0.005, 3));
  EXPECT_FALSE(converged({0.004, 0.001, 0.006}, 0.005, 3));
  EXPECT_FALSE(converged({0.001}, 0.005, 0));
}

TEST(ActiveLearning, LargestPicksTheMostUncertainFirst) {
  EXPECT_EQ(largest({0.1, 0.5, 0.3, 0.5}, 3), (std::vector<std::size_t>{1, 3, 2}));
  EXPECT_EQ(largest({0.1}, 5), (std::vector<std::size_t>{0}));
}

// On architectures: the cross-validated error of a smooth function of their
// FLOPs reaches ProTran's limit from a modest sample, every sample held out
// once; six samples make three folds of two.
TEST(ActiveLearning, AHeldOutFitOfArchitecturesReachesTheLimit) {
  const design::DesignSpace space;
  const auto sample = design::sample_latin_hypercube(space, 60, 5);
  FeatureRows rows;
  std::vector<double> targets;
  for (const auto& a : sample) {
    rows.push_back(architecture_features(a, 12));
    targets.push_back(a.forward_flops(1) / 1e9);
  }
  const HeldOutFit fit = held_out_fit(rows, targets, EnsembleSettings{}, 9);
  EXPECT_EQ(fit.train, 48u);
  EXPECT_EQ(fit.test, 60u);
  EXPECT_LT(fit.nmse, kProTranMaxNmse);
  const FeatureRows six(rows.begin(), rows.begin() + 6);
  const std::vector<double> six_targets(targets.begin(), targets.begin() + 6);
  const HeldOutFit small = held_out_fit(six, six_targets, EnsembleSettings{}, 9);
  EXPECT_EQ(small.train, 4u);
  EXPECT_EQ(small.test, 6u);
}

}  // namespace
}  // namespace tailsweep::surrogate
