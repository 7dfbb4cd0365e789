// What the writer logs while its database cannot commit (docs/reliability.md,
// "A full disk"): once at first, then at most once per interval, and once
// when commits work again.
#include "coordinator/service/commit_health.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tailsweep::coordinator {
namespace {

using ::testing::HasSubstr;

TEST(CommitHealth, SaysTheFirstFailureAtOnceThenAtMostOncePerIntervalThenTheRecovery) {
  CommitHealth health("/data/fleet.db", 10.0);
  EXPECT_FALSE(health.committed(100.0));  // all well: nothing to say
  EXPECT_FALSE(health.failing());

  const auto first = health.failed("database or disk is full",
                                   "the disk under it is full: free space there", 3, 100.0);
  ASSERT_TRUE(first);
  EXPECT_THAT(*first, HasSubstr("/data/fleet.db could not commit a write batch of 3"));
  EXPECT_THAT(*first, HasSubstr("(database or disk is full: the disk under it is full"));
  EXPECT_THAT(*first, HasSubstr("agents keep their results and retry"));
  EXPECT_TRUE(health.failing());

  EXPECT_FALSE(health.failed("database or disk is full", "", 1, 101.0));
  EXPECT_FALSE(health.failed("database or disk is full", "", 2, 109.9));
  const auto later = health.failed("database or disk is full", "", 4, 110.0);
  ASSERT_TRUE(later);
  EXPECT_THAT(*later, HasSubstr("still cannot commit: 3 more batches failed in 10 s"));
  EXPECT_THAT(*later, HasSubstr("(4 batches, 10 writes since the first, 10 s ago;"));
  EXPECT_FALSE(health.failed("database or disk is full", "", 1, 115.0));

  const auto back = health.committed(125.0);
  ASSERT_TRUE(back);
  EXPECT_THAT(*back, HasSubstr("/data/fleet.db commits again, after 25 s in which 5 batches "
                               "(11 writes) failed"));
  EXPECT_FALSE(health.failing());
  EXPECT_FALSE(health.committed(126.0));  // said once

  // A new episode starts from nothing.
  const auto again = health.failed("disk I/O error", "", 1, 200.0);
  ASSERT_TRUE(again);
  EXPECT_THAT(*again, HasSubstr("could not commit a write batch of 1 (disk I/O error)"));
}

// A nearly full disk takes small writes now and then: commits fail and
// succeed in turn. The first recovery is said at once; failures within the
// interval after it continue the episode, a failure line comes at most once
// per interval, and a recovery is said at once after a failure line (never
// leaving a failure that is over as the last word), counting the commits
// that got through.
TEST(CommitHealth, AFlappingDiskIsSummarisedOncePerIntervalNotOneLinePerTurn) {
  CommitHealth health("/data/fleet.db", 10.0);
  const std::string full = "database or disk is full";
  ASSERT_TRUE(health.failed(full, "", 2, 100.0));
  const auto back = health.committed(101.0);
  ASSERT_TRUE(back);
  EXPECT_THAT(*back, HasSubstr("commits again, after 1 s in which 1 batches (2 writes) failed"));
  EXPECT_FALSE(health.failed(full, "", 1, 102.0));  // flapping: no new episode line
  EXPECT_TRUE(health.failing());
  EXPECT_FALSE(health.committed(103.0));  // the last line said it works: not again so soon
  EXPECT_FALSE(health.failing());
  EXPECT_FALSE(health.failed(full, "", 1, 104.0));
  EXPECT_FALSE(health.committed(105.0));
  EXPECT_FALSE(health.committed(106.0));
  const auto still = health.failed(full, "", 1, 111.5);
  ASSERT_TRUE(still);
  EXPECT_THAT(*still, HasSubstr("still cannot commit: 3 more batches failed in 10 s, 3 committed "
                                "between (4 batches, 5 writes since the first, 12 s ago;"));
  // After a failure line, the recovery is said at once.
  const auto over = health.committed(112.0);
  ASSERT_TRUE(over);
  EXPECT_THAT(*over, HasSubstr("commits again, after 12 s in which 4 batches (5 writes) failed, "
                               "failing and committing in turn (5 commits got through)"));
  EXPECT_FALSE(health.committed(113.0));
  EXPECT_FALSE(health.committed(130.0));
  // Later than an interval after that: a new episode, said at once.
  const auto fresh = health.failed("disk I/O error", "", 1, 140.0);
  ASSERT_TRUE(fresh);
  EXPECT_THAT(*fresh, HasSubstr("could not commit a write batch of 1 (disk I/O error)"));
  const auto fresh_back = health.committed(141.0);
  ASSERT_TRUE(fresh_back);
  EXPECT_THAT(*fresh_back, HasSubstr("after 1 s in which 1 batches (1 writes) failed"));
  EXPECT_THAT(*fresh_back, ::testing::Not(HasSubstr("in turn")));
}

}  // namespace
}  // namespace tailsweep::coordinator
