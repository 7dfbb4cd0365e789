#pragma once
// Token-reduction method specs, parsed strictly at the edge into a typed value.
//
//   none                  the unpruned baseline
//   random:N              keep CLS and N-1 random patch tokens right after the
//                         position embedding (the POMT curve protocol)
//   topk:R                drop the R patch tokens with least CLS attention, every block
//   pomt:R | pomt:R@L     POMT: prune R (+1 fused) tokens in block L (default 3)
//   tome:R                ToMe, the same r in every block
//   tome:R,INFLECT        ToMe's (r, inflect) pair, e.g. tome:16,-1 (decreasing)
//   tome:[R0,R1,...]      ToMe, one r per block (missing blocks get 0)
//   hdp:KEY=V,...         Hybrid Dynamic Pruning of attention (docs/hdp.md), alone or
//   SPEC+hdp:KEY=V,...    after any of the above (pomt:58+hdp:heads=0.1)
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/model/model_config.h"

namespace tailsweep {

enum class MethodKind { kNone, kRandom, kTopK, kPomt, kTome };

enum class TomeForm { kConstant, kInflect, kList };

// Hybrid Dynamic Pruning of attention (Jaradat et al., arXiv 2407.12893),
// reconstructed from its public description: the paper's thresholds, keep
// ratios and bit widths are not public, so each is a key with a default.
struct HdpSpec {
  // heads=: a head is pruned when its integer-part importance is below this
  // share of the layer's most important head's, per image (0: none).
  double head_threshold = 0.0;
  // blocks=: the share of 2x2 attention blocks each block-row keeps, by
  // integer-part score (1: all).
  double block_keep = 1.0;
  bool approximate = false;  // approx=1: Q.K^T without its frac x frac partial product
  int64_t frac_bits = 8;     // frac=: fractional bits of the fixed-point Q and K, 0..16

  bool operator==(const HdpSpec&) const = default;
};

struct MethodSpec {
  MethodKind kind = MethodKind::kNone;
  int64_t keep_tokens = 0;  // random: tokens kept, CLS included
  int64_t r = 0;            // topk, pomt, tome (constant and inflect forms)
  int64_t layer = 3;        // pomt: the block that prunes
  TomeForm tome_form = TomeForm::kConstant;
  double tome_inflect = 0.0;
  std::vector<int64_t> tome_list;
  std::optional<HdpSpec> hdp;  // attention pruning, on top of the token method

  bool operator==(const MethodSpec&) const = default;
};

inline constexpr int64_t kDefaultPomtLayer = 3;

// The --method help text every command shows.
inline constexpr const char* kMethodSpecHelp =
    "none | random:N | topk:R | pomt:R[@LAYER] | tome:R | tome:R,INFLECT | tome:[R0,R1,...], "
    "each optionally followed by +hdp:heads=T,blocks=K,approx=0|1,frac=F (any of the keys), or "
    "hdp:... alone";

// Throws InputError with the grammar in the message on anything malformed.
MethodSpec parse_method_spec(std::string_view text);

// A list of method specs as every command takes it: separated by commas
// ("none,topk:8,hdp:heads=0.1,blocks=0.5,tome:8,4"). A comma ends a spec
// only where a new one starts (none, random:, topk:, pomt:, tome:, hdp:)
// outside brackets, so the specs' own commas stay theirs. Empty items are
// refused; the specs themselves are not parsed here.
std::vector<std::string> split_method_list(std::string_view text);
// The canonical text; parse_method_spec(to_string(m)) == m.
std::string to_string(const MethodSpec& method);
std::string_view method_kind_name(MethodKind kind);

// Checks a parsed spec against a model: random's N within 2..total tokens,
// POMT's layer inside the depth, a ToMe list no longer than the depth.
void validate_for_model(const MethodSpec& method, const VitConfig& config);

// ToMe's parse_r: the r each block asks for (before the clamp to half the
// tokens). Constant: r everywhere. Inflect: a line from int(r*(1-inflect))
// to 2r - that, truncated to ints. List: padded with zeros to depth.
std::vector<int64_t> tome_requested_r(const MethodSpec& method, int64_t depth);

}  // namespace tailsweep
