#include "analysis/kmeans_1d.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace tailsweep::clustering {
namespace {

// Where each cluster's run of sorted values begins: starts[j] is the number of
// values <= the boundary below cluster j (a value on a boundary goes to the
// lower cluster, as in assign()).
std::vector<std::size_t> run_starts(const std::vector<float>& sorted,
                                    const std::vector<double>& centroids) {
  std::vector<std::size_t> starts(centroids.size() + 1, 0);
  for (std::size_t j = 1; j < centroids.size(); ++j) {
    const double boundary = (centroids[j - 1] + centroids[j]) / 2;
    starts[j] = static_cast<std::size_t>(
        std::upper_bound(sorted.begin(), sorted.end(), boundary,
                         [](double b, float v) { return b < static_cast<double>(v); }) -
        sorted.begin());
  }
  starts.back() = sorted.size();
  return starts;
}

std::vector<double> initial_centroids(const std::vector<float>& sorted, std::size_t k,
                                      KMeansInit init) {
  std::vector<double> centroids(k);
  const double low = sorted.front(), high = sorted.back();
  for (std::size_t i = 0; i < k; ++i) {
    if (init == KMeansInit::kLinear) {
      centroids[i] = low + (high - low) * static_cast<double>(i) / static_cast<double>(k - 1);
    } else {
      const auto at =
          static_cast<std::size_t>((static_cast<double>(i) + 0.5) / static_cast<double>(k) *
                                   static_cast<double>(sorted.size()));
      centroids[i] = sorted[std::min(at, sorted.size() - 1)];
    }
  }
  return centroids;
}

}  // namespace

KMeansInit parse_kmeans_init(const std::string& name) {
  if (name == "linear") return KMeansInit::kLinear;
  if (name == "quantile") return KMeansInit::kQuantile;
  throw std::invalid_argument("unknown k-means initialisation '" + name + "' (linear or quantile)");
}

const char* kmeans_init_name(KMeansInit init) {
  return init == KMeansInit::kLinear ? "linear" : "quantile";
}

KMeansResult kmeans_1d(std::span<const float> values, std::size_t k, KMeansInit init,
                       std::size_t max_iterations) {
  if (k < kMinClusters || k > kMaxClusters) {
    throw std::invalid_argument("clusters must be in 2..256, got " + std::to_string(k));
  }
  if (values.empty()) throw std::invalid_argument("no values to cluster");
  if (!std::all_of(values.begin(), values.end(), [](float v) { return std::isfinite(v); })) {
    throw std::invalid_argument("a value is not finite (NaN or infinity)");
  }
  std::vector<float> sorted(values.begin(), values.end());
  std::sort(sorted.begin(), sorted.end());

  KMeansResult result;
  std::vector<double> centroids;
  std::vector<float> distinct = sorted;
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  if (distinct.size() <= k) {
    // Every distinct value is its own centroid: exact, nothing to iterate.
    centroids.assign(distinct.begin(), distinct.end());
    result.converged = true;
  } else {
    // Prefix sums turn each cluster's mean into two lookups.
    std::vector<double> prefix(sorted.size() + 1, 0);
    for (std::size_t i = 0; i < sorted.size(); ++i) prefix[i + 1] = prefix[i] + sorted[i];
    centroids = initial_centroids(sorted, k, init);
    std::vector<std::size_t> starts = run_starts(sorted, centroids);
    while (result.iterations < max_iterations) {
      ++result.iterations;
      for (std::size_t j = 0; j < k; ++j) {
        // An empty cluster keeps its centroid: it lies between its
        // neighbours' boundaries, so the order of centroids is kept.
        if (starts[j + 1] <= starts[j]) continue;
        const auto count = static_cast<double>(starts[j + 1] - starts[j]);
        centroids[j] = (prefix[starts[j + 1]] - prefix[starts[j]]) / count;
      }
      std::vector<std::size_t> next = run_starts(sorted, centroids);
      const bool unchanged = next == starts;
      starts = std::move(next);
      if (unchanged) {
        result.converged = true;
        break;
      }
    }
  }

  // The stored codebook is float32; assign every value to its nearest stored
  // centroid, so the indices are right for the codebook as written.
  result.centroids.assign(centroids.begin(), centroids.end());
  std::vector<double> boundaries;
  for (std::size_t j = 1; j < result.centroids.size(); ++j) {
    boundaries.push_back((static_cast<double>(result.centroids[j - 1]) + result.centroids[j]) / 2);
  }
  std::vector<bool> used(result.centroids.size(), false);
  result.indices.reserve(values.size());
  for (const float value : values) {
    const auto index = static_cast<std::size_t>(
        std::lower_bound(boundaries.begin(), boundaries.end(), static_cast<double>(value)) -
        boundaries.begin());
    result.indices.push_back(static_cast<std::uint8_t>(index));
    used[index] = true;
    const double error = static_cast<double>(value) - result.centroids[index];
    result.squared_error += error * error;
  }
  result.clusters_used = static_cast<std::size_t>(std::count(used.begin(), used.end(), true));
  return result;
}

}  // namespace tailsweep::clustering
