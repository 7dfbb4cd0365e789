// The on-disk outbox of unsent results: atomic writes, listing, removal,
// files that are not results, and the lock that keeps two agents apart.
#include "agent/fleet/result_outbox.h"

#include <sys/resource.h>

#include <csignal>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../../support/run_command.h"
#include "../../support/temp_dir.h"
#include "common/util/errors.h"

namespace tailsweep::agent {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;

std::vector<std::string> names_in(const fs::path& folder) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(folder)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class ResultOutboxTest : public ::testing::Test {
 protected:
  tailsweep::testing::TempDir scratch_{"tailsweep-outbox"};
  fs::path folder_ = scratch_ / "outbox";
};

TEST_F(ResultOutboxTest, PutWritesOneCompleteFileAndNoTempFile) {
  ResultOutbox outbox(folder_);
  const json result = {{"points", {1, 2, 3}}, {"model", "deit-tiny"}};
  const fs::path file = outbox.put(12, "lease-abc", result);
  EXPECT_EQ(file, folder_ / "job-12-lease-abc.json");
  EXPECT_EQ(names_in(folder_), std::vector<std::string>{"job-12-lease-abc.json"});
  const json stored = json::parse(tailsweep::testing::slurp(file));
  EXPECT_EQ(stored, json({{"job_id", 12}, {"lease_id", "lease-abc"}, {"result", result}}));
  EXPECT_EQ(fs::status(folder_).permissions() & fs::perms::all, fs::perms::owner_all);
  EXPECT_EQ(fs::status(file).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
}

TEST_F(ResultOutboxTest, PendingListsResultsOldestJobFirstAndRemoveForgetsThem) {
  ResultOutbox outbox(folder_);
  outbox.put(30, "c", {{"n", 30}});
  outbox.put(4, "a", {{"n", 4}});
  outbox.put(17, "b", {{"n", 17}});
  OutboxScan scan = outbox.pending();
  EXPECT_TRUE(scan.problems.empty());
  ASSERT_EQ(scan.results.size(), 3u);
  EXPECT_EQ(scan.results[0].job_id, 4);
  EXPECT_EQ(scan.results[1].job_id, 17);
  EXPECT_EQ(scan.results[2].job_id, 30);
  EXPECT_EQ(scan.results[1].lease_id, "b");
  EXPECT_EQ(scan.results[1].result, json({{"n", 17}}));

  outbox.remove(scan.results[1]);
  scan = outbox.pending();
  ASSERT_EQ(scan.results.size(), 2u);
  EXPECT_EQ(scan.results[1].job_id, 30);
}

TEST_F(ResultOutboxTest, AResultPutTwiceForOneLeaseIsOneFile) {
  ResultOutbox outbox(folder_);
  outbox.put(5, "lease", {{"try", 1}});
  outbox.put(5, "lease", {{"try", 2}});
  const OutboxScan scan = outbox.pending();
  ASSERT_EQ(scan.results.size(), 1u);
  EXPECT_EQ(scan.results[0].result["try"], 2);
}

TEST_F(ResultOutboxTest, LeaseIdsAreMadeSafeForFileNamesButKeptInTheFile) {
  EXPECT_EQ(outbox_file_name(3, "../../etc/x y"), "job-3-______etc_x_y.json");
  ResultOutbox outbox(folder_);
  outbox.put(3, "a/b", json::object());
  const OutboxScan scan = outbox.pending();
  ASSERT_EQ(scan.results.size(), 1u);
  EXPECT_EQ(scan.results[0].lease_id, "a/b");
}

TEST_F(ResultOutboxTest, TempFilesOfAnInterruptedWriteAreIgnoredAndCleanedUp) {
  fs::create_directories(folder_);
  std::ofstream(folder_ / ".job-9-l.json.tmp") << "{\"job_id\": 9, \"lease";
  std::ofstream(folder_ / "notes.txt") << "not ours";
  ResultOutbox outbox(folder_);
  EXPECT_TRUE(outbox.pending().results.empty());
  EXPECT_EQ(names_in(folder_), std::vector<std::string>{"notes.txt"});
}

// A full disk, without root: a file-size limit makes write() fail with
// EFBIG part way through, as ENOSPC would.
TEST_F(ResultOutboxTest, AWriteThatFailsPartWayLeavesNoFileBehind) {
  ResultOutbox outbox(folder_);
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  const auto saved_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = saved;
  small.rlim_cur = 4096;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string error;
  try {
    outbox.put(5, "lease-big", {{"raw_ms", std::string(64 * 1024, '7')}});
  } catch (const std::exception& caught) {
    error = caught.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, saved_handler);
  EXPECT_THAT(error, HasSubstr("cannot write"));
  EXPECT_THAT(error, HasSubstr("File too large"));
  EXPECT_TRUE(names_in(folder_).empty()) << ::testing::PrintToString(names_in(folder_));
  EXPECT_TRUE(outbox.pending().results.empty());
  // Space is back: the next result is kept as usual.
  outbox.put(6, "lease-small", {{"n", 6}});
  EXPECT_EQ(names_in(folder_), std::vector<std::string>{"job-6-lease-small.json"});
}

TEST_F(ResultOutboxTest, AFileThatIsNotAResultIsSetAsideWithAReason) {
  ResultOutbox outbox(folder_);
  outbox.put(1, "good", {{"ok", true}});
  std::ofstream(folder_ / "job-2-bad.json") << "{\"job_id\": 2}";
  const OutboxScan scan = outbox.pending();
  ASSERT_EQ(scan.results.size(), 1u);
  EXPECT_EQ(scan.results[0].job_id, 1);
  ASSERT_EQ(scan.problems.size(), 1u);
  EXPECT_THAT(scan.problems[0], HasSubstr("job-2-bad.json"));
  EXPECT_TRUE(fs::exists(outbox.rejected_folder() / "job-2-bad.json"));
  EXPECT_TRUE(outbox.pending().problems.empty());  // reported once
}

TEST_F(ResultOutboxTest, SetAsideMovesAResultOutOfTheWay) {
  ResultOutbox outbox(folder_);
  outbox.put(8, "l", {{"x", 1}});
  outbox.set_aside(outbox.pending().results.at(0));
  EXPECT_TRUE(outbox.pending().results.empty());
  EXPECT_TRUE(fs::exists(outbox.rejected_folder() / "job-8-l.json"));
}

TEST_F(ResultOutboxTest, AnUncreatableFolderIsAnInputError) {
  std::ofstream(scratch_ / "file") << "x";
  EXPECT_THROW(ResultOutbox(scratch_ / "file" / "outbox"), InputError);
}

TEST_F(ResultOutboxTest, OneStateFolderServesOneAgentAtATime) {
  {
    const StateDirLock first(scratch_.path());
    try {
      const StateDirLock second(scratch_.path());
      FAIL() << "a second lock was granted";
    } catch (const InputError& error) {
      EXPECT_THAT(error.what(), HasSubstr("another agent is using the state folder"));
    }
  }
  const StateDirLock again(scratch_.path());  // released with the first
}

TEST(DefaultStateRootTest, FollowsXdgStateHomeThenHome) {
  const char* saved_xdg = std::getenv("XDG_STATE_HOME");
  const char* saved_home = std::getenv("HOME");
  const std::string xdg = saved_xdg ? saved_xdg : "";
  const std::string home = saved_home ? saved_home : "";
  ::setenv("XDG_STATE_HOME", "/var/state", 1);
  EXPECT_EQ(default_state_root(), fs::path("/var/state/tailsweep-agent"));
  ::unsetenv("XDG_STATE_HOME");
  ::setenv("HOME", "/home/u", 1);
  EXPECT_EQ(default_state_root(), fs::path("/home/u/.local/state/tailsweep-agent"));
  ::unsetenv("HOME");
  EXPECT_THROW(default_state_root(), InputError);
  if (saved_xdg) ::setenv("XDG_STATE_HOME", xdg.c_str(), 1);
  if (saved_home) ::setenv("HOME", home.c_str(), 1);
}

}  // namespace
}  // namespace tailsweep::agent
