#pragma once
// The report's figures as PlotSpecs (svg_plot.h), built by pure functions.
#include <string>
#include <vector>

#include "coordinator/report/report_data.h"
#include "coordinator/report/svg_plot.h"

namespace tailsweep::report {

struct NamedPlot {
  std::string file_name;  // e.g. latency-orin-nano-deit-tiny-b1.svg
  PlotSpec plot;
};

// L(n) with its 95% CI as a band, each step as a dashed line labelled with
// its height, and n* (when a schedule has one) as a solid line.
NamedPlot latency_plot(const LatencyCurve& curve, const std::vector<ScheduleEntry>& schedules);
// A(n) of one model, a line per curve (dataset and dropping method).
NamedPlot accuracy_plot(const std::string& model, const std::vector<AccuracyCurve>& curves);
// Top-1 against the latency the evaluation measured, a point per method,
// one colour per device. Evaluations without latency are left out.
NamedPlot accuracy_vs_latency_plot(const std::string& model,
                                   const std::vector<EvaluationRow>& evaluations);
// Weight clustering: top-1 against K on a log2 axis, with the dense model's
// top-1 beside each K; one series pair per dataset and split.
NamedPlot clustering_plot(const std::string& model, const std::vector<ClusteringRow>& rows);

// Every figure of the report.
std::vector<NamedPlot> report_plots(const ReportData& data);

}  // namespace tailsweep::report
