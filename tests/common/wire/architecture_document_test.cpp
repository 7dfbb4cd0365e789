// The architecture result (`tailsweep-agent profile --arch`): written and
// read back unchanged, and refused when it names one architecture and
// describes another, or its points are not that architecture's; and the
// 'architecture' job spec an agent leases.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/util/errors.h"
#include "common/wire/protocol.h"
#include "common/wire/result_document.h"

namespace tailsweep::protocol {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

std::string refusal(const json& body) {
  try {
    parse_architecture_body(body);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(accepted)";
}

ArchitectureDocument architecture_document() {
  ArchitectureDocument d;
  d.provenance = {"tailsweep-agent profile",
                  "0.1.0",
                  "abc1234",
                  "Release",
                  "2026-11-30T03:00:00Z",
                  3.5,
                  R"({"kind":"cpu","simulated":false})",
                  false};
  d.architecture.sequence_length = 128;
  d.architecture.layers = {{256, 4, design::Operation::sa_sdp, {1024}},
                           {512, 8, design::Operation::l_dft, {512, 2048}}};
  d.architecture_id = design::architecture_id(d.architecture);
  d.parameters = d.architecture.parameter_count();
  d.flops_per_input = d.architecture.forward_flops(1);
  d.measurement.schema_version = kResultSchemaVersion;
  d.measurement.points_planned = 1;
  d.measurement.method = {0.02, 0.95, 10, 6, 0.05, 10.0, 1.0, 1, "rounds", 0};
  d.power.available = true;
  d.power.sensor = "RAPL package-0";
  d.power.period_ms = 10;
  d.power.idle_w = 4.5;
  ProfilePoint p;
  p.batch = 1;
  p.tokens = 128;
  p.visit_index = 0;
  p.median_ms = 20.0;
  p.median_ci95_low_ms = 19.8;
  p.median_ci95_high_ms = 20.2;
  p.median_ci95_relative_half_width = 0.01;
  p.p5_ms = p.p25_ms = p.p75_ms = p.p95_ms = p.mean_ms = 20.0;
  p.min_ms = 19.0;
  p.max_ms = 22.0;
  p.iqr_ms = 0.1;
  p.samples = 2;
  p.stable = true;
  p.reached_precision = true;
  p.precision_of = "median";
  p.raw_ms = {20.0, 20.5};
  p.raw_round = {0, 1};
  p.rounds = 2;
  p.power = PointPower{12.0, 15.0, 0.24, 0.24, 40};
  d.points = {p};
  return d;
}

TEST(ArchitectureDocument, ReadsBackAsItWasWritten) {
  const json written = to_json(architecture_document());
  const ArchitectureDocument read = parse_architecture_body(written);
  EXPECT_EQ(to_json(read), written);  // every field, both ways
  EXPECT_EQ(read.architecture, architecture_document().architecture);
  EXPECT_EQ(read.points.at(0).power->joules_per_forward, 0.24);
  // It is no curve: a profile reader refuses it.
  EXPECT_THROW(parse_profile_body(written), InputError);
}

TEST(ArchitectureDocument, TheIdCountsAndPointsMustBeTheArchitecturesOwn) {
  const json good = to_json(architecture_document());
  json other_id = good;
  other_id["architecture_id"] = "arch-0000000000000000";
  EXPECT_THAT(refusal(other_id), HasSubstr("architecture_id: 'arch-0000000000000000' is not"));
  json swapped = good;
  swapped["architecture"]["layers"][0]["hidden"] = 512;  // the id is of the 256 one
  EXPECT_THAT(refusal(swapped), HasSubstr("architecture_id"));
  json parameters = good;
  parameters["parameters"] = 1000;
  EXPECT_THAT(refusal(parameters), HasSubstr("parameters: 1000 is not the architecture's"));
  json flops = good;
  flops["flops_per_input"] = 1.0;
  EXPECT_THAT(refusal(flops), HasSubstr("flops_per_input"));
  json tokens = good;
  tokens["points"][0]["tokens"] = 64;
  EXPECT_THAT(refusal(tokens), HasSubstr("points[0].tokens: 64 is not the architecture's"));
  json method = good;
  method["points"][0]["method"] = "none";
  EXPECT_THAT(refusal(method), HasSubstr("points[0].method"));
}

TEST(ArchitectureDocument, IsReadStrictly) {
  const json good = to_json(architecture_document());
  json unknown = good;
  unknown["model"] = {{"name", "deit-tiny"}};
  EXPECT_THAT(refusal(unknown), HasSubstr("model"));
  json missing = good;
  missing.erase("parameters");
  EXPECT_THAT(refusal(missing), HasSubstr("parameters"));
  json bad_layer = good;
  bad_layer["architecture"]["layers"][1]["operation"] = "conv";
  EXPECT_THAT(refusal(bad_layer), HasSubstr("architecture"));
  json old = good;
  old["schema_version"] = 2;
  EXPECT_THAT(refusal(old), HasSubstr("schema_version"));
  json no_points = good;
  no_points["points"] = json::array();
  EXPECT_THAT(refusal(no_points), HasSubstr("points"));
}

// The job an agent leases for it: written and read back, strictly.
TEST(ArchitectureJobSpec, ReadsBackAndRefusesBadFieldsByName) {
  ArchitectureJobSpec spec;
  spec.architecture = architecture_document().architecture;
  spec.batches = {1, 8};
  spec.precision = 0.05;
  spec.seed = 9;
  const json written = to_json(spec);
  const ArchitectureJobSpec read = parse_architecture_job_spec(written);
  EXPECT_EQ(read.architecture, spec.architecture);
  EXPECT_EQ(read.batches, spec.batches);
  EXPECT_EQ(to_json(read), written);
  const auto refused = [](json body) {
    try {
      parse_architecture_job_spec(body);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  json heads = written;
  heads["architecture"]["layers"][0]["heads"] = 3;
  EXPECT_THAT(refused(heads),
              HasSubstr("architecture job: architecture: layers[0].heads: 3 heads do not divide"));
  json batch = written;
  batch["batches"] = {1, 0};
  EXPECT_THAT(refused(batch), HasSubstr("batches[1]"));
  json unknown = written;
  unknown["model"] = "deit-tiny";
  EXPECT_THAT(refused(unknown), HasSubstr("model"));
  json missing = written;
  missing.erase("architecture");
  EXPECT_THAT(refused(missing), HasSubstr("architecture: missing"));
}

}  // namespace
}  // namespace tailsweep::protocol
