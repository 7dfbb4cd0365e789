#pragma once
// The papers' comparison tables, from per-device method latencies and the
// evaluations (pure functions over ReportData, like report_tables.h):
//   paper-MODEL-bB  one row per method, two columns per device: latency with
//                   its change against that device's unpruned baseline, and
//                   top-1 with its change. POMT and the matched baselines
//                   differ per device, so their cells name the method.
//   matched         per device: POMT's latency, and the Top-K and ToMe r
//                   closest to it (within the tolerance, or flagged).
#include <vector>

#include "coordinator/report/report_data.h"
#include "coordinator/report/report_tables.h"

namespace tailsweep::report {

// One table per (model, batch) with method latencies; empty without any.
std::vector<Table> paper_tables(const ReportData& data);
Table matched_table(const ReportData& data);

}  // namespace tailsweep::report
