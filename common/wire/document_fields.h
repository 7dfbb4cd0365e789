#pragma once
// What the readers of the result documents share (result_document_read.cpp
// and eval_document_read.cpp): the version rule, provenance and the "hdp"
// object. Internal to common/wire.
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string_view>

#include "common/util/json_fields.h"
#include "common/wire/result_document.h"

namespace tailsweep::protocol::document {

// A document's version, and what it makes strict: from version 3 every
// field is required and unknown ones are refused (result_document.h).
struct Version {
  int64_t number = 1;
  bool strict() const { return number >= 3; }
};

// "schema_version" (absent: 1); InputError when newer than this reader.
Version read_version(const JsonFields& fields);

void reject_unknown_if(const JsonFields& fields, Version version,
                       std::initializer_list<std::string_view> known);

// A field that version 3 requires and older versions may lack: read with
// `read` when present (or required), absent otherwise.
template <typename Read>
auto since_3(const JsonFields& fields, Version version, std::string_view key, Read read)
    -> std::optional<decltype(read())> {
  if (!version.strict() && !fields.has(key)) return std::nullopt;
  return read();
}

std::optional<int64_t> nullable_integer(const JsonFields& fields, const char* key, int64_t minimum);
BodyProvenance read_provenance(const JsonFields& fields, Version version);
// The "hdp" object: counts, shares checked against them, and (schema 3, or
// when present) each block's, which must add up to the totals.
std::optional<HdpBody> read_hdp(const JsonFields& fields, Version version);

}  // namespace tailsweep::protocol::document
