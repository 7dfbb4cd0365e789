#include "common/util/text.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "common/util/errors.h"

namespace tailsweep {
namespace {

// The length of the valid UTF-8 sequence that starts text[at], or 0.
std::size_t utf8_sequence_length(std::string_view text, std::size_t at) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(at);
  std::size_t length = 0;
  unsigned char second_low = 0x80, second_high = 0xbf;  // the first continuation byte's range
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) second_low = 0xa0;   // no overlong forms
    if (lead == 0xed) second_high = 0x9f;  // no surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) second_low = 0x90;
    if (lead == 0xf4) second_high = 0x8f;  // nothing past U+10FFFF
  } else {
    return 0;
  }
  if (at + length > text.size()) return 0;
  if (byte(at + 1) < second_low || byte(at + 1) > second_high) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if (byte(at + i) < 0x80 || byte(at + i) > 0xbf) return 0;
  }
  return length;
}

}  // namespace

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t at = 0;
  while (at < text.size()) {
    const auto lead = static_cast<unsigned char>(text[at]);
    if (lead >= 0x20 && lead < 0x7f) {
      out += text[at++];
      continue;
    }
    const std::size_t length = lead < 0x80 ? 0 : utf8_sequence_length(text, at);
    // U+0080..U+009F (C2 80..C2 9F) are C1 controls: 0x9b starts a CSI.
    const bool c1_control =
        length == 2 && lead == 0xc2 && static_cast<unsigned char>(text[at + 1]) < 0xa0;
    if (length > 0 && !c1_control) {
      out.append(text.substr(at, length));
      at += length;
      continue;
    }
    const std::size_t escaped = c1_control ? 2 : 1;
    for (std::size_t i = 0; i < escaped; ++i) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(text[at + i]));
    }
    at += escaped;
  }
  return out;
}

bool is_valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  const auto allowed = [](char c, bool first) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    return alnum || (!first && (c == '.' || c == '_' || c == '-'));
  };
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!allowed(name[i], i == 0)) return false;
  }
  return true;
}

std::string invalid_name_message(std::string_view name) {
  return fmt::format("\"{}\" is not a valid name: {}",
                     printable(name.substr(0, 2 * kMaxNameLength)), kNameRule);
}

void check_name(std::string_view what, std::string_view name) {
  if (!is_valid_name(name))
    throw InputError(fmt::format("{} {}", what, invalid_name_message(name)));
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace tailsweep
