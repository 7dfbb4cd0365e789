#pragma once
// Figures that put every token-reduction family on the same axes: a points
// series per family (none, pomt, topk, tome, hdp, pomt+hdp, ...), and top-1
// against the paired latency change on each device with its Pareto front.
// Pure functions over ReportData.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "coordinator/report/report_data.h"
#include "coordinator/report/report_plots.h"

namespace tailsweep::report {

// none, pomt, topk, tome, random, hdp (HDP alone), pomt+hdp, ... ; "other"
// for a method this build cannot parse.
std::string method_family_name(const std::string& method);

// The evaluations a figure of one model shows: its first dataset and split,
// one per method (the first).
std::vector<const EvaluationRow*> figure_evaluations(const std::string& model,
                                                     const std::vector<EvaluationRow>& evaluations);

// One points series per method family, each point labelled with its method,
// in the paper's order and colours.
class FamilySeries {
 public:
  void add(const std::string& method, double x, double y);
  std::vector<Series> take();

 private:
  std::map<std::string, Series> by_family_;
};

// Top-1 against the paired latency change on one device and batch (each
// method's ratio to none in its latency job, none at 0), one series per
// family, and the Pareto front (the methods no other beats on both) as a
// line through them.
NamedPlot accuracy_vs_paired_latency_plot(const std::string& model, const DeviceRef& device,
                                          int64_t batch,
                                          const std::vector<EvaluationRow>& evaluations,
                                          const std::vector<MethodLatencyRow>& latencies);

// One such figure per model, device and batch with a paired ratio.
std::vector<NamedPlot> paired_latency_plots(const ReportData& data);

}  // namespace tailsweep::report
