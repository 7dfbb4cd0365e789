#pragma once
// A design-space sweep in the report (docs/design_space.md), after ProTran:
// per device the active-learning loop's convergence (each step's held-out
// error against the samples it was fitted on), the architectures with the
// lowest latency, energy and peak power, and the measured Pareto front of
// latency, energy and parameters; plots of the convergence and of latency
// against parameters with the front. Pure functions over ReportData.
#include <vector>

#include "coordinator/report/report_data.h"
#include "coordinator/report/report_plots.h"
#include "coordinator/report/report_tables.h"

namespace tailsweep::report {

// Empty when the sweep measured no architectures.
std::vector<Table> design_tables(const ReportData& data);
std::vector<NamedPlot> design_plots(const ReportData& data);

// The rows of one device and batch on its front: none worse in all of
// latency, energy (where every row has one) and parameters. In row order.
std::vector<const ArchitectureRow*> measured_front(const std::vector<const ArchitectureRow*>& rows);

}  // namespace tailsweep::report
