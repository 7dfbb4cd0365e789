#include "analysis/pareto.h"

#include <algorithm>
#include <cmath>

namespace tailsweep::stats {

std::vector<std::size_t> pareto_front(std::span<const ParetoPoint> points) {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (std::isfinite(points[i].cost) && std::isfinite(points[i].value)) order.push_back(i);
  }
  // By cost, and among equal costs the best value first: a point is on the
  // front when its value beats every cheaper point's (or ties the best).
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (points[a].cost != points[b].cost) return points[a].cost < points[b].cost;
    if (points[a].value != points[b].value) return points[a].value > points[b].value;
    return a < b;
  });
  std::vector<std::size_t> front;
  for (const std::size_t i : order) {
    if (front.empty()) {
      front.push_back(i);
      continue;
    }
    const ParetoPoint& best = points[front.back()];
    const ParetoPoint& point = points[i];
    const bool same = point.cost == best.cost && point.value == best.value;
    if (same || point.value > best.value) front.push_back(i);
  }
  return front;
}

std::vector<std::size_t> nondominated(std::span<const std::vector<double>> costs) {
  const auto finite = [](const std::vector<double>& point) {
    return std::all_of(point.begin(), point.end(), [](double v) { return std::isfinite(v); });
  };
  const auto dominates = [](const std::vector<double>& a, const std::vector<double>& b) {
    bool strictly = false;
    for (std::size_t k = 0; k < a.size(); ++k) {
      if (a[k] > b[k]) return false;
      strictly = strictly || a[k] < b[k];
    }
    return strictly;
  };
  std::vector<std::size_t> front;
  for (std::size_t i = 0; i < costs.size(); ++i) {
    if (!finite(costs[i])) continue;
    bool dominated = false;
    for (std::size_t j = 0; j < costs.size() && !dominated; ++j) {
      dominated = j != i && finite(costs[j]) && dominates(costs[j], costs[i]);
    }
    if (!dominated) front.push_back(i);
  }
  return front;
}

}  // namespace tailsweep::stats
