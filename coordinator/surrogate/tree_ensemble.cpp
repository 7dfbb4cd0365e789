#include "coordinator/surrogate/tree_ensemble.h"

#include <cmath>
#include <random>
#include <stdexcept>
#include <string>
#include <xgboost/c_api.h>

#include <fmt/format.h>

#include "common/util/errors.h"

namespace tailsweep::surrogate {
namespace {

void check(int status, const char* call) {
  if (status != 0) {
    throw std::runtime_error(fmt::format("XGBoost {}: {}", call, XGBGetLastError()));
  }
}

// A DMatrix, freed with its owner.
class Matrix {
 public:
  Matrix(const FeatureRows& rows, std::size_t width) {
    std::vector<float> flat;
    flat.reserve(rows.size() * width);
    for (const std::vector<float>& row : rows) flat.insert(flat.end(), row.begin(), row.end());
    check(XGDMatrixCreateFromMat(flat.data(), rows.size(), width, NAN, &handle_),
          "XGDMatrixCreateFromMat");
  }
  ~Matrix() { XGDMatrixFree(handle_); }
  Matrix(const Matrix&) = delete;
  Matrix& operator=(const Matrix&) = delete;
  DMatrixHandle get() const { return handle_; }

 private:
  DMatrixHandle handle_ = nullptr;
};

}  // namespace

// One booster, freed with its member.
struct TreeEnsemble::Member {
  BoosterHandle booster = nullptr;
  ~Member() { XGBoosterFree(booster); }
};

TreeEnsemble::TreeEnsemble(const FeatureRows& rows, const std::vector<double>& targets,
                           const EnsembleSettings& settings) {
  if (rows.size() < 2 || rows.size() != targets.size()) {
    throw InputError(
        fmt::format("a surrogate needs 2 or more samples with a target each, not {} "
                    "rows and {} targets",
                    rows.size(), targets.size()));
  }
  width_ = rows.front().size();
  for (const std::vector<float>& row : rows) {
    if (row.size() != width_) throw InputError("feature rows of different widths");
  }
  for (const double target : targets) {
    if (!std::isfinite(target)) throw InputError("a surrogate's target is not finite");
  }
  std::mt19937_64 rng(settings.seed);
  for (std::size_t m = 0; m < std::max<std::size_t>(settings.members, 1); ++m) {
    // A bootstrap resample: as many rows, drawn with replacement.
    std::uniform_int_distribution<std::size_t> pick(0, rows.size() - 1);
    FeatureRows resample;
    std::vector<float> labels;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const std::size_t j = settings.members > 1 ? pick(rng) : i;
      resample.push_back(rows[j]);
      labels.push_back(static_cast<float>(targets[j]));
    }
    const Matrix train(resample, width_);
    check(XGDMatrixSetFloatInfo(train.get(), "label", labels.data(), labels.size()),
          "XGDMatrixSetFloatInfo");
    auto member = std::make_unique<Member>();
    const DMatrixHandle matrices[] = {train.get()};
    check(XGBoosterCreate(matrices, 1, &member->booster), "XGBoosterCreate");
    const std::string seed = std::to_string(settings.seed * 1000003 + m);
    const std::string depth = std::to_string(settings.max_depth);
    const std::string eta = fmt::format("{}", settings.learning_rate);
    for (const auto& [name, value] :
         {std::pair<const char*, const char*>{"objective", "reg:squarederror"},
          {"tree_method", "hist"},
          {"nthread", "1"},
          {"verbosity", "0"},
          {"max_depth", depth.c_str()},
          {"eta", eta.c_str()},
          {"seed", seed.c_str()}}) {
      check(XGBoosterSetParam(member->booster, name, value), "XGBoosterSetParam");
    }
    for (int round = 0; round < settings.rounds; ++round) {
      check(XGBoosterUpdateOneIter(member->booster, round, train.get()), "XGBoosterUpdateOneIter");
    }
    members_.push_back(std::move(member));
  }
}

TreeEnsemble::~TreeEnsemble() = default;

Prediction TreeEnsemble::predict(const FeatureRows& rows) const {
  Prediction prediction;
  prediction.mean.assign(rows.size(), 0.0);
  prediction.stddev.assign(rows.size(), 0.0);
  if (rows.empty()) return prediction;
  for (const std::vector<float>& row : rows) {
    if (row.size() != width_) {
      throw InputError(
          fmt::format("a feature row of {} for a surrogate of {}", row.size(), width_));
    }
  }
  const Matrix matrix(rows, width_);
  std::vector<std::vector<double>> by_member;
  for (const auto& member : members_) {
    bst_ulong length = 0;
    const float* values = nullptr;
    check(XGBoosterPredict(member->booster, matrix.get(), 0, 0, 0, &length, &values),
          "XGBoosterPredict");
    by_member.emplace_back(values, values + length);
  }
  const double n = static_cast<double>(members_.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    double sum = 0;
    for (const auto& values : by_member) sum += values[i];
    const double mean = sum / n;
    double squares = 0;
    for (const auto& values : by_member) squares += (values[i] - mean) * (values[i] - mean);
    prediction.mean[i] = mean;
    prediction.stddev[i] = members_.size() > 1 ? std::sqrt(squares / (n - 1)) : 0.0;
  }
  return prediction;
}

}  // namespace tailsweep::surrogate
