// A design-space sweep in the report: the convergence table (one line for a
// target never measured), ProTran's minima per device, the measured front of
// latency, energy and parameters, and the plots.
#include "coordinator/report/design_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tailsweep::report {
namespace {

using ::testing::HasSubstr;

ArchitectureRow row(const std::string& id, double ms, std::optional<double> joules,
                    double parameters, std::optional<double> peak_w) {
  ArchitectureRow r;
  r.device = {"cpu", false};
  r.id = id;
  r.layers = 2;
  r.parameters = parameters;
  r.flops_per_input = 1e9;
  r.ms_per_input = ms;
  r.reached_precision = true;
  r.joules_per_input = joules;
  r.peak_w = peak_w;
  if (!joules) r.power_null_reason = "no RAPL";
  return r;
}

ReportData design_data() {
  ReportData data;
  data.architectures = {
      row("arch-aaaaaaaaaaaaaaaa", 10, 1.0, 5e6, 20),  // lowest energy and peak
      row("arch-bbbbbbbbbbbbbbbb", 5, 2.0, 8e6, 30),   // lowest latency
      row("arch-cccccccccccccccc", 12, 1.5, 9e6, 25),  // beaten by a in all three
      row("arch-dddddddddddddddd", 8, 3.0, 2e6, 40),   // fewest parameters
  };
  // One at a time: GCC 12 warns (maybe-uninitialized, falsely) on an
  // initializer list of these aggregates.
  const auto fit = [&data](std::string target, int64_t step, int64_t samples,
                           std::optional<double> nmse, std::optional<std::string> null_reason) {
    SurrogateFitRow row;
    row.device = {"cpu", false};
    row.selection = "uncertainty";
    row.target = std::move(target);
    row.step = step;
    row.samples = samples;
    row.nmse = nmse;
    row.null_reason = std::move(null_reason);
    data.surrogate_fits.push_back(std::move(row));
  };
  fit("energy", 1, 4, 0.02, std::nullopt);
  fit("latency", 1, 4, 0.01, std::nullopt);
  fit("peak_power", 1, 0, std::nullopt, "no RAPL");
  fit("peak_power", 2, 0, std::nullopt, "no RAPL");
  return data;
}

const Table& table_named(const std::vector<Table>& tables, const std::string& stem) {
  for (const Table& table : tables) {
    if (table.file_stem == stem) return table;
  }
  throw std::runtime_error("no table " + stem);
}

TEST(DesignReport, MinimaFrontAndConvergence) {
  const std::vector<Table> tables = design_tables(design_data());
  ASSERT_EQ(tables.size(), 3u);
  const Table& minima = table_named(tables, "design-space-minima");
  ASSERT_EQ(minima.rows.size(), 3u);
  EXPECT_EQ(minima.rows[0][2], "latency");
  EXPECT_EQ(minima.rows[0][3], "arch-bbbbbbbbbbbbbbbb");
  EXPECT_EQ(minima.rows[1][3], "arch-aaaaaaaaaaaaaaaa");  // energy
  EXPECT_EQ(minima.rows[2][3], "arch-aaaaaaaaaaaaaaaa");  // peak power
  const Table& front = table_named(tables, "design-space-front");
  std::vector<std::string> ids;
  for (const auto& r : front.rows) ids.push_back(r[2]);
  EXPECT_EQ(ids, (std::vector<std::string>{"arch-aaaaaaaaaaaaaaaa", "arch-bbbbbbbbbbbbbbbb",
                                           "arch-dddddddddddddddd"}));
  const Table& convergence = table_named(tables, "design-space-convergence");
  ASSERT_EQ(convergence.rows.size(), 3u);  // peak power: one line, not two
  EXPECT_EQ(convergence.rows[2][3], "every");
  EXPECT_THAT(convergence.rows[2][5], HasSubstr("no RAPL"));
}

// Without energy on every row, the front is of latency and parameters, and
// the minima say why energy has none.
TEST(DesignReport, WithoutASensorTheFrontIsLatencyAndParameters) {
  ReportData data = design_data();
  for (ArchitectureRow& r : data.architectures) {
    r.joules_per_input.reset();
    r.peak_w.reset();
    r.power_null_reason = "no RAPL";
  }
  std::vector<const ArchitectureRow*> rows;
  for (const ArchitectureRow& r : data.architectures) rows.push_back(&r);
  const auto front = measured_front(rows);
  ASSERT_EQ(front.size(), 2u);  // b (fastest) and d (fewest parameters)
  EXPECT_EQ(front[0]->id, "arch-bbbbbbbbbbbbbbbb");
  EXPECT_EQ(front[1]->id, "arch-dddddddddddddddd");
  const Table& minima = table_named(design_tables(data), "design-space-minima");
  EXPECT_EQ(minima.rows[1][3], "");
  EXPECT_EQ(minima.rows[1][9], "no RAPL");
  const auto plots = design_plots(data);
  ASSERT_EQ(plots.size(), 2u);
  EXPECT_EQ(plots[0].file_name, "design-space-convergence.svg");
  EXPECT_EQ(plots[1].file_name, "design-space-cpu-b1.svg");
  EXPECT_EQ(plots[1].plot.series[1].x.size(), 2u);  // the front's line
}

TEST(DesignReport, NothingForASweepWithoutArchitectures) {
  EXPECT_TRUE(design_tables(ReportData{}).empty());
  EXPECT_TRUE(design_plots(ReportData{}).empty());
}

}  // namespace
}  // namespace tailsweep::report
