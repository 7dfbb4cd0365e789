// The paper and matched tables on hand-made data: which method each row
// means on each device, and the changes against that device's baseline.
#include "coordinator/report/paper_tables.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "coordinator/report/report_formats.h"

namespace tailsweep::report {
namespace {

ReportData two_device_sweep() {
  ReportData data;
  const DeviceRef cpu{"cpu-a", false};
  const DeviceRef nano{"nano", true};
  const auto latency = [&](const DeviceRef& device, const std::string& method, double ms) {
    data.method_latencies.push_back({device, "fmnist-vit", 1, method, ms, true, {}, {}, {}, {}});
  };
  latency(cpu, "none", 20);
  latency(cpu, "pomt:95", 15);
  latency(cpu, "topk:26", 15.2);
  latency(cpu, "tome:32", 16);
  latency(cpu, "topk:8", 18);
  latency(nano, "none", 27);
  latency(nano, "pomt:90", 14);
  latency(nano, "topk:26", 14);
  latency(nano, "tome:32", 14.2);
  latency(nano, "topk:8", 23);
  ScheduleEntry cpu_schedule;
  cpu_schedule.device = cpu;
  cpu_schedule.model = "fmnist-vit";
  cpu_schedule.r = 95;
  cpu_schedule.layer = 3;
  ScheduleEntry nano_schedule = cpu_schedule;
  nano_schedule.device = nano;
  nano_schedule.r = 90;
  data.schedules = {cpu_schedule, nano_schedule};
  data.matched = {
      {cpu, "fmnist-vit", 1, "pomt:95", 15, "tome", "tome:32", 16, 1.0 / 15, false, 0.05, {}, {}},
      {cpu, "fmnist-vit", 1, "pomt:95", 15, "topk", "topk:26", 15.2, 0.2 / 15, true, 0.05, {}, {}},
      {nano, "fmnist-vit", 1, "pomt:90", 14, "tome", "tome:32", 14.2, 0.2 / 14, true, 0.05, {}, {}},
      {nano, "fmnist-vit", 1, "pomt:90", 14, "topk", "topk:26", 14, 0, true, 0.05, {}, {}}};
  const auto eval = [&](const std::string& method, double top1) {
    EvaluationRow row;
    row.model = "fmnist-vit";
    row.method = method;
    row.dataset = "fashion-mnist";
    row.split = "test";
    row.images = 10000;
    row.top1 = top1;
    row.device = cpu;
    data.evaluations.push_back(row);
  };
  eval("none", 0.86);
  eval("pomt:95", 0.80);
  eval("pomt:90", 0.81);
  eval("topk:26", 0.78);
  eval("tome:32", 0.83);
  eval("topk:8", 0.85);
  return data;
}

TEST(PaperTables, OneColumnPairPerDeviceAndEachDevicesOwnMethods) {
  const std::vector<Table> tables = paper_tables(two_device_sweep());
  ASSERT_EQ(tables.size(), 1u);
  const Table& table = tables[0];
  EXPECT_EQ(table.file_stem, "paper-fmnist-vit-b1");
  EXPECT_EQ(table.columns,
            (std::vector<std::string>{"method", "cpu-a latency", "cpu-a top-1",
                                      "nano (simulated) latency", "nano (simulated) top-1"}));
  ASSERT_EQ(table.rows.size(), 5u);
  EXPECT_EQ(table.rows[0], (std::vector<std::string>{"unpruned", "20.0", "86.0", "27.0", "86.0"}));
  // POMT's R differs per device, and so do its latency and accuracy.
  EXPECT_EQ(table.rows[1],
            (std::vector<std::string>{"POMT", "pomt:95: 15.0 (-25.0% unpaired)", "80.0 (-6.0)",
                                      "pomt:90: 14.0 (-48.1% unpaired)", "81.0 (-5.0)"}));
  EXPECT_EQ(table.rows[2][0], "Top-K at POMT's latency");
  EXPECT_EQ(table.rows[2][1], "topk:26: 15.2 (-24.0% unpaired)");
  // A match outside the tolerance is flagged.
  EXPECT_EQ(table.rows[3][1], "tome:32 *: 16.0 (-20.0% unpaired)");
  EXPECT_EQ(table.rows[3][3], "tome:32: 14.2 (-47.4% unpaired)");
  EXPECT_EQ(table.rows[4],
            (std::vector<std::string>{"topk:8", "18.0 (-10.0% unpaired)", "85.0 (-1.0)",
                                      "23.0 (-14.8% unpaired)", "85.0 (-1.0)"}));
}

TEST(PaperTables, AChangeMeasuredInRoundsIsThePairedRatioWithItsInterval) {
  ReportData data = two_device_sweep();
  for (MethodLatencyRow& row : data.method_latencies) {
    if (row.device.name == "cpu-a" && row.method == "pomt:95") {
      row.ratio = 0.848;  // its median says -25%, the same rounds say -15.2%
      row.ratio_ci95_low = 0.84;
      row.ratio_ci95_high = 0.851;
    }
    if (row.device.name == "cpu-a" && row.method == "topk:8") row.ratio = 0.9;  // no interval
  }
  const Table table = paper_tables(data).at(0);
  EXPECT_EQ(table.rows[1][1], "pomt:95: 15.0 (-15.2% ±0.8)");
  EXPECT_EQ(table.rows[4][1], "18.0 (-10.0%, no CI)");
  EXPECT_EQ(table.rows[4][3], "23.0 (-14.8% unpaired)");  // nano's rows predate rounds
}

// With each image's result kept, a change within noise is marked "ns" and
// the matched table gives McNemar's p against POMT.
TEST(PaperTables, AChangeWithinNoiseIsMarkedAndMatchesAreTestedAgainstPomt) {
  ReportData data = two_device_sweep();
  for (EvaluationRow& row : data.evaluations) {
    row.images_sha256 = std::string(64, 'a');
    row.top1_correct.assign(10000, false);
    const auto right = static_cast<std::size_t>(row.top1 * 10000);
    for (std::size_t i = 0; i < right; ++i) row.top1_correct[i] = true;
  }
  // topk:8 (85.00) and none (86.00) differ on 100 images, all one way: not noise.
  EXPECT_EQ(paper_tables(data).at(0).rows[4][2], "85.0 (-1.0)");
  // The same 85.00, but topk:8 now gets 1,400 images right that none gets
  // wrong and the other way round for 1,500: 100 of 2,900 discordant images.
  for (EvaluationRow& row : data.evaluations) {
    if (row.method != "topk:8") continue;
    for (std::size_t i = 0; i < 1400; ++i) row.top1_correct[i] = false;
    for (std::size_t i = 8600; i < 10000; ++i) row.top1_correct[i] = true;
  }
  EXPECT_EQ(paper_tables(data).at(0).rows[4][2], "85.0 (-1.0 ns)");
  const Table matched = matched_table(data);
  EXPECT_EQ(matched.rows[0].back(), "<0.001");  // tome:32 (83.00) against pomt:95 (80.00)
}

TEST(PaperTables, MatchedTableSaysHowCloseEachMatchIs) {
  const Table table = matched_table(two_device_sweep());
  ASSERT_EQ(table.rows.size(), 4u);
  EXPECT_EQ(table.rows[0],
            (std::vector<std::string>{"cpu-a", "fmnist-vit", "1", "pomt:95", "15.0", "80.0",
                                      "tome:32", "16.0", "+6.7", "no (> 5%)", "83.0", ""}));
  EXPECT_EQ(table.rows[3][9], "yes");
  // A latency known to have stopped short of its precision is marked.
  ReportData short_of_precision = two_device_sweep();
  short_of_precision.matched[0].target_reached_precision = true;
  short_of_precision.matched[0].reached_precision = false;
  const Table marked = matched_table(short_of_precision);
  EXPECT_EQ(marked.rows[0][4], "15.0");
  EXPECT_EQ(marked.rows[0][7], "16.0 !");
}

// The CSV has one number per cell, a row per method and device; LaTeX is
// narrow: short device names, the change only, top-1 once where every device
// ran the same method.
TEST(PaperTables, CsvHasOneNumberPerCellAndLatexIsNarrow) {
  ReportData data = two_device_sweep();
  for (MethodLatencyRow& row : data.method_latencies) {
    row.device.name = "lab-" + row.device.name;
    if (row.method == "pomt:95") {
      row.ratio = 0.848;
      row.ratio_ci95_low = 0.84;
      row.ratio_ci95_high = 0.851;
    }
  }
  for (ScheduleEntry& schedule : data.schedules)
    schedule.device.name = "lab-" + schedule.device.name;
  for (MatchedRow& row : data.matched) row.device.name = "lab-" + row.device.name;
  const Table table = paper_tables(data).at(0);
  ASSERT_TRUE(table.csv.has_value());
  const Grid& csv = *table.csv;
  EXPECT_EQ(csv.columns.front(), "row");
  EXPECT_EQ(csv.rows.size(), 5u * 2u);  // five method rows on two devices
  const auto column = [&](const std::string& name) {
    return static_cast<std::size_t>(std::find(csv.columns.begin(), csv.columns.end(), name) -
                                    csv.columns.begin());
  };
  const std::vector<std::string>* pomt = nullptr;
  for (const auto& row : csv.rows) {
    if (row[0] == "POMT" && row[1] == "lab-cpu-a") pomt = &row;
  }
  ASSERT_NE(pomt, nullptr);
  EXPECT_EQ((*pomt)[column("method")], "pomt:95");
  EXPECT_EQ((*pomt)[column("latency_ms")], "15");
  EXPECT_EQ((*pomt)[column("latency_change_percent")], "-15.2");
  EXPECT_EQ((*pomt)[column("latency_change_ci95_half_width_percent")], "0.8");
  EXPECT_EQ((*pomt)[column("paired")], "1");
  EXPECT_EQ((*pomt)[column("top1_percent")], "80");
  EXPECT_EQ((*pomt)[column("top1_change_points")], "-6");
  for (const auto& row : csv.rows) {
    for (std::size_t i = column("latency_ms"); i < row.size(); ++i) {
      char* end = nullptr;
      if (!row[i].empty()) std::strtod(row[i].c_str(), &end);
      EXPECT_TRUE(row[i].empty() || end == row[i].c_str() + row[i].size())
          << csv.columns[i] << ": '" << row[i] << "'";
    }
  }
  EXPECT_THAT(render_csv(table), ::testing::StartsWith("row,device,simulated,method,"));

  ASSERT_TRUE(table.latex.has_value());
  const Grid& latex = *table.latex;
  EXPECT_EQ(latex.columns,
            (std::vector<std::string>{"method", "top-1 (%)", "cpu-a", "nano (sim)"}));
  EXPECT_EQ(latex.rows[0], (std::vector<std::string>{"unpruned", "86.0", "20.0 ms", "27.0 ms"}));
  // POMT's R differs per device: top-1 goes into each device's cell.
  EXPECT_EQ(latex.rows[1], (std::vector<std::string>{"POMT", "per device", "(95) -15.2% ±0.8; 80.0",
                                                     "(90) -48.1% unpaired; 81.0"}));
  // topk:8 ran everywhere: top-1 once.
  EXPECT_EQ(latex.rows[4], (std::vector<std::string>{"topk:8", "85.0 (-1.0)", "-10.0% unpaired",
                                                     "-14.8% unpaired"}));
  const std::string tex = render_latex(Provenance{}, {table}, {});
  EXPECT_THAT(tex, ::testing::HasSubstr("\\begin{table*}"));
  EXPECT_THAT(tex, ::testing::HasSubstr("\\small"));
  EXPECT_THAT(tex, ::testing::HasSubstr("{llll}"));
  EXPECT_THAT(tex, ::testing::HasSubstr("(sim): a simulated device"));
}

TEST(PaperTables, NoMethodLatenciesNoPaperTable) {
  ReportData data = two_device_sweep();
  data.method_latencies.clear();
  EXPECT_TRUE(paper_tables(data).empty());
}

}  // namespace
}  // namespace tailsweep::report
