#pragma once
// report.json: everything the report shows, as numbers rather than formatted
// text (the canonical form, as google/benchmark's JSON reporter). Pure.
#include <nlohmann/json.hpp>

#include "coordinator/report/report_data.h"

namespace tailsweep::report {

nlohmann::json report_json(const ReportData& data);

}  // namespace tailsweep::report
