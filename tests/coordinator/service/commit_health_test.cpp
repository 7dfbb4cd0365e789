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

}  // namespace
}  // namespace tailsweep::coordinator
