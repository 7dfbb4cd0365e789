#include "agent/device/device_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/util/errors.h"

namespace tailsweep {
namespace {

using ::testing::HasSubstr;

std::string error_of(const std::string& text) {
  try {
    parse_device_spec(text);
  } catch (const InputError& error) {
    return error.what();
  }
  return "accepted";
}

TEST(DeviceSpec, ParsesEveryForm) {
  EXPECT_EQ(parse_device_spec("cpu").kind, DeviceKind::kCpu);
  const DeviceSpec cuda = parse_device_spec("cuda");
  EXPECT_EQ(cuda.kind, DeviceKind::kCuda);
  EXPECT_EQ(cuda.cuda_index, 0);
  EXPECT_EQ(cuda.text(), "cuda:0");
  EXPECT_EQ(parse_device_spec("cuda:3").cuda_index, 3);
  const DeviceSpec sim = parse_device_spec("sim:jetson-nano");
  EXPECT_TRUE(sim.simulated());
  EXPECT_EQ(sim.simulated_gpu, "jetson-nano");
  EXPECT_EQ(sim.text(), "sim:jetson-nano");
  EXPECT_FALSE(cuda.simulated());
}

TEST(DeviceSpec, RefusesWhatItDoesNotKnowAndSaysWhatItTakes) {
  EXPECT_THAT(error_of("gpu"), HasSubstr("unknown device 'gpu'"));
  EXPECT_THAT(error_of("gpu"), HasSubstr("cuda[:N]"));
  EXPECT_THAT(error_of("gpu"), HasSubstr("sim:jetson-orin-nano"));
  EXPECT_THAT(error_of("CPU"), HasSubstr("unknown device"));
  EXPECT_THAT(error_of("cuda:"), HasSubstr("expected cuda:N"));
  EXPECT_THAT(error_of("cuda:-1"), HasSubstr("expected cuda:N"));
  EXPECT_THAT(error_of("cuda:1x"), HasSubstr("expected cuda:N"));
  EXPECT_THAT(error_of("sim:jetson-xavier"), HasSubstr("unknown simulated device"));
  EXPECT_THAT(error_of(""), HasSubstr("unknown device ''"));
}

}  // namespace
}  // namespace tailsweep
