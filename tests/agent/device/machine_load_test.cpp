// /proc/stat and /proc/loadavg as the kernel writes them, and what a
// point's load tally makes of several windows.
#include "agent/device/machine_load.h"

#include <fstream>

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace tailsweep::machine_load {
namespace {

TEST(MachineLoad, ReadsTheCpuLineOfProcStat) {
  const auto ticks =
      parse_proc_stat("cpu  2001078 0 113386 422395 1596 0 3369 1813 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n");
  ASSERT_TRUE(ticks);
  EXPECT_EQ(ticks->steal, 1813u);
  EXPECT_EQ(ticks->total, 2001078u + 113386 + 422395 + 1596 + 3369 + 1813);
}

TEST(MachineLoad, RefusesAProcStatWithoutTheStealColumn) {
  EXPECT_FALSE(parse_proc_stat("cpu  1 2 3 4 5 6 7\n"));  // a kernel before 2.6.11
  EXPECT_FALSE(parse_proc_stat("intr 1 2 3 4 5 6 7 8 9\n"));
  EXPECT_FALSE(parse_proc_stat("cpu  1 2 3 x 5 6 7 8\n"));
  EXPECT_FALSE(parse_proc_stat(""));
}

TEST(MachineLoad, ReadsTheOneMinuteLoadAverage) {
  EXPECT_EQ(parse_load_average("0.14 1.14 1.77 1/74 21065\n"), 0.14);
  EXPECT_FALSE(parse_load_average("busy 1.14\n"));
  EXPECT_FALSE(parse_load_average("-1 0 0\n"));
}

TEST(MachineLoad, ReadsBothUnderARoot) {
  testing::TempDir root;
  std::filesystem::create_directories(root.path() / "proc");
  std::ofstream(root.path() / "proc/stat") << "cpu  10 0 10 70 0 0 0 10 0 0\n";
  std::ofstream(root.path() / "proc/loadavg") << "2.50 1.00 0.50 3/100 42\n";
  EXPECT_EQ(read_cpu_ticks(root.path())->steal, 10u);
  EXPECT_EQ(read_load_average(root.path()), 2.5);
  EXPECT_FALSE(read_load_average(root.path() / "nowhere"));
}

TEST(MachineLoad, StealIsTheShareOfTheTicksBetweenTwoReadings) {
  EXPECT_EQ(steal_fraction({100, 10}, {200, 35}), 0.25);
  EXPECT_FALSE(steal_fraction({100, 10}, {100, 10}));  // no tick passed
}

TEST(MachineLoad, ATallySumsTicksOverWindowsAndAveragesTheLoad) {
  LoadTally tally;
  EXPECT_FALSE(tally.steal_fraction());
  EXPECT_FALSE(tally.mean_load_average());
  tally.add_window(CpuTicks{100, 0}, CpuTicks{110, 5}, 1.0);
  tally.add_window(CpuTicks{200, 5}, CpuTicks{230, 5}, 3.0);
  tally.add_window(std::nullopt, CpuTicks{300, 9}, std::nullopt);  // an unreadable window
  EXPECT_EQ(tally.steal_fraction(), 5.0 / 40.0);
  EXPECT_EQ(tally.mean_load_average(), 2.0);
}

}  // namespace
}  // namespace tailsweep::machine_load
