#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/util/errors.h"
#include "store_fixture.h"

namespace tailsweep::store {
namespace {

using ::testing::HasSubstr;

AgentRegistration registration(const std::string& token, double now_s) {
  AgentRegistration result;
  result.device_name = "orin-nano-1";
  result.device_kind = "jetson";
  result.tags = {"lab", "orin"};
  result.facts_json = R"({"l4t_release": "35.4"})";
  result.token_sha256 = sha256_hex(token);
  result.version = "0.1.0";
  result.git_sha = "abc";
  result.now_s = now_s;
  return result;
}

using AgentsTest = StoreTest;

TEST_F(AgentsTest, RegisteringUpsertsTheDeviceAndAddsAnAgent) {
  const auto first = store().register_agent(registration("one", 10));
  auto second_registration = registration("two", 20);
  second_registration.tags = {"lab"};
  const auto second = store().register_agent(second_registration);
  EXPECT_EQ(first.device_id, second.device_id);
  EXPECT_NE(first.agent_id, second.agent_id);

  const auto devices = store().devices();
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_EQ(devices[0].name, "orin-nano-1");
  EXPECT_EQ(devices[0].kind, "jetson");
  EXPECT_FALSE(devices[0].simulated);
  EXPECT_EQ(devices[0].tags_json, R"(["lab"])");
  EXPECT_DOUBLE_EQ(devices[0].first_seen_s, 10);
  EXPECT_DOUBLE_EQ(devices[0].last_seen_s, 20);
  EXPECT_EQ(devices[0].agents, 2);
}

TEST_F(AgentsTest, FindsAnAgentByItsTokenHashOnly) {
  const auto registered = store().register_agent(registration("secret", 10));
  const auto found = store().agent_by_token_hash(sha256_hex("secret"));
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, registered.agent_id);
  EXPECT_EQ(found->device_name, "orin-nano-1");
  EXPECT_FALSE(store().agent_by_token_hash(sha256_hex("other")));
  EXPECT_EQ(count("SELECT count(*) FROM agents WHERE token_hash = 'secret'"), 0);

  store().touch_agent(registered.agent_id, 50);
  EXPECT_DOUBLE_EQ(store().agent_by_token_hash(sha256_hex("secret"))->last_seen_s, 50);
  EXPECT_DOUBLE_EQ(store().devices()[0].last_seen_s, 50);
  EXPECT_THROW(store().touch_agent(999, 50), InputError);
}

TEST_F(AgentsTest, RefusesBadRegistrations) {
  auto clear_token = registration("x", 1);
  clear_token.token_sha256 = "my-token";
  EXPECT_THROW(store().register_agent(clear_token), InputError);
  auto bad_kind = registration("x", 1);
  bad_kind.device_kind = "tpu";
  EXPECT_THROW(store().register_agent(bad_kind), InputError);
  auto unlabelled_sim = registration("x", 1);
  unlabelled_sim.device_kind = "sim";
  EXPECT_THROW(store().register_agent(unlabelled_sim), InputError);
  auto bad_facts = registration("x", 1);
  bad_facts.facts_json = "[1]";
  EXPECT_THROW(store().register_agent(bad_facts), InputError);
  store().register_agent(registration("x", 1));
  try {
    store().register_agent(registration("x", 2));
    FAIL() << "a token registers once";
  } catch (const InputError& error) {
    EXPECT_THAT(error.what(), HasSubstr("already registered"));
  }
  EXPECT_EQ(count("SELECT count(*) FROM agents"), 1);
}

// A name once registered as sim and then as cpu turned its stored simulated
// curves into "real" ones in every view. The kind of a name is now fixed.
TEST_F(AgentsTest, ANameKeepsItsKindAndItsResultsTheirLabel) {
  auto simulated = registration("sim-token", 10);
  simulated.device_kind = "sim";
  simulated.simulated = true;
  store().register_agent(simulated);
  auto real = registration("cpu-token", 20);
  real.device_kind = "cpu";
  try {
    store().register_agent(real);
    FAIL() << "the kind of a device changed";
  } catch (const DeviceKindConflict& conflict) {
    EXPECT_THAT(conflict.what(), HasSubstr("registered as kind 'sim', not 'cpu'"));
  }
  const auto devices = store().devices();
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_EQ(devices[0].kind, "sim");
  EXPECT_TRUE(devices[0].simulated);
  EXPECT_DOUBLE_EQ(devices[0].last_seen_s, 10);  // nothing of the refused registration stayed
  EXPECT_EQ(count("SELECT count(*) FROM agents"), 1);

  auto same_kind = registration("sim-token-2", 30);
  same_kind.device_kind = "sim";
  same_kind.simulated = true;
  EXPECT_NO_THROW(store().register_agent(same_kind));
}

TEST_F(AgentsTest, NamesAndTagsUseTheDocumentedCharacterSet) {
  for (const char* bad : {"evil\n\\input{x}", "a b", "\x1b[2J", ""}) {
    auto named = registration(std::string("t-") + bad, 1);
    named.device_name = bad;
    EXPECT_THROW(store().register_agent(named), InputError) << bad;
  }
  auto tagged = registration("t-tag", 1);
  tagged.tags = {"lab", "bad tag"};
  EXPECT_THROW(store().register_agent(tagged), InputError);
  EXPECT_EQ(count("SELECT count(*) FROM devices"), 0);
}

// A device's state from its row: what `devices` shows and what sweep
// planning leaves out.
TEST(DeviceState, FollowsLeasesPresentAgentsAndRetirement) {
  DeviceRow device;
  device.present_agent_seen_s = 100;
  EXPECT_EQ(device_state(device, 130, 60), "online");
  EXPECT_EQ(device_state(device, 161, 60), "offline");  // unseen for longer than the TTL
  device.active_leases = 1;
  EXPECT_EQ(device_state(device, 130, 60), "busy");
  device.active_leases = 0;
  device.present_agent_seen_s.reset();  // every agent said goodbye
  EXPECT_EQ(device_state(device, 101, 60), "offline");
  device.retired_at_s = 120;
  EXPECT_EQ(device_state(device, 130, 60), "retired");
}

TEST_F(AgentsTest, AnAgentThatLeavesTakesItsDeviceOffline) {
  const RegisteredAgent first = register_agent("box", false, 100);
  const auto row = [&] { return store().devices().front(); };
  EXPECT_EQ(device_state(row(), 110, 60), "online");
  store().agent_left(first.agent_id, 110);
  EXPECT_EQ(device_state(row(), 111, 60), "offline");
  // A new agent of the same device brings it back.
  register_agent("box", false, 120);
  EXPECT_EQ(device_state(row(), 121, 60), "online");
}

TEST_F(AgentsTest, RetiringADeviceFailsItsUnfinishedJobsUntilItIsRegisteredAgain) {
  const RegisteredAgent box = register_agent("box", false, 100);
  const RegisteredAgent other = register_agent("other", false, 100);
  PlannedJob dependant = profile_job(other.device_id);
  dependant.depends_on = {0};
  const int64_t sweep =
      store().create_sweep("s", "{}", {profile_job(box.device_id), dependant}, 100);
  const auto lease = store().lease_job(box.agent_id, 101, 60);
  ASSERT_TRUE(lease);
  EXPECT_EQ(store().retire_device("box", 102), 1);
  EXPECT_EQ(job_state(1), "failed");
  EXPECT_EQ(store().job(1)->last_error, "device box was retired");
  EXPECT_EQ(job_state(2), "failed");  // it needed job 1
  EXPECT_EQ(store().sweep_status(sweep).state, "failed");
  EXPECT_EQ(device_state(store().devices().front(), 103, 60), "retired");
  EXPECT_THROW(store().retire_device("no-such-device", 103), InputError);
  register_agent("box", false, 200);
  EXPECT_FALSE(store().devices().front().retired_at_s);
}

}  // namespace
}  // namespace tailsweep::store
