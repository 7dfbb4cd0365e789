// The version rule, provenance and the "hdp" object, for every reader of
// the result documents (document_fields.h).
#include "common/wire/document_fields.h"

#include <cmath>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "common/util/errors.h"
#include "common/util/json_fields.h"
#include "common/wire/result_document.h"

namespace tailsweep::protocol::document {
namespace {

using nlohmann::json;

HdpCounts read_hdp_counts(const JsonFields& hdp) {
  HdpCounts counts;
  const auto part_of = [&](const char* part, const char* whole, const char* share,
                           int64_t& part_value, int64_t& whole_value) {
    whole_value = hdp.integer(whole, 0);
    part_value = hdp.integer(part, 0);
    if (part_value > whole_value) hdp.fail(part, fmt::format("more than {}", whole));
    const double expected =
        whole_value > 0 ? static_cast<double>(part_value) / static_cast<double>(whole_value) : 0.0;
    if (std::abs(hdp.fraction(share) - expected) > 1e-9) {
      hdp.fail(share, fmt::format("is not {} / {}", part, whole));
    }
  };
  part_of("heads_pruned", "heads", "heads_pruned_share", counts.heads_pruned, counts.heads);
  part_of("blocks_pruned", "blocks", "blocks_pruned_share", counts.blocks_pruned, counts.blocks);
  part_of("attention_macs_skipped", "attention_macs", "attention_macs_skipped_share",
          counts.macs_skipped, counts.macs);
  counts.frac_macs_dropped = hdp.integer("frac_macs_dropped", 0);
  counts.int_macs = hdp.integer("int_macs", 0);
  return counts;
}

const std::initializer_list<std::string_view> kHdpCountKeys = {"heads",
                                                               "heads_pruned",
                                                               "heads_pruned_share",
                                                               "blocks",
                                                               "blocks_pruned",
                                                               "blocks_pruned_share",
                                                               "attention_macs",
                                                               "attention_macs_skipped",
                                                               "attention_macs_skipped_share",
                                                               "frac_macs_dropped",
                                                               "int_macs"};

}  // namespace

using nlohmann::json;

Version read_version(const JsonFields& fields) {
  Version version;
  if (fields.has("schema_version")) {
    version.number = fields.integer("schema_version", 1);
    if (version.number > kResultSchemaVersion) {
      fields.fail("schema_version",
                  fmt::format("{} is newer than this coordinator reads (1 to {}): update it",
                              version.number, kResultSchemaVersion));
    }
  }
  return version;
}

void reject_unknown_if(const JsonFields& fields, Version version,
                       std::initializer_list<std::string_view> known) {
  if (version.strict()) fields.reject_unknown(known);
}

std::optional<int64_t> nullable_integer(const JsonFields& f, const char* key, int64_t minimum) {
  return f.is_null(key) ? std::nullopt : std::optional(f.integer(key, minimum));
}

BodyProvenance read_provenance(const JsonFields& fields, Version version) {
  BodyProvenance p;
  const auto text = [&](const char* key) {
    return since_3(fields, version, key, [&] { return fields.text(key); });
  };
  p.tool = text("tool");
  p.version = text("version");
  p.git_sha = text("git_sha");
  p.build_type = text("build_type");
  p.started_at = text("started_at");
  p.elapsed_s = since_3(fields, version, "elapsed_s", [&] { return fields.number("elapsed_s"); });
  if (version.strict() || (fields.has("device") && !fields.is_null("device"))) {
    const JsonFields device = fields.object("device");
    p.device_json = fields.at("device").dump();
    if (device.has("simulated")) p.device_simulated = device.boolean("simulated");
  }
  return p;
}

// The "hdp" object: counts, shares checked against them, and (schema 3, or
// when present) each block's; the blocks must add up to the totals.
std::optional<HdpBody> read_hdp(const JsonFields& fields, Version version) {
  if (!fields.has("hdp")) return std::nullopt;
  const JsonFields hdp = fields.object("hdp");
  hdp.reject_unknown({"heads", "heads_pruned", "heads_pruned_share", "blocks", "blocks_pruned",
                      "blocks_pruned_share", "attention_macs", "attention_macs_skipped",
                      "attention_macs_skipped_share", "frac_macs_dropped", "int_macs",
                      "per_block"});
  HdpBody result;
  result.total = read_hdp_counts(hdp);
  if (!version.strict() && !hdp.has("per_block")) return result;
  const json& blocks = hdp.array("per_block", version.strict());
  HdpCounts sum;
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const JsonFields block = hdp.element("per_block", i, blocks[i]);
    block.reject_unknown(kHdpCountKeys);
    result.per_block.push_back(read_hdp_counts(block));
    sum += result.per_block.back();
  }
  if (!blocks.empty() &&
      (sum.heads != result.total.heads || sum.heads_pruned != result.total.heads_pruned ||
       sum.blocks_pruned != result.total.blocks_pruned ||
       sum.macs_skipped != result.total.macs_skipped)) {
    hdp.fail("per_block", "the blocks' counts do not add up to the totals");
  }
  return result;
}

}  // namespace tailsweep::protocol::document
